/**
 * The tokenizer thread's two ends over in-process links: the thread's body counts recounts with
 * the BPE encodings (gpt-tokenizer's own counts); the owner's counter starts it on first use,
 * once, fails a batch that gets no answer within its timeout (terminating the thread), pauses
 * after a failure, logs an outage once, and terminates the thread when its scope closes.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Scope from "effect/Scope"
import { TestClock } from "effect/testing"
import { countTokens as cl100k } from "gpt-tokenizer/encoding/cl100k_base"
import { countTokens as o200k } from "gpt-tokenizer/encoding/o200k_base"
import type { Recount } from "../../../src/usage/Recount.ts"
import {
  type FromTokenizer,
  makeTokenCounter,
  runTokenizerThread,
  type TokenizerLink,
  type ToTokenizer
} from "../../../src/usage/TokenizerThread.ts"
import { captureLogs } from "../../support/logs.ts"

const recount = (encoding: Recount["encoding"], input: ReadonlyArray<string>, events: ReadonlyArray<string> = []) =>
  ({
    encoding,
    input: { fixed: 0, texts: input, events: [] },
    output: { fixed: 0, texts: [], events },
    price: null
  }) satisfies Recount

const delta = (content: string) => JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })

interface FakeThread {
  readonly link: TokenizerLink
  readonly terminated: () => boolean
  readonly exit: (reason: string) => void
}

/** A thread in this one: runs the real thread body, or (`silent`) never answers. */
const fakeThread = (silent = false): FakeThread => {
  let toOwner: ((m: FromTokenizer) => void) | undefined
  let toThread: ((m: ToTokenizer) => void) | undefined
  let onExit: ((reason: string) => void) | undefined
  let terminated = false
  if (!silent)
    runTokenizerThread({
      post: (m) => queueMicrotask(() => toOwner?.(m)),
      onMessage: (h) => {
        toThread = h
      }
    })
  return {
    link: {
      post: (m) => queueMicrotask(() => toThread?.(m)),
      onMessage: (h) => {
        toOwner = h
      },
      onExit: (h) => {
        onExit = h
      },
      terminate: () => {
        terminated = true
      }
    },
    terminated: () => terminated,
    exit: (reason) => onExit?.(reason)
  }
}

/** Starts the given threads in turn, counting the starts. */
const starter = (...threads: Array<FakeThread>) => {
  const state = { starts: 0 }
  const start = () => {
    const t = threads[state.starts++]
    if (t === undefined) throw new Error("no more threads")
    return t.link
  }
  return { start, state }
}

describe("TokenizerThread", () => {
  it.live(
    "counts each recount's texts and stream events with its encoding, starting the thread once, on first use",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const thread = fakeThread()
          const { start, state } = starter(thread)
          const counter = yield* makeTokenCounter(start)
          assert.strictEqual(state.starts, 0)
          const text = "Wie geht's? 日本語のテキスト, and some code: const x = 42;"
          const counts = yield* counter.count([
            recount("cl100k_base", [text, "second"]),
            recount("o200k_base", [text], [delta("Hello"), delta(", world"), "[DONE]"])
          ])
          assert.deepStrictEqual(counts, [
            [cl100k(text) + cl100k("second"), 0],
            [o200k(text), o200k("Hello, world")]
          ])
          yield* counter.count([recount("cl100k_base", ["again"])])
          assert.strictEqual(state.starts, 1)
          assert.isFalse(thread.terminated())
        })
      ).pipe(Effect.timeout(20_000))
  )

  it.effect(
    "a batch without an answer fails at the timeout, terminates the thread, pauses, then starts a new one",
    () => {
      const { logs, loggers } = captureLogs()
      return Effect.scoped(
        Effect.gen(function* () {
          const hung = fakeThread(true)
          const { start, state } = starter(hung, fakeThread(true))
          const counter = yield* makeTokenCounter(start, { timeoutMs: 1000, retryAfterMs: 5000 })
          const first = yield* Effect.forkChild(Effect.exit(counter.count([recount("cl100k_base", ["x"])])))
          yield* TestClock.adjust(1000)
          const exit = yield* Fiber.join(first)
          assert.isTrue(Exit.isFailure(exit))
          assert.isTrue(hung.terminated())
          // Paused: fails at once, starts nothing, logs nothing more.
          assert.isTrue(Exit.isFailure(yield* Effect.exit(counter.count([recount("cl100k_base", ["x"])]))))
          assert.strictEqual(state.starts, 1)
          yield* TestClock.adjust(5000)
          const second = yield* Effect.forkChild(Effect.exit(counter.count([recount("cl100k_base", ["x"])])))
          yield* TestClock.adjust(1000)
          assert.isTrue(Exit.isFailure(yield* Fiber.join(second)))
          assert.strictEqual(state.starts, 2)
          assert.strictEqual(logs.filter((l) => l.includes("the tokenizer thread failed")).length, 1, logs.join("\n"))
          assert.include(logs.join("\n"), "no answer within 1000 ms")
        })
      ).pipe(Effect.provideService(Logger.CurrentLoggers, loggers))
    }
  )

  it.effect("a thread that cannot start, or ends while counting, fails the batch", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const cannot = yield* makeTokenCounter(
          () => {
            throw new Error("no such file: tokenizer.ts")
          },
          { timeoutMs: 1000, retryAfterMs: 0 }
        )
        const exit = yield* Effect.exit(cannot.count([recount("cl100k_base", ["x"])]))
        assert.isTrue(Exit.isFailure(exit))
        assert.include(String(exit), "cannot start the tokenizer thread: no such file")

        const dying = fakeThread(true)
        const counter = yield* makeTokenCounter(starter(dying).start, { timeoutMs: 10_000, retryAfterMs: 0 })
        const fiber = yield* Effect.forkChild(Effect.exit(counter.count([recount("cl100k_base", ["x"])])))
        yield* TestClock.adjust(0)
        dying.exit("exit code 1")
        const ended = yield* Fiber.join(fiber)
        assert.isTrue(Exit.isFailure(ended))
        assert.include(String(ended), "the tokenizer thread ended (exit code 1)")
      })
    )
  )

  it.effect("closing its scope terminates the thread and fails what waits", () =>
    Effect.gen(function* () {
      const thread = fakeThread(true)
      const scope = yield* Scope.make()
      const counter = yield* makeTokenCounter(starter(thread).start).pipe(Scope.provide(scope))
      const fiber = yield* Effect.forkChild(Effect.exit(counter.count([recount("cl100k_base", ["x"])])))
      yield* TestClock.adjust(0)
      yield* Scope.close(scope, Exit.void)
      assert.isTrue(thread.terminated())
      assert.isTrue(Exit.isFailure(yield* Fiber.join(fiber)))
    })
  )
})
