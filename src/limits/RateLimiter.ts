/**
 * The rate limiter of one config snapshot: which limits and budgets apply to a virtual key (its own
 * limits, merged over its project's field by field, and its project's on the project as a whole;
 * the key's budget and its project's), and the store that admits, settles and releases requests
 * against them.
 *
 * The store's interface is the one a Redis store implements with one atomic Lua script per call:
 * `admit(reservation) → Admitted { handle, headers } | Rejected { reason, headers }`,
 * `settle(handle, used)`, `release(handle)`, `seed(seeds)` for budget spend rebuilt from the
 * usage store, and `spend(subjects)`, a read-only look at budgets' current periods (the admin API
 * shows it). The memory store here keeps the counters in
 * the shared slots (limits/CounterSlots.ts): the key's and the project's slots are locked in that
 * fixed order for one admission, so it is exact across worker threads and atomic across both.
 *
 * A key without limits or budget whose project has none costs nothing: `subjectsOf` answers undefined from
 * a map built once per snapshot, and the request path skips admission and headers altogether.
 */
import * as Effect from "effect/Effect"
import type { ResolvedBudget, ResolvedConfig, ResolvedKey, ResolvedLimits } from "../config/Config.ts"
import type { GatewayError, GatewayErrorReason, RateLimitScope } from "../domain/GatewayError.ts"
import { GEN, lockSlot, type Slot, unlockSlot } from "../state/Slots.ts"
import { type BudgetSeed, type BudgetView, budgetViewOf, periodAt, seedLocked } from "./Budgets.ts"
import type { CounterScope } from "./CounterSlots.ts"
import {
  admitLocked,
  hasLimits,
  type Held,
  type LimitHeaders,
  type LimitRefusal,
  NO_LIMITS,
  type Refusal,
  releaseLocked,
  type Settlement,
  settleLocked,
  type Subject
} from "./RateLimits.ts"

/** A subject of a reservation, by name: the store finds its counters. */
export interface LimitSubject {
  readonly scope: CounterScope
  readonly id: string
  readonly limits: ResolvedLimits
  readonly budget?: ResolvedBudget | undefined
}

/** A subject whose budget's spend is asked for (`LimiterStore.spend`). */
export interface BudgetSubject {
  readonly scope: CounterScope
  readonly id: string
  readonly budget: ResolvedBudget
}

/** What one request asks of its subjects: one request, `tokens` reserved and `cost` micro-dollars (budgets). */
export interface Reservation {
  readonly subjects: ReadonlyArray<LimitSubject>
  readonly tokens: number
  /** The request's maximum cost, whole micro-dollars (limits/Budgets.ts); 0 when none has a budget. */
  readonly cost?: number
}

/**
 * An admitted request's claim on its subjects' counters; settled and released once each. Each
 * store reads only its own kind and ignores the others.
 */
export type AdmissionHandle =
  /** Counted in the shared slots. */
  | { readonly _tag: "Memory"; readonly held: ReadonlyArray<Held> }
  /** Counted in Redis (limits/RedisLimiterStore.ts). */
  | {
      readonly _tag: "Redis"
      /** The subjects' counter hashes and the window each reservation was made in (Redis time, ms). */
      readonly counters: ReadonlyArray<{ readonly key: string; readonly windowStart: number }>
      readonly reserved: number
      /** The `max_parallel` lease sets this request holds a place in, under `lease`. */
      readonly leases: ReadonlyArray<string>
      readonly lease: string
      /** The budget counters this request reserved `cost` micro-dollars in, under `lease`. */
      readonly budgets: ReadonlyArray<{ readonly hash: string; readonly reservations: string }>
      readonly cost: number
    }
  /** Admitted without counting (the store could not be reached, `on_error: fail_open`): nothing to settle. */
  | { readonly _tag: "Uncounted" }

