/**
 * `round_robin`: rotates over the candidates, one request each in configured order. The position is
 * the `index` of the last target picked, not a position in the candidate array, so when a target is
 * unavailable the rotation carries on fairly over the ones left, and a target coming back rejoins at
 * its place in the order. The position is the model's, across every worker.
 */
import type { StrategyFactory, TargetView } from "../Strategy.ts"
import type { StrategyCells } from "../StrategyState.ts"

/** Cell 0 holds the index of the last target picked, plus one (0: none yet). */
const pickNext = (cells: StrategyCells, candidates: ReadonlyArray<TargetView>): TargetView => {
  const last = cells.get(0) - 1
  // One pass: the next target after `last` in index order, else (wrapping) the lowest index.
  let lowest = candidates[0]!
  let next: TargetView | undefined
  for (const c of candidates) {
    if (c.index < lowest.index) lowest = c
    if (c.index > last && (next === undefined || c.index < next.index)) next = c
  }
  const chosen = next ?? lowest
  cells.set(0, chosen.index + 1)
  return chosen
}

export const make: StrategyFactory = ({ state }) => ({ pick: (candidates) => state.locked(pickNext, candidates) })
