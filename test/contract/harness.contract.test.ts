// Self-test of the harness's fake upstream (no gateway involved): proves the MSW-over-node:http bridge
// streams incrementally, records requests, and propagates client disconnects, so that gateway failures
// in the other suites are the gateway's and not the harness's.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { chunkText, UPSTREAM_ERRORS, upstreamChatReply } from "./upstream/handlers.ts"
import { startUpstream, type Upstream } from "./upstream/server.ts"
import { chunksOf, contentOf, runtime, sleep, SSEReader } from "./harness.ts"

describe(`[${runtime}] harness self-test: fake upstream`, () => {
  let up: Upstream
  beforeAll(async () => {
    up = await startUpstream()
  })
  afterAll(async () => {
    await up.close()
  })

  const post = (path: string, body: unknown, init: RequestInit = {}) =>
    fetch(`${up.baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer abc", "x-extra": "1" },
      body: JSON.stringify(body),
      ...init
    })

  it("answers chat JSON and records method, path, headers and parsed body", async () => {
    const r = await post("/chat/completions", { model: "m-json", messages: [{ role: "user", content: "hi" }], tools: [{ type: "function" }] })
    expect(r.status).toBe(200)
    expect(await r.json()).toEqual(upstreamChatReply("m-json"))
    const rec = up.recorder.requests.at(-1)
    expect(rec).toMatchObject({
      method: "POST",
      path: "/v1/chat/completions",
      headers: { authorization: "Bearer abc", "x-extra": "1", "content-type": "application/json" },
      body: { model: "m-json", tools: [{ type: "function" }] }
    })
  })

  it("answers canned errors by model id", async () => {
    const r = await post("/chat/completions", { model: "fail-500", messages: [] })
    expect(r.status).toBe(500)
    expect(await r.json()).toEqual(UPSTREAM_ERRORS["fail-500"]?.body)
    const r2 = await post("/embeddings", { model: "rate-limited-429", input: "x" })
    expect(r2.status).toBe(429)
    expect(r2.headers.get("retry-after")).toBe("7")
    await r2.body?.cancel()
  })

  it("streams chunks incrementally, in order, ending with [DONE]", async () => {
    const r = await post("/chat/completions", { model: "chunks-6-40", stream: true, messages: [] })
    expect(r.headers.get("content-type")).toBe("text/event-stream")
    const events = await new SSEReader(r).all()
    expect(events.at(-1)?.data).toBe("[DONE]")
    const chunks = chunksOf(events)
    expect(contentOf(chunks)).toBe(Array.from({ length: 6 }, (_, i) => chunkText(i)).join(""))
    const contentEvents = events.slice(0, 6)
    expect(new Set(contentEvents.map((e) => e.read)).size).toBeGreaterThanOrEqual(4)
    expect((contentEvents.at(-1)?.at ?? 0) - (contentEvents[0]?.at ?? 0)).toBeGreaterThan(150)
    expect(up.recorder.streams.at(-1)).toMatchObject({ status: "completed", chunksSent: 6 })
  })

  it("propagates a client disconnect to the handler (stream cancelled)", async () => {
    const ac = new AbortController()
    const r = await post("/chat/completions", { model: "chunks-100-30", stream: true, messages: [] }, { signal: ac.signal })
    const reader = new SSEReader(r)
    await reader.next()
    await reader.next()
    const t = performance.now()
    ac.abort()
    const s = await up.recorder.waitFor(() => {
      const last = up.recorder.streams.at(-1)
      return last?.status === "cancelled" ? last : undefined
    }, 2_000, "stream cancellation")
    expect((s.endedAt ?? Infinity) - t).toBeLessThan(2_000)
    expect(s.chunksSent).toBeLessThan(100)
  })

  it("propagates a client disconnect to a hanging handler", async () => {
    const ac = new AbortController()
    const pending = post("/chat/completions", { model: "hang", messages: [] }, { signal: ac.signal }).catch((e: unknown) => e)
    await sleep(100)
    ac.abort()
    await pending
    const seq = up.recorder.requests.at(-1)?.seq ?? -1
    await up.recorder.waitFor(() => (up.recorder.aborted.has(seq) ? true : undefined), 2_000, "hang abort")
    expect(up.recorder.aborted.has(seq)).toBe(true)
  })
})
