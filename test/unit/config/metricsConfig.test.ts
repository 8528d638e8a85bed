/** The `metrics` config section: defaults, every setting, and paths that would shadow another route refused, naming the field. */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseConfig } from "../../../src/config/loadConfig.ts"

const BASE = `
providers:
  - name: mock
    kind: mock
models:
  - name: m
    targets: [{ provider: mock, model: m }]
`

const parse = (metrics: string) => parseConfig(`${BASE}${metrics}`, {}, "test.yaml")

describe("metrics section", () => {
  it("defaults: on, at /metrics, without a key", () => {
    const r = parse("")
    expect(Result.isSuccess(r) && r.success.metrics).toEqual({ enabled: true, path: "/metrics", requireKey: false })
  })

  it("takes every setting", () => {
    const r = parse("metrics: { enabled: false, path: /internal/prometheus, require_key: true }\n")
    expect(Result.isSuccess(r) && r.success.metrics).toEqual({
      enabled: false,
      path: "/internal/prometheus",
      requireKey: true
    })
  })

  it("refuses a path outside the rules or shadowing another route, and unknown fields, naming the field", () => {
    for (const [metrics, path] of [
      ["metrics: { path: metrics }\n", "metrics.path"],
      ["metrics: { path: / }\n", "metrics.path"],
      ["metrics: { path: /v1/metrics }\n", "metrics.path"],
      ["metrics: { path: /v1 }\n", "metrics.path"],
      ["metrics: { path: /admin/metrics }\n", "metrics.path"],
      ["metrics: { path: /health }\n", "metrics.path"],
      ["metrics: { path: /health/metrics }\n", "metrics.path"],
      ["metrics: { path: /docs }\n", "metrics.path"],
      ["metrics: { path: /openapi.json }\n", "metrics.path"],
      ["metrics: { path: '/metrics?x=1' }\n", "metrics.path"],
      ["metrics: { require_key: yes please }\n", "metrics.require_key"],
      ["metrics: { enable: true }\n", "metrics"]
    ] as const) {
      const r = parse(metrics)
      expect(Result.isFailure(r), metrics).toBe(true)
      if (Result.isFailure(r)) expect(r.failure.issues.map((i) => i.path).join(" "), metrics).toContain(path)
    }
    // Paths that only start like a reserved one are fine.
    for (const ok of ["/v1metrics", "/healthz", "/docs-metrics", "/admin2/metrics"]) {
      expect(Result.isSuccess(parse(`metrics: { path: ${ok} }\n`)), ok).toBe(true)
    }
  })
})
