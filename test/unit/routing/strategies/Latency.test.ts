import { describe, expect, it } from "vitest"
import type { TargetView } from "../../../../src/routing/Strategy.ts"
import { EXPLORE, make, score } from "../../../../src/routing/strategies/Latency.ts"
import { lcg, scripted } from "./random-sources.ts"
import { localStrategyState } from "../../../../src/routing/StrategyState.ts"

const view = (index: number, stats: Partial<TargetView> = {}): TargetView => ({
  index,
  weight: 1,
  inFlight: 0,
  latencyMs: undefined,
  successRate: 1,
  ...stats
})

const noExplore = () => 0.5 // ≥ EXPLORE: always the best

/**
 * A stand-in for the gateway's live stats: each target has a true latency that the test controls,
 * and every completed request folds it into the target's EWMA, like the real stats do.
 */
const simulate = (trueLatencyMs: Array<number>, random: () => number) => {
  const alpha = 0.2
  const ewma: Array<number | undefined> = trueLatencyMs.map(() => undefined)
  const strategy = make({ weights: trueLatencyMs.map(() => 1), random, state: localStrategyState(16) })
  return {
    trueLatencyMs,
    /** Runs `n` sequential requests and returns how many each target served. */
    run: (n: number) => {
      const served = trueLatencyMs.map(() => 0)
      for (let r = 0; r < n; r++) {
        const chosen = strategy.pick(ewma.map((latencyMs, index) => view(index, { latencyMs })))
        const i = chosen.index
        const sample = trueLatencyMs[i]!
        const previous = ewma[i]
        ewma[i] = previous === undefined ? sample : previous + alpha * (sample - previous)
        served[i]! += 1
      }
      return served
    }
  }
}

describe("Latency", () => {
  it("scores latency × (in-flight + 1) / success rate", () => {
    expect(score(100, 0, 1)).toBe(100)
    expect(score(100, 1, 1)).toBe(200)
    expect(score(100, 1, 0.5)).toBe(400)
  })

  it("picks the lowest score", () => {
    const { pick } = make({ weights: [1, 1, 1], random: noExplore, state: localStrategyState(16) })
    expect(pick([view(0, { latencyMs: 300 }), view(1, { latencyMs: 100 }), view(2, { latencyMs: 200 })]).index).toBe(1)
  })

  it("sends less traffic to a busy target", () => {
    const { pick } = make({ weights: [1, 1], random: noExplore, state: localStrategyState(16) })
    // 100 ms with one in flight (200) loses to 150 ms idle (150).
    expect(pick([view(0, { latencyMs: 100, inFlight: 1 }), view(1, { latencyMs: 150 })]).index).toBe(1)
  })

  it("sends less traffic to a failing target", () => {
    const { pick } = make({ weights: [1, 1], random: noExplore, state: localStrategyState(16) })
    // 100 ms at 40 % success (250) loses to 200 ms at 100 % (200).
    expect(pick([view(0, { latencyMs: 100, successRate: 0.4 }), view(1, { latencyMs: 200 })]).index).toBe(1)
  })

  it("sends a target without a latency sample first, the least busy of them", () => {
    const { pick } = make({ weights: [1, 1, 1], random: noExplore, state: localStrategyState(16) })
    expect(pick([view(0, { latencyMs: 1 }), view(1), view(2)]).index).toBe(1)
    expect(pick([view(0, { latencyMs: 1 }), view(1, { inFlight: 2 }), view(2, { inFlight: 1 })]).index).toBe(2)
  })

  it("explores with probability EXPLORE, uniformly over the candidates other than the best", () => {
    const three = [view(0, { latencyMs: 300 }), view(1, { latencyMs: 100 }), view(2, { latencyMs: 200 })]
    const pickWith = (values: ReadonlyArray<number>) =>
      make({ weights: [1, 1, 1], random: scripted(values), state: localStrategyState(16) }).pick(three).index
    expect(pickWith([EXPLORE])).toBe(1) // not below EXPLORE: the best
    expect(pickWith([EXPLORE - 0.001, 0])).toBe(0) // first of the others
    expect(pickWith([EXPLORE - 0.001, 0.5])).toBe(2) // second of the others: skips the best
    expect(pickWith([EXPLORE - 0.001, 0.9999])).toBe(2)
  })

  it("draws no random number when there is a single candidate", () => {
    const { pick } = make({ weights: [1], random: scripted([]), state: localStrategyState(16) })
    expect(pick([view(0, { latencyMs: 10 })]).index).toBe(0)
  })

  it("gives a slow target about EXPLORE of the picks, so it keeps being sampled", () => {
    const sim = simulate([100, 1000], lcg(1))
    const served = sim.run(20_000)
    expect(served[1]! / 20_000).toBeGreaterThan(EXPLORE - 0.01)
    expect(served[1]! / 20_000).toBeLessThan(EXPLORE + 0.01)
  })

  it("splits the exploration evenly over the targets that are not the best", () => {
    const sim = simulate([100, 1000, 2000], lcg(2))
    const served = sim.run(40_000)
    expect(served[1]! / 40_000).toBeCloseTo(EXPLORE / 2, 2)
    expect(served[2]! / 40_000).toBeCloseTo(EXPLORE / 2, 2)
  })

  it("shifts picks away from a target that turns slow, and back once its latency recovers", () => {
    const sim = simulate([100, 100], lcg(3))
    sim.run(200) // warm up: both sampled
    sim.trueLatencyMs[0] = 2000 // target 0 turns slow
    sim.run(300) // its EWMA catches up
    const slow = sim.run(2000)
    expect(slow[0]! / 2000).toBeLessThan(EXPLORE + 0.02)
    sim.trueLatencyMs[0] = 20 // target 0 recovers, and is faster than target 1 now
    // Only the exploration samples it, which is enough to pull its EWMA down within a few hundred picks.
    sim.run(1000)
    const recovered = sim.run(2000)
    expect(recovered[0]! / 2000).toBeGreaterThan(1 - EXPLORE - 0.02)
  })
})
