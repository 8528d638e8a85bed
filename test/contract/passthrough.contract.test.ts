// Completions and embeddings through an OpenAI-compatible upstream, and the model list.
import { describe, expect, it } from "vitest"
import { upstreamCompletionReply, upstreamEmbeddingReply } from "./upstream/handlers.ts"
import { withMarker } from "./upstream/recorder.ts"
import {
  EXTRA_HEADER,
  expectOpenAIError,
  itLeaksNoSecrets,
  marker,
  MODEL_NAMES,
  MODELS,
  PROVIDER_KEY,
  runtime,
  useContract,
  type ModelList,
  type ModelObject
} from "./harness.ts"

describe(`[${runtime}] completions, embeddings and models`, () => {
  const ctx = useContract()

  it("POST /v1/completions is passed through with the model rewritten", async () => {
    const m = marker("cmpl")
    const clientBody = {
      model: MODELS.text.name,
      prompt: `say ${m}`,
      max_tokens: 7,
      echo: false,
      suffix: null,
      best_of: 1
    }
    const r = await ctx.post("/v1/completions", clientBody)
    expect(r.status, r.text).toBe(200)
    expect(r.headers.get("x-llmgate-provider")).toBe(MODELS.text.provider)
    const body = r.json<ReturnType<typeof upstreamCompletionReply>>()
    const expected = upstreamCompletionReply(MODELS.text.upstream)
    expect(body.object).toBe("text_completion")
    expect(body.choices).toEqual(expected.choices)
    expect(body.usage).toEqual(expected.usage)
    const [rec] = ctx.recorder.find(withMarker(m))
    expect(rec?.path).toBe("/v1/completions")
    expect(rec?.body).toEqual({ ...clientBody, model: MODELS.text.upstream })
    expect(rec?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`)
    expect(rec?.headers[EXTRA_HEADER.name.toLowerCase()]).toBe(EXTRA_HEADER.value)
  })

  it("POST /v1/embeddings is passed through with the model rewritten", async () => {
    const m = marker("emb")
    const clientBody = {
      model: MODELS.embed.name,
      input: [m, "second"],
      dimensions: 3,
      encoding_format: "float",
      user: "u-1"
    }
    const r = await ctx.post("/v1/embeddings", clientBody)
    expect(r.status, r.text).toBe(200)
    expect(r.headers.get("x-llmgate-provider")).toBe(MODELS.embed.provider)
    const body = r.json<ReturnType<typeof upstreamEmbeddingReply>>()
    const expected = upstreamEmbeddingReply(MODELS.embed.upstream, 2)
    expect(body.data).toEqual(expected.data)
    expect(body.usage).toEqual(expected.usage)
    const [rec] = ctx.recorder.find(withMarker(m))
    expect(rec?.path).toBe("/v1/embeddings")
    expect(rec?.body).toEqual({ ...clientBody, model: MODELS.embed.upstream })
    expect(rec?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`)
  })

  it("GET /v1/models lists exactly the configured public names", async () => {
    const r = await ctx.get("/v1/models")
    expect(r.status).toBe(200)
    expect(r.headers.get("content-type") ?? "").toMatch(/application\/json/)
    const list = r.json<ModelList>()
    expect(list.object).toBe("list")
    expect(list.data.map((d) => d.id).sort()).toEqual([...MODEL_NAMES].sort())
    for (const d of list.data) {
      expect(d).toEqual({ id: expect.any(String), object: "model", created: expect.any(Number), owned_by: "llmgate" })
      expect(Number.isInteger(d.created)).toBe(true)
    }
    // upstream ids are not exposed as models
    expect(list.data.map((d) => d.id)).not.toContain(MODELS.chat.upstream)
  })

  it("GET /v1/models/{model} returns one model", async () => {
    const r = await ctx.get(`/v1/models/${MODELS.chat.name}`)
    expect(r.status, r.text).toBe(200)
    expect(r.json<ModelObject>()).toEqual({
      id: MODELS.chat.name,
      object: "model",
      created: expect.any(Number),
      owned_by: "llmgate"
    })
  })

  it("GET /v1/models/{unknown} → 404 model_not_found naming the model", async () => {
    const r = await ctx.get("/v1/models/no-such-model-xyz")
    const body = expectOpenAIError(r, 404, { code: "model_not_found" })
    expect(body.error.message).toContain("no-such-model-xyz")
  })

  itLeaksNoSecrets(ctx)
})
