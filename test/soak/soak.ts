/**
 * One soak run against one runtime: the bench's fake upstream (test/bench/upstream.ts) and the
 * gateway (file mode, two worker threads) as child processes (test/bench/lib/proc.ts), mixed traffic
 * for the duration (lib/traffic.ts), and every `sampleEveryMs` the gateway's resident memory
 * (VmRSS of its process tree), its live JS heap, open file descriptors (/proc/<pid>/fd) and threads.
 * The gateway exposes no heap figure, so on the V8 runtimes (Node, Deno) it runs with V8's
 * `--trace-gc` and the heap is each isolate's (owner and workers) live size after its latest full
 * collection (mark-compact), summed: the one figure a JS leak cannot hide in, where RSS also moves
 * with the heap's committed size and the allocator. Bun (JavaScriptCore) has no such trace: RSS only.
 * The verdict (lib/verdict.ts) fails on growth after the warm-up beyond the bounds, on any
 * unexpected outcome (a 500 made by the gateway, a lost connection, a request that hung), and when
 * the gateway died or stopped answering /health.
 * Used by `npm run soak` (run.ts) and by the 20-second smoke in the contract suite.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { stringify } from "yaml"
import { DENO_RUN_FLAGS } from "../../runtimes/deno/flags.ts"
import { send } from "../bench/lib/http.ts"
import { bin, type Child, ROOT, sleep, spawnChild, threadCount, treePids, treeRss } from "../bench/lib/proc.ts"
import { runAdmin, runClient, soakConfig, Tally, type Kind } from "./lib/traffic.ts"
import { type Bounds, judge, type Judgement, type Sample, sampleTable } from "./lib/verdict.ts"
import { freePort } from "../support/ports.ts"

export type Runtime = "node" | "bun" | "deno"

export interface SoakOptions {
  readonly runtime: Runtime
  readonly durationMs: number
  /** Samples are taken at the start and every this many ms (10 s in the long runs). */
  readonly sampleEveryMs: number
  /** Samples before this are the warm-up: not judged, they set the descriptor baseline. */
  readonly warmupMs: number
  readonly bounds: Bounds
  /** Concurrent closed-loop clients. */
  readonly clients: number
  readonly workers: number
  /** Admin writes, API reloads and file edits, one every so many ms. */
  readonly cadence: { readonly adminEveryMs: number; readonly reloadEveryMs: number; readonly editEveryMs: number }
  /** A request taking longer counts as hung. */
  readonly requestTimeoutMs: number
  readonly seed?: number
  /** Request kinds left out (client kinds, or "admin", "reload", "edit"): to find which traffic makes memory grow. */
  readonly exclude?: ReadonlyArray<Kind>
  readonly log?: (line: string) => void
}

export interface SoakResult {
  readonly runtime: Runtime
  readonly options: SoakOptions
  readonly samples: ReadonlyArray<Sample>
  readonly tally: Tally
  readonly judgement: Judgement
  /** Every reason the run failed (the judgement's, unexpected outcomes, the gateway's health). */
  readonly failures: ReadonlyArray<string>
  readonly pass: boolean
  readonly elapsedMs: number
  readonly gatewayExit: number | null
}

/** The gateway's command line; the V8 runtimes trace their collections (see `heapTracker`). */
const gatewayCommand = (runtime: Runtime, args: ReadonlyArray<string>): [string, Array<string>] => {
  const main = join(ROOT, "runtimes", runtime, "main.ts")
  switch (runtime) {
    case "node":
      return [bin("node"), ["--trace-gc", main, ...args]]
    case "bun":
      return [bin("bun"), [main, ...args]]
    case "deno":
      return [bin("deno"), ["run", ...DENO_RUN_FLAGS, "--v8-flags=--trace-gc", main, ...args]]
  }
}

/**
 * `[pid:isolate]  1234 ms: Mark-Compact 93.6 (199.2) -> 34.2 (182.5) MB, …` (Deno's V8 writes
 * `Incremental Mark-Compact (reduce) …`): the isolate and its live heap after the collection. A line
 * another thread's log cut in two is skipped.
 */
