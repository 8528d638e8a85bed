import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"
import { guardStream } from "../../../src/streaming/Sse.ts"

const text = (chunks: ReadonlyArray<Uint8Array>) => chunks.map((c) => new TextDecoder().decode(c)).join("")
const bytes = (s: string) => new TextEncoder().encode(s)

const guard = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  guardStream(stream, {
    idleMs: 1000,
    onIdle: () => ({ _tag: "UpstreamTimeout", provider: "p", after_ms: 1000 }),
    onError: () => ({ _tag: "UpstreamUnreachable", provider: "p" })
  })

describe("guardStream", () => {
  it.effect("passes a healthy stream through unchanged", () =>
    Effect.gen(function* () {
      const out = yield* guard(Stream.make(bytes("data: 1\n\n"), bytes("data: [DONE]\n\n"))).pipe(Stream.runCollect)
      assert.strictEqual(text(out), "data: 1\n\ndata: [DONE]\n\n")
    })
  )

  it.effect("ends a stream that stays silent past the idle timeout with a terminal error event", () =>
    Effect.gen(function* () {
      const upstream = Stream.make(bytes("data: 1\n\n")).pipe(Stream.concat(Stream.never))
      const fiber = yield* guard(upstream).pipe(Stream.runCollect, Effect.forkChild)
      yield* Effect.yieldNow
      yield* TestClock.adjust(999)
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust(1)
      const out = text(yield* Fiber.join(fiber))
      assert.match(
        out,
        /^data: 1\n\ndata: \{"error":\{"message":"Provider `p` did not answer within 1000 ms\.","type":"api_error","param":null,"code":"upstream_timeout"\}\}\n\ndata: \[DONE\]\n\n$/
      )
    })
  )

  it.effect("turns an upstream failure mid-stream into a terminal error event", () =>
    Effect.gen(function* () {
      const upstream = Stream.make(bytes("data: 1\n\n")).pipe(Stream.concat(Stream.fail("reset")))
      const out = text(yield* guard(upstream).pipe(Stream.runCollect))
      assert.include(out, `"code":"upstream_unreachable"`)
      assert.isTrue(out.endsWith("data: [DONE]\n\n"))
    })
  )
})
