/**
 * The usage store's port: where the owner's writer (UsageWriter.ts) puts usage records in batches
 * and where the admin API's usage report reads time series. Two adapters: SQLite beside the config
 * file in file mode (SqliteUsageStore.ts, over the runtime's built-in driver) and Postgres in
 * Postgres mode (store/postgres/PostgresUsageStore.ts). Both keep the raw records and a rollup per
 * minute per (key, project, user, model, provider), updated in the same transaction as the raw
 * insert and only by records that were new, so a retried batch never counts twice; hour and day
 * series sum the minute rollups in the query, and no read scans the raw records.
 *
 * The contract's types live in domain/UsageSeries.ts, so the Postgres adapter (a sibling folder)
 * can implement it without importing this one.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import { type StoreError, storeError } from "../domain/StoreError.ts"
import type { UsageStoreShape } from "../domain/UsageSeries.ts"

export type {
  SpendScope,
  UsageFilters,
  UsageGroupBy,
  UsageInterval,
  UsageSeriesPoint,
  UsageSeriesQuery,
  UsageStoreShape
} from "../domain/UsageSeries.ts"

export class UsageStore extends Context.Service<UsageStore, UsageStoreShape>()("llmgate/UsageStore") {}

/**
 * A store opened on first use and re-opened after a failed open: the gateway starts (and records
 * are buffered) even while the database cannot be opened, and the writer's retries open it once it
 * can. `open` runs at most once at a time. The database stays open until the scope `lazyStore` was
 * built in closes, after everything built later in it (the writer's final flush).
 */
export const lazyStore = (
  description: string,
  open: Effect.Effect<UsageStoreShape, StoreError, Scope.Scope>
): Effect.Effect<UsageStoreShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    // The database's home scope is made now, not at the first open: it then closes after whatever
    // was built after the store (the writer's last flush at shutdown), however late the first open.
    const scope = yield* Scope.fork(yield* Effect.scope)
    const lock = yield* Semaphore.make(1)
    let opened: UsageStoreShape | undefined
    // Each attempt in a scope of its own, closed when it fails: a half-opened database is not kept.
    const attempt = Effect.gen(function* () {
      const child = yield* Scope.fork(scope)
      const store = yield* open.pipe(
        Scope.provide(child),
        Effect.onError((cause) => Scope.close(child, Exit.failCause(cause)))
      )
      opened = store
      return store
    })
    const get = Effect.suspend(() =>
      opened !== undefined
        ? Effect.succeed(opened)
        : Semaphore.withPermit(
            lock,
            Effect.suspend(() => (opened !== undefined ? Effect.succeed(opened) : attempt))
          )
    )
    const store: UsageStoreShape = {
      description,
      writeBatch: (records) => Effect.flatMap(get, (s) => s.writeBatch(records)),
      series: (query) => Effect.flatMap(get, (s) => s.series(query)),
      spend: (scope, from) => Effect.flatMap(get, (s) => s.spend(scope, from))
    }
    return store
  })

/** A store that keeps nothing and answers empty series (usage storage switched off). */
export const discardStore: UsageStoreShape = {
  description: "nowhere (usage storage is off)",
  writeBatch: (records) => Effect.succeed(records.length),
  series: () => Effect.succeed([]),
  spend: () => Effect.succeed(new Map())
}

/** A driver failure as a StoreError. */
export const queryError = (what: string, cause: unknown): StoreError =>
  storeError({ _tag: "Query", message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}` })
