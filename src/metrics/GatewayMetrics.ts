/**
 * The gateway's Prometheus metrics, one exposition for all workers, kept by the owner:
 *
 * - **From the usage records** every worker already sends the owner (one per proxied request, at
 *   its end): requests, durations, time to first token, upstream attempts and their durations,
 *   tokens, cost and the gateway's own overhead. A worker counts nothing for these itself: the
 *   owner reads the record (its `observed` part, domain/Observed.ts, carries the configured model,
 *   the attempts and the timings).
 * - **From the workers' reports**, pulled at each scrape (metrics/WorkerMetrics.ts): requests in
 *   flight, breaker states and transitions, rate-limit and budget refusals. Transition and refusal
 *   counts are cumulative per worker; a worker that exits has its last report kept, so sums never
 *   go down (what it counted after its last report is lost with it).
 * - **The owner's own**: config reloads, the usage writer's stats, and the process.
 *
 * Labels are bounded: configured model names (a pattern model's pattern, `none` when a request
 * matched no model), configured provider names, HTTP statuses, endpoints, limit names, project
 * ids; never a key, a request id or a client's model string. Series are Effect metrics
 * (`effect/Metric`) in a registry of this gateway's own, written out by Effect's Prometheus
 * formatter.
 */
import * as Context from "effect/Context"
import * as Metric from "effect/Metric"
import * as PrometheusMetrics from "effect/observability/PrometheusMetrics"
import type { UsageWriterStats } from "../usage/UsageWriter.ts"
import type { RecountableRecord } from "../usage/Recount.ts"
import type { WorkerMetricsReport } from "./WorkerMetrics.ts"

/** What made the owner read the config again. */
export type ReloadSource = "watch" | "signal" | "admin"
/** How a reload ended: a new version served, nothing changed, the new config refused, the store unreadable. */
export type ReloadResult = "applied" | "unchanged" | "rejected" | "failed"

/** The process as the runtime reports it (cluster/RuntimePort.ts). */
export interface ProcessResources {
  readonly rssBytes: number
  readonly heapUsedBytes: number
  /** User plus system CPU time since the process started, seconds. */
  readonly cpuSeconds: number
  /** When the process started, Unix seconds. */
  readonly startTimeSeconds: number
}

/** Request durations, seconds: 5 ms to 2 min. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
/** The gateway's own time per request, seconds: 50 µs to 1 s. */
export const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.25, 1]

export const TOKEN_TYPES = ["input", "cache_read", "cache_write", "reasoning", "output"] as const

/** The text exposition's content type (Prometheus text format 0.0.4). */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

/** A breaker state as the gauge reports it. */
const BREAKER_VALUES = { closed: 0, half_open: 1, open: 2 } as const

/** Label value for "none": no provider served, no model matched, no project. */
const NONE = "none"

export interface GatewayMetricsShape {
  /** Counts the requests these records end (the owner calls it for every `UsageRecords` message). */
  readonly observe: (records: ReadonlyArray<RecountableRecord>) => void
  readonly reloaded: (source: ReloadSource, result: ReloadResult) => void
  /** Worker `index` exited: its last report's counts are kept. */
  readonly workerGone: (index: number) => void
  /** The exposition, with each live worker's fresh report (by worker index). */
  readonly render: (
    reports: ReadonlyArray<readonly [number, WorkerMetricsReport]>,
    writer: UsageWriterStats | undefined,
    resources: ProcessResources | undefined
  ) => string
}

type Labels = Readonly<Record<string, string>>
/** A metric's series, one Effect metric per label set. */
type Family = (attributes: Labels) => Metric.Metric<number, unknown>

