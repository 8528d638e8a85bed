import { describe, expect, expectTypeOf, it } from "vitest"
import { StrategyName } from "../../../../src/domain/StrategyName.ts"
import type { components } from "../../../../src/generated/openapi.ts"
import type { TargetView } from "../../../../src/routing/Strategy.ts"
import { makeStrategy, strategies } from "../../../../src/routing/strategies/index.ts"
import { localStrategyState } from "../../../../src/routing/StrategyState.ts"

const view = (index: number): TargetView => ({ index, weight: 1, inFlight: 0, latencyMs: 10, successRate: 1 })
// The names the config accepts (the schema's literal set): the registry must cover exactly these.
const names: ReadonlyArray<StrategyName> = StrategyName.literals

describe("strategies", () => {
  it("has a factory for every strategy name", () => {
    expect(Object.keys(strategies).sort()).toEqual([...names].sort())
    // …and the spec's enum (GET /health/detailed reports a model's strategy) names the same ones.
    expectTypeOf<StrategyName>().toEqualTypeOf<components["schemas"]["HealthDetailed"]["models"][number]["strategy"]>()
  })

  it.each(names)("%s picks one of the candidates", (name) => {
    const candidates = [view(0), view(1), view(2)]
    const strategy = makeStrategy(name, { weights: [1, 1, 1], random: () => 0.5, state: localStrategyState(16) })
    for (let i = 0; i < 10; i++) expect(candidates).toContain(strategy.pick(candidates))
    expect(strategy.pick([view(1)]).index).toBe(1)
  })

  it("gives every model its own state", () => {
    const options = { weights: [1, 1], random: () => 0.5, state: localStrategyState(16) }
    const a = makeStrategy("round_robin", { ...options, state: localStrategyState(16) })
    const b = makeStrategy("round_robin", { ...options, state: localStrategyState(16) })
    const candidates = [view(0), view(1)]
    expect(a.pick(candidates).index).toBe(0)
    expect(b.pick(candidates).index).toBe(0)
  })
})
