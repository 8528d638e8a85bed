/**
 * `npm run bench` (`-- --quick` for a one-minute smoke run): llmgate on Node, Bun and Deno side by
 * side with the fake upstream hit directly and a bare pass-through proxy on each runtime (the floor).
 *
 * Layout on the 2-core machine: the fake upstream (test/bench/upstream.ts) and this process — the load
 * generator (autocannon, programmatic) and the stream clients — are pinned to core 0; every target
 * (bare proxy or gateway, started with LLMGATE_WORKERS=1) is pinned to core 1, so its figures are
 * single-core. Targets are interleaved within each scenario, rounds rotate the order, and the
 * report gives medians with min–max over rounds. Each round ends with the workers scenario (full
 * runs, or `--workers`: llmgate on each runtime with LLMGATE_WORKERS=1 and =2 on both cores, the
 * count checked with GET /health) and the shared-state micro-benchmark (sharedState.ts, in a child
 * on both cores, on each runtime). Output: a markdown table on stdout, and
 * test/bench/results/latest.{md,json}. Not part of `npm test`.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { Agent, createServer } from "node:http"
import { cpus, release, tmpdir } from "node:os"
import { join } from "node:path"
import { stringify } from "yaml"
import { DENO_RUN_FLAGS } from "../../runtimes/deno/flags.ts"
import {
  type Auth,
  BENCH_LIMITS,
  BENCH_SHAPES,
  gatewayConfig,
  MASTER_KEY,
  models,
  UPSTREAM_USAGE,
  VIRTUAL_KEY
} from "./lib/config.ts"
import {
  burstStreams,
  concurrentStreams,
  send,
  sequentialStreams,
  type Endpoint,
  type StreamSample
} from "./lib/http.ts"
import { runLoad, type LoadResult } from "./lib/load.ts"
import {
  affinity,
  bin,
  type Child,
  CLK_TCK,
  killAllSync,
  machineBusyMs,
  pinSelf,
  ROOT,
  sleep,
  spawnChild,
  startGuard,
  threadCount,
  treeCpuMs,
  treePids,
  treeRss
} from "./lib/proc.ts"
import {
  cell,
  derive,
  deriveWorkers,
  evaluate,
  type Measurement,
  type Metrics,
  type Runtime,
  summarize,
  type Summary,
  table,
  type Target,
  type Variant,
  verdict
} from "./lib/report.ts"
import { percentile } from "./lib/stats.ts"
import { freePort } from "../support/ports.ts"

// ---- parameters ------------------------------------------------------------------------------------

const argv = process.argv.slice(2)
const QUICK = argv.includes("--quick")
const flagValue = (name: string): string | undefined => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}

const SHAPES = BENCH_SHAPES

const P = QUICK
  ? {
      rounds: 1,
      c1: { warmS: 0.3, durS: 1 },
      c64: { warmS: 0.4, durS: 1.2 },
      ttfb1: { warm: 20, samples: 100 },
      chunks1: { samples: 10 },
      ttfb64: { warmMs: 200, durMs: 800 },
      long: { count: 1000 },
      settleMs: 200,
      workers: false,
      sharedState: { reps: 3, ms: 300 },
      variants: { reps: 3, warmS: 0.4, durS: 1.2, variantWarmS: 3 },
      watchdogS: 300
    }
  : {
      rounds: 3,
      c1: { warmS: 1, durS: 5 },
      c64: { warmS: 1, durS: 6 },
      ttfb1: { warm: 50, samples: 500 },
      chunks1: { samples: 40 },
      ttfb64: { warmMs: 500, durMs: 3000 },
      long: { count: 1000 },
      settleMs: 1000,
      workers: true,
      sharedState: { reps: 3, ms: 500 },
      variants: { reps: 3, warmS: 0.5, durS: 3, variantWarmS: 5 },
      watchdogS: 25 * 60
    }
// Overrides: `--rounds N`; `--workers` adds the 1-vs-2-workers scenario to a quick run;
// `--variants` runs only the limits and observability scenarios (no direct or bare target, no
// workers scenario nor shared-state micro-benchmark: the A/B loop for work on those overheads);
// `--runtimes node,deno` restricts the runtimes.
const roundsFlag = Number(flagValue("--rounds"))
if (Number.isInteger(roundsFlag) && roundsFlag > 0) P.rounds = roundsFlag
if (argv.includes("--workers")) P.workers = true
const VARIANTS_ONLY = argv.includes("--variants")
if (VARIANTS_ONLY) P.workers = false
// Generous per round: a busy machine slows every part down (a quick round took over 400 s at a load average of 6–10).
// The variant scenarios: 3 runtimes × (3 limits + 3 observability targets) × reps measurements, each
// possibly measured twice, after each variant's warm-up.
const VARIANTS_S = 18 * P.variants.reps * (P.variants.warmS + P.variants.durS) * 2 + 15 * P.variants.variantWarmS + 60
P.watchdogS = Math.max(P.watchdogS, P.rounds * ((QUICK ? 480 : 420) + VARIANTS_S + (P.workers ? 180 : 0)))
const CONNECTIONS = 64
/** Above this share of a core used by unrelated processes during a measurement, the report warns. */
const OTHER_CPU_WARN = 15
const TARGET_CPU = "1"
const HARNESS_CPU = "0"
/** The workers scenario and the shared-state micro-benchmark: both cores (every core of the 2-core machine). */
const BOTH_CPUS = "0,1"
/** Worker counts of the workers scenario. */
const WORKER_COUNTS: ReadonlyArray<number> = [1, 2]
const PATH = "/v1/chat/completions"
const M = models(SHAPES)

const ALL_RUNTIMES: ReadonlyArray<Runtime> = ["node", "bun", "deno"]
const runtimesFlag = flagValue("--runtimes")?.split(",")
const RUNTIMES: ReadonlyArray<Runtime> =
  runtimesFlag === undefined ? ALL_RUNTIMES : ALL_RUNTIMES.filter((r) => runtimesFlag.includes(r))
if (RUNTIMES.length === 0) throw new Error(`--runtimes: none of ${ALL_RUNTIMES.join(", ")}`)
/** The limits scenario's variants: a virtual key without limits (nor usage recording), or with `BENCH_LIMITS`. */
const LIMIT_VARIANTS: ReadonlyArray<Variant> = ["key", "limited"]
/** The observability scenario's variants: every exporter off, the metrics alone, OTLP tracing alone. */
const OBSERVABILITY_VARIANTS: ReadonlyArray<Variant> = ["quiet", "metrics", "traced"]
const VARIANTS: ReadonlyArray<Variant> = [...LIMIT_VARIANTS, ...OBSERVABILITY_VARIANTS]
/** A variant scenario's target id. */
const variantId = (runtime: Runtime, variant: Variant): string => `llmgate-${runtime}-${variant}`
/**
 * Every target of a round. The variant llmgate targets run only their variant scenario (non-streaming
 * at 64 connections); the others run every scenario.
 */
const TARGETS: ReadonlyArray<Target> = [
  ...(VARIANTS_ONLY ? [] : [{ id: "direct", kind: "direct", runtime: undefined } as const]),
  ...RUNTIMES.flatMap(
    (runtime): Array<Target> => [
      ...(VARIANTS_ONLY ? [] : [{ id: `bare-${runtime}`, kind: "bare", runtime } as const]),
      { id: `llmgate-${runtime}`, kind: "llmgate", runtime },
      ...VARIANTS.map((variant): Target => ({ id: variantId(runtime, variant), kind: "llmgate", runtime, variant }))
    ]
  )
]
/** The targets of the main tables (every scenario): direct, the bare proxies, llmgate on the master key. */
const MAIN_TARGETS: ReadonlyArray<Target> = TARGETS.filter((t) => t.variant === undefined)
/** The workers scenario's target ids. */
const workersId = (runtime: Runtime, workers: number): string => `llmgate-${runtime}-w${workers}`
/** llmgate's Deno flags as users get them (the same as `npm run start:deno`, checked by a unit test). */
const DENO_FLAGS: ReadonlyArray<string> = DENO_RUN_FLAGS
/** The shared-state micro-benchmark reads its config module and /proc, and writes its JSON. */
const SHARED_STATE_DENO_FLAGS: ReadonlyArray<string> = ["--allow-read", "--allow-env", "--allow-write"]

// ---- cleanup: nothing outlives the run ------------------------------------------------------------

