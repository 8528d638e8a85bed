/**
 * Budget spend rebuilt from the usage store: which keys and projects have a budget, which of them a
 * new config adds or moves to another period, and each one's spend in its current period summed
 * from the store's minute rollups (`UsageStoreShape.spend`, one query per scope and period kind).
 * The owner computes these seeds at start (before any worker serves) and for budgets a reload adds
 * or changes; every worker hands them to its limiter store (`LimiterStore.seed`), which applies a
 * seed only where its counters do not hold that period yet (in Redis: only where Redis holds no
 * count, Redis being the truth across replicas), so seeding twice never counts twice.
 *
 * What it cannot see: records not yet written (the usage writer's buffer, up to
 * `usage.flush_interval` behind; at start after a crash, whatever the crash lost), and nothing at
 * all when usage storage is off (spend then starts at 0 at every start: warned once).
 */
import * as Effect from "effect/Effect"
import type { ResolvedBudget, ResolvedConfig } from "../config/Config.ts"
import type { SpendScope, UsageStoreShape } from "../domain/UsageSeries.ts"
import { type BudgetSeed, MICROS_PER_USD, periodAt } from "./Budgets.ts"

/** A key or project with a budget. */
export interface BudgetSubject {
  readonly scope: SpendScope
  readonly id: string
  readonly budget: ResolvedBudget
}

/** Every key and project of `config` that has a budget. */
export const budgetSubjects = (config: ResolvedConfig): ReadonlyArray<BudgetSubject> => [
  ...[...config.tenancy.keys.values()].flatMap((k) =>
    k.budget === undefined ? [] : [{ scope: "key" as const, id: k.id, budget: k.budget }]
  ),
  ...[...config.tenancy.projects.values()].flatMap((p) =>
    p.budget === undefined ? [] : [{ scope: "project" as const, id: p.id, budget: p.budget }]
  )
]

/**
 * The budgets of `next` that `previous` did not count in the same kind of period: new ones, and
 * ones whose period changed (an amount changed alone keeps its spend and needs no seed).
 */
export const changedBudgets = (previous: ResolvedConfig, next: ResolvedConfig): ReadonlyArray<BudgetSubject> => {
  const before = new Map(budgetSubjects(previous).map((s) => [`${s.scope}:${s.id}`, s.budget.period]))
  return budgetSubjects(next).filter((s) => before.get(`${s.scope}:${s.id}`) !== s.budget.period)
}

/**
 * Each subject's spend in its period at `now`, from `store`. Subjects that spent nothing get no
 * seed (their counters start empty anyway). A store that cannot be read is logged and seeds
 * nothing: spend then starts from what the counters hold.
 */
export const rebuildSeeds = (
  store: UsageStoreShape,
  subjects: ReadonlyArray<BudgetSubject>,
  now: number
): Effect.Effect<ReadonlyArray<BudgetSeed>> => {
  const groups = new Map<
    string,
    { readonly scope: SpendScope; readonly start: number; members: Array<BudgetSubject> }
  >()
  for (const s of subjects) {
    const start = periodAt(s.budget.period, now).start
    const group = `${s.scope}:${start}`
    const found = groups.get(group)
    if (found === undefined) groups.set(group, { scope: s.scope, start, members: [s] })
    else found.members.push(s)
  }
  return Effect.forEach([...groups.values()], (g) =>
    store.spend(g.scope, g.start).pipe(
      Effect.map((spent) =>
        g.members.flatMap((s): ReadonlyArray<BudgetSeed> => {
          const usd = spent.get(s.id) ?? 0
          return usd > 0
            ? [
                {
                  scope: s.scope,
                  id: s.id,
                  period: s.budget.period,
                  start: g.start,
                  spent: Math.round(usd * MICROS_PER_USD)
                }
              ]
            : []
        })
      ),
      Effect.catch((e) =>
        Effect.as(
          Effect.logWarning(
            `budgets: the spend of ${g.members.length} ${g.scope === "key" ? "keys" : "projects"} could not be rebuilt from ${store.description} (${e.message}); they count from what their counters hold`
          ),
          []
        )
      )
    )
  ).pipe(Effect.map((lists) => lists.flat()))
}
