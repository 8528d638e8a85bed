/**
 * Usage reports: what `GET /admin/v1/usage` (and its chart, `/admin/v1/usage/graph`, the page at
 * `/admin/ui/usage` and `llmgate usage`) answers. Three pure steps and one service:
 *
 * - `parseUsageQuery`: the query string as a bounded series query, or a 400 naming the parameter.
 *   Defaults: `to` now, `from` 24 h before `to`, `interval` from the span (up to 6 h: minute, up to
 *   14 days: hour, longer: day), `group_by` model, `limit` 10 groups. `from` is rounded down to the
 *   start of its bucket (UTC), so every bucket is whole; at most `MAX_BUCKETS` buckets and
 *   `MAX_GROUPS` groups (the rest summed as `other`) are answered, so an answer holds at most
 *   1,500 × 21 points whatever the range and the data.
 * - `buildReport`: the store's points (sums of the minute rollups, never the raw records) as one
 *   series per group, ranked by cost, then requests, with totals.
 * - `UsageReports`: the service the admin API asks. Only the owner thread holds the usage store; a
 *   worker's `UsageReports` sends the query to the owner (cluster/RemoteAdminStore.ts), which runs
 *   `makeUsageReports` over its store and answers the bounded report.
 *
 * `UsageReport` is an Effect Schema of the answer (proven equal to the spec's type in the schema
 * tests), which `llmgate usage` decodes.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { timestampMillis } from "../domain/units.ts"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import { NO_USAGE, TokenUsage, totalTokens } from "../domain/Usage.ts"
import {
  intervalMs,
  MINUTE_MS,
  USAGE_GROUP_BYS,
  USAGE_INTERVALS,
  type UsageFilters,
  type UsageGroupBy,
  type UsageInterval,
  type UsageSeriesPoint,
  type UsageSeriesQuery,
  type UsageStoreShape
} from "../domain/UsageSeries.ts"

/** Most buckets one answer holds (a minute interval over a day is 1,440). */
export const MAX_BUCKETS = 1_500
/** Most groups answered as series of their own (`limit`); the others are summed in `other`. */
export const MAX_GROUPS = 20
export const DEFAULT_GROUPS = 10
export const DEFAULT_RANGE_MS = 24 * 60 * MINUTE_MS
export const DEFAULT_GROUP_BY: UsageGroupBy = "model"
/** Longest filter value accepted (the longest id or model name the config allows). */
const MAX_FILTER_LENGTH = 512

/** What a chart plots: requests, tokens (all kinds) or cost in USD. */
export type UsageMetric = "requests" | "tokens" | "cost"
export const USAGE_METRICS: ReadonlyArray<UsageMetric> = ["requests", "tokens", "cost"]
export const DEFAULT_METRIC: UsageMetric = "requests"

/** The query parameters that filter, and the store's filter each sets. */
export const FILTER_PARAMS = {
  key: "key_id",
  project: "project_id",
  user: "user_id",
  model: "model",
  provider: "provider"
} as const satisfies Readonly<Record<string, keyof UsageFilters>>
type FilterParam = keyof typeof FILTER_PARAMS
const FILTER_NAMES = Object.keys(FILTER_PARAMS) as ReadonlyArray<FilterParam>
const QUERY_PARAMS = ["group_by", "from", "to", "interval", "limit", ...FILTER_NAMES]

/** A series query as the API bounds it: whole buckets, at most MAX_BUCKETS, and how many groups to answer. */
export interface UsageReportQuery extends UsageSeriesQuery {
  /** Groups answered as their own series (1 to MAX_GROUPS). */
  readonly limit: number
}

// ---- the answer ---------------------------------------------------------------------------------

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** Tokens by kind (disjoint) and their sum. */
export const UsageReportTokens = Schema.Struct({ ...TokenUsage.fields, total: Count })

const amountFields = {
  requests: Count,
  tokens: UsageReportTokens,
  /** Cost in USD of the priced requests (unpriced ones count 0). */
  cost_usd: Schema.Finite
}
export const UsageAmounts = Schema.Struct(amountFields)
export type UsageAmounts = typeof UsageAmounts.Type

