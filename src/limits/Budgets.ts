/**
 * The semantics of a key's or a project's budget (`budget: { amount_usd, period }`), pure and
 * synchronous like limits/RateLimits.ts: every function takes the time (`now`, epoch ms) and the
 * memory store's run under the subject's slot lock, so the same code is exact across worker
 * threads and testable with any clock. The Redis store (limits/RedisLimiterStore.ts) runs the
 * same rules in its Lua scripts and uses the period and money helpers here.
 *
 * - **Periods** are UTC: `daily` from midnight, `weekly` from Monday 00:00, `monthly` from the 1st
 *   00:00, `total` from the beginning of time and never resetting (`periodAt`).
 * - **Money** is integers, never floats that drift: a budget is whole micro-dollars (10⁻⁶ USD,
 *   `amount_usd` rounded to the nearest); spend is kept in micro-dollars plus the pico-dollar
 *   remainder below one micro-dollar (usage/Cost.ts prices in exact pico-dollars), so the spend of
 *   a period is the exact sum of its requests' costs, however many tiny ones; a reservation is its
 *   maximum cost rounded up to the micro-dollar. Float64 words hold these integers exactly up to
 *   2⁵³ micro-dollars (about 9 billion USD).
 * - **Admission** reserves the request's maximum cost (http/Limits.ts `maxCost`: the prompt estimate at the
 *   dearer of the input and cache-write prices, plus the completion allowance at the dearer of the
 *   output and reasoning prices). It is refused when the period's spend plus what requests in
 *   flight reserved plus this reservation would pass the budget, or when spend and reservations
 *   have already reached it (so even a request of an unpriced model, reserving 0, is refused once
 *   the budget is spent). Concurrent requests can therefore never overdraw it; a request whose
 *   maximum alone does not fit what is left is refused (its message says so: lower `max_tokens`).
 * - **Settling** gives the reservation back and adds the real cost, in the period the request was
 *   admitted in (a request that straddles the reset counts in the period it started in, as its
 *   usage record does; once that period has ended its spend no longer matters).
 */
import type { BudgetPeriod, ResolvedBudget } from "../config/Config.ts"
import type { GatewayErrorReason, RateLimitScope } from "../domain/GatewayError.ts"
import type { Holdings } from "../state/SlotAllocator.ts"
import { FIRST_FLOAT, HOLD_PERMITS, HOLD_PROBE, type Slot } from "../state/Slots.ts"

export const MICROS_PER_USD = 1_000_000
const PICO_PER_MICRO = 1_000_000n
const DAY_MS = 86_400_000

/** A budget's amount in whole micro-dollars. */
export const budgetMicros = (b: ResolvedBudget): number => Math.round(b.amountUsd * MICROS_PER_USD)

/** A period of a budget: from `start` (epoch ms, UTC) until `end` (undefined: never ends). */
export interface Period {
  readonly start: number
  readonly end: number | undefined
}

/** The period of kind `period` that `now` falls in. */
export const periodAt = (period: BudgetPeriod, now: number): Period => {
  switch (period) {
    case "daily": {
      const start = Math.floor(now / DAY_MS) * DAY_MS
      return { start, end: start + DAY_MS }
    }
    case "weekly": {
      const day = Math.floor(now / DAY_MS)
      // 1970-01-01 was a Thursday: days since the last Monday.
      const sinceMonday = (((day + 3) % 7) + 7) % 7
      const start = (day - sinceMonday) * DAY_MS
      return { start, end: start + 7 * DAY_MS }
    }
    case "monthly": {
      const d = new Date(now)
      return {
        start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
        end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
      }
    }
    case "total":
      return { start: 0, end: undefined }
  }
}

/** A budget period's kind as a number in a slot word (0: never counted). */
const KIND_CODE: Readonly<Record<BudgetPeriod, number>> = { daily: 1, weekly: 2, monthly: 3, total: 4 }

/** Exact pico-dollars as whole micro-dollars and the pico-dollars below one. */
export const splitPico = (pico: bigint): { readonly micros: number; readonly pico: number } => {
  const p = pico < 0n ? 0n : pico
  return { micros: Number(p / PICO_PER_MICRO), pico: Number(p % PICO_PER_MICRO) }
}

/** Pico-dollars rounded up to whole micro-dollars (what a reservation holds). */
export const ceilMicros = (pico: bigint): number =>
  pico <= 0n ? 0 : Number((pico + PICO_PER_MICRO - 1n) / PICO_PER_MICRO)

/** A subject's spend in its current period, as a store reads it. */
export interface BudgetView {
  readonly period: Period
  /** Settled spend, whole micro-dollars (the pico-dollar remainder below one is left out). */
  readonly spent: number
  /** Reserved by requests in flight, micro-dollars. */
  readonly reserved: number
}

/** The refusal of a request by a budget: whose, how much, and when it resets. */
export const budgetRefusal = (
  v: BudgetView,
  b: ResolvedBudget,
  scope: RateLimitScope,
  reserve: number,
  now: number
): Extract<GatewayErrorReason, { readonly _tag: "BudgetExceeded" }> | undefined => {
  const amount = budgetMicros(b)
  const used = v.spent + v.reserved
  if (used < amount && used + reserve <= amount) return undefined
  return {
    _tag: "BudgetExceeded",
    scope,
    amount_usd: b.amountUsd,
    period: b.period,
    spent_usd: v.spent / MICROS_PER_USD,
    reserved_usd: v.reserved / MICROS_PER_USD,
    request_usd: reserve / MICROS_PER_USD,
    resets_at: v.period.end === undefined ? null : new Date(v.period.end).toISOString(),
    retry_after_ms: v.period.end === undefined ? null : Math.max(0, v.period.end - now)
  }
}