export type Admission =
  | { readonly _tag: "Admitted"; readonly handle: AdmissionHandle; readonly headers: LimitHeaders }
  | {
      readonly _tag: "Rejected"
      readonly reason: LimitRefusal
      readonly headers: LimitHeaders
    }

/** Where the counters live: shared memory (one machine, exact across workers) or Redis (exact across replicas). */
export interface LimiterStore {
  /**
   * Checks every limit of every subject and counts the request in all of them, atomically. Fails
   * only when the counters cannot be reached and the store's policy refuses (Redis `fail_closed`).
   */
  readonly admit: (reservation: Reservation) => Effect.Effect<Admission, GatewayError>
  /**
   * Settles the tokens and the cost reserved to what was `used` (call at most once; if never called,
   * the token reservation stands and the budget reservation holds until the period ends).
   */
  readonly settle: (handle: AdmissionHandle, used: Settlement) => Effect.Effect<void>
  /** The request ended (however it ended): its share of `max_parallel` is given back. */
  readonly release: (handle: AdmissionHandle) => Effect.Effect<void>
  /**
   * Budget spend rebuilt from the usage store, for counters that do not hold that period yet
   * (at start, and for budgets a reload adds or changes); counters already counting it are kept.
   */
  readonly seed: (seeds: ReadonlyArray<BudgetSeed>) => Effect.Effect<void>
  /**
   * Each subject's spend in its budget's current period, in order, read only (nothing is counted,
   * given back or renewed): settled spend and what requests in flight reserve. A subject never
   * counted reads as 0. Fails only when the counters cannot be reached (Redis), with `Unavailable`.
   */
  readonly spend: (subjects: ReadonlyArray<BudgetSubject>) => Effect.Effect<ReadonlyArray<BudgetView>, GatewayError>
  /**
   * `admit`, `settle` and `release` answered at once, for a store that never waits or fails (the
   * memory store): the request path then calls them without an effect each. Absent: use the effects.
   */
  readonly immediate?: ImmediateLimiter | undefined
}

/** The request path's three calls of a store that answers at once (`LimiterStore.immediate`). */
export interface ImmediateLimiter {
  readonly admit: (reservation: Reservation) => Admission
  readonly settle: (handle: AdmissionHandle, used: Settlement) => void
  readonly release: (handle: AdmissionHandle) => void
}

export const rateLimited = (r: Refusal): Extract<GatewayErrorReason, { readonly _tag: "RateLimited" }> => ({
  _tag: "RateLimited",
  limit: r.limit,
  value: r.value,
  scope: r.scope,
  retry_after_ms: Math.max(0, r.retryAfterMs)
})

/** Runs `f` over the slot of each subject, all locked in the given order; a stale slot (its key left the config) is left out. */
const withLocked = <A>(slots: ReadonlyArray<Slot>, f: (current: ReadonlyArray<boolean>) => A): A => {
  let taken = 0
  try {
    const current = slots.map((s) => {
      lockSlot(s)
      taken++
      return s.i32[s.at + GEN] === s.gen
    })
    return f(current)
  } finally {
    for (let i = taken - 1; i >= 0; i--) unlockSlot(slots[i]!)
  }
}

/**
 * The memory store over the shared counter slots: `slotOf` finds a subject's slot in this worker's
 * layout (undefined: none, so unlimited), `now` is the clock (epoch ms).
 */
