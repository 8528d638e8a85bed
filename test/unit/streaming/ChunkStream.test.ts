import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import type { ChunkReader } from "../../../src/domain/ChunkReader.ts"
import { chunkStream } from "../../../src/streaming/ChunkStream.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A reader over scripted steps: a chunk, a pause (ms), a failure, or the end. */
type Step = string | { readonly wait: number } | { readonly fail: string }
const scripted = (steps: ReadonlyArray<Step>) => {
  const log = { reads: 0, cancels: 0 }
  let i = 0
  const open = (): ChunkReader => ({
    read: async () => {
      log.reads++
      for (;;) {
        const step = steps[i++]
        if (step === undefined) return undefined
        if (typeof step === "string") return encoder.encode(step)
        if ("wait" in step) await new Promise((r) => setTimeout(r, step.wait))
        else throw new Error(step.fail)
      }
    },
    cancel: () => {
      log.cancels++
    }
  })
  return { open, log }
}

const options = {
  idleMs: 60,
  onIdle: () => "idle" as const,
  onError: (e: unknown) => `broken: ${e instanceof Error ? e.message : ""}`
}
const text = (chunks: ReadonlyArray<Uint8Array>) => chunks.map((c) => decoder.decode(c)).join("")

describe("chunkStream", () => {
  it.effect("relays every chunk in order and ends with the body; nothing left to cancel", () =>
    Effect.gen(function* () {
      const { open, log } = scripted(["a", "b", { wait: 20 }, "c"])
      const out = yield* Stream.runCollect(chunkStream(open, options))
      assert.strictEqual(text(out), "abc")
      assert.strictEqual(log.cancels, 0)
    })
  )

  it.effect("fails with onIdle when a read waits longer than idleMs, and cancels the reader", () =>
    Effect.gen(function* () {
      const { open, log } = scripted(["a", { wait: 500 }, "late"])
      const seen: Array<string> = []
      const exit = yield* Effect.exit(
        chunkStream(open, options).pipe(Stream.runForEach((c) => Effect.sync(() => seen.push(decoder.decode(c)))))
      )
      assert.deepStrictEqual(exit, Exit.fail("idle"))
      assert.deepStrictEqual(seen, ["a"])
      assert.strictEqual(log.cancels, 1)
    })
  )

  it.effect("silences shorter than idleMs between chunks, even many in a row, never time out", () =>
    Effect.gen(function* () {
      const { open } = scripted(["a", { wait: 40 }, "b", { wait: 40 }, "c", { wait: 40 }, "d"])
      assert.strictEqual(text(yield* Stream.runCollect(chunkStream(open, options))), "abcd")
    })
  )

  // Real time (it.live): the reader's pauses and the idle timer are real timers.
  it.live("time the consumer spends not reading does not count as upstream silence", () =>
    Effect.gen(function* () {
      const { open } = scripted(["a", "b", "c"])
      const out = yield* chunkStream(open, options).pipe(
        Stream.mapEffect((c) => Effect.as(Effect.sleep(100), c)),
        Stream.runCollect
      )
      assert.strictEqual(text(out), "abc")
    })
  )

  it.effect("a broken body fails with onError", () =>
    Effect.gen(function* () {
      const { open } = scripted(["a", { fail: "reset" }])
      const exit = yield* Effect.exit(Stream.runDrain(chunkStream(open, options)))
      assert.deepStrictEqual(exit, Exit.fail("broken: reset"))
    })
  )

  it.effect("a consumer that stops early cancels the reader once", () =>
    Effect.gen(function* () {
      const { open, log } = scripted(["a", "b", "c", "d"])
      const out = yield* Stream.runCollect(Stream.take(chunkStream(open, options), 2))
      assert.strictEqual(text(out), "ab")
      assert.strictEqual(log.cancels, 1)
    })
  )

  it.live("interrupting a pending read cancels the reader", () =>
    Effect.gen(function* () {
      const { open, log } = scripted(["a", { wait: 5_000 }, "b"])
      const exit = yield* Effect.exit(
        Stream.runDrain(chunkStream(open, { ...options, idleMs: 10_000 })).pipe(Effect.timeout(50))
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(log.cancels, 1)
    })
  )
})
