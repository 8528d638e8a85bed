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

export const makeGatewayMetrics = (): GatewayMetricsShape => {
  const context = Context.make(Metric.MetricRegistry, new Map())
  const requests = Metric.counter("llmgate_requests_total", {
    description: "Proxied requests, by configured model, provider, HTTP status and endpoint.",
    incremental: true
  })
  const duration = Metric.histogram("llmgate_request_duration_seconds", {
    description: "From a request's arrival to its answer's end (a stream's last byte), by model and endpoint.",
    boundaries: DURATION_BUCKETS
  })
  const ttft = Metric.histogram("llmgate_time_to_first_token_seconds", {
    description: "Streams: from the request's arrival to the first content, by model.",
    boundaries: DURATION_BUCKETS
  })
  const attempts = Metric.counter("llmgate_upstream_attempts_total", {
    description:
      "Calls to providers, by provider and outcome (ok, client_error, rate_limited, server_error, timeout, unreachable, error).",
    incremental: true
  })
  const upstreamDuration = Metric.histogram("llmgate_upstream_duration_seconds", {
    description: "One call to a provider until its answer (a stream: its first content), by provider.",
    boundaries: DURATION_BUCKETS
  })
  const tokens = Metric.counter("llmgate_tokens_total", {
    description:
      "Tokens, by model, provider and type (input without cache reads, cache_read, cache_write, reasoning, output).",
    incremental: true
  })
  const cost = Metric.counter("llmgate_cost_usd_total", {
    description: "Cost in US dollars of priced requests, by model and project.",
    incremental: true
  })
  const overhead = Metric.histogram("llmgate_overhead_seconds", {
    description:
      "The time the gateway itself added to a request (its answer's time less the time waiting on providers), by endpoint.",
    boundaries: OVERHEAD_BUCKETS
  })
  const active = Metric.gauge("llmgate_active_requests", {
    description: "Proxied requests in flight (streams until they end), all workers."
  })
  const breakerState = Metric.gauge("llmgate_breaker_state", {
    description: "Each target's circuit breaker: 0 closed, 1 half_open, 2 open."
  })
  const transitions = Metric.counter("llmgate_breaker_transitions_total", {
    description: "Circuit breaker transitions, by from and to state.",
    incremental: true
  })
  const rejections = Metric.counter("llmgate_ratelimit_rejections_total", {
    description:
      "Requests refused with 429 by a rate limit (its name) or a budget (budget), by scope (key, project, ip).",
    incremental: true
  })
  const exportFailures = Metric.counter("llmgate_trace_export_failures_total", {
    description: "Failed span exports (each retried), by destination (otlp, langfuse).",
    incremental: true
  })
  const reloads = Metric.counter("llmgate_config_reloads_total", {
    description:
      "Config reloads, by what started them (watch, signal, admin) and result (applied, unchanged, rejected, failed).",
    incremental: true
  })
  const recordsWritten = Metric.counter("llmgate_usage_records_written_total", {
    description: "Usage records written to the usage store.",
    incremental: true
  })
  const recordsDropped = Metric.counter("llmgate_usage_records_dropped_total", {
    description: "Usage records dropped because the writer's buffer was full.",
    incremental: true
  })
  const recordsBuffered = Metric.gauge("llmgate_usage_records_buffered", {
    description: "Usage records waiting to be written."
  })
  const writeFailures = Metric.counter("llmgate_usage_write_failures_total", {
    description: "Failed writes to the usage store (each retried).",
    incremental: true
  })
  const rss = Metric.gauge("process_resident_memory_bytes", { description: "Resident memory size in bytes." })
  const heap = Metric.gauge("process_heap_used_bytes", { description: "JavaScript heap in use, bytes." })
  const cpu = Metric.counter("process_cpu_seconds_total", {
    description: "User and system CPU time spent, seconds.",
    incremental: true
  })
  const started = Metric.gauge("process_start_time_seconds", {
    description: "Start time of the process since the Unix epoch, seconds."
  })

  // One metric object per series: made once, reused by every update.
  const seriesCache = new Map<string, Metric.Metric<number, unknown>>()
  const series = <S>(metric: Metric.Metric<number, S>, labels: Labels): Metric.Metric<number, S> => {
    let key = metric.id
    for (const k in labels) key += `\u0000${labels[k]}`
    let found = seriesCache.get(key)
    if (found === undefined) {
      found = Metric.withAttributes(metric, labels)
      seriesCache.set(key, found)
    }
    return found as Metric.Metric<number, S>
  }
  const add = <S>(metric: Metric.Metric<number, S>, labels: Labels, value: number) =>
    series(metric, labels).updateUnsafe(value, context)

  /**
   * Counters fed from cumulative totals (workers' reports, the writer's stats): what was added so
   * far. A series is made at its first total, 0 included, so an unlabeled counter is there from the
   * first scrape.
   */
  const emitted = new Map<string, number>()
  const advance = (metric: Metric.Metric<number, unknown>, labels: Labels, total: number) => {
    const key = `${metric.id}\u0000${JSON.stringify(labels)}`
    const before = emitted.get(key)
    if (before === undefined || total > before) {
      add(metric, labels, total - (before ?? 0))
      emitted.set(key, total)
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

  return {
    observe: (records) => {
      for (const r of records) {
        const model = r.observed?.model || NONE
        const provider = r.provider ?? NONE
        add(requests, { model, provider, status: String(r.status), endpoint: r.endpoint }, 1)
        add(duration, { model, endpoint: r.endpoint }, r.latency_ms / 1000)
        if (r.ttft_ms !== null) add(ttft, { model }, r.ttft_ms / 1000)
        for (const type of TOKEN_TYPES) {
          const n = r.tokens[type]
          if (n > 0) add(tokens, { model, provider, type }, n)
        }
        if (r.cost_usd !== null && r.cost_usd > 0) add(cost, { model, project: r.project_id ?? NONE }, r.cost_usd)
        const observed = r.observed
        if (observed === undefined) continue
        for (const t of observed.tries) {
          add(attempts, { provider: t.provider, outcome: t.outcome }, 1)
          add(upstreamDuration, { provider: t.provider }, t.ms / 1000)
        }
        add(overhead, { endpoint: r.endpoint }, observed.overheadMs / 1000)
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
