/**
 * The semantics of a key's or a project's rate limits over its counter slot (limits/CounterSlots.ts),
 * pure and synchronous: every function takes the time (`now`, epoch ms) and runs under the slot's
 * lock, so the same code is exact across worker threads and testable with any clock.
 *
 * - `requests_per_minute` and `tokens_per_minute` share one window per slot: 60 s anchored at the
 *   first request admitted after the previous window ended (a key hammered from t0 gets exactly N
 *   requests until t0 + 60 s, then a new window starts at the next request).
 * - `requests_per_second` + `burst` is a token bucket: capacity `burst`, refilled at
 *   `requests_per_second` per second, one token per request; a fresh bucket is full.
 * - `max_parallel` counts requests in flight; each worker's share is in its holdings
 *   (`HOLD_IN_FLIGHT`), from which the owner recomputes the count when a worker dies.
 * - Tokens are reserved at admission (the prompt estimate plus the completion allowance) and
 *   settled to the real usage afterwards, in the window they were reserved in.
 *
 * - A budget (limits/Budgets.ts) is checked and reserved in the same admission, under the same
 *   locks, so a request is counted in rate limits and budgets alike, or in none.
 *
 * A request is admitted only if every limit of every subject (the key, its project) has room; it
 * is then counted in all of them at once (`admitLocked` over slots already locked in a fixed order),
 * so a request refused by the project's limit consumes nothing of the key's, and vice versa.
 */
import type { ResolvedBudget, ResolvedLimits } from "../config/Config.ts"
import type { GatewayErrorReason, RateLimitName, RateLimitScope } from "../domain/GatewayError.ts"
import type { Holdings } from "../state/SlotAllocator.ts"
import { FIRST_FLOAT, HOLD_IN_FLIGHT, type Slot } from "../state/Slots.ts"
import {
  type BudgetHeld,
  budgetRefusal,
  budgetViewOf,
  repairBudget,
  reserveLocked,
  settleBudgetLocked
} from "./Budgets.ts"

export const WINDOW_MS = 60_000
/** The Retry-After of a refusal by `max_parallel`: when a request ends is unknown, so a nominal second. */
export const PARALLEL_RETRY_MS = 1_000

// Float64 words of a counter slot.
const WINDOW_START = FIRST_FLOAT
const WINDOW_REQUESTS = FIRST_FLOAT + 1
const WINDOW_TOKENS = FIRST_FLOAT + 2
const BUCKET_TOKENS = FIRST_FLOAT + 3
/** When the bucket was last refilled; 0: never used (full). */
const BUCKET_AT = FIRST_FLOAT + 4
const PARALLEL = FIRST_FLOAT + 5

/** Limits with no field set. */
export const NO_LIMITS: ResolvedLimits = {
  requestsPerMinute: undefined,
  tokensPerMinute: undefined,
  requestsPerSecond: undefined,
  burst: undefined,
  maxParallel: undefined
}

/** Whether any limit is set. */
export const hasLimits = (l: ResolvedLimits): boolean =>
  l.requestsPerMinute !== undefined ||
  l.tokensPerMinute !== undefined ||
  l.requestsPerSecond !== undefined ||
  l.maxParallel !== undefined

/** One limit's state for the `x-ratelimit-*` headers. */
export interface LimitState {
  readonly limit: number
  readonly remaining: number
  /** Until the limit is back to its initial state, ms. */
  readonly resetMs: number
}

/** The tightest request and token limits that apply (undefined: no such limit). */
export interface LimitHeaders {
  readonly requests: LimitState | undefined
  readonly tokens: LimitState | undefined
}

export const NO_HEADERS: LimitHeaders = { requests: undefined, tokens: undefined }

/**
 * A subject's counters as they stand at `now` (an ended window reads as a fresh one; the bucket
 * refilled): read from a slot here, answered by a script in the Redis store.
 */
export interface View {
  readonly windowStart: number
  readonly requests: number
  readonly tokens: number
  readonly bucket: number
  readonly parallel: number
}

const view = (s: Slot, l: ResolvedLimits, now: number): View => {
  const f = s.f64
  const at = s.fat
  const start = f[at + WINDOW_START]!
  const ended = start === 0 || now >= start + WINDOW_MS || now < start
  let bucket = Infinity
  if (l.requestsPerSecond !== undefined) {
    const burst = l.burst ?? Math.ceil(l.requestsPerSecond)
    const last = f[at + BUCKET_AT]!
    bucket =
      last === 0
        ? burst
        : Math.min(burst, f[at + BUCKET_TOKENS]! + (Math.max(0, now - last) * l.requestsPerSecond) / 1000)
  }
  return {
    windowStart: ended ? now : start,
    requests: ended ? 0 : f[at + WINDOW_REQUESTS]!,
    tokens: ended ? 0 : f[at + WINDOW_TOKENS]!,
    bucket,
    parallel: f[at + PARALLEL]!
  }
}

