/**
 * The tokenizer thread on Bun (started by the owner through BunPort.ts): the core's BPE recount of
 * estimated usage records on this Web Worker's port to the owner.
 */
import { runTokenizerThread, type ToTokenizer } from "../../src/tokenizer.ts"

declare const self: Worker

runTokenizerThread({
  post: (message) => self.postMessage(message),
  onMessage: (handler) => self.addEventListener("message", (event: MessageEvent<ToTokenizer>) => handler(event.data))
})
