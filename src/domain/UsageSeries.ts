/**
 * The usage store's contract as plain types, shared by the store's port (`usage/UsageStore.ts`)
 * and its adapters in the layer beside it (`store/postgres/PostgresUsageStore.ts`), which may not
 * import each other: what a batch write answers, what a time-series query asks and each point it
 * answers, and the few pure rules both SQL adapters apply the same way (minute buckets, the
 * grouping columns, the empty-string stand-in for an absent id in a rollup's key).
 */
import type { StoredUsageRecord, TokenUsage, UsageRecord } from "./Usage.ts"
import type { StoreError } from "./StoreError.ts"
import type * as Effect from "effect/Effect"

/** What a series groups by: one dimension of the rollup's key. */
export type UsageGroupBy = "key" | "project" | "user" | "model" | "provider"
export const USAGE_GROUP_BYS: ReadonlyArray<UsageGroupBy> = ["key", "project", "user", "model", "provider"]

/** The width of a series' buckets (UTC: an hour and a day start on the epoch's boundaries). */
export type UsageInterval = "minute" | "hour" | "day"
export const USAGE_INTERVALS: ReadonlyArray<UsageInterval> = ["minute", "hour", "day"]

export const MINUTE_MS = 60_000
export const intervalMs = (interval: UsageInterval): number =>
  interval === "minute" ? MINUTE_MS : interval === "hour" ? 60 * MINUTE_MS : 24 * 60 * MINUTE_MS

/** Narrows a series to rows whose dimension equals the value (an absent filter does not narrow). */
export interface UsageFilters {
  readonly key_id?: string | undefined
  readonly project_id?: string | undefined
  readonly user_id?: string | undefined
  readonly model?: string | undefined
  readonly provider?: string | undefined
}

/**
 * A time series over the minute rollups: every minute bucket starting in `[from, to)` (epoch ms),
 * summed into `interval` buckets per value of `group_by`.
 */
export interface UsageSeriesQuery {
  readonly group_by: UsageGroupBy
  /** Epoch ms, inclusive. */
  readonly from: number
  /** Epoch ms, exclusive. */
  readonly to: number
  readonly interval: UsageInterval
  readonly filters?: UsageFilters | undefined
}

/** One bucket of one group. */
export interface UsageSeriesPoint {
  /** Epoch ms of the bucket's start. */
  readonly bucket_start: number
  /** The group's value; null for "none" (the master key, a user-less key, a request no provider served). */
  readonly group: string | null
  readonly requests: number
  readonly tokens: TokenUsage
  /** Sum of the priced records' costs (unpriced ones count as 0). */
  readonly cost_usd: number
}

/** The store of usage records: raw rows plus per-minute rollups kept in the same transaction. */
export interface UsageStoreShape {
  /** Where it writes, for messages (`sqlite <path>`, `postgres`). */
  readonly description: string
  /**
   * Writes the records and adds them to the rollups, atomically. Idempotent by the record's `id`
   * (not its request id, which a client may repeat): a record already stored (a batch retried after
   * a timeout) is skipped and never counted twice. Answers how many records were new.
   */
  readonly writeBatch: (records: ReadonlyArray<StoredUsageRecord>) => Effect.Effect<number, StoreError>
  /** A time series answered from the rollups only (never a scan of the raw records). */
  readonly series: (query: UsageSeriesQuery) => Effect.Effect<ReadonlyArray<UsageSeriesPoint>, StoreError>
  /**
   * What each key or project spent (USD, priced records only) from `from` (epoch ms, a minute
   * boundary) on, from the rollups: the spend budgets are rebuilt from at start. Ids that spent
   * nothing are absent.
   */
  readonly spend: (scope: SpendScope, from: number) => Effect.Effect<ReadonlyMap<string, number>, StoreError>
}

/** Whose spend: keys' or projects'. */
export type SpendScope = "key" | "project"

/** The spend statement both SQL adapters run over `usage_minute`, with `?` placeholders (from). */
export const spendSql = (
  scope: SpendScope,
  from: number
): { readonly text: string; readonly params: ReadonlyArray<number> } => {
  const column = GROUP_COLUMN[scope]
  return {
    text: `select ${column} as grp, sum(cost_usd) as cost_usd from usage_minute
    where bucket_ms >= ? and ${column} <> '' group by 1`,
    params: [from]
  }
}

/** The rows of a spend query as a map from id to USD. */
export const spendOf = (rows: ReadonlyArray<Readonly<Record<string, unknown>>>): ReadonlyMap<string, number> =>
  new Map(rows.map((row) => [String(row["grp"]), Number(row["cost_usd"])]))

/** The rollup column each group_by reads; the filters' columns have the same names. */
export const GROUP_COLUMN: Readonly<Record<UsageGroupBy, string>> = {
  key: "key_id",
  project: "project_id",
  user: "user_id",
  model: "model",
  provider: "provider"
}

export const FILTER_COLUMNS = ["key_id", "project_id", "user_id", "model", "provider"] as const

/** The start of the minute `atMs` falls in. */
export const minuteBucket = (atMs: number): number => Math.floor(atMs / MINUTE_MS) * MINUTE_MS

/** Rollup keys cannot hold NULL (a primary key column): an absent id is stored as "" and read back as null. */
export const NONE = ""
export const fromNone = (value: unknown): string | null => (value === null || value === NONE ? null : String(value))

