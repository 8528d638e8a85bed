/**
 * Live health of each target (provider + upstream model): its circuit breaker, requests in flight,
 * smoothed latency and success rate. Each target's health lives in one shared slot (state/Slots.ts),
 * so every worker thread balances on the same numbers: the in-flight count is the gateway's, the
 * latency EWMA (fixed point, µs) and success rate (fixed point, parts per million) are fed by every
 * worker's answers, and the breaker is one breaker. The registry maps a target to its slot: a
 * target's slot is kept across config reloads (a reload does not forget that a target is failing)
 * until its provider's breaker settings change. Breaker transitions are queued here and drained by
 * the dispatcher, which logs and publishes them (events for metrics).
 *
 * Slot layout: Int32 words 2–3 and Float64 words 4–27 are the breaker's (CircuitBreaker.ts); Int32
 * words 4–6 are the in-flight count, the latency and the failure rate; Float64 word 28 is when a
 * request last asked for the target (ms), by which the owner evicts the least recently used of a
 * pattern model's targets when there are `server.pattern_target_limit` of them.
 */
import * as Effect from "effect/Effect"
import type { ResolvedProvider } from "../config/Config.ts"
import type { BreakerSettings } from "../domain/BreakerSettings.ts"
import type { Holdings } from "../state/SlotAllocator.ts"
import { HOLD_IN_FLIGHT, localSlot, type Slot, withSlot } from "../state/Slots.ts"
import {
  BREAKER_LAST_FLOAT,
  type BreakerTransition,
  type CircuitBreaker,
  makeWithVerdict,
  repairBreaker
} from "./CircuitBreaker.ts"

/** Weight of the newest sample in the smoothed latency. */
export const LATENCY_ALPHA = 0.3
/** Weight of the newest outcome in the smoothed success rate. */
export const SUCCESS_ALPHA = 0.2
/** The success rate never drops below this, so a failing target's latency score stays finite. */
export const MIN_SUCCESS_RATE = 0.05

const IN_FLIGHT = 4
/** Smoothed latency in µs + 1 (0: no sample yet). */
const LATENCY = 5
/** 1 − success rate, in parts per million (0: every request succeeded). */
const FAILURE_PPM = 6
const MAX_LATENCY_US = 2 ** 31 - 2
/** Float64 word: when a request last asked for the target, ms (a plain store: an eviction hint, not a counter). */
const LAST_USED = BREAKER_LAST_FLOAT + 1
/** A use is recorded at most this often per target (fewer writes to a shared line; LRU to the second is enough). */
const TOUCH_EVERY_MS = 1_000

/** When a request last asked for the target in `slot` (0: never). */
export const lastUsedOf = (s: Slot): number => s.f64[s.fat + LAST_USED]!

/** Records a use of the target in `slot` at `now`. */
export const touchTarget = (s: Slot, now: number): void => {
  if (now - s.f64[s.fat + LAST_USED]! >= TOUCH_EVERY_MS) s.f64[s.fat + LAST_USED] = now
}

export interface TargetHealth {
  readonly key: string
  readonly provider: string
  readonly model: string
  readonly settings: BreakerSettings
  readonly breaker: CircuitBreaker
  /** Requests in flight on this target, across every worker. */
  readonly inFlight: () => number
  /** Smoothed latency in ms (EWMA); undefined until the first sample. */
  readonly latencyMs: () => number | undefined
  /** Smoothed success rate in [MIN_SUCCESS_RATE, 1]. */
  readonly successRate: () => number
  /** A request to this target starts / ends (counted in flight in between). */
  readonly begin: () => void
  readonly end: () => void
  /**
   * An answer (`ok`: success, or the request's own fault; otherwise a failure) after `latencyMs`,
   * at `now`: feeds the latency and success averages and gives the breaker its verdict when it
   * counts (the half-open probe's, `probe`; any while closed). With `end`, the request also stops
   * counting as in flight. One critical section for all of it.
   */
  readonly settle: (ok: boolean, latencyMs: number, now: number, probe: boolean, end: boolean) => void
}

const latencyOf = (s: Slot): number | undefined => {
  const v = Atomics.load(s.i32, s.at + LATENCY)
  return v === 0 ? undefined : (v - 1) / 1000
}
const successOf = (s: Slot): number => 1 - Atomics.load(s.i32, s.at + FAILURE_PPM) / 1_000_000

