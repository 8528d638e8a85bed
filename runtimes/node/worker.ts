/**
 * A worker thread on Node (started by the owner through NodePort.ts): the same start-up shims as
 * main.ts (compile cache; no async_hooks resource per fiber suspension), then the core's worker
 * on this thread's port to the owner.
 */
import { enableCompileCache } from "node:module"
import { parentPort } from "node:worker_threads"
import { restore } from "../common/DisableFiberAsyncContext.ts"
import type { ToWorker } from "../../src/index.ts"

enableCompileCache()
const [{ runWorkerThread }, { nodePort }] = await Promise.all([import("../../src/worker.ts"), import("./NodePort.ts")])
restore()

const owner = parentPort
if (owner !== null) {
  runWorkerThread(nodePort, {
    post: (message) => owner.postMessage(message),
    onMessage: (handler) => {
      owner.on("message", (message: ToWorker) => handler(message))
    }
  })
}
