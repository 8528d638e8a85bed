// The usage report's query (defaults, bounds, every parameter's validation naming it) and the report
// built from the store's points (series per group, ranking, `other`, totals, labels).
import { describe, expect, it } from "vitest"
import { type GatewayError, describe as describeError } from "../../../src/domain/GatewayError.ts"
import { NO_USAGE, type TokenUsage } from "../../../src/domain/Usage.ts"
import type { UsageSeriesPoint } from "../../../src/domain/UsageSeries.ts"
import {
  buildReport,
  DEFAULT_GROUPS,
  MAX_BUCKETS,
  parseMetric,
  parseUsageQuery,
  type UsageReportQuery
} from "../../../src/usage/UsageReport.ts"

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
/** 2026-05-01T12:34:56.789Z */
const NOW = Date.UTC(2026, 4, 1, 12, 34, 56, 789)

const parse = (query: string, extra: ReadonlyArray<string> = []) =>
  parseUsageQuery(new URLSearchParams(query), NOW, extra)

const ok = (query: string): UsageReportQuery => {
  const parsed = parse(query)
  if (parsed instanceof Error) throw new Error(`expected a query, got ${parsed.message}`)
  return parsed
}

/** The 400's param and message of a refused query. */
const refused = (query: string, extra: ReadonlyArray<string> = []) => {
  const parsed = parse(query, extra)
  if (!(parsed instanceof Error)) throw new Error(`expected a refusal of ${query}`)
  const d = describeError((parsed as GatewayError).reason)
  return { status: d.status, code: d.code, param: d.param, message: d.message }
}

