import { describe, expect, it } from "vitest"
import type { RecountableRecord } from "../../../src/usage/Recount.ts"
import { makeGatewayMetrics } from "../../../src/metrics/GatewayMetrics.ts"
import { makeWorkerMetrics, type WorkerMetricsReport } from "../../../src/metrics/WorkerMetrics.ts"
import type { TargetHealth } from "../../../src/routing/TargetHealth.ts"
import { readExposition } from "../../support/prometheus.ts"
import { record } from "../usage/usageFixtures.ts"

const observed = (overrides: Partial<NonNullable<RecountableRecord["observed"]>> = {}) => ({
  model: "gpt-4o",
  tries: [{ provider: "openai", outcome: "ok" as const, ms: 100 }],
  upstreamMs: 100,
  overheadMs: 0.4,
  ...overrides
})

const report = (overrides: Partial<WorkerMetricsReport> = {}): WorkerMetricsReport => ({
  active: 0,
  transitions: [],
  rejections: [],
  exportFailures: [],
  breakers: [],
  ...overrides
})

const render = (
  metrics: ReturnType<typeof makeGatewayMetrics>,
  reports: Array<readonly [number, WorkerMetricsReport]>
) => readExposition(metrics.render(reports, undefined, undefined))

describe("GatewayMetrics: from the usage records", () => {
  it("counts requests, tokens, cost and durations by bounded labels; an unmatched model is `none`", () => {
    const metrics = makeGatewayMetrics()
    metrics.observe([
      { ...record(1), observed: observed() },
      { ...record(2, { ttft_ms: 40, stream: true, latency_ms: 900 }), observed: observed() },
      {
        ...record(3, { model: "client-string-xyz", provider: null, status: 404, cost_usd: null }),
        observed: observed({ model: "", tries: [], upstreamMs: 0, overheadMs: 0.2 })
      }
    ])
    const e = render(metrics, [])
    const labels = { model: "gpt-4o", provider: "openai", status: "200", endpoint: "chat.completions" }
    expect(e.value("llmgate_requests_total", labels)).toBe(2)
    expect(e.value("llmgate_requests_total", { model: "none", provider: "none", status: "404" })).toBe(1)
    expect(e.samples("llmgate_requests_total").some((s) => s.labels?.["model"] === "client-string-xyz")).toBe(false)
    // The fixture's tokens: input 10, cache_read 2, cache_write 1, reasoning 3, output 5.
    for (const [type, n] of [
      ["input", 20],
      ["cache_read", 4],
      ["cache_write", 2],
      ["reasoning", 6],
      ["output", 10]
    ] as const) {
      expect(e.value("llmgate_tokens_total", { model: "gpt-4o", provider: "openai", type }), type).toBe(n)
    }
    expect(e.value("llmgate_tokens_total", { model: "none", provider: "none", type: "input" })).toBe(10)
    expect(e.value("llmgate_cost_usd_total", { model: "gpt-4o", project: "proj-1" })).toBeCloseTo(0.002, 12)
    expect(e.count("llmgate_request_duration_seconds", { model: "gpt-4o" })).toBe(2)
    expect(e.sum("llmgate_request_duration_seconds", { model: "gpt-4o" })).toBeCloseTo(0.1205 + 0.9, 9)
    expect(e.count("llmgate_time_to_first_token_seconds", { model: "gpt-4o" })).toBe(1)
    expect(e.sum("llmgate_time_to_first_token_seconds", { model: "gpt-4o" })).toBeCloseTo(0.04, 9)
    expect(e.value("llmgate_upstream_attempts_total", { provider: "openai", outcome: "ok" })).toBe(2)
    expect(e.count("llmgate_upstream_duration_seconds", { provider: "openai" })).toBe(2)
    expect(e.count("llmgate_overhead_seconds", { endpoint: "chat.completions" })).toBe(3)
    expect(e.sum("llmgate_overhead_seconds", { endpoint: "chat.completions" })).toBeCloseTo(0.001, 9)
    // Every bucket line of a histogram holds the series' labels and `le`, cumulative up to +Inf.
    const buckets = e
      .samples("llmgate_overhead_seconds_bucket")
      .map((s) => [s.labels?.["le"], Number(s.value)] as const)
    expect(buckets.at(-1)).toEqual(["+Inf", 3])
    expect(buckets.find(([le]) => le === "0.0005")?.[1]).toBe(3)
    expect(buckets.find(([le]) => le === "0.0001")?.[1]).toBe(0)
  })

  it("config reloads by source and result", () => {
    const metrics = makeGatewayMetrics()
    metrics.reloaded("watch", "applied")
    metrics.reloaded("watch", "applied")
    metrics.reloaded("admin", "rejected")
    const e = render(metrics, [])
    expect(e.value("llmgate_config_reloads_total", { source: "watch", result: "applied" })).toBe(2)
    expect(e.value("llmgate_config_reloads_total", { source: "admin", result: "rejected" })).toBe(1)
    expect(e.families.get("llmgate_config_reloads_total")?.type).toBe("COUNTER")
  })
})