const smooth = (s: Slot, latencyMs: number, success: number): void => {
  const previous = latencyOf(s)
  const latency = previous === undefined ? latencyMs : previous + LATENCY_ALPHA * (latencyMs - previous)
  Atomics.store(s.i32, s.at + LATENCY, Math.min(MAX_LATENCY_US, Math.max(0, Math.round(latency * 1000))) + 1)
  Atomics.store(s.i32, s.at + FAILURE_PPM, Math.round((1 - success) * 1_000_000))
}

/** After a worker died: the in-flight count is what the live workers hold; then the breaker's repair. */
export const repairTarget = (s: Slot, held: Holdings): void => {
  Atomics.store(s.i32, s.at + IN_FLIGHT, held.inFlight)
  repairBreaker(s, held)
}

const nothing = (): void => undefined

/** The health of `provider` serving `model` over `slot` (a fresh slot of its own by default). */
export const makeTargetHealth = (
  key: string,
  provider: Pick<ResolvedProvider, "name" | "breaker">,
  model: string,
  onTransition: (t: BreakerTransition) => void,
  slot: Slot = localSlot()
): TargetHealth => {
  const count = (s: Slot, delta: number): void => {
    s.hold[s.hat + HOLD_IN_FLIGHT] = s.hold[s.hat + HOLD_IN_FLIGHT]! + delta
    Atomics.add(s.i32, s.at + IN_FLIGHT, delta)
  }
  const up = (s: Slot) => count(s, 1)
  const down = (s: Slot) => count(s, -1)
  const { breaker, verdictLocked, report } = makeWithVerdict(
    `${provider.name}/${model}`,
    provider.breaker,
    onTransition,
    slot
  )
  // The answer being settled, read by `settleLocked` (no closure per call on the request path).
  let ok = false
  let latency = 0
  let at = 0
  let probe = false
  let ending = false
  const settleLocked = (s: Slot): void => {
    const rate = successOf(s)
    // A failure took time too: it counts so that a target that fails slowly also looks slow.
    smooth(s, latency, ok ? rate + SUCCESS_ALPHA * (1 - rate) : Math.max(MIN_SUCCESS_RATE, rate * (1 - SUCCESS_ALPHA)))
    verdictLocked(at, !ok, probe)
    if (ending) count(s, -1)
  }
  return {
    key,
    provider: provider.name,
    model,
    settings: provider.breaker,
    breaker,
    inFlight: () => Atomics.load(slot.i32, slot.at + IN_FLIGHT),
    latencyMs: () => latencyOf(slot),
    successRate: () => successOf(slot),
    begin: () => withSlot(slot, up, nothing),
    end: () => withSlot(slot, down, nothing),
    settle: (answered, latencyMs, now, wasProbe, end) => {
      ok = answered
      latency = latencyMs
      at = now
      probe = wasProbe
      ending = end
      withSlot(slot, settleLocked, nothing)
      report()
    }
  }
}

/** The shared-state key of `provider` serving `model`; the breaker settings are part of it (new settings, a new breaker). */
export const targetKey = (provider: Pick<ResolvedProvider, "name" | "breaker">, model: string): string => {
  const b = provider.breaker
  return `target:${JSON.stringify([provider.name, model, b.failureRate, b.minRequests, b.windowMs, b.cooldownMs])}`
}

export interface HealthRegistry {
  /** The health of `provider` serving `model`, when it has a slot (a local registry makes one on first use). */
  readonly get: (provider: ResolvedProvider, model: string) => TargetHealth | undefined
  /**
   * The same, asking for a slot first when the target has none yet (a pattern model's new upstream
   * name); records the use, so the least recently used of those is the one evicted when they are too many.
   */
  readonly ensure: (provider: ResolvedProvider, model: string) => Effect.Effect<TargetHealth>
  readonly all: () => Iterable<TargetHealth>
  /** Breaker transitions since the last call. */
  readonly takeTransitions: () => ReadonlyArray<BreakerTransition>
  /** Whether there are transitions to take (cheap, checked on every attempt). */
  readonly hasTransitions: () => boolean
  /** Drops the handles of targets for which `keep` says no (they left the layout). */
  readonly prune: (keep: (key: string) => boolean) => void
  /** Drops the handles of these targets (evicted from the layout). */
  readonly forget: (keys: Iterable<string>) => void
}

