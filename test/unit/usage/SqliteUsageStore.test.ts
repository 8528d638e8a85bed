/**
 * The SQLite usage store on Node's node:sqlite driver (runtimes/common/NodeSqlite.ts, which Deno
 * uses too) through the shared suite, plus what is SQLite's own: WAL mode, the file created on
 * first open, a schema that survives reopening. Bun's and Deno's drivers run the same checks in
 * SqliteRuntimes.test.ts.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { mkdtempSync, rmSync, existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it, type TestContext } from "vitest"
import { nodeSqlite } from "../../../runtimes/common/NodeSqlite.ts"
import * as SqliteUsageStore from "../../../src/usage/SqliteUsageStore.ts"
import { type RawTotals, record, T0, usageStoreSuite } from "./usageStoreSuite.ts"

const tempDir = (ctx: TestContext): string => {
  const dir = mkdtempSync(join(tmpdir(), "llmgate-usage-"))
  ctx.onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const totals = (path: string, table: "usage" | "usage_minute"): RawTotals => {
  const db = nodeSqlite.open(path)
  try {
    const [row] =
      table === "usage"
        ? db.all(
            `select count(*) as requests, sum(input_tokens) as input, sum(cache_read_tokens) as cache_read, sum(cache_write_tokens) as cache_write,
          sum(reasoning_tokens) as reasoning, sum(output_tokens) as output, coalesce(sum(cost_usd), 0) as cost_usd from usage`,
            []
          )
        : db.all(
            `select coalesce(sum(requests), 0) as requests, sum(input) as input, sum(cache_read) as cache_read, sum(cache_write) as cache_write,
          sum(reasoning) as reasoning, sum(output) as output, coalesce(sum(cost_usd), 0) as cost_usd from usage_minute`,
            []
          )
    return {
      requests: Number(row?.["requests"] ?? 0),
      input: Number(row?.["input"] ?? 0),
      cache_read: Number(row?.["cache_read"] ?? 0),
      cache_write: Number(row?.["cache_write"] ?? 0),
      reasoning: Number(row?.["reasoning"] ?? 0),
      output: Number(row?.["output"] ?? 0),
      cost_usd: Number(row?.["cost_usd"] ?? 0)
    }
  } finally {
    db.close()
  }
}

const openIn = async (ctx: TestContext, path: string) => {
  const scope = await Effect.runPromise(Scope.make())
  ctx.onTestFinished(() => Effect.runPromise(Scope.close(scope, Exit.void)))
  return Effect.runPromise(SqliteUsageStore.open(nodeSqlite, path).pipe(Scope.provide(scope)))
}

usageStoreSuite("sqlite (node:sqlite)", async (ctx) => {
  const path = join(tempDir(ctx), "gateway.yaml.usage.sqlite")
  const store = await openIn(ctx, path)
  return { store, rawTotals: async () => totals(path, "usage"), rollupTotals: async () => totals(path, "usage_minute") }
})

describe("SqliteUsageStore", () => {
  it("creates the file on open, in WAL mode, and keeps what it wrote across a reopen", async (ctx) => {
    const path = join(tempDir(ctx), "usage.sqlite")
    expect(existsSync(path)).toBe(false)
    const scope = await Effect.runPromise(Scope.make())
    const store = await Effect.runPromise(SqliteUsageStore.open(nodeSqlite, path).pipe(Scope.provide(scope)))
    expect(existsSync(path)).toBe(true)
    expect(await Effect.runPromise(store.writeBatch([record(1), record(2)]))).toBe(2)
    await Effect.runPromise(Scope.close(scope, Exit.void))

    const db = nodeSqlite.open(path)
    expect(db.all("pragma journal_mode", [])).toEqual([{ journal_mode: "wal" }])
    expect(db.all("pragma user_version", [])).toEqual([{ user_version: SqliteUsageStore.SQLITE_USAGE_SCHEMA_VERSION }])
    db.close()

    const again = await openIn(ctx, path)
    expect(await Effect.runPromise(again.writeBatch([record(2), record(3)]))).toBe(1)
    const points = await Effect.runPromise(
      again.series({ group_by: "key", interval: "day", from: T0, to: T0 + 86_400_000 })
    )
    expect(points.map((p) => p.requests)).toEqual([3])
  })

  it("fails a batch as a whole (a Query StoreError) and leaves nothing of it behind", async (ctx) => {
    const path = join(tempDir(ctx), "usage.sqlite")
    const store = await openIn(ctx, path)
    const db = nodeSqlite.open(path)
    // Break the rollup table so the raw inserts succeed and the transaction then fails.
    db.exec("drop table usage_minute")
    db.close()
    const exit = await Effect.runPromiseExit(store.writeBatch([record(1)]))
    expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("Query")
    expect(totals(path, "usage").requests).toBe(0)
  })

  it("converts a version-1 database (keyed by request id) in place: its records kept, ids `v1-<request id>`", async (ctx) => {
    const path = join(tempDir(ctx), "usage.sqlite")
    const v1 = nodeSqlite.open(path)
    // The version-1 table as that version created it (the rollup table is unchanged since).
    v1.exec(`create table usage (
      request_id text primary key, at_ms real not null, key_id text, project_id text, user_id text,
      endpoint text not null, model text not null, provider text, upstream_model text,
      input_tokens integer not null, cache_read_tokens integer not null, cache_write_tokens integer not null,
      reasoning_tokens integer not null, output_tokens integer not null, estimated integer not null, cost_usd real,
      status integer not null, outcome text not null, attempts integer not null, latency_ms real not null,
      ttft_ms real, stream integer not null) without rowid;
      create index usage_at on usage (at_ms);
      create index usage_key_at on usage (key_id, at_ms);
      insert into usage values ('req-1', ${T0}, 'key-a', 'proj-1', null, 'chat.completions', 'gpt-4o', 'openai', 'gpt-4o',
        10, 0, 0, 0, 5, 0, 0.5, 200, 'ok', 1, 12.5, null, 0);
      pragma user_version = 1;`)
    v1.close()
    const store = await openIn(ctx, path)
    // A new record repeating the converted one's request id is a request of its own.
    expect(await Effect.runPromise(store.writeBatch([record(1, { id: "0199-new", request_id: "req-1" })]))).toBe(1)
    const db = nodeSqlite.open(path)
    try {
      expect(db.all("pragma user_version", [])).toEqual([
        { user_version: SqliteUsageStore.SQLITE_USAGE_SCHEMA_VERSION }
      ])
      expect(db.all("select id, request_id, key_id, input_tokens, cost_usd from usage order by id", [])).toEqual([
        { id: "0199-new", request_id: "req-1", key_id: "key-a", input_tokens: 10, cost_usd: 0.001 },
        { id: "v1-req-1", request_id: "req-1", key_id: "key-a", input_tokens: 10, cost_usd: 0.5 }
      ])
      // The raw table is clustered on the time-ordered id and has no other index (reports read the rollup).
      expect(db.all("select name from sqlite_master where type = 'index' order by name", [])).toEqual([])
    } finally {
      db.close()
    }
  })

  it("refuses a database of a newer schema version than its own, naming both", async (ctx) => {
    const path = join(tempDir(ctx), "usage.sqlite")
    const newer = nodeSqlite.open(path)
    newer.exec(`pragma user_version = ${SqliteUsageStore.SQLITE_USAGE_SCHEMA_VERSION + 1}`)
    newer.close()
    const exit = await Effect.runPromiseExit(Effect.scoped(SqliteUsageStore.open(nodeSqlite, path)))
    expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain(
      `version ${SqliteUsageStore.SQLITE_USAGE_SCHEMA_VERSION + 1}, newer than this gateway's ${SqliteUsageStore.SQLITE_USAGE_SCHEMA_VERSION}`
    )
  })

  it("cannot open a path in a missing folder: Unreachable", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(SqliteUsageStore.open(nodeSqlite, "/nonexistent-dir/usage.sqlite"))
    )
    expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("Unreachable")
  })
})
