import { describe, expect, it } from "vitest"
import type { TargetView } from "../../../../src/routing/Strategy.ts"
import { make } from "../../../../src/routing/strategies/Random.ts"
import { lcg, scripted } from "./random-sources.ts"
import { localStrategyState } from "../../../../src/routing/StrategyState.ts"

const view = (index: number, weight: number): TargetView => ({
  index,
  weight,
  inFlight: 0,
  latencyMs: undefined,
  successRate: 1
})

describe("Random", () => {
  it("maps the unit interval onto the candidates in proportion to their weights", () => {
    const weights = [1, 3]
    const { pick } = make({ weights, random: scripted([0, 0.2499, 0.25, 0.5, 0.9999]), state: localStrategyState(16) })
    const targets = [view(0, 1), view(1, 3)]
    expect(Array.from({ length: 5 }, () => pick(targets).index)).toEqual([0, 0, 1, 1, 1])
  })

  it("draws exactly one random number per pick", () => {
    let calls = 0
    const { pick } = make({
      weights: [1, 1],
      random: () => {
        calls++
        return 0.5
      },
      state: localStrategyState(16)
    })
    pick([view(0, 1), view(1, 1)])
    pick([view(1, 1)])
    expect(calls).toBe(2)
  })

  it("respects the weights over many picks", () => {
    const weights = [1, 2, 7]
    const { pick } = make({ weights, random: lcg(42), state: localStrategyState(16) })
    const targets = weights.map((w, i) => view(i, w))
    const counts = [0, 0, 0]
    const n = 100_000
    for (let i = 0; i < n; i++) counts[pick(targets).index]! += 1
    for (const [i, w] of weights.entries()) expect(counts[i]! / n).toBeCloseTo(w / 10, 2)
  })

  it("spreads over the available subset only, in proportion to their weights", () => {
    const weights = [1, 3, 6]
    const { pick } = make({ weights, random: scripted([0, 0.14, 0.15, 0.99]), state: localStrategyState(16) })
    // Target 1 unavailable: the subset's total is 7, so [0, 1/7) → 0 and [1/7, 1) → 2.
    const subset = [view(0, 1), view(2, 6)]
    expect(Array.from({ length: 4 }, () => pick(subset).index)).toEqual([0, 0, 2, 2])
  })

  it("supports non-integer weights", () => {
    const weights = [0.25, 0.75]
    const { pick } = make({ weights, random: lcg(7), state: localStrategyState(16) })
    const targets = weights.map((w, i) => view(i, w))
    let ones = 0
    const n = 40_000
    for (let i = 0; i < n; i++) if (pick(targets).index === 1) ones++
    expect(ones / n).toBeCloseTo(0.75, 2)
  })

  it("never falls off the end, even for a random value just below 1", () => {
    const { pick } = make({ weights: [0.1, 0.2], random: () => 1 - Number.EPSILON / 2, state: localStrategyState(16) })
    expect(pick([view(0, 0.1), view(1, 0.2)]).index).toBe(1)
  })
})