/** One bucket of one series; buckets without traffic are left out. */
export const UsageReportPoint = Schema.Struct({ bucket: Schema.String, ...amountFields })
export type UsageReportPoint = typeof UsageReportPoint.Type

export const UsageReportSeries = Schema.Struct({
  /** The group's id or name; null for "none" (the master key, a key without user, a request nothing served). */
  group: Schema.NullOr(Schema.String),
  /** How to show the group: its value, or what null means for this group_by (`(master key)`). */
  label: Schema.String,
  totals: UsageAmounts,
  points: Schema.Array(UsageReportPoint)
})
export type UsageReportSeries = typeof UsageReportSeries.Type

export const UsageReport = Schema.Struct({
  object: Schema.Literal("usage.report"),
  group_by: Schema.Literals(USAGE_GROUP_BYS),
  interval: Schema.Literals(USAGE_INTERVALS),
  /** Start of the first bucket (RFC 3339, UTC). */
  from: Schema.String,
  /** End of the range, exclusive (RFC 3339, UTC). */
  to: Schema.String,
  /** Buckets in the range (the last may end after `to`). */
  buckets: Count,
  limit: Count,
  filters: Schema.Struct({
    key: Schema.optionalKey(Schema.String),
    project: Schema.optionalKey(Schema.String),
    user: Schema.optionalKey(Schema.String),
    model: Schema.optionalKey(Schema.String),
    provider: Schema.optionalKey(Schema.String)
  }),
  /** Whether this gateway records usage (`usage.enabled`); when not, every report is empty. */
  recording: Schema.Boolean,
  series: Schema.Array(UsageReportSeries),
  /** The groups beyond `limit`, summed into one series (`group` null); null when there are none. */
  other: Schema.NullOr(
    Schema.Struct({
      groups: Count,
      label: Schema.String,
      totals: UsageAmounts,
      points: Schema.Array(UsageReportPoint)
    })
  ),
  totals: UsageAmounts
})
export type UsageReport = typeof UsageReport.Type

// ---- parsing ------------------------------------------------------------------------------------

const invalid = (param: string, message: string): GatewayError =>
  gatewayError({ _tag: "InvalidRequest", param, message: `${param}: ${message}` })

const iso = (ms: number): string => new Date(ms).toISOString()

const oneOf = <A extends string>(values: ReadonlyArray<A>, value: string): value is A => values.includes(value as A)

/**
 * An instant in a query: RFC 3339 (`2026-05-01T12:00:00Z`, `…+02:00`; a `+` that the query string
 * turned into a space is read as `+`), a date (`2026-05-01`, 00:00 UTC) or epoch seconds.
 */
const instant = (param: string, value: string): number | GatewayError => {
  if (/^\d{1,11}(\.\d{1,3})?$/.test(value)) return Math.floor(Number(value) * 1000)
  const ms = timestampMillis(value.replace(/ (\d{2}:\d{2})$/, "+$1"))
  return ms ?? invalid(param, `expected an RFC 3339 timestamp ("2026-05-01T12:00:00Z"), a date or epoch seconds`)
}

const autoInterval = (spanMs: number): UsageInterval =>
  spanMs <= 6 * 60 * MINUTE_MS ? "minute" : spanMs <= 14 * 24 * 60 * MINUTE_MS ? "hour" : "day"

const spanText = (ms: number): string => {
  const hours = ms / (60 * MINUTE_MS)
  return hours < 48 ? `${Math.round(hours * 10) / 10} h` : `${Math.round(hours / 2.4) / 10} days`
}

/**
 * The query of `GET /admin/v1/usage` (and its graph, whose `metric` is among `extra`): validated,
 * defaulted and bounded, or a 400 `invalid_request` naming the parameter. `now` is epoch ms.
 */
