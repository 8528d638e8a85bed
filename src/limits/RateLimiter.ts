/**
 * The rate limiter of one config snapshot: which limits apply to a virtual key (its own, merged
 * over its project's field by field, and its project's on the project as a whole), and the store
 * that admits, settles and releases requests against them.
 *
 * The store's interface is the one a Redis store implements with one atomic Lua script per call:
 * `admit(reservation) → Admitted { handle, headers } | Rejected { reason, headers }`,
 * `settle(handle, actualTokens)`, `release(handle)`. The memory store here keeps the counters in
 * the shared slots (limits/CounterSlots.ts): the key's and the project's slots are locked in that
 * fixed order for one admission, so it is exact across worker threads and atomic across both.
 *
 * A key without limits whose project has none costs nothing: `subjectsOf` answers undefined from
 * a map built once per snapshot, and the request path skips admission and headers altogether.
 */
import * as Effect from "effect/Effect"
import type { ResolvedConfig, ResolvedKey, ResolvedLimits } from "../config/Config.ts"
import type { GatewayError, GatewayErrorReason, RateLimitScope } from "../domain/GatewayError.ts"
import { GEN, lockSlot, type Slot, unlockSlot } from "../state/Slots.ts"
import type { CounterScope } from "./CounterSlots.ts"
import {
  admitLocked,
  hasLimits,
  type Held,
  type LimitHeaders,
  type Refusal,
  releaseLocked,
  settleLocked,
  type Subject
} from "./RateLimits.ts"

/** A subject of a reservation, by name: the store finds its counters. */
export interface LimitSubject {
  readonly scope: CounterScope
  readonly id: string
  readonly limits: ResolvedLimits
}

/** What one request asks of its subjects: one request, and `tokens` reserved. */
export interface Reservation {
  readonly subjects: ReadonlyArray<LimitSubject>
  readonly tokens: number
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
    }
  /** Admitted without counting (the store could not be reached, `on_error: fail_open`): nothing to settle. */
  | { readonly _tag: "Uncounted" }

export type Admission =
  | { readonly _tag: "Admitted"; readonly handle: AdmissionHandle; readonly headers: LimitHeaders }
  | {
      readonly _tag: "Rejected"
      readonly reason: Extract<GatewayErrorReason, { readonly _tag: "RateLimited" }>
      readonly headers: LimitHeaders
    }

/** Where the counters live: shared memory (one machine, exact across workers) or Redis (exact across replicas). */
export interface LimiterStore {
  /**
   * Checks every limit of every subject and counts the request in all of them, atomically. Fails
   * only when the counters cannot be reached and the store's policy refuses (Redis `fail_closed`).
   */
  readonly admit: (reservation: Reservation) => Effect.Effect<Admission, GatewayError>
  /** Settles the tokens reserved to `actualTokens` (if never called, the reservation stands). */
  readonly settle: (handle: AdmissionHandle, actualTokens: number) => Effect.Effect<void>
  /** The request ended (however it ended): its share of `max_parallel` is given back. */
  readonly release: (handle: AdmissionHandle) => Effect.Effect<void>
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
  const admit = (reservation: Reservation): Admission => {
    const found: Array<Subject> = []
    for (const s of reservation.subjects) {
      const slot = slotOf(s.scope, s.id)
      if (slot !== undefined) found.push({ scope: s.scope satisfies RateLimitScope, slot, limits: s.limits })
    }
    const result = withLocked(
      found.map((s) => s.slot),
      (current) =>
        admitLocked(
          found.filter((_, i) => current[i]),
          now(),
          reservation.tokens
        )
    )
    return result._tag === "Admitted"
      ? { _tag: "Admitted", handle: { _tag: "Memory", held: result.held }, headers: result.headers }
      : { _tag: "Rejected", reason: rateLimited(result.refusal), headers: result.headers }
  }
  const each = (handle: AdmissionHandle, f: (h: Held) => void) => {
    if (handle._tag !== "Memory") return
    for (const h of handle.held) withLocked([h.slot], (current) => current[0] === true && f(h))
  }
  return {
    admit: (reservation) => Effect.sync(() => admit(reservation)),
    settle: (handle, actualTokens) => Effect.sync(() => each(handle, (h) => settleLocked(h, actualTokens))),
    release: (handle) => Effect.sync(() => each(handle, releaseLocked))
  }
}

export interface RateLimiter {
  /** The subjects limiting `key`: the key (its merged limits), its project (the project's own); undefined when none. */
  readonly subjectsOf: (key: ResolvedKey) => ReadonlyArray<LimitSubject> | undefined
  readonly store: LimiterStore
}

/** The limiter of a config snapshot over `store`. */
export const makeRateLimiter = (config: ResolvedConfig, store: LimiterStore): RateLimiter => {
  const subjects = new Map<string, ReadonlyArray<LimitSubject>>()
  for (const key of config.tenancy.keys.values()) {
    const list: Array<LimitSubject> = []
    if (hasLimits(key.limits)) list.push({ scope: "key", id: key.id, limits: key.limits })
    const project = config.tenancy.projects.get(key.projectId)?.limits
    if (project !== undefined && hasLimits(project)) list.push({ scope: "project", id: key.projectId, limits: project })
    if (list.length > 0) subjects.set(key.id, list)
  }
  return { subjectsOf: (key) => subjects.get(key.id), store }
}
