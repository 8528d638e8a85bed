// Streams and failover: an upstream that fails before the first content chunk is retried on the next
// target invisibly (the client gets one clean stream); one that fails after content reached the client
// ends the stream with a terminal `data: {"error":…}` event and `data: [DONE]`, status staying 200.
import { describe, expect, it } from "vitest"
import {
  chunksOf,
  contentOf,
  expectOpenAIError,
  itLeaksNoSecrets,
  marker,
  runtime,
  SSEReader,
  type ChatChunk,
  type OpenAIErrorBody,
  type SSEEvent
} from "./harness.ts"
import { provider, useRouting } from "./routing.ts"
import { breakStream, fail, STREAM_CHUNKS, tokensOf, type StreamBreak } from "./upstream/controlled.ts"
import { withMarker } from "./upstream/recorder.ts"

const target = (p: string, model: string) => ({ provider: p, model })

const IDLE_MS = 600

interface StreamResult {
  readonly status: number
  readonly headers: Headers
  readonly contentType: string
  readonly events: Array<SSEEvent>
  readonly raw: string
  readonly ms: number
  readonly hits: Array<string | undefined>
}

/** Events that carry JSON (all but [DONE]). */
const jsonEvents = (events: ReadonlyArray<SSEEvent>): Array<Record<string, unknown>> =>
  events.filter((e) => e.data !== "[DONE]").map((e) => JSON.parse(e.data) as Record<string, unknown>)

const roleChunks = (events: ReadonlyArray<SSEEvent>): number =>
  chunksOf<ChatChunk>(events.filter((e) => !e.data.includes('"error"'))).filter(
    (c) => c.choices[0]?.delta.role !== undefined
  ).length

