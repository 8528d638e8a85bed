// Health endpoints, the startup banner and the OpenAPI document: reachable without a key.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { ROOT } from "./gateway.ts"
import { itLeaksNoSecrets, MODEL_NAMES, runtime, useContract, workers, type Health } from "./harness.ts"

const runtimeVersion = (): string =>
  (JSON.parse(readFileSync(join(ROOT, "node_modules", runtime, "package.json"), "utf8")) as { version: string }).version

describe(`[${runtime}] health and docs`, () => {
  const ctx = useContract()

  it("prints the listening banner on stdout", () => {
    expect(ctx.gateway.stdout()).toContain(`llmgate listening on http://127.0.0.1:${ctx.gateway.port}`)
  })

  it("GET /health/liveness is 200 without a key", async () => {
    const r = await ctx.get("/health/liveness", { key: null })
    expect(r.status).toBe(200)
    expect(r.headers.get("x-request-id")).toBeTruthy()
  })

  it("GET /health/readiness is 200 without a key", async () => {
    const r = await ctx.get("/health/readiness", { key: null })
    expect(r.status).toBe(200)
    expect(r.headers.get("x-request-id")).toBeTruthy()
  })

  it("GET /health reports status, version, the runtime, the model count and the config version every worker serves", async () => {
    const r = await ctx.get("/health", { key: null })
    expect(r.status).toBe(200)
    expect(r.headers.get("content-type") ?? "").toMatch(/application\/json/)
    const h = r.json<Health>()
    expect(h).toEqual({
      status: "ok",
      version: expect.any(String),
      runtime: { name: runtime, version: expect.any(String) },
      models: MODEL_NAMES.length,
      worker: { id: expect.any(Number), count: workers },
      config_version: 1,
      workers: Array.from({ length: workers }, (_, id) => ({ id, config_version: 1 }))
    })
    expect(h.worker.id).toBeLessThan(workers)
    expect(h.version.length).toBeGreaterThan(0)
    // the version of the runtime binary actually running it (Bun/Deno must not report Node's compat version)
    expect(h.runtime.version).toContain(runtimeVersion())
  })

  it("GET /health with a key also works (the key is simply not needed)", async () => {
    const r = await ctx.get("/health")
    expect(r.status).toBe(200)
  })

  it("GET /openapi.json is an OpenAPI 3.1 document describing the proxy routes", async () => {
    const r = await ctx.get("/openapi.json", { key: null })
    expect(r.status).toBe(200)
    expect(r.headers.get("content-type") ?? "").toMatch(/application\/json/)
    const doc = r.json<{ openapi: string; info: unknown; paths: Record<string, unknown> }>()
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/)
    expect(doc.info).toBeTypeOf("object")
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/chat/completions", "/v1/embeddings", "/v1/models"])
    )
  })

  itLeaksNoSecrets(ctx)
})