const tempDir = mkdtempSync(join(tmpdir(), "llmgate-bench-"))
const cleanup = (): void => {
  killAllSync()
  rmSync(tempDir, { recursive: true, force: true })
}
process.on("exit", cleanup)
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129]
] as const) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping every child`)
    cleanup()
    process.exit(code)
  })
}
const fatal = (e: unknown): never => {
  console.error("bench failed:", e)
  cleanup()
  process.exit(1)
}
process.on("uncaughtException", fatal)
process.on("unhandledRejection", fatal)
setTimeout(() => {
  console.error(`bench: watchdog (${P.watchdogS} s) expired, stopping`)
  cleanup()
  process.exit(2)
}, P.watchdogS * 1000).unref()

// ---- helpers ------------------------------------------------------------------------------------------

const log = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

const headers: Record<string, string> = { "content-type": "application/json", authorization: `Bearer ${MASTER_KEY}` }
const keyHeaders: Record<string, string> = {
  "content-type": "application/json",
  authorization: `Bearer ${VIRTUAL_KEY}`
}
/** The request headers of a target: the virtual key for the limits scenario's targets, else the master key. */
const headersOf = (t: Target): Record<string, string> =>
  t.variant !== undefined && LIMIT_VARIANTS.includes(t.variant) ? keyHeaders : headers
const authOf = (t: Target): Auth => t.variant ?? "master"
const body = (model: string, stream: boolean): string =>
  JSON.stringify({
    model,
    messages: [{ role: "user", content: "Say hello to the benchmark." }],
    ...(stream ? { stream: true } : {})
  })
/** The model a target is asked for: llmgate's public name, or the upstream id for direct and bare. */
const pick = (t: Target, pair: readonly [string, string]): string => (t.kind === "llmgate" ? pair[0] : pair[1])

const runtimeCommand = (
  runtime: Runtime,
  script: string,
  args: ReadonlyArray<string>,
  deno: ReadonlyArray<string>
): [string, Array<string>] => {
  switch (runtime) {
    case "node":
      return [bin("node"), [script, ...args]]
    case "bun":
      return [bin("bun"), [script, ...args]]
    case "deno":
      return [bin("deno"), ["run", ...deno, script, ...args]]
  }
}

// ---- the fake upstream ------------------------------------------------------------------------------

interface UpstreamStats {
  readonly userUs: number
  readonly systemUs: number
  readonly rss: number
  readonly requests: number
  readonly byProvider: Record<string, number>
}
const statsAgent = new Agent({ keepAlive: true, maxSockets: 1 })
let upstreamPort = 0
const upstreamStats = async (): Promise<UpstreamStats> => {
  const r = await send(upstreamPort, "/__stats", undefined, {}, 2000, statsAgent)
  return JSON.parse(r.body) as UpstreamStats
}

// ---- targets ------------------------------------------------------------------------------------------

interface Live {
  readonly target: Target
  readonly port: number
  readonly child: Child | undefined
  pids: Array<number>
}

const problems: Array<string> = []
const measurements: Array<Measurement> = []
const record = (
  round: number,
  target: string,
  scenario: string,
  metrics: Metrics,
  failures?: Record<string, number>
): void => {
  measurements.push({
    round,
    target,
    scenario,
    metrics,
    ...(failures && Object.keys(failures).length ? { failures } : {})
  })
}

/**
 * A virtual-key target answers as configured: without limits, no `x-ratelimit-*` header; with
 * limits, the headers, and between two answers in a row the remaining tokens drop by exactly the
 * upstream's `usage.total_tokens` (the first reservation was settled to the usage before the second
 * was taken), so the bench measures the settling too. A mismatch is listed under Problems.
 */
const checkLimits = async (t: Target, port: number, probe: string, label: string): Promise<void> => {
  const a = await send(port, PATH, probe, headersOf(t), 2000)
  const b = await send(port, PATH, probe, headersOf(t), 2000)
  if (a.status !== 200 || b.status !== 200) {
    problems.push(`${label}: the limits check's requests answered ${a.status} and ${b.status}`)
    return
  }
  const tokenLimit = a.headers["x-ratelimit-limit-tokens"]
  if (t.variant === "key") {
    if (tokenLimit !== undefined || a.headers["x-ratelimit-limit-requests"] !== undefined)
      problems.push(`${label}: a key without limits got x-ratelimit-* headers`)
    return
  }
  if (tokenLimit !== String(BENCH_LIMITS.tokens_per_minute) || a.headers["x-ratelimit-limit-requests"] === undefined) {
    problems.push(
      `${label}: x-ratelimit-limit-tokens ${tokenLimit ?? "absent"}, x-ratelimit-limit-requests ${a.headers["x-ratelimit-limit-requests"] ?? "absent"}: the key's limits are not applied as configured`
    )
    return
  }
  const drop = Number(a.headers["x-ratelimit-remaining-tokens"]) - Number(b.headers["x-ratelimit-remaining-tokens"])
  if (drop !== UPSTREAM_USAGE.total_tokens) {
    problems.push(
      `${label}: x-ratelimit-remaining-tokens dropped by ${drop} between two answers in a row, expected the upstream's usage.total_tokens (${UPSTREAM_USAGE.total_tokens}): the reservation was not settled to the usage`
    )
  }
}

/**
 * The OTLP/HTTP receiver the traced variants export to (in this process, on the harness core): it
 * answers every export with 200 and counts the exports and bytes each target sent (the path's first
 * segment names the target: `<endpoint>/<target id>/v1/traces`).
 */
