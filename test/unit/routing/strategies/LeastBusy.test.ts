import { describe, expect, it } from "vitest"
import type { TargetView } from "../../../../src/routing/Strategy.ts"
import { make } from "../../../../src/routing/strategies/LeastBusy.ts"
import { localStrategyState } from "../../../../src/routing/StrategyState.ts"

const view = (index: number, inFlight: number): TargetView => ({
  index,
  weight: 1,
  inFlight,
  latencyMs: undefined,
  successRate: 1
})
const options = { weights: [1, 1, 1], random: () => 0, state: localStrategyState(16) }

describe("LeastBusy", () => {
  it("picks the candidate with the fewest requests in flight", () => {
    const { pick } = make({ ...options, state: localStrategyState(16) })
    expect(pick([view(0, 3), view(1, 1), view(2, 2)]).index).toBe(1)
    expect(pick([view(0, 0), view(1, 1), view(2, 2)]).index).toBe(0)
    expect(pick([view(0, 5), view(1, 5), view(2, 4)]).index).toBe(2)
  })

  it("breaks ties by round-robin, so equal load spreads evenly", () => {
    const { pick } = make({ ...options, state: localStrategyState(16) })
    const idle = [view(0, 0), view(1, 0), view(2, 0)]
    expect(Array.from({ length: 6 }, () => pick(idle).index)).toEqual([0, 1, 2, 0, 1, 2])
  })

  it("rotates among the tied candidates only", () => {
    const { pick } = make({ ...options, state: localStrategyState(16) })
    const load = [view(0, 2), view(1, 0), view(2, 0)]
    expect(Array.from({ length: 4 }, () => pick(load).index)).toEqual([1, 2, 1, 2])
  })

  it("continues the rotation after the least busy set changes", () => {
    const { pick } = make({ ...options, state: localStrategyState(16) })
    expect(pick([view(0, 0), view(1, 0), view(2, 0)]).index).toBe(0)
    expect(pick([view(0, 1), view(1, 0), view(2, 0)]).index).toBe(1)
    expect(pick([view(0, 0), view(1, 1), view(2, 0)]).index).toBe(2)
    expect(pick([view(0, 0), view(1, 0), view(2, 1)]).index).toBe(0)
  })

  it("balances in-flight counts when requests pile up without completing", () => {
    const { pick } = make({ ...options, state: localStrategyState(16) })
    const inFlight = [0, 0, 0]
    for (let i = 0; i < 30; i++) {
      const chosen = pick(inFlight.map((n, index) => view(index, n)))
      inFlight[chosen.index]! += 1
    }
    expect(inFlight).toEqual([10, 10, 10])
  })
})
