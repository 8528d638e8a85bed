/**
 * `llmgate usage`: the running gateway's usage report (`GET /admin/v1/usage`) as an aligned table
 * in the terminal, one row per bucket and group (requests, tokens, cost) and a total. It asks the
 * gateway rather than reading the database, so it works alike in file and Postgres mode, whichever
 * worker answers, and sees exactly what the API and the usage page see.
 *
 * Where: `--url`, else `LLMGATE_URL`, else `http://HOST:PORT` from `--host`/`--port`, the
 * environment and the config, as the gateway itself would listen (a wildcard host is reached on
 * the loopback). With what: `--master-key`, else `LLMGATE_MASTER_KEY`, else the config's
 * `master_key` (any admin user's key works too). The query is checked by the gateway, whose 400
 * names the parameter.
 */
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { loadConfigFile } from "../config/ConfigSource.ts"
import type { Env } from "../config/interpolate.ts"
import { formatBucket, formatMetric } from "../usage/UsageGraph.ts"
import { UsageReport } from "../usage/UsageReport.ts"
import type { CliOptions, Command } from "./Cli.ts"
import type { CommandResult } from "./Commands.ts"

const TIMEOUT_MS = 15_000

/** The gateway's base URL as this host reaches it. */
export const gatewayUrl = (host: string, port: number): string => {
  const reachable = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`
}

const count = (n: number): string => n.toLocaleString("en-US")
const usd = (n: number): string => formatMetric(n, "cost")

/** The report as an aligned table: numbers right-aligned, a header, one row per bucket and group, a total. */
export const usageTable = (report: UsageReport, url: string): string => {
  const filters = Object.entries(report.filters).map(([k, v]) => `${k} ${v}`)
  const head = [
    `usage at ${url}: by ${report.group_by}, per ${report.interval}, ` +
      `${formatBucket(Date.parse(report.from), "minute")} to ${formatBucket(Date.parse(report.to), "minute")} UTC` +
      (filters.length > 0 ? `; ${filters.join(", ")}` : "")
  ]
  const series = [...report.series, ...(report.other === null ? [] : [report.other])]
  if (series.length === 0) {
    head.push(
      report.recording
        ? "no usage recorded in this range"
        : "no usage: this gateway does not record usage (usage.enabled is false)"
    )
    return head.join("\n")
  }
  const rows: Array<ReadonlyArray<string>> = []
  const buckets = [...new Set(series.flatMap((s) => s.points.map((p) => p.bucket)))].sort()
  for (const bucket of buckets) {
    for (const s of series) {
      const p = s.points.find((q) => q.bucket === bucket)
      if (p === undefined) continue
      rows.push([
        formatBucket(Date.parse(bucket), report.interval),
        s.label,
        count(p.requests),
        count(p.tokens.total),
        usd(p.cost_usd)
      ])
    }
  }
  const total = [
    "total",
    "",
    count(report.totals.requests),
    count(report.totals.tokens.total),
    usd(report.totals.cost_usd)
  ]
  const header = ["bucket (UTC)", report.group_by, "requests", "tokens", "cost"]
  const all = [header, ...rows, total]
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)))
  const line = (r: ReadonlyArray<string>) =>
    r
      .map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd()
  return [...head, "", line(header), ...rows.map(line), line(total)].join("\n")
}

const failure = (output: string): CommandResult => ({ code: 1, output: `llmgate usage: ${output}` })

/** Reads the gateway's answer: the report, or the gateway's error message. */
const answer = (status: number, text: string): CommandResult | UsageReport => {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return failure(`the gateway answered ${status} with a body that is not JSON`)
  }
  if (status !== 200) {
    const error = typeof body === "object" && body !== null ? Reflect.get(body, "error") : undefined
    const message = typeof error === "object" && error !== null ? Reflect.get(error, "message") : undefined
    return failure(`the gateway answered ${status}: ${typeof message === "string" ? message : text.slice(0, 200)}`)
  }
  const decoded = Schema.decodeUnknownResult(UsageReport)(body)
  return Result.isSuccess(decoded)
    ? decoded.success
    : failure(`the gateway's answer is not a usage report (is ${status} from an llmgate of this version?)`)
}

/** `llmgate usage`: asks the running gateway for the report and prints it. */
export const runUsage = (
  cli: CliOptions,
  env: Env,
  command: Extract<Command, { readonly _tag: "Usage" }>
): Effect.Effect<CommandResult, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const envKey = env["LLMGATE_MASTER_KEY"] || undefined
    const envUrl = env["LLMGATE_URL"] || undefined
    // The config is read only for what the flags and the environment leave open.
    const needConfig = (command.url ?? envUrl) === undefined || (command.masterKey ?? envKey) === undefined
    const loaded = needConfig
      ? yield* loadConfigFile(cli.config ?? (env["LLMGATE_CONFIG"] || undefined), env, cli.databaseUrl).pipe(
          Effect.map((l) => l.config)
        )
      : undefined
    const url = (
      command.url ??
      envUrl ??
      gatewayUrl(
        cli.host ?? (env["LLMGATE_HOST"] || loaded?.server.host || "127.0.0.1"),
        cli.port ?? Number(env["LLMGATE_PORT"] || loaded?.server.port || 4000)
      )
    ).replace(/\/+$/, "")
    const key =
      command.masterKey ?? envKey ?? (loaded?.masterKey === undefined ? undefined : Redacted.value(loaded.masterKey))
    if (key === undefined || key === "")
      return {
        code: 2,
        output:
          "llmgate usage: no admin key: pass --master-key KEY or set LLMGATE_MASTER_KEY (the config has no master_key)"
      } satisfies CommandResult
    const target = `${url}/admin/v1/usage?${new URLSearchParams(command.query).toString()}`
    const response = yield* Effect.tryPromise({
      try: async (signal) => {
        const r = await fetch(target, {
          headers: { authorization: `Bearer ${key}`, accept: "application/json" },
          signal: AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)])
        })
        return { status: r.status, text: await r.text() }
      },
      catch: (e) => e
    }).pipe(Effect.result)
    if (Result.isFailure(response)) {
      const cause = response.failure
      const why = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : ""
      return failure(`cannot reach the gateway at ${url} (${why || "no answer"}): is it running? (--url URL)`)
    }
    const report = answer(response.success.status, response.success.text)
    if (!("object" in report)) return report
    return {
      code: 0,
      output: command.json ? JSON.stringify(report, null, 2) : usageTable(report, url)
    } satisfies CommandResult
  }).pipe(
    Effect.catchTag("ConfigError", (e) =>
      Effect.succeed(failure(`invalid config (${e.source}), needed for the gateway's address or key:\n${e.message}`))
    )
  )