/** A refusal: which limit, of whom, and when to try again. */
export interface Refusal {
  readonly limit: RateLimitName
  readonly value: number
  readonly scope: RateLimitScope
  readonly retryAfterMs: number
}

/** The limit of `l` that refuses one more request reserving `tokens` (the one to wait longest for); undefined when all have room. */
export const refusal = (
  v: View,
  l: ResolvedLimits,
  scope: RateLimitScope,
  now: number,
  tokens: number,
  windowMs: number = WINDOW_MS
): Refusal | undefined => {
  let worst: Refusal | undefined
  const consider = (r: Refusal) => {
    if (worst === undefined || r.retryAfterMs > worst.retryAfterMs) worst = r
  }
  const windowLeft = v.windowStart + windowMs - now
  if (l.maxParallel !== undefined && v.parallel >= l.maxParallel) {
    consider({ limit: "max_parallel", value: l.maxParallel, scope, retryAfterMs: PARALLEL_RETRY_MS })
  }
  if (l.requestsPerSecond !== undefined && v.bucket < 1) {
    consider({
      limit: "requests_per_second",
      value: l.requestsPerSecond,
      scope,
      retryAfterMs: Math.ceil(((1 - v.bucket) * 1000) / l.requestsPerSecond)
    })
  }
  if (l.requestsPerMinute !== undefined && v.requests + 1 > l.requestsPerMinute) {
    consider({ limit: "requests_per_minute", value: l.requestsPerMinute, scope, retryAfterMs: windowLeft })
  }
  if (l.tokensPerMinute !== undefined && v.tokens + tokens > l.tokensPerMinute) {
    consider({ limit: "tokens_per_minute", value: l.tokensPerMinute, scope, retryAfterMs: windowLeft })
  }
  return worst
}

/** The headers' view of one subject: its tightest request limit and its token limit. */
export const headersOf = (v: View, l: ResolvedLimits, now: number, windowMs: number = WINDOW_MS): LimitHeaders => {
  const windowLeft = Math.max(0, v.windowStart + windowMs - now)
  let requests: LimitState | undefined
  if (l.requestsPerMinute !== undefined) {
    requests = {
      limit: l.requestsPerMinute,
      remaining: Math.max(0, l.requestsPerMinute - v.requests),
      resetMs: v.requests === 0 ? 0 : windowLeft
    }
  }
  if (l.requestsPerSecond !== undefined) {
    const burst = l.burst ?? Math.ceil(l.requestsPerSecond)
    const bucket: LimitState = {
      limit: burst,
      remaining: Math.max(0, Math.floor(v.bucket)),
      resetMs: Math.max(0, Math.ceil(((burst - v.bucket) * 1000) / l.requestsPerSecond))
    }
    requests = tighter(requests, bucket)
  }
  const tokens =
    l.tokensPerMinute === undefined
      ? undefined
      : {
          limit: l.tokensPerMinute,
          remaining: Math.max(0, Math.floor(l.tokensPerMinute - v.tokens)),
          resetMs: v.tokens === 0 ? 0 : windowLeft
        }
  return { requests, tokens }
}

/** The tighter of two limits: fewer remaining, then the later reset. */
const tighter = (a: LimitState | undefined, b: LimitState | undefined): LimitState | undefined => {
  if (a === undefined) return b
  if (b === undefined) return a
  if (a.remaining !== b.remaining) return a.remaining < b.remaining ? a : b
  return a.resetMs >= b.resetMs ? a : b
}

export const mergeHeaders = (a: LimitHeaders, b: LimitHeaders): LimitHeaders => ({
  requests: tighter(a.requests, b.requests),
  tokens: tighter(a.tokens, b.tokens)
})

/** What admission counted in one slot: enough to settle and release it later. */
export interface Held {
  readonly slot: Slot
  /** The window the tokens were reserved in. */
  readonly windowStart: number
  readonly reserved: number
  readonly parallel: boolean
  /** The budget reservation (undefined: the subject has no budget). */
  readonly budget: BudgetHeld | undefined
}

/** One subject of an admission: its slot, locked by the caller, its limits and its budget. */
export interface Subject {
  readonly scope: RateLimitScope
  readonly slot: Slot
  readonly limits: ResolvedLimits
  readonly budget: ResolvedBudget | undefined
}

/** Why a request is refused: a rate limit, or a budget. */
export type LimitRefusal = Extract<GatewayErrorReason, { readonly _tag: "RateLimited" | "BudgetExceeded" }>