export const parseUsageQuery = (
  params: URLSearchParams,
  now: number,
  extra: ReadonlyArray<string> = []
): UsageReportQuery | GatewayError => {
  const allowed = [...QUERY_PARAMS, ...extra]
  const seen = new Set<string>()
  for (const [name] of params) {
    if (!allowed.includes(name)) return invalid(name, `unknown query parameter (allowed: ${allowed.join(", ")})`)
    if (seen.has(name)) return invalid(name, "given more than once")
    seen.add(name)
  }
  const groupBy = params.get("group_by") ?? DEFAULT_GROUP_BY
  if (!oneOf(USAGE_GROUP_BYS, groupBy)) return invalid("group_by", `expected one of ${USAGE_GROUP_BYS.join(", ")}`)
  const intervalParam = params.get("interval")
  if (intervalParam !== null && !oneOf(USAGE_INTERVALS, intervalParam))
    return invalid("interval", `expected one of ${USAGE_INTERVALS.join(", ")}`)
  const limitParam = params.get("limit")
  const limit = limitParam === null ? DEFAULT_GROUPS : Number(limitParam)
  if (limitParam !== null && (!/^\d+$/.test(limitParam) || limit < 1 || limit > MAX_GROUPS))
    return invalid("limit", `expected an integer from 1 to ${MAX_GROUPS} (groups answered as their own series)`)

  const toParam = params.get("to")
  const to = toParam === null ? now : instant("to", toParam)
  if (typeof to !== "number") return to
  const fromParam = params.get("from")
  const givenFrom = fromParam === null ? to - DEFAULT_RANGE_MS : instant("from", fromParam)
  if (typeof givenFrom !== "number") return givenFrom
  if (givenFrom >= to) return invalid("from", `must be before to (from ${iso(givenFrom)}, to ${iso(to)})`)

  const interval = intervalParam ?? autoInterval(to - givenFrom)
  const width = intervalMs(interval)
  const from = Math.floor(givenFrom / width) * width
  const buckets = Math.ceil((to - from) / width)
  if (buckets > MAX_BUCKETS) {
    return intervalParam === null
      ? invalid(
          "from",
          `the range from ${iso(from)} to ${iso(to)} spans ${buckets} days; at most ${MAX_BUCKETS} are answered`
        )
      : invalid(
          "interval",
          `${interval} over ${spanText(to - from)} (${iso(from)} to ${iso(to)}) makes ${buckets} buckets; ` +
            `at most ${MAX_BUCKETS} are answered: choose a wider interval or a shorter range`
        )
  }

  const filters: Record<string, string> = {}
  for (const name of FILTER_NAMES) {
    const value = params.get(name)
    if (value === null) continue
    if (value === "" || value.length > MAX_FILTER_LENGTH)
      return invalid(name, `expected an id or name of 1 to ${MAX_FILTER_LENGTH} characters`)
    filters[FILTER_PARAMS[name]] = value
  }
  return { group_by: groupBy, interval, from, to, limit, filters }
}

/** The `metric` of a graph query (default requests), or a 400 naming it. */
export const parseMetric = (params: URLSearchParams): UsageMetric | GatewayError => {
  const metric = params.get("metric") ?? DEFAULT_METRIC
  return oneOf(USAGE_METRICS, metric) ? metric : invalid("metric", `expected one of ${USAGE_METRICS.join(", ")}`)
}

// ---- the report ---------------------------------------------------------------------------------

/** What a null group means, per group_by. */
const NONE_LABEL: Readonly<Record<UsageGroupBy, string>> = {
  key: "(master key)",
  project: "(no project)",
  user: "(no user)",
  model: "(none)",
  provider: "(not served)"
}

/** How a group is shown: its value, or what null means for the group_by. */
export const groupLabel = (groupBy: UsageGroupBy, group: string | null): string => group ?? NONE_LABEL[groupBy]

/** The value a chart plots. */
export const metricValue = (amounts: UsageAmounts, metric: UsageMetric): number =>
  metric === "requests" ? amounts.requests : metric === "tokens" ? amounts.tokens.total : amounts.cost_usd

/** Floating-point sums of costs, without their last-bit noise. */
const usd = (n: number): number => Math.round(n * 1e10) / 1e10

interface Sum {
  requests: number
  tokens: { input: number; cache_read: number; cache_write: number; reasoning: number; output: number }
  cost: number
}
const emptySum = (): Sum => ({ requests: 0, tokens: { ...NO_USAGE }, cost: 0 })
const add = (sum: Sum, requests: number, tokens: TokenUsage, cost: number): void => {
  sum.requests += requests
  sum.tokens.input += tokens.input
  sum.tokens.cache_read += tokens.cache_read
  sum.tokens.cache_write += tokens.cache_write
  sum.tokens.reasoning += tokens.reasoning
  sum.tokens.output += tokens.output
  sum.cost += cost
}
const amounts = (sum: Sum): UsageAmounts => ({
  requests: sum.requests,
  tokens: { ...sum.tokens, total: totalTokens(sum.tokens) },
  cost_usd: usd(sum.cost)
})

