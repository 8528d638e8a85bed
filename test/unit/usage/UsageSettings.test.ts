/**
 * The `usage` config section (defaults, bounds, unknown fields) and where the SQLite usage store
 * lives in file mode (startup/Boot.ts `usageSqlitePath`).
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { usageSqlitePath } from "../../../src/startup/Boot.ts"

const BASE = `
providers:
  - name: mock
    kind: mock
models:
  - name: m
    targets: [{ provider: mock, model: m }]
`

const parse = (usage: string) => parseConfig(`${BASE}${usage}`, {}, "test.yaml")

describe("usage section", () => {
  it("defaults: recorded, beside the config file, 100k buffer, 1 s interval, batches of 500", () => {
    const r = parse("")
    expect(Result.isSuccess(r) && r.success.usage).toEqual({
      enabled: true,
      sqlitePath: undefined,
      bufferLimit: 100_000,
      flushIntervalMs: 1000,
      batchSize: 500
    })
  })

  it("takes every setting, durations in units", () => {
    const r = parse(
      "usage: { enabled: true, sqlite_path: data/usage.db, buffer_limit: 5000, flush_interval: 250ms, batch_size: 100 }\n"
    )
    expect(Result.isSuccess(r) && r.success.usage).toEqual({
      enabled: true,
      sqlitePath: "data/usage.db",
      bufferLimit: 5000,
      flushIntervalMs: 250,
      batchSize: 100
    })
  })

  it("refuses unknown fields and out-of-range sizes, naming the field", () => {
    for (const [usage, path] of [
      ["usage: { bufer_limit: 5 }\n", "usage"],
      ["usage: { batch_size: 0 }\n", "usage.batch_size"],
      ["usage: { buffer_limit: -1 }\n", "usage.buffer_limit"]
    ] as const) {
      const r = parse(usage)
      expect(Result.isFailure(r), usage).toBe(true)
      if (Result.isFailure(r)) expect(r.failure.issues.map((i) => i.path).join(" "), usage).toContain(path)
    }
  })
})

describe("usageSqlitePath", () => {
  it("is <config>.usage.sqlite by default, relative settings resolve against the config's folder", () => {
    expect(usageSqlitePath("/etc/llmgate/gateway.yaml", undefined)).toBe("/etc/llmgate/gateway.yaml.usage.sqlite")
    expect(usageSqlitePath("/etc/llmgate/gateway.yaml", "usage.db")).toBe("/etc/llmgate/usage.db")
    expect(usageSqlitePath("/etc/llmgate/gateway.yaml", "/var/lib/llmgate/usage.db")).toBe("/var/lib/llmgate/usage.db")
    expect(usageSqlitePath("gateway.yaml", "usage.db")).toBe("usage.db")
    expect(usageSqlitePath("conf/gateway.yaml", "usage.db")).toBe("conf/usage.db")
  })

  it("is in memory with the embedded default config (no file), unless a path is set", () => {
    expect(usageSqlitePath(undefined, undefined)).toBe(":memory:")
    expect(usageSqlitePath(undefined, "/tmp/usage.db")).toBe("/tmp/usage.db")
  })
})