// ---- the memory store's words, after the rate limits' in the same counter slot -------------------

/** The period counted (KIND_CODE) and its start; an older or other period reads as empty. */
const B_KIND = FIRST_FLOAT + 6
const B_START = FIRST_FLOAT + 7
/** Settled spend: micro-dollars, and pico-dollars below one micro-dollar. */
const B_MICROS = FIRST_FLOAT + 8
const B_PICO = FIRST_FLOAT + 9
/** Reserved by requests in flight, micro-dollars. */
const B_RESERVED = FIRST_FLOAT + 10

/**
 * A worker's reservations in a slot, in its holdings (two Int32 words: `HOLD_PERMITS` × 2³¹ +
 * `HOLD_PROBE`, the low word kept below 2³¹), so the owner can recompute what live workers hold
 * when one dies (`repairBudget`).
 */
const LOW = 2 ** 31

const addHolding = (s: Slot, micros: number): void => {
  const total = s.hold[s.hat + HOLD_PERMITS]! * LOW + s.hold[s.hat + HOLD_PROBE]! + micros
  s.hold[s.hat + HOLD_PERMITS] = Math.floor(total / LOW)
  s.hold[s.hat + HOLD_PROBE] = total % LOW
}

/** The subject's spend in the period of `b` at `now` (locked). */
export const budgetViewOf = (s: Slot, b: ResolvedBudget, now: number): BudgetView => {
  const f = s.f64
  const period = periodAt(b.period, now)
  const current = f[s.fat + B_KIND] === KIND_CODE[b.period] && f[s.fat + B_START] === period.start
  return current
    ? { period, spent: f[s.fat + B_MICROS]!, reserved: f[s.fat + B_RESERVED]! }
    : { period, spent: 0, reserved: 0 }
}

/** What admission reserved in a slot: enough to settle it later. */
export interface BudgetHeld {
  readonly kind: number
  readonly start: number
  readonly reserved: number
}

/** Counts a reservation of `reserve` micro-dollars in the period of `v` (locked; `v` read under the same lock). */
export const reserveLocked = (s: Slot, b: ResolvedBudget, v: BudgetView, reserve: number): BudgetHeld => {
  const f = s.f64
  const kind = KIND_CODE[b.period]
  if (f[s.fat + B_KIND] !== kind || f[s.fat + B_START] !== v.period.start) {
    // A new period (or another kind of budget since a reload): it starts empty.
    f[s.fat + B_KIND] = kind
    f[s.fat + B_START] = v.period.start
    f[s.fat + B_MICROS] = 0
    f[s.fat + B_PICO] = 0
    f[s.fat + B_RESERVED] = 0
  }
  f[s.fat + B_RESERVED] = v.reserved + reserve
  addHolding(s, reserve)
  return { kind, start: v.period.start, reserved: reserve }
}

/**
 * Gives a reservation back and adds the real cost (`costPico`), in the period it was made in
 * (locked). Once that period has ended, its spend no longer matters: only the holding goes.
 */
export const settleBudgetLocked = (s: Slot, h: BudgetHeld, costPico: bigint): void => {
  addHolding(s, -h.reserved)
  const f = s.f64
  if (f[s.fat + B_KIND] !== h.kind || f[s.fat + B_START] !== h.start) return
  f[s.fat + B_RESERVED] = Math.max(0, f[s.fat + B_RESERVED]! - h.reserved)
  const cost = splitPico(costPico)
  const pico = f[s.fat + B_PICO]! + cost.pico
  const carry = pico >= 1_000_000 ? 1 : 0
  f[s.fat + B_PICO] = pico - carry * 1_000_000
  f[s.fat + B_MICROS] = f[s.fat + B_MICROS]! + cost.micros + carry
}

/**
 * After a worker died: what requests in flight reserve is at most what the live workers hold
 * (locked; part of the counter slot's `repair`). Holdings may still include reservations of an
 * ended period, so the smaller of the two is kept: never less than what is really reserved.
 */
export const repairBudget = (s: Slot, held: Holdings): void => {
  const live = held.permits * LOW + held.probe
  s.f64[s.fat + B_RESERVED] = Math.max(0, Math.min(s.f64[s.fat + B_RESERVED]!, live))
}

/** A period's spend rebuilt from the usage store, for a subject whose counters do not hold that period yet. */
export interface BudgetSeed {
  readonly scope: RateLimitScope
  readonly id: string
  readonly period: BudgetPeriod
  /** The period's start (epoch ms) the spend was summed from. */
  readonly start: number
  /** The spend, micro-dollars (rounded to the nearest: the store keeps USD as doubles). */
  readonly spent: number
}

/**
 * Seeds a slot with a rebuilt spend when it does not count that period yet (locked): counters
 * already in that period (another worker seeded them, or requests were counted) are left alone, and
 * so are counters already in a later period.
 */
export const seedLocked = (s: Slot, seed: BudgetSeed): void => {
  const f = s.f64
  const kind = KIND_CODE[seed.period]
  if (f[s.fat + B_KIND] === kind && f[s.fat + B_START]! >= seed.start) return
  f[s.fat + B_KIND] = kind
  f[s.fat + B_START] = seed.start
  f[s.fat + B_MICROS] = seed.spent
  f[s.fat + B_PICO] = 0
  f[s.fat + B_RESERVED] = 0
}