/** Points summed per bucket, in bucket order. */
const pointsOf = (points: ReadonlyArray<UsageSeriesPoint>): ReadonlyArray<UsageReportPoint> => {
  const byBucket = new Map<number, Sum>()
  for (const p of points) {
    const sum = byBucket.get(p.bucket_start) ?? emptySum()
    byBucket.set(p.bucket_start, sum)
    add(sum, p.requests, p.tokens, p.cost_usd)
  }
  return [...byBucket.entries()].sort(([a], [b]) => a - b).map(([at, sum]) => ({ bucket: iso(at), ...amounts(sum) }))
}

const totalsOf = (points: ReadonlyArray<UsageSeriesPoint>): UsageAmounts => {
  const sum = emptySum()
  for (const p of points) add(sum, p.requests, p.tokens, p.cost_usd)
  return amounts(sum)
}

/** Ranks groups: higher cost first, then more requests, more tokens, then by label. */
const byWeight = (a: UsageReportSeries, b: UsageReportSeries): number =>
  b.totals.cost_usd - a.totals.cost_usd ||
  b.totals.requests - a.totals.requests ||
  b.totals.tokens.total - a.totals.tokens.total ||
  (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)

/** The report of a query from the store's points (one per bucket and group, as `UsageStore.series` answers). */
export const buildReport = (
  query: UsageReportQuery,
  points: ReadonlyArray<UsageSeriesPoint>,
  recording: boolean
): UsageReport => {
  const byGroup = new Map<string | null, Array<UsageSeriesPoint>>()
  for (const p of points) {
    const list = byGroup.get(p.group)
    if (list === undefined) byGroup.set(p.group, [p])
    else list.push(p)
  }
  const ranked = [...byGroup.entries()]
    .map(([group, list]) => ({
      series: {
        group,
        label: groupLabel(query.group_by, group),
        totals: totalsOf(list),
        points: pointsOf(list)
      } satisfies UsageReportSeries,
      list
    }))
    .sort((a, b) => byWeight(a.series, b.series))
  const rest = ranked.slice(query.limit)
  const filters: Record<string, string> = {}
  for (const name of FILTER_NAMES) {
    const value = query.filters?.[FILTER_PARAMS[name]]
    if (value !== undefined) filters[name] = value
  }
  const width = intervalMs(query.interval)
  return {
    object: "usage.report",
    group_by: query.group_by,
    interval: query.interval,
    from: iso(query.from),
    to: iso(query.to),
    buckets: Math.ceil((query.to - query.from) / width),
    limit: query.limit,
    filters,
    recording,
    series: ranked.slice(0, query.limit).map((r) => r.series),
    other:
      rest.length === 0
        ? null
        : {
            groups: rest.length,
            label: `other (${rest.length} ${rest.length === 1 ? "group" : "groups"})`,
            totals: totalsOf(rest.flatMap((r) => r.list)),
            points: pointsOf(rest.flatMap((r) => r.list))
          },
    totals: totalsOf(points)
  }
}

// ---- the service --------------------------------------------------------------------------------

export interface UsageReportsShape {
  readonly report: (query: UsageReportQuery) => Effect.Effect<UsageReport, GatewayError>
}

/** Usage reports as the admin API asks for them (a worker's go to the owner, which holds the store). */
export class UsageReports extends Context.Service<UsageReports, UsageReportsShape>()("llmgate/UsageReports") {}

/** Reports over the owner's usage store; a store that cannot be read is a 503. */
export const makeUsageReports = (store: UsageStoreShape, recording: boolean): UsageReportsShape => ({
  report: (query) =>
    store.series(query).pipe(
      Effect.map((points) => buildReport(query, points, recording)),
      Effect.mapError((e) =>
        gatewayError({
          _tag: "Unavailable",
          message: `The usage store (${store.description}) could not be read: ${e.message}`
        })
      )
    )
})
