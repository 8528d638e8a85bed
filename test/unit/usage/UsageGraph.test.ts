// The usage chart, parsed as XML (Effect's well-formedness-checking decoder): one series per group with
// distinct colours, a legend naming each, axes with tick labels, a title; user data escaped; empty and
// long ranges.
import { describe, expect, it } from "vitest"
import { escapeXml, formatMetric, niceTicks, renderUsageGraph } from "../../../src/usage/UsageGraph.ts"
import { buildReport, type UsageReport, type UsageReportQuery } from "../../../src/usage/UsageReport.ts"
import { NO_USAGE } from "../../../src/domain/Usage.ts"
import type { UsageSeriesPoint } from "../../../src/domain/UsageSeries.ts"
import { byClass, children, findAll, parseSvg, textOf as text } from "../../support/svg.ts"

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 4, 1)

const point = (hours: number, group: string | null, requests: number, cost = 0): UsageSeriesPoint => ({
  bucket_start: T0 + hours * HOUR,
  group,
  requests,
  tokens: { ...NO_USAGE, input: requests * 10, output: requests * 3 },
  cost_usd: cost
})
const report = (
  points: ReadonlyArray<UsageSeriesPoint>,
  over: Partial<UsageReportQuery> = {},
  recording = true
): UsageReport =>
  buildReport(
    { group_by: "model", interval: "hour", from: T0, to: T0 + 12 * HOUR, limit: 10, filters: {}, ...over },
    points,
    recording
  )

