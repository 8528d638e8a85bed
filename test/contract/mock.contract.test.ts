// The built-in mock provider (kind: mock): deterministic chat, streamed chat, completions, embeddings,
// and failure_rate. No upstream is involved.
import { describe, expect, it } from "vitest"
import {
  chunksOf,
  contentOf,
  expectOpenAIError,
  itLeaksNoSecrets,
  MOCK_CHUNK_INTERVAL_MS,
  MOCK_CHUNKS,
  MOCK_FINE_CHUNKS,
  MODELS,
  runtime,
  SSEReader,
  useContract,
  type ChatChunk,
  type ChatCompletion,
  type EmbeddingList,
  type TextCompletion,
  type Usage
} from "./harness.ts"

const conversation = (last: string) => [
  { role: "system", content: "you are a mock" },
  { role: "user", content: "first question" },
  { role: "assistant", content: "first answer" },
  { role: "user", content: last }
]

const expectUsage = (u: Usage | null | undefined) => {
  expect(u).toEqual({
    prompt_tokens: expect.any(Number),
    completion_tokens: expect.any(Number),
    total_tokens: expect.any(Number)
  })
  if (!u) return
  expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens)
  expect(u.completion_tokens).toBeGreaterThan(0)
  expect(u.prompt_tokens).toBeGreaterThan(0)
}