const makeOtlpSink = () => {
  const received = new Map<string, { exports: number; bytes: number }>()
  let port = 0
  const server = createServer((req, res) => {
    const target = decodeURIComponent((req.url ?? "/").split("/")[1] ?? "")
    const seen = received.get(target) ?? { exports: 0, bytes: 0 }
    received.set(target, seen)
    req.on("data", (chunk: Buffer) => {
      seen.bytes += chunk.length
    })
    req.on("end", () => {
      seen.exports++
      res.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
  })
  return {
    start: async (): Promise<void> => {
      port = await freePort()
      await new Promise<void>((ok) => server.listen(port, "127.0.0.1", ok))
    },
    endpoint: (target: string): string | undefined =>
      port === 0 ? undefined : `http://127.0.0.1:${port}/${encodeURIComponent(target)}`,
    received: (target: string) => received.get(target) ?? { exports: 0, bytes: 0 }
  }
}
const otlpSink = makeOtlpSink()

/**
 * An observability target runs as configured: `/metrics` answers with the metrics on and 404 with
 * them off, and the traced target's first request reached the OTLP receiver (checked again after
 * the scenario: every measured request of it was exported).
 */
const checkObservability = async (t: Target, port: number, label: string): Promise<void> => {
  const metrics = await send(port, "/metrics", undefined, {}, 2000).catch(() => undefined)
  const expected = t.variant === "metrics" ? 200 : 404
  if (metrics?.status !== expected)
    problems.push(`${label}: GET /metrics answered ${metrics?.status ?? "nothing"}, expected ${expected}`)
  if (t.variant === "metrics" && !metrics?.body.includes("llmgate_requests_total"))
    problems.push(`${label}: GET /metrics has no llmgate_requests_total`)
}

const startTarget = async (
  t: Target,
  cpus: string,
  env: Record<string, string>,
  label = t.id
): Promise<{ live: Live; metrics: Metrics }> => {
  const runtime = t.runtime
  if (t.kind === "direct" || runtime === undefined) throw new Error("direct has no process")
  const port = await freePort()
  const upstream = `http://127.0.0.1:${upstreamPort}`
  let command: [string, Array<string>]
  if (t.kind === "bare") {
    command = runtimeCommand(
      runtime,
      join(ROOT, "test/bench/bare", `${runtime}.ts`),
      ["--port", String(port), "--upstream", upstream, "--ttl", String(P.watchdogS + 60)],
      ["--allow-net"]
    )
  } else {
    const configPath = join(tempDir, `${label}-${port}.yaml`)
    writeFileSync(configPath, stringify(gatewayConfig(port, upstreamPort, M, authOf(t), otlpSink.endpoint(t.id))))
    command = runtimeCommand(
      runtime,
      join(ROOT, "runtimes", runtime, "main.ts"),
      ["--config", configPath, "--port", String(port)],
      DENO_FLAGS
    )
  }
  const child = spawnChild({ name: label, cpus, command: command[0], args: command[1], env })
  // Spawn to the first successful proxied request: poll as fast as connections are refused.
  const probe = body(pick(t, M.nonStream), false)
  const deadline = child.spawnedAt + 30_000
  let last = "no answer"
  for (;;) {
    if (child.hasExited()) throw new Error(`${label} exited during startup: ${child.output().trim()}`)
    try {
      const r = await send(port, PATH, probe, headersOf(t), 2000)
      if (r.status === 200) break
      last = `HTTP ${r.status} ${r.body.slice(0, 200)}`
    } catch (e) {
      last = String(e)
    }
    if (performance.now() > deadline) {
      await child.stop()
      throw new Error(`${label}: no proxied 200 within 30 s (${last}); output: ${child.output().trim()}`)
    }
    await sleep(1)
  }
  const spawnToFirst = performance.now() - child.spawnedAt
  if (t.kind === "llmgate") {
    const ready = await send(port, "/health/readiness", undefined, {}, 2000).catch(() => undefined)
    if (ready?.status !== 200)
      problems.push(
        `${label}: /health/readiness answered ${ready?.status ?? "nothing"} after the first proxied request`
      )
  }
  if (t.variant !== undefined && LIMIT_VARIANTS.includes(t.variant)) await checkLimits(t, port, probe, label)
  if (t.variant !== undefined && OBSERVABILITY_VARIANTS.includes(t.variant)) await checkObservability(t, port, label)
  await sleep(P.settleMs)
  const pids = treePids(child.pid)
  return {
    live: { target: t, port, child, pids },
    metrics: { spawn_to_first_ms: spawnToFirst, idle_rss_mb: treeRss(pids) / 2 ** 20, processes: pids.length }
  }
}

// ---- measurement windows ------------------------------------------------------------------------------

interface Usage {
  readonly wallMs: number
  readonly targetCpuMs: number
  readonly upstreamCpuMs: number
  readonly genCpuMs: number
  /** user+system CPU of the whole machine not accounted to the target, the upstream or the bench. */
  readonly otherCpuMs: number
}

/** Runs `run` while accounting CPU: the target's process tree, the upstream, the bench, everything else. */
const measure = async <A>(live: Live, run: () => Promise<A>): Promise<{ result: A; usage: Usage }> => {
  if (live.child) live.pids = treePids(live.child.pid)
  const targetPids = live.child ? live.pids : []
  const up0 = await upstreamStats()
  const cpu0 = targetPids.length ? treeCpuMs(targetPids) : Number.NaN
  const gen0 = process.cpuUsage()
  const busy0 = machineBusyMs()
  const t0 = performance.now()
  const result = await run()
  const wallMs = performance.now() - t0
  const gen = process.cpuUsage(gen0)
  const busy = machineBusyMs() - busy0
  const cpu1 = targetPids.length ? treeCpuMs(targetPids) : Number.NaN
  const up1 = await upstreamStats()
  const targetCpuMs = cpu1 - cpu0
  const upstreamCpuMs = (up1.userUs + up1.systemUs - up0.userUs - up0.systemUs) / 1000
  const genCpuMs = (gen.user + gen.system) / 1000
  return {
    result,
    usage: {
      wallMs,
      targetCpuMs,
      upstreamCpuMs,
      genCpuMs,
      otherCpuMs: Math.max(0, busy - (Number.isFinite(targetCpuMs) ? targetCpuMs : 0) - upstreamCpuMs - genCpuMs)
    }
  }
}

const usageMetrics = (u: Usage, requests: number): Metrics => ({
  cpu_ms_per_req: u.targetCpuMs / requests,
  target_cpu_pct: (u.targetCpuMs / u.wallMs) * 100,
  upstream_cpu_pct: (u.upstreamCpuMs / u.wallMs) * 100,
  gen_cpu_pct: (u.genCpuMs / u.wallMs) * 100,
  other_cpu_pct: (u.otherCpuMs / u.wallMs) * 100
})

const failuresOf = (samples: ReadonlyArray<StreamSample>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const s of samples) if (s.failure !== undefined) out[s.failure] = (out[s.failure] ?? 0) + 1
  return out
}

const endpoint = (live: Live): Endpoint => ({ port: live.port, path: PATH, headers: headersOf(live.target) })

// ---- scenarios ----------------------------------------------------------------------------------------

type Scenario = (live: Live) => Promise<{ metrics: Metrics; failures?: Record<string, number> }>

const nonStreaming =
  (connections: number, warmS: number, durS: number): Scenario =>
  async (live) => {
    const options = {
      port: live.port,
      path: PATH,
      headers: headersOf(live.target),
      body: body(pick(live.target, M.nonStream), false),
      connections
    }
    await runLoad({ ...options, durationS: warmS })
    const { result, usage } = await measure(live, () => runLoad({ ...options, durationS: durS }))
    return { metrics: loadMetrics(result, usage) }
  }
const loadMetrics = (r: LoadResult, u: Usage): Metrics => ({
  rps: r.rps,
  p50: r.p50,
  p99: r.p99,
  mean: r.mean,
  requests: r.ok,
  errors: r.errors,
  ...usageMetrics(u, r.ok)
})

const streamMetrics = (samples: ReadonlyArray<StreamSample>): Metrics => {
  const ok = samples.filter((s) => s.ok)
  const relays = ok.flatMap((s) => s.relays)
  return {
    ttfb_p50: percentile(
      ok.map((s) => s.ttfb),
      50
    ),
    ttfb_p99: percentile(
      ok.map((s) => s.ttfb),
      99
    ),
    ttlb_p50: percentile(
      ok.map((s) => s.ttlb),
      50
    ),
    body_p50: percentile(
      ok.map((s) => s.ttlb - s.ttfb),
      50
    ),
    ...(relays.length
      ? { relay_p50: percentile(relays, 50), relay_p99: percentile(relays, 99), chunks_timed: relays.length }
      : {}),
    samples: samples.length,
    errors: samples.length - ok.length
  }
}

const ttfbC1: Scenario = async (live) => {
  const b = body(pick(live.target, M.stream), true)
  await sequentialStreams(endpoint(live), b, P.ttfb1.warm, 10_000)
  const { result, usage } = await measure(live, () => sequentialStreams(endpoint(live), b, P.ttfb1.samples, 10_000))
  return { metrics: { ...streamMetrics(result), ...usageMetrics(usage, result.length) }, failures: failuresOf(result) }
}

const chunksC1: Scenario = async (live) => {
  const b = body(pick(live.target, M.chunks), true)
  const samples = await sequentialStreams(endpoint(live), b, P.chunks1.samples, 10_000, true)
  return { metrics: streamMetrics(samples), failures: failuresOf(samples) }
}

const ttfbC64: Scenario = async (live) => {
  const b = body(pick(live.target, M.stream), true)
  await concurrentStreams(endpoint(live), b, CONNECTIONS, P.ttfb64.warmMs, 10_000)
  const { result, usage } = await measure(live, () =>
    concurrentStreams(endpoint(live), b, CONNECTIONS, P.ttfb64.durMs, 10_000)
  )
  const n = result.samples.length
  return {
    metrics: { ...streamMetrics(result.samples), rps: n / (result.elapsedMs / 1000), ...usageMetrics(usage, n) },
    failures: failuresOf(result.samples)
  }
}

const longStreams: Scenario = async (live) => {
  const b = body(pick(live.target, M.long), true)
  const pids = live.child ? treePids(live.child.pid) : []
  const before = pids.length ? treeRss(pids) : Number.NaN
  let peak = before
  const sampler = setInterval(() => {
    if (pids.length) peak = Math.max(peak, treeRss(pids))
  }, 50)
  try {
    const { result, usage } = await measure(live, () => burstStreams(endpoint(live), b, P.long.count, 30_000, true))
    if (pids.length) peak = Math.max(peak, treeRss(pids))
    const metrics = streamMetrics(result.samples)
    return {
      metrics: {
        errors: metrics["errors"] ?? Number.NaN,
        streams: result.samples.length,
        ttfb_p50: metrics["ttfb_p50"] ?? Number.NaN,
        ttfb_p99: metrics["ttfb_p99"] ?? Number.NaN,
        relay_p50: metrics["relay_p50"] ?? Number.NaN,
        relay_p99: metrics["relay_p99"] ?? Number.NaN,
        all_done_s: result.elapsedMs / 1000,
        rss_before_mb: before / 2 ** 20,
        rss_peak_mb: peak / 2 ** 20,
        rss_growth_mb: (peak - before) / 2 ** 20,
        cpu_ms_per_stream: usage.targetCpuMs / result.samples.length,
        target_cpu_pct: (usage.targetCpuMs / usage.wallMs) * 100,
        upstream_cpu_pct: (usage.upstreamCpuMs / usage.wallMs) * 100,
        gen_cpu_pct: (usage.genCpuMs / usage.wallMs) * 100,
        other_cpu_pct: (usage.otherCpuMs / usage.wallMs) * 100
      },
      failures: failuresOf(result.samples)
    }
  } finally {
    clearInterval(sampler)
  }
}

/** The scenarios every main target runs (the virtual-key targets run only the limits scenario). */
const SCENARIOS: ReadonlyArray<readonly [string, string, Scenario]> = [
  ["nonstream_c1", "non-streaming, 1 connection", nonStreaming(1, P.c1.warmS, P.c1.durS)],
  ["nonstream_c64", `non-streaming, ${CONNECTIONS} connections`, nonStreaming(CONNECTIONS, P.c64.warmS, P.c64.durS)],
  ["ttfb_c1", "stream first byte, 1 connection", ttfbC1],
  ["chunks_c1", "stream chunk timing, 1 connection", chunksC1],
  ["ttfb_c64", `stream first byte, ${CONNECTIONS} connections`, ttfbC64],
  ["long_streams", `${P.long.count} concurrent long streams`, longStreams]
]

// ---- variant scenarios: limits, observability --------------------------------------------------------

const ratio = (a: Metrics | undefined, b: Metrics | undefined, metric: string): number =>
  (a?.[metric] ?? Number.NaN) / (b?.[metric] ?? Number.NaN)

/** A variant scenario: which processes it compares and the ratios it records per repetition. */
interface VariantGroup {
  /** Its scenario names are `<name>_c64` (each measurement) and `<name>_vs` (each repetition's ratios). */
  readonly name: string
  /** Whether the master-key llmgate of the runtime is measured too (warm from the main scenarios). */
  readonly master: boolean
  readonly variants: ReadonlyArray<Variant>
  /** Each repetition's ratios from its measurements by variant ("master" for the master key). */
  readonly ratios: (seen: ReadonlyMap<string, Metrics>) => Metrics
}

const LIMITS_GROUP: VariantGroup = {
  name: "limits",
  master: true,
  variants: LIMIT_VARIANTS,
  ratios: (seen) => {
    const [master, key, limited] = [seen.get("master"), seen.get("key"), seen.get("limited")]
    return {
      cpu_limited_vs_key: ratio(limited, key, "cpu_ms_per_req"),
      cpu_limited_vs_master: ratio(limited, master, "cpu_ms_per_req"),
      cpu_key_vs_master: ratio(key, master, "cpu_ms_per_req"),
      rps_limited_vs_key: ratio(limited, key, "rps"),
      rps_limited_vs_master: ratio(limited, master, "rps")
    }
  }
}

const OBSERVABILITY_GROUP: VariantGroup = {
  name: "observability",
  master: false,
  variants: OBSERVABILITY_VARIANTS,
  ratios: (seen) => {
    const [quiet, metrics, traced] = [seen.get("quiet"), seen.get("metrics"), seen.get("traced")]
    return {
      cpu_metrics_vs_quiet: ratio(metrics, quiet, "cpu_ms_per_req"),
      cpu_traced_vs_quiet: ratio(traced, quiet, "cpu_ms_per_req"),
      rps_metrics_vs_quiet: ratio(metrics, quiet, "rps"),
      rps_traced_vs_quiet: ratio(traced, quiet, "rps")
    }
  }
}

/**
 * Per runtime, the group's llmgate processes of the round (all pinned to core 1), non-streaming at
 * 64 connections, `P.variants.reps` times, the order rotating between repetitions (each variant
 * once in each place with 3 repetitions) and rounds. Each repetition's ratios compare measurements
 * taken seconds apart, which the VM's drift between runs does not blur; they are recorded as
 * `<group>_vs`. The limits group: master key, virtual key, limited virtual key; the observability
 * group: every exporter off, metrics alone, OTLP tracing alone (whose exports are checked to arrive).
 */
const variantScenario = async (round: number, lives: ReadonlyArray<Live>, group: VariantGroup): Promise<void> => {
  for (const runtime of RUNTIMES) {
    const ids = [...(group.master ? [`llmgate-${runtime}`] : []), ...group.variants.map((v) => variantId(runtime, v))]
    const all = ids.flatMap((id) => lives.filter((l) => l.target.id === id))
    if (all.length !== ids.length) {
      problems.push(
        `round ${round}: ${group.name} scenario on ${runtime} skipped: ${ids.filter((id) => !all.some((l) => l.target.id === id)).join(", ")} did not start`
      )
      continue
    }
    log(`  ${group.name} on ${runtime}: ${ids.join(", ")} × ${P.variants.reps}`)
    const started = performance.now()
    // A master-key process is warm from every scenario above (not with `--variants`); the variants only answered their
    // startup probes. Unmeasured load first, so JIT tiering does not count against them.
    for (const live of all) {
      if (live.target.variant === undefined && !VARIANTS_ONLY) continue
      await runLoad({
        port: live.port,
        path: PATH,
        headers: headersOf(live.target),
        body: body(pick(live.target, M.nonStream), false),
        connections: CONNECTIONS,
        durationS: P.variants.variantWarmS
      })
    }
    const exportedBefore = new Map(all.map((l) => [l.target.id, otlpSink.received(l.target.id).exports]))
    for (let rep = 1; rep <= P.variants.reps; rep++) {
      const shift = (rep + round - 2) % all.length
      const seen = new Map<string, Metrics>()
      for (const live of [...all.slice(shift), ...all.slice(0, shift)]) {
        if (live.child?.hasExited()) {
          problems.push(
            `round ${round}: ${live.target.id} had exited before the ${group.name} scenario: ${live.child.output().trim()}`
          )
          continue
        }
        try {
          // A measurement during which other processes used more than OTHER_CPU_WARN % of a core is
          // taken once more, and the less disturbed of the two kept.
          let { metrics } = await nonStreaming(CONNECTIONS, P.variants.warmS, P.variants.durS)(live)
          let attempts = 1
          if ((metrics["other_cpu_pct"] ?? 0) > OTHER_CPU_WARN) {
            const again = (await nonStreaming(CONNECTIONS, P.variants.warmS, P.variants.durS)(live)).metrics
            attempts++
            if ((again["other_cpu_pct"] ?? 0) < (metrics["other_cpu_pct"] ?? 0)) metrics = again
          }
          measurements.push({
            round,
            rep,
            target: live.target.id,
            scenario: `${group.name}_c64`,
            metrics: { ...metrics, attempts }
          })
          seen.set(live.target.variant ?? "master", metrics)
        } catch (e) {
          problems.push(
            `round ${round}: ${live.target.id} / ${group.name}: ${e instanceof Error ? e.message : String(e)}`
          )
        }
      }
      measurements.push({
        round,
        rep,
        target: `llmgate-${runtime}`,
        scenario: `${group.name}_vs`,
        metrics: group.ratios(seen)
      })
      log(
        `    rep ${rep}: CPU ms/req ${[...seen].map(([v, m]) => `${v} ${m["cpu_ms_per_req"]?.toFixed(3)}`).join(", ")}`
      )
    }
    // Every traced process exported spans while it was measured (batches go out within seconds).
    for (const live of all) {
      if (live.target.variant !== "traced") continue
      const id = live.target.id
      const deadline = performance.now() + 10_000
      while (otlpSink.received(id).exports === exportedBefore.get(id) && performance.now() < deadline) await sleep(50)
      if (otlpSink.received(id).exports === exportedBefore.get(id))
        problems.push(`round ${round}: ${id} exported no spans to the OTLP receiver while it was measured`)
    }
    record(round, `llmgate-${runtime}`, `${group.name}_time`, { seconds: (performance.now() - started) / 1000 })
  }
}

// ---- 1 vs 2 workers -------------------------------------------------------------------------------------

interface HealthSummary {
  readonly worker?: { readonly id?: number; readonly count?: number }
  readonly workers?: ReadonlyArray<{ readonly id?: number; readonly config_version?: number }>
}

/** Connections opened to GET /health to see which workers answer (SO_REUSEPORT hashes each to one). */
const HEALTH_PROBES = 32

/**
 * The worker count as the gateway reports it: `GET /health`'s `worker.count` and `workers` list, and
 * how many distinct `worker.id`s answer HEALTH_PROBES new connections (each request on its own).
 */
const workersSeen = async (
  port: number
): Promise<{ readonly count: number; readonly listed: number; readonly answering: number }> => {
  const ids = new Set<number>()
  let count = Number.NaN
  let listed = Number.NaN
  for (let i = 0; i < HEALTH_PROBES; i++) {
    const r = await send(port, "/health", undefined, {}, 2000)
    if (r.status !== 200) throw new Error(`GET /health answered ${r.status}: ${r.body.slice(0, 200)}`)
    const h = JSON.parse(r.body) as HealthSummary
    if (typeof h.worker?.id === "number") ids.add(h.worker.id)
    count = h.worker?.count ?? Number.NaN
    listed = h.workers?.length ?? Number.NaN
  }
  return { count, listed, answering: ids.size }
}

/**
 * llmgate on each runtime with LLMGATE_WORKERS=1 and =2 (order alternating between rounds), both on
 * cores 0,1 — the whole machine, which the load generator and the upstream also use — at 64
 * connections, non-streaming. The worker count is checked against GET /health.
 */
const workersScenario = async (round: number): Promise<void> => {
  for (const runtime of RUNTIMES) {
    const target = MAIN_TARGETS.find((t) => t.kind === "llmgate" && t.runtime === runtime)
    if (target === undefined) continue
    const counts = round % 2 === 1 ? WORKER_COUNTS : [...WORKER_COUNTS].reverse()
    log(`  llmgate-${runtime} on cores ${BOTH_CPUS}, LLMGATE_WORKERS=${counts.join(" then ")}`)
    for (const workers of counts) {
      const id = workersId(runtime, workers)
      try {
        const { live, metrics } = await startTarget(target, BOTH_CPUS, { LLMGATE_WORKERS: String(workers) }, id)
        try {
          const seen = await workersSeen(live.port)
          if (seen.count !== workers || seen.listed !== workers) {
            problems.push(
              `round ${round}: ${id}: GET /health reports worker.count ${seen.count} and ${seen.listed} workers listed, expected ${workers}`
            )
          }
          if (seen.answering !== workers) {
            problems.push(
              `round ${round}: ${id}: ${seen.answering} distinct worker id(s) answered ${HEALTH_PROBES} new connections, expected ${workers}`
            )
          }
          const threads = live.pids.reduce((n, pid) => n + threadCount(pid), 0)
          const { metrics: load } = await nonStreaming(CONNECTIONS, P.c64.warmS, P.c64.durS)(live)
          record(round, id, "workers_c64", {
            ...load,
            workers_reported: seen.count,
            workers_listed: seen.listed,
            workers_answering: seen.answering,
            os_threads: threads
          })
          record(round, id, "startup", metrics)
          log(
            `    ${id}: /health ${seen.count} worker(s), ${seen.answering} answering; ${load["rps"]?.toFixed(0)} req/s`
          )
        } finally {
          await live.child?.stop()
        }
      } catch (e) {
        problems.push(`round ${round}: ${id}: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
  }
}

// ---- the shared state's cost per request ---------------------------------------------------------------

/**
 * test/bench/sharedState.ts on each runtime, in a child on both cores (this process is pinned to
 * core 0, and its threads would inherit that), while no target runs; its summary is recorded as the
 * `shared_state` scenario of llmgate on that runtime.
 */
const sharedStateBench = async (round: number): Promise<void> => {
  for (const runtime of RUNTIMES) {
    const out = join(tempDir, `shared-state-${runtime}-${round}.json`)
    const [command, args] = runtimeCommand(
      runtime,
      join(ROOT, "test/bench/sharedState.ts"),
      ["--reps", String(P.sharedState.reps), "--ms", String(P.sharedState.ms), "--json", out],
      SHARED_STATE_DENO_FLAGS
    )
    log(`  shared-state micro-benchmark on ${runtime} (cores ${BOTH_CPUS})`)
    const child = spawnChild({ name: `shared-state-${runtime}`, cpus: BOTH_CPUS, command, args })
    const code = await child.exited
    let result: { readonly summary: Metrics; readonly problems: ReadonlyArray<string> } | undefined
    try {
      result = JSON.parse(readFileSync(out, "utf8")) as {
        readonly summary: Metrics
        readonly problems: ReadonlyArray<string>
      }
    } catch {
      problems.push(
        `round ${round}: shared-state micro-benchmark on ${runtime} wrote no result (exit ${code}): ${child.output().trim()}`
      )
      continue
    }
    record(round, `llmgate-${runtime}`, "shared_state", result.summary)
    for (const p of result.problems) problems.push(`round ${round}: shared-state micro-benchmark on ${runtime}: ${p}`)
    if ((result.summary["disturbed"] ?? 0) > 0) {
      problems.push(
        `round ${round}: shared-state micro-benchmark on ${runtime}: ${result.summary["disturbed"]} run(s) disturbed by other processes even after retries`
      )
    }
  }
}

// ---- the run ------------------------------------------------------------------------------------------

const version = (command: string, args: ReadonlyArray<string>): string =>
  spawnSync(command, args, { encoding: "utf8" }).stdout.split("\n")[0]?.trim() ?? "?"

const main = async (): Promise<void> => {
  const started = Date.now()
  const nodeMajor = Number(process.versions.node.split(".")[0])
  if (nodeMajor < 24)
    log(`bench: warning: the bench runs on node ${process.versions.node}; run it with \`npm run bench\` (Node 24)`)
  const pinned = pinSelf(HARNESS_CPU)
  if (!pinned)
    problems.push(
      "could not pin the bench process to core 0 (taskset failed): the load generator may share the target's core"
    )
  startGuard(tempDir)

  await otlpSink.start()
  upstreamPort = await freePort()
  const upstream = spawnChild({
    name: "upstream",
    cpus: HARNESS_CPU,
    command: bin("node"),
    args: [join(ROOT, "test/bench/upstream.ts"), "--port", String(upstreamPort), "--ttl", String(P.watchdogS + 60)]
  })
  for (let i = 0; ; i++) {
    if (upstream.hasExited()) throw new Error(`upstream exited: ${upstream.output()}`)
    if (
      await upstreamStats().then(
        () => true,
        () => false
      )
    )
      break
    if (i > 2000) throw new Error("upstream did not start")
    await sleep(5)
  }
  const upstreamAtStart = await upstreamStats()

  const meta = {
    date: new Date().toISOString(),
    mode: QUICK ? "quick" : "full",
    git: version("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]),
    cpu: cpus()[0]?.model ?? "?",
    cores: cpus().length,
    kernel: release(),
    clk_tck: CLK_TCK,
    node: version(bin("node"), ["--version"]),
    bun: version(bin("bun"), ["--version"]),
    deno: version(bin("deno"), ["--version"]),
    bench_affinity: affinity(process.pid),
    upstream_affinity: affinity(upstream.pid),
    target_affinity: TARGET_CPU,
    deno_flags: DENO_FLAGS.join(" "),
    params: { ...P, connections: CONNECTIONS, shapes: SHAPES }
  }
  log(
    `llmgate bench (${meta.mode}): ${P.rounds} round(s); targets on core ${TARGET_CPU}, upstream + load generator on core ${HARNESS_CPU}`
  )

  for (let round = 1; round <= P.rounds; round++) {
    // The main targets rotate; each master-key llmgate is followed by its virtual-key variants.
    const shift = (round - 1) % MAIN_TARGETS.length
    const order = [...MAIN_TARGETS.slice(shift), ...MAIN_TARGETS.slice(0, shift)].flatMap((t) =>
      t.kind === "llmgate" ? [t, ...TARGETS.filter((v) => v.variant !== undefined && v.runtime === t.runtime)] : [t]
    )
    log(`round ${round}/${P.rounds}: ${order.map((t) => t.id).join(", ")}`)
    const lives: Array<Live> = []
    for (const t of order) {
      if (t.kind === "direct") {
        lives.push({ target: t, port: upstreamPort, child: undefined, pids: [] })
        continue
      }
      try {
        const { live, metrics } = await startTarget(t, TARGET_CPU, { LLMGATE_WORKERS: "1" })
        lives.push(live)
        record(round, t.id, "startup", metrics)
        log(
          `  ${t.id}: first proxied request ${metrics["spawn_to_first_ms"]?.toFixed(0)} ms after spawn, idle RSS ${metrics["idle_rss_mb"]?.toFixed(1)} MB`
        )
      } catch (e) {
        problems.push(`round ${round}: ${t.id} did not start: ${e instanceof Error ? e.message : String(e)}`)
        log(`  ${t.id}: FAILED to start`)
      }
    }
    for (const [id, label, scenario] of VARIANTS_ONLY ? [] : SCENARIOS) {
      log(`  ${label}`)
      for (const live of lives) {
        if (live.target.variant !== undefined) continue
        if (live.child?.hasExited()) {
          problems.push(`round ${round}: ${live.target.id} had exited before "${label}": ${live.child.output().trim()}`)
          continue
        }
        try {
          const { metrics, failures } = await scenario(live)
          record(round, live.target.id, id, metrics, failures)
        } catch (e) {
          problems.push(`round ${round}: ${live.target.id} / ${label}: ${e instanceof Error ? e.message : String(e)}`)
        }
      }
    }
    await variantScenario(round, lives, LIMITS_GROUP)
    await variantScenario(round, lives, OBSERVABILITY_GROUP)
    await Promise.all(lives.map((l) => l.child?.stop()))

    if (P.workers) await workersScenario(round)
    if (!VARIANTS_ONLY) await sharedStateBench(round)
  }

  const upstreamAtEnd = await upstreamStats()
  await upstream.stop()
  const split = {
    a: (upstreamAtEnd.byProvider["a"] ?? 0) - (upstreamAtStart.byProvider["a"] ?? 0),
    b: (upstreamAtEnd.byProvider["b"] ?? 0) - (upstreamAtStart.byProvider["b"] ?? 0)
  }

  const derived = [...derive(measurements, TARGETS), ...deriveWorkers(measurements, RUNTIMES, WORKER_COUNTS, workersId)]
  const summary = summarize([...measurements, ...derived])
  const criteria = evaluate(summary, RUNTIMES)
  const elapsedS = (Date.now() - started) / 1000
  const markdown = render(meta, summary, criteria, split, elapsedS)

  const dir = join(ROOT, "test/bench/results")
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, "latest.md"), `${markdown}\n`)
  writeFileSync(
    join(dir, "latest.json"),
    `${JSON.stringify({ meta: { ...meta, elapsed_s: elapsedS, upstream_split: split }, gateway_config: gatewayConfig(0, 0, M), gateway_config_limited_key: gatewayConfig(0, 0, M, "limited"), problems, criteria, summary, measurements: [...measurements, ...derived] }, null, 2)}\n`
  )
  process.stdout.write(`${markdown}\n`)
  log(`wrote test/bench/results/latest.md and latest.json (${elapsedS.toFixed(0)} s)`)
}

// ---- markdown -------------------------------------------------------------------------------------------

const render = (
  meta: Record<string, unknown> & { params: typeof P },
  s: Summary,
  criteria: ReturnType<typeof evaluate>,
  split: { a: number; b: number },
  elapsedS: number
): string => {
  const get = (t: string, scenario: string, metric: string) => s[t]?.[scenario]?.[metric]
  const ids = MAIN_TARGETS.map((t) => t.id)
  const isDirect = (t: string): boolean => t === "direct"
  const harness = (t: string, scenario: string): string => {
    const up = get(t, scenario, "upstream_cpu_pct")
    const gen = get(t, scenario, "gen_cpu_pct")
    return up === undefined ? "—" : `${up.median.toFixed(0)} + ${gen?.median.toFixed(0) ?? "?"}`
  }
  const worstOther = (t: string): number => {
    const values = SCENARIOS.map(([id]) => get(t, id, "other_cpu_pct")?.max ?? Number.NaN).filter(Number.isFinite)
    return values.length ? Math.max(...values) : Number.NaN
  }
  /** Worst-round errors summed over scenarios; "—" when none of them ran. */
  const errorSum = (t: string, scenarios: ReadonlyArray<string>): string => {
    const values = scenarios.map((sc) => get(t, sc, "errors")?.max).filter((v): v is number => v !== undefined)
    return values.length ? String(values.reduce((a, b) => a + b, 0)) : "—"
  }
  const num0 = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : "—")
  const num2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : "—")
  const workerIds = P.workers ? RUNTIMES.flatMap((r) => WORKER_COUNTS.map((w) => workersId(r, w))) : []
  const variantIds = RUNTIMES.flatMap((r) => [`llmgate-${r}`, ...VARIANTS.map((v) => variantId(r, v))])
  const disturbed = [
    ...ids.filter((t) => worstOther(t) > OTHER_CPU_WARN),
    ...["limits", "observability"].flatMap((g) =>
      variantIds
        .filter((t) => (get(t, `${g}_c64`, "other_cpu_pct")?.max ?? 0) > OTHER_CPU_WARN)
        .map((t) => `${t} (${g})`)
    ),
    ...workerIds.filter((t) => (get(t, "workers_c64", "other_cpu_pct")?.max ?? 0) > OTHER_CPU_WARN)
  ]
  const out: Array<string> = []
  out.push(
    `## llmgate benchmark (${meta["mode"]}, ${P.rounds} round${P.rounds > 1 ? "s" : ""}, ${elapsedS.toFixed(0)} s)`
  )
  out.push("")
  out.push(
    `${meta["date"]} · git ${meta["git"]} · ${meta["cpu"]}, ${meta["cores"]} cores, Linux ${meta["kernel"]} · node ${meta["node"]} · bun ${meta["bun"]} · ${meta["deno"]}`
  )
  out.push("")
  out.push(
    `Each target (bare proxy or llmgate, \`LLMGATE_WORKERS=1\`) is pinned to core ${TARGET_CPU} (taskset). The fake upstream and the load generator ` +
      `(autocannon and the stream clients, in the bench process) share core ${HARNESS_CPU} — the load generator shares the machine, so the fastest targets ` +
      `may be capped by core ${HARNESS_CPU} (see the last table). Cells: median (min–max) over rounds; “added” = target minus direct in the same round; ` +
      `“× bare” = llmgate ÷ the bare proxy on the same runtime. Latencies are per-response timings (µs resolution), not autocannon's 1 ms histogram.`
  )
  out.push("")
  out.push(
    `### Non-streaming (c1: 1 connection, ${meta.params.c1.durS} s; c64: ${CONNECTIONS} connections, ${meta.params.c64.durS} s)`
  )
  out.push("")
  out.push(
    table(
      [
        "target",
        "c1 p50 ms",
        "c1 added p50 ms",
        "c1 added p99 ms",
        "c64 req/s",
        "req/s × bare",
        "c64 p99 ms",
        "CPU ms/req",
        "CPU × bare",
        "errors"
      ],
      ids.map((t) => [
        t,
        cell(get(t, "nonstream_c1", "p50"), 3),
        isDirect(t) ? "—" : cell(get(t, "vs_direct", "added_p50"), 3),
        isDirect(t) ? "—" : cell(get(t, "vs_direct", "added_p99"), 3),
        cell(get(t, "nonstream_c64", "rps"), 0),
        cell(get(t, "vs_bare", "rps_ratio"), 2),
        cell(get(t, "nonstream_c64", "p99"), 2),
        isDirect(t) ? "—" : cell(get(t, "nonstream_c64", "cpu_ms_per_req"), 3),
        cell(get(t, "vs_bare", "cpu_ratio"), 2),
        errorSum(t, ["nonstream_c1", "nonstream_c64"])
      ])
    )
  )
  out.push("")
  out.push(
    `### Streaming (first byte: ${SHAPES.stream.chunks} chunks at once; chunk delay: ${SHAPES.chunks.chunks} chunks ${SHAPES.chunks.intervalMs} ms apart)`
  )
  out.push("")
  out.push(
    "Overheads are target minus direct in the same round. Chunk delay: time from the upstream writing a content chunk (after the first) " +
      "to its arrival at the client, minus the same through direct — the delay the target adds to every chunk."
  )
  out.push("")
  out.push(
    table(
      [
        "target",
        "TTFB c1 p50 ms",
        "overhead c1 p50",
        "overhead c1 p99",
        "TTFB c64 p50 ms",
        "overhead c64 p50",
        "overhead c64 p99",
        "streams/s c64",
        "× bare",
        "chunk delay p50 ms",
        "chunk delay p99 ms",
        "errors"
      ],
      ids.map((t) => [
        t,
        cell(get(t, "ttfb_c1", "ttfb_p50"), 3),
        isDirect(t) ? "—" : cell(get(t, "vs_direct", "ttfb_c1_p50"), 3),
        isDirect(t) ? "—" : cell(get(t, "vs_direct", "ttfb_c1_p99"), 3),
        cell(get(t, "ttfb_c64", "ttfb_p50"), 2),
        isDirect(t) ? "—" : cell(get(t, "vs_direct", "ttfb_c64_p50"), 2),
        isDirect(t) ? "—" : cell(get(t, "vs_direct", "ttfb_c64_p99"), 2),
        cell(get(t, "ttfb_c64", "rps"), 0),
        cell(get(t, "vs_bare", "stream_rps_ratio"), 2),
        isDirect(t) ? "—" : cell(get(t, "vs_direct", "chunk_delay_p50"), 3),
        isDirect(t) ? "—" : cell(get(t, "vs_direct", "chunk_delay_p99"), 3),
        errorSum(t, ["ttfb_c1", "chunks_c1", "ttfb_c64"])
      ])
    )
  )
  out.push("")
  out.push(
    `### ${P.long.count} concurrent long streams (${SHAPES.long.chunks} chunks ${SHAPES.long.intervalMs} ms apart), startup and idle memory`
  )
  out.push("")
  out.push(
    `All ${P.long.count} streams are opened at once, each on its own connection (~${(((SHAPES.long.chunks - 1) * SHAPES.long.intervalMs) / 1000).toFixed(2)} s each upstream). ` +
      "RSS is the target's process tree (VmRSS), sampled every 50 ms; growth = peak − before. A first-byte p99 in seconds means streams queued: " +
      "the listen backlog overflowed (SYN retransmits after 1 s, then 3 s) or the target's core was saturated; chunk relay = upstream write → client arrival. Idle RSS: after the first proxied request and a short rest."
  )
  out.push("")
  out.push(
    table(
      [
        "target",
        "errors (worst round)",
        "RSS before MB",
        "RSS peak MB",
        "RSS growth MB",
        "first byte p99 ms",
        "all done s",
        "chunk relay p50 ms",
        "chunk relay p99 ms",
        "CPU ms/stream",
        "idle RSS MB",
        "spawn → first proxied ms"
      ],
      ids.map((t) => [
        t,
        `${get(t, "long_streams", "errors")?.max ?? "—"}`,
        cell(get(t, "long_streams", "rss_before_mb"), 1),
        cell(get(t, "long_streams", "rss_peak_mb"), 1),
        cell(get(t, "long_streams", "rss_growth_mb"), 1),
        cell(get(t, "long_streams", "ttfb_p99"), 0),
        cell(get(t, "long_streams", "all_done_s"), 2),
        cell(get(t, "long_streams", "relay_p50"), 2),
        cell(get(t, "long_streams", "relay_p99"), 2),
        isDirect(t) ? "—" : cell(get(t, "long_streams", "cpu_ms_per_stream"), 2),
        cell(get(t, "startup", "idle_rss_mb"), 1),
        cell(get(t, "startup", "spawn_to_first_ms"), 0)
      ])
    )
  )
  out.push("")
  out.push(
    `### Targets (llmgate on one core vs the bare proxy on its own runtime; shared state from the micro-benchmark; medians)`
  )
  out.push("")
  const labels = [...new Map(criteria.map((c) => [c.id, c.label])).entries()]
  out.push(
    table(
      ["target", "Node", "Bun", "Deno"],
      labels.map(([id, label]) => [
        label,
        ...RUNTIMES.map((r) => verdict(criteria.find((c) => c.id === id && c.runtime === r)))
      ])
    )
  )
  const passed = criteria.filter((c) => c.pass === true).length
  out.push("")
  out.push(`${passed}/${criteria.length} targets met.`)
  out.push("")
  out.push("### Shared routing state per request (micro-benchmark, `test/bench/sharedState.ts`)")
  out.push("")
  out.push(
    "The dispatcher's shared-state operations for one successful request to `bench-model` (weighted, two targets with `max_concurrency`): " +
      "breaker checks, capacity checks, the weighted pick, breaker admission, the limiter's `acquire` effect, in-flight begin/end, the outcome " +
      "(breaker and averages) and the permit's release, on state built as the owner and a worker build it, in worker threads on both cores while no " +
      "target runs. ns per request per thread, medians over rounds of the medians of the repetitions. “Local”: the same operations over " +
      "`localRoutingState()` (private slots, same code: what one thread pays without sharing); “own cost” = shared − local with the same number " +
      "of threads. “Back to back”: each thread does nothing else, the worst case for lock collisions; “paced”: each request is followed by " +
      `~${num0((get("llmgate-node", "shared_state", "filler_ns")?.median ?? Number.NaN) / 1000)} µs of other work touching no shared memory, as the gateway's HTTP work spaces requests out (only the requests are timed).`
  )
  out.push("")
  out.push(
    table(
      [
        "runtime",
        "1 thread: local ns",
        "shared ns",
        "own cost ns",
        "2 threads back to back: local ns",
        "shared (contended) ns",
        "own cost ns",
        "2 threads paced: own cost ns",
        "weighted split (3 : 1)",
        "target < 2 µs (1 / 2 threads)"
      ],
      RUNTIMES.map((r) => {
        const id = `llmgate-${r}`
        return [
          r,
          cell(get(id, "shared_state", "ns_local_1"), 0),
          cell(get(id, "shared_state", "ns_shared_1"), 0),
          cell(get(id, "shared_state", "added_ns_1"), 0),
          cell(get(id, "shared_state", "ns_local_2"), 0),
          cell(get(id, "shared_state", "ns_shared_2"), 0),
          cell(get(id, "shared_state", "added_ns_2"), 0),
          cell(get(id, "shared_state", "added_ns_2_paced"), 0),
          cell(get(id, "shared_state", "split_ratio"), 3),
          verdict(criteria.find((c) => c.id === "shared_state" && c.runtime === r))
        ]
      })
    )
  )
  out.push("")
  out.push(
    `### Limits: master key vs virtual key vs limited virtual key (${CONNECTIONS} connections, non-streaming, core ${TARGET_CPU})`
  )
  out.push("")
  out.push(
    "llmgate on each runtime three times in the round, one process each, same config but for the tenancy: requests with the master key " +
      "(never limited, usage recorded), with a virtual key of a project without limits and without usage recording, and with a virtual key with " +
      "limits that never refuse at this load and usage recording " +
      `(${Object.entries(BENCH_LIMITS)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}): every request takes the limit slots' locks, reserves tokens, ` +
      `settles them to the upstream's \`usage\` (checked at startup: remaining tokens drop by ${UPSTREAM_USAGE.total_tokens} per answer) and gets ` +
      `\`x-ratelimit-*\` headers. ${P.variants.reps} repetitions per round of ${P.variants.durS} s each (after ${P.variants.warmS} s warm-up), the order rotating; ` +
      "CPU and req/s: medians (min–max) over repetitions and rounds; ratios: medians of each repetition's ratio (the three measured seconds apart). " +
      "“Limits and usage recording add” is limited ÷ key: both against neither. The CPU counter ticks every 10 ms, ~1 % of a " +
      `${P.variants.durS} s measurement; this VM moves ±20 % between runs, much less within a repetition. A measurement during which other processes ` +
      `used more than ${OTHER_CPU_WARN} % of a core is taken once more and the less disturbed kept (attempts column). The scenario took ` +
      `${RUNTIMES.map((r) => `${num0(get(`llmgate-${r}`, "limits_time", "seconds")?.median ?? Number.NaN)} s on ${r}`).join(", ")} per round (besides starting the two extra processes).`
  )
  out.push("")
  out.push(
    table(
      [
        "runtime",
        "req/s master",
        "req/s key",
        "req/s limited",
        "p99 ms master / key / limited",
        "CPU ms/req master",
        "CPU ms/req key",
        "CPU ms/req limited",
        "limited ÷ master",
        "key ÷ master",
        "limited ÷ key",
        "attempts (sum)",
        "limits + usage add < 5 % CPU/req"
      ],
      RUNTIMES.map((r) => {
        const [m, k, l] = [`llmgate-${r}`, variantId(r, "key"), variantId(r, "limited")]
        const vs = (metric: string) => get(m, "limits_vs", metric)
        return [
          r,
          cell(get(m, "limits_c64", "rps"), 0),
          cell(get(k, "limits_c64", "rps"), 0),
          cell(get(l, "limits_c64", "rps"), 0),
          [m, k, l].map((t) => num2(get(t, "limits_c64", "p99")?.median ?? Number.NaN)).join(" / "),
          cell(get(m, "limits_c64", "cpu_ms_per_req"), 3),
          cell(get(k, "limits_c64", "cpu_ms_per_req"), 3),
          cell(get(l, "limits_c64", "cpu_ms_per_req"), 3),
          cell(vs("cpu_limited_vs_master"), 3),
          cell(vs("cpu_key_vs_master"), 3),
          cell(vs("cpu_limited_vs_key"), 3),
          String(
            measurements
              .filter((x) => x.scenario === "limits_c64" && [m, k, l].includes(x.target))
              .reduce((n, x) => n + (x.metrics["attempts"] ?? 0), 0)
          ),
          verdict(criteria.find((c) => c.id === "limits_cpu" && c.runtime === r))
        ]
      })
    )
  )
  out.push("")
  out.push(
    `### Observability: every exporter off vs metrics vs OTLP tracing (${CONNECTIONS} connections, non-streaming, core ${TARGET_CPU})`
  )
  out.push("")
  out.push(
    "llmgate on each runtime three more times in the round, on the master key without usage recording (the limits scenario's subject): " +
      "with every exporter off (`metrics.enabled: false`, no `tracing`: no request builds a record or a span), with the Prometheus metrics " +
      "alone (the default; every request's record goes to the owner's counters; nothing scrapes during the measurement), and with " +
      "OTLP tracing alone at `sample_rate: 1` (a server span and a client span per request with their GenAI attributes, exported in " +
      "OTLP batches (http/protobuf, the default) to a receiver in the bench process, on core " +
      HARNESS_CPU +
      ", which checks that the exports arrive). Repetitions, order and ratios as in the limits scenario. The scenario took " +
      `${RUNTIMES.map((r) => `${num0(get(`llmgate-${r}`, "observability_time", "seconds")?.median ?? Number.NaN)} s on ${r}`).join(", ")} per round.`
  )
  out.push("")
  out.push(
    table(
      [
        "runtime",
        "req/s off",
        "req/s metrics",
        "req/s traced",
        "p99 ms off / metrics / traced",
        "CPU ms/req off",
        "CPU ms/req metrics",
        "CPU ms/req traced",
        "attempts (sum)",
        "metrics add < 5 % CPU/req",
        "OTLP tracing adds < 5 % CPU/req"
      ],
      RUNTIMES.map((r) => {
        const [q, m, t] = [variantId(r, "quiet"), variantId(r, "metrics"), variantId(r, "traced")]
        return [
          r,
          cell(get(q, "observability_c64", "rps"), 0),
          cell(get(m, "observability_c64", "rps"), 0),
          cell(get(t, "observability_c64", "rps"), 0),
          [q, m, t].map((x) => num2(get(x, "observability_c64", "p99")?.median ?? Number.NaN)).join(" / "),
          cell(get(q, "observability_c64", "cpu_ms_per_req"), 3),
          cell(get(m, "observability_c64", "cpu_ms_per_req"), 3),
          cell(get(t, "observability_c64", "cpu_ms_per_req"), 3),
          String(
            measurements
              .filter((x) => x.scenario === "observability_c64" && [q, m, t].includes(x.target))
              .reduce((n, x) => n + (x.metrics["attempts"] ?? 0), 0)
          ),
          verdict(criteria.find((c) => c.id === "metrics_cpu" && c.runtime === r)),
          verdict(criteria.find((c) => c.id === "otlp_cpu" && c.runtime === r))
        ]
      })
    )
  )
  if (P.workers) {
    out.push("")
    out.push(`### 1 vs 2 workers (\`LLMGATE_WORKERS\`, cores ${BOTH_CPUS}, ${CONNECTIONS} connections, non-streaming)`)
    out.push("")
    out.push(
      `Both rows of a runtime get the same CPUs — both cores, i.e. the whole machine — which the upstream and the load generator (pinned to core ${HARNESS_CPU}) ` +
        "also need: a second worker can only use what they leave of that core, so “× 1 worker” is a lower bound of what a second worker gives on a machine with " +
        "spare cores (read it with the CPU columns: gateway % of one core, and upstream + load generator % of core " +
        HARNESS_CPU +
        "). " +
        `Workers are threads of one process: the count is checked with \`GET /health\` (\`worker.count\`, the \`workers\` list) and by how many distinct \`worker.id\`s answer ${HEALTH_PROBES} new connections; ` +
        "OS threads is the process's thread count at startup."
    )
    out.push("")
    const rows: Array<Array<string>> = []
    for (const r of RUNTIMES) {
      rows.push([
        `llmgate-${r}, 1 worker, pinned to core ${TARGET_CPU} (main table)`,
        "—",
        "—",
        cell(get(`llmgate-${r}`, "nonstream_c64", "rps"), 0),
        "—",
        cell(get(`llmgate-${r}`, "nonstream_c64", "p99"), 2),
        cell(get(`llmgate-${r}`, "nonstream_c64", "cpu_ms_per_req"), 3),
        cell(get(`llmgate-${r}`, "nonstream_c64", "target_cpu_pct"), 0),
        harness(`llmgate-${r}`, "nonstream_c64"),
        num0(get(`llmgate-${r}`, "nonstream_c64", "other_cpu_pct")?.max ?? Number.NaN),
        cell(get(`llmgate-${r}`, "startup", "idle_rss_mb"), 1)
      ])
      for (const w of WORKER_COUNTS) {
        const id = workersId(r, w)
        const reported = get(id, "workers_c64", "workers_reported")
        const listed = get(id, "workers_c64", "workers_listed")
        rows.push([
          `llmgate-${r}, LLMGATE_WORKERS=${w}`,
          reported === undefined
            ? "—"
            : `${cell(reported, 0)} (${cell(listed, 0)} listed, ${cell(get(id, "workers_c64", "workers_answering"), 0)} answering)`,
          cell(get(id, "workers_c64", "os_threads"), 0),
          cell(get(id, "workers_c64", "rps"), 0),
          w === WORKER_COUNTS[0] ? "—" : cell(get(id, "vs_first_count", "rps_ratio"), 2),
          cell(get(id, "workers_c64", "p99"), 2),
          cell(get(id, "workers_c64", "cpu_ms_per_req"), 3),
          cell(get(id, "workers_c64", "target_cpu_pct"), 0),
          harness(id, "workers_c64"),
          num0(get(id, "workers_c64", "other_cpu_pct")?.max ?? Number.NaN),
          cell(get(id, "startup", "idle_rss_mb"), 1)
        ])
      }
    }
    out.push(
      table(
        [
          "config",
          "/health workers",
          "OS threads",
          "req/s",
          "× 1 worker",
          "p99 ms",
          "CPU ms/req",
          "gateway CPU %",
          "upstream + load gen %",
          "other processes % (worst)",
          "idle RSS MB"
        ],
        rows
      )
    )
  }
  out.push("")
  out.push(`### Harness load on core ${HARNESS_CPU}: fake upstream % + load generator % of one core (medians)`)
  out.push("")
  out.push(
    table(
      [
        "target",
        "non-streaming c1",
        "non-streaming c64",
        "stream TTFB c1",
        "stream TTFB c64",
        "long streams",
        `target core ${TARGET_CPU} % (c64)`,
        "other processes % (worst)"
      ],
      ids.map((t) => [
        t,
        harness(t, "nonstream_c1"),
        harness(t, "nonstream_c64"),
        harness(t, "ttfb_c1"),
        harness(t, "ttfb_c64"),
        harness(t, "long_streams"),
        isDirect(t) ? "—" : cell(get(t, "nonstream_c64", "target_cpu_pct"), 0),
        num0(worstOther(t))
      ])
    )
  )
  out.push("")
  out.push(
    `When upstream + load generator approach 100 %, core ${HARNESS_CPU} — not the target — bounds req/s, and the “× bare” ratios are upper bounds. ` +
      `Weighted split seen by the upstream over llmgate traffic (up-a : up-b, configured 3 : 1): ${split.a} : ${split.b}` +
      (split.b > 0 ? ` = ${(split.a / split.b).toFixed(2)} : 1.` : ".") +
      " “Other processes”: CPU the machine spent outside the target, the upstream and the bench during a measurement (from /proc/stat)."
  )
  if (disturbed.length) {
    out.push("")
    out.push(
      `**Warning:** other processes used more than ${OTHER_CPU_WARN} % of a core during some measurements of ${disturbed.join(", ")} ` +
        "(see the last column): those figures are disturbed; rerun on a quiet machine."
    )
  }
  if (problems.length) {
    out.push("")
    out.push("### Problems")
    out.push("")
    for (const p of problems) out.push(`- ${p.replace(/\s+/g, " ").slice(0, 600)}`)
  }
  return out.join("\n")
}

main().then(() => {
  cleanup()
  process.exit(0)
}, fatal)