describe("renderUsageGraph", () => {
  it("is a well-formed SVG with a title, both axes with tick labels, one line per group and a legend entry each", async () => {
    const r = report(
      [point(0, "gpt-4o", 4, 0.4), point(3, "gpt-4o", 2, 0.2), point(1, "mini", 9, 0.01), point(2, null, 1)],
      {
        group_by: "provider"
      }
    )
    const root = await parseSvg(renderUsageGraph(r, "requests"))
    expect(root.attributes).toMatchObject({ xmlns: "http://www.w3.org/2000/svg", role: "img" })

    expect(text(byClass(root, "text", "title")[0] ?? root)).toBe("Requests by provider, per hour")
    expect(text(findAll(root, (e) => e.name === "title")[0] ?? root)).toContain("Requests by provider")

    const series = byClass(root, "path", "series")
    expect(series.map((s) => s.attributes["data-group"])).toEqual(["gpt-4o", "mini", "(not served)"])
    const colours = series.map((s) => s.attributes["stroke"])
    expect(new Set(colours).size).toBe(3)
    // Every bucket of the range is a vertex of every line: 12 hours.
    for (const s of series) expect(s.attributes["d"]?.match(/[ML]/g)).toHaveLength(12)

    const legend = byClass(root, "g", "legend-entry")
    expect(legend.map((g) => g.attributes["data-group"])).toEqual(["gpt-4o", "mini", "(not served)"])
    expect(legend.map((g) => text(g).trim())).toEqual(["gpt-4o (6)", "mini (9)", "(not served) (1)"])
    // The legend's swatch has its line's colour.
    expect(legend.map((g) => children(g).find((c) => c.name === "line")?.attributes["stroke"])).toEqual(colours)

    const xTicks = byClass(byClass(root, "g", "x-axis")[0] ?? root, "text", "tick").map(text)
    expect(xTicks[0]).toBe("2026-05-01 00:00")
    expect(xTicks.slice(1)).toEqual(["02:00", "04:00", "06:00", "08:00", "10:00", "12:00"])
    const yTicks = byClass(byClass(root, "g", "y-axis")[0] ?? root, "text", "tick").map(text)
    expect(yTicks[0]).toBe("0")
    expect(Number(yTicks.at(-1))).toBeGreaterThanOrEqual(9)
    expect(text(byClass(root, "g", "x-axis")[0] ?? root)).toContain("time (UTC)")
  })

  it("plots the chosen metric: tokens and cost", async () => {
    const r = report([point(0, "a", 2, 0.004), point(1, "b", 1, 0.5)])
    const tokens = await parseSvg(renderUsageGraph(r, "tokens"))
    expect(byClass(tokens, "g", "legend-entry").map((g) => text(g).trim())).toEqual(["b (13)", "a (26)"])
    const cost = await parseSvg(renderUsageGraph(r, "cost"))
    expect(byClass(cost, "g", "legend-entry").map((g) => text(g).trim())).toEqual(["b ($0.5)", "a ($0.004)"])
    expect(byClass(cost, "text", "title").map(text)).toEqual(["Cost (USD) by model, per hour"])
  })

  it("draws `other` as one more, dashed line", async () => {
    const points = Array.from({ length: 5 }, (_, i) => point(i, `m${i}`, 10 - i))
    const root = await parseSvg(renderUsageGraph(report(points, { limit: 3 }), "requests"))
    const series = byClass(root, "path", "series")
    expect(series.map((s) => s.attributes["data-group"])).toEqual(["m0", "m1", "m2", "other (2 groups)"])
    expect(series.map((s) => s.attributes["stroke-dasharray"])).toEqual([undefined, undefined, undefined, "6 4"])
  })

  it("escapes group names: markup in them is text, never elements", async () => {
    const evil = `<script>alert("x")</script>&amp;'`
    const svg = renderUsageGraph(report([point(0, evil, 1)]), "requests")
    expect(svg).not.toContain("<script")
    const root = await parseSvg(svg)
    expect(findAll(root, (e) => e.name === "script")).toEqual([])
    expect(byClass(root, "path", "series")[0]?.attributes["data-group"]).toBe(evil)
    expect(text(byClass(root, "g", "legend-entry")[0] ?? root)).toContain(`<script>alert("x")</scrip… (1)`)
    expect(escapeXml(`a<b>&"c'`)).toBe("a&lt;b&gt;&amp;&quot;c&#39;")
  })

  it("says why it is empty", async () => {
    const none = await parseSvg(renderUsageGraph(report([]), "requests"))
    expect(byClass(none, "path", "series")).toEqual([])
    expect(byClass(none, "text", "empty").map(text)).toEqual(["No usage recorded in this range"])
    const off = await parseSvg(renderUsageGraph(report([], {}, false), "requests"))
    expect(byClass(off, "text", "empty").map(text)).toEqual(["Usage recording is off (usage.enabled: false)"])
  })

  it("keeps long ranges light: no dots past 60 buckets, x labels on round times; grows to fit 21 legend entries", async () => {
    const points = Array.from({ length: 21 }, (_, i) => point(i * 20, `g${i}`, i + 1))
    const r = buildReport(
      { group_by: "key", interval: "minute", from: T0, to: T0 + 1_440 * 60_000, limit: 20, filters: {} },
      points.map((p) => ({ ...p, bucket_start: T0 + (p.bucket_start - T0) / 60 })),
      true
    )
    const root = await parseSvg(renderUsageGraph(r, "requests"))
    expect(byClass(root, "path", "series")).toHaveLength(21)
    expect(byClass(root, "g", "markers")).toEqual([])
    // Labels on round times, the date where it changes.
    expect(byClass(byClass(root, "g", "x-axis")[0] ?? root, "text", "tick").map(text)).toEqual([
      "2026-05-01 00:00",
      "06:00",
      "12:00",
      "18:00",
      "2026-05-02 00:00"
    ])
    expect(Number(root.attributes["height"])).toBeGreaterThanOrEqual(21 * 18)
  })
})

describe("axis helpers", () => {
  it("niceTicks: round steps from 0 covering the maximum", () => {
    expect(niceTicks(9, 5, true)).toEqual([0, 2, 4, 6, 8, 10])
    expect(niceTicks(1, 5, true)).toEqual([0, 1])
    expect(niceTicks(0, 5, true)).toEqual([0, 1])
    expect(niceTicks(0.0042, 5, false)).toEqual([0, 0.001, 0.002, 0.003, 0.004, 0.005])
    expect(niceTicks(1234, 5, true)).toEqual([0, 250, 500, 750, 1000, 1250])
  })

  it("formatMetric: short numbers and dollars", () => {
    expect(formatMetric(12_345, "tokens")).toBe("12.3k")
    expect(formatMetric(2_500_000, "requests")).toBe("2.5M")
    expect(formatMetric(0.001234, "cost")).toBe("$0.00123")
    expect(formatMetric(12.5, "cost")).toBe("$12.50")
  })
})
