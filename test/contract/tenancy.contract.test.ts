// Virtual keys on the proxy, over HTTP: the auth matrix (master, valid, unknown, disabled, expired, a
// rotated key's grace period), 403 model_not_allowed in OpenAI's shape (also for a path-pinned route),
// /v1/models filtered per key, the OpenAI SDK with a virtual key, and no virtual key in any body,
// log line or upstream request.
import OpenAI, { AuthenticationError, NotFoundError, PermissionDeniedError } from "openai"
import { describe, expect, it } from "vitest"
import { generateKey } from "../../src/auth/KeyMaterial.ts"
import {
  expectOpenAIError,
  itLeaksNoSecrets,
  MODEL_NAMES,
  MODELS,
  type ModelList,
  type ModelObject,
  runtime,
  SSEReader,
  useContract,
  VIRTUAL_KEYS
} from "./harness.ts"

const chat = (model: string, content = "tenancy") => ({ model, messages: [{ role: "user", content }] })
/** What the `limited` key's /v1/models shows: its allowed models in config order. */
const LIMITED_LIST = [MODELS.text.name, MODELS.mockChat.name, MODELS.mockFine.name]

describe(`[${runtime}] projects, users and virtual keys`, () => {
  const ctx = useContract({
    debug: true,
    // Pin /v1/embeddings to embed-model: the permission check must look at the pinned model.
    configure: (config) => ({ ...config, routes: [{ path: "/v1/embeddings", model: MODELS.embed.name }] })
  })

  describe("the auth matrix on POST /v1/chat/completions", () => {
    const accepted: ReadonlyArray<readonly [string, string | undefined]> = [
      ["the master key", undefined],
      ["a key allowed every model", VIRTUAL_KEYS.open.key],
      ["a key allowed this model", VIRTUAL_KEYS.limited.key],
      ["a rotated key's new key", VIRTUAL_KEYS.rotated.key],
      ["a rotated key's old key within its grace period", VIRTUAL_KEYS.rotatedOld.key],
      ["a key rotated long ago, by its new key", VIRTUAL_KEYS.stale.key]
    ]
    for (const [what, key] of accepted) {
      it(`${what} → 200`, async () => {
        const r = await ctx.post("/v1/chat/completions", chat(MODELS.mockChat.name), key === undefined ? {} : { key })
        expect(r.status, r.text).toBe(200)
        expect(r.json<{ object: string }>().object).toBe("chat.completion")
      })
    }

    const rejected: ReadonlyArray<readonly [string, string]> = [
      ["an unknown sk-lg- key", generateKey().key],
      ["a disabled key", VIRTUAL_KEYS.disabled.key],
      ["an expired key", VIRTUAL_KEYS.expired.key],
      ["a rotated key's old key after its grace period", VIRTUAL_KEYS.staleOld.key],
      ["a key's hash instead of the key", VIRTUAL_KEYS.open.hash],
      ["a key's visible prefix", VIRTUAL_KEYS.open.prefix]
    ]
    for (const [what, key] of rejected) {
      it(`${what} → 401 invalid_api_key, the key not echoed`, async () => {
        const before = ctx.recorder.requests.length
        const r = await ctx.post("/v1/chat/completions", chat(MODELS.chat.name), { key })
        expectOpenAIError(r, 401, { type: "authentication_error", code: "invalid_api_key" })
        expect(r.text).not.toContain(key)
        expect(ctx.recorder.requests.length, "nothing reached the upstream").toBe(before)
      })
    }

    it("disabled and expired keys are refused on GET /v1/models too", async () => {
      for (const key of [VIRTUAL_KEYS.disabled.key, VIRTUAL_KEYS.expired.key, VIRTUAL_KEYS.staleOld.key]) {
        expectOpenAIError(await ctx.get("/v1/models", { key }), 401, { code: "invalid_api_key" })
      }
    })
  })

  describe("allowed models", () => {
    it("a model outside the key's list → 403 model_not_allowed in OpenAI's shape, never sent upstream", async () => {
      const before = ctx.recorder.requests.length
      const r = await ctx.post("/v1/chat/completions", chat(MODELS.chat.name), { key: VIRTUAL_KEYS.limited.key })
      const body = expectOpenAIError(r, 403, {
        type: "invalid_request_error",
        code: "model_not_allowed",
        param: "model"
      })
      expect(body.error.message).toContain(MODELS.chat.name)
      expect(r.text).not.toContain(VIRTUAL_KEYS.limited.key)
      expect(r.headers.get("x-request-id")).toBeTruthy()
      expect(ctx.recorder.requests.length).toBe(before)
    })

    it("globs and /regex/ entries allow the models they match", async () => {
      const key = VIRTUAL_KEYS.limited.key
      expect((await ctx.post("/v1/chat/completions", chat(MODELS.mockFine.name), { key })).status).toBe(200)
      const text = await ctx.post("/v1/completions", { model: MODELS.text.name, prompt: "hi" }, { key })
      expect(text.status, text.text).toBe(200)
      expectOpenAIError(await ctx.post("/v1/chat/completions", chat(MODELS.mockAlias.name), { key }), 403, {
        code: "model_not_allowed"
      })
    })

    it("403 on every proxy endpoint, and for a model that does not exist (no probing)", async () => {
      const key = VIRTUAL_KEYS.limited.key
      expectOpenAIError(await ctx.post("/v1/completions", { model: MODELS.chat.name, prompt: "x" }, { key }), 403, {
        code: "model_not_allowed"
      })
      expectOpenAIError(await ctx.post("/v1/chat/completions", chat("no-such-model"), { key }), 403, {
        code: "model_not_allowed"
      })
      // the master key still gets the 404 for an unknown model
      expectOpenAIError(await ctx.post("/v1/chat/completions", chat("no-such-model")), 404, { code: "model_not_found" })
    })

    it("a streaming request for a forbidden model is a plain JSON 403", async () => {
      const r = await ctx.postStream(
        "/v1/chat/completions",
        { ...chat(MODELS.streamFast.name), stream: true },
        { key: VIRTUAL_KEYS.limited.key }
      )
      const text = await r.text()
      ctx.noteBody(text)
      expect(r.status).toBe(403)
      expect(r.headers.get("content-type") ?? "").toMatch(/application\/json/)
      expect(JSON.parse(text)).toMatchObject({ error: { code: "model_not_allowed" } })
    })

    it("a streaming request for an allowed model streams", async () => {
      const r = await ctx.postStream(
        "/v1/chat/completions",
        { ...chat(MODELS.mockChat.name), stream: true },
        { key: VIRTUAL_KEYS.limited.key }
      )
      expect(r.status).toBe(200)
      const reader = new SSEReader(r)
      const events = await reader.all()
      ctx.noteBody(reader.raw)
      expect(events.at(-1)?.data).toBe("[DONE]")
    })

    it("models: [] allows nothing", async () => {
      expectOpenAIError(
        await ctx.post("/v1/chat/completions", chat(MODELS.mockChat.name), { key: VIRTUAL_KEYS.none.key }),
        403,
        { code: "model_not_allowed" }
      )
    })

    it("a path-pinned route checks the model it pins, not the body's", async () => {
      const body = { model: MODELS.mockChat.name, input: "pinned" }
      const forbidden = await ctx.post("/v1/embeddings", body, { key: VIRTUAL_KEYS.limited.key })
      const error = expectOpenAIError(forbidden, 403, { code: "model_not_allowed", param: "model" })
      expect(error.error.message).toContain(MODELS.embed.name)
      const open = await ctx.post("/v1/embeddings", body, { key: VIRTUAL_KEYS.open.key })
      expect(open.status, open.text).toBe(200)
      expect(open.json<{ object: string }>().object).toBe("list")
    })
  })

  describe("GET /v1/models", () => {
    const ids = async (key?: string) => {
      const r = await ctx.get("/v1/models", key === undefined ? {} : { key })
      expect(r.status, r.text).toBe(200)
      return r.json<ModelList>().data.map((m) => m.id)
    }

    it("lists every model for the master key and a key allowed every model", async () => {
      expect(await ids()).toEqual(MODEL_NAMES)
      expect(await ids(VIRTUAL_KEYS.open.key)).toEqual(MODEL_NAMES)
    })

    it("lists only the allowed models for a limited key, none for models: []", async () => {
      expect(await ids(VIRTUAL_KEYS.limited.key)).toEqual(LIMITED_LIST)
      expect(await ids(VIRTUAL_KEYS.none.key)).toEqual([])
    })

    it("GET /v1/models/{model}: allowed → 200; forbidden → the same 404 as an unknown model", async () => {
      const key = VIRTUAL_KEYS.limited.key
      const one = await ctx.get(`/v1/models/${MODELS.mockChat.name}`, { key })
      expect(one.status).toBe(200)
      expect(one.json<ModelObject>()).toMatchObject({ id: MODELS.mockChat.name, object: "model" })
      const forbidden = await ctx.get(`/v1/models/${MODELS.chat.name}`, { key })
      const unknown = await ctx.get("/v1/models/no-such-model", { key })
      const f = expectOpenAIError(forbidden, 404, { code: "model_not_found", param: "model" })
      const u = expectOpenAIError(unknown, 404, { code: "model_not_found", param: "model" })
      expect(f.error.message.replace(MODELS.chat.name, "X")).toBe(u.error.message.replace("no-such-model", "X"))
      expect((await ctx.get(`/v1/models/${MODELS.chat.name}`)).status).toBe(200)
    })
  })

  describe("the OpenAI SDK with a virtual key", () => {
    const client = (apiKey: string) => new OpenAI({ baseURL: `${ctx.base}/v1`, apiKey, maxRetries: 0, timeout: 10_000 })

    it("chat, streaming and models.list work with a limited key", async () => {
      const sdk = client(VIRTUAL_KEYS.limited.key)
      const c = await sdk.chat.completions.create(
        chat(MODELS.mockChat.name, "hello key") as OpenAI.ChatCompletionCreateParamsNonStreaming
      )
      expect(c.choices[0]?.message.content).toBe(`Mock reply from ${MODELS.mockChat.upstream}: hello key`)
      const stream = await sdk.chat.completions.create({
        model: MODELS.mockFine.name,
        messages: [{ role: "user", content: "s" }],
        stream: true
      })
      let text = ""
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ""
      expect(text.length).toBeGreaterThan(0)
      const listed: Array<string> = []
      for await (const m of sdk.models.list()) listed.push(m.id)
      expect(listed).toEqual(LIMITED_LIST)
    })

    it("a forbidden model is a PermissionDeniedError (403, model_not_allowed)", async () => {
      await expect(
        client(VIRTUAL_KEYS.limited.key).chat.completions.create({
          model: MODELS.chat.name,
          messages: [{ role: "user", content: "x" }]
        })
      ).rejects.toSatisfy(
        (e: unknown) => e instanceof PermissionDeniedError && e.status === 403 && e.code === "model_not_allowed"
      )
      await expect(client(VIRTUAL_KEYS.limited.key).models.retrieve(MODELS.chat.name)).rejects.toSatisfy(
        (e: unknown) => e instanceof NotFoundError && e.status === 404
      )
    })

    it("disabled and expired keys are AuthenticationErrors (401)", async () => {
      for (const key of [VIRTUAL_KEYS.disabled.key, VIRTUAL_KEYS.expired.key]) {
        await expect(
          client(key).chat.completions.create({
            model: MODELS.mockChat.name,
            messages: [{ role: "user", content: "x" }]
          })
        ).rejects.toSatisfy(
          (e: unknown) => e instanceof AuthenticationError && e.status === 401 && e.code === "invalid_api_key"
        )
      }
    })
  })

  it("no virtual key reaches the upstream, in a header or a body", () => {
    expect(ctx.recorder.requests.length).toBeGreaterThan(0)
    const sent = ctx.recorder.requests.map((r) => `${JSON.stringify(r.headers)}\n${r.rawBody}`).join("\n")
    for (const k of Object.values(VIRTUAL_KEYS)) {
      expect(sent).not.toContain(k.key)
      expect(sent).not.toContain(k.hash)
    }
  })

  itLeaksNoSecrets(ctx)
})
