// `llmgate usage`: its arguments (→ the report's query, --since resolved against now) and the table it
// prints. The command against a running gateway is in test/contract/usage-report.contract.test.ts.
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseArgs, parseSince } from "../../../src/cli/Cli.ts"
import { gatewayUrl, usageTable } from "../../../src/cli/UsageCommand.ts"
import { NO_USAGE } from "../../../src/domain/Usage.ts"
import { buildReport } from "../../../src/usage/UsageReport.ts"

const NOW = Date.UTC(2026, 4, 1, 12)

const usage = (argv: ReadonlyArray<string>) => {
  const r = parseArgs(["usage", ...argv], NOW)
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  if (r.success.command._tag !== "Usage") throw new Error("not usage")
  return r.success.command
}
const usageError = (argv: ReadonlyArray<string>): string => {
  const r = parseArgs(argv, NOW)
  if (Result.isSuccess(r)) throw new Error("expected a usage error")
  return r.failure.message
}

describe("usage: arguments", () => {
  it("maps its options onto the report's query; --since is from now minus the duration", () => {
    expect(
      usage([
        "--key",
        "key_ci",
        "--project=prj_a",
        "--user",
        "usr_b",
        "--model",
        "gpt-4o",
        "--provider",
        "openai",
        "--group-by",
        "key",
        "--since",
        "24h",
        "--to",
        "2026-05-01T12:00:00Z",
        "--interval",
        "hour",
        "--limit",
        "5",
        "--url",
        "http://gw:4000",
        "--master-key",
        "sk-x",
        "--json"
      ])
    ).toEqual({
      _tag: "Usage",
      query: {
        key: "key_ci",
        project: "prj_a",
        user: "usr_b",
        model: "gpt-4o",
        provider: "openai",
        group_by: "key",
        from: "2026-04-30T12:00:00.000Z",
        to: "2026-05-01T12:00:00Z",
        interval: "hour",
        limit: "5"
      },
      url: "http://gw:4000",
      masterKey: "sk-x",
      json: true
    })
    expect(usage([])).toEqual({ _tag: "Usage", query: {}, url: undefined, masterKey: undefined, json: false })
    expect(usage(["--from", "2026-04-01"]).query).toEqual({ from: "2026-04-01" })
  })

  it("reads --since in minutes, hours and days", () => {
    expect([parseSince("30m"), parseSince("24h"), parseSince("7d"), parseSince("1.5h")]).toEqual([
      1_800_000, 86_400_000, 604_800_000, 5_400_000
    ])
    expect([parseSince("24"), parseSince("0h"), parseSince("1w"), parseSince("")]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined
    ])
  })

  it("refuses what does not fit, naming it", () => {
    expect(usageError(["usage", "--since", "yesterday"])).toBe(
      `--since: expected a duration such as 30m, 24h or 7d, got "yesterday"`
    )
    expect(usageError(["usage", "--since", "1h", "--from", "2026-01-01"])).toContain("give one")
    expect(usageError(["usage", "now"])).toBe(`unknown argument "now"`)
    expect(usageError(["usage", "--name", "x"])).toBe("--name is an option of keys create")
    expect(usageError(["keys", "create", "--project", "p", "--key", "k"])).toBe("--key is an option of usage")
    expect(usageError(["--since", "1h"])).toBe("--since is an option of usage")
    expect(usageError(["--json"])).toBe("--json is an option of usage")
  })

  it("reaches a wildcard listen address on the loopback", () => {
    expect(gatewayUrl("0.0.0.0", 4000)).toBe("http://127.0.0.1:4000")
    expect(gatewayUrl("::", 4000)).toBe("http://[::1]:4000")
    expect(gatewayUrl("10.0.0.5", 80)).toBe("http://10.0.0.5:80")
  })
})

describe("usage: the table", () => {
  const T0 = Date.UTC(2026, 4, 1)
  const HOUR = 3_600_000
  const point = (h: number, group: string | null, requests: number, cost: number) => ({
    bucket_start: T0 + h * HOUR,
    group,
    requests,
    tokens: { ...NO_USAGE, input: requests * 1000, output: requests * 10 },
    cost_usd: cost
  })

  it("one aligned row per bucket and group, then the total", () => {
    const report = buildReport(
      {
        group_by: "model",
        interval: "hour",
        from: T0,
        to: T0 + 3 * HOUR,
        limit: 10,
        filters: { key_id: "key_ci" }
      },
      [point(0, "gpt-4o", 2, 0.5), point(0, "gpt-4o-mini", 12, 0.0123), point(2, "gpt-4o", 1, 1.25)],
      true
    )
    expect(usageTable(report, "http://127.0.0.1:4000")).toBe(
      [
        "usage at http://127.0.0.1:4000: by model, per hour, 2026-05-01 00:00 to 2026-05-01 03:00 UTC; key key_ci",
        "",
        "bucket (UTC)      model        requests  tokens     cost",
        "2026-05-01 00:00  gpt-4o              2   2,020     $0.5",
        "2026-05-01 00:00  gpt-4o-mini        12  12,120  $0.0123",
        "2026-05-01 02:00  gpt-4o              1   1,010    $1.25",
        "total                                15  15,150    $1.76"
      ].join("\n")
    )
  })

  it("says when there is nothing, and why", () => {
    const q = { group_by: "key" as const, interval: "day" as const, from: T0, to: T0 + 86_400_000, limit: 10 }
    expect(usageTable(buildReport(q, [], true), "http://gw")).toMatch(/no usage recorded in this range$/)
    expect(usageTable(buildReport(q, [], false), "http://gw")).toMatch(
      /does not record usage \(usage.enabled is false\)$/
    )
  })
})