describe("parseUsageQuery", () => {
  it("defaults: the last 24 hours by model in hours (from rounded down to its hour), 10 groups, no filter", () => {
    expect(ok("")).toEqual({
      group_by: "model",
      interval: "hour",
      from: Date.UTC(2026, 3, 30, 12),
      to: NOW,
      limit: DEFAULT_GROUPS,
      filters: {}
    })
  })

  it("chooses the interval from the span: up to 6 h minutes, up to 14 days hours, longer days", () => {
    expect(ok(`from=${(NOW - HOUR) / 1000}`).interval).toBe("minute")
    expect(ok(`from=${(NOW - 6 * HOUR) / 1000}`).interval).toBe("minute")
    expect(ok(`from=${(NOW - 6 * HOUR - 1000) / 1000}`).interval).toBe("hour")
    expect(ok(`from=${(NOW - 14 * DAY) / 1000}`).interval).toBe("hour")
    expect(ok(`from=${(NOW - 15 * DAY) / 1000}`).interval).toBe("day")
  })

  it("reads RFC 3339 (Z, offsets, a + the query string turned into a space), dates and epoch seconds", () => {
    const at = Date.UTC(2026, 4, 1, 10, 0, 0)
    expect(ok("from=2026-05-01T10:00:00Z&interval=minute").from).toBe(at)
    expect(ok("from=2026-05-01T12:00:00%2B02:00&interval=minute").from).toBe(at)
    expect(ok("from=2026-05-01T12:00:00+02:00&interval=minute").from).toBe(at)
    expect(ok("from=2026-05-01T06:00:00-04:00&interval=minute").from).toBe(at)
    expect(ok(`from=${at / 1000}&interval=minute`).from).toBe(at)
    expect(ok("from=2026-04-30").from).toBe(Date.UTC(2026, 3, 30))
    expect(ok("from=2026-04-01&to=2026-04-02T00:00:00Z")).toMatchObject({
      from: Date.UTC(2026, 3, 1),
      to: Date.UTC(2026, 3, 2),
      interval: "hour"
    })
  })

  it("rounds from down to the start of its bucket (UTC)", () => {
    expect(ok("from=2026-05-01T10:17:30Z&interval=minute").from).toBe(Date.UTC(2026, 4, 1, 10, 17))
    expect(ok("from=2026-04-30T10:17:30Z&interval=hour").from).toBe(Date.UTC(2026, 3, 30, 10))
    expect(ok("from=2026-04-20T10:17:30Z&interval=day").from).toBe(Date.UTC(2026, 3, 20))
  })

  it("maps the filters onto the rollup's columns and takes group_by and limit", () => {
    expect(
      ok("group_by=key&limit=3&key=key_a&project=prj_b&user=usr_c&model=gpt-4o&provider=openai&interval=day")
    ).toMatchObject({
      group_by: "key",
      interval: "day",
      limit: 3,
      filters: { key_id: "key_a", project_id: "prj_b", user_id: "usr_c", model: "gpt-4o", provider: "openai" }
    })
  })

  it("accepts the most buckets there may be and refuses one more, naming interval", () => {
    const to = Date.UTC(2026, 4, 1)
    expect(ok(`to=${to / 1000}&from=${(to - MAX_BUCKETS * MIN) / 1000}&interval=minute`).interval).toBe("minute")
    expect(refused(`to=${to / 1000}&from=${(to - (MAX_BUCKETS + 1) * MIN) / 1000}&interval=minute`)).toMatchObject({
      status: 400,
      code: "invalid_request",
      param: "interval",
      message: expect.stringContaining(`makes ${MAX_BUCKETS + 1} buckets`)
    })
    expect(refused("from=2026-01-01&interval=minute")).toMatchObject({
      param: "interval",
      message: expect.stringMatching(
        /^interval: minute over 120\.5 days .* choose a wider interval or a shorter range$/
      )
    })
    // Chosen automatically, the widest interval still too fine: the range is what is too long.
    expect(refused("from=2020-01-01")).toMatchObject({
      param: "from",
      message: expect.stringContaining("at most 1500")
    })
  })

  it("refuses every invalid parameter with a 400 naming it", () => {
    const cases: ReadonlyArray<readonly [string, string, RegExp]> = [
      ["group_by=team", "group_by", /expected one of key, project, user, model, provider/],
      ["interval=week", "interval", /expected one of minute, hour, day/],
      ["limit=0", "limit", /1 to 20/],
      ["limit=21", "limit", /1 to 20/],
      ["limit=2.5", "limit", /1 to 20/],
      ["from=yesterday", "from", /RFC 3339/],
      ["to=2026-02-30", "to", /RFC 3339/],
      ["from=2026-04-30T10:00:00", "from", /RFC 3339/],
      ["from=2026-05-02", "from", /must be before to/],
      ["from=2026-04-30&to=2026-04-30", "from", /must be before to/],
      ["key=", "key", /1 to 512 characters/],
      [`model=${"m".repeat(513)}`, "model", /1 to 512 characters/],
      ["group_by=key&group_by=model", "group_by", /more than once/],
      ["metric=cost", "metric", /unknown query parameter \(allowed: group_by, from, to, interval, limit, key/],
      ["api_key=x", "api_key", /unknown query parameter/]
    ]
    for (const [query, param, message] of cases) {
      expect(refused(query), query).toMatchObject({ status: 400, code: "invalid_request", param, message })
      expect(refused(query).message.startsWith(`${param}: `), query).toBe(true)
    }
  })

  it("takes the extra parameters it is told of (the graph's metric), which parseMetric checks", () => {
    expect(parse("metric=cost", ["metric"])).not.toBeInstanceOf(Error)
    expect(parseMetric(new URLSearchParams(""))).toBe("requests")
    expect(parseMetric(new URLSearchParams("metric=tokens"))).toBe("tokens")
    const bad = parseMetric(new URLSearchParams("metric=latency"))
    expect(bad instanceof Error ? describeError(bad.reason) : undefined).toMatchObject({
      status: 400,
      param: "metric",
      message: "metric: expected one of requests, tokens, cost"
    })
  })
})

const T0 = Date.UTC(2026, 4, 1)
const tokens = (input: number, output: number, extra: Partial<TokenUsage> = {}): TokenUsage => ({
  ...NO_USAGE,
  input,
  output,
  ...extra
})
const point = (
  bucket: number,
  group: string | null,
  requests: number,
  cost: number,
  t: TokenUsage = tokens(requests * 10, requests * 5)
): UsageSeriesPoint => ({ bucket_start: T0 + bucket * HOUR, group, requests, tokens: t, cost_usd: cost })

const query = (over: Partial<UsageReportQuery> = {}): UsageReportQuery => ({
  group_by: "model",
  interval: "hour",
  from: T0,
  to: T0 + 6 * HOUR,
  limit: 10,
  filters: {},
  ...over
})

describe("buildReport", () => {
  it("one series per group, highest cost first, then most requests; points in time order; totals", () => {
    const report = buildReport(
      query({ filters: { key_id: "key_a", model: "gpt-4o" } }),
      [
        point(0, "cheap", 9, 0.001),
        point(0, "dear", 1, 0.5),
        point(2, "dear", 2, 0.25, tokens(3, 4, { cache_read: 5, reasoning: 6, cache_write: 7 })),
        point(1, "free", 20, 0),
        point(3, "free-few", 1, 0)
      ],
      true
    )
    expect(report).toMatchObject({
      object: "usage.report",
      group_by: "model",
      interval: "hour",
      from: "2026-05-01T00:00:00.000Z",
      to: "2026-05-01T06:00:00.000Z",
      buckets: 6,
      limit: 10,
      filters: { key: "key_a", model: "gpt-4o" },
      recording: true,
      other: null
    })
    expect(report.series.map((s) => [s.label, s.totals.requests, s.totals.cost_usd])).toEqual([
      ["dear", 3, 0.75],
      ["cheap", 9, 0.001],
      ["free", 20, 0],
      ["free-few", 1, 0]
    ])
    const dear = report.series[0]
    expect(dear?.points).toEqual([
      {
        bucket: "2026-05-01T00:00:00.000Z",
        requests: 1,
        tokens: { input: 10, cache_read: 0, cache_write: 0, reasoning: 0, output: 5, total: 15 },
        cost_usd: 0.5
      },
      {
        bucket: "2026-05-01T02:00:00.000Z",
        requests: 2,
        tokens: { input: 3, cache_read: 5, cache_write: 7, reasoning: 6, output: 4, total: 25 },
        cost_usd: 0.25
      }
    ])
    expect(report.totals).toEqual({
      requests: 33,
      tokens: { input: 313, cache_read: 5, cache_write: 7, reasoning: 6, output: 159, total: 490 },
      cost_usd: 0.751
    })
  })

  it("answers `limit` groups and sums the rest into other, bucket by bucket", () => {
    const report = buildReport(
      query({ limit: 2 }),
      [point(0, "a", 5, 3), point(0, "b", 5, 2), point(0, "c", 5, 1), point(1, "c", 1, 0.5), point(1, "d", 7, 0.25)],
      true
    )
    expect(report.series.map((s) => s.label)).toEqual(["a", "b"])
    expect(report.other).toMatchObject({
      groups: 2,
      label: "other (2 groups)",
      totals: { requests: 13, cost_usd: 1.75 },
      points: [
        { bucket: "2026-05-01T00:00:00.000Z", requests: 5, cost_usd: 1 },
        { bucket: "2026-05-01T01:00:00.000Z", requests: 8, cost_usd: 0.75 }
      ]
    })
    expect(report.totals.requests).toBe(23)
  })

  it("labels the null group by what it means for the group_by", () => {
    const labels = (["key", "project", "user", "model", "provider"] as const).map(
      (group_by) => buildReport(query({ group_by }), [point(0, null, 1, 0)], true).series[0]?.label
    )
    expect(labels).toEqual(["(master key)", "(no project)", "(no user)", "(none)", "(not served)"])
    expect(buildReport(query(), [point(0, null, 1, 0)], true).series[0]?.group).toBeNull()
  })

  it("is empty without points, and says whether usage is recorded", () => {
    const report = buildReport(query(), [], false)
    expect(report).toMatchObject({ series: [], other: null, recording: false, totals: { requests: 0, cost_usd: 0 } })
  })

  it("sums costs without floating-point noise", () => {
    const report = buildReport(query(), [point(0, "a", 1, 0.1), point(1, "a", 1, 0.2)], true)
    expect(report.totals.cost_usd).toBe(0.3)
  })
})
