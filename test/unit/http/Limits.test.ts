// The proxy's rate-limit wrapper: headers on every answer to a limited key, the 429 with
// Retry-After, settlement to the reported usage, and max_parallel given back however a request
// ends: answered, failed, interrupted, at the end of its stream, or when its stream is cancelled.
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { beforeEach, describe, expect, it } from "vitest"
import type { ResolvedLimits } from "../../../src/config/Config.ts"
import { gatewayError } from "../../../src/domain/GatewayError.ts"
import type { OutgoingResponse } from "../../../src/http/Exchange.ts"
import { formatReset, limited, type Served, settledTokens } from "../../../src/http/Limits.ts"
import { type LimiterStore, makeMemoryStore, type Reservation } from "../../../src/limits/RateLimiter.ts"
import { parallelOf } from "../../../src/limits/RateLimits.ts"
import { localSlot } from "../../../src/state/Slots.ts"

const LIMITS: ResolvedLimits = {
  requestsPerMinute: 10,
  tokensPerMinute: 1000,
  requestsPerSecond: undefined,
  burst: undefined,
  maxParallel: 1
}

/**
 * The memory store answers at once (`immediate`), which `limited` calls directly; without it, the
 * same store goes through its effects, as the Redis store does. Every case runs both ways.
 */
const STORES = ["immediate", "effects"] as const
let mode: (typeof STORES)[number] = "immediate"

const setup = () => {
  const slot = localSlot()
  const memory = makeMemoryStore(
    () => slot,
    () => 1_000_000
  )
  const store: LimiterStore = mode === "immediate" ? memory : { ...memory, immediate: undefined }
  const reservation: Reservation = { subjects: [{ scope: "key", id: "k", limits: LIMITS }], tokens: 100 }
  return { slot, store, reservation }
}

const bytesAnswer = (totalTokens?: number): Served => ({
  response: { status: 200, headers: { "content-type": "application/json" }, body: new Uint8Array([123, 125]) },
  totalTokens
})

describe("formatReset", () => {
  it("writes durations as OpenAI does", () => {
    expect([0, 20, 999, 1000, 1500, 59_999, 60_000, 360_000, 3_723_000].map(formatReset)).toEqual([
      "0s",
      "20ms",
      "999ms",
      "1s",
      "1.5s",
      "59.999s",
      "1m0s",
      "6m0s",
      "1h2m3s"
    ])
  })
})

describe.each(STORES)("limited (a store answering through %s)", (m) => {
  beforeEach(() => {
    mode = m
  })

  it("a success carries the x-ratelimit headers; the reservation is settled to the usage reported", async () => {
    const { store, reservation, slot } = setup()
    const out = await Effect.runPromise(limited(store, reservation, Effect.succeed(bytesAnswer(30))))
    expect(out.headers).toMatchObject({
      "x-ratelimit-limit-requests": "10",
      "x-ratelimit-remaining-requests": "9",
      "x-ratelimit-reset-requests": "1m0s",
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "900",
      "x-ratelimit-reset-tokens": "1m0s"
    })
    expect(parallelOf(slot)).toBe(0)
    // Settled to 30: 970 left before this next one reserves its 100.
    const next = await Effect.runPromise(limited(store, reservation, Effect.succeed(bytesAnswer())))
    expect(next.headers["x-ratelimit-remaining-tokens"]).toBe("870")
  })

  it("a refusal is a 429 rate_limit_exceeded naming the limit, with Retry-After and the headers", async () => {
    const { store, reservation } = setup()
    const release = await Effect.runPromise(Deferred.make<void>())
    const first = Effect.runFork(limited(store, reservation, Effect.as(Deferred.await(release), bytesAnswer())))
    await Effect.runPromise(Effect.yieldNow)
    const out = await Effect.runPromise(limited(store, reservation, Effect.succeed(bytesAnswer())))
    expect(out.status).toBe(429)
    expect(out.headers["retry-after"]).toBe("1")
    expect(out.headers["x-ratelimit-remaining-requests"]).toBe("9")
    expect(JSON.parse(new TextDecoder().decode(out.body as Uint8Array))).toEqual({
      error: {
        message: "max_parallel limit of 1 reached for this key. Retry after 1 s.",
        type: "requests",
        param: null,
        code: "rate_limit_exceeded"
      }
    })
    await Effect.runPromise(Deferred.succeed(release, undefined))
    await Effect.runPromise(Fiber.join(first))
  })

  it("max_parallel is given back when the request fails", async () => {
    const { store, reservation, slot } = setup()
    const exit = await Effect.runPromiseExit(
      limited(store, reservation, Effect.fail(gatewayError({ _tag: "Internal", message: "x" })))
    )
    expect(exit._tag).toBe("Failure")
    expect(parallelOf(slot)).toBe(0)
  })

  it("max_parallel is given back when the request is interrupted (the client left)", async () => {
    const { store, reservation, slot } = setup()
    const fiber = Effect.runFork(limited(store, reservation, Effect.never))
    await Effect.runPromise(Effect.yieldNow)
    expect(parallelOf(slot)).toBe(1)
    await Effect.runPromise(Fiber.interrupt(fiber))
    expect(parallelOf(slot)).toBe(0)
  })

  const streamed = (stream: Stream.Stream<Uint8Array>): Served => ({
    response: { status: 200, headers: { "content-type": "text/event-stream" }, body: stream },
    totalTokens: undefined
  })

  it("a streamed answer holds its place until the stream ends, and gives it back once", async () => {
    const { store, reservation, slot } = setup()
    const out: OutgoingResponse = await Effect.runPromise(
      limited(store, reservation, Effect.succeed(streamed(Stream.make(new Uint8Array([1]), new Uint8Array([2])))))
    )
    expect(out.headers["x-ratelimit-remaining-requests"]).toBe("9")
    expect(parallelOf(slot)).toBe(1)
    if (out.body instanceof Uint8Array) throw new Error("expected a stream")
    await Effect.runPromise(Stream.runDrain(out.body))
    expect(parallelOf(slot)).toBe(0)
  })

  it("a streamed answer cancelled midway (client gone) gives its place back", async () => {
    const { store, reservation, slot } = setup()
    const out = await Effect.runPromise(
      limited(
        store,
        reservation,
        Effect.succeed(streamed(Stream.concat(Stream.make(new Uint8Array([1])), Stream.never)))
      )
    )
    if (out.body instanceof Uint8Array) throw new Error("expected a stream")
    const fiber = Effect.runFork(Stream.runDrain(out.body))
    await Effect.runPromise(Effect.yieldNow)
    expect(parallelOf(slot)).toBe(1)
    await Effect.runPromise(Fiber.interrupt(fiber))
    expect(parallelOf(slot)).toBe(0)
  })
})

