/**
 * The usage stores' test data and reference, as plain data and functions (no vitest), so the
 * shared suite (usageStoreSuite.ts) and the Bun and Deno driver check (test/support/usageSqliteCheck.ts)
 * use the same: records, the queries compared, and the series computed straight from the records.
 */
import type { StoredUsageRecord } from "../../../src/domain/Usage.ts"
import {
  GROUP_COLUMN,
  intervalMs,
  USAGE_GROUP_BYS,
  USAGE_INTERVALS,
  type UsageSeriesPoint,
  type UsageSeriesQuery
} from "../../../src/domain/UsageSeries.ts"

/** 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1)
export const MIN = 60_000
export const HOUR = 60 * MIN

export const record = (n: number, overrides: Partial<StoredUsageRecord> = {}): StoredUsageRecord => ({
  id: `rec-${String(n).padStart(6, "0")}`,
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
export const fixtures = (): ReadonlyArray<StoredUsageRecord> =>
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

const dimension = (r: StoredUsageRecord, column: string): string | null => {
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
  records: ReadonlyArray<StoredUsageRecord>,
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
