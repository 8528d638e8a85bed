import { describe, expect, it } from "vitest"
import type { TargetView } from "../../../../src/routing/Strategy.ts"
import { make } from "../../../../src/routing/strategies/Failover.ts"
import { localStrategyState } from "../../../../src/routing/StrategyState.ts"

const view = (index: number, inFlight = 0): TargetView => ({
  index,
  weight: 1,
  inFlight,
  latencyMs: undefined,
  successRate: 1
})
const options = { weights: [1, 1, 1], random: () => 0, state: localStrategyState(16) }

describe("Failover", () => {
  it("always picks the first listed target while it is available, however busy", () => {
    const { pick } = make({ ...options, state: localStrategyState(16) })
    for (let i = 0; i < 5; i++) expect(pick([view(0, 100), view(1), view(2)]).index).toBe(0)
  })

  it("moves to the next target only while the ones before it are unavailable, and back when they return", () => {
    const { pick } = make({ ...options, state: localStrategyState(16) })
    expect(pick([view(1), view(2)]).index).toBe(1)
    expect(pick([view(2)]).index).toBe(2)
    expect(pick([view(1), view(2)]).index).toBe(1)
    expect(pick([view(0), view(1), view(2)]).index).toBe(0)
  })

  it("goes by index, not by position in the candidate array", () => {
    const { pick } = make({ ...options, state: localStrategyState(16) })
    expect(pick([view(2), view(1)]).index).toBe(1)
  })
})
