// The semantics of key and project rate limits over counter slots, on an injected clock: the
// per-minute window anchored at the first request after the last window ended, the token bucket,
// max_parallel, token reservations settled to real usage, and key + project admitted atomically.
import { describe, expect, it } from "vitest"
import type { ResolvedLimits } from "../../../src/config/Config.ts"
import {
  type LimitSubject,
  makeMemoryStore,
  type Admission,
  type Reservation
} from "../../../src/limits/RateLimiter.ts"
import { NO_LIMITS, parallelOf, repairCounters, WINDOW_MS } from "../../../src/limits/RateLimits.ts"
import { HOLD_IN_FLIGHT, localSlot, type Slot } from "../../../src/state/Slots.ts"
import * as Effect from "effect/Effect"

const limits = (l: Partial<ResolvedLimits>): ResolvedLimits => ({ ...NO_LIMITS, ...l })

/** A memory store over local slots and a clock the test moves. */
const setup = () => {
  const slots = new Map<string, Slot>()
  const clock = { now: 1_000_000 }
  const slotOf = (scope: string, id: string) => {
    const key = `${scope}:${id}`
    let s = slots.get(key)
    if (s === undefined) {
      s = localSlot()
      slots.set(key, s)
    }
    return s
  }
  const store = makeMemoryStore(slotOf, () => clock.now)
  const admit = (r: Reservation): Admission => Effect.runSync(store.admit(r))
  return { store, clock, admit, slotOf }
}

const key = (l: Partial<ResolvedLimits>, id = "k1"): LimitSubject => ({ scope: "key", id, limits: limits(l) })
const project = (l: Partial<ResolvedLimits>, id = "p1"): LimitSubject => ({ scope: "project", id, limits: limits(l) })
const one = (...subjects: ReadonlyArray<LimitSubject>): Reservation => ({ subjects, tokens: 0 })

const countAdmitted = (admit: (r: Reservation) => Admission, r: Reservation, n: number) =>
  Array.from({ length: n }, () => admit(r)).filter((a) => a._tag === "Admitted").length

describe("requests_per_minute", () => {
  it("a key hammered from t0 gets exactly N until t0 + 60 s, then a new window anchored at the next request", () => {
    const { admit, clock } = setup()
    const r = one(key({ requestsPerMinute: 5 }))
    const t0 = clock.now
    expect(countAdmitted(admit, r, 20)).toBe(5)
    clock.now = t0 + WINDOW_MS - 1
    const refused = admit(r)
    expect(refused).toMatchObject({
      _tag: "Rejected",
      reason: { _tag: "RateLimited", limit: "requests_per_minute", value: 5, scope: "key", retry_after_ms: 1 }
    })
    clock.now = t0 + WINDOW_MS
    expect(countAdmitted(admit, r, 20)).toBe(5)
    // The next window starts at the first request after this one ended, not at a fixed boundary.
    clock.now = t0 + 3 * WINDOW_MS + 123
    const t1 = clock.now
    expect(countAdmitted(admit, r, 5)).toBe(5)
    clock.now = t1 + WINDOW_MS - 1
    expect(admit(r)._tag).toBe("Rejected")
    clock.now = t1 + WINDOW_MS
    expect(admit(r)._tag).toBe("Admitted")
  })

  it("headers: limit, remaining and the reset of the window from the same state", () => {
    const { admit, clock } = setup()
    const r = one(key({ requestsPerMinute: 3 }))
    const t0 = clock.now
    const first = admit(r)
    expect(first.headers.requests).toEqual({ limit: 3, remaining: 2, resetMs: WINDOW_MS })
    expect(first.headers.tokens).toBeUndefined()
    clock.now = t0 + 10_000
    admit(r)
    expect(admit(r).headers.requests).toEqual({ limit: 3, remaining: 0, resetMs: 50_000 })
    const refused = admit(r)
    expect(refused._tag).toBe("Rejected")
    expect(refused.headers.requests).toEqual({ limit: 3, remaining: 0, resetMs: 50_000 })
  })
})

describe("requests_per_second + burst (token bucket)", () => {
  it("a full bucket admits burst at once, then one per 1/rps seconds", () => {
    const { admit, clock } = setup()
    const r = one(key({ requestsPerSecond: 2, burst: 4 }))
    expect(countAdmitted(admit, r, 10)).toBe(4)
    const refused = admit(r)
    expect(refused).toMatchObject({
      _tag: "Rejected",
      reason: { limit: "requests_per_second", value: 2, retry_after_ms: 500 }
    })
    clock.now += 499
    expect(admit(r)._tag).toBe("Rejected")
    clock.now += 1
    expect(admit(r)._tag).toBe("Admitted")
    expect(admit(r)._tag).toBe("Rejected")
    // Refills never beyond the burst.
    clock.now += 60_000
    expect(countAdmitted(admit, r, 10)).toBe(4)
  })

  it("burst defaults to ceil(rps) (resolved in config; the limiter falls back the same way)", () => {
    const { admit } = setup()
    expect(countAdmitted(admit, one(key({ requestsPerSecond: 2.5 })), 10)).toBe(3)
  })

  it("headers: the tighter of the window and the bucket", () => {
    const { admit } = setup()
    const r = one(key({ requestsPerMinute: 100, requestsPerSecond: 1, burst: 2 }))
    const a = admit(r)
    expect(a.headers.requests).toEqual({ limit: 2, remaining: 1, resetMs: 1000 })
  })
})

