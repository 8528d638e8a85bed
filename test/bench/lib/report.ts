/**
 * Turns the per-round measurements into derived figures (vs direct, vs the bare proxy on the same
 * runtime), medians with min–max over rounds, PASS/MISS against the targets, and markdown.
 */
import { spread, type Spread } from "./stats.ts"

export type Runtime = "node" | "bun" | "deno"
export type Kind = "direct" | "bare" | "llmgate"

/**
 * A llmgate target of the variant scenarios (test/bench/lib/config.ts `Auth`): for the limits scenario a
 * virtual key without limits, or with limits; for the observability scenario the master key with every
 * exporter off, with the metrics only, or with OTLP tracing only.
 */
export type Variant = "key" | "limited" | "quiet" | "metrics" | "traced"

export interface Target {
  readonly id: string
  readonly kind: Kind
  readonly runtime: Runtime | undefined
  /** A variant-scenario llmgate (that scenario only); absent: the master key, every scenario. */
  readonly variant?: Variant
}

export type Metrics = Record<string, number>

export interface Measurement {
  readonly round: number
  readonly target: string
  readonly scenario: string
  readonly metrics: Metrics
  readonly failures?: Record<string, number>
  /** The repetition within the round, for scenarios measured several times per round (limits). */
  readonly rep?: number
}

const find = (ms: ReadonlyArray<Measurement>, round: number, target: string, scenario: string): Metrics | undefined =>
  ms.find((m) => m.round === round && m.target === target && m.scenario === scenario)?.metrics

/** Per-round differences against direct and ratios against the bare proxy of the same runtime. */
export const derive = (ms: ReadonlyArray<Measurement>, targets: ReadonlyArray<Target>): Array<Measurement> => {
  const out: Array<Measurement> = []
  const rounds = [...new Set(ms.map((m) => m.round))]
  for (const round of rounds) {
    const diff = (t: string, scenario: string, metric: string): number =>
      (find(ms, round, t, scenario)?.[metric] ?? Number.NaN) -
      (find(ms, round, "direct", scenario)?.[metric] ?? Number.NaN)
    for (const t of targets) {
      if (t.kind === "direct" || t.variant !== undefined) continue
      out.push({
        round,
        target: t.id,
        scenario: "vs_direct",
        metrics: {
          added_p50: diff(t.id, "nonstream_c1", "p50"),
          added_p99: diff(t.id, "nonstream_c1", "p99"),
          ttfb_c1_p50: diff(t.id, "ttfb_c1", "ttfb_p50"),
          ttfb_c1_p99: diff(t.id, "ttfb_c1", "ttfb_p99"),
          ttfb_c64_p50: diff(t.id, "ttfb_c64", "ttfb_p50"),
          ttfb_c64_p99: diff(t.id, "ttfb_c64", "ttfb_p99"),
          chunk_delay_p50: diff(t.id, "chunks_c1", "relay_p50"),
          chunk_delay_p99: diff(t.id, "chunks_c1", "relay_p99"),
          long_relay_p50: diff(t.id, "long_streams", "relay_p50")
        }
      })
    }
  }
  for (const round of rounds) {
    for (const t of targets) {
      if (t.kind !== "llmgate" || t.variant !== undefined) continue
      const bare = `bare-${t.runtime}`
      const mine = (scenario: string, metric: string): number =>
        (scenario === "vs_direct"
          ? out.find((m) => m.round === round && m.target === t.id && m.scenario === scenario)?.metrics
          : find(ms, round, t.id, scenario))?.[metric] ?? Number.NaN
      const theirs = (scenario: string, metric: string): number =>
        (scenario === "vs_direct"
          ? out.find((m) => m.round === round && m.target === bare && m.scenario === scenario)?.metrics
          : find(ms, round, bare, scenario))?.[metric] ?? Number.NaN
      out.push({
        round,
        target: t.id,
        scenario: "vs_bare",
        metrics: {
          rps_ratio: mine("nonstream_c64", "rps") / theirs("nonstream_c64", "rps"),
          cpu_ratio: mine("nonstream_c64", "cpu_ms_per_req") / theirs("nonstream_c64", "cpu_ms_per_req"),
          added_p50_minus_bare: mine("vs_direct", "added_p50") - theirs("vs_direct", "added_p50"),
          stream_rps_ratio: mine("ttfb_c64", "rps") / theirs("ttfb_c64", "rps"),
          ttfb_c1_minus_bare: mine("vs_direct", "ttfb_c1_p50") - theirs("vs_direct", "ttfb_c1_p50")
        }
      })
    }
  }
  return out
}