describe("GatewayMetrics: from the workers' reports", () => {
  it("sums every worker's counts and requests in flight; a worker that exits keeps its counts in the sums", () => {
    const metrics = makeGatewayMetrics()
    const w0 = report({
      active: 2,
      transitions: [["closed", "open", 1]],
      rejections: [["requests_per_minute", "key", 3]]
    })
    const w1 = report({
      active: 1,
      rejections: [
        ["requests_per_minute", "key", 2],
        ["budget", "project", 1]
      ]
    })
    let e = render(metrics, [
      [0, w0],
      [1, w1]
    ])
    expect(e.value("llmgate_active_requests")).toBe(3)
    expect(e.value("llmgate_ratelimit_rejections_total", { limit: "requests_per_minute", scope: "key" })).toBe(5)
    expect(e.value("llmgate_ratelimit_rejections_total", { limit: "budget", scope: "project" })).toBe(1)
    expect(e.value("llmgate_breaker_transitions_total", { from: "closed", to: "open" })).toBe(1)
    e = render(metrics, [[0, report({ exportFailures: [["otlp", 4]] })]])
    expect(e.value("llmgate_trace_export_failures_total", { destination: "otlp" })).toBe(4)
    e = render(metrics, [
      [0, w0],
      [1, w1]
    ])
    // Worker 1 exits; its replacement starts counting from zero: the sums never go down.
    metrics.workerGone(1)
    e = render(metrics, [
      [0, w0],
      [1, report({ rejections: [["requests_per_minute", "key", 1]] })]
    ])
    expect(e.value("llmgate_ratelimit_rejections_total", { limit: "requests_per_minute", scope: "key" })).toBe(6)
    expect(e.value("llmgate_ratelimit_rejections_total", { limit: "budget", scope: "project" })).toBe(1)
    expect(e.value("llmgate_active_requests")).toBe(2)
    // A report repeated (nothing new) adds nothing.
    e = render(metrics, [[0, w0]])
    expect(e.value("llmgate_ratelimit_rejections_total", { limit: "requests_per_minute", scope: "key" })).toBe(6)
  })

  it("breaker states from the first report; a target gone from routing state stops being reported", () => {
    const metrics = makeGatewayMetrics()
    let e = render(metrics, [
      [
        0,
        report({
          breakers: [
            { provider: "a", model: "m1", state: "open" },
            { provider: "b", model: "m2", state: "half_open" }
          ]
        })
      ]
    ])
    expect(e.value("llmgate_breaker_state", { provider: "a", model: "m1" })).toBe(2)
    expect(e.value("llmgate_breaker_state", { provider: "b", model: "m2" })).toBe(1)
    e = render(metrics, [[0, report({ breakers: [{ provider: "a", model: "m1", state: "closed" }] })]])
    expect(e.value("llmgate_breaker_state", { provider: "a", model: "m1" })).toBe(0)
    expect(e.samples("llmgate_breaker_state").map((s) => s.labels?.["provider"])).toEqual(["a"])
  })

  it("the usage writer's stats and the process", () => {
    const metrics = makeGatewayMetrics()
    const stats = {
      buffered: 4,
      written: 10,
      duplicates: 0,
      dropped: 2,
      failures: 1,
      recounting: 0,
      recounted: 0,
      uncounted: 0
    }
    const process = { rssBytes: 50e6, heapUsedBytes: 20e6, cpuSeconds: 1.5, startTimeSeconds: 1_700_000_000 }
    metrics.render([], stats, process)
    const e = readExposition(metrics.render([], { ...stats, written: 15 }, { ...process, cpuSeconds: 2 }))
    expect(e.value("llmgate_usage_records_written_total")).toBe(15)
    expect(e.value("llmgate_usage_records_dropped_total")).toBe(2)
    expect(e.value("llmgate_usage_write_failures_total")).toBe(1)
    expect(e.value("llmgate_usage_records_buffered")).toBe(4)
    expect(e.value("process_resident_memory_bytes")).toBe(50e6)
    expect(e.value("process_cpu_seconds_total")).toBe(2)
    expect(e.value("process_start_time_seconds")).toBe(1_700_000_000)
  })
})

describe("WorkerMetrics", () => {
  it("counts refusals by limit and scope (a budget as `budget`) and transitions by from and to", () => {
    const w = makeWorkerMetrics()
    w.rejected({ _tag: "RateLimited", limit: "max_parallel", value: 2, scope: "key", retry_after_ms: 1000 })
    w.rejected({ _tag: "RateLimited", limit: "max_parallel", value: 2, scope: "key", retry_after_ms: 1000 })
    w.rejected({
      _tag: "BudgetExceeded",
      scope: "project",
      amount_usd: 1,
      period: "daily",
      spent_usd: 1,
      reserved_usd: 0,
      request_usd: 0.1,
      resets_at: null,
      retry_after_ms: null
    })
    w.transition({ target: "a/m", from: "closed", to: "open", at: 0, failureRate: 1 })
    const health = {
      provider: "a",
      model: "m",
      breaker: { snapshot: () => ({ state: "open", failureRate: 1, samples: 4, openedAt: 0 }) }
    } as unknown as TargetHealth
    w.exportFailed("langfuse")
    w.exportFailed("langfuse")
    expect(w.report(3, [health], 0)).toEqual({
      active: 3,
      transitions: [["closed", "open", 1]],
      exportFailures: [["langfuse", 2]],
      rejections: [
        ["max_parallel", "key", 2],
        ["budget", "project", 1]
      ],
      breakers: [{ provider: "a", model: "m", state: "open" }]
    })
  })
})