describe("max_parallel", () => {
  it("counts requests in flight, refuses at the cap, and is released once per admission", () => {
    const { admit, store, slotOf } = setup()
    const r = one(key({ maxParallel: 2 }))
    const a = admit(r)
    const b = admit(r)
    const c = admit(r)
    expect([a._tag, b._tag, c._tag]).toEqual(["Admitted", "Admitted", "Rejected"])
    expect(c).toMatchObject({ reason: { limit: "max_parallel", value: 2, retry_after_ms: 1000 } })
    const slot = slotOf("key", "k1")
    expect(parallelOf(slot)).toBe(2)
    expect(slot.hold[slot.hat + HOLD_IN_FLIGHT]).toBe(2)
    if (a._tag !== "Admitted") throw new Error("unreachable")
    Effect.runSync(store.release(a.handle))
    expect(parallelOf(slot)).toBe(1)
    expect(slot.hold[slot.hat + HOLD_IN_FLIGHT]).toBe(1)
    expect(admit(r)._tag).toBe("Admitted")
  })

  it("repair recomputes the count from the live workers' holdings", () => {
    const { admit, slotOf } = setup()
    admit(one(key({ maxParallel: 5 })))
    admit(one(key({ maxParallel: 5 })))
    const slot = slotOf("key", "k1")
    repairCounters(slot, { inFlight: 1, permits: 0, probe: 0, waiting: 0 })
    expect(parallelOf(slot)).toBe(1)
  })
})

describe("tokens_per_minute: reserve, then settle", () => {
  it("reserves at admission so concurrent requests cannot overdraw, and settles to the real usage", () => {
    const { admit, store } = setup()
    const subject = key({ tokensPerMinute: 1000 })
    const a = admit({ subjects: [subject], tokens: 400 })
    const b = admit({ subjects: [subject], tokens: 400 })
    const c = admit({ subjects: [subject], tokens: 400 })
    expect([a._tag, b._tag, c._tag]).toEqual(["Admitted", "Admitted", "Rejected"])
    expect(c).toMatchObject({ reason: { limit: "tokens_per_minute", value: 1000 } })
    expect(b.headers.tokens).toMatchObject({ limit: 1000, remaining: 200 })
    if (a._tag !== "Admitted" || b._tag !== "Admitted") throw new Error("unreachable")
    // The first used only 100: 300 go back, so the third now fits.
    Effect.runSync(store.settle(a.handle, { tokens: 100, costPico: undefined }))
    const d = admit({ subjects: [subject], tokens: 400 })
    expect(d._tag).toBe("Admitted")
    expect(d.headers.tokens).toMatchObject({ remaining: 100 })
  })

  it("a settle above the reservation counts the real usage; one in a later window changes nothing", () => {
    const { admit, store, clock } = setup()
    const subject = key({ tokensPerMinute: 1000 })
    const a = admit({ subjects: [subject], tokens: 100 })
    if (a._tag !== "Admitted") throw new Error("unreachable")
    Effect.runSync(store.settle(a.handle, { tokens: 700, costPico: undefined }))
    expect(admit({ subjects: [subject], tokens: 301 })._tag).toBe("Rejected")
    const b = admit({ subjects: [subject], tokens: 300 })
    expect(b._tag).toBe("Admitted")
    clock.now += WINDOW_MS
    const c = admit({ subjects: [subject], tokens: 10 })
    if (b._tag !== "Admitted") throw new Error("unreachable")
    Effect.runSync(store.settle(b.handle, { tokens: 0, costPico: undefined }))
    expect(c.headers.tokens).toMatchObject({ remaining: 990 })
    expect(admit({ subjects: [subject], tokens: 990 })._tag).toBe("Admitted")
  })

  it("an unsettled reservation stands (never under-counted)", () => {
    const { admit } = setup()
    const subject = key({ tokensPerMinute: 1000 })
    admit({ subjects: [subject], tokens: 600 })
    expect(admit({ subjects: [subject], tokens: 401 })._tag).toBe("Rejected")
  })
})

describe("key and project in one admission", () => {
  it("a request refused by the project's limit consumes nothing of the key's, and vice versa", () => {
    const { admit } = setup()
    const k1 = key({ requestsPerMinute: 10 }, "k1")
    const k2 = key({ requestsPerMinute: 2 }, "k2")
    const p = project({ requestsPerMinute: 3 })
    expect(countAdmitted(admit, one(k2, p), 5)).toBe(2) // k2's own limit: the project counted 2
    const refusedByKey = admit(one(k2, p))
    expect(refusedByKey).toMatchObject({ reason: { scope: "key", limit: "requests_per_minute", value: 2 } })
    expect(countAdmitted(admit, one(k1, p), 5)).toBe(1) // the project had room for one more
    const refusedByProject = admit(one(k1, p))
    expect(refusedByProject).toMatchObject({ reason: { scope: "project", value: 3 } })
    // k1 was refused by the project 5 times, and counted only the one admitted request.
    expect(refusedByProject.headers.requests).toMatchObject({ limit: 3, remaining: 0 })
    const alone = admit(one(k1))
    expect(alone.headers.requests).toMatchObject({ limit: 10, remaining: 8 })
  })

  it("headers show the tightest of key and project", () => {
    const { admit } = setup()
    const a = admit({
      subjects: [
        key({ requestsPerMinute: 10, tokensPerMinute: 500 }),
        project({ requestsPerMinute: 4, tokensPerMinute: 10_000 })
      ],
      tokens: 50
    })
    expect(a.headers).toEqual({
      requests: { limit: 4, remaining: 3, resetMs: WINDOW_MS },
      tokens: { limit: 500, remaining: 450, resetMs: WINDOW_MS }
    })
  })

  it("the refusal names the limit to wait longest for", () => {
    const { admit, clock } = setup()
    const r = one(key({ requestsPerMinute: 1, requestsPerSecond: 1, burst: 1 }))
    admit(r)
    clock.now += 10
    expect(admit(r)).toMatchObject({ reason: { limit: "requests_per_minute", retry_after_ms: WINDOW_MS - 10 } })
  })
})
