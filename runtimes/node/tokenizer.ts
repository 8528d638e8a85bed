/**
 * The tokenizer thread on Node (started by the owner through NodePort.ts): the core's BPE recount
 * of estimated usage records on this thread's port to the owner.
 */
import { enableCompileCache } from "node:module"
import { parentPort } from "node:worker_threads"
import type { ToTokenizer } from "../../src/tokenizer.ts"

enableCompileCache()
const { runTokenizerThread } = await import("../../src/tokenizer.ts")

const owner = parentPort
if (owner !== null) {
  runTokenizerThread({
    post: (message) => owner.postMessage(message),
    onMessage: (handler) => {
      owner.on("message", (message: ToTokenizer) => handler(message))
    }
  })
}
