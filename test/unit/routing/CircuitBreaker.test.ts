import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import * as CircuitBreaker from "../../../src/routing/CircuitBreaker.ts"
import { type BreakerSettings, DEFAULT_BREAKER } from "../../../src/domain/BreakerSettings.ts"
import type { BreakerTransition } from "../../../src/routing/CircuitBreaker.ts"

// Window of 10 s in 1 s buckets, 5 s cooldown, trips at 50 % over at least 4 samples.
const SETTINGS: BreakerSettings = { failureRate: 0.5, minRequests: 4, windowMs: 10_000, cooldownMs: 5_000 }

const setup = (settings: BreakerSettings = SETTINGS) => {
  const events: Array<BreakerTransition> = []
  const breaker = CircuitBreaker.make("openai/gpt-4o-mini", settings, (t) => events.push(t))
  const path = () => events.map((e) => `${e.from}->${e.to}@${e.at}`)
  return { breaker, events, path }
}

const fail = (b: CircuitBreaker.CircuitBreaker, now: number, n = 1) => {
  for (let i = 0; i < n; i++) b.onFailure(now)
}
const succeed = (b: CircuitBreaker.CircuitBreaker, now: number, n = 1) => {
  for (let i = 0; i < n; i++) b.onSuccess(now)
}

/** A breaker opened at `at` by four failures. */
const opened = (at = 0) => {
  const s = setup()
  fail(s.breaker, at, 4)
  assert.strictEqual(s.breaker.snapshot(at).state, "open")
  return s
}