export const makeMemoryStore = (
  slotOf: (scope: CounterScope, id: string) => Slot | undefined,
  now: () => number
): LimiterStore => {
  // A subject's slot, found once: subjects are made once per config snapshot (RateLimiter.subjectsOf)
  // and a key keeps its slot while it exists (a slot given to another key later fails the
  // generation check under the lock, as a fresh lookup would find no slot). Not found: asked again.
  const slots = new WeakMap<LimitSubject, Slot>()
  const slotOfSubject = (s: LimitSubject): Slot | undefined => {
    const known = slots.get(s)
    if (known !== undefined) return known
    const slot = slotOf(s.scope, s.id)
    if (slot !== undefined) slots.set(s, slot)
    return slot
  }
  const admit = (reservation: Reservation): Admission => {
    const found: Array<Subject> = []
    for (const s of reservation.subjects) {
      const slot = slotOfSubject(s)
      if (slot !== undefined)
        found.push({ scope: s.scope satisfies RateLimitScope, slot, limits: s.limits, budget: s.budget })
    }
    const result = withLocked(
      found.map((s) => s.slot),
      (current) =>
        admitLocked(
          found.filter((_, i) => current[i]),
          now(),
          reservation.tokens,
          reservation.cost ?? 0
        )
    )
    return result._tag === "Admitted"
      ? { _tag: "Admitted", handle: { _tag: "Memory", held: result.held }, headers: result.headers }
      : { _tag: "Rejected", reason: result.budget ?? rateLimited(result.refusal!), headers: result.headers }
  }
  const each = (handle: AdmissionHandle, f: (h: Held) => void) => {
    if (handle._tag !== "Memory") return
    for (const h of handle.held) {
      const s = h.slot
      lockSlot(s)
      try {
        if (s.i32[s.at + GEN] === s.gen) f(h)
      } finally {
        unlockSlot(s)
      }
    }
  }
  const immediate: ImmediateLimiter = {
    admit,
    settle: (handle, used) => each(handle, (h) => settleLocked(h, used)),
    release: (handle) => each(handle, releaseLocked)
  }
  return {
    immediate,
    admit: (reservation) => Effect.sync(() => admit(reservation)),
    settle: (handle, used) => Effect.sync(() => immediate.settle(handle, used)),
    release: (handle) => Effect.sync(() => immediate.release(handle)),
    seed: (seeds) =>
      Effect.sync(() => {
        for (const seed of seeds) {
          const slot = slotOf(seed.scope === "project" ? "project" : "key", seed.id)
          if (slot !== undefined) withLocked([slot], (current) => current[0] === true && seedLocked(slot, seed))
        }
      }),
    spend: (subjects) =>
      Effect.sync(() =>
        subjects.map((s) => {
          const at = now()
          const slot = slotOf(s.scope, s.id)
          const empty = { period: periodAt(s.budget.period, at), spent: 0, reserved: 0 }
          if (slot === undefined) return empty
          return withLocked([slot], (current) => (current[0] === true ? budgetViewOf(slot, s.budget, at) : empty))
        })
      )
  }
}

/** The subjects limiting one key, and whether any has a budget (its requests must then be measured and priced). */
export interface KeySubjects {
  readonly subjects: ReadonlyArray<LimitSubject>
  readonly budgeted: boolean
}

export interface RateLimiter {
  /**
   * The subjects limiting `key`: the key (its merged limits, its budget), its project (the
   * project's own limits and budget); undefined when none.
   */
  readonly subjectsOf: (key: ResolvedKey) => KeySubjects | undefined
  readonly store: LimiterStore
}

/** The limiter of a config snapshot over `store`. */
export const makeRateLimiter = (config: ResolvedConfig, store: LimiterStore): RateLimiter => {
  const subjects = new Map<string, KeySubjects>()
  for (const key of config.tenancy.keys.values()) {
    const list: Array<LimitSubject> = []
    if (hasLimits(key.limits) || key.budget !== undefined)
      list.push({ scope: "key", id: key.id, limits: key.limits, budget: key.budget })
    const project = config.tenancy.projects.get(key.projectId)
    const projectLimits = project?.limits
    const limited = projectLimits !== undefined && hasLimits(projectLimits)
    if (limited || project?.budget !== undefined)
      list.push({
        scope: "project",
        id: key.projectId,
        limits: limited ? projectLimits : NO_LIMITS,
        budget: project?.budget
      })
    if (list.length > 0) subjects.set(key.id, { subjects: list, budgeted: list.some((s) => s.budget !== undefined) })
  }
  return { subjectsOf: (key) => subjects.get(key.id), store }
}
