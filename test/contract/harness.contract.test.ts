// Self-test of the harness's fake upstream (no gateway involved): proves the MSW-over-node:http bridge
// streams incrementally, records requests, and propagates client disconnects, so that gateway failures
// in the other suites are the gateway's and not the harness's.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import {
  breakStream,
  fail,
  hang,
  replyText,
  slow,
  startControlledUpstream,
  STREAM_CHUNKS,
  throttle,
  tokenOf,
  tokensOf,
  upstreamErrorBody,
  type ControlledUpstream
} from "./upstream/controlled.ts"
import { chunkText, UPSTREAM_ERRORS, upstreamChatReply } from "./upstream/handlers.ts"
import { Recorder } from "./upstream/recorder.ts"
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
    const r = await post("/chat/completions", {
      model: "m-json",
      messages: [{ role: "user", content: "hi" }],
      tools: [{ type: "function" }]
    })
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
    const r = await post(
      "/chat/completions",
      { model: "chunks-100-30", stream: true, messages: [] },
      { signal: ac.signal }
    )
    const reader = new SSEReader(r)
    await reader.next()
    await reader.next()
    const t = performance.now()
    ac.abort()
    const s = await up.recorder.waitFor(
      () => {
        const last = up.recorder.streams.at(-1)
        return last?.status === "cancelled" ? last : undefined
      },
      2_000,
      "stream cancellation"
    )
    expect((s.endedAt ?? Infinity) - t).toBeLessThan(2_000)
    expect(s.chunksSent).toBeLessThan(100)
  })

  it("propagates a client disconnect to a hanging handler", async () => {
    const ac = new AbortController()
    const pending = post("/chat/completions", { model: "hang", messages: [] }, { signal: ac.signal }).catch(
      (e: unknown) => e
    )
    await sleep(100)
    ac.abort()
    await pending
    const seq = up.recorder.requests.at(-1)?.seq ?? -1
    await up.recorder.waitFor(() => (up.recorder.aborted.has(seq) ? true : undefined), 2_000, "hang abort")
    expect(up.recorder.aborted.has(seq)).toBe(true)
  })
})

describe(`[${runtime}] harness self-test: controllable upstreams (routing suites)`, () => {
  const recorder = new Recorder()
  let up: ControlledUpstream
  beforeAll(async () => {
    up = await startControlledUpstream("u1", recorder)
  })
  afterAll(async () => {
    await up.close()
  })
  beforeEach(() => up.reset())

  const post = (body: Record<string, unknown>, init: RequestInit = {}) =>
    fetch(`${up.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [], ...body }),
      ...init
    })

  it("ok: answers JSON and records the request with the upstream's name", async () => {
    const r = await post({ marker: "c-ok" })
    expect(r.status).toBe(200)
    expect(((await r.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe(
      replyText("u1")
    )
    expect(up.requests().at(-1)).toMatchObject({ upstream: "u1", body: { marker: "c-ok" } })
  })

  it("error modes answer the status, the canned body and Retry-After; queued modes go first, once each", async () => {
    up.mode = fail(503)
    up.queue(throttle("1"))
    const r1 = await post({})
    expect(r1.status).toBe(429)
    expect(r1.headers.get("retry-after")).toBe("1")
    expect(await r1.json()).toEqual(upstreamErrorBody("u1", 429))
    const r2 = await post({})
    expect(r2.status).toBe(503)
    await r2.body?.cancel()
  })

  it("slow: answers after the delay and counts requests in flight", async () => {
    up.mode = slow(200)
    const t0 = performance.now()
    const rs = await Promise.all([post({}), post({})])
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190)
    expect(rs.map((r) => r.status)).toEqual([200, 200])
    await Promise.all(rs.map((r) => r.body?.cancel()))
    expect(up.maxInFlight).toBe(2)
    expect(up.inFlight).toBe(0)
  })

  it("stream ok: a role-only preamble, the content chunks, a stop chunk, [DONE]", async () => {
    const events = await new SSEReader(await post({ stream: true })).all()
    const chunks = chunksOf(events)
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" })
    expect(contentOf(chunks)).toBe(tokensOf("u1", STREAM_CHUNKS))
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop")
    expect(events.at(-1)?.data).toBe("[DONE]")
  })

  it("stream reset: the client's read fails after the chunks sent (the connection dies, no clean end)", async () => {
    up.mode = breakStream(1, "reset")
    const reader = new SSEReader(await post({ stream: true }))
    const got: Array<string> = []
    const err = await (async () => {
      try {
        for (let e = await reader.next(); e !== undefined; e = await reader.next()) got.push(e.data)
        return undefined
      } catch (e) {
        return e
      }
    })()
    expect(err, `read ended cleanly after: ${got.join(" | ")}`).toBeDefined()
    expect(got.join("")).toContain(tokenOf("u1", 0))
    expect(got).not.toContain("[DONE]")
  })

  it("stream end: a clean end without [DONE]; garbage: a non-JSON event, then silence until the client leaves", async () => {
    up.mode = breakStream(0, "end")
    const ended = await new SSEReader(await post({ stream: true })).all()
    expect(ended).toHaveLength(1)
    up.mode = breakStream(0, "garbage")
    const ac = new AbortController()
    const reader = new SSEReader(await post({ stream: true }, { signal: ac.signal }))
    await reader.next()
    expect((await reader.next())?.data).toBe("{this is not json")
    ac.abort()
    await recorder.waitFor(() => (up.inFlight === 0 ? true : undefined), 2_000, "stream released")
  })

  it("hang: no answer until the client goes away (then recorded as aborted)", async () => {
    up.mode = hang
    const ac = new AbortController()
    const pending = post({}, { signal: ac.signal }).catch((e: unknown) => e)
    await recorder.waitFor(() => (up.inFlight === 1 ? true : undefined), 2_000, "hang started")
    ac.abort()
    await pending
    const seq = up.requests().at(-1)?.seq ?? -1
    await recorder.waitFor(() => (recorder.aborted.has(seq) ? true : undefined), 2_000, "hang abort")
  })

  it("kill refuses connections; restart serves again on the same port", async () => {
    await up.kill()
    expect(up.alive).toBe(false)
    await expect(post({})).rejects.toThrow()
    await up.restart()
    const r = await post({})
    expect(r.status).toBe(200)
    await r.body?.cancel()
  })
})
