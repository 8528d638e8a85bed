/**
 * The Postgres usage store (migrations/0002_usage.sql, 0004_usage_record_id.sql) through the shared suite, on a fresh
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
import * as UsageWriter from "../../../src/usage/UsageWriter.ts"
import { withTestDatabase } from "../../support/postgres.ts"
import { startTcpProxy, throughProxy } from "../../support/tcpProxy.ts"
import { type RawTotals, record, rounded, T0, usageStoreSuite } from "./usageStoreSuite.ts"

/** A fresh migrated database and a pool on it, closed before the database is dropped. */
const openDatabase = async (ctx: TestContext) => {
  const db = await withTestDatabase(ctx)
  const scope = await Effect.runPromise(Scope.make())
  // Registered after the database's drop, so it runs first (vitest runs onTestFinished in reverse).
  ctx.onTestFinished(() => Effect.runPromise(Scope.close(scope, Exit.void)))
  const sql = await Effect.runPromise(
    Effect.gen(function* () {
      const sql = yield* connect(db.url, { max: 4 })
      yield* migrate(sql, yield* loadMigrationFiles())
      return sql
    }).pipe(Scope.provide(scope), Effect.provide(NodeFileSystem.layer))
  )
  return { sql, url: db.url }
}

const open = async (ctx: TestContext): Promise<postgres.Sql> => (await openDatabase(ctx)).sql

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
    expect(rounded(await totals(sql, "usage_minute"))).toEqual(rounded(await totals(sql, "usage")))
  })

  it("keys the raw records by record id and indexes them by time, by key and time, and by request id", async (ctx) => {
    const sql = await open(ctx)
    const indexes = await sql<
      Array<{ indexname: string; indexdef: string }>
    >`select indexname, indexdef from pg_indexes where tablename = 'usage' order by indexname`
    expect(indexes.map((i) => [i.indexname, i.indexdef.replace(/^.* USING /, "")])).toEqual([
      ["usage_at", "btree (at)"],
      ["usage_key_at", "btree (key_id, at)"],
      ["usage_pkey", "btree (id)"],
      ["usage_request_id", "btree (request_id)"]
    ])
  })

  it("migration 0004 keeps the records written before it, with ids `v1-<request id>`", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const scope = await Effect.runPromise(Scope.make())
    ctx.onTestFinished(() => Effect.runPromise(Scope.close(scope, Exit.void)))
    const sql = await Effect.runPromise(
      Effect.gen(function* () {
        const sql = yield* connect(db.url, { max: 2 })
        const files = yield* loadMigrationFiles()
        yield* migrate(
          sql,
          files.filter((f) => f.version <= 3)
        )
        yield* Effect.promise(
          () => sql`insert into usage (request_id, at, endpoint, model, input_tokens, cache_read_tokens,
            cache_write_tokens, reasoning_tokens, output_tokens, estimated, status, outcome, attempts, latency_ms, stream)
            values ('req-old', now(), 'chat.completions', 'gpt-4o', 3, 0, 0, 0, 4, false, 200, 'ok', 1, 9.5, false)`
        )
        yield* migrate(sql, files)
        return sql
      }).pipe(Scope.provide(scope), Effect.provide(NodeFileSystem.layer))
    )
    const store = PostgresUsageStore.make(sql)
    // A request repeating the old record's request id is counted: ids differ.
    expect(await Effect.runPromise(store.writeBatch([record(1, { request_id: "req-old" })]))).toBe(1)
    const rows = await sql<Array<{ id: string; request_id: string }>>`select id, request_id from usage order by id`
    expect(rows.map((r) => [r.id, r.request_id])).toEqual([
      [record(1).id, "req-old"],
      ["v1-req-old", "req-old"]
    ])
  })

  it("with the writer: keeps records through an outage (connections reset, then refused) and writes each once after it, also at shutdown", async (ctx) => {
    const { sql, url } = await openDatabase(ctx)
    const proxy = await startTcpProxy({
      targetHost: new URL(url).hostname,
      targetPort: Number(new URL(url).port || 5432)
    })
    ctx.onTestFinished(() => proxy.close())
    const scope = await Effect.runPromise(Scope.make())
    ctx.onTestFinished(() => Effect.runPromise(Scope.close(scope, Exit.void)))
    const writer = await Effect.runPromise(
      Effect.gen(function* () {
        const proxied = yield* connect(throughProxy(url, proxy), { max: 2, connectTimeoutSeconds: 2 })
        return yield* UsageWriter.make(PostgresUsageStore.make(proxied), {
          bufferLimit: 1000,
          flushIntervalMs: 100,
          batchSize: 50,
          shutdownTimeoutMs: 10_000
        })
      }).pipe(Scope.provide(scope))
    )
    const count = async () => (await totals(sql, "usage")).requests
    const until = async (what: string, check: () => boolean | Promise<boolean>) => {
      const deadline = Date.now() + 15_000
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(writer.stats())}`)
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    }

    writer.offer(Array.from({ length: 20 }, (_, i) => record(i)))
    await until("the first records", () => writer.stats().written === 20)

    proxy.drop()
    await proxy.refuse()
    writer.offer(Array.from({ length: 30 }, (_, i) => record(100 + i)))
    await until("a failed write", () => writer.stats().failures >= 2)
    expect(writer.stats()).toMatchObject({ buffered: 30, written: 20, dropped: 0 })
    expect(await count()).toBe(20)

    await proxy.accept()
    await until("the buffered records", () => writer.stats().buffered === 0)
    expect(writer.stats()).toMatchObject({ written: 50, duplicates: 0 })

    // Down again at shutdown: closing keeps retrying (bounded by the shutdown timeout) and writes once it is back.
    proxy.drop()
    await proxy.refuse()
    writer.offer(Array.from({ length: 5 }, (_, i) => record(200 + i)))
    const closing = Effect.runPromise(Scope.close(scope, Exit.void))
    await new Promise((resolve) => setTimeout(resolve, 500))
    await proxy.accept()
    await closing
    expect(await count()).toBe(55)
    expect(rounded(await totals(sql, "usage_minute"))).toEqual(rounded(await totals(sql, "usage")))
  }, 40_000)
})
