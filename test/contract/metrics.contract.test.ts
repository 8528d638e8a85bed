// Prometheus metrics and the overhead figure, on a gateway of two workers: GET /metrics (no key by
// default) is one exposition for every worker and parses with a Prometheus text parser; after a
// scripted run (successes, a stream, a retried request, a breaker trip, a rate-limit refusal, an
// admin reload) every listed series moved by exactly what the run did; every answer carries
// `Server-Timing: gateway;dur=…, upstream;dur=…`; labels stay bounded (an unknown model is `none`);
// `metrics.path` and `metrics.require_key` follow a config edit; every query of the provisioned Grafana
// dashboard (docker/stack) names a metric the live exposition has.
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse, stringify } from "yaml"
import { generateKey } from "../../src/auth/KeyMaterial.ts"
import { type Exposition, readExposition } from "../support/prometheus.ts"
import { metricNames } from "../support/promql.ts"
import { expectOpenAIError, type Health, MASTER_KEY, onNewConnection, runtime, SSEReader } from "./harness.ts"
import { provider, useRouting } from "./routing.ts"
import { fail } from "./upstream/controlled.ts"

const LIMITED = generateKey()
const DASHBOARD = join(import.meta.dirname, "../../docker/stack/grafana/dashboards/llmgate.json")
const EXPOSITION_TYPE = "text/plain; version=0.0.4; charset=utf-8"
/** The controlled upstream's JSON usage (upstream/controlled.ts). */
const UPSTREAM_USAGE = { prompt_tokens: 7, completion_tokens: 3 }
const SERVER_TIMING = /^gateway;dur=(\d+\.\d{3}), upstream;dur=(\d+\.\d{3})$/

const timing = (header: string | null): { gateway: number; upstream: number } => {
  const m = SERVER_TIMING.exec(header ?? "")
  expect(m, `Server-Timing: ${header}`).not.toBeNull()
  return { gateway: Number(m![1]), upstream: Number(m![2]) }
}

