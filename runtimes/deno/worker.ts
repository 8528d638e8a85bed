/**
 * A worker thread on Deno (started by the owner through DenoPort.ts): the core's worker on this
 * module Worker's port to the owner.
 */
/// <reference path="./deno.d.ts" />
// First: keeps Effect from capturing an async_hooks resource per fiber suspension (see the module).
import { restore as restoreBuiltins } from "../common/DisableFiberAsyncContext.ts"
import type { ToWorker } from "../../src/index.ts"
import { runWorkerThread } from "../../src/worker.ts"
import { denoPort } from "./DenoPort.ts"

restoreBuiltins()

declare const self: Worker

runWorkerThread(denoPort, {
  post: (message) => self.postMessage(message),
  onMessage: (handler) => self.addEventListener("message", (event: MessageEvent<ToWorker>) => handler(event.data))
})
