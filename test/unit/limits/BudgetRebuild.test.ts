// Budget spend rebuilt from the usage store: one spend query per scope and period start, seeds for
// subjects that spent something in their current period, only new or re-periodded budgets on a
// reload, and a store that cannot be read seeds nothing (logged).
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import type { ResolvedConfig } from "../../../src/config/Config.ts"
import { storeError } from "../../../src/domain/StoreError.ts"
import type { SpendScope, UsageStoreShape } from "../../../src/domain/UsageSeries.ts"
import { budgetSubjects, changedBudgets, rebuildSeeds } from "../../../src/limits/BudgetRebuild.ts"
import { periodAt } from "../../../src/limits/Budgets.ts"

const NOW = Date.parse("2026-03-04T10:00:00Z")

const config = (
  keys: Record<string, ResolvedConfig["tenancy"]["keys"] extends ReadonlyMap<string, infer K> ? Partial<K> : never>,
  projects: Record<
    string,
    Partial<ResolvedConfig["tenancy"]["projects"] extends ReadonlyMap<string, infer P> ? P : never>
  >
) =>
  ({
    tenancy: {
      keys: new Map(Object.entries(keys).map(([id, k]) => [id, { id, ...k }])),
      projects: new Map(Object.entries(projects).map(([id, p]) => [id, { id, ...p }]))
    }
  }) as unknown as ResolvedConfig

const store = (spend: Record<SpendScope, Record<string, number>>, queries: Array<string>): UsageStoreShape => ({
  description: "fake",
  writeBatch: () => Effect.succeed(0),
  series: () => Effect.succeed([]),
  spend: (scope, from) =>
    Effect.sync(() => {
      queries.push(`${scope}@${new Date(from).toISOString()}`)
      return new Map(Object.entries(spend[scope]))
    })
})

describe("rebuildSeeds", () => {
  const cfg = config(
    {
      k1: { budget: { amountUsd: 1, period: "daily" } },
      k2: { budget: { amountUsd: 1, period: "daily" } },
      k3: { budget: { amountUsd: 1, period: "monthly" } },
      k4: { budget: undefined }
    },
    { p1: { budget: { amountUsd: 10, period: "total" } } }
  )

  it("sums each budget's current period from the store: one query per scope and period start", async () => {
    const queries: Array<string> = []
    const seeds = await Effect.runPromise(
      rebuildSeeds(
        store({ key: { k1: 0.25, k3: 0.1234567, k4: 9 }, project: { p1: 3 } }, queries),
        budgetSubjects(cfg),
        NOW
      )
    )
    expect(queries.sort()).toEqual([
      "key@2026-03-01T00:00:00.000Z",
      "key@2026-03-04T00:00:00.000Z",
      "project@1970-01-01T00:00:00.000Z"
    ])
    expect(seeds).toEqual(
      expect.arrayContaining([
        { scope: "key", id: "k1", period: "daily", start: periodAt("daily", NOW).start, spent: 250_000 },
        { scope: "key", id: "k3", period: "monthly", start: periodAt("monthly", NOW).start, spent: 123_457 },
        { scope: "project", id: "p1", period: "total", start: 0, spent: 3_000_000 }
      ])
    )
    // k2 spent nothing, k4 has no budget: no seed.
    expect(seeds).toHaveLength(3)
  })

  it("on a reload: only budgets added or moved to another period", () => {
    const next = config(
      {
        k1: { budget: { amountUsd: 5, period: "daily" } },
        k2: { budget: { amountUsd: 1, period: "weekly" } },
        k3: { budget: { amountUsd: 1, period: "monthly" } },
        k4: { budget: { amountUsd: 1, period: "daily" } }
      },
      { p1: { budget: undefined } }
    )
    expect(changedBudgets(cfg, next).map((s) => s.id)).toEqual(["k2", "k4"])
  })

  it("a store that cannot be read seeds nothing", async () => {
    const failing: UsageStoreShape = {
      ...store({ key: {}, project: {} }, []),
      spend: () => Effect.fail(storeError({ _tag: "Unreachable", message: "connection refused" }))
    }
    expect(await Effect.runPromise(rebuildSeeds(failing, budgetSubjects(cfg), NOW))).toEqual([])
  })
})
