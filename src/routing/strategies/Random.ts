/**
 * `random`: weighted random. Each candidate is picked with probability weight / (total weight of the
 * candidates), drawing one number from the injected `random` source per pick. The total of all the
 * model's weights is computed once, so a pick over the full target set is a single pass; a subset
 * (a target unavailable) costs one more pass to sum its weights.
 */
import type { StrategyFactory, TargetView } from "../Strategy.ts"

export const make: StrategyFactory = (options) => {
  const { random, weights } = options
  const fullTotal = weights.reduce((sum, w) => sum + w, 0)
  const pick = (candidates: ReadonlyArray<TargetView>): TargetView => {
    let total = fullTotal
    // Candidates are distinct targets of the model, so the same count means the full set.
    if (candidates.length !== weights.length) {
      total = 0
      for (const c of candidates) total += c.weight
    }
    let x = random() * total
    for (const c of candidates) {
      x -= c.weight
      if (x < 0) return c
    }
    // Only reachable through floating-point rounding at the very top of the range.
    return candidates[candidates.length - 1]!
  }
  return { pick }
}