describe(`[${runtime}] routing: streams and failover`, () => {
  const ctx = useRouting({
    upstreams: ["a", "b"],
    config: ({ url }) => ({
      providers: [
        // long idle timeout: failures must be detected by what the upstream sends, not by silence
        provider("p-a", url("a"), { timeout: { request: "10s", idle: "10s" } }),
        provider("p-b", url("b"), { timeout: { request: "10s", idle: "10s" } }),
        provider("p-a-idle", url("a"), { timeout: { request: "10s", idle: `${IDLE_MS}ms` } })
      ],
      models: [
        {
          name: "stream-fo",
          strategy: "failover",
          targets: [target("p-a", "s"), target("p-b", "s")],
          retry: { attempts: 1 }
        },
        {
          name: "stream-idle",
          strategy: "failover",
          targets: [target("p-a-idle", "si"), target("p-b", "si")],
          retry: { attempts: 1 }
        },
        { name: "stream-solo", targets: [target("p-a", "ss")] },
        { name: "stream-solo-idle", targets: [target("p-a-idle", "ssi")] }
      ]
    })
  })

  const stream = async (model: string): Promise<StreamResult> => {
    const m = marker("st")
    const t0 = performance.now()
    const res = await ctx.postStream("/v1/chat/completions", {
      model,
      stream: true,
      messages: [{ role: "user", content: m }]
    })
    const contentType = res.headers.get("content-type") ?? ""
    if (!contentType.startsWith("text/event-stream")) {
      const text = await res.text()
      ctx.noteBody(text)
      return {
        status: res.status,
        headers: res.headers,
        contentType,
        events: [],
        raw: text,
        ms: performance.now() - t0,
        hits: ctx.recorder.find(withMarker(m)).map((r) => r.upstream)
      }
    }
    const reader = new SSEReader(res)
    const events = await reader.all()
    ctx.noteBody(reader.raw)
    return {
      status: res.status,
      headers: res.headers,
      contentType,
      events,
      raw: reader.raw,
      ms: performance.now() - t0,
      hits: ctx.recorder.find(withMarker(m)).map((r) => r.upstream)
    }
  }

  /** One clean stream from upstream b: exactly one role chunk, b's content, a stop, [DONE], no error event. */
  const expectCleanFromB = (r: StreamResult) => {
    expect(r.status).toBe(200)
    expect(r.contentType).toMatch(/^text\/event-stream/)
    expect(r.headers.get("x-llmgate-provider")).toBe("p-b")
    expect(r.raw, "no error event reached the client").not.toContain('"error"')
    expect(r.events.at(-1)?.data).toBe("[DONE]")
    expect(r.events.filter((e) => e.data === "[DONE]")).toHaveLength(1)
    const parsed = jsonEvents(r.events)
    expect(
      parsed.every((p) => p["object"] === "chat.completion.chunk"),
      r.raw
    ).toBe(true)
    const chunks = chunksOf<ChatChunk>(r.events)
    expect(roleChunks(r.events), `role chunks in: ${r.raw}`).toBe(1)
    expect(contentOf(chunks)).toBe(tokensOf("b", STREAM_CHUNKS))
    expect(r.raw, "nothing of a's stream leaked through").not.toContain("a:tok-")
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop")
  }

  /** A stream of `tokens` content chunks from a, then one terminal error event, then [DONE]; returns the error. */
  const expectTerminalError = (r: StreamResult, tokens: number, providerName: string): OpenAIErrorBody => {
    expect(r.status).toBe(200)
    expect(r.contentType).toMatch(/^text\/event-stream/)
    expect(r.headers.get("x-llmgate-provider")).toBe(providerName)
    expect(r.events.at(-1)?.data, `stream: ${r.raw}`).toBe("[DONE]")
    expect(r.events.filter((e) => e.data === "[DONE]")).toHaveLength(1)
    const parsed = jsonEvents(r.events)
    const errors = parsed.filter((p) => "error" in p)
    expect(errors, `stream: ${r.raw}`).toHaveLength(1)
    const last = parsed.at(-1)
    expect(last && "error" in last, "the error event is the last before [DONE]").toBe(true)
    const err = errors[0] as unknown as OpenAIErrorBody
    expect(err).toEqual({
      error: {
        message: expect.any(String),
        type: expect.any(String),
        param: err.error.param === null ? null : expect.any(String),
        code: err.error.code === null ? null : expect.any(String)
      }
    })
    expect(err.error.message.length).toBeGreaterThan(0)
    const content = chunksOf<ChatChunk>(r.events.filter((e) => !e.data.includes('"error"')))
    expect(contentOf(content)).toBe(tokensOf("a", tokens))
    expect(r.raw, "no switch to another target mid-stream").not.toContain("b:tok-")
    expect(r.hits).toEqual(["a"])
    return err
  }

  it("baseline: a healthy stream passes through with one role chunk, attempts 1", async () => {
    const r = await stream("stream-fo")
    expect(r.status).toBe(200)
    expect(r.headers.get("x-llmgate-provider")).toBe("p-a")
    expect(r.headers.get("x-llmgate-attempts")).toBe("1")
    expect(roleChunks(r.events)).toBe(1)
    expect(contentOf(chunksOf<ChatChunk>(r.events))).toBe(tokensOf("a", STREAM_CHUNKS))
    expect(r.events.at(-1)?.data).toBe("[DONE]")
    expect(r.hits).toEqual(["a"])
  })

  describe("failing before the first content chunk → invisible failover", () => {
    const cases: ReadonlyArray<[StreamBreak, string]> = [
      ["reset", "the connection is reset after the role preamble"],
      ["end", "the stream ends after the role preamble"],
      ["garbage", "a non-JSON event follows the preamble (connection kept open)"],
      ["error-event", 'an {"error":…} event follows the preamble (connection kept open)']
    ]
    for (const [how, what] of cases) {
      it(`${what}: one clean 200 stream from the next target`, async () => {
        ctx.up("a").mode = breakStream(0, how)
        const r = await stream("stream-fo")
        expectCleanFromB(r)
        expect(r.headers.get("x-llmgate-attempts")).toBe("2")
        expect(r.hits).toEqual(["a", "b"])
        // detected from what a sent, not by waiting out the 10 s idle timeout
        expect(r.ms).toBeLessThan(4_000)
      })
    }

    it("a stall after the preamble longer than timeout.idle: failover after the idle timeout", async () => {
      ctx.up("a").mode = breakStream(0, "stall")
      const r = await stream("stream-idle")
      expectCleanFromB(r)
      expect(r.headers.get("x-llmgate-attempts")).toBe("2")
      expect(r.hits).toEqual(["a", "b"])
      expect(r.ms).toBeGreaterThanOrEqual(IDLE_MS - 50)
      expect(r.ms).toBeLessThan(IDLE_MS + 4_000)
    })

    it("a 500 status to a stream request: failover to a clean stream", async () => {
      ctx.up("a").mode = fail(500)
      const r = await stream("stream-fo")
      expectCleanFromB(r)
      expect(r.headers.get("x-llmgate-attempts")).toBe("2")
      expect(r.hits).toEqual(["a", "b"])
    })

    it("no other target: an error response (not a 200 stream) when the only upstream dies before content", async () => {
      ctx.up("a").mode = breakStream(0, "reset")
      const r = await stream("stream-solo")
      expect(r.contentType).toMatch(/application\/json/)
      expect(r.hits).toEqual(["a"])
      expect(r.headers.get("x-llmgate-attempts")).toBe("1")
      expectOpenAIError(
        { status: r.status, headers: r.headers, text: r.raw, json: <T>() => JSON.parse(r.raw) as T },
        502
      )
    })

    it("no other target: 504 upstream_timeout when the only upstream stalls before content", async () => {
      ctx.up("a").mode = breakStream(0, "stall")
      const r = await stream("stream-solo-idle")
      expectOpenAIError(
        { status: r.status, headers: r.headers, text: r.raw, json: <T>() => JSON.parse(r.raw) as T },
        504,
        { code: "upstream_timeout" }
      )
      expect(r.headers.get("x-llmgate-attempts")).toBe("1")
    })
  })

  describe("failing after content reached the client → terminal error event", () => {
    it('connection reset after 2 content chunks: the 2 chunks, then data: {"error":…}, then [DONE]', async () => {
      ctx.up("a").mode = breakStream(2, "reset")
      const r = await stream("stream-fo")
      expectTerminalError(r, 2, "p-a")
      expect(r.headers.get("x-llmgate-attempts")).toBe("1")
      expect(r.raw).toMatch(/data: \{"error":.*\}\n\ndata: \[DONE\]\n\n$/s)
    })

    it("a clean end after 2 content chunks without [DONE] is a truncation: error event + [DONE], not a silent cut", async () => {
      // ROUTING.md: "never silently truncated". Before content an early end counts as a failure; after
      // content the client must likewise learn that the answer is incomplete (reading of a demanding user).
      ctx.up("a").mode = breakStream(2, "end")
      const r = await stream("stream-fo")
      expectTerminalError(r, 2, "p-a")
    })

    it("a stall after 2 content chunks: ended after timeout.idle with an upstream_timeout error event", async () => {
      ctx.up("a").mode = breakStream(2, "stall")
      const r = await stream("stream-idle")
      const err = expectTerminalError(r, 2, "p-a-idle")
      expect(err.error.code).toBe("upstream_timeout")
      const lastContent = r.events.filter((e) => e.data.includes("a:tok-")).at(-1)
      const errorEvent = r.events.find((e) => e.data.includes('"error"'))
      expect((errorEvent?.at ?? 0) - (lastContent?.at ?? 0)).toBeGreaterThanOrEqual(IDLE_MS - 100)
      // and the gateway let go of the stalled upstream
      await ctx.recorder.waitFor(
        () => (ctx.up("a").inFlight === 0 ? true : undefined),
        3_000,
        "stalled upstream released"
      )
    })
  })

  itLeaksNoSecrets(ctx)
})