describe(`[${runtime}] metrics: one Prometheus exposition for every worker, and Server-Timing`, () => {
  const ctx = useRouting({
    upstreams: ["a", "bad", "brk"],
    config: ({ url, closedPort }) =>
      ({
        providers: [
          provider("p-a", url("a")),
          provider("p-bad", url("bad")),
          provider("p-brk", url("brk"), {
            breaker: { failure_rate: 0.5, min_requests: 2, window: "10s", cooldown: "60s" }
          }),
          provider("p-down", `http://127.0.0.1:${closedPort}/v1`),
          { name: "p-mock", kind: "mock" }
        ],
        models: [
          // $1 and $2 per million input and output tokens: 13 µ$ per answer of 7 + 3 tokens.
          { name: "m-ok", targets: [{ provider: "p-a", model: "ok-m" }], pricing: { input: 1, output: 2 } },
          { name: "m-stream", targets: [{ provider: "p-a", model: "stream-m" }] },
          {
            name: "m-fo",
            strategy: "failover",
            targets: [
              { provider: "p-bad", model: "fo-m" },
              { provider: "p-a", model: "fo-m" }
            ],
            retry: { attempts: 1 }
          },
          { name: "m-brk", targets: [{ provider: "p-brk", model: "brk-m" }], retry: { attempts: 0 } },
          { name: "m-down", targets: [{ provider: "p-down", model: "down-m" }], retry: { attempts: 0 } },
          // Served over chat by translation (a mock target: /v1/responses is not passed through).
          { name: "m-mock", targets: [{ provider: "p-mock" }] }
        ],
        projects: [{ id: "prj_m", name: "Metrics" }],
        keys: [
          {
            id: "key_limited",
            name: "limited",
            prefix: LIMITED.prefix,
            hash: LIMITED.hash,
            project_id: "prj_m",
            limits: { requests_per_minute: 1 }
          }
        ]
      }) as { providers: Array<unknown>; models: Array<unknown> }
  })

  /** GET /metrics (a fresh connection each time: any worker may answer). */
  const scrape = async (path = "/metrics", key: string | null = null): Promise<Exposition> => {
    const r = await ctx.get(path, { key })
    expect(r.status, r.text).toBe(200)
    expect(r.headers.get("content-type")).toBe(EXPOSITION_TYPE)
    return readExposition(r.text)
  }

  it("after a scripted run every series moved by exactly what the run did, whichever worker answers", async () => {
    const before = await scrape()
    const chat = (model: string, extra: Record<string, unknown> = {}, key: string = MASTER_KEY) =>
      ctx.post("/v1/chat/completions", { model, messages: [{ role: "user", content: "metrics" }], ...extra }, { key })

    // Three answers on m-ok, each with Server-Timing.
    for (let i = 0; i < 3; i++) {
      const r = await chat("m-ok")
      expect(r.status, r.text).toBe(200)
      const t = timing(r.headers.get("server-timing"))
      expect(t.upstream).toBeGreaterThan(0)
      expect(t.gateway).toBeGreaterThanOrEqual(0)
    }
    // One stream: its Server-Timing comes with its headers.
    const stream = await ctx.postStream(
      "/v1/chat/completions",
      { model: "m-stream", stream: true, messages: [{ role: "user", content: "metrics" }] },
      {}
    )
    expect(stream.status).toBe(200)
    timing(stream.headers.get("server-timing"))
    const events = await new SSEReader(stream).all()
    ctx.noteBody(events.map((e) => e.data).join("\n"))
    expect(events.at(-1)?.data).toBe("[DONE]")
    // A retried request: p-bad answers 500, p-a serves.
    ctx.up("bad").mode = fail(500)
    const retried = await chat("m-fo")
    expect(retried.status, retried.text).toBe(200)
    expect(retried.headers.get("x-llmgate-attempts")).toBe("2")
    // A breaker trip: two 500s on p-brk (min_requests 2) open it.
    ctx.up("brk").mode = fail(500)
    for (let i = 0; i < 2; i++) expect((await chat("m-brk")).status).toBe(500)
    await ctx.waitForState("m-brk", "p-brk", "open")
    // An unreachable provider: an attempt with no answer.
    expect((await chat("m-down")).status).toBe(502)
    // A rate-limit refusal: requests_per_minute 1.
    expect((await chat("m-ok", {}, LIMITED.key)).status).toBe(200)
    const refused = await chat("m-ok", {}, LIMITED.key)
    expectOpenAIError(refused, 429, { code: "rate_limit_exceeded" })
    timing(refused.headers.get("server-timing"))
    // The Messages and Responses APIs, translated over chat: labelled as what the client called.
    const messages = await ctx.post("/v1/messages", {
      model: "m-mock",
      max_tokens: 16,
      messages: [{ role: "user", content: "metrics" }]
    })
    expect(messages.status, messages.text).toBe(200)
    const responses = await ctx.post("/v1/responses", { model: "m-mock", input: "metrics" })
    expect(responses.status, responses.text).toBe(200)
    // A model no config names: its label is `none`, never the client's string.
    expect((await chat("no-such-model-xyz")).status).toBe(404)
    // An admin reload that changes nothing.
    expect((await ctx.post("/admin/v1/config/reload", {})).status).toBe(200)

    const after = await scrape()
    const moved = (name: string, labels: Record<string, string> = {}) =>
      after.value(name, labels) - before.value(name, labels)
    const observed = (name: string, labels: Record<string, string> = {}) =>
      after.count(name, labels) - before.count(name, labels)

    const requests = "llmgate_requests_total"
    expect(moved(requests, { model: "m-ok", provider: "p-a", status: "200", endpoint: "chat" })).toBe(4)
    expect(moved(requests, { model: "m-stream", provider: "p-a", status: "200" })).toBe(1)
    expect(moved(requests, { model: "m-fo", provider: "p-a", status: "200" })).toBe(1)
    expect(moved(requests, { model: "m-brk", provider: "p-brk", status: "500" })).toBe(2)
    expect(moved(requests, { model: "m-down", provider: "none", status: "502" })).toBe(1)
    expect(moved(requests, { model: "m-ok", provider: "none", status: "429" })).toBe(1)
    expect(moved(requests, { model: "none", provider: "none", status: "404" })).toBe(1)
    expect(after.samples(requests).some((s) => s.labels?.["model"] === "no-such-model-xyz")).toBe(false)
    for (const endpoint of ["messages", "responses"]) {
      expect(moved(requests, { model: "m-mock", provider: "p-mock", status: "200", endpoint }), endpoint).toBe(1)
      expect(observed("llmgate_request_duration_seconds", { model: "m-mock", endpoint }), endpoint).toBe(1)
      expect(observed("llmgate_overhead_seconds", { endpoint }), endpoint).toBe(1)
    }
    expect(moved(requests, { model: "m-mock", endpoint: "chat" })).toBe(0)

    const attempts = "llmgate_upstream_attempts_total"
    expect(moved(attempts, { provider: "p-a", outcome: "ok" })).toBe(6)
    expect(moved(attempts, { provider: "p-bad", outcome: "server_error" })).toBe(1)
    expect(moved(attempts, { provider: "p-brk", outcome: "server_error" })).toBe(2)
    expect(moved(attempts, { provider: "p-down", outcome: "unreachable" })).toBe(1)
    expect(observed("llmgate_upstream_duration_seconds", { provider: "p-a" })).toBe(6)

    // Tokens and durations: the four JSON answers on m-ok report the upstream's usage.
    expect(moved("llmgate_tokens_total", { model: "m-ok", provider: "p-a", type: "input" })).toBe(
      4 * UPSTREAM_USAGE.prompt_tokens
    )
    expect(moved("llmgate_tokens_total", { model: "m-ok", provider: "p-a", type: "output" })).toBe(
      4 * UPSTREAM_USAGE.completion_tokens
    )
    // Cost by project: the master key's three answers have none, the limited key's is prj_m.
    expect(moved("llmgate_cost_usd_total", { model: "m-ok", project: "none" })).toBeCloseTo(3 * 13e-6, 12)
    expect(moved("llmgate_cost_usd_total", { model: "m-ok", project: "prj_m" })).toBeCloseTo(13e-6, 12)
    expect(observed("llmgate_request_duration_seconds", { model: "m-ok", endpoint: "chat" })).toBe(5)
    expect(observed("llmgate_time_to_first_token_seconds", { model: "m-stream" })).toBe(1)
    expect(observed("llmgate_overhead_seconds", { endpoint: "chat" })).toBe(11)

    expect(after.value("llmgate_breaker_state", { provider: "p-brk", model: "brk-m" })).toBe(2)
    expect(after.value("llmgate_breaker_state", { provider: "p-a", model: "ok-m" })).toBe(0)
    expect(moved("llmgate_breaker_transitions_total", { from: "closed", to: "open" })).toBe(1)
    expect(moved("llmgate_ratelimit_rejections_total", { limit: "requests_per_minute", scope: "key" })).toBe(1)
    expect(moved("llmgate_config_reloads_total", { source: "admin", result: "unchanged" })).toBe(1)
    expect(after.value("llmgate_active_requests")).toBe(0)
    expect(after.value("process_resident_memory_bytes")).toBeGreaterThan(1_000_000)
    expect(after.value("process_cpu_seconds_total")).toBeGreaterThan(0)

    // Every scrape, whichever worker answers it (each on a connection of its own), tells the same counts.
    for (let i = 0; i < 6; i++) {
      const again = await onNewConnection(ctx.gateway.port, "GET", "/metrics", undefined, null)
      expect(again.status).toBe(200)
      expect(readExposition(again.text).value(requests, { model: "m-ok", provider: "p-a", status: "200" })).toBe(
        after.value(requests, { model: "m-ok", provider: "p-a", status: "200" })
      )
    }
  })

  it("every query of the provisioned Grafana dashboard parses and names a metric this exposition has", async () => {
    // After the scripted run above, every family the dashboard reads has a series.
    const exposition = await scrape()
    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>
    }
    const queried = new Set<string>()
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const names = metricNames(target.expr)
        expect(names.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0)
        for (const name of names) queried.add(name)
      }
    }
    for (const name of queried) {
      // A histogram's series are its family's name with _bucket, _sum or _count.
      const family = exposition.families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "")
      expect(exposition.families.has(family), `${name} is not in /metrics`).toBe(true)
      if (family !== name) expect(exposition.families.get(family)?.type, name).toBe("HISTOGRAM")
    }
    expect(queried.size).toBeGreaterThan(12)
  })

  it("metrics.path and metrics.require_key follow a config edit: the old path is gone, a key is asked for", async () => {
    const path = ctx.gateway.configPath
    /** The config version every worker runs, once they all run the same one. */
    const versions = async (): Promise<ReadonlyArray<number>> =>
      (await ctx.get("/health")).json<Health>().workers.map((w) => w.config_version)
    const before = Math.max(...(await versions()))
    const original = readFileSync(path, "utf8")
    const doc = parse(original) as Record<string, unknown>
    try {
      writeFileSync(path, stringify({ ...doc, metrics: { path: "/internal/prom", require_key: true } }))
      // Each worker gets the edit in turn (a connection may reach either): wait until every worker
      // runs the new version.
      const deadline = Date.now() + 10_000
      let seen: ReadonlyArray<number> = []
      while (Date.now() < deadline) {
        seen = await versions()
        if (seen.every((v) => v > before)) break
        await new Promise((r) => setTimeout(r, 50))
      }
      expect(
        seen.every((v) => v > before),
        `workers' config versions ${seen.join(", ")} after ${before}`
      ).toBe(true)
      expect((await ctx.get("/internal/prom", { key: null })).status).toBe(401)
      expect((await ctx.get("/metrics", { key: null })).status).toBe(404)
      expectOpenAIError(await ctx.get("/internal/prom", { key: LIMITED.key }), 403, {})
      const text = (await scrape("/internal/prom", MASTER_KEY)).families
      expect(text.has("llmgate_requests_total")).toBe(true)
    } finally {
      writeFileSync(path, original)
    }
    // Back to the original on every worker before the next test scrapes.
    const edited = Math.max(...(await versions()))
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && !(await versions()).every((v) => v > edited)) {
      await new Promise((r) => setTimeout(r, 50))
    }
    await scrape()
  })
})
