/**
 * A worker thread on Bun (started by the owner through BunPort.ts): the core's worker on this
 * Web Worker's port to the owner.
 */
// First: keeps Effect from capturing an async_hooks resource per fiber suspension (see the module).
import { restore as restoreBuiltins } from "../common/DisableFiberAsyncContext.ts"
import type { ToWorker } from "../../src/index.ts"
import { runWorkerThread } from "../../src/worker.ts"
import { bunPort } from "./BunPort.ts"

restoreBuiltins()

declare const self: Worker

runWorkerThread(bunPort, {
  post: (message) => self.postMessage(message),
  onMessage: (handler) => self.addEventListener("message", (event: MessageEvent<ToWorker>) => handler(event.data))
})
