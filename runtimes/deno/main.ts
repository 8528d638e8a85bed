/**
 * Deno entry: the core's one launch path over the Deno runtime port (DenoPort.ts).
 * Run with `npm run start:deno -- [--config PATH] [--port N] [--workers N]` (flags: flags.ts).
 */
/// <reference path="./deno.d.ts" />
// First: keeps Effect from capturing an async_hooks resource per fiber suspension (see the module).
import { restore as restoreBuiltins } from "../common/DisableFiberAsyncContext.ts"
import * as Effect from "effect/Effect"
import { launch } from "../../src/launch.ts"
import { denoPort } from "./DenoPort.ts"

restoreBuiltins()

const code = await Effect.runPromise(launch(denoPort, Deno.args, Deno.env.toObject()))
Deno.exit(code)
