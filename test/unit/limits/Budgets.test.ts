// Budgets over the memory store's counter slots, on Effect's TestClock: UTC periods and their
// edges (midnight, Monday, the 1st, never for total), the cut-off at the boundary, reservations
// of the maximum cost settled to the real one (exact pico-dollar sums, no float drift), key and
// project checked together, seeds from the usage store applied only where the period is not
// counted yet, and a dead worker's reservations given back by the repair.
import { assert, describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { TestClock } from "effect/testing"
import type { ResolvedBudget } from "../../../src/config/Config.ts"
import { describe as describeError } from "../../../src/domain/GatewayError.ts"
import { maxCostPico } from "../../../src/http/Limits.ts"
import {
  budgetMicros,
  budgetViewOf,
  ceilMicros,
  periodAt,
  repairBudget,
  splitPico
} from "../../../src/limits/Budgets.ts"
import {
  type Admission,
  type LimitSubject,
  makeMemoryStore,
  type Reservation
} from "../../../src/limits/RateLimiter.ts"
import { NO_LIMITS } from "../../../src/limits/RateLimits.ts"
import { localSlot, type Slot } from "../../../src/state/Slots.ts"

/** The settled spend counted in a slot for `b`'s period at `now`, micro-dollars. */
const spentOf = (s: Slot, b: ResolvedBudget, now: number): number => budgetViewOf(s, b, now).spent

const at = (iso: string) => Date.parse(iso)

/** A memory store over local slots, on the Effect clock (TestClock in `it.effect`). */
const setup = Effect.gen(function* () {
  const clock = yield* Clock.Clock
  const slots = new Map<string, Slot>()
  const slotOf = (scope: string, id: string) => {
    const k = `${scope}:${id}`
    let s = slots.get(k)
    if (s === undefined) {
      s = localSlot()
      slots.set(k, s)
    }
    return s
  }
  const store = makeMemoryStore(slotOf, () => clock.currentTimeMillisUnsafe())
  const admit = (r: Reservation): Admission => Effect.runSync(store.admit(r))
  return { store, admit, slotOf, now: () => clock.currentTimeMillisUnsafe() }
})

const budget = (amountUsd: number, period: ResolvedBudget["period"]): ResolvedBudget => ({ amountUsd, period })
const key = (b: ResolvedBudget, id = "k1"): LimitSubject => ({ scope: "key", id, limits: NO_LIMITS, budget: b })
const project = (b: ResolvedBudget, id = "p1"): LimitSubject => ({ scope: "project", id, limits: NO_LIMITS, budget: b })
/** One request reserving `cost` micro-dollars. */
const req = (cost: number, ...subjects: ReadonlyArray<LimitSubject>): Reservation => ({ subjects, tokens: 0, cost })
const usd = (n: number) => BigInt(Math.round(n * 1e6)) * 1_000_000n

describe("periods (UTC)", () => {
  it("daily from midnight, weekly from Monday 00:00, monthly from the 1st, total never", () => {
    const t = at("2026-03-04T15:30:00Z") // a Wednesday
    expect(periodAt("daily", t)).toEqual({ start: at("2026-03-04T00:00:00Z"), end: at("2026-03-05T00:00:00Z") })
    expect(periodAt("weekly", t)).toEqual({ start: at("2026-03-02T00:00:00Z"), end: at("2026-03-09T00:00:00Z") })
    expect(periodAt("monthly", t)).toEqual({ start: at("2026-03-01T00:00:00Z"), end: at("2026-04-01T00:00:00Z") })
    expect(periodAt("total", t)).toEqual({ start: 0, end: undefined })
    // Edges: a Monday at midnight starts its week; a Sunday's last ms belongs to the one before.
    expect(periodAt("weekly", at("2026-03-09T00:00:00Z")).start).toBe(at("2026-03-09T00:00:00Z"))
    expect(periodAt("weekly", at("2026-03-08T23:59:59.999Z")).start).toBe(at("2026-03-02T00:00:00Z"))
    expect(periodAt("monthly", at("2024-02-29T23:59:59.999Z")).end).toBe(at("2024-03-01T00:00:00Z"))
    expect(periodAt("monthly", at("2026-12-31T12:00:00Z")).end).toBe(at("2027-01-01T00:00:00Z"))
    expect(periodAt("weekly", at("1970-01-01T00:00:00Z")).start).toBe(at("1969-12-29T00:00:00Z"))
  })

  it("money is integers: micro-dollars, pico-dollar remainders, reservations rounded up", () => {
    expect(budgetMicros(budget(1, "daily"))).toBe(1_000_000)
    expect(budgetMicros(budget(0.1 + 0.2, "daily"))).toBe(300_000)
    expect(splitPico(1_234_567_890n)).toEqual({ micros: 1234, pico: 567_890 })
    expect(ceilMicros(1n)).toBe(1)
    expect(ceilMicros(1_000_000n)).toBe(1)
    expect(ceilMicros(0n)).toBe(0)
    const price = { input: 2_500_000n, cache_read: 1n, cache_write: 3_000_000n, reasoning: 0n, output: 10_000_000n }
    // The dearer of input and cache_write for the prompt, of output and reasoning for the completion.
    expect(maxCostPico(100, 50, price)).toBe(100n * 3_000_000n + 50n * 10_000_000n)
  })
})

describe("budget admission", () => {
  it.effect("a $1 budget is cut off at the boundary: admitted while the maximum fits, refused once spent", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(at("2026-03-04T10:00:00Z"))
      const { admit, store, slotOf, now } = yield* setup
      const k = key(budget(1, "daily"))
      // Nine requests of $0.10 each, each reserving its maximum of $0.10.
      for (let i = 0; i < 9; i++) {
        const a = admit(req(100_000, k))
        assert.strictEqual(a._tag, "Admitted")
        if (a._tag === "Admitted") yield* store.settle(a.handle, { tokens: undefined, costPico: usd(0.1) })
      }
      assert.strictEqual(spentOf(slotOf("key", "k1"), k.budget!, now()), 900_000)
      // $0.10 left: a request that may cost $0.11 does not fit, one of $0.10 does.
      const tooBig = admit(req(110_000, k))
      assert.strictEqual(tooBig._tag, "Rejected")
      if (tooBig._tag === "Rejected") {
        const d = describeError(tooBig.reason)
        expect(d).toMatchObject({ status: 429, code: "budget_exceeded", type: "insufficient_quota" })
        expect(d.message).toContain("too little left")
      }
      const last = admit(req(100_000, k))
      assert.strictEqual(last._tag, "Admitted")
      if (last._tag === "Admitted") yield* store.settle(last.handle, { tokens: undefined, costPico: usd(0.1) })
      // Spent: even a request reserving nothing (an unpriced model) is refused, naming budget and reset.
      const refused = admit(req(0, k))
      assert.strictEqual(refused._tag, "Rejected")
      if (refused._tag !== "Rejected" || refused.reason._tag !== "BudgetExceeded")
        throw new Error("expected a budget refusal")
      expect(refused.reason).toMatchObject({
        scope: "key",
        amount_usd: 1,
        period: "daily",
        spent_usd: 1,
        resets_at: "2026-03-05T00:00:00.000Z",
        retry_after_ms: 14 * 3_600_000
      })
      expect(describeError(refused.reason).message).toBe(
        "The daily budget of $1.00 for this key is spent ($1.00). It resets at 2026-03-05T00:00:00.000Z (UTC)."
      )
      // One millisecond before midnight still refused; at midnight a new day starts empty.
      yield* TestClock.setTime(at("2026-03-04T23:59:59.999Z"))
      assert.strictEqual(admit(req(0, k))._tag, "Rejected")
      yield* TestClock.setTime(at("2026-03-05T00:00:00Z"))
      assert.strictEqual(admit(req(100_000, k))._tag, "Admitted")
    })
  )

  it.effect(
    "spend reads each subject's current period: reserved while in flight, spent once settled, 0 in a new period",
    () =>
      Effect.gen(function* () {
        const t = at("2026-03-04T10:00:00Z")
        yield* TestClock.setTime(t)
        const { admit, store } = yield* setup
        const k = key(budget(1, "daily"))
        const p = project(budget(5, "total"))
        const asked = [
          { scope: "key" as const, id: "k1", budget: k.budget! },
          { scope: "project" as const, id: "p1", budget: p.budget! },
          { scope: "key" as const, id: "never-used", budget: budget(1, "monthly") }
        ]
        const a = admit(req(300_000, k, p))
        if (a._tag !== "Admitted") throw new Error("expected admission")
        expect(yield* store.spend(asked)).toEqual([
          { period: periodAt("daily", t), spent: 0, reserved: 300_000 },
          { period: { start: 0, end: undefined }, spent: 0, reserved: 300_000 },
          { period: periodAt("monthly", t), spent: 0, reserved: 0 }
        ])
        yield* store.settle(a.handle, { tokens: undefined, costPico: usd(0.12) + 5n })
        const [kv, pv] = yield* store.spend(asked)
        expect([kv?.spent, kv?.reserved, pv?.spent, pv?.reserved]).toEqual([120_000, 0, 120_000, 0])
        // Reading changes nothing: the same again, and admission still sees $0.88 left on the key.
        expect((yield* store.spend(asked))[0]).toEqual(kv)
        assert.strictEqual(admit(req(880_001, k))._tag, "Rejected")
        // The next day the key's period starts empty; the total budget keeps counting.
        yield* TestClock.setTime(at("2026-03-05T00:00:00Z"))
        const [next, total] = yield* store.spend(asked)
        expect(next).toEqual({ period: periodAt("daily", at("2026-03-05T00:00:00Z")), spent: 0, reserved: 0 })
        expect(total?.spent).toBe(120_000)
      })
  )

  it.effect("a total budget never resets and has no Retry-After", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(at("2026-03-04T10:00:00Z"))
      const { admit, store } = yield* setup
      const k = key(budget(0.5, "total"))
      const a = admit(req(500_000, k))
      if (a._tag !== "Admitted") throw new Error("expected admission")
      yield* store.settle(a.handle, { tokens: undefined, costPico: usd(0.5) })
      yield* TestClock.adjust("3650 days")
      const refused = admit(req(1, k))
      expect(refused).toMatchObject({ _tag: "Rejected", reason: { resets_at: null, retry_after_ms: null } })
      if (refused._tag === "Rejected") expect(describeError(refused.reason).message).toContain("does not reset")
    })
  )

  it.effect("weekly and monthly periods reset on Monday 00:00 and on the 1st", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(at("2026-03-08T23:00:00Z")) // Sunday
      const { admit, store } = yield* setup
      const w = key(budget(1, "weekly"), "w")
      const m = key(budget(1, "monthly"), "m")
      for (const s of [w, m]) {
        const a = admit(req(1_000_000, s))
        if (a._tag !== "Admitted") throw new Error("expected admission")
        yield* store.settle(a.handle, { tokens: undefined, costPico: usd(1) })
        assert.strictEqual(admit(req(0, s))._tag, "Rejected")
      }
      yield* TestClock.setTime(at("2026-03-09T00:00:00Z")) // Monday
      assert.strictEqual(admit(req(0, w))._tag, "Admitted")
      expect(admit(req(0, m))).toMatchObject({ reason: { resets_at: "2026-04-01T00:00:00.000Z" } })
      yield* TestClock.setTime(at("2026-04-01T00:00:00Z"))
      assert.strictEqual(admit(req(0, m))._tag, "Admitted")
    })
  )

  it.effect("reservations hold room while in flight and settle to the real cost: never overdrawn, never tighter", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(at("2026-03-04T10:00:00Z"))
      const { admit, store, slotOf, now } = yield* setup
      const k = key(budget(1, "daily"))
      // Four requests in flight reserving $0.25 each fill the budget; a fifth is refused.
      const inFlight = Array.from({ length: 4 }, () => admit(req(250_000, k)))
      expect(inFlight.map((a) => a._tag)).toEqual(["Admitted", "Admitted", "Admitted", "Admitted"])
      const fifth = admit(req(1, k))
      expect(fifth).toMatchObject({ _tag: "Rejected", reason: { spent_usd: 0, reserved_usd: 1 } })
      // They really cost $0.01 each: settled, $0.96 is free again.
      for (const a of inFlight)
        if (a._tag === "Admitted") yield* store.settle(a.handle, { tokens: undefined, costPico: usd(0.01) })
      assert.strictEqual(spentOf(slotOf("key", "k1"), k.budget!, now()), 40_000)
      assert.strictEqual(admit(req(960_000, k))._tag, "Admitted")
    })
  )

  it.effect("tiny costs add up exactly (pico-dollar remainders carried, no float drift)", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(at("2026-03-04T10:00:00Z"))
      const { admit, store, slotOf, now } = yield* setup
      const k = key(budget(1, "daily"))
      // 10,000 requests of 0.2 micro-dollars each (200,000 pico): 2,000 micro-dollars exactly.
      for (let i = 0; i < 10_000; i++) {
        const a = admit(req(1, k))
        if (a._tag === "Admitted") yield* store.settle(a.handle, { tokens: undefined, costPico: 200_000n })
      }
      assert.strictEqual(spentOf(slotOf("key", "k1"), k.budget!, now()), 2_000)
    })
  )

  it.effect("key and project together: the project's budget caps every key; a refusal reserves nothing anywhere", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(at("2026-03-04T10:00:00Z"))
      const { admit, store, slotOf, now } = yield* setup
      const p = project(budget(1, "monthly"))
      const k1 = key(budget(10, "daily"), "k1")
      const k2 = key(budget(10, "daily"), "k2")
      const a = admit(req(600_000, k1, p))
      if (a._tag !== "Admitted") throw new Error("expected admission")
      // k2 has room of its own but the project has only $0.40 left while a's $0.60 is in flight.
      expect(admit(req(500_000, k2, p))).toMatchObject({ _tag: "Rejected", reason: { scope: "project" } })
      assert.strictEqual(slotOf("key", "k2").f64[slotOf("key", "k2").fat + 11], 0)
      yield* store.settle(a.handle, { tokens: undefined, costPico: usd(0.6) })
      assert.strictEqual(spentOf(slotOf("key", "k1"), k1.budget!, now()), 600_000)
      assert.strictEqual(spentOf(slotOf("project", "p1"), p.budget!, now()), 600_000)
      assert.strictEqual(admit(req(400_000, k2, p))._tag, "Admitted")
    })
  )

  it.effect("a request that straddles the reset is settled in the period it started in", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(at("2026-03-04T23:59:59Z"))
      const { admit, store, slotOf, now } = yield* setup
      const k = key(budget(1, "daily"))
      const a = admit(req(500_000, k))
      if (a._tag !== "Admitted") throw new Error("expected admission")
      yield* TestClock.setTime(at("2026-03-05T00:00:01Z"))
      const b = admit(req(1_000_000, k)) // the new day is empty: all of it fits
      assert.strictEqual(b._tag, "Admitted")
      yield* store.settle(a.handle, { tokens: undefined, costPico: usd(0.5) })
      if (b._tag === "Admitted") yield* store.settle(b.handle, { tokens: undefined, costPico: usd(0.2) })
      assert.strictEqual(spentOf(slotOf("key", "k1"), k.budget!, now()), 200_000)
    })
  )

  it.effect("seeds apply only where the period is not counted yet; a new kind of budget is seeded afresh", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(at("2026-03-04T10:00:00Z"))
      const { admit, store, slotOf, now } = yield* setup
      const daily = budget(1, "daily")
      const start = periodAt("daily", now()).start
      yield* store.seed([{ scope: "key", id: "k1", period: "daily", start, spent: 700_000 }])
      assert.strictEqual(spentOf(slotOf("key", "k1"), daily, now()), 700_000)
      // Seeded again (another worker, a restarted one): the count it has is kept.
      const a = admit(req(100_000, key(daily)))
      if (a._tag === "Admitted") yield* store.settle(a.handle, { tokens: undefined, costPico: usd(0.1) })
      yield* store.seed([{ scope: "key", id: "k1", period: "daily", start, spent: 700_000 }])
      assert.strictEqual(spentOf(slotOf("key", "k1"), daily, now()), 800_000)
      // A reload turns it monthly: seeded with the month's spend.
      const monthly = budget(5, "monthly")
      const month = periodAt("monthly", now()).start
      yield* store.seed([{ scope: "key", id: "k1", period: "monthly", start: month, spent: 4_000_000 }])
      assert.strictEqual(spentOf(slotOf("key", "k1"), monthly, now()), 4_000_000)
      // An amount changed on reload keeps the spend: $4 of a $4.50 budget.
      expect(admit(req(600_000, key(budget(4.5, "monthly"))))).toMatchObject({ _tag: "Rejected" })
      assert.strictEqual(admit(req(500_000, key(budget(4.5, "monthly"))))._tag, "Admitted")
    })
  )

  it.effect("a dead worker's reservations are given back by the repair (what live workers hold)", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(at("2026-03-04T10:00:00Z"))
      const { admit, slotOf } = yield* setup
      const k = key(budget(1, "daily"))
      assert.strictEqual(admit(req(700_000, k))._tag, "Admitted")
      assert.strictEqual(admit(req(400_000, k))._tag, "Rejected")
      // The worker that held it died: the live workers hold nothing.
      repairBudget(slotOf("key", "k1"), { inFlight: 0, permits: 0, probe: 0, waiting: 0 })
      assert.strictEqual(admit(req(400_000, k))._tag, "Admitted")
      // A live worker's holding (in its two holdings words) is kept.
      const s = slotOf("key", "k1")
      repairBudget(s, { inFlight: 0, permits: s.hold[s.hat + 1]!, probe: s.hold[s.hat + 2]!, waiting: 0 })
      assert.strictEqual(admit(req(700_000, k))._tag, "Rejected")
    })
  )
})
