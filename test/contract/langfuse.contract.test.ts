// Langfuse through its OTLP endpoint, on a gateway of two workers: spans reach
// `<host>/api/public/otel/v1/traces` with Basic auth (public:secret) and the ingestion version
// header, as a generation with its model, usage, cost, user (the key's user) and session (its
// project); an ingestion outage is counted (llmgate_trace_export_failures_total) and logged, and
// no client sees it.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { generateKey } from "../../src/auth/KeyMaterial.ts"
import { readExposition } from "../support/prometheus.ts"
import { runtime, sleep } from "./harness.ts"
import { provider, useRouting } from "./routing.ts"
import { type OtlpReceiver, startOtlpReceiver } from "./upstream/otlp.ts"

const KEY = generateKey()
const PUBLIC_KEY = "pk-lf-contract"
const SECRET_KEY = "sk-lf-contract-0123456789abcdef"

describe(`[${runtime}] tracing to Langfuse (OTLP endpoint)`, () => {
  let receiver: OtlpReceiver | undefined
  const langfuse = (): OtlpReceiver => {
    if (receiver === undefined) throw new Error("the Langfuse receiver did not start")
    return receiver
  }
  beforeAll(async () => {
    receiver = await startOtlpReceiver("/api/public/otel/v1/traces")
  })
  afterAll(async () => {
    await receiver?.close()
  })

  const ctx = useRouting({
    upstreams: ["a"],
    config: ({ url }) =>
      ({
        providers: [provider("p-a", url("a"))],
        models: [{ name: "m-ok", targets: [{ provider: "p-a", model: "ok-m" }], pricing: { input: 1, output: 2 } }],
        projects: [{ id: "prj_lf", name: "Langfuse" }],
        users: [{ id: "usr_lf", name: "Ada", email: "ada@example.com", role: "member", projects: ["prj_lf"] }],
        keys: [
          {
            id: "key_lf",
            name: "lf",
            prefix: KEY.prefix,
            hash: KEY.hash,
            project_id: "prj_lf",
            user_id: "usr_lf"
          }
        ],
        tracing: {
          langfuse: {
            public_key: PUBLIC_KEY,
            secret_key: SECRET_KEY,
            host: langfuse().url,
            flush_interval: "200ms"
          }
        }
      }) as { providers: Array<unknown>; models: Array<unknown> }
  })

  it("each request arrives as a generation of the key's user in its project's session, with usage and cost", async () => {
    const r = await ctx.post(
      "/v1/chat/completions",
      { model: "m-ok", messages: [{ role: "user", content: "to langfuse" }] },
      { key: KEY.key }
    )
    expect(r.status, r.text).toBe(200)
    const requestId = r.headers.get("x-request-id")
    const spans = await langfuse().waitFor((all) => all.some((s) => s.attributes["llmgate.request_id"] === requestId))
    const span = spans.find((s) => s.attributes["llmgate.request_id"] === requestId)!
    expect(span.attributes).toMatchObject({
      "langfuse.observation.type": "generation",
      "user.id": "usr_lf",
      "session.id": "prj_lf",
      "gen_ai.request.model": "m-ok",
      "gen_ai.usage.input_tokens": 7,
      "gen_ai.usage.output_tokens": 3
    })
    expect(span.attributes["gen_ai.usage.cost"]).toBeCloseTo(13e-6, 12)
    const batch = langfuse().batches().at(-1)!
    expect(batch.headers["authorization"]).toBe(
      `Basic ${Buffer.from(`${PUBLIC_KEY}:${SECRET_KEY}`).toString("base64")}`
    )
    expect(batch.headers["x-langfuse-ingestion-version"]).toBe("4")
    expect(batch.contentType).toContain("application/json")
  })

  it("an ingestion outage is counted and logged, never seen by a client", async () => {
    langfuse().failWith = 503
    try {
      for (let i = 0; i < 5; i++) {
        const r = await ctx.post(
          "/v1/chat/completions",
          { model: "m-ok", messages: [{ role: "user", content: "outage" }] },
          { key: KEY.key }
        )
        expect(r.status).toBe(200)
      }
      const deadline = Date.now() + 10_000
      let failures = 0
      while (Date.now() < deadline) {
        const m = await ctx.get("/metrics", { key: null })
        failures = readExposition(m.text).value("llmgate_trace_export_failures_total", { destination: "langfuse" })
        if (failures > 0) break
        await sleep(200)
      }
      expect(failures).toBeGreaterThan(0)
      expect(ctx.gateway.stdout()).toContain("tracing: an export to langfuse failed")
      expect(ctx.gateway.stdout() + ctx.gateway.stderr()).not.toContain(SECRET_KEY)
    } finally {
      langfuse().failWith = undefined
    }
  })
})