describe("CircuitBreaker (explicit time)", () => {
  it("has the documented defaults", () => {
    assert.deepStrictEqual(DEFAULT_BREAKER, {
      failureRate: 0.5,
      minRequests: 10,
      windowMs: 30_000,
      cooldownMs: 30_000
    })
  })

  it("starts closed and lets everything through", () => {
    const { breaker, events } = setup()
    assert.isTrue(breaker.isAvailable(0))
    for (let i = 0; i < 100; i++) assert.isTrue(breaker.tryAcquire(0))
    assert.deepStrictEqual(breaker.snapshot(0), { state: "closed", failureRate: 0, samples: 0, openedAt: undefined })
    assert.deepStrictEqual(events, [])
  })

  it("opens when the failure rate exactly reaches the threshold", () => {
    const { breaker, events } = setup()
    succeed(breaker, 100, 2)
    fail(breaker, 200)
    assert.strictEqual(breaker.snapshot(200).state, "closed")
    fail(breaker, 300) // 2 / 4 = 0.5
    assert.deepStrictEqual(breaker.snapshot(300), { state: "open", failureRate: 0.5, samples: 4, openedAt: 300 })
    assert.deepStrictEqual(events, [
      { target: "openai/gpt-4o-mini", from: "closed", to: "open", at: 300, failureRate: 0.5 }
    ])
    assert.isFalse(breaker.isAvailable(300))
    assert.isFalse(breaker.tryAcquire(300))
  })

  it("stays closed while the failure rate is below the threshold", () => {
    const { breaker, events } = setup()
    succeed(breaker, 0, 3)
    fail(breaker, 0, 2) // 2 / 5 = 0.4
    assert.deepStrictEqual(breaker.snapshot(0), { state: "closed", failureRate: 0.4, samples: 5, openedAt: undefined })
    succeed(breaker, 0, 5)
    fail(breaker, 0, 4) // 6 / 14 < 0.5
    assert.strictEqual(breaker.snapshot(0).state, "closed")
    assert.isTrue(breaker.tryAcquire(0))
    assert.deepStrictEqual(events, [])
  })

  it("does not trust the rate before min_requests samples", () => {
    const { breaker } = setup()
    fail(breaker, 0, 3) // 100 % but only 3 samples
    assert.deepStrictEqual(breaker.snapshot(0), { state: "closed", failureRate: 1, samples: 3, openedAt: undefined })
    assert.isTrue(breaker.tryAcquire(0))
    fail(breaker, 0)
    assert.strictEqual(breaker.snapshot(0).state, "open")
  })

  it("also opens on the success that brings the samples up to min_requests", () => {
    const { breaker } = setup()
    fail(breaker, 0, 3)
    succeed(breaker, 0) // 3 / 4 = 0.75 with enough samples now
    assert.strictEqual(breaker.snapshot(0).state, "open")
  })

  it("treats min_requests 0 as 1 (no verdict on an empty window)", () => {
    const { breaker } = setup({ ...SETTINGS, minRequests: 0 })
    assert.isTrue(breaker.tryAcquire(0))
    succeed(breaker, 0)
    assert.strictEqual(breaker.snapshot(0).state, "closed")
    fail(breaker, 0) // 1 / 2
    assert.strictEqual(breaker.snapshot(0).state, "open")
  })

  it("slides old failures out of the window", () => {
    // 3 failures at t=0 still count at t=9_999 (bucket 0 is in the window)...
    const inside = setup()
    fail(inside.breaker, 0, 3)
    succeed(inside.breaker, 9_999)
    assert.strictEqual(inside.breaker.snapshot(9_999).state, "open")

    // ...but are gone at t=10_000, when the window has moved past their bucket.
    const outside = setup()
    fail(outside.breaker, 0, 3)
    assert.strictEqual(outside.breaker.snapshot(9_999).samples, 3)
    assert.deepStrictEqual(outside.breaker.snapshot(10_000), {
      state: "closed",
      failureRate: 0,
      samples: 0,
      openedAt: undefined
    })
    succeed(outside.breaker, 10_000)
    fail(outside.breaker, 10_000, 2)
    assert.deepStrictEqual(outside.breaker.snapshot(10_000), {
      state: "closed",
      failureRate: 2 / 3,
      samples: 3,
      openedAt: undefined
    })
  })

  it("slides bucket by bucket and clears everything after a long silence", () => {
    const { breaker } = setup({ ...SETTINGS, minRequests: 100 }) // never trips here
    fail(breaker, 0)
    succeed(breaker, 3_000, 2)
    fail(breaker, 6_000)
    assert.strictEqual(breaker.snapshot(9_999).samples, 4) // the failure at 0 is still in
    assert.deepStrictEqual(breaker.snapshot(10_000), {
      state: "closed",
      failureRate: 1 / 3,
      samples: 3,
      openedAt: undefined
    })
    assert.deepStrictEqual(breaker.snapshot(13_000), {
      state: "closed",
      failureRate: 1,
      samples: 1,
      openedAt: undefined
    })
    assert.strictEqual(breaker.snapshot(16_000).samples, 0)
    fail(breaker, 1_000_000, 3)
    assert.deepStrictEqual(breaker.snapshot(1_000_000), {
      state: "closed",
      failureRate: 1,
      samples: 3,
      openedAt: undefined
    })
  })

  it("keeps an open target closed to traffic until the cooldown has elapsed", () => {
    const { breaker, path } = opened(1_000)
    for (const t of [1_000, 2_000, 5_999]) {
      assert.isFalse(breaker.isAvailable(t))
      assert.isFalse(breaker.tryAcquire(t))
      assert.strictEqual(breaker.snapshot(t).state, "open")
    }
    assert.deepStrictEqual(path(), ["closed->open@1000"])
    assert.isTrue(breaker.isAvailable(6_000)) // cooldown elapsed: the probe slot is free
    assert.deepStrictEqual(breaker.snapshot(6_000), {
      state: "half_open",
      failureRate: 1,
      samples: 4,
      openedAt: 1_000
    })
    assert.deepStrictEqual(path(), ["closed->open@1000", "open->half_open@6000"])
  })

  it("dates open -> half_open at the end of the cooldown even when first observed later", () => {
    const { breaker, path } = opened(0)
    assert.isTrue(breaker.tryAcquire(60_000))
    assert.deepStrictEqual(path(), ["closed->open@0", "open->half_open@5000"])
  })

  it("lets exactly one probe through in half-open, however many callers try", () => {
    const { breaker } = opened(0)
    const granted = Array.from({ length: 50 }, () => breaker.tryAcquire(5_000)).filter(Boolean).length
    assert.strictEqual(granted, 1)
    assert.isFalse(breaker.isAvailable(5_000))
    // Still only that one, later on, while the probe is outstanding.
    assert.isFalse(breaker.tryAcquire(100_000))
    assert.isFalse(breaker.isAvailable(100_000))
    assert.strictEqual(breaker.snapshot(100_000).state, "half_open")
  })

  it("isAvailable reserves nothing", () => {
    const { breaker } = opened(0)
    for (let i = 0; i < 10; i++) assert.isTrue(breaker.isAvailable(5_000))
    assert.isTrue(breaker.tryAcquire(5_000))
    assert.isFalse(breaker.tryAcquire(5_000))
  })

  it("closes with a fresh window when the probe succeeds", () => {
    const { breaker, events, path } = opened(0)
    assert.isTrue(breaker.tryAcquire(5_000))
    breaker.onSuccess(5_200)
    assert.deepStrictEqual(breaker.snapshot(5_200), {
      state: "closed",
      failureRate: 0,
      samples: 0,
      openedAt: undefined
    })
    assert.deepStrictEqual(path(), ["closed->open@0", "open->half_open@5000", "half_open->closed@5200"])
    assert.strictEqual(events.at(-1)?.failureRate, 0)
    assert.isTrue(breaker.tryAcquire(5_200))
    assert.isTrue(breaker.tryAcquire(5_200))
    // The old failures (still inside the 10 s window by time) were forgotten: 3 new ones do not trip it.
    fail(breaker, 5_300, 3)
    assert.strictEqual(breaker.snapshot(5_300).state, "closed")
    fail(breaker, 5_300)
    assert.strictEqual(breaker.snapshot(5_300).state, "open")
  })

  it("reopens with a fresh cooldown when the probe fails", () => {
    const { breaker, path } = opened(0)
    assert.isTrue(breaker.tryAcquire(5_000))
    breaker.onFailure(7_000)
    const snap = breaker.snapshot(7_000)
    assert.strictEqual(snap.state, "open")
    assert.strictEqual(snap.openedAt, 7_000)
    assert.isFalse(breaker.isAvailable(11_999))
    assert.isFalse(breaker.tryAcquire(11_999))
    assert.isTrue(breaker.tryAcquire(12_000))
    assert.isFalse(breaker.tryAcquire(12_000))
    assert.deepStrictEqual(path(), [
      "closed->open@0",
      "open->half_open@5000",
      "half_open->open@7000",
      "open->half_open@12000"
    ])
  })

  it("frees the probe slot when the probe is cancelled, without counting it", () => {
    const { breaker, path } = opened(0)
    const before = breaker.snapshot(5_000)
    assert.isTrue(breaker.tryAcquire(5_000))
    breaker.onCancel(5_100)
    assert.deepStrictEqual(breaker.snapshot(5_100), before)
    assert.isTrue(breaker.isAvailable(5_100))
    assert.isTrue(breaker.tryAcquire(5_100))
    assert.isFalse(breaker.tryAcquire(5_100))
    breaker.onSuccess(5_200)
    assert.deepStrictEqual(path(), ["closed->open@0", "open->half_open@5000", "half_open->closed@5200"])
  })

  it("ignores cancellations while closed or open", () => {
    const { breaker } = setup()
    breaker.onCancel(0)
    assert.deepStrictEqual(breaker.snapshot(0), { state: "closed", failureRate: 0, samples: 0, openedAt: undefined })
    fail(breaker, 0, 4)
    breaker.onCancel(100)
    assert.isFalse(breaker.tryAcquire(100))
    assert.strictEqual(breaker.snapshot(100).state, "open")
  })

  it("ignores late results while open: they neither close it nor count", () => {
    const { breaker, path } = opened(0)
    succeed(breaker, 1_000, 20)
    fail(breaker, 1_000, 20)
    assert.deepStrictEqual(breaker.snapshot(1_000), { state: "open", failureRate: 1, samples: 4, openedAt: 0 })
    assert.isFalse(breaker.tryAcquire(4_999))
    // The cooldown is not restarted by late failures either.
    assert.isTrue(breaker.tryAcquire(5_000))
    assert.deepStrictEqual(path(), ["closed->open@0", "open->half_open@5000"])
  })

  it("ignores late results in half-open before the probe is sent", () => {
    const { breaker, path } = opened(0)
    assert.strictEqual(breaker.snapshot(5_000).state, "half_open")
    breaker.onSuccess(5_000)
    breaker.onFailure(5_000)
    assert.strictEqual(breaker.snapshot(5_000).state, "half_open")
    assert.isTrue(breaker.tryAcquire(5_000))
    assert.deepStrictEqual(path(), ["closed->open@0", "open->half_open@5000"])
  })

  it("emits every transition in order, after the state has changed", () => {
    const seen: Array<string> = []
    const breaker: CircuitBreaker.CircuitBreaker = CircuitBreaker.make("p/m", SETTINGS, (t) => {
      const s = breaker.snapshot(t.at)
      seen.push(`${t.target} ${t.from}->${t.to}@${t.at} rate=${t.failureRate} now=${s.state}`)
    })
    succeed(breaker, 0, 2)
    fail(breaker, 500, 2) // opens at 500 with 2/4
    breaker.tryAcquire(5_500) // half-open, probe out
    breaker.onFailure(6_000) // reopens
    breaker.tryAcquire(11_000) // half-open again
    breaker.onSuccess(11_000) // closes
    fail(breaker, 12_000, 4) // opens again
    assert.deepStrictEqual(seen, [
      "p/m closed->open@500 rate=0.5 now=open",
      "p/m open->half_open@5500 rate=0.5 now=half_open",
      "p/m half_open->open@6000 rate=0.6 now=open",
      "p/m open->half_open@11000 rate=1 now=half_open", // the samples at 0 and 500 have slid out,
      "p/m half_open->closed@11000 rate=0 now=closed",
      "p/m closed->open@12000 rate=1 now=open"
    ])
  })

  it("works without a transition callback", () => {
    const breaker = CircuitBreaker.make("p/m", SETTINGS)
    fail(breaker, 0, 4)
    assert.isFalse(breaker.tryAcquire(0))
    assert.isTrue(breaker.tryAcquire(5_000))
    breaker.onSuccess(5_000)
    assert.strictEqual(breaker.snapshot(5_000).state, "closed")
  })

  it("agrees with a naive model on random histories", () => {
    // Reference: every sample kept with its time; one counts while its bucket is among the last 10.
    const bucketMs = SETTINGS.windowMs / CircuitBreaker.WINDOW_BUCKETS
    type Op = { readonly dt: number; readonly op: "acquire" | "available" | "success" | "failure" | "cancel" }
    const op = fc.record({
      dt: fc.oneof(
        { arbitrary: fc.constant(0), weight: 4 },
        { arbitrary: fc.integer({ min: 0, max: 1_500 }), weight: 3 },
        { arbitrary: fc.integer({ min: 0, max: 12_000 }), weight: 1 }
      ),
      op: fc.constantFrom("acquire", "available", "success", "failure", "cancel")
    })
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 150, size: "max" }), (ops: ReadonlyArray<Op>) => {
        const breaker = CircuitBreaker.make("p/m", SETTINGS)
        let samples: Array<{ readonly at: number; readonly failed: boolean }> = []
        let state = "closed" as CircuitBreaker.BreakerState
        let openedAt: number | undefined
        let probe = false
        let now = 0
        const inWindow = () => samples.filter((s) => Math.floor(s.at / bucketMs) > Math.floor(now / bucketMs) - 10)
        for (const { dt, op } of ops) {
          now += dt
          if (state === "open" && openedAt !== undefined && now - openedAt >= SETTINGS.cooldownMs) {
            state = "half_open"
            probe = false
          }
          switch (op) {
            case "acquire": {
              const expected = state === "closed" || (state === "half_open" && !probe)
              if (state === "half_open" && !probe) probe = true
              if (breaker.tryAcquire(now) !== expected) return false
              break
            }
            case "available":
              if (breaker.isAvailable(now) !== (state === "closed" || (state === "half_open" && !probe))) return false
              break
            case "cancel":
              breaker.onCancel(now)
              if (state === "half_open") probe = false
              break
            case "success":
            case "failure": {
              const failed = op === "failure"
              if (failed) breaker.onFailure(now)
              else breaker.onSuccess(now)
              if (state === "closed") {
                samples.push({ at: now, failed })
                const w = inWindow()
                const f = w.filter((s) => s.failed).length
                if (w.length >= SETTINGS.minRequests && f / w.length >= SETTINGS.failureRate) {
                  state = "open"
                  openedAt = now
                }
              } else if (state === "half_open" && probe) {
                probe = false
                if (failed) {
                  samples.push({ at: now, failed })
                  state = "open"
                  openedAt = now
                } else {
                  samples = []
                  state = "closed"
                  openedAt = undefined
                }
              }
              break
            }
          }
          const w = inWindow()
          const f = w.filter((s) => s.failed).length
          const snap = breaker.snapshot(now)
          if (
            snap.state !== state ||
            snap.samples !== w.length ||
            snap.openedAt !== openedAt ||
            snap.failureRate !== (w.length === 0 ? 0 : f / w.length)
          )
            return false
        }
        return true
      }),
      { numRuns: 300 }
    )
  })
})

