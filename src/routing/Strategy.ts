/**
 * The load-balancing strategy contract. A strategy picks one target among the candidates that are
 * available right now (breaker not open, capacity left), reading each candidate's live stats. One
 * strategy instance exists per model per config snapshot in each worker; a strategy with state
 * (round-robin position, smooth-weighted current weights) keeps it in the model's StrategyState,
 * shared by every worker and kept across reloads while the model's targets stay the same. Picking
 * is synchronous and allocation-free on the request path; randomness comes from the injected
 * source so tests are deterministic.
 */
import type { StrategyState } from "./StrategyState.ts"

/** A live, read-only view of one target, as strategies see it. */
export interface TargetView {
  /** Position of the target in the model's configured `targets` list (stable per snapshot). */
  readonly index: number
  /** Configured weight (default 1, > 0). */
  readonly weight: number
  /** Requests currently in flight on this target. */
  readonly inFlight: number
  /** Smoothed latency in ms (EWMA); `undefined` until the first sample. */
  readonly latencyMs: number | undefined
  /** Smoothed success rate in (0, 1]; 1 until samples say otherwise. */
  readonly successRate: number
}

export interface Strategy {
  /**
   * Picks one of `candidates` (non-empty, in configured order). Returns the chosen element.
   * Called once per attempt; a retry calls it again with the failed target removed.
   */
  readonly pick: (candidates: ReadonlyArray<TargetView>) => TargetView
}

export interface StrategyOptions {
  /** The model's targets' weights, by `index`. */
  readonly weights: ReadonlyArray<number>
  /** Uniform random numbers in [0, 1). */
  readonly random: () => number
  /** The model's shared state: cell 0 and one cell per target (`1 + index`). */
  readonly state: StrategyState
}

export type StrategyFactory = (options: StrategyOptions) => Strategy
