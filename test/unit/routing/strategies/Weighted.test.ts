import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Strategy, TargetView } from "../../../../src/routing/Strategy.ts"
import { make } from "../../../../src/routing/strategies/Weighted.ts"
import { localStrategyState } from "../../../../src/routing/StrategyState.ts"

const view = (index: number, weight: number): TargetView => ({
  index,
  weight,
  inFlight: 0,
  latencyMs: undefined,
  successRate: 1
})
const targetsOf = (weights: ReadonlyArray<number>) => weights.map((w, i) => view(i, w))
const strategy = (weights: ReadonlyArray<number>): Strategy =>
  make({ weights, random: () => 0, state: localStrategyState(16) })
const picks = (s: Strategy, candidates: ReadonlyArray<TargetView>, n: number) =>
  Array.from({ length: n }, () => s.pick(candidates).index)
const sum = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0)
const harmonic = (k: number) => sum(Array.from({ length: k }, (_, i) => 1 / (i + 1)))

/**
 * Runs `cycles` whole cycles of smooth WRR over all targets and calls `check` after every pick with
 * the pick count n and each target's deficit scaled by W: `n·wᵢ − W·pᵢ` (an integer for integer
 * weights; positive = behind its share, negative = ahead of it).
 */
const walk = (
  weights: ReadonlyArray<number>,
  cycles: number,
  check: (n: number, scaledDeficit: ReadonlyArray<number>) => void
) => {
  const s = strategy(weights)
  const targets = targetsOf(weights)
  const W = sum(weights)
  const count = weights.map(() => 0)
  for (let n = 1; n <= cycles * W; n++) {
    count[s.pick(targets).index]! += 1
    check(
      n,
      weights.map((w, i) => n * w - W * count[i]!)
    )
  }
  return count
}

const weightsArb = fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 8 })

