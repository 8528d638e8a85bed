/**
 * The `spend` the admin API shows beside a key's or a project's `budget`: the budget's current
 * period (its start and reset, UTC), what its settled requests cost and what requests in flight
 * reserve, read from the answering worker's limiter store (`LimiterStore.spend`: the shared slots,
 * or Redis with `limits.redis`). The stores answer objects with `spend: null` (it is no part of
 * the stored form or the etag); the worker fills it in after, for the budget the object shows.
 * When the counters cannot be read (Redis unreachable) the objects keep `spend: null`: reading
 * or changing keys does not depend on the limiter store.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { BudgetSection } from "../config/Config.ts"
import { resolveBudget } from "../config/Tenancy.ts"
import type { components } from "../generated/openapi.ts"
import { type BudgetView, MICROS_PER_USD } from "../limits/Budgets.ts"
import type { CounterScope } from "../limits/CounterSlots.ts"
import type { BudgetSubject, LimiterStore } from "../limits/RateLimiter.ts"
import type { AdminObject } from "./AdminStore.ts"

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString())

/** A budget's current period as the admin API shows it. */
export const budgetSpend = (v: BudgetView): components["schemas"]["AdminBudgetSpend"] => ({
  spent_usd: v.spent / MICROS_PER_USD,
  reserved_usd: v.reserved / MICROS_PER_USD,
  period_start: v.period.end === undefined ? null : iso(v.period.start),
  resets_at: iso(v.period.end)
})

const isBudget = Schema.is(BudgetSection)

/**
 * `objects` (keys or projects, by `scope`) with each budgeted one's `spend` filled in, in one
 * store call; the others, and all of them when the store cannot be read, as they are.
 */
export const withSpend = (
  store: LimiterStore,
  scope: CounterScope,
  objects: ReadonlyArray<AdminObject>
): Effect.Effect<ReadonlyArray<AdminObject>> => {
  const asked: Array<{ readonly index: number; readonly subject: BudgetSubject }> = []
  objects.forEach((o, index) => {
    const shown = o["budget"]
    const budget = isBudget(shown) ? resolveBudget(shown) : undefined
    if (budget !== undefined && typeof o["id"] === "string")
      asked.push({ index, subject: { scope, id: o["id"], budget } })
  })
  if (asked.length === 0) return Effect.succeed(objects)
  return store.spend(asked.map((a) => a.subject)).pipe(
    Effect.map((views) => {
      const out = [...objects]
      asked.forEach((a, i) => {
        const view = views[i]
        if (view !== undefined) out[a.index] = { ...objects[a.index]!, spend: budgetSpend(view) }
      })
      return out
    }),
    Effect.catch(() => Effect.succeed(objects))
  )
}
