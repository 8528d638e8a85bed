// Token counts between a worker and the owner: the worker's `count` posts `CountTokens` and waits for the
// `TokenCount` with the same id (answers may come in any order); the owner's end (`serveCountTokens`)
// answers with its counter's counts or its error; a caller that gives up leaves nothing waiting and an
// answer that comes after is dropped. Over the in-process channel both ends are exactly the protocol.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import { TestClock } from "effect/testing"
import { inProcessLink, type ToWorker } from "../../../src/cluster/Protocol.ts"
import {
  type CountTokensMessage,
  makeRemoteTokenCounts,
  serveCountTokens
} from "../../../src/cluster/RemoteTokenCounts.ts"
import type { TokenCountsShape } from "../../../src/usage/TokenCounts.ts"
import { TokenCountError } from "../../../src/usage/TokenizerThread.ts"
import { captureLogs } from "../../support/logs.ts"

const byLength: TokenCountsShape = { count: (_encoding, texts) => Effect.succeed(texts.map((t) => t.length)) }

describe("RemoteTokenCounts", () => {
  it.effect("a worker's counts go to the owner and come back, over the in-process channel", () =>
    Effect.gen(function* () {
      const { worker, owner } = inProcessLink()
      const counts = makeRemoteTokenCounts((message) => owner.post(message))
      const seen: Array<CountTokensMessage> = []
      // The owner's side.
      worker.onMessage((message) => {
        if (message._tag !== "CountTokens") return
        seen.push(message)
        Effect.runFork(Effect.map(serveCountTokens(byLength, message), (reply) => worker.post(reply)))
      })
      // The worker's side.
      owner.onMessage((message) => {
        if (message._tag === "TokenCount") counts.answer(message)
      })
      const [a, b] = yield* Effect.all([counts.count("o200k_base", ["abc", "de"]), counts.count("cl100k_base", [])], {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(a, [3, 2])
      assert.deepStrictEqual(b, [])
      assert.deepStrictEqual(
        seen.map((m) => [m.encoding, m.texts]),
        [
          ["o200k_base", ["abc", "de"]],
          ["cl100k_base", []]
        ]
      )
      assert.strictEqual(new Set(seen.map((m) => m.id)).size, 2)
      assert.strictEqual(counts.waiting(), 0)
    })
  )

  it.effect("answers are matched by id, in any order; a failed count fails with the owner's message", () =>
    Effect.gen(function* () {
      const posted: Array<CountTokensMessage> = []
      const counts = makeRemoteTokenCounts((message) => posted.push(message))
      const first = yield* Effect.forkChild(Effect.exit(counts.count("o200k_base", ["first"])))
      const second = yield* Effect.forkChild(Effect.exit(counts.count("o200k_base", ["second"])))
      yield* TestClock.adjust(0)
      assert.strictEqual(posted.length, 2)
      const [p1, p2] = posted
      if (p1 === undefined || p2 === undefined) throw new Error("two posts expected")
      counts.answer({ _tag: "TokenCount", id: p2.id, result: { ok: true, counts: [42] } })
      counts.answer({ _tag: "TokenCount", id: p1.id, result: { ok: false, message: "no answer within 10000 ms" } })
      assert.deepStrictEqual(yield* Fiber.join(second), Exit.succeed([42]))
      const failed = yield* Fiber.join(first)
      assert.deepStrictEqual(failed, Exit.fail(new TokenCountError({ message: "no answer within 10000 ms" })))
      assert.strictEqual(counts.waiting(), 0)
    })
  )

  it.effect("a caller that gives up leaves nothing waiting; a late answer is dropped", () =>
    Effect.gen(function* () {
      const posted: Array<CountTokensMessage> = []
      const counts = makeRemoteTokenCounts((message) => posted.push(message))
      const fiber = yield* Effect.forkChild(
        Effect.exit(counts.count("o200k_base", ["slow"]).pipe(Effect.timeout(1000)))
      )
      yield* TestClock.adjust(0)
      assert.strictEqual(counts.waiting(), 1)
      yield* TestClock.adjust(1000)
      assert.isTrue(Exit.isFailure(yield* Fiber.join(fiber)))
      assert.strictEqual(counts.waiting(), 0)
      const id = posted[0]?.id ?? -1
      counts.answer({ _tag: "TokenCount", id, result: { ok: true, counts: [1] } })
      assert.strictEqual(counts.waiting(), 0)
    })
  )

  it.effect("the owner's end: its counter's counts, its error's message, a defect answered (and logged) too", () => {
    const { logs, loggers } = captureLogs()
    return Effect.gen(function* () {
      const message: CountTokensMessage = { _tag: "CountTokens", id: 7, encoding: "o200k_base", texts: ["ab"] }
      const ok: ToWorker = yield* serveCountTokens(byLength, message)
      assert.deepStrictEqual(ok, { _tag: "TokenCount", id: 7, result: { ok: true, counts: [2] } })
      const failing: TokenCountsShape = {
        count: () => Effect.fail(new TokenCountError({ message: "the tokenizer thread failed recently" }))
      }
      assert.deepStrictEqual(yield* serveCountTokens(failing, message), {
        _tag: "TokenCount",
        id: 7,
        result: { ok: false, message: "the tokenizer thread failed recently" }
      })
      const broken: TokenCountsShape = { count: () => Effect.die(new Error("boom")) }
      const answered = yield* serveCountTokens(broken, message)
      assert.deepStrictEqual(answered.result, { ok: false, message: "the token count hit an unexpected error" })
      assert.include(logs.join("\n"), "token count failed")
    }).pipe(Effect.provideService(Logger.CurrentLoggers, loggers))
  })
})
