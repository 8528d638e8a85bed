/**
 * One suite for every usage store (SQLite on each runtime's driver, Postgres): batch writes,
 * idempotent retries, rollups that sum to the raw records, and series by every group_by and
 * interval with from/to and filters, each checked against a reference computed here from the
 * records. `fixtures` and `expectedSeries` are plain data and functions, so the Bun and Deno
 * scripts (sqliteRuntimeCheck.ts) reuse them without vitest.
 */
import * as Effect from "effect/Effect"
import { describe, expect, it, type TestContext } from "vitest"
import type { UsageRecord } from "../../../src/domain/Usage.ts"
import {
  GROUP_COLUMN,
  intervalMs,
  USAGE_GROUP_BYS,
  USAGE_INTERVALS,
  type UsageSeriesPoint,
  type UsageSeriesQuery,
  type UsageStoreShape
} from "../../../src/domain/UsageSeries.ts"

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

/** 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1)
const MIN = 60_000
const HOUR = 60 * MIN

export const record = (n: number, overrides: Partial<UsageRecord> = {}): UsageRecord => ({
  request_id: `req-${n}`,
  at_ms: T0 + n * 1000,
  key_id: "key-a",
  project_id: "proj-1",
  user_id: "user-1",
  endpoint: "chat.completions",
  model: "gpt-4o",
  provider: "openai",
  upstream_model: "gpt-4o-2024-08-06",
  tokens: { input: 10, cache_read: 2, cache_write: 1, reasoning: 3, output: 5 },
  estimated: false,
  cost_usd: 0.001,
  status: 200,
  outcome: "ok",
  attempts: 1,
  latency_ms: 120.5,
  ttft_ms: null,
  stream: false,
  ...overrides
})

/** 240 records over three hours across two days' boundary-free spread, 3 keys (one the master key), 2 models, 2 providers. */
export const fixtures = (): ReadonlyArray<UsageRecord> =>
  Array.from({ length: 240 }, (_, i) => {
    const keys = ["key-a", "key-b", null] as const
    const key = keys[i % 3] ?? null
    return record(1000 + i, {
      at_ms: T0 + 23 * HOUR + i * 47_123, // from 23:00 on day one, across midnight into day two
      key_id: key,
      project_id: key === null ? null : key === "key-a" ? "proj-1" : "proj-2",
      user_id: i % 4 === 0 ? null : `user-${i % 2}`,
      model: i % 5 === 0 ? "claude-sonnet" : "gpt-4o",
      provider: i % 7 === 0 ? null : i % 5 === 0 ? "anthropic" : "openai",
      tokens: { input: i, cache_read: i % 3, cache_write: i % 2, reasoning: i % 11, output: 2 * i + 1 },
      cost_usd: i % 6 === 0 ? null : i / 1000,
      outcome: i % 9 === 0 ? "error" : "ok",
      stream: i % 2 === 0,
      ttft_ms: i % 2 === 0 ? 33.5 : null
    })
  })

const dimension = (r: UsageRecord, column: string): string | null => {
  switch (column) {
    case "key_id":
      return r.key_id
    case "project_id":
      return r.project_id
    case "user_id":
      return r.user_id
    case "model":
      return r.model
    default:
      return r.provider
  }
}

/** The series computed straight from the records (the reference the stores must match). */
export const expectedSeries = (
  records: ReadonlyArray<UsageRecord>,
  query: UsageSeriesQuery
): ReadonlyArray<UsageSeriesPoint> => {
  const width = intervalMs(query.interval)
  const points = new Map<
    string,
    { -readonly [K in keyof UsageSeriesPoint]: UsageSeriesPoint[K] } & {
      tokens: { input: number; cache_read: number; cache_write: number; reasoning: number; output: number }
    }
  >()
  for (const r of records) {
    const minute = Math.floor(r.at_ms / MIN) * MIN
    if (minute < query.from || minute >= query.to) continue
    const filters = query.filters ?? {}
    if (Object.entries(filters).some(([column, value]) => value !== undefined && dimension(r, column) !== value))
      continue
    const bucket = minute - (minute % width)
    const group = dimension(r, GROUP_COLUMN[query.group_by])
    const id = `${bucket}|${group}`
    let p = points.get(id)
    if (p === undefined) {
      p = {
        bucket_start: bucket,
        group,
        requests: 0,
        tokens: { input: 0, cache_read: 0, cache_write: 0, reasoning: 0, output: 0 },
        cost_usd: 0
      }
      points.set(id, p)
    }
    p.requests++
    p.tokens.input += r.tokens.input
    p.tokens.cache_read += r.tokens.cache_read
    p.tokens.cache_write += r.tokens.cache_write
    p.tokens.reasoning += r.tokens.reasoning
    p.tokens.output += r.tokens.output
    p.cost_usd += r.cost_usd ?? 0
  }
  return normalize([...points.values()])
}

/** Points in one order with costs rounded, so SQL and reference compare exactly. */
export const normalize = (points: ReadonlyArray<UsageSeriesPoint>): ReadonlyArray<UsageSeriesPoint> =>
  [...points]
    .map((p) => ({ ...p, cost_usd: Math.round(p.cost_usd * 1e9) / 1e9 }))
    .sort((a, b) => a.bucket_start - b.bucket_start || String(a.group).localeCompare(String(b.group)))

/** Every query the suite compares against the reference: each group_by × interval, ranges, filters. */
export const queries = (): ReadonlyArray<UsageSeriesQuery> => {
  const all = { from: T0, to: T0 + 3 * 24 * HOUR }
  const list: Array<UsageSeriesQuery> = []
  for (const group_by of USAGE_GROUP_BYS) {
    for (const interval of USAGE_INTERVALS) list.push({ group_by, interval, ...all })
  }
  // A window: from inclusive, to exclusive, on minute buckets.
  list.push({ group_by: "model", interval: "minute", from: T0 + 23 * HOUR + 30 * MIN, to: T0 + 24 * HOUR + 15 * MIN })
  list.push({ group_by: "key", interval: "hour", from: T0 + 24 * HOUR, to: T0 + 26 * HOUR })
  // Filters, alone and together.
  list.push({ group_by: "model", interval: "hour", ...all, filters: { key_id: "key-a" } })
  list.push({ group_by: "user", interval: "day", ...all, filters: { project_id: "proj-2", model: "gpt-4o" } })
  list.push({ group_by: "key", interval: "day", ...all, filters: { provider: "anthropic", user_id: "user-0" } })
  list.push({ group_by: "provider", interval: "minute", ...all, filters: { model: "no-such-model" } })
  return list
}

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

/** The suite, for one store; `make` opens a fresh, empty one for each test (and cleans it up through `ctx`). */
export const usageStoreSuite = (name: string, make: (ctx: TestContext) => Promise<StoreUnderTest>) =>
  describe(`usage store: ${name}`, () => {
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

    it("is idempotent by request_id: a retried batch adds nothing, an overlapping one only its new records", async (ctx) => {
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
      expect(await rollupTotals()).toEqual(await rawTotals())
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
      const rolled = await rollupTotals()
      expect({ ...rolled, cost_usd: Math.round(rolled.cost_usd * 1e9) }).toEqual({
        ...raw,
        cost_usd: Math.round(raw.cost_usd * 1e9)
      })
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