export type LockedAdmission =
  | { readonly _tag: "Admitted"; readonly held: ReadonlyArray<Held>; readonly headers: LimitHeaders }
  | {
      readonly _tag: "Rejected"
      /** A rate limit's refusal (`refusal`), or a budget's (`budget`, which wins: it lasts longer). */
      readonly refusal: Refusal | undefined
      readonly budget: Extract<GatewayErrorReason, { readonly _tag: "BudgetExceeded" }> | undefined
      readonly headers: LimitHeaders
    }

/**
 * Admits one request reserving `tokens` and `cost` micro-dollars against every subject, or refuses
 * it changing nothing. Every subject's slot must be locked (and current) for the whole call.
 */
export const admitLocked = (
  subjects: ReadonlyArray<Subject>,
  now: number,
  tokens: number,
  cost = 0
): LockedAdmission => {
  const views = subjects.map((s) => view(s.slot, s.limits, now))
  const budgets = subjects.map((s) => (s.budget === undefined ? undefined : budgetViewOf(s.slot, s.budget, now)))
  let worst: Refusal | undefined
  let budget: Extract<GatewayErrorReason, { readonly _tag: "BudgetExceeded" }> | undefined
  subjects.forEach((s, i) => {
    const r = refusal(views[i]!, s.limits, s.scope, now, tokens)
    if (r !== undefined && (worst === undefined || r.retryAfterMs > worst.retryAfterMs)) worst = r
    const b = budgets[i]
    if (budget === undefined && b !== undefined) budget = budgetRefusal(b, s.budget!, s.scope, cost, now)
  })
  if (worst !== undefined || budget !== undefined) {
    let headers = NO_HEADERS
    subjects.forEach((s, i) => {
      headers = mergeHeaders(headers, headersOf(views[i]!, s.limits, now))
    })
    return { _tag: "Rejected", refusal: worst, budget, headers }
  }
  let headers = NO_HEADERS
  const held = subjects.map((s, i): Held => {
    const v = views[i]!
    const { f64: f, fat: at } = s.slot
    f[at + WINDOW_START] = v.windowStart
    f[at + WINDOW_REQUESTS] = v.requests + 1
    f[at + WINDOW_TOKENS] = v.tokens + tokens
    if (s.limits.requestsPerSecond !== undefined) {
      f[at + BUCKET_TOKENS] = v.bucket - 1
      f[at + BUCKET_AT] = now
    }
    const parallel = s.limits.maxParallel !== undefined
    if (parallel) {
      f[at + PARALLEL] = v.parallel + 1
      s.slot.hold[s.slot.hat + HOLD_IN_FLIGHT] = s.slot.hold[s.slot.hat + HOLD_IN_FLIGHT]! + 1
    }
    headers = mergeHeaders(headers, headersOf(view(s.slot, s.limits, now), s.limits, now))
    const b = budgets[i]
    const budget = b === undefined ? undefined : reserveLocked(s.slot, s.budget!, b, cost)
    return { slot: s.slot, windowStart: v.windowStart, reserved: tokens, parallel, budget }
  })
  return { _tag: "Admitted", held, headers }
}

/**
 * What a request really used, once known: its tokens (undefined: unknown, the token reservation
 * stands) and its cost in exact pico-dollars (undefined: unknown, the budget reservation is spent as
 * reserved).
 */
export interface Settlement {
  readonly tokens: number | undefined
  readonly costPico: bigint | undefined
}

/**
 * Settles a reservation to what was really used, in the window (and budget period) it was reserved
 * in (locked): the difference is given back or added. Once that window has ended, its count no
 * longer matters.
 */
export const settleLocked = (h: Held, used: Settlement): void => {
  const { f64: f, fat: at } = h.slot
  if (h.budget !== undefined) {
    settleBudgetLocked(h.slot, h.budget, used.costPico ?? BigInt(h.budget.reserved) * 1_000_000n)
  }
  if (used.tokens === undefined || f[at + WINDOW_START] !== h.windowStart) return
  f[at + WINDOW_TOKENS] = Math.max(0, f[at + WINDOW_TOKENS]! + used.tokens - h.reserved)
}

/** Ends a request's share of `max_parallel` (locked). */
export const releaseLocked = (h: Held): void => {
  if (!h.parallel) return
  const s = h.slot
  s.f64[s.fat + PARALLEL] = Math.max(0, s.f64[s.fat + PARALLEL]! - 1)
  s.hold[s.hat + HOLD_IN_FLIGHT] = s.hold[s.hat + HOLD_IN_FLIGHT]! - 1
}

/**
 * After a worker died: requests in flight are what the live workers hold, and so are budget
 * reservations (locked; the slot spec's `repair`).
 */
export const repairCounters = (s: Slot, held: Holdings): void => {
  s.f64[s.fat + PARALLEL] = held.inFlight
  repairBudget(s, held)
}

/** Requests in flight counted in a slot (tests, /health). */
export const parallelOf = (s: Slot): number => s.f64[s.fat + PARALLEL]!