describe("CircuitBreaker (Effect TestClock)", () => {
  it.effect("goes open -> half_open exactly when the cooldown elapses on the clock", () =>
    Effect.gen(function* () {
      const events: Array<BreakerTransition> = []
      const breaker = CircuitBreaker.make("p/m", DEFAULT_BREAKER, (t) => events.push(t))
      const now = Clock.currentTimeMillis

      yield* TestClock.adjust("1 second")
      const t0 = yield* now
      for (let i = 0; i < 10; i++) breaker.onFailure(t0)
      assert.strictEqual(breaker.snapshot(yield* now).state, "open")

      yield* TestClock.adjust(DEFAULT_BREAKER.cooldownMs - 1)
      assert.isFalse(breaker.tryAcquire(yield* now))
      assert.isFalse(breaker.isAvailable(yield* now))
      assert.strictEqual(breaker.snapshot(yield* now).state, "open")

      yield* TestClock.adjust(1)
      // Many fibers race for the probe at the moment the cooldown ends: exactly one wins.
      const granted = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => i),
        () => Effect.map(now, (t) => breaker.tryAcquire(t)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(granted.filter(Boolean).length, 1)
      assert.deepStrictEqual(
        events.map((e) => [e.from, e.to, e.at]),
        [
          ["closed", "open", t0],
          ["open", "half_open", t0 + 30_000]
        ]
      )

      yield* TestClock.adjust("250 millis")
      breaker.onSuccess(yield* now)
      assert.deepStrictEqual(breaker.snapshot(yield* now), {
        state: "closed",
        failureRate: 0,
        samples: 0,
        openedAt: undefined
      })
    })
  )

  it.effect("slides failures out of the window as the clock moves", () =>
    Effect.gen(function* () {
      const breaker = CircuitBreaker.make("p/m", DEFAULT_BREAKER)
      for (let i = 0; i < 9; i++) breaker.onFailure(yield* Clock.currentTimeMillis)
      yield* TestClock.adjust("30 seconds")
      breaker.onFailure(yield* Clock.currentTimeMillis) // the 9 earlier ones have left the window
      assert.deepStrictEqual(breaker.snapshot(yield* Clock.currentTimeMillis), {
        state: "closed",
        failureRate: 1,
        samples: 1,
        openedAt: undefined
      })
    })
  )
})
