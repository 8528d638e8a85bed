/**
 * `npm run soak -- --minutes N [--runtime node|bun|deno]` (not part of `npm test`): mixed traffic for
 * N minutes against the gateway on each runtime (all three in turn unless one is named), sampling its
 * RSS, live JS heap (Node and Deno, from V8's GC trace), open descriptors and threads every 10 s; the
 * first 20 % (at least one minute, at most five) is the warm-up. After it the run fails when:
 * - the live heap grows faster than `--heap-slope` MiB/min (default 0.5; Node and Deno);
 * - RSS grows faster than `--rss-slope` MiB/min (default 1 on Bun, where RSS is the only memory
 *   figure; 8 on Node and Deno, whose RSS drifts by ~5 MiB/min with glibc's per-thread malloc arenas
 *   while the heap stays flat: `MALLOC_ARENA_MAX=2 npm run soak …` keeps it flat, the environment
 *   reaches the gateway);
 * - open descriptors exceed the warm-up's maximum by more than `--fd-margin` (default 24);
 * - any request ends unexpectedly (a 500 made by the gateway, a lost connection, 30 s without an
 *   answer), or the gateway dies.
 * Prints each run's figures, its samples and its outcome mix, and writes them to
 * test/soak/results/latest-<runtime>.{md,json}.
 *
 *   npm run soak -- --minutes 30 --runtime node
 *   npm run soak -- --minutes 10                 # node, bun and deno, 10 minutes each
 * Options: --clients 8 (0: the admin loop alone), --workers 2, --sample 10 (seconds), --warmup
 * <seconds>, --seed 1, --cadence 2000,5000,7000 (ms between admin writes, API reloads and file
 * edits), and --without glob,cancel,reload (request kinds left out: to find which traffic grows).
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { killAllSync, ROOT, startGuard } from "../bench/lib/proc.ts"
import { CLIENT_KINDS, type Kind } from "./lib/traffic.ts"
import { figures, report, runSoak, type Runtime, type SoakResult } from "./soak.ts"

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    runtime: { type: "string" },
    clients: { type: "string", default: "8" },
    workers: { type: "string", default: "2" },
    sample: { type: "string", default: "10" },
    warmup: { type: "string" },
    "rss-slope": { type: "string" },
    "heap-slope": { type: "string", default: "0.5" },
    "fd-margin": { type: "string", default: "24" },
    seed: { type: "string", default: "1" },
    without: { type: "string" },
    cadence: { type: "string", default: "2000,5000,7000" }
  }
})

const number = (name: string, text: string | undefined, least = Number.MIN_VALUE): number => {
  const n = Number(text)
  if (!Number.isFinite(n) || n < least) {
    console.error(
      `soak: --${name} must be a number of at least ${least === Number.MIN_VALUE ? "more than 0" : least} (got ${String(text)})`
    )
    process.exit(2)
  }
  return n
}

const RUNTIMES: ReadonlyArray<Runtime> = ["node", "bun", "deno"]
const runtimes = values.runtime === undefined ? RUNTIMES : RUNTIMES.filter((r) => r === values.runtime)
if (runtimes.length === 0) {
  console.error(`soak: --runtime must be node, bun or deno (got ${values.runtime})`)
  process.exit(2)
}
const KINDS: ReadonlyArray<Kind> = [...CLIENT_KINDS, "admin", "reload", "edit"]
const exclude = (values.without ?? "").split(",").filter((k) => k !== "") as Array<Kind>
const unknownKinds = exclude.filter((k) => !KINDS.includes(k))
if (unknownKinds.length > 0) {
  console.error(`soak: --without takes request kinds (${KINDS.join(", ")}); unknown: ${unknownKinds.join(", ")}`)
  process.exit(2)
}
const [adminEveryMs, reloadEveryMs, editEveryMs] = (values.cadence ?? "")
  .split(",")
  .map((x, i) => number(`cadence (${["admin", "reload", "edit"][i]})`, x))
if (editEveryMs === undefined || reloadEveryMs === undefined || adminEveryMs === undefined) {
  console.error("soak: --cadence takes three intervals in ms: admin writes, reloads, file edits (e.g. 2000,5000,7000)")
  process.exit(2)
}
const durationMs = number("minutes", values.minutes) * 60_000
const warmupMs =
  values.warmup === undefined
    ? Math.min(300_000, Math.max(60_000, durationMs * 0.2))
    : number("warmup", values.warmup) * 1000

// Nothing outlives the run: children are tracked, and an orphan guard kills them if this process dies.
const cleanup = (): void => killAllSync()
process.on("exit", cleanup)
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129]
] as const) {
  process.on(signal, () => {
    console.error(`\nsoak: ${signal}, stopping every child`)
    cleanup()
    process.exit(code)
  })
}
// (no directory for the guard to remove: each run removes its own)
startGuard("")

process.on("uncaughtException", (e) => {
  console.error("soak failed:", e)
  cleanup()
  process.exit(1)
})
process.on("unhandledRejection", (e) => {
  console.error("soak failed:", e)
  cleanup()
  process.exit(1)
})

const results: Array<SoakResult> = []
for (const runtime of runtimes) {
  console.error(`soak: ${runtime} for ${values.minutes} min (warm-up ${(warmupMs / 1000).toFixed(0)} s)`)
  const result = await runSoak({
    runtime,
    durationMs,
    sampleEveryMs: number("sample", values.sample) * 1000,
    warmupMs,
    bounds: {
      rssSlopeMiBPerMin:
        values["rss-slope"] === undefined ? (runtime === "bun" ? 1 : 8) : number("rss-slope", values["rss-slope"]),
      heapSlopeMiBPerMin: number("heap-slope", values["heap-slope"]),
      fdMargin: number("fd-margin", values["fd-margin"])
    },
    clients: number("clients", values.clients, 0),
    workers: number("workers", values.workers),
    cadence: { adminEveryMs, reloadEveryMs, editEveryMs },
    requestTimeoutMs: 30_000,
    seed: number("seed", values.seed),
    exclude,
    log: (line) => console.error(line)
  })
  results.push(result)
  const text = report(result)
  console.log(`${text}\n`)
  const dir = join(ROOT, "test/soak/results")
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, `latest-${runtime}.md`), `${text}\n`)
  writeFileSync(
    join(dir, `latest-${runtime}.json`),
    `${JSON.stringify({ figures: figures(result), pass: result.pass, failures: result.failures, samples: result.samples, outcomes: Object.fromEntries([...result.tally.counts].map(([k, v]) => [k, Object.fromEntries(v)])) }, null, 2)}\n`
  )
}
const failed = results.filter((r) => !r.pass)
console.log(
  failed.length === 0
    ? `soak: PASS (${results.map((r) => r.runtime).join(", ")})`
    : `soak: FAIL (${failed.map((r) => r.runtime).join(", ")})`
)
cleanup()
process.exit(failed.length === 0 ? 0 : 1)