describe.each(STORES)("limited: a stream's tokens settled when it ends (%s)", (m) => {
  beforeEach(() => {
    mode = m
  })

  // The proxy's stream-end hook measures the usage inside the stream; `streamTokens` reads it after.
  const measuredStream = (stream: Stream.Stream<Uint8Array>, tokens: number): Served => {
    let measured: number | undefined
    return {
      response: {
        status: 200,
        headers: { "content-type": "text/event-stream" },
        body: stream.pipe(
          Stream.onExit(() =>
            Effect.sync(() => {
              measured = tokens
            })
          )
        )
      },
      totalTokens: undefined,
      streamTokens: () => measured
    }
  }

  it("a completed stream settles its reservation to the tokens measured at its end, then gives its place back", async () => {
    const { store, reservation, slot } = setup()
    const out = await Effect.runPromise(
      limited(store, reservation, Effect.succeed(measuredStream(Stream.make(new Uint8Array([1])), 40)))
    )
    if (out.body instanceof Uint8Array) throw new Error("expected a stream")
    // Reserved 100 while streaming.
    expect(out.headers["x-ratelimit-remaining-tokens"]).toBe("900")
    await Effect.runPromise(Stream.runDrain(out.body))
    expect(parallelOf(slot)).toBe(0)
    // Settled to 40: 960 left before the next one reserves its 100.
    const next = await Effect.runPromise(limited(store, reservation, Effect.succeed(bytesAnswer())))
    expect(next.headers["x-ratelimit-remaining-tokens"]).toBe("860")
  })

  it("a stream cancelled midway settles to what its end hook measured too", async () => {
    const { store, reservation, slot } = setup()
    const out = await Effect.runPromise(
      limited(
        store,
        reservation,
        Effect.succeed(measuredStream(Stream.concat(Stream.make(new Uint8Array([1])), Stream.never), 7))
      )
    )
    if (out.body instanceof Uint8Array) throw new Error("expected a stream")
    const fiber = Effect.runFork(Stream.runDrain(out.body))
    await Effect.runPromise(Effect.yieldNow)
    await Effect.runPromise(Fiber.interrupt(fiber))
    expect(parallelOf(slot)).toBe(0)
    const next = await Effect.runPromise(limited(store, reservation, Effect.succeed(bytesAnswer())))
    expect(next.headers["x-ratelimit-remaining-tokens"]).toBe("893")
  })

  it("a stream whose end measured nothing leaves its reservation standing", async () => {
    const { store, reservation } = setup()
    const served: Served = { ...measuredStream(Stream.make(new Uint8Array([1])), 0), streamTokens: () => undefined }
    const out = await Effect.runPromise(limited(store, reservation, Effect.succeed(served)))
    if (out.body instanceof Uint8Array) throw new Error("expected a stream")
    await Effect.runPromise(Stream.runDrain(out.body))
    const next = await Effect.runPromise(limited(store, reservation, Effect.succeed(bytesAnswer())))
    expect(next.headers["x-ratelimit-remaining-tokens"]).toBe("800")
  })
})

describe("settledTokens", () => {
  it("settles to every token the usage reports, read as the usage records read it", () => {
    expect(settledTokens(200, { usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } })).toBe(12)
    expect(settledTokens(200, { usage: { prompt_tokens: "5", total_tokens: 12 } })).toBeUndefined()
  })
  it("an error answer without usage settles to 0; a success without usage leaves the reservation standing", () => {
    expect(settledTokens(200, { usage: { prompt_tokens: 3, completion_tokens: 4 } })).toBe(7)
    expect(settledTokens(500, { error: {} })).toBe(0)
    expect(settledTokens(200, {})).toBeUndefined()
  })
})
