/**
 * Bun entry: the core's one launch path over the Bun runtime port (BunPort.ts).
 * Run with `npm run start:bun -- [--config PATH] [--port N] [--workers N]`.
 */
// First: keeps Effect from capturing an async_hooks resource per fiber suspension (see the module).
import { restore as restoreBuiltins } from "../common/DisableFiberAsyncContext.ts"
import * as Effect from "effect/Effect"
import process from "node:process"
import { launch } from "../../src/launch.ts"
import { bunPort } from "./BunPort.ts"

restoreBuiltins()

const code = await Effect.runPromise(launch(bunPort, Bun.argv.slice(2), process.env))
process.exit(code)
