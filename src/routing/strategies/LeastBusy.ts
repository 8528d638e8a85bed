/**
 * `least_busy`: the candidate with the fewest requests in flight. Ties are broken by round-robin among
 * the tied candidates (the next `index` after the last target picked, wrapping), so equal load spreads
 * evenly instead of always landing on the first target. Deterministic; no randomness.
 */
import type { StrategyFactory, TargetView } from "../Strategy.ts"
import type { StrategyCells } from "../StrategyState.ts"
import { rotate } from "./RoundRobin.ts"

const pickLeastBusy = (cells: StrategyCells, candidates: ReadonlyArray<TargetView>): TargetView => {
  let least = Number.POSITIVE_INFINITY
  for (const c of candidates) if (c.inFlight < least) least = c.inFlight
  return rotate(cells, candidates, (c) => c.inFlight === least)
}

export const make: StrategyFactory = ({ state }) => ({ pick: (candidates) => state.locked(pickLeastBusy, candidates) })