/** Per round: each worker count's req/s over the first count's, for `id(runtime, workers)` targets. */
export const deriveWorkers = (
  ms: ReadonlyArray<Measurement>,
  runtimes: ReadonlyArray<Runtime>,
  counts: ReadonlyArray<number>,
  id: (runtime: Runtime, workers: number) => string
): Array<Measurement> => {
  const out: Array<Measurement> = []
  const base = counts[0]
  if (base === undefined) return out
  for (const round of new Set(ms.map((m) => m.round))) {
    for (const runtime of runtimes) {
      const first = find(ms, round, id(runtime, base), "workers_c64")
      for (const n of counts.slice(1)) {
        const mine = find(ms, round, id(runtime, n), "workers_c64")
        if (first === undefined || mine === undefined) continue
        out.push({
          round,
          target: id(runtime, n),
          scenario: "vs_first_count",
          metrics: {
            rps_ratio: (mine["rps"] ?? Number.NaN) / (first["rps"] ?? Number.NaN),
            cpu_ratio: (mine["cpu_ms_per_req"] ?? Number.NaN) / (first["cpu_ms_per_req"] ?? Number.NaN)
          }
        })
      }
    }
  }
  return out
}

export type Summary = Record<string, Record<string, Record<string, Spread>>>

export const summarize = (ms: ReadonlyArray<Measurement>): Summary => {
  const values = new Map<string, Array<number>>()
  for (const m of ms) {
    for (const [metric, v] of Object.entries(m.metrics)) {
      const key = `${m.target}\u0000${m.scenario}\u0000${metric}`
      const list = values.get(key)
      if (list) list.push(v)
      else values.set(key, [v])
    }
  }
  const out: Summary = {}
  for (const [key, list] of values) {
    const [target = "", scenario = "", metric = ""] = key.split("\u0000")
    const s = spread(list)
    if (s.n === 0) continue
    out[target] ??= {}
    out[target][scenario] ??= {}
    out[target][scenario][metric] = s
  }
  return out
}

// ---- formatting ----------------------------------------------------------------------------------

const num = (v: number, digits: number): string =>
  !Number.isFinite(v) ? "—" : Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en-US") : v.toFixed(digits)

export const cell = (s: Spread | undefined, digits = 2, suffix = ""): string => {
  if (s === undefined || s.n === 0) return "—"
  const m = num(s.median, digits) + suffix
  return s.n > 1 && s.min !== s.max ? `${m} (${num(s.min, digits)}–${num(s.max, digits)})` : m
}

