/**
 * A usage report as an SVG line chart (`GET /admin/v1/usage/graph`, also what the usage page
 * shows): a title, time on the x axis (UTC, every bucket of the range), the chosen metric on the y
 * axis from 0 with round tick values, one line per group (`<path class="series">`, a distinct
 * colour each; `other` dashed grey) with a dot per bucket when there are few, and a legend naming
 * each group with its total. Pure: report in, a standalone SVG document out. Every text and
 * attribute value is escaped (group names are user data), and it uses presentation attributes only
 * (no `<style>`, no script, no external reference), so it can be served under a CSP of
 * `default-src 'none'` and embedded as it is.
 */
import { intervalMs, type UsageInterval } from "../domain/UsageSeries.ts"
import {
  metricValue,
  type UsageAmounts,
  type UsageMetric,
  type UsageReport,
  type UsageReportPoint
} from "./UsageReport.ts"

export interface GraphSize {
  readonly width: number
  readonly height: number
}

export const DEFAULT_GRAPH_SIZE: GraphSize = { width: 960, height: 420 }

/** Tableau's 20 colours, the strong ones first: distinct for up to 20 groups. */
const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#59a14f",
  "#b07aa1",
  "#9d7660",
  "#499894",
  "#d37295",
  "#b6992d",
  "#79706e",
  "#a0cbe8",
  "#ffbe7d",
  "#ff9d9a",
  "#8cd17d",
  "#d4a6c8",
  "#d7b5a6",
  "#86bcb6",
  "#fabfd2",
  "#f1ce63",
  "#bab0ac"
]
const OTHER_COLOUR = "#6b6b6b"
/** Dots on every bucket up to this many buckets (a single bucket would otherwise draw nothing). */
const MARKERS_UP_TO = 60
const LEGEND_CHARS = 26
/** Buckets between x-axis labels, per interval: the first that gives at most 7 labels. */
const TICK_STEPS: Readonly<Record<UsageInterval, ReadonlyArray<number>>> = {
  minute: [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720],
  hour: [1, 2, 3, 6, 12, 24, 48, 72, 168, 336],
  day: [1, 2, 7, 14, 28, 56, 91, 182, 364]
}
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'

/** Text and attribute values escaped for XML. */
export const escapeXml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&#39;"
  )

const METRIC_TITLE: Readonly<Record<UsageMetric, string>> = {
  requests: "Requests",
  tokens: "Tokens",
  cost: "Cost (USD)"
}
const INTERVAL_TITLE: Readonly<Record<UsageInterval, string>> = { minute: "minute", hour: "hour", day: "day" }