const MARK_COMPACT =
  /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (?:Incremental )?Mark-Compact(?: \([a-z ]+\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(/

/**
 * Follows V8's GC trace in the gateway's output: each isolate's live heap (MB) after its latest
 * mark-compact. `total()` is their sum, NaN before any (or on a runtime without the trace).
 */
const heapTracker = () => {
  const live = new Map<string, number>()
  let partial = ""
  return {
    feed: (text: string): void => {
      const lines = (partial + text).split("\n")
      partial = (lines.pop() ?? "").slice(-4096)
      for (const line of lines) {
        const m = MARK_COMPACT.exec(line)
        if (m !== null) live.set(m[1]!, Number(m[2]))
      }
    },
    total: (): number => (live.size === 0 ? Number.NaN : [...live.values()].reduce((a, b) => a + b, 0))
  }
}

const openFds = (pids: ReadonlyArray<number>): number =>
  pids.reduce((n, pid) => {
    try {
      return n + readdirSync(`/proc/${pid}/fd`).length
    } catch {
      return n
    }
  }, 0)

/** Polls until `check` holds (or throws with the last problem after `timeoutMs`). */
const until = async (
  what: string,
  child: Child,
  timeoutMs: number,
  check: () => Promise<string | undefined>
): Promise<void> => {
  const end = performance.now() + timeoutMs
  let last = "no attempt"
  for (;;) {
    if (child.hasExited()) throw new Error(`${child.name} exited before ${what}: ${child.output().trim()}`)
    const problem = await check().catch((e: unknown) => (e instanceof Error ? e.message : String(e)))
    if (problem === undefined) return
    last = problem
    if (performance.now() > end)
      throw new Error(`${child.name}: not ${what} within ${timeoutMs} ms (${last}); output: ${child.output().trim()}`)
    await sleep(100)
  }
}

export const runSoak = async (o: SoakOptions): Promise<SoakResult> => {
  const log = o.log ?? (() => undefined)
  const dir = mkdtempSync(join(tmpdir(), "llmgate-soak-"))
  const allCpus = `0-${Math.max(0, cpus().length - 1)}`
  const children: Array<Child> = []
  try {
    const upstreamPort = await freePort()
    const upstream = spawnChild({
      name: "soak upstream",
      cpus: allCpus,
      command: bin("node"),
      args: [
        join(ROOT, "test/bench/upstream.ts"),
        "--port",
        String(upstreamPort),
        "--ttl",
        String(Math.ceil(o.durationMs / 1000) + 300)
      ]
    })
    children.push(upstream)
    await until("listening", upstream, 15_000, async () =>
      (await send(upstreamPort, "/__stats", undefined, {}, 1_000)).status === 200 ? undefined : "no stats"
    )

    const port = await freePort()
    const configPath = join(dir, "config.yaml")
    writeFileSync(configPath, stringify(soakConfig(port, upstreamPort)))
    const [command, args] = gatewayCommand(o.runtime, [
      "--config",
      configPath,
      "--host",
      "127.0.0.1",
      "--port",
      String(port)
    ])
    const heap = heapTracker()
    const gateway = spawnChild({
      onOutput: heap.feed,
      name: `llmgate (${o.runtime})`,
      cpus: allCpus,
      command,
      args,
      env: { LLMGATE_WORKERS: String(o.workers), NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1" }
    })
    children.push(gateway)
    await until("ready", gateway, 30_000, async () => {
      const r = await send(port, "/health/readiness", undefined, {}, 1_000)
      return r.status === 200 ? undefined : `readiness ${r.status}`
    })

    const tally = new Tally()
    const samples: Array<Sample> = []
    const t0 = performance.now()
    const end = t0 + o.durationMs
    const over = () => performance.now() >= end
    const sample = () => {
      const pids = treePids(gateway.pid)
      const s: Sample = {
        t: performance.now() - t0,
        rssMiB: treeRss(pids) / 2 ** 20,
        heapMiB: heap.total(),
        fds: openFds(pids),
        threads: threadCount(gateway.pid),
        requests: tally.total,
        unexpected: tally.unexpectedCount
      }
      samples.push(s)
      log(
        `[${o.runtime}] t=${(s.t / 1000).toFixed(0)}s rss=${s.rssMiB.toFixed(1)}MiB heap=${s.heapMiB.toFixed(1)}MiB fds=${s.fds} threads=${s.threads} requests=${s.requests} unexpected=${s.unexpected}`
      )
    }
    sample()
    const seed = o.seed ?? 1
    const traffic = Promise.all([
      ...Array.from({ length: o.clients }, (_, i) =>
        runClient({
          port,
          seed: seed * 1000 + i,
          until: over,
          timeoutMs: o.requestTimeoutMs,
          tally,
          exclude: o.exclude ?? []
        })
      ),
      runAdmin({
        port,
        configPath,
        until: over,
        timeoutMs: o.requestTimeoutMs,
        tally,
        ...o.cadence,
        exclude: o.exclude ?? []
      })
    ])
    // Samples on a fixed schedule from t0 until the end.
    for (let k = 1; t0 + k * o.sampleEveryMs <= end; k++) {
      await sleep(Math.max(0, t0 + k * o.sampleEveryMs - performance.now()))
      if (gateway.hasExited()) break
      sample()
    }
    await traffic
    const elapsedMs = performance.now() - t0

    const failures: Array<string> = []
    const judgement = judge(samples, o.warmupMs, o.bounds)
    failures.push(...judgement.reasons)
    if (gateway.hasExited()) failures.push(`the gateway exited during the soak: ${gateway.output().trim()}`)
    else {
      const health = await send(port, "/health", undefined, {}, 5_000).catch((e: unknown) => ({
        status: 0,
        body: String(e)
      }))
      if (health.status !== 200)
        failures.push(`GET /health answered ${health.status} after the soak: ${health.body.slice(0, 200)}`)
    }
    if (tally.unexpectedCount > 0) {
      failures.push(
        `${tally.unexpectedCount} unexpected outcomes, e.g.:\n  ${[...new Set(tally.unexpected)].slice(0, 8).join("\n  ")}`
      )
    }
    const required: ReadonlyArray<Kind> = [
      ...(o.clients > 0 ? (["json", "stream", "cancel", "flaky"] as const) : []),
      "admin",
      "reload",
      "edit"
    ]
    for (const kind of required) {
      if (tally.count(kind) === 0 && !(o.exclude ?? []).includes(kind)) failures.push(`no ${kind} traffic ran`)
    }
    await gateway.stop(5_000)
    const gatewayExit = await gateway.exited
    return {
      runtime: o.runtime,
      options: o,
      samples,
      tally,
      judgement,
      failures,
      pass: failures.length === 0,
      elapsedMs,
      gatewayExit
    }
  } finally {
    for (const c of children.reverse()) await c.stop(3_000)
    rmSync(dir, { recursive: true, force: true })
  }
}

const fixed = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : "—")

/** The figures of a run, one line each (what the README quotes). */
export const figures = (r: SoakResult): Record<string, string> => {
  const first = r.samples[0]
  const last = r.samples.at(-1)
  const firstPost = r.samples.find((s) => s.t >= r.options.warmupMs)
  const rss = r.samples.map((s) => s.rssMiB)
  const requests = r.tally.total
  return {
    runtime: r.runtime,
    duration: `${fixed(r.elapsedMs / 60_000, 1)} min (warm-up ${fixed(r.options.warmupMs / 60_000, 1)} min), ${r.options.clients} clients, ${r.options.workers} workers${
      (r.options.exclude ?? []).length > 0 ? `, without ${(r.options.exclude ?? []).join(", ")}` : ""
    }`,
    rss: `start ${fixed(first?.rssMiB ?? Number.NaN)} MiB, after warm-up ${fixed(firstPost?.rssMiB ?? Number.NaN)} MiB, end ${fixed(last?.rssMiB ?? Number.NaN)} MiB (min ${fixed(Math.min(...rss))}, max ${fixed(Math.max(...rss))})`,
    heap: Number.isFinite(firstPost?.heapMiB ?? Number.NaN)
      ? `live JS heap (all isolates, after full GCs) start ${fixed(r.samples.find((s) => Number.isFinite(s.heapMiB))?.heapMiB ?? Number.NaN)} MiB, after warm-up ${fixed(firstPost?.heapMiB ?? Number.NaN)} MiB, end ${fixed(last?.heapMiB ?? Number.NaN)} MiB`
      : "not traced on this runtime (RSS only)",
    slope: `RSS ${fixed(r.judgement.slope, 2)} MiB/min after the warm-up (bound ${r.options.bounds.rssSlopeMiBPerMin}), heap ${fixed(r.judgement.heapSlope, 2)} MiB/min (bound ${r.options.bounds.heapSlopeMiBPerMin})`,
    fds: `start ${first?.fds ?? "—"}, warm-up max ${r.judgement.fdWarmupMax}, post-warm-up max ${r.judgement.fdPostMax} (bound +${r.options.bounds.fdMargin}), end ${last?.fds ?? "—"}`,
    threads: `${first?.threads ?? "—"} → ${last?.threads ?? "—"}`,
    requests: `${requests} (${fixed(requests / (r.elapsedMs / 1000), 0)}/s), unexpected ${r.tally.unexpectedCount}`
  }
}

/** Outcome counts per kind: `json: 200 ×1234; stream: 200 ×800, …`. */
export const outcomeTable = (tally: Tally): string =>
  [
    "| kind | outcomes |",
    "|---|---|",
    ...[...tally.counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([kind, byOutcome]) =>
          `| ${kind} | ${[...byOutcome.entries()]
            .sort(([, a], [, b]) => b - a)
            .map(([o, n]) => `${o} ×${n}`)
            .join(", ")} |`
      )
  ].join("\n")

export const report = (r: SoakResult): string =>
  [
    `## llmgate soak on ${r.runtime}: ${r.pass ? "PASS" : "FAIL"}`,
    "",
    ...Object.entries(figures(r)).map(([k, v]) => `- ${k}: ${v}`),
    "",
    sampleTable(r.samples, r.options.warmupMs),
    "",
    outcomeTable(r.tally),
    "",
    r.pass ? "Verdict: PASS" : `Verdict: FAIL\n${r.failures.map((f) => `- ${f}`).join("\n")}`
  ].join("\n")
