/**
 * `round_robin`: rotates over the candidates, one request each in configured order. The position is
 * the `index` of the last target picked, not a position in the candidate array, so when a target is
 * unavailable the rotation carries on fairly over the ones left, and a target coming back rejoins at
 * its place in the order.
 */
import type { StrategyFactory, TargetView } from "../Strategy.ts"

export const make: StrategyFactory = () => {
  let last = -1
  const pick = (candidates: ReadonlyArray<TargetView>): TargetView => {
    // One pass: the next target after `last` in index order, else (wrapping) the lowest index.
    let lowest = candidates[0]!
    let next: TargetView | undefined
    for (const c of candidates) {
      if (c.index < lowest.index) lowest = c
      if (c.index > last && (next === undefined || c.index < next.index)) next = c
    }
    const chosen = next ?? lowest
    last = chosen.index
    return chosen
  }
  return { pick }
}