/** A value as an axis or legend shows it: `1.2k`, `3.4M`, `$0.0012`. */
export const formatMetric = (value: number, metric: UsageMetric): string => {
  if (metric === "cost") {
    if (value === 0) return "$0"
    return value >= 1 ? `$${value.toFixed(2)}` : `$${Number(value.toPrecision(3))}`
  }
  const abs = Math.abs(value)
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`
  return String(Number(value.toPrecision(4)))
}

/** `2026-05-01 14:00` (minute and hour buckets) or `2026-05-01` (days), UTC. */
export const formatBucket = (ms: number, interval: UsageInterval): string => {
  const s = new Date(ms).toISOString()
  return interval === "day" ? s.slice(0, 10) : `${s.slice(0, 10)} ${s.slice(11, 16)}`
}

/** Round tick values from 0 to at least `max` (about `count` of them). */
export const niceTicks = (max: number, count: number, integer: boolean): ReadonlyArray<number> => {
  if (!(max > 0)) return [0, 1]
  const raw = max / count
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const step = Math.max(
    integer ? 1 : 0,
    [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= raw) ?? 10 * magnitude
  )
  const ticks: Array<number> = []
  for (let v = 0; v < max + step / 2; v += step) ticks.push(Number(v.toPrecision(12)))
  if ((ticks.at(-1) ?? 0) < max) ticks.push(Number((ticks.length * step).toPrecision(12)))
  return ticks
}

const truncate = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

const n = (x: number): string => String(Math.round(x * 10) / 10)

interface Line {
  readonly label: string
  readonly colour: string
  readonly dashed: boolean
  readonly totals: UsageAmounts
  readonly values: ReadonlyArray<number>
}

/** The chart of a report, as a standalone SVG document. */
export const renderUsageGraph = (
  report: UsageReport,
  metric: UsageMetric,
  size: GraphSize = DEFAULT_GRAPH_SIZE
): string => {
  const { width } = size
  const from = Date.parse(report.from)
  const step = intervalMs(report.interval)
  const buckets = Math.max(1, report.buckets)
  const dense = (points: ReadonlyArray<UsageReportPoint>): ReadonlyArray<number> => {
    const values = new Array<number>(buckets).fill(0)
    for (const p of points) {
      const i = Math.round((Date.parse(p.bucket) - from) / step)
      if (i >= 0 && i < buckets) values[i] = metricValue(p, metric)
    }
    return values
  }
  const lines: Array<Line> = report.series.map((s, i) => ({
    label: s.label,
    colour: PALETTE[i % PALETTE.length] ?? OTHER_COLOUR,
    dashed: false,
    totals: s.totals,
    values: dense(s.points)
  }))
  if (report.other !== null)
    lines.push({
      label: report.other.label,
      colour: OTHER_COLOUR,
      dashed: true,
      totals: report.other.totals,
      values: dense(report.other.points)
    })

  // Layout: title above, y labels left, legend right, x labels below.
  const left = 72
  const right = 230
  const top = 56
  const bottom = 56
  // Tall enough for the legend.
  const height = Math.max(size.height, top + bottom + 16 + lines.length * 18)
  const plotW = width - left - right
  const plotH = height - top - bottom
  const max = Math.max(0, ...lines.flatMap((l) => l.values))
  const yTicks = niceTicks(max, 5, metric !== "cost")
  const yMax = yTicks.at(-1) ?? 1
  const x = (i: number) => left + ((i + 0.5) * plotW) / buckets
  const y = (v: number) => top + plotH - (v / yMax) * plotH

  const out: Array<string> = []
  const title = `${METRIC_TITLE[metric]} by ${report.group_by}, per ${INTERVAL_TITLE[report.interval]}`
  const range = `${formatBucket(from, "hour")} to ${formatBucket(Date.parse(report.to), "hour")} UTC · total ${formatMetric(metricValue(report.totals, metric), metric)}`
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="usage-title" ${FONT}>`,
    `<title id="usage-title">${escapeXml(`${title}, ${range}`)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text class="title" x="${left}" y="24" font-size="16" font-weight="600" fill="#222">${escapeXml(title)}</text>`,
    `<text class="subtitle" x="${left}" y="42" font-size="12" fill="#555">${escapeXml(range)}</text>`
  )

  // Y axis: grid lines and labels.
  out.push(`<g class="axis y-axis" font-size="11" fill="#555" text-anchor="end">`)
  for (const v of yTicks) {
    const yy = n(y(v))
    out.push(
      `<line x1="${left}" y1="${yy}" x2="${left + plotW}" y2="${yy}" stroke="#e5e5e5"/>`,
      `<text class="tick" x="${left - 8}" y="${yy}" dy="4">${escapeXml(formatMetric(v, metric))}</text>`
    )
  }
  out.push(
    `<text class="axis-label" transform="translate(16 ${n(top + plotH / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(METRIC_TITLE[metric])}</text>`,
    `</g>`
  )

  // X axis: at most about 7 labelled ticks, on round bucket boundaries (every 15 minutes, 6 hours, 7 days, …).
  const every = (TICK_STEPS[report.interval].find((k) => buckets / k <= 7) ?? Math.ceil(buckets / 6)) || 1
  out.push(`<g class="axis x-axis" font-size="11" fill="#555" text-anchor="middle">`)
  out.push(`<line x1="${left}" y1="${n(top + plotH)}" x2="${left + plotW}" y2="${n(top + plotH)}" stroke="#888"/>`)
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${n(top + plotH)}" stroke="#888"/>`)
  let lastDay = ""
  for (let i = 0; i <= buckets; i++) {
    if (Math.round((from + i * step) / step) % every !== 0) continue
    const xx = n(left + (i * plotW) / buckets)
    // Minutes and hours show the date only where it changes.
    const label = formatBucket(from + i * step, report.interval)
    const day = label.slice(0, 10)
    const shown = report.interval === "day" || day !== lastDay ? label : label.slice(11)
    lastDay = day
    out.push(
      `<line x1="${xx}" y1="${n(top + plotH)}" x2="${xx}" y2="${n(top + plotH + 5)}" stroke="#888"/>`,
      `<text class="tick" x="${xx}" y="${n(top + plotH + 18)}">${escapeXml(shown)}</text>`
    )
  }
  out.push(`<text class="axis-label" x="${n(left + plotW / 2)}" y="${n(height - 12)}">time (UTC)</text>`, `</g>`)

  // One line per group.
  out.push(`<g class="lines" fill="none" stroke-width="2" stroke-linejoin="round" stroke-linecap="round">`)
  for (const line of lines) {
    const d = line.values.map((v, i) => `${i === 0 ? "M" : "L"}${n(x(i))} ${n(y(v))}`).join(" ")
    out.push(
      `<path class="series" data-group="${escapeXml(line.label)}" d="${d}" stroke="${line.colour}"${line.dashed ? ' stroke-dasharray="6 4"' : ""}/>`
    )
    if (buckets <= MARKERS_UP_TO) {
      out.push(`<g class="markers" fill="${line.colour}" stroke="none">`)
      line.values.forEach((v, i) => {
        out.push(`<circle cx="${n(x(i))}" cy="${n(y(v))}" r="2.5"/>`)
      })
      out.push(`</g>`)
    }
  }
  out.push(`</g>`)

  if (lines.length === 0) {
    const why = report.recording ? "No usage recorded in this range" : "Usage recording is off (usage.enabled: false)"
    out.push(
      `<text class="empty" x="${n(left + plotW / 2)}" y="${n(top + plotH / 2)}" font-size="14" fill="#777" text-anchor="middle">${escapeXml(why)}</text>`
    )
  }

  // The legend: a swatch, the group and its total.
  out.push(`<g class="legend" font-size="12" fill="#222">`)
  lines.forEach((line, i) => {
    const ly = top + 8 + i * 18
    const lx = left + plotW + 16
    out.push(
      `<g class="legend-entry" data-group="${escapeXml(line.label)}">`,
      `<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${line.colour}" stroke-width="3"${line.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
      `<text x="${lx + 24}" y="${ly}" dy="4">${escapeXml(`${truncate(line.label, LEGEND_CHARS)} (${formatMetric(metricValue(line.totals, metric), metric)})`)}</text>`,
      `</g>`
    )
  })
  out.push(`</g>`, `</svg>`)
  return out.join("\n")
}