export const makeGatewayMetrics = (): GatewayMetricsShape => {
  const context = Context.make(Metric.MetricRegistry, new Map())
  // A family makes one Effect metric per series, its labels fixed as the metric's own attributes:
  // an update then finds its series' key cached (one metric rewrapped per series recomputes it).
  const counter =
    (name: string, description: string): Family =>
    (attributes) =>
      Metric.counter(name, { description, incremental: true, attributes })
  const gauge =
    (name: string, description: string): Family =>
    (attributes) =>
      Metric.gauge(name, { description, attributes })
  const histogram =
    (name: string, description: string, boundaries: ReadonlyArray<number>): Family =>
    (attributes) =>
      Metric.histogram(name, { description, boundaries, attributes })
  const requests = counter(
    "llmgate_requests_total",
    "Proxied requests, by configured model, provider, HTTP status and endpoint."
  )
  const duration = histogram(
    "llmgate_request_duration_seconds",
    "From a request's arrival to its answer's end (a stream's last byte), by model and endpoint.",
    DURATION_BUCKETS
  )
  const ttft = histogram(
    "llmgate_time_to_first_token_seconds",
    "Streams: from the request's arrival to the first content, by model.",
    DURATION_BUCKETS
  )
  const attempts = counter(
    "llmgate_upstream_attempts_total",
    "Calls to providers, by provider and outcome (ok, client_error, rate_limited, server_error, timeout, unreachable, error)."
  )
  const upstreamDuration = histogram(
    "llmgate_upstream_duration_seconds",
    "One call to a provider until its answer (a stream: its first content), by provider.",
    DURATION_BUCKETS
  )
  const tokens = counter(
    "llmgate_tokens_total",
    "Tokens, by model, provider and type (input without cache reads, cache_read, cache_write, reasoning, output)."
  )
  const cost = counter("llmgate_cost_usd_total", "Cost in US dollars of priced requests, by model and project.")
  const overhead = histogram(
    "llmgate_overhead_seconds",
    "The time the gateway itself added to a request (its answer's time less the time waiting on providers), by endpoint.",
    OVERHEAD_BUCKETS
  )
  const active = gauge("llmgate_active_requests", "Proxied requests in flight (streams until they end), all workers.")
  const breakerState = gauge("llmgate_breaker_state", "Each target's circuit breaker: 0 closed, 1 half_open, 2 open.")
  const transitions = counter("llmgate_breaker_transitions_total", "Circuit breaker transitions, by from and to state.")
  const rejections = counter(
    "llmgate_ratelimit_rejections_total",
    "Requests refused with 429 by a rate limit (its name) or a budget (budget), by scope (key, project, ip)."
  )
  const exportFailures = counter(
    "llmgate_trace_export_failures_total",
    "Failed span exports (each retried), by destination (otlp, langfuse)."
  )
  const reloads = counter(
    "llmgate_config_reloads_total",
    "Config reloads, by what started them (watch, signal, admin) and result (applied, unchanged, rejected, failed)."
  )
  const recordsWritten = counter("llmgate_usage_records_written_total", "Usage records written to the usage store.")
  const recordsDropped = counter(
    "llmgate_usage_records_dropped_total",
    "Usage records dropped because the writer's buffer was full."
  )
  const recordsBuffered = gauge("llmgate_usage_records_buffered", "Usage records waiting to be written.")
  const writeFailures = counter(
    "llmgate_usage_write_failures_total",
    "Failed writes to the usage store (each retried)."
  )
  const rss = gauge("process_resident_memory_bytes", "Resident memory size in bytes.")
  const heap = gauge("process_heap_used_bytes", "JavaScript heap in use, bytes.")
  const cpu = counter("process_cpu_seconds_total", "User and system CPU time spent, seconds.")
  const started = gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, seconds.")

  // One metric object per series: made once, reused by every update.
  const seriesCache = new Map<Family, Map<string, Metric.Metric<number, unknown>>>()
  const series = (family: Family, labels: Labels): Metric.Metric<number, unknown> => {
    let byLabels = seriesCache.get(family)
    if (byLabels === undefined) {
      byLabels = new Map()
      seriesCache.set(family, byLabels)
    }
    let key = ""
    for (const k in labels) key += `${labels[k]}\u0000`
    let found = byLabels.get(key)
    if (found === undefined) {
      found = family(labels)
      byLabels.set(key, found)
    }
    return found
  }
  const add = (family: Family, labels: Labels, value: number) => series(family, labels).updateUnsafe(value, context)

  /**
   * Counters fed from cumulative totals (workers' reports, the writer's stats): what was added so
   * far. A series is made at its first total, 0 included, so an unlabeled counter is there from the
   * first scrape.
   */
  const emitted = new Map<Metric.Metric<number, unknown>, number>()
  const advance = (family: Family, labels: Labels, total: number) => {
    const metric = series(family, labels)
    const before = emitted.get(metric)
    if (before === undefined || total > before) {
      metric.updateUnsafe(total - (before ?? 0), context)
      emitted.set(metric, total)
    }
  }

  /** Each worker's latest report, and the counts of workers that exited. */
  const latest = new Map<number, WorkerMetricsReport>()
  const retired = new Map<string, number>()
  const countsOf = (report: WorkerMetricsReport): ReadonlyArray<readonly [string, number]> => [
    ...report.transitions.map(([from, to, n]) => [`t\u0000${from}\u0000${to}`, n] as const),
    ...report.rejections.map(([limit, scope, n]) => [`r\u0000${limit}\u0000${scope}`, n] as const),
    ...report.exportFailures.map(([destination, n]) => [`e\u0000${destination}\u0000`, n] as const)
  ]
  /** The breaker series last set, so a target gone from routing state stops being reported. */
  let breakerSeries = new Set<string>()

  /**
   * The series a record updates, found once per distinct label values (bounded like the labels),
   * so a record costs one lookup, not one per series; a series is still made at its first update.
   */
  interface RecordSeries {
    readonly labels: { readonly model: string; readonly provider: string; readonly project: string }
    readonly endpoint: string
    readonly requests: Metric.Metric<number, unknown>
    readonly duration: Metric.Metric<number, unknown>
    ttft: Metric.Metric<number, unknown> | undefined
    readonly tokens: Array<Metric.Metric<number, unknown> | undefined>
    cost: Metric.Metric<number, unknown> | undefined
    overhead: Metric.Metric<number, unknown> | undefined
  }
  const recordSeries = new Map<string, RecordSeries>()
  const recordSeriesOf = (model: string, provider: string, status: number, endpoint: string, project: string) => {
    const key = `${model}\u0000${provider}\u0000${status}\u0000${endpoint}\u0000${project}`
    let found = recordSeries.get(key)
    if (found === undefined) {
      found = {
        labels: { model, provider, project },
        endpoint,
        requests: series(requests, { model, provider, status: String(status), endpoint }),
        duration: series(duration, { model, endpoint }),
        ttft: undefined,
        tokens: TOKEN_TYPES.map(() => undefined),
        cost: undefined,
        overhead: undefined
      }
      recordSeries.set(key, found)
    }
    return found
  }
  /** An attempt's series, by provider and outcome. */
  const trySeries = new Map<string, readonly [Metric.Metric<number, unknown>, Metric.Metric<number, unknown>]>()
  const trySeriesOf = (provider: string, outcome: string) => {
    const key = `${provider}\u0000${outcome}`
    let found = trySeries.get(key)
    if (found === undefined) {
      found = [series(attempts, { provider, outcome }), series(upstreamDuration, { provider })]
      trySeries.set(key, found)
    }
    return found
  }

  return {
    observe: (records) => {
      for (const r of records) {
        const project = r.project_id ?? NONE
        const s = recordSeriesOf(r.observed?.model || NONE, r.provider ?? NONE, r.status, r.endpoint, project)
        const { model, provider } = s.labels
        s.requests.updateUnsafe(1, context)
        s.duration.updateUnsafe(r.latency_ms / 1000, context)
        if (r.ttft_ms !== null) {
          s.ttft ??= series(ttft, { model })
          s.ttft.updateUnsafe(r.ttft_ms / 1000, context)
        }
        for (let i = 0; i < TOKEN_TYPES.length; i++) {
          const n = r.tokens[TOKEN_TYPES[i]!]
          if (n <= 0) continue
          let metric = s.tokens[i]
          if (metric === undefined) {
            metric = series(tokens, { model, provider, type: TOKEN_TYPES[i]! })
            s.tokens[i] = metric
          }
          metric.updateUnsafe(n, context)
        }
        if (r.cost_usd !== null && r.cost_usd > 0) {
          s.cost ??= series(cost, { model, project })
          s.cost.updateUnsafe(r.cost_usd, context)
        }
        const observed = r.observed
        if (observed === undefined) continue
        for (const t of observed.tries) {
          const [attempt, upstream] = trySeriesOf(t.provider, t.outcome)
          attempt.updateUnsafe(1, context)
          upstream.updateUnsafe(t.ms / 1000, context)
        }
        s.overhead ??= series(overhead, { endpoint: s.endpoint })
        s.overhead.updateUnsafe(observed.overheadMs / 1000, context)
      }
    },
    reloaded: (source, result) => add(reloads, { source, result }, 1),
    workerGone: (index) => {
      const last = latest.get(index)
      latest.delete(index)
      if (last === undefined) return
      for (const [key, n] of countsOf(last)) retired.set(key, (retired.get(key) ?? 0) + n)
    },
    render: (reports, writer, resources) => {
      for (const [index, report] of reports) latest.set(index, report)
      const totals = new Map(retired)
      let inFlight = 0
      for (const report of latest.values()) {
        inFlight += report.active
        for (const [key, n] of countsOf(report)) totals.set(key, (totals.get(key) ?? 0) + n)
      }
      for (const [key, total] of totals) {
        const [kind, a, b] = key.split("\u0000") as [string, string, string]
        if (kind === "t") advance(transitions, { from: a, to: b }, total)
        else if (kind === "r") advance(rejections, { limit: a, scope: b }, total)
        else advance(exportFailures, { destination: a }, total)
      }
      series(active, {}).updateUnsafe(inFlight, context)
      // Every worker sees the same shared breakers: the first report is the gateway's view.
      const breakers = reports[0]?.[1].breakers ?? []
      const now = new Set<string>()
      for (const b of breakers) {
        const labels = { provider: b.provider, model: b.model }
        now.add(JSON.stringify(labels))
        series(breakerState, labels).updateUnsafe(BREAKER_VALUES[b.state], context)
      }
      if (reports.length > 0) {
        for (const gone of breakerSeries) {
          if (!now.has(gone)) Metric.removeUnsafe(series(breakerState, JSON.parse(gone) as Labels), context)
        }
        breakerSeries = now
      }
      if (writer !== undefined) {
        advance(recordsWritten, {}, writer.written)
        advance(recordsDropped, {}, writer.dropped)
        advance(writeFailures, {}, writer.failures)
        series(recordsBuffered, {}).updateUnsafe(writer.buffered, context)
      }
      if (resources !== undefined) {
        series(rss, {}).updateUnsafe(resources.rssBytes, context)
        series(heap, {}).updateUnsafe(resources.heapUsedBytes, context)
        advance(cpu, {}, resources.cpuSeconds)
        series(started, {}).updateUnsafe(resources.startTimeSeconds, context)
      }
      return PrometheusMetrics.formatUnsafe(context)
    }
  }
}
