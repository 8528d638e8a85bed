// The `spend` of admin objects: filled in for budgeted keys and projects from the limiter store (one
// call for a whole page), left null for objects without a budget, and left null (not an error) when
// the store cannot be read.
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import type { AdminObject } from "../../../src/admin/AdminStore.ts"
import { budgetSpend, withSpend } from "../../../src/admin/BudgetSpend.ts"
import { gatewayError } from "../../../src/domain/GatewayError.ts"
import { periodAt } from "../../../src/limits/Budgets.ts"
import { type BudgetSubject, type LimiterStore, makeMemoryStore } from "../../../src/limits/RateLimiter.ts"
import { NO_LIMITS } from "../../../src/limits/RateLimits.ts"
import { localSlot, type Slot } from "../../../src/state/Slots.ts"

const NOW = Date.parse("2026-03-04T10:00:00Z")

const memory = () => {
  const slots = new Map<string, Slot>()
  const slotOf = (scope: string, id: string) => {
    const k = `${scope}:${id}`
    const s = slots.get(k) ?? localSlot()
    slots.set(k, s)
    return s
  }
  return makeMemoryStore(slotOf, () => NOW)
}

const key = (id: string, budget: unknown): AdminObject => ({ id, name: id, budget, spend: null, etag: `e-${id}` })

describe("admin spend", () => {
  it("shows the current period in USD with its start and reset; a total budget has neither", () => {
    expect(budgetSpend({ period: periodAt("monthly", NOW), spent: 1_234_567, reserved: 10 })).toEqual({
      spent_usd: 1.234567,
      reserved_usd: 0.00001,
      period_start: "2026-03-01T00:00:00.000Z",
      resets_at: "2026-04-01T00:00:00.000Z"
    })
    expect(budgetSpend({ period: periodAt("total", NOW), spent: 0, reserved: 0 })).toMatchObject({
      period_start: null,
      resets_at: null
    })
  })

  it("fills in budgeted objects of a page in one store call, from the budget each shows", async () => {
    const store = memory()
    const admitted = Effect.runSync(
      store.admit({
        subjects: [{ scope: "key", id: "k1", limits: NO_LIMITS, budget: { amountUsd: 1, period: "daily" } }],
        tokens: 0,
        cost: 250_000
      })
    )
    if (admitted._tag !== "Admitted") throw new Error("expected admission")
    Effect.runSync(store.settle(admitted.handle, { tokens: undefined, costPico: 100_000n * 1_000_000n }))
    const calls: Array<ReadonlyArray<BudgetSubject>> = []
    const counting: LimiterStore = {
      ...store,
      spend: (subjects) => {
        calls.push(subjects)
        return store.spend(subjects)
      }
    }
    const page = [
      key("k1", { amount_usd: 1, period: "daily" }),
      key("k2", null),
      key("k3", { amount_usd: 2, period: "total" })
    ]
    const shown = await Effect.runPromise(withSpend(counting, "key", page))
    expect(calls.map((c) => c.map((s) => s.id))).toEqual([["k1", "k3"]])
    expect(shown[0]).toEqual({
      ...page[0],
      spend: {
        spent_usd: 0.1,
        reserved_usd: 0,
        period_start: "2026-03-04T00:00:00.000Z",
        resets_at: "2026-03-05T00:00:00.000Z"
      }
    })
    expect(shown[1]).toBe(page[1])
    expect(shown[2]?.["spend"]).toEqual({ spent_usd: 0, reserved_usd: 0, period_start: null, resets_at: null })
    expect(shown.map((o) => o.etag)).toEqual(["e-k1", "e-k2", "e-k3"])
  })

  it("an unreadable store leaves spend null; no budget, no call", async () => {
    let called = 0
    const failing: LimiterStore = {
      ...memory(),
      spend: () => {
        called++
        return Effect.fail(gatewayError({ _tag: "Unavailable", message: "down" }))
      }
    }
    const page = [key("k1", { amount_usd: 1, period: "daily" })]
    expect(await Effect.runPromise(withSpend(failing, "key", page))).toEqual(page)
    expect(await Effect.runPromise(withSpend(failing, "project", [key("p", null)]))).toEqual([key("p", null)])
    expect(called).toBe(1)
  })
})
