// Master-key auth on the /v1 routes and the x-request-id header on every response.
import { describe, expect, it } from "vitest"
import { expectOpenAIError, itLeaksNoSecrets, MASTER_KEY, MODELS, runtime, useContract, WRONG_KEY } from "./harness.ts"

const chatBody = { model: MODELS.mockChat.name, messages: [{ role: "user", content: "auth?" }] }

describe(`[${runtime}] auth and request ids`, () => {
  const ctx = useContract()

  describe("401 without the master key", () => {
    const protectedCalls = [
      ["POST", "/v1/chat/completions", chatBody],
      ["POST", "/v1/completions", { model: MODELS.mockChat.name, prompt: "x" }],
      ["POST", "/v1/embeddings", { model: MODELS.mockChat.name, input: "x" }],
      ["GET", "/v1/models", undefined],
      ["GET", `/v1/models/${MODELS.mockChat.name}`, undefined]
    ] as const

    for (const [method, path, body] of protectedCalls) {
      it(`${method} ${path} without Authorization → 401 invalid_api_key`, async () => {
        const r = await ctx.request(method, path, body, { key: null })
        expectOpenAIError(r, 401, { type: "authentication_error", code: "invalid_api_key" })
        expect(r.headers.get("x-request-id")).toBeTruthy()
      })
    }

    it("a wrong key → 401 invalid_api_key", async () => {
      const r = await ctx.post("/v1/chat/completions", chatBody, { key: WRONG_KEY })
      expectOpenAIError(r, 401, { type: "authentication_error", code: "invalid_api_key" })
    })

    it("the master key with a suffix or as a prefix is rejected (exact match)", async () => {
      const r1 = await ctx.get("/v1/models", { key: `${MASTER_KEY}x` })
      expectOpenAIError(r1, 401, { code: "invalid_api_key" })
      const r2 = await ctx.get("/v1/models", { key: MASTER_KEY.slice(0, -1) })
      expectOpenAIError(r2, 401, { code: "invalid_api_key" })
    })

    it("a non-Bearer Authorization header → 401", async () => {
      const r = await ctx.get("/v1/models", {
        key: null,
        headers: { authorization: `Basic ${btoa(`user:${MASTER_KEY}`)}` }
      })
      expectOpenAIError(r, 401, { code: "invalid_api_key" })
    })

    it("the rejected request never reaches the upstream", async () => {
      const before = ctx.recorder.requests.length
      const r = await ctx.post(
        "/v1/chat/completions",
        { model: MODELS.chat.name, messages: [{ role: "user", content: "x" }] },
        { key: WRONG_KEY }
      )
      expect(r.status).toBe(401)
      expect(ctx.recorder.requests.length).toBe(before)
    })
  })

  it("the correct key works", async () => {
    const r = await ctx.post("/v1/chat/completions", chatBody)
    expect(r.status).toBe(200)
    const m = await ctx.get("/v1/models")
    expect(m.status).toBe(200)
  })

  describe("x-request-id", () => {
    const ID = /^[A-Za-z0-9._-]{1,128}$/

    it("is set on successes, 401s, 400s, 404 models and unknown routes", async () => {
      const responses = [
        await ctx.post("/v1/chat/completions", chatBody),
        await ctx.post("/v1/chat/completions", chatBody, { key: null }),
        await ctx.post("/v1/chat/completions", "{not json"),
        await ctx.post("/v1/chat/completions", { model: "no-such-model", messages: [{ role: "user", content: "x" }] }),
        await ctx.get("/no/such/route"),
        await ctx.get("/no/such/route", { key: null }),
        await ctx.get("/health")
      ]
      for (const r of responses) expect(r.headers.get("x-request-id") ?? "", `status ${r.status}`).toMatch(ID)
      // generated ids are unique
      const ids = new Set(responses.map((r) => r.headers.get("x-request-id")))
      expect(ids.size).toBe(responses.length)
    })

    it("an unknown route is a 404 not_found in OpenAI shape", async () => {
      const r = await ctx.get("/v1/definitely-not-a-route")
      expectOpenAIError(r, 404, { code: "not_found" })
      expect(r.headers.get("x-request-id")).toBeTruthy()
    })

    it("echoes a valid incoming id on success and on errors", async () => {
      const id = "contract.Req-id_0123456789"
      const ok = await ctx.post("/v1/chat/completions", chatBody, { headers: { "x-request-id": id } })
      expect(ok.status).toBe(200)
      expect(ok.headers.get("x-request-id")).toBe(id)
      const unauth = await ctx.get("/v1/models", { key: null, headers: { "x-request-id": `${id}-2` } })
      expect(unauth.status).toBe(401)
      expect(unauth.headers.get("x-request-id")).toBe(`${id}-2`)
      const notFound = await ctx.get("/nope", { headers: { "x-request-id": `${id}-3` } })
      expect(notFound.status).toBe(404)
      expect(notFound.headers.get("x-request-id")).toBe(`${id}-3`)
    })

    it("echoes an id of exactly 128 characters", async () => {
      const id = "a".repeat(128)
      const r = await ctx.get("/health", { headers: { "x-request-id": id } })
      expect(r.headers.get("x-request-id")).toBe(id)
    })

    it("replaces an invalid incoming id (bad characters, too long) with a generated one", async () => {
      for (const bad of ["has space", "semi;colon", 'quote"d', "a".repeat(129)]) {
        const r = await ctx.get("/health", { headers: { "x-request-id": bad } }).catch(() => undefined)
        if (r === undefined) continue // a header value fetch refuses to send
        const got = r.headers.get("x-request-id") ?? ""
        expect(got, `incoming ${JSON.stringify(bad)}`).not.toBe(bad)
        expect(got).toMatch(ID)
      }
    })
  })

  itLeaksNoSecrets(ctx)
})