export const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`)
  ].join("\n")

// ---- targets -------------------------------------------------------------------------------------

export interface Criterion {
  readonly id: string
  readonly label: string
  readonly runtime: Runtime
  readonly value: number
  readonly display: string
  readonly pass: boolean | undefined
}

export const evaluate = (summary: Summary, runtimes: ReadonlyArray<Runtime>): Array<Criterion> => {
  const out: Array<Criterion> = []
  for (const runtime of runtimes) {
    const g = summary[`llmgate-${runtime}`] ?? {}
    const med = (scenario: string, metric: string): number => g[scenario]?.[metric]?.median ?? Number.NaN
    const add = (id: string, label: string, value: number, ok: (v: number) => boolean, display: string): void => {
      out.push({ id, label, runtime, value, display, pass: Number.isFinite(value) ? ok(value) : undefined })
    }
    const rpsRatio = med("vs_bare", "rps_ratio")
    add(
      "rps_vs_bare",
      "non-streaming req/s at 64 connections ≥ 70% of the bare proxy's",
      rpsRatio,
      (v) => v >= 0.7,
      `${num(rpsRatio * 100, 0)}%`
    )
    const p50 = med("vs_bare", "added_p50_minus_bare")
    add(
      "added_p50",
      "added latency at 1 connection, p50 ≤ bare proxy's + 0.15 ms",
      p50,
      (v) => v <= 0.15,
      `bare ${p50 >= 0 ? "+" : ""}${num(p50, 3)} ms`
    )
    const p99 = med("vs_direct", "added_p99")
    add("added_p99", "added latency at 1 connection, p99 ≤ 2 ms", p99, (v) => v <= 2, `${num(p99, 3)} ms`)
    const ttfb = med("vs_direct", "ttfb_c1_p50")
    add(
      "ttfb_c1",
      "streaming first-byte overhead at 1 connection ≤ 0.5 ms (p50)",
      ttfb,
      (v) => v <= 0.5,
      `${num(ttfb, 3)} ms`
    )
    const chunk = med("vs_direct", "chunk_delay_p50")
    add(
      "chunk_delay",
      "no added delay per chunk: upstream write → client, vs direct ≤ 0.5 ms (p50)",
      chunk,
      (v) => v <= 0.5,
      `${num(chunk, 3)} ms`
    )
    const errors = med("long_streams", "errors")
    add(
      "streams_errors",
      "1,000 concurrent streams: zero errors",
      g["long_streams"]?.["errors"]?.max ?? Number.NaN,
      (v) => v === 0,
      `${num(g["long_streams"]?.["errors"]?.max ?? Number.NaN, 0)} (worst round; median ${num(errors, 0)})`
    )
    const growth = med("long_streams", "rss_growth_mb")
    add("streams_rss", "1,000 concurrent streams: RSS growth ≤ 40 MB", growth, (v) => v <= 40, `${num(growth, 1)} MB`)
    const idle = med("startup", "idle_rss_mb")
    add("idle_rss", "idle RSS ≤ 80 MB", idle, (v) => v <= 80, `${num(idle, 1)} MB`)
    const spawn = med("startup", "spawn_to_first_ms")
    add("spawn", "spawn to first proxied request ≤ 400 ms", spawn, (v) => v <= 400, `${num(spawn, 0)} ms`)
    const one = med("shared_state", "ns_shared_1")
    const two = med("shared_state", "ns_shared_2")
    add(
      "shared_state",
      "shared routing state < 2 µs per request, 1 thread / 2 threads contending (sharedState.ts)",
      Math.max(one, two),
      (v) => v < 2000,
      `${num(one, 0)} / ${num(two, 0)} ns`
    )
    const metricsCost = med("observability_vs", "cpu_metrics_vs_quiet")
    add(
      "metrics_cpu",
      "Prometheus metrics add < 5 % CPU per request (metrics on ÷ every exporter off, CPU ms/req at 64 connections)",
      metricsCost,
      (v) => v < 1.05,
      `${metricsCost >= 1 ? "+" : ""}${num((metricsCost - 1) * 100, 1)} %`
    )
    const tracingCost = med("observability_vs", "cpu_traced_vs_quiet")
    add(
      "otlp_cpu",
      "OTLP tracing of every request adds < 5 % CPU per request (traced ÷ every exporter off, CPU ms/req at 64 connections)",
      tracingCost,
      (v) => v < 1.05,
      `${tracingCost >= 1 ? "+" : ""}${num((tracingCost - 1) * 100, 1)} %`
    )
    const limits = med("limits_vs", "cpu_limited_vs_key")
    add(
      "limits_cpu",
      "limits and usage recording add < 5 % CPU per request (limited key with recording ÷ key without limits or recording, CPU ms/req at 64 connections)",
      limits,
      (v) => v < 1.05,
      `${limits >= 1 ? "+" : ""}${num((limits - 1) * 100, 1)} %`
    )
  }
  return out
}

export const verdict = (c: Criterion | undefined): string =>
  c === undefined || c.pass === undefined ? "n/a" : `${c.display} ${c.pass ? "**PASS**" : "**MISS**"}`