/**
 * The registry over a slot source: `slotOf(key)` is the target's slot when it has one; `request`
 * asks for one (the owner answers by adding it to the layout); `now` stamps uses. Handles are made
 * once per slot, and live only as long as the layout has their key (`prune`, `forget`).
 */
export const makeHealthRegistryOver = (
  slotOf: (key: string) => Slot | undefined,
  request: (provider: ResolvedProvider, model: string) => Effect.Effect<void>,
  keys: () => Iterable<string>,
  now: () => number = Date.now
): HealthRegistry => {
  const handles = new Map<string, { readonly slot: Slot; readonly health: TargetHealth }>()
  let transitions: Array<BreakerTransition> = []
  const onTransition = (t: BreakerTransition) => {
    transitions.push(t)
  }
  const byKey = (
    key: string,
    provider: Pick<ResolvedProvider, "name" | "breaker">,
    model: string
  ): TargetHealth | undefined => {
    const slot = slotOf(key)
    if (slot === undefined) return undefined
    const found = handles.get(key)
    if (found !== undefined && found.slot.i32 === slot.i32 && found.slot.at === slot.at && found.slot.gen === slot.gen)
      return found.health
    const health = makeTargetHealth(key, provider, model, onTransition, slot)
    handles.set(key, { slot, health })
    return health
  }
  const get = (provider: ResolvedProvider, model: string) => byKey(targetKey(provider, model), provider, model)
  const used = (provider: ResolvedProvider, model: string): TargetHealth | undefined => {
    const found = get(provider, model)
    if (found !== undefined) touchTarget(handles.get(found.key)!.slot, now())
    return found
  }
  return {
    get,
    ensure: (provider, model) => {
      const found = used(provider, model)
      if (found !== undefined) return Effect.succeed(found)
      return Effect.map(
        request(provider, model),
        () =>
          // The owner refused (the provider left the config meanwhile), or the target was evicted
          // again before this request got it: a slot of this request's own.
          used(provider, model) ?? makeTargetHealth(targetKey(provider, model), provider, model, onTransition)
      )
    },
    all: function* () {
      for (const key of keys()) {
        const handle = handles.get(key)
        if (handle !== undefined) {
          const current = slotOf(key)
          if (
            current !== undefined &&
            current.gen === handle.slot.gen &&
            current.at === handle.slot.at &&
            current.i32 === handle.slot.i32
          ) {
            yield handle.health
            continue
          }
        }
        const parsed = parseTargetKey(key)
        if (parsed === undefined) continue
        const health = byKey(key, parsed.provider, parsed.model)
        if (health !== undefined) yield health
      }
    },
    hasTransitions: () => transitions.length > 0,
    prune: (keep) => {
      for (const key of handles.keys()) if (!keep(key)) handles.delete(key)
    },
    forget: (keys) => {
      for (const key of keys) handles.delete(key)
    },
    takeTransitions: () => {
      if (transitions.length === 0) return []
      const out = transitions
      transitions = []
      return out
    }
  }
}

/** A target key back into its provider name, upstream model and breaker settings. */
export const parseTargetKey = (
  key: string
): { readonly provider: Pick<ResolvedProvider, "name" | "breaker">; readonly model: string } | undefined => {
  if (!key.startsWith("target:")) return undefined
  const [name, model, failureRate, minRequests, windowMs, cooldownMs] = JSON.parse(key.slice("target:".length)) as [
    string,
    string,
    number,
    number,
    number,
    number
  ]
  return { provider: { name, breaker: { failureRate, minRequests, windowMs, cooldownMs } }, model }
}

/** A registry of its own, shared with nobody: every target gets a local slot on first use (tests, one-off use). */
export const makeHealthRegistry = (): HealthRegistry => {
  const slots = new Map<string, Slot>()
  const slotOf = (key: string) => {
    let slot = slots.get(key)
    if (slot === undefined) {
      slot = localSlot()
      slots.set(key, slot)
    }
    return slot
  }
  return makeHealthRegistryOver(
    slotOf,
    () => Effect.void,
    () => slots.keys()
  )
}
