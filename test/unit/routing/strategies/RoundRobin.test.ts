import { describe, expect, it } from "vitest"
import type { TargetView } from "../../../../src/routing/Strategy.ts"
import { make } from "../../../../src/routing/strategies/RoundRobin.ts"
import { localStrategyState } from "../../../../src/routing/StrategyState.ts"

const view = (index: number): TargetView => ({ index, weight: 1, inFlight: 0, latencyMs: undefined, successRate: 1 })
const all = [view(0), view(1), view(2)]
const options = { weights: [1, 1, 1], random: () => 0, state: localStrategyState(16) }
const pickIndices = (
  pick: (c: ReadonlyArray<TargetView>) => TargetView,
  candidates: ReadonlyArray<TargetView>,
  n: number
) => Array.from({ length: n }, () => pick(candidates).index)

describe("RoundRobin", () => {
  it("rotates over the candidates in configured order", () => {
    const { pick } = make({ ...options, state: localStrategyState(16) })
    expect(pickIndices(pick, all, 7)).toEqual([0, 1, 2, 0, 1, 2, 0])
  })

  it("keeps rotating fairly over what is left when a target is unavailable, and takes it back in its place", () => {
    const { pick } = make({ ...options, state: localStrategyState(16) })
    expect(pickIndices(pick, all, 2)).toEqual([0, 1])
    const without1 = [view(0), view(2)]
    expect(pickIndices(pick, without1, 4)).toEqual([2, 0, 2, 0])
    expect(pickIndices(pick, all, 4)).toEqual([1, 2, 0, 1])
  })

  it("moves on to the next target when a retry removes the one that failed", () => {
    const { pick } = make({ ...options, state: localStrategyState(16) })
    expect(pick(all).index).toBe(0)
    expect(pick([view(1), view(2)]).index).toBe(1) // retry after 0 failed
    expect(pick(all).index).toBe(2)
  })

  it("wraps to the lowest index when the last one picked is the highest available", () => {
    const { pick } = make({ ...options, state: localStrategyState(16) })
    expect(pickIndices(pick, [view(2)], 2)).toEqual([2, 2])
    expect(pickIndices(pick, all, 2)).toEqual([0, 1])
  })

  it("spreads picks evenly over any whole number of rounds", () => {
    const { pick } = make({ weights: [1, 1, 1, 1, 1], random: () => 0, state: localStrategyState(16) })
    const five = [0, 1, 2, 3, 4].map(view)
    const counts = [0, 0, 0, 0, 0]
    for (let i = 0; i < 500; i++) counts[pick(five).index]! += 1
    expect(counts).toEqual([100, 100, 100, 100, 100])
  })
})