/**
 * The records made storable, every id once (the first kept): a batch never counts a record twice.
 */
export const uniqueById = (records: ReadonlyArray<StoredUsageRecord>): ReadonlyArray<StoredUsageRecord> => {
  const seen = new Set<string>()
  const unique: Array<StoredUsageRecord> = []
  for (const record of records) {
    const r = isStorable(record) ? record : storable(record, record.id)
    if (seen.has(r.id)) continue
    seen.add(r.id)
    unique.push(r)
  }
  return unique
}

const count = (n: number) => (Number.isFinite(n) && n >= 0 ? Math.trunc(n) : 0)
const num = (n: number) => (Number.isFinite(n) ? n : 0)
const opt = (n: number | null) => (n === null || !Number.isFinite(n) ? null : n)
const text = (s: string) => (s.includes("\u0000") ? s.replaceAll("\u0000", "") : s)
const optText = (s: string | null) => (s === null ? null : text(s))

/**
 * The record with its `id`, as both SQL stores write it: numbers that are not finite become 0 (or
 * null where the column allows it) and NUL characters are removed from strings (Postgres text
 * cannot hold them), so no value a request carried can make a batch fail for ever and block the
 * writer. One plain object: what travelled beside the record (a recount, the metrics' part) is
 * left behind.
 */
export const storable = (r: UsageRecord, id: string): StoredUsageRecord => ({
  id: text(id),
  request_id: text(r.request_id),
  at_ms: num(r.at_ms),
  key_id: optText(r.key_id),
  project_id: optText(r.project_id),
  user_id: optText(r.user_id),
  endpoint: text(r.endpoint),
  model: text(r.model),
  provider: optText(r.provider),
  upstream_model: optText(r.upstream_model),
  tokens: {
    input: count(r.tokens.input),
    cache_read: count(r.tokens.cache_read),
    cache_write: count(r.tokens.cache_write),
    reasoning: count(r.tokens.reasoning),
    output: count(r.tokens.output)
  },
  estimated: r.estimated,
  cost_usd: opt(r.cost_usd),
  status: Math.trunc(num(r.status)),
  outcome: r.outcome,
  attempts: Math.trunc(num(r.attempts)),
  latency_ms: num(r.latency_ms),
  ttft_ms: opt(r.ttft_ms),
  stream: r.stream
})

const isCount = (n: number) => Number.isInteger(n) && n >= 0
const isText = (s: string | null) => s === null || !s.includes("\u0000")
const isOpt = (n: number | null) => n === null || Number.isFinite(n)

/** Whether `storable` would leave `r` as it is (the writer's records are: it made them so). */
export const isStorable = (r: StoredUsageRecord): boolean =>
  isText(r.id) &&
  isText(r.request_id) &&
  Number.isFinite(r.at_ms) &&
  isText(r.key_id) &&
  isText(r.project_id) &&
  isText(r.user_id) &&
  isText(r.endpoint) &&
  isText(r.model) &&
  isText(r.provider) &&
  isText(r.upstream_model) &&
  isCount(r.tokens.input) &&
  isCount(r.tokens.cache_read) &&
  isCount(r.tokens.cache_write) &&
  isCount(r.tokens.reasoning) &&
  isCount(r.tokens.output) &&
  isOpt(r.cost_usd) &&
  Number.isInteger(r.status) &&
  Number.isInteger(r.attempts) &&
  Number.isFinite(r.latency_ms) &&
  isOpt(r.ttft_ms)

/** A row of a series query as the SQL adapters select it, as a point. */
export const seriesPoint = (row: Readonly<Record<string, unknown>>): UsageSeriesPoint => ({
  bucket_start: Number(row["bucket_start"]),
  group: fromNone(row["grp"]),
  requests: Number(row["requests"]),
  tokens: {
    input: Number(row["input"]),
    cache_read: Number(row["cache_read"]),
    cache_write: Number(row["cache_write"]),
    reasoning: Number(row["reasoning"]),
    output: Number(row["output"])
  },
  cost_usd: Number(row["cost_usd"])
})

/**
 * The series statement both SQL adapters run over `usage_minute` (same columns on both), with `?`
 * placeholders: the interval width, from, to, then each filter's value in FILTER_COLUMNS order.
 */
export const seriesSql = (
  query: UsageSeriesQuery
): { readonly text: string; readonly params: ReadonlyArray<number | string> } => {
  const where = ["bucket_ms >= ?", "bucket_ms < ?"]
  const params: Array<number | string> = [intervalMs(query.interval), query.from, query.to]
  for (const column of FILTER_COLUMNS) {
    const value = query.filters?.[column]
    if (value === undefined) continue
    where.push(`${column} = ?`)
    params.push(value)
  }
  const group = GROUP_COLUMN[query.group_by]
  const text = `select bucket_ms - (bucket_ms % ?) as bucket_start, ${group} as grp,
      sum(requests) as requests, sum(input) as input, sum(cache_read) as cache_read, sum(cache_write) as cache_write,
      sum(reasoning) as reasoning, sum(output) as output, sum(cost_usd) as cost_usd
    from usage_minute where ${where.join(" and ")}
    group by 1, 2 order by 1, 2`
  return { text, params }
}
