/**
 * Runs the SQLite usage store over one runtime's own driver and prints what it stored, as JSON,
 * for test/unit/usage/SqliteRuntimes.test.ts (vitest runs on Node only, so Bun's `bun:sqlite` and
 * Deno's `node:sqlite` are exercised in their own process): a batch, its retry, overlapping
 * batches, every query of the shared fixtures, and the raw and rollup totals.
 *
 *   bun test/support/usageSqliteCheck.ts <bun|node> <database path>
 *   deno run --allow-read --allow-write test/support/usageSqliteCheck.ts node <database path>
 */
import * as Effect from "effect/Effect"
import type { SqliteDriver } from "../../src/usage/SqliteDriver.ts"
import * as SqliteUsageStore from "../../src/usage/SqliteUsageStore.ts"
import { fixtures, queries, record } from "../unit/usage/usageFixtures.ts"

declare const Deno: { readonly args: ReadonlyArray<string> } | undefined
declare const process: { readonly argv: ReadonlyArray<string> }

const args = typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2)
const [driverName, path] = args
if (path === undefined) throw new Error("usage: usageSqliteCheck.ts <bun|node> <database path>")
const driver: SqliteDriver =
  driverName === "bun"
    ? (await import("../../runtimes/bun/BunSqlite.ts")).bunSqlite
    : (await import("../../runtimes/common/NodeSqlite.ts")).nodeSqlite

const totals = (table: "usage" | "usage_minute") => {
  const db = driver.open(path)
  try {
    return db.all(
      table === "usage"
        ? "select count(*) as requests, sum(input_tokens) as input, sum(output_tokens) as output from usage"
        : "select sum(requests) as requests, sum(input) as input, sum(output) as output from usage_minute",
      []
    )[0]
  } finally {
    db.close()
  }
}

const result = await Effect.runPromise(
  Effect.scoped(
    Effect.gen(function* () {
      const store = yield* SqliteUsageStore.open(driver, path)
      const records = fixtures()
      const inserted = [
        yield* store.writeBatch([record(1), record(2), record(3)]),
        yield* store.writeBatch([record(1), record(2), record(3)]),
        yield* store.writeBatch(records.slice(0, 150)),
        yield* store.writeBatch(records.slice(100))
      ]
      const series: Array<unknown> = []
      for (const query of queries()) series.push(yield* store.series(query))
      return { inserted, series }
    })
  )
)

console.log(JSON.stringify({ ...result, raw: totals("usage"), rollup: totals("usage_minute") }))
