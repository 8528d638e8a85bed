// Chat completions through an OpenAI-compatible upstream: what is sent upstream, what comes back,
// SSE relayed incrementally, and client disconnects aborting the upstream request.
import { describe, expect, it } from "vitest"
import { chunkText, upstreamChatReply } from "./upstream/handlers.ts"
import { bodyField, withMarker } from "./upstream/recorder.ts"
import {
  chunksOf,
  contentOf,
  EXTRA_HEADER,
  itLeaksNoSecrets,
  marker,
  MASTER_KEY,
  MODELS,
  PROVIDER_KEY,
  runtime,
  SSEReader,
  useContract,
  type ChatChunk
} from "./harness.ts"

describe(`[${runtime}] chat completions via upstream`, () => {
  const ctx = useContract()

  describe("non-streaming", () => {
    it("relays the upstream answer and tags the provider", async () => {
      const m = marker("chat")
      const r = await ctx.post("/v1/chat/completions", {
        model: MODELS.chat.name,
        messages: [{ role: "user", content: m }]
      })
      expect(r.status, r.text).toBe(200)
      expect(r.headers.get("content-type") ?? "").toMatch(/application\/json/)
      expect(r.headers.get("x-llmgate-provider")).toBe(MODELS.chat.provider)
      expect(r.headers.get("x-request-id")).toBeTruthy()
      const body = r.json<ReturnType<typeof upstreamChatReply>>()
      const expected = upstreamChatReply(MODELS.chat.upstream)
      expect(body.choices).toEqual(expected.choices)
      expect(body.usage).toEqual(expected.usage)
      expect(body.id).toBe(expected.id)
    })

    it("sends the client body upstream with only `model` rewritten, unknown fields untouched", async () => {
      const m = marker("fields")
      const clientBody = {
        model: MODELS.chat.name,
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: [{ type: "text", text: m }] }
        ],
        temperature: 0.3,
        tools: [
          {
            type: "function",
            function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }
          }
        ],
        tool_choice: "auto",
        response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object" }, strict: true } },
        logprobs: true,
        top_logprobs: 2,
        seed: 42,
        x_vendor_extension: { nested: [1, { a: null, b: "ü→✓" }], flag: false }
      }
      const r = await ctx.post("/v1/chat/completions", clientBody)
      expect(r.status, r.text).toBe(200)
      const [rec] = ctx.recorder.find(withMarker(m))
      expect(rec, "upstream saw the request").toBeDefined()
      expect(rec?.method).toBe("POST")
      expect(rec?.path).toBe("/v1/chat/completions")
      expect(rec?.body).toEqual({ ...clientBody, model: MODELS.chat.upstream })
    })

    it("sends the provider api_key and configured headers, never the client's Authorization", async () => {
      const m = marker("auth")
      const r = await ctx.post("/v1/chat/completions", {
        model: MODELS.chat.name,
        messages: [{ role: "user", content: m }]
      })
      expect(r.status).toBe(200)
      const [rec] = ctx.recorder.find(withMarker(m))
      expect(rec?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`)
      expect(rec?.headers[EXTRA_HEADER.name.toLowerCase()]).toBe(EXTRA_HEADER.value)
      expect(JSON.stringify(rec?.headers)).not.toContain(MASTER_KEY)
    })

    it("sends no Authorization upstream when the provider has no api_key", async () => {
      const m = marker("nokey")
      const r = await ctx.post("/v1/chat/completions", {
        model: MODELS.noKey.name,
        messages: [{ role: "user", content: m }]
      })
      expect(r.status, r.text).toBe(200)
      expect(r.headers.get("x-llmgate-provider")).toBe(MODELS.noKey.provider)
      const [rec] = ctx.recorder.find(withMarker(m))
      expect(rec).toBeDefined()
      expect(rec && bodyField(rec, "model")).toBe(MODELS.noKey.upstream)
      expect(rec?.headers.authorization).toBeUndefined()
      expect(JSON.stringify(rec?.headers)).not.toContain(MASTER_KEY)
    })

    it("uses the public name as the upstream model when the target sets none", async () => {
      const m = marker("default")
      const r = await ctx.post("/v1/chat/completions", {
        model: MODELS.defaultUpstream.name,
        messages: [{ role: "user", content: m }]
      })
      expect(r.status, r.text).toBe(200)
      const [rec] = ctx.recorder.find(withMarker(m))
      expect(rec && bodyField(rec, "model")).toBe(MODELS.defaultUpstream.name)
    })
  })

  describe("streaming", () => {
    it("relays SSE chunks incrementally, in order, ending with [DONE]", async () => {
      const m = marker("stream")
      const res = await ctx.postStream("/v1/chat/completions", {
        model: MODELS.streamFast.name,
        stream: true,
        messages: [{ role: "user", content: m }]
      })
      expect(res.status).toBe(200)
      expect(res.headers.get("content-type") ?? "").toMatch(/^text\/event-stream/)
      expect(res.headers.get("x-llmgate-provider")).toBe(MODELS.streamFast.provider)
      expect(res.headers.get("x-request-id")).toBeTruthy()
      const reader = new SSEReader(res)
      const events = await reader.all()
      ctx.noteBody(reader.raw)
      expect(events.at(-1)?.data).toBe("[DONE]")
      expect(events.filter((e) => e.data === "[DONE]")).toHaveLength(1)
      const chunks = chunksOf<ChatChunk>(events)
      // 10 content chunks in upstream order, then the stop chunk
      expect(contentOf(chunks)).toBe(Array.from({ length: 10 }, (_, i) => chunkText(i)).join(""))
      expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop")
      // upstream sends them 50 ms apart: they must not be buffered into one read
      const contentEvents = events.filter((e) => e.data !== "[DONE]" && e.data.includes("tok-"))
      expect(contentEvents).toHaveLength(10)
      const distinctReads = new Set(contentEvents.map((e) => e.read)).size
      expect(distinctReads, `reads at ${reader.reads.map((t) => t.toFixed(0)).join(",")} ms`).toBeGreaterThanOrEqual(5)
      const spread = (contentEvents.at(-1)?.at ?? 0) - (contentEvents[0]?.at ?? 0)
      expect(spread).toBeGreaterThanOrEqual(250)
      // the upstream got stream: true and the rewritten model
      const [rec] = ctx.recorder.find(withMarker(m))
      expect(rec?.body).toMatchObject({ model: MODELS.streamFast.upstream, stream: true })
    })

    it("the first chunk arrives long before the stream ends (time to first byte)", async () => {
      const t0 = performance.now()
      const res = await ctx.postStream("/v1/chat/completions", {
        model: MODELS.streamFast.name,
        stream: true,
        messages: [{ role: "user", content: marker("ttfb") }]
      })
      const reader = new SSEReader(res)
      const first = await reader.next()
      const firstAt = performance.now() - t0
      expect(first?.data).toContain(chunkText(0))
      const rest = await reader.all()
      const endAt = performance.now() - t0
      expect(rest.at(-1)?.data).toBe("[DONE]")
      expect(endAt - firstAt).toBeGreaterThanOrEqual(300)
    })

    it("a client disconnect mid-stream aborts the upstream request", async () => {
      const m = marker("cancel")
      const ac = new AbortController()
      const res = await ctx.postStream(
        "/v1/chat/completions",
        { model: MODELS.slowStream.name, stream: true, messages: [{ role: "user", content: m }] },
        { signal: ac.signal }
      )
      expect(res.status).toBe(200)
      const reader = new SSEReader(res)
      await reader.next()
      await reader.next()
      const [rec] = ctx.recorder.find(withMarker(m))
      expect(rec).toBeDefined()
      const stream = ctx.recorder.streams.find((s) => s.request === rec)
      expect(stream?.status).toBe("streaming")
      const abortedAt = performance.now()
      ac.abort()
      await ctx.recorder.waitFor(
        () => (stream?.status === "cancelled" ? true : undefined),
        2_000,
        "upstream stream cancellation"
      )
      expect(stream?.status).toBe("cancelled")
      expect((stream?.endedAt ?? Infinity) - abortedAt).toBeLessThan(2_000)
      expect(stream?.chunksSent ?? 400).toBeLessThan(400)
    })

    it("the gateway keeps serving after a client disconnect", async () => {
      const r = await ctx.get("/health")
      expect(r.status).toBe(200)
      const c = await ctx.post("/v1/chat/completions", {
        model: MODELS.chat.name,
        messages: [{ role: "user", content: "still there?" }]
      })
      expect(c.status).toBe(200)
    })
  })

  itLeaksNoSecrets(ctx)
})