describe(`[${runtime}] mock provider`, () => {
  const ctx = useContract()

  describe("chat", () => {
    it("answers deterministically from the last message", async () => {
      const r = await ctx.post("/v1/chat/completions", {
        model: MODELS.mockChat.name,
        messages: conversation("what is 2+2?")
      })
      expect(r.status, r.text).toBe(200)
      expect(r.headers.get("x-llmgate-provider")).toBe("mock")
      const c = r.json<ChatCompletion>()
      expect(c.id.startsWith("chatcmpl-")).toBe(true)
      expect(c.object).toBe("chat.completion")
      expect(c.model).toBe(MODELS.mockChat.name)
      expect(c.choices).toHaveLength(1)
      expect(c.choices[0]).toMatchObject({
        index: 0,
        message: { role: "assistant", content: `Mock reply from ${MODELS.mockChat.upstream}: what is 2+2?` },
        finish_reason: "stop"
      })
      expectUsage(c.usage)
      const again = (
        await ctx.post("/v1/chat/completions", { model: MODELS.mockChat.name, messages: conversation("what is 2+2?") })
      ).json<ChatCompletion>()
      expect(again.choices[0]?.message.content).toBe(c.choices[0]?.message.content)
      expect(again.usage).toEqual(c.usage)
    })

    it("names the target's upstream model in the content and the public name in `model`", async () => {
      const r = await ctx.post("/v1/chat/completions", { model: MODELS.mockAlias.name, messages: conversation("hi") })
      expect(r.status, r.text).toBe(200)
      const c = r.json<ChatCompletion>()
      expect(c.choices[0]?.message.content).toBe(`Mock reply from ${MODELS.mockAlias.upstream}: hi`)
      expect(c.model).toBe(MODELS.mockAlias.name)
    })

    it("streams: role chunk, N content deltas over time, stop chunk with usage, [DONE]", async () => {
      const messages = conversation("stream me please")
      const json = (
        await ctx.post("/v1/chat/completions", { model: MODELS.mockChat.name, messages })
      ).json<ChatCompletion>()
      const res = await ctx.postStream("/v1/chat/completions", { model: MODELS.mockChat.name, messages, stream: true })
      expect(res.status).toBe(200)
      expect(res.headers.get("content-type") ?? "").toMatch(/^text\/event-stream/)
      expect(res.headers.get("x-llmgate-provider")).toBe("mock")
      const reader = new SSEReader(res)
      const events = await reader.all()
      ctx.noteBody(reader.raw)
      expect(events.at(-1)?.data).toBe("[DONE]")
      const chunks = chunksOf<ChatChunk>(events)
      // first: role, empty content
      expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" })
      // then exactly `chunks` content deltas, then the final stop chunk
      expect(chunks).toHaveLength(1 + MOCK_CHUNKS + 1)
      const contentChunks = chunks.slice(1, 1 + MOCK_CHUNKS)
      for (const c of contentChunks) {
        expect(typeof c.choices[0]?.delta.content).toBe("string")
        expect(c.choices[0]?.finish_reason ?? null).toBeNull()
      }
      const last = chunks.at(-1)
      expect(last?.choices[0]?.finish_reason).toBe("stop")
      expectUsage(last?.usage)
      // concatenated deltas equal the non-streaming content
      expect(contentOf(chunks)).toBe(json.choices[0]?.message.content)
      expect(last?.usage?.total_tokens).toBe(json.usage.total_tokens)
      // chunk_interval apart: the content deltas are spread over time
      const contentEvents = events.slice(1, 1 + MOCK_CHUNKS)
      const spread = (contentEvents.at(-1)?.at ?? 0) - (contentEvents[0]?.at ?? 0)
      expect(spread).toBeGreaterThanOrEqual((MOCK_CHUNKS - 1) * MOCK_CHUNK_INTERVAL_MS * 0.7)
    })

    it("streams exactly `chunks` content deltas even when that is more than the words of the answer", async () => {
      const res = await ctx.postStream("/v1/chat/completions", {
        model: MODELS.mockFine.name,
        messages: [{ role: "user", content: "hi" }],
        stream: true
      })
      expect(res.status).toBe(200)
      const reader = new SSEReader(res)
      const chunks = chunksOf<ChatChunk>(await reader.all())
      ctx.noteBody(reader.raw)
      const content = `Mock reply from ${MODELS.mockFine.upstream}: hi`
      expect(content.length).toBeGreaterThan(MOCK_FINE_CHUNKS)
      expect(contentOf(chunks)).toBe(content)
      const deltas = chunks.slice(1, -1).map((c) => c.choices[0]?.delta.content ?? "")
      expect(deltas, JSON.stringify(deltas)).toHaveLength(MOCK_FINE_CHUNKS)
      for (const d of deltas) expect(d.length).toBeGreaterThan(0)
    })
  })

  describe("completions", () => {
    it("answers deterministically from the prompt", async () => {
      const r = await ctx.post("/v1/completions", { model: MODELS.mockChat.name, prompt: "once upon a time" })
      expect(r.status, r.text).toBe(200)
      expect(r.headers.get("x-llmgate-provider")).toBe("mock")
      const c = r.json<TextCompletion>()
      expect(c.object).toBe("text_completion")
      expect(c.choices[0]?.text).toBe(`Mock reply from ${MODELS.mockChat.upstream}: once upon a time`)
      expectUsage(c.usage)
    })
  })

  describe("embeddings", () => {
    it("one deterministic vector per input, default length 8", async () => {
      const body = { model: MODELS.mockChat.name, input: ["alpha", "beta", "alpha"] }
      const r = await ctx.post("/v1/embeddings", body)
      expect(r.status, r.text).toBe(200)
      expect(r.headers.get("x-llmgate-provider")).toBe("mock")
      const e = r.json<EmbeddingList>()
      expect(e.object).toBe("list")
      expect(e.data).toHaveLength(3)
      e.data.forEach((d, i) => {
        expect(d.object).toBe("embedding")
        expect(d.index).toBe(i)
        expect(d.embedding).toHaveLength(8)
        for (const x of d.embedding) expect(Number.isFinite(x)).toBe(true)
      })
      // same text → same vector (in one call and across calls); different text → different vector
      expect(e.data[2]?.embedding).toEqual(e.data[0]?.embedding)
      expect(e.data[1]?.embedding).not.toEqual(e.data[0]?.embedding)
      const again = (await ctx.post("/v1/embeddings", body)).json<EmbeddingList>()
      expect(again.data.map((d) => d.embedding)).toEqual(e.data.map((d) => d.embedding))
      expect(e.usage).toEqual({ prompt_tokens: expect.any(Number), total_tokens: expect.any(Number) })
    })

    it("honours `dimensions` and accepts a single string input", async () => {
      const r = await ctx.post("/v1/embeddings", { model: MODELS.mockChat.name, input: "alpha", dimensions: 32 })
      expect(r.status, r.text).toBe(200)
      const e = r.json<EmbeddingList>()
      expect(e.data).toHaveLength(1)
      expect(e.data[0]?.embedding).toHaveLength(32)
      expect(e.data[0]?.index).toBe(0)
    })
  })

  describe("failure_rate: 1", () => {
    it("chat answers 500 in OpenAI error shape", async () => {
      for (let i = 0; i < 3; i++) {
        const r = await ctx.post("/v1/chat/completions", { model: MODELS.mockBroken.name, messages: conversation("x") })
        expectOpenAIError(r, 500)
      }
    })

    it("embeddings answer 500 in OpenAI error shape", async () => {
      const r = await ctx.post("/v1/embeddings", { model: MODELS.mockBroken.name, input: "x" })
      expectOpenAIError(r, 500)
    })
  })

  itLeaksNoSecrets(ctx)
})
