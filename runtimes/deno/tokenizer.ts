/**
 * The tokenizer thread on Deno (started by the owner through DenoPort.ts): the core's BPE recount
 * of estimated usage records on this module Worker's port to the owner.
 */
/// <reference path="./deno.d.ts" />
import { runTokenizerThread, type ToTokenizer } from "../../src/tokenizer.ts"

declare const self: Worker

runTokenizerThread({
  post: (message) => self.postMessage(message),
  onMessage: (handler) => self.addEventListener("message", (event: MessageEvent<ToTokenizer>) => handler(event.data))
})