describe("Weighted (smooth weighted round-robin)", () => {
  it("interleaves instead of bursting (nginx's reference sequence for 5:1:1)", () => {
    const s = strategy([5, 1, 1])
    expect(picks(s, targetsOf([5, 1, 1]), 14)).toEqual([0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0])
  })

  it("splits by non-integer weights", () => {
    const s = strategy([0.5, 1.5])
    const seq = picks(s, targetsOf([0.5, 1.5]), 400)
    expect(seq.slice(0, 4)).toEqual([1, 0, 1, 1])
    expect(seq.filter((i) => i === 0).length).toBe(100)
  })

  it("splits evenly over what is left while a target is unavailable", () => {
    const weights = [1, 1, 2]
    const s = strategy(weights)
    picks(s, targetsOf(weights), 3)
    const seq = picks(s, [view(0, 1), view(1, 1)], 100)
    expect(seq.filter((i) => i === 0).length).toBe(50)
    // Never the same target twice in a row: smooth over the subset too.
    for (let i = 1; i < seq.length; i++) expect(seq[i]).not.toBe(seq[i - 1])
  })

  it("leaves an unavailable target's current weight alone: it rejoins where it left off", () => {
    // With one candidate the subset step adds and subtracts the same weight, so the state is
    // untouched; if the missing target gained weight while away it would be picked early on return.
    const weights = [3, 1]
    const reference = picks(strategy(weights), targetsOf(weights), 12)
    const s = strategy(weights)
    const before = picks(s, targetsOf(weights), 5)
    picks(s, [view(0, 3)], 7) // target 1 away
    const after = picks(s, targetsOf(weights), 7)
    expect([...before, ...after]).toEqual(reference)
  })

  it("returns to its exact split, without a burst, after a target leaves and comes back", () => {
    const weights = [2, 3, 5]
    const s = strategy(weights)
    const all = targetsOf(weights)
    picks(s, all, 7)
    picks(s, [view(0, 2), view(2, 5)], 13) // target 1 away
    const after = picks(s, all, 1000)
    const count = [0, 0, 0]
    after.forEach((index, n) => {
      count[index]! += 1
      // Within two requests of its share at every point after the return.
      for (const [i, w] of weights.entries()) expect(Math.abs(count[i]! - ((n + 1) * w) / 10)).toBeLessThanOrEqual(2)
    })
    expect(count).toEqual([200, 300, 500])
  })

  it("property: over any number of whole cycles each target is picked exactly weight × cycles times", () => {
    fc.assert(
      fc.property(weightsArb, fc.integer({ min: 1, max: 5 }), (weights, cycles) => {
        const count = walk(weights, cycles, () => {})
        expect(count).toEqual(weights.map((w) => w * cycles))
      })
    )
  })

  /*
   * The smoothness bound. Write rᵢ = wᵢ/W and dᵢ(n) = n·rᵢ − pᵢ(n), target i's deficit after n picks
   * (pᵢ picks so far; the current weight is cᵢ = W·dᵢ, and Σ dᵢ = 0). A pick chooses j maximising
   * dⱼ + rⱼ, then d ← d + r − e_j.
   *
   * Ahead of its share (dᵢ < 0): the chosen j ends at max(d + r) − 1 ≥ avg(d + r) − 1 = 1/k − 1, and
   * targets not chosen only gain. So pᵢ − n·wᵢ/W ≤ 1 − 1/k < 1, tight (k equal weights).
   *
   * Behind its share (dᵢ > 0) the "≤ 1" the issue asks for is NOT true for every weight vector once
   * k ≥ 5: weights [1, 1, 5, 20, 20] leave a target 50/47 ≈ 1.064 requests behind (test below), and
   * the worst case grows with k (≈ 1.28 at k = 8, weights ≤ 20, found by exhaustive search). What
   * holds is: for every set S of m targets, Σ_{i∈S} dᵢ ≤ Bₘ = m·(H_k − H_m), H the harmonic numbers.
   * Induction over picks (true at n = 0 as d = 0 ≤ Bₘ): if j ∈ S, Σ_S d changes by r_S − 1 ≤ 0. If
   * j ∉ S, dⱼ + rⱼ ≥ every term of S so ≥ their mean, hence Σ_S(d + r) ≤ m/(m+1)·Σ_{S∪j}(d + r)
   * ≤ m/(m+1)·(B_{m+1} + 1) = m·(H_k − H_{m+1}) + m/(m+1) = Bₘ. With m = 1:
   * pᵢ ≥ n·wᵢ/W − (H_k − 1), i.e. never more than H_k − 1 requests behind (0.5 for 2 targets,
   * 0.83 for 3, 1.72 for 8), independent of the weights.
   *
   * So the property asserts: −(H_k − 1) ≤ pᵢ − n·wᵢ/W ≤ 1 − 1/k at every prefix, plus the invariant
   * for every m; and |pᵢ − n·wᵢ/W| ≤ 1 for k ≤ 4, which the exhaustive search confirms for all
   * weight vectors in 1..20 (every order) though the general proof bound for k = 4 is 1.083.
   */
  it("property: at every prefix a target is less than one request ahead of its share and at most H_k − 1 behind", () => {
    fc.assert(
      fc.property(weightsArb, fc.integer({ min: 1, max: 3 }), (weights, cycles) => {
        const k = weights.length
        const W = sum(weights)
        const behind = W * (harmonic(k) - 1) + 1e-9
        walk(weights, cycles, (_, deficit) => {
          for (const d of deficit) {
            // Ahead: −d/W ≤ 1 − 1/k, in integers.
            expect(-d * k).toBeLessThanOrEqual(W * (k - 1))
            expect(d).toBeLessThanOrEqual(behind)
          }
        })
      })
    )
  })

  it("property: the m most-behind targets together are at most m·(H_k − H_m) requests behind", () => {
    fc.assert(
      fc.property(weightsArb, (weights) => {
        const k = weights.length
        const W = sum(weights)
        walk(weights, 1, (_, deficit) => {
          const sorted = [...deficit].sort((a, b) => b - a)
          let top = 0
          sorted.forEach((d, i) => {
            const m = i + 1
            top += d
            expect(top).toBeLessThanOrEqual(W * m * (harmonic(k) - harmonic(m)) + 1e-9)
          })
        })
      })
    )
  })

  it("property: with up to 4 targets no target is ever more than one request off its share", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 4 }), (weights) => {
        const W = sum(weights)
        walk(weights, 1, (_, deficit) => {
          for (const d of deficit) expect(Math.abs(d)).toBeLessThanOrEqual(W)
        })
      })
    )
  })

  it("is more than one request behind for some 5-target weights: why the property uses H_k − 1", () => {
    const weights = [1, 1, 5, 20, 20]
    let worst = 0
    walk(weights, 1, (_, deficit) => {
      for (const d of deficit) worst = Math.max(worst, d)
    })
    expect(worst).toBe(50) // 50/47 ≈ 1.064 requests behind its share
  })
})
