/**
 * `round_robin`: rotates over the candidates, one request each in configured order. The position is
 * the `index` of the last target picked, not a position in the candidate array, so when a target is
 * unavailable the rotation carries on fairly over the ones left, and a target coming back rejoins at
 * its place in the order. The position is the model's, across every worker.
 */
import type { StrategyFactory, TargetView } from "../Strategy.ts"
import type { StrategyCells } from "../StrategyState.ts"

/**
 * The next target after the last one picked, in index order and wrapping, among the candidates
 * `eligible` keeps (all by default; at least one must be kept). Cell 0 holds the index of the last
 * target picked, plus one (0: none yet).
 */
export const rotate = (
  cells: StrategyCells,
  candidates: ReadonlyArray<TargetView>,
  eligible: (c: TargetView) => boolean = () => true
): TargetView => {
  const last = cells.get(0) - 1
  // One pass: the next eligible target after `last` in index order, else (wrapping) the lowest index.
  let lowest: TargetView | undefined
  let next: TargetView | undefined
  for (const c of candidates) {
    if (!eligible(c)) continue
    if (lowest === undefined || c.index < lowest.index) lowest = c
    if (c.index > last && (next === undefined || c.index < next.index)) next = c
  }
  const chosen = next ?? lowest ?? candidates[0]!
  cells.set(0, chosen.index + 1)
  return chosen
}

export const make: StrategyFactory = ({ state }) => ({ pick: (candidates) => state.locked(rotate, candidates) })
