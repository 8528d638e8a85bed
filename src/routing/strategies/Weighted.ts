/**
 * `weighted`: smooth weighted round-robin (nginx's algorithm). Each pick adds every candidate's weight
 * to its current value, picks the largest, and subtracts the candidates' total weight from the one
 * picked. Over each cycle of `W` picks (W = total weight) every target is picked exactly `weight`
 * times, and the picks are interleaved rather than bursty: at every point target i has between
 * `n·wᵢ/W − (H_k − 1)` and `n·wᵢ/W + (1 − 1/k)` picks (k targets, H_k the k-th harmonic number;
 * proof in test/unit/routing/strategies/Weighted.test.ts).
 *
 * Current values are kept per target `index`, in the model's shared state (one sequence across
 * every worker). When the candidates are a subset (a target unavailable,
 * or removed for a retry) the algorithm runs over the subset only: the missing targets neither gain
 * nor lose current weight, so they rejoin where they left off. Weights may be any numbers > 0.
 */
import type { StrategyFactory, TargetView } from "../Strategy.ts"
import type { StrategyCells } from "../StrategyState.ts"

/** Cell `1 + index` holds target `index`'s current weight. */
const pickSmooth = (cells: StrategyCells, candidates: ReadonlyArray<TargetView>): TargetView => {
  let total = 0
  let chosen = candidates[0]!
  let best = Number.NEGATIVE_INFINITY
  for (const c of candidates) {
    const value = cells.get(1 + c.index) + c.weight
    cells.set(1 + c.index, value)
    total += c.weight
    if (value > best) {
      best = value
      chosen = c
    }
  }
  cells.set(1 + chosen.index, best - total)
  return chosen
}

export const make: StrategyFactory = ({ state }) => ({ pick: (candidates) => state.locked(pickSmooth, candidates) })
