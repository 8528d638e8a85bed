// Tracing over OTLP (JSON) to an in-process receiver, on a gateway of two workers: one server span
// per request with the GenAI attributes, a client span per upstream attempt under it, an incoming
// `traceparent` continued (its sampling decision followed) and the attempt's sent to the provider,
// content only when captured, a stream's span ended at its end with its usage, spans from every
// worker (two, or the project's count), and an exporter outage that no client notices.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { onNewConnection, runtime, SSEReader, workers } from "./harness.ts"
import { provider, useRouting } from "./routing.ts"
import { fail } from "./upstream/controlled.ts"
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "./upstream/otlp.ts"

const SERVER = 2
const CLIENT = 3
const PARENT_ID = "00f067aa0ba902b7"

const hex = (n: number) =>
  Array.from({ length: n }, () =>
    Math.floor(Math.random() * 16)
      .toString(16)
      .toLowerCase()
  ).join("")

describe(`[${runtime}] tracing: OTLP spans with the GenAI conventions`, () => {
  let receiver: OtlpReceiver | undefined
  const otlp = (): OtlpReceiver => {
    if (receiver === undefined) throw new Error("the OTLP receiver did not start")
    return receiver
  }
  beforeAll(async () => {
    receiver = await startOtlpReceiver()
  })
  afterAll(async () => {
    await receiver?.close()
  })

  const ctx = useRouting({
    upstreams: ["a", "bad"],
    config: ({ url }) =>
      ({
        providers: [provider("p-a", url("a")), provider("p-bad", url("bad"))],
        models: [
          { name: "m-ok", targets: [{ provider: "p-a", model: "ok-m" }] },
          {
            name: "m-fo",
            strategy: "failover",
            targets: [
              { provider: "p-bad", model: "fo-m" },
              { provider: "p-a", model: "fo-m" }
            ],
            retry: { attempts: 1 }
          }
        ],
        tracing: {
          // The default protocol (http/protobuf), decoded by the receiver independently of the gateway's encoder.
          otlp: { endpoint: otlp().url, headers: { "x-collector-token": "t0ken" } },
          sample_rate: 1,
          capture_content: true,
          service_name: "llmgate-contract"
        }
      }) as { providers: Array<unknown>; models: Array<unknown> }
  })

  /** The spans of trace `traceId` once its server span and `clients` client spans arrived. */
  const traceOf = async (traceId: string, clients: number): Promise<ReadonlyArray<ReceivedSpan>> => {
    const inTrace = (spans: ReadonlyArray<ReceivedSpan>) => spans.filter((s) => s.traceId === traceId)
    const spans = await otlp().waitFor((all) => {
      const t = inTrace(all)
      return t.some((s) => s.kind === SERVER) && t.filter((s) => s.kind === CLIENT).length >= clients
    })
    return inTrace(spans)
  }

  it("continues a traceparent: a server span under it, a client span per attempt, GenAI attributes, the traceparent sent upstream", async () => {
    const traceId = hex(32)
    const r = await ctx.post(
      "/v1/chat/completions",
      { model: "m-ok", messages: [{ role: "user", content: "trace me" }], max_tokens: 50, temperature: 0.5 },
      { headers: { traceparent: `00-${traceId}-${PARENT_ID}-01` } }
    )
    expect(r.status, r.text).toBe(200)
    const requestId = r.headers.get("x-request-id")
    const spans = await traceOf(traceId, 1)
    const server = spans.find((s) => s.kind === SERVER)!
    const [client] = spans.filter((s) => s.kind === CLIENT)
    expect(server.parentSpanId).toBe(PARENT_ID)
    expect(server.name).toBe("POST /v1/chat/completions")
    expect(server.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/v1/chat/completions",
      "http.response.status_code": 200,
      "llmgate.request_id": requestId,
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "m-ok",
      "gen_ai.request.max_tokens": 50,
      "gen_ai.request.temperature": 0.5,
      "gen_ai.usage.input_tokens": 7,
      "gen_ai.usage.output_tokens": 3,
      "gen_ai.response.model": expect.any(String),
      "llmgate.endpoint": "chat",
      "llmgate.provider": "p-a",
      "llmgate.attempts": 1
    })
    expect(server.attributes["gen_ai.input.messages"]).toContain("trace me")
    expect(typeof server.attributes["llmgate.overhead_ms"]).toBe("number")
    expect(server.resource["service.name"]).toBe("llmgate-contract")
    expect(client?.parentSpanId).toBe(server.spanId)
    expect(client?.name).toBe("chat ok-m")
    expect(client?.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "ok-m",
      "llmgate.provider": "p-a",
      "llmgate.attempt": 1,
      "llmgate.outcome": "ok",
      "http.response.status_code": 200
    })
    expect(client!.startNs >= server.startNs && client!.endNs <= server.endNs).toBe(true)
    // The provider got the attempt's context: same trace, the client span as its parent.
    const upstream = ctx.up("a").requests().at(-1)
    expect(upstream?.headers["traceparent"]).toBe(`00-${traceId}-${client?.spanId}-01`)
    // The exporter sends the configured headers.
    expect(
      otlp()
        .batches()
        .some((b) => b.headers["x-collector-token"] === "t0ken")
    ).toBe(true)
  })

  it("a retried request: one client span per attempt, the failed one marked; a new trace without traceparent", async () => {
    ctx.up("bad").mode = fail(500)
    const before = new Set(
      otlp()
        .spans()
        .map((s) => s.traceId)
    )
    const r = await ctx.post("/v1/chat/completions", { model: "m-fo", messages: [{ role: "user", content: "x" }] })
    expect(r.status, r.text).toBe(200)
    const requestId = r.headers.get("x-request-id")
    const spans = await otlp().waitFor((all) =>
      all.some((s) => s.kind === SERVER && s.attributes["llmgate.request_id"] === requestId)
    )
    const server = spans.find((s) => s.kind === SERVER && s.attributes["llmgate.request_id"] === requestId)!
    expect(before.has(server.traceId)).toBe(false)
    expect(server.parentSpanId).toBeUndefined()
    const clients = (await traceOf(server.traceId, 2)).filter((s) => s.kind === CLIENT)
    expect(clients.map((c) => [c.attributes["llmgate.provider"], c.attributes["llmgate.outcome"]])).toEqual([
      ["p-bad", "server_error"],
      ["p-a", "ok"]
    ])
    expect(clients[0]?.statusCode).toBe(2)
    expect(clients[0]?.attributes["error.type"]).toBe("server_error")
    expect(server.attributes["llmgate.attempts"]).toBe(2)
  })

  it("a stream's span ends at its end, with its usage", async () => {
    const traceId = hex(32)
    const res = await ctx.postStream(
      "/v1/chat/completions",
      { model: "m-ok", stream: true, messages: [{ role: "user", content: "stream me" }] },
      { headers: { traceparent: `00-${traceId}-${PARENT_ID}-01` } }
    )
    expect(res.status).toBe(200)
    const events = await new SSEReader(res).all()
    ctx.noteBody(events.map((e) => e.data).join("\n"))
    const ended = Date.now()
    const server = (await traceOf(traceId, 1)).find((s) => s.kind === SERVER)!
    expect(server.attributes["llmgate.stream"]).toBe(true)
    expect(server.attributes["gen_ai.usage.output_tokens"]).toBeGreaterThan(0)
    expect(typeof server.attributes["llmgate.ttft_ms"]).toBe("number")
    // Ended with the stream: not before its last event was read by more than the clocks disagree.
    expect(Number(server.endNs / 1_000_000n)).toBeLessThanOrEqual(ended + 50)
  })

  it("follows an unsampled parent: nothing is exported for it", async () => {
    const traceId = hex(32)
    const r = await ctx.post(
      "/v1/chat/completions",
      { model: "m-ok", messages: [{ role: "user", content: "not sampled" }] },
      { headers: { traceparent: `00-${traceId}-${PARENT_ID}-00` } }
    )
    expect(r.status).toBe(200)
    // A sampled trace sent after it arrives; the unsampled one never does.
    const marker = hex(32)
    await ctx.post(
      "/v1/chat/completions",
      { model: "m-ok", messages: [{ role: "user", content: "x" }] },
      {
        headers: { traceparent: `00-${marker}-${PARENT_ID}-01` }
      }
    )
    await traceOf(marker, 1)
    expect(
      otlp()
        .spans()
        .some((s) => s.traceId === traceId)
    ).toBe(false)
    expect(ctx.up("a").requests().at(-2)?.headers["traceparent"]).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`))
  })

  it("spans come from every worker; an exporter outage is never seen by a client", async () => {
    // Each request on a connection of its own: the kernel spreads new connections over the workers.
    const ids: Array<string> = []
    for (let i = 0; i < 24; i++) {
      const r = await onNewConnection(ctx.gateway.port, "POST", "/v1/chat/completions", {
        model: "m-ok",
        messages: [{ role: "user", content: "w" }]
      })
      expect(r.status).toBe(200)
      ids.push(String(r.headers["x-request-id"]))
    }
    const spans = await otlp().waitFor((all) =>
      ids.every((id) => all.some((s) => s.kind === SERVER && s.attributes["llmgate.request_id"] === id))
    )
    const workerIds = new Set(
      spans
        .filter((s) => ids.includes(String(s.attributes["llmgate.request_id"])))
        .map((s) => s.resource["llmgate.worker"])
    )
    expect([...workerIds].sort()).toEqual(Array.from({ length: workers }, (_, i) => i))

    otlp().failWith = 503
    try {
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now()
        const r = await ctx.post("/v1/chat/completions", { model: "m-ok", messages: [{ role: "user", content: "o" }] })
        expect(r.status).toBe(200)
        expect(performance.now() - t0).toBeLessThan(1_000)
      }
      await new Promise((r) => setTimeout(r, 1_500))
      expect((await ctx.get("/health", { key: null })).status).toBe(200)
    } finally {
      otlp().failWith = undefined
    }
  })
})
