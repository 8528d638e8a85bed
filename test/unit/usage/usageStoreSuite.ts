/**
 * One suite for every usage store (SQLite on each runtime's driver, Postgres): batch writes,
 * idempotent retries, rollups that sum to the raw records, and series by every group_by and
 * interval with from/to and filters, each checked against a reference computed here from the
 * records (usageFixtures.ts, shared with the Bun and Deno driver check).
 */
import * as Effect from "effect/Effect"
import { describe, expect, it, type TestContext } from "vitest"
import type { UsageSeriesQuery, UsageStoreShape } from "../../../src/domain/UsageSeries.ts"
import { expectedSeries, fixtures, HOUR, MIN, normalize, queries, record, T0 } from "./usageFixtures.ts"

export { record, T0 } from "./usageFixtures.ts"

/** Sums over the raw `usage` table, read by each store's own SQL (the port has no raw reads). */
export interface RawTotals {
  readonly requests: number
  readonly input: number
  readonly cache_read: number
  readonly cache_write: number
  readonly reasoning: number
  readonly output: number
  readonly cost_usd: number
}

export interface StoreUnderTest {
  readonly store: UsageStoreShape
  readonly rawTotals: () => Promise<RawTotals>
  /** The same totals over `usage_minute`. */
  readonly rollupTotals: () => Promise<RawTotals>
}

/** Totals with the cost rounded to 1e-9 USD (floating-point sums in another order differ in the last bits). */
export const rounded = (t: RawTotals): RawTotals => ({ ...t, cost_usd: Math.round(t.cost_usd * 1e9) / 1e9 })

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

/** The suite, for one store; `make` opens a fresh, empty one for each test (and cleans it up through `ctx`). */
export const usageStoreSuite = (name: string, make: (ctx: TestContext) => Promise<StoreUnderTest>) =>
  describe(`usage store: ${name}`, () => {
    it("sums each key's and project's spend from a period's start (what budgets are rebuilt from)", async (ctx) => {
      const { store } = await make(ctx)
      await run(
        store.writeBatch([
          record(1, { cost_usd: 0.25 }),
          record(2, { cost_usd: 0.5, key_id: "key-b" }),
          record(3, { cost_usd: null }),
          record(4, { cost_usd: 1, key_id: null, project_id: null }),
          record(200, { cost_usd: 2, project_id: "proj-2", key_id: "key-c" })
        ])
      )
      const byKey = await run(store.spend("key", T0))
      expect(Object.fromEntries(byKey)).toEqual({ "key-a": 0.25, "key-b": 0.5, "key-c": 2 })
      const byProject = await run(store.spend("project", T0))
      expect(Object.fromEntries(byProject)).toEqual({ "proj-1": 0.75, "proj-2": 2 })
      // From a later minute on: only what started in it or after.
      expect(Object.fromEntries(await run(store.spend("project", T0 + 3 * MIN)))).toEqual({ "proj-2": 2 })
    })

    it("writes a batch: every record counted once, in its minute", async (ctx) => {
      const { store } = await make(ctx)
      const batch = [record(1), record(2, { model: "claude-sonnet" }), record(75)]
      expect(await run(store.writeBatch(batch))).toBe(3)
      const points = await run(store.series({ group_by: "model", interval: "minute", from: T0, to: T0 + HOUR }))
      expect(normalize(points)).toEqual(
        expectedSeries(batch, { group_by: "model", interval: "minute", from: T0, to: T0 + HOUR })
      )
      expect(points.map((p) => [p.bucket_start - T0, p.group, p.requests])).toEqual([
        [0, "claude-sonnet", 1],
        [0, "gpt-4o", 1],
        [MIN, "gpt-4o", 1]
      ])
      expect(await run(store.writeBatch([]))).toBe(0)
    })

    it("is idempotent by record id: a retried batch adds nothing, an overlapping one only its new records", async (ctx) => {
      const { store, rawTotals, rollupTotals } = await make(ctx)
      const batch = [record(1), record(2), record(3)]
      expect(await run(store.writeBatch(batch))).toBe(3)
      expect(await run(store.writeBatch(batch))).toBe(0)
      expect(await run(store.writeBatch([record(3), record(4), record(4)]))).toBe(1)
      const query: UsageSeriesQuery = { group_by: "key", interval: "day", from: T0, to: T0 + 24 * HOUR }
      const points = await run(store.series(query))
      expect(normalize(points)).toEqual(expectedSeries([record(1), record(2), record(3), record(4)], query))
      expect(points[0]?.requests).toBe(4)
      expect((await rawTotals()).requests).toBe(4)
      expect(rounded(await rollupTotals())).toEqual(rounded(await rawTotals()))
    })

    it("counts every request that repeats a request id (a client's fixed x-request-id): records differ by id", async (ctx) => {
      const { store, rawTotals, rollupTotals } = await make(ctx)
      const same = { request_id: "client-fixed-id" }
      expect(await run(store.writeBatch([record(1, same), record(2, same)]))).toBe(2)
      expect(await run(store.writeBatch([record(3, same)]))).toBe(1)
      expect((await rawTotals()).requests).toBe(3)
      expect(rounded(await rollupTotals())).toEqual(rounded(await rawTotals()))
    })

    it("keeps rollups equal to the raw records, and answers every group_by × interval, range and filter like the reference", async (ctx) => {
      const { store, rawTotals, rollupTotals } = await make(ctx)
      const records = fixtures()
      // In uneven batches, one retried.
      for (const [from, to] of [
        [0, 7],
        [7, 100],
        [50, 180],
        [180, 240]
      ] as const) {
        await run(store.writeBatch(records.slice(from, to)))
      }
      const raw = await rawTotals()
      expect(raw.requests).toBe(records.length)
      expect(rounded(await rollupTotals())).toEqual(rounded(raw))
      for (const query of queries()) {
        expect(normalize(await run(store.series(query))), JSON.stringify(query)).toEqual(expectedSeries(records, query))
      }
    })

    it("reports an absent key, user or provider as the null group, and never as a filter match", async (ctx) => {
      const { store } = await make(ctx)
      await run(
        store.writeBatch([record(1, { key_id: null, user_id: null, provider: null, cost_usd: null }), record(2)])
      )
      const byKey = await run(store.series({ group_by: "key", interval: "hour", from: T0, to: T0 + HOUR }))
      expect(byKey.map((p) => [p.group, p.requests, p.cost_usd])).toEqual([
        [null, 1, 0],
        ["key-a", 1, 0.001]
      ])
      const filtered = await run(
        store.series({ group_by: "provider", interval: "hour", from: T0, to: T0 + HOUR, filters: { key_id: "key-a" } })
      )
      expect(filtered.map((p) => [p.group, p.requests])).toEqual([["openai", 1]])
    })

    it("stores records whose values no column could hold (NaN, NUL in text) instead of failing the batch for ever", async (ctx) => {
      const { store } = await make(ctx)
      const odd = record(1, {
        latency_ms: Number.NaN,
        ttft_ms: Number.POSITIVE_INFINITY,
        model: "bad\u0000model",
        cost_usd: Number.NaN
      })
      expect(await run(store.writeBatch([odd, record(2)]))).toBe(2)
      const points = await run(store.series({ group_by: "model", interval: "hour", from: T0, to: T0 + HOUR }))
      expect(points.map((p) => p.group)).toEqual(["badmodel", "gpt-4o"])
    })
  })
