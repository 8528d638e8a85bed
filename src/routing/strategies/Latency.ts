/**
 * `latency`: response-aware balancing. Each candidate is scored
 *
 *     score = smoothed latency (EWMA, ms) × (in-flight + 1) / success rate
 *
 * and the lowest score wins, so a slow, busy or failing target gets less traffic. Candidates with no
 * latency sample yet go first (fewest in flight among them, then listed order), so new targets are
 * measured before they are judged. A target that is only scored would never be picked again once it
 * looked slow, and its stale latency could never recover; so with probability `EXPLORE` a pick goes
 * to a uniformly random candidate other than the best, keeping a trickle of samples flowing to every
 * target. Randomness comes from the injected source.
 */
import type { StrategyFactory, TargetView } from "../Strategy.ts"

/** Share of picks that go to a random candidate other than the best, to keep sampling the others. */
export const EXPLORE = 0.05

/** The score of a target with a latency sample; lower is better. */
export const score = (latencyMs: number, inFlight: number, successRate: number): number =>
  (latencyMs * (inFlight + 1)) / successRate

export const make: StrategyFactory = (options) => {
  const { random } = options
  const pick = (candidates: ReadonlyArray<TargetView>): TargetView => {
    const n = candidates.length
    if (n === 1) return candidates[0]!
    // One pass: the least busy unsampled candidate if any, else the lowest score (first on ties).
    let bestAt = 0
    let bestScore = Number.POSITIVE_INFINITY
    let unsampledAt = -1
    let unsampledInFlight = Number.POSITIVE_INFINITY
    for (let i = 0; i < n; i++) {
      const c = candidates[i]!
      if (c.latencyMs === undefined) {
        if (c.inFlight < unsampledInFlight) {
          unsampledAt = i
          unsampledInFlight = c.inFlight
        }
      } else {
        const s = score(c.latencyMs, c.inFlight, c.successRate)
        if (s < bestScore) {
          bestAt = i
          bestScore = s
        }
      }
    }
    if (unsampledAt >= 0) bestAt = unsampledAt
    if (random() < EXPLORE) {
      // Uniform over the n − 1 others: draw a slot in [0, n − 1) and skip over the best.
      const other = Math.min(Math.floor(random() * (n - 1)), n - 2)
      return candidates[other >= bestAt ? other + 1 : other]!
    }
    return candidates[bestAt]!
  }
  return { pick }
}
