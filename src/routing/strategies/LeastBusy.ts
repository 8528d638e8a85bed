/**
 * `least_busy`: the candidate with the fewest requests in flight. Ties are broken by round-robin among
 * the tied candidates (the next `index` after the last target picked, wrapping), so equal load spreads
 * evenly instead of always landing on the first target. Deterministic; no randomness.
 */
import type { StrategyFactory, TargetView } from "../Strategy.ts"
import type { StrategyCells } from "../StrategyState.ts"

/** Cell 0 holds the index of the last target picked, plus one (0: none yet). */
const pickLeastBusy = (cells: StrategyCells, candidates: ReadonlyArray<TargetView>): TargetView => {
  const last = cells.get(0) - 1
  // One pass, tracking among the least busy both the lowest index and the lowest index after `last`.
  let least = Number.POSITIVE_INFINITY
  let lowest = candidates[0]!
  let next: TargetView | undefined
  for (const c of candidates) {
    if (c.inFlight < least) {
      least = c.inFlight
      lowest = c
      next = c.index > last ? c : undefined
    } else if (c.inFlight === least) {
      if (c.index < lowest.index) lowest = c
      if (c.index > last && (next === undefined || c.index < next.index)) next = c
    }
  }
  const chosen = next ?? lowest
  cells.set(0, chosen.index + 1)
  return chosen
}

export const make: StrategyFactory = ({ state }) => ({ pick: (candidates) => state.locked(pickLeastBusy, candidates) })
