// The owner's token counts over its TokenCounter: each text counted as a recount of its own by the
// tokenizer thread's body (here in this thread), so every count is gpt-tokenizer's own count of that
// text; no texts ask nothing of the thread; the counter's failure is the count's.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { countTokens as cl100k } from "gpt-tokenizer/encoding/cl100k_base"
import { countTokens as o200k } from "gpt-tokenizer/encoding/o200k_base"
import type { Recount } from "../../../src/usage/Recount.ts"
import { fromCounter } from "../../../src/usage/TokenCounts.ts"
import {
  type FromTokenizer,
  makeTokenCounter,
  runTokenizerThread,
  type TokenCounterShape,
  TokenCountError,
  type TokenizerLink,
  type ToTokenizer
} from "../../../src/usage/TokenizerThread.ts"

/** gpt-tokenizer's count, special-token text counted as plain text (as the gateway counts it). */
const plain = { disallowedSpecial: new Set<string>() }

/** The tokenizer thread's body behind an in-thread link, counting the batches it is sent. */
const inThread = () => {
  const batches: Array<ReadonlyArray<Recount>> = []
  let toOwner: ((m: FromTokenizer) => void) | undefined
  let toThread: ((m: ToTokenizer) => void) | undefined
  runTokenizerThread({
    post: (m) => queueMicrotask(() => toOwner?.(m)),
    onMessage: (h) => {
      toThread = h
    }
  })
  const link: TokenizerLink = {
    post: (m) => {
      batches.push(m.recounts)
      queueMicrotask(() => toThread?.(m))
    },
    onMessage: (h) => {
      toOwner = h
    },
    onExit: () => {},
    terminate: () => {}
  }
  return { link, batches }
}

describe("TokenCounts.fromCounter", () => {
  it.live("each text's BPE count with the encoding asked, in one batch", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const thread = inThread()
        const counts = fromCounter(yield* makeTokenCounter(() => thread.link))
        const first = "You are terse.\nSay hello."
        const texts = [first, "日本語のテキスト <|endoftext|>", ""]
        assert.deepStrictEqual(
          yield* counts.count("o200k_base", texts),
          texts.map((t) => o200k(t, plain))
        )
        assert.deepStrictEqual(yield* counts.count("cl100k_base", [first]), [cl100k(first, plain)])
        assert.deepStrictEqual(
          thread.batches.map((b) => b.length),
          [3, 1]
        )
        assert.deepStrictEqual(thread.batches[0]?.[0], {
          encoding: "o200k_base",
          input: { fixed: 0, texts: [first], events: [] },
          output: { fixed: 0, texts: [], events: [] },
          price: null
        })
        // Nothing to count: nothing sent.
        assert.deepStrictEqual(yield* counts.count("o200k_base", []), [])
        assert.strictEqual(thread.batches.length, 2)
      })
    ).pipe(Effect.timeout(20_000))
  )

  it.effect("the counter's failure is the count's", () =>
    Effect.gen(function* () {
      const error = new TokenCountError({ message: "the tokenizer thread failed recently" })
      const counter: TokenCounterShape = { count: () => Effect.fail(error) }
      const exit = yield* Effect.exit(fromCounter(counter).count("o200k_base", ["x"]))
      assert.deepStrictEqual(exit, Exit.fail(error))
    })
  )
})
