/**
 * Live health of each target (provider + upstream model): its circuit breaker, requests in flight,
 * smoothed latency and success rate. Kept in a registry that outlives config reloads, so a reload
 * does not forget that a target is failing. Breaker transitions are queued here and drained by the
 * dispatcher, which logs and publishes them (events for metrics).
 */
import type { ResolvedProvider } from "../config/Config.ts"
import { type BreakerSettings, type BreakerTransition, type CircuitBreaker, make as makeBreaker } from "./CircuitBreaker.ts"

/** Weight of the newest sample in the smoothed latency. */
export const LATENCY_ALPHA = 0.3
/** Weight of the newest outcome in the smoothed success rate. */
export const SUCCESS_ALPHA = 0.2
/** The success rate never drops below this, so a failing target's latency score stays finite. */
export const MIN_SUCCESS_RATE = 0.05

export interface TargetHealth {
  readonly key: string
  readonly provider: string
  readonly model: string
  readonly settings: BreakerSettings
  readonly breaker: CircuitBreaker
  inFlight: number
  /** Smoothed latency in ms (EWMA); undefined until the first sample. */
  latencyMs: number | undefined
  /** Smoothed success rate in [MIN_SUCCESS_RATE, 1]. */
  successRate: number
}

export const recordSuccess = (health: TargetHealth, latencyMs: number): void => {
  health.latencyMs = health.latencyMs === undefined ? latencyMs : health.latencyMs + LATENCY_ALPHA * (latencyMs - health.latencyMs)
  health.successRate = health.successRate + SUCCESS_ALPHA * (1 - health.successRate)
}

export const recordFailure = (health: TargetHealth, latencyMs: number): void => {
  // A failure took time too: count it so a target that fails slowly also looks slow.
  health.latencyMs = health.latencyMs === undefined ? latencyMs : health.latencyMs + LATENCY_ALPHA * (latencyMs - health.latencyMs)
  health.successRate = Math.max(MIN_SUCCESS_RATE, health.successRate * (1 - SUCCESS_ALPHA))
}

export interface HealthRegistry {
  /** The health of `provider` serving `model`, created on first use (or when its breaker settings change). */
  readonly get: (provider: ResolvedProvider, model: string) => TargetHealth
  readonly all: () => Iterable<TargetHealth>
  /** Breaker transitions since the last call. */
  readonly takeTransitions: () => ReadonlyArray<BreakerTransition>
  /** Whether there are transitions to take (cheap, checked on every attempt). */
  readonly hasTransitions: () => boolean
}

const sameSettings = (a: BreakerSettings, b: BreakerSettings): boolean =>
  a.failureRate === b.failureRate && a.minRequests === b.minRequests && a.windowMs === b.windowMs && a.cooldownMs === b.cooldownMs

export const makeHealthRegistry = (): HealthRegistry => {
  const targets = new Map<string, TargetHealth>()
  let transitions: Array<BreakerTransition> = []
  const onTransition = (t: BreakerTransition) => {
    transitions.push(t)
  }
  return {
    get: (provider, model) => {
      const key = `${provider.name}/${model}`
      const found = targets.get(key)
      if (found !== undefined && sameSettings(found.settings, provider.breaker)) return found
      const health: TargetHealth = {
        key,
        provider: provider.name,
        model,
        settings: provider.breaker,
        breaker: makeBreaker(key, provider.breaker, onTransition),
        inFlight: found?.inFlight ?? 0,
        latencyMs: found?.latencyMs,
        successRate: found?.successRate ?? 1
      }
      targets.set(key, health)
      return health
    },
    all: () => targets.values(),
    hasTransitions: () => transitions.length > 0,
    takeTransitions: () => {
      if (transitions.length === 0) return []
      const out = transitions
      transitions = []
      return out
    }
  }
}
