// The official OpenAI SDK pointed at the gateway: proves wire compatibility (paths, auth, JSON, SSE framing,
// error shape) with a real client, against the mock provider and the fake upstream.
import OpenAI, { AuthenticationError, NotFoundError } from "openai"
import { describe, expect, it } from "vitest"
import {
  itLeaksNoSecrets,
  MASTER_KEY,
  MOCK_CHUNKS,
  MODEL_NAMES,
  MODELS,
  runtime,
  useContract,
  WRONG_KEY
} from "./harness.ts"

describe(`[${runtime}] OpenAI SDK compatibility`, () => {
  const ctx = useContract()
  const client = (apiKey = MASTER_KEY) =>
    new OpenAI({ baseURL: `${ctx.base}/v1`, apiKey, maxRetries: 0, timeout: 10_000 })

  it("chat.completions.create", async () => {
    const c = await client().chat.completions.create({
      model: MODELS.mockChat.name,
      messages: [{ role: "user", content: "hello sdk" }]
    })
    expect(c.object).toBe("chat.completion")
    expect(c.choices[0]?.message.content).toBe(`Mock reply from ${MODELS.mockChat.upstream}: hello sdk`)
    expect(c.usage?.total_tokens).toBe((c.usage?.prompt_tokens ?? NaN) + (c.usage?.completion_tokens ?? NaN))
  })

  it("chat.completions.create with withResponse exposes the gateway headers", async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: MODELS.chat.name, messages: [{ role: "user", content: "via upstream" }] })
      .withResponse()
    expect(response.headers.get("x-llmgate-provider")).toBe(MODELS.chat.provider)
    expect(response.headers.get("x-request-id")).toBeTruthy()
    expect(data.choices[0]?.message.content).toBe(`upstream reply for ${MODELS.chat.upstream}`)
  })

  it("streamed chat: for await over chunks", async () => {
    const stream = await client().chat.completions.create({
      model: MODELS.mockChat.name,
      messages: [{ role: "user", content: "stream via sdk" }],
      stream: true
    })
    let text = ""
    let chunks = 0
    let finish: string | null | undefined = null
    let sawUsage = false
    for await (const chunk of stream) {
      chunks++
      text += chunk.choices[0]?.delta.content ?? ""
      finish = chunk.choices[0]?.finish_reason ?? finish
      if (chunk.usage) sawUsage = true
    }
    expect(text).toBe(`Mock reply from ${MODELS.mockChat.upstream}: stream via sdk`)
    expect(chunks).toBe(MOCK_CHUNKS + 2)
    expect(finish).toBe("stop")
    expect(sawUsage).toBe(true)
  })

  it("streamed chat through the upstream", async () => {
    const stream = await client().chat.completions.create({
      model: MODELS.streamFast.name,
      messages: [{ role: "user", content: "x" }],
      stream: true
    })
    const parts: Array<string> = []
    for await (const chunk of stream) parts.push(chunk.choices[0]?.delta.content ?? "")
    expect(parts.join("")).toBe(Array.from({ length: 10 }, (_, i) => `tok-${i} `).join(""))
  })

  it("embeddings.create (SDK default base64 request and explicit float)", async () => {
    const e = await client().embeddings.create({ model: MODELS.mockChat.name, input: ["a", "b"], dimensions: 12 })
    expect(e.data).toHaveLength(2)
    expect(e.data[0]?.embedding).toHaveLength(12)
    const f = await client().embeddings.create({
      model: MODELS.mockChat.name,
      input: ["a", "b"],
      dimensions: 12,
      encoding_format: "float"
    })
    expect(Array.from(f.data[0]?.embedding ?? [])).toHaveLength(12)
    expect(Array.from(f.data[0]?.embedding ?? [])).toEqual(
      Array.from(e.data[0]?.embedding ?? []).map((x) => expect.closeTo(x, 5))
    )
  })

  it("completions.create", async () => {
    const c = await client().completions.create({ model: MODELS.mockChat.name, prompt: "sdk prompt" })
    expect(c.choices[0]?.text).toBe(`Mock reply from ${MODELS.mockChat.upstream}: sdk prompt`)
  })

  it("models.list and models.retrieve", async () => {
    const ids: Array<string> = []
    for await (const m of client().models.list()) ids.push(m.id)
    expect(ids.sort()).toEqual([...MODEL_NAMES].sort())
    const one = await client().models.retrieve(MODELS.mockChat.name)
    expect(one.id).toBe(MODELS.mockChat.name)
    expect(one.owned_by).toBe("llmgate")
  })

  it("errors surface as the SDK's typed errors", async () => {
    await expect(
      client().chat.completions.create({ model: "no-such-model-sdk", messages: [{ role: "user", content: "x" }] })
    ).rejects.toSatisfy((e: unknown) => e instanceof NotFoundError && e.status === 404 && e.code === "model_not_found")
    await expect(client(WRONG_KEY).models.list()).rejects.toSatisfy(
      (e: unknown) => e instanceof AuthenticationError && e.status === 401 && e.code === "invalid_api_key"
    )
  })

  itLeaksNoSecrets(ctx)
})
