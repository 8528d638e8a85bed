/**
 * BreakerSettings: what a provider's `breaker` config section resolves to (config/loadConfig.ts)
 * and what each target's circuit breaker runs with (routing/CircuitBreaker.ts), with the defaults
 * the config falls back to.
 */

export interface BreakerSettings {
  /** Failure rate in (0, 1] at which a closed breaker opens. */
  readonly failureRate: number
  /** Samples the window must hold before the failure rate is trusted. */
  readonly minRequests: number
  /** Length of the sliding window, ms. */
  readonly windowMs: number
  /** Time an open breaker waits before letting a probe through, ms. */
  readonly cooldownMs: number
}

/** `breaker: { failure_rate: 0.5, min_requests: 10, window: 30s, cooldown: 30s }` */
export const DEFAULT_BREAKER: BreakerSettings = {
  failureRate: 0.5,
  minRequests: 10,
  windowMs: 30_000,
  cooldownMs: 30_000
}
