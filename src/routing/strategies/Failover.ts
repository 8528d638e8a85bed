/**
 * `failover`: targets in listed order. Always the candidate with the lowest `index`; the candidates
 * are already filtered to available targets (breaker not open, capacity left), so the next target
 * only takes traffic while every one before it is unavailable, and traffic returns to the first as
 * soon as it is available again.
 */
import type { StrategyFactory, TargetView } from "../Strategy.ts"

const pick = (candidates: ReadonlyArray<TargetView>): TargetView => {
  let first = candidates[0]!
  for (const c of candidates) if (c.index < first.index) first = c
  return first
}

export const make: StrategyFactory = () => ({ pick })
