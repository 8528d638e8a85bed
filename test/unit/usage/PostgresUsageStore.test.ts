/**
 * The Postgres usage store (migrations/0002_usage.sql) through the shared suite, on a fresh
 * database per test (test/support/postgres.ts: skipped with the reason when Postgres is
 * unreachable, failed under CI=true), plus a retried batch racing its first try.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type postgres from "postgres"
import { describe, expect, it, type TestContext } from "vitest"
import { connect, loadMigrationFiles, migrate } from "../../../src/store/postgres/Migrations.ts"
import * as PostgresUsageStore from "../../../src/store/postgres/PostgresUsageStore.ts"
import { withTestDatabase } from "../../support/postgres.ts"
import { type RawTotals, record, T0, usageStoreSuite } from "./usageStoreSuite.ts"

const open = async (ctx: TestContext): Promise<postgres.Sql> => {
  const db = await withTestDatabase(ctx)
  const scope = await Effect.runPromise(Scope.make())
  // Registered after the database's drop, so it runs first (vitest runs onTestFinished in reverse).
  ctx.onTestFinished(() => Effect.runPromise(Scope.close(scope, Exit.void)))
  return Effect.runPromise(
    Effect.gen(function* () {
      const sql = yield* connect(db.url, { max: 4 })
      yield* migrate(sql, yield* loadMigrationFiles())
      return sql
    }).pipe(Scope.provide(scope), Effect.provide(NodeFileSystem.layer))
  )
}

const totals = async (sql: postgres.Sql, table: "usage" | "usage_minute"): Promise<RawTotals> => {
  const [row] =
    table === "usage"
      ? await sql`select count(*)::float8 as requests, coalesce(sum(input_tokens), 0)::float8 as input,
        coalesce(sum(cache_read_tokens), 0)::float8 as cache_read, coalesce(sum(cache_write_tokens), 0)::float8 as cache_write,
        coalesce(sum(reasoning_tokens), 0)::float8 as reasoning, coalesce(sum(output_tokens), 0)::float8 as output,
        coalesce(sum(cost_usd), 0)::float8 as cost_usd from usage`
      : await sql`select coalesce(sum(requests), 0)::float8 as requests, coalesce(sum(input), 0)::float8 as input,
        coalesce(sum(cache_read), 0)::float8 as cache_read, coalesce(sum(cache_write), 0)::float8 as cache_write,
        coalesce(sum(reasoning), 0)::float8 as reasoning, coalesce(sum(output), 0)::float8 as output,
        coalesce(sum(cost_usd), 0)::float8 as cost_usd from usage_minute`
  return {
    requests: Number(row?.["requests"]),
    input: Number(row?.["input"]),
    cache_read: Number(row?.["cache_read"]),
    cache_write: Number(row?.["cache_write"]),
    reasoning: Number(row?.["reasoning"]),
    output: Number(row?.["output"]),
    cost_usd: Number(row?.["cost_usd"])
  }
}

usageStoreSuite("postgres", async (ctx) => {
  const sql = await open(ctx)
  return {
    store: PostgresUsageStore.make(sql),
    rawTotals: () => totals(sql, "usage"),
    rollupTotals: () => totals(sql, "usage_minute")
  }
})

describe("PostgresUsageStore", () => {
  it("counts a batch once when its retry runs concurrently with the first try", async (ctx) => {
    const sql = await open(ctx)
    const store = PostgresUsageStore.make(sql)
    const batch = Array.from({ length: 300 }, (_, i) => record(i))
    const inserted = await Promise.all([
      Effect.runPromise(store.writeBatch(batch)),
      Effect.runPromise(store.writeBatch(batch))
    ])
    expect(inserted[0] + inserted[1]).toBe(300)
    const [points] = [
      await Effect.runPromise(store.series({ group_by: "key", interval: "day", from: T0, to: T0 + 86_400_000 }))
    ]
    expect(points.map((p) => p.requests)).toEqual([300])
    expect(await totals(sql, "usage_minute")).toEqual(await totals(sql, "usage"))
  })

  it("indexes the raw records by time and by key and time", async (ctx) => {
    const sql = await open(ctx)
    const indexes = await sql<
      Array<{ indexdef: string }>
    >`select indexdef from pg_indexes where tablename = 'usage' order by indexname`
    expect(indexes.map((i) => i.indexdef.replace(/^.* USING /, ""))).toEqual([
      "btree (at)",
      "btree (key_id, at)",
      "btree (request_id)"
    ])
  })
})
