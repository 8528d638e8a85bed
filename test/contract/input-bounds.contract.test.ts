// Bounded request input (issue 10, item 2), through the real server on every runtime: a model name
// longer than `server.identifier_limit` is a 400 naming `model` (in the body and in
// /v1/models/{model}); a body nested deeper than `server.json_depth_limit` is a 400, not a 500, on
// the proxy and the admin API; a pattern model's distinct requested names keep at most
// `server.pattern_target_limit` targets (the least recently used go), every request is still
// answered, and /health/detailed lists no more than that; admin-written regexes RE2 cannot run are
// refused naming the field.
import { describe, expect, it } from "vitest"
import type { DetailedHealth } from "./routing.ts"
import { expectOpenAIError, itLeaksNoSecrets, MODELS, runtime, useContract } from "./harness.ts"

const PATTERN_LIMIT = 3
const PATTERN = "bounded-*"

const user = [{ role: "user", content: "hi" }]

describe(`[${runtime}] input bounds`, () => {
  const ctx = useContract({
    configure: (c) => ({
      ...c,
      server: { ...c.server, pattern_target_limit: PATTERN_LIMIT },
      models: [...c.models, { name: PATTERN, targets: [{ provider: "mock" }] }]
    })
  })

  it("a 10 KB model name → 400 naming `model`, and the gateway goes on serving", async () => {
    const r = await ctx.post("/v1/chat/completions", { model: "m".repeat(10 * 1024), messages: user })
    const body = expectOpenAIError(r, 400, { type: "invalid_request_error", param: "model" })
    expect(body.error.message).toContain("256")
    expect(r.text.length).toBeLessThan(1024)
    // Also when it would match a pattern model.
    expectOpenAIError(
      await ctx.post("/v1/chat/completions", { model: `bounded-${"x".repeat(300)}`, messages: user }),
      400,
      { param: "model" }
    )
    expect((await ctx.post("/v1/chat/completions", { model: MODELS.mockChat.name, messages: user })).status).toBe(200)
  })

  it("a model id over the limit in /v1/models/{model} → 400 naming `model`", async () => {
    expectOpenAIError(await ctx.get(`/v1/models/${"m".repeat(300)}`), 400, { param: "model" })
    expectOpenAIError(await ctx.get(`/v1/models/${"m".repeat(256)}`), 404, { code: "model_not_found" })
  })

  it("JSON nested 10 000 deep → 400 naming the limit, not 500 (proxy and admin API)", async () => {
    const deep = `{"model":"${MODELS.mockChat.name}","messages":[{"role":"user","content":"x"}],"x":${"[".repeat(10_000)}${"]".repeat(10_000)}}`
    const r = await ctx.post("/v1/chat/completions", deep, { headers: { "content-type": "application/json" } })
    const body = expectOpenAIError(r, 400, { code: "invalid_json" })
    expect(body.error.message).toContain("64")
    const admin = await ctx.post(
      "/admin/v1/projects",
      `{"name":"deep","metadata":{"x":${"[".repeat(10_000)}${"]".repeat(10_000)}}}`
    )
    expectOpenAIError(admin, 400, { code: "invalid_json" })
    // Just at the limit: served.
    const ok = `{"model":"${MODELS.mockChat.name}","messages":[{"role":"user","content":"x"}],"x":${"[".repeat(63)}${"]".repeat(63)}}`
    expect(
      (await ctx.post("/v1/chat/completions", ok, { headers: { "content-type": "application/json" } })).status
    ).toBe(200)
  })

  it(`20 distinct names through a pattern model with pattern_target_limit ${PATTERN_LIMIT}: all answered, at most ${PATTERN_LIMIT} listed`, async () => {
    const names = Array.from({ length: 20 }, (_, i) => `bounded-${i}`)
    for (const model of names) {
      const r = await ctx.post("/v1/chat/completions", { model, messages: user })
      expect(r.status, `${model}: ${r.text.slice(0, 200)}`).toBe(200)
    }
    // A burst of new and old names at once (evictions while requests hold targets), then an evicted one again.
    const burst = await Promise.all(
      [...names.slice(0, 6), "bounded-x", "bounded-y", "bounded-z"].map((model) =>
        ctx.post("/v1/chat/completions", { model, messages: user })
      )
    )
    expect(burst.map((r) => r.status)).toEqual(burst.map(() => 200))
    expect((await ctx.post("/v1/chat/completions", { model: "bounded-0", messages: user })).status).toBe(200)

    // The most recent name is among them once every worker has the owner's latest assignment (the
    // health answer may come from the other worker, a moment behind): asked until it is, for 5 s.
    const listedTargets = async () =>
      (await ctx.get("/health/detailed")).json<DetailedHealth>().models.find((m) => m.name === PATTERN)?.targets ?? []
    let listed = await listedTargets()
    for (const deadline = Date.now() + 5_000; !listed.some((t) => t.model === "bounded-0") && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      listed = await listedTargets()
    }
    expect(listed.length).toBeGreaterThan(0)
    expect(listed.length).toBeLessThanOrEqual(PATTERN_LIMIT)
    expect(listed.every((t) => t.provider === "mock" && t.model.startsWith("bounded-"))).toBe(true)
    expect(listed.map((t) => t.model)).toContain("bounded-0")
  })

  it("an admin-written /regex/ RE2 cannot run (lookaround) → 422 naming the field; the running config stays", async () => {
    const r = await ctx.post("/admin/v1/models", { name: "/^(?!gpt)/", targets: [{ provider: "mock" }] })
    const body = expectOpenAIError(r, 422, { param: "name" })
    expect(body.error.message).toContain("(?!")
    expectOpenAIError(
      await ctx.post("/admin/v1/models", { name: `/${"a".repeat(600)}/`, targets: [{ provider: "mock" }] }),
      422,
      { param: "name" }
    )
    expect((await ctx.post("/v1/chat/completions", { model: MODELS.mockChat.name, messages: user })).status).toBe(200)
  })

  itLeaksNoSecrets(ctx)
})
