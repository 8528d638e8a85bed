// `/v1/responses` passed through to an OpenAI-kind provider: a model whose targets are all `openai`
// providers gets the provider's own Responses API. The upstream receives the client's body untouched
// but for `model` (`previous_response_id`, `store` and built-in tools pass through), and the client
// gets the upstream's answer as it was sent: JSON relayed, an event stream relayed byte for byte
// (written here by hand from the Responses API reference), driven by the official SDK's
// `responses.create`, `responses.stream`, `responses.retrieve`, `responses.cancel` and
// `responses.inputItems.list`. A response by id goes to the provider of the model the route for
// `/v1/responses` pins, its id one path segment. A model with a target of another kind is still
// translated over chat (the mixed model of providers.contract.test.ts; here a mock-kind one).
import { DatabaseSync } from "node:sqlite"
import { http, HttpResponse, type RequestHandler } from "msw"
import OpenAI from "openai"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanupTempDirs, freePort, launchGateway, type GatewayProcess } from "./gateway.ts"
import { generateKey } from "../../src/auth/KeyMaterial.ts"
import { httpClient, MASTER_KEY, runtime, sleep } from "./harness.ts"
import { startUpstream, type Upstream } from "./upstream/server.ts"

const OPENAI_KEY = "sk-openai-responses-0123456789"
const UPSTREAM_MODEL = "gpt-4.1-2025-04-14"
/** A key with a token limit, whose reservations settle to what its answers used. */
const LIMITED = generateKey()
const TOKENS_PER_MINUTE = 100_000
/** USD per million tokens of `writer`, input and output. */
const PRICE = 1000

/** A call as the upstream received it. */
interface Call {
  readonly method: string
  readonly path: string
  readonly search: string
  readonly headers: Headers
  readonly body: string
}

const calls: Array<Call> = []

const record = async (request: Request): Promise<Call> => {
  const url = new URL(request.url)
  const call = {
    method: request.method,
    path: url.pathname,
    search: url.search,
    headers: request.headers,
    body: request.method === "POST" ? await request.text() : ""
  }
  calls.push(call)
  return call
}

const USAGE = {
  input_tokens: 12,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 5,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 17
}

const MESSAGE = {
  id: "msg_abc123",
  type: "message",
  status: "completed",
  role: "assistant",
  content: [{ type: "output_text", text: "Hello there!", annotations: [] }]
}

/** A response object as the Responses API returns it (stored: the upstream keeps it). */
const responseObject = (status: "in_progress" | "completed" | "cancelled", withOutput: boolean) => ({
  id: "resp_abc123",
  object: "response",
  created_at: 1_741_476_542,
  status,
  error: null,
  incomplete_details: null,
  instructions: null,
  max_output_tokens: null,
  model: UPSTREAM_MODEL,
  output: withOutput ? [MESSAGE] : [],
  parallel_tool_calls: true,
  previous_response_id: "resp_previous1",
  reasoning: { effort: null, summary: null },
  store: true,
  temperature: 1,
  text: { format: { type: "text" } },
  tool_choice: "auto",
  tools: [],
  top_p: 1,
  truncation: "disabled",
  usage: withOutput ? USAGE : null,
  user: null,
  metadata: {}
})

/** The event stream, one event per chunk, as the Responses API reference writes it. */
const EVENTS: ReadonlyArray<Record<string, unknown>> = [
  { type: "response.created", response: responseObject("in_progress", false) },
  { type: "response.in_progress", response: responseObject("in_progress", false) },
  {
    type: "response.output_item.added",
    output_index: 0,
    item: { id: "msg_abc123", type: "message", status: "in_progress", role: "assistant", content: [] }
  },
  {
    type: "response.content_part.added",
    item_id: "msg_abc123",
    output_index: 0,
    content_index: 0,
    part: { type: "output_text", text: "", annotations: [] }
  },
  { type: "response.output_text.delta", item_id: "msg_abc123", output_index: 0, content_index: 0, delta: "Hello" },
  { type: "response.output_text.delta", item_id: "msg_abc123", output_index: 0, content_index: 0, delta: " there!" },
  { type: "response.output_text.done", item_id: "msg_abc123", output_index: 0, content_index: 0, text: "Hello there!" },
  {
    type: "response.content_part.done",
    item_id: "msg_abc123",
    output_index: 0,
    content_index: 0,
    part: MESSAGE.content[0]
  },
  { type: "response.output_item.done", output_index: 0, item: MESSAGE },
  { type: "response.completed", response: responseObject("completed", true) }
].map((event, sequence_number) => ({ ...event, sequence_number }))

const eventChunks = EVENTS.map((event) => `event: ${String(event["type"])}\ndata: ${JSON.stringify(event)}\n\n`)
const SSE_TEXT = eventChunks.join("")

const INPUT_ITEMS = {
  object: "list",
  data: [
    { id: "msg_in1", type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: "Hi" }] }
  ],
  first_id: "msg_in1",
  last_id: "msg_in1",
  has_more: false
}

const enc = new TextEncoder()

const handlers = (): Array<RequestHandler> => [
  http.post("*/v1/responses", async ({ request }) => {
    const call = await record(request)
    const body = JSON.parse(call.body) as Record<string, unknown>
    if (body["stream"] !== true) return HttpResponse.json(responseObject("completed", true))
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (const chunk of eventChunks) {
          controller.enqueue(enc.encode(chunk))
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
        controller.close()
      }
    })
    return new HttpResponse(stream, { status: 200, headers: { "content-type": "text/event-stream; charset=utf-8" } })
  }),
  http.post("*/v1/chat/completions", async ({ request }) => {
    await record(request)
    return HttpResponse.json({
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1_741_476_542,
      model: UPSTREAM_MODEL,
      choices: [{ index: 0, message: { role: "assistant", content: "Translated." }, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }
    })
  }),
  http.get("*/v1/responses/:id/input_items", async ({ request }) => {
    await record(request)
    return HttpResponse.json(INPUT_ITEMS)
  }),
  http.post("*/v1/responses/:id/cancel", async ({ request }) => {
    await record(request)
    return HttpResponse.json(responseObject("cancelled", false))
  }),
  http.get("*/v1/responses/:id", async ({ request, params }) => {
    await record(request)
    if (params["id"] !== "resp_abc123")
      return HttpResponse.json(
        { error: { message: "No response found.", type: "invalid_request_error", param: null, code: null } },
        { status: 404 }
      )
    return HttpResponse.json(responseObject("completed", true))
  }),
  http.delete("*/v1/responses/:id", async ({ request }) => {
    await record(request)
    return HttpResponse.json({ id: "resp_abc123", object: "response", deleted: true })
  })
]

describe(`[${runtime}] /v1/responses passed through to an OpenAI provider`, () => {
  let upstream: Upstream | undefined
  let gateway: GatewayProcess | undefined
  const client = httpClient(() => gateway?.baseUrl ?? "", [])
  const sdk = () =>
    new OpenAI({ baseURL: `${gateway?.baseUrl}/v1`, apiKey: MASTER_KEY, maxRetries: 0, timeout: 10_000 })

  beforeAll(async () => {
    upstream = await startUpstream(handlers)
    const port = await freePort()
    gateway = await launchGateway({
      runtime,
      port,
      config: {
        server: { host: "127.0.0.1", port },
        master_key: MASTER_KEY,
        usage: { enabled: true, flush_interval: "100ms" },
        projects: [{ id: "prj_r", name: "Responses" }],
        keys: [
          {
            id: "key_limited",
            name: "limited",
            prefix: LIMITED.prefix,
            hash: LIMITED.hash,
            project_id: "prj_r",
            limits: { tokens_per_minute: TOKENS_PER_MINUTE }
          }
        ],
        providers: [
          { name: "oai", kind: "openai", base_url: upstream.baseUrl, api_key: OPENAI_KEY },
          { name: "fake", kind: "mock" }
        ],
        models: [
          {
            name: "writer",
            targets: [{ provider: "oai", model: UPSTREAM_MODEL }],
            fallbacks: ["writer-2"],
            pricing: { input: PRICE, output: PRICE }
          },
          { name: "writer-2", targets: [{ provider: "oai", model: "gpt-4.1-mini" }] },
          { name: "mocked", targets: [{ provider: "fake", model: "m" }] },
          { name: "mixed", targets: [{ provider: "oai", model: UPSTREAM_MODEL }], fallbacks: ["mocked"] }
        ],
        routes: [{ path: "/v1/responses/*", model: "writer" }]
      }
    })
  })

  afterAll(async () => {
    await gateway?.stop("SIGTERM", 10_000)
    await upstream?.close()
    cleanupTempDirs()
  })

  const REQUEST = {
    model: "writer",
    input: [{ role: "user" as const, content: "Hi" }],
    previous_response_id: "resp_previous1",
    store: true,
    tools: [{ type: "web_search_preview" as const }]
  }

  it("responses.create: the body goes untouched but for model; the JSON answer comes back as sent", async () => {
    calls.length = 0
    const raw = `{"model":"writer","input":[{"role":"user","content":"Hi"}],"previous_response_id":"resp_previous1","store":true,"tools":[{"type":"web_search_preview"}]}`
    const res = await fetch(`${gateway?.baseUrl}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: raw
    })
    expect(res.status).toBe(200)
    expect(res.headers.get("x-llmgate-provider")).toBe("oai")
    expect(await res.json()).toEqual(responseObject("completed", true))
    expect(calls).toHaveLength(1)
    expect(calls[0]?.path).toBe("/v1/responses")
    expect(calls[0]?.body).toBe(raw.replace(`"model":"writer"`, `"model":"${UPSTREAM_MODEL}"`))
    expect(calls[0]?.headers.get("authorization")).toBe(`Bearer ${OPENAI_KEY}`)

    const response = await sdk().responses.create(REQUEST)
    expect(response.id).toBe("resp_abc123")
    expect(response.output_text).toBe("Hello there!")
    expect(response.usage).toEqual(USAGE)
    expect(JSON.parse(calls[1]?.body ?? "{}")).toEqual({ ...REQUEST, model: UPSTREAM_MODEL })
  })

  it("a stream: the upstream's events reach the client byte for byte, as they were sent", async () => {
    calls.length = 0
    const res = await fetch(`${gateway?.baseUrl}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ ...REQUEST, stream: true })
    })
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/)
    expect(await res.text()).toBe(SSE_TEXT)
    expect(JSON.parse(calls[0]?.body ?? "{}")).toEqual({ ...REQUEST, model: UPSTREAM_MODEL, stream: true })

    const events: Array<unknown> = []
    for await (const event of await sdk().responses.create({ ...REQUEST, stream: true })) events.push(event)
    expect(events).toEqual(EVENTS)
  })

  /** The usage record of `requestId` in the gateway's SQLite store, once the owner has written it. */
  const recordOf = async (requestId: string): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + 10_000
    for (;;) {
      try {
        const db = new DatabaseSync(`${gateway?.configPath}.usage.sqlite`, { readOnly: true })
        try {
          const row = db.prepare("select * from usage where request_id = ?").get(requestId)
          if (row !== undefined) return row as Record<string, unknown>
        } finally {
          db.close()
        }
      } catch {
        // Not created yet.
      }
      if (Date.now() > deadline) throw new Error(`no usage record for ${requestId} within 10 s`)
      await sleep(100)
    }
  }

  it("a stream is measured from its terminal event: the record has the upstream's tokens and the key's token limit settles to them", async () => {
    const streamed = async (requestId: string) => {
      const res = await fetch(`${gateway?.baseUrl}/v1/responses`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${LIMITED.key}`,
          "content-type": "application/json",
          "x-request-id": requestId
        },
        body: JSON.stringify({ ...REQUEST, stream: true })
      })
      expect(res.status).toBe(200)
      // Measuring changes no byte.
      expect(await res.text()).toBe(SSE_TEXT)
      return Number(res.headers.get("x-ratelimit-remaining-tokens"))
    }
    const first = `resp-usage-1-${runtime}-${Date.now()}`
    const remainingFirst = await streamed(first)
    expect(remainingFirst).toBeLessThan(TOKENS_PER_MINUTE)
    const row = await recordOf(first)
    expect(row).toMatchObject({
      key_id: "key_limited",
      endpoint: "responses",
      model: "writer",
      provider: "oai",
      upstream_model: UPSTREAM_MODEL,
      input_tokens: USAGE.input_tokens,
      cache_read_tokens: 0,
      reasoning_tokens: 0,
      output_tokens: USAGE.output_tokens,
      estimated: 0,
      status: 200,
      outcome: "ok",
      stream: 1
    })
    expect(row["cost_usd"]).toBeCloseTo((USAGE.total_tokens * PRICE) / 1e6, 12)
    // The first stream's reservation was settled to its 17 tokens (before its record was written):
    // the same request reserves the same again, so the limit left moved by exactly those.
    const remainingSecond = await streamed(`resp-usage-2-${runtime}-${Date.now()}`)
    expect(remainingFirst - remainingSecond).toBe(USAGE.total_tokens)
  })

  it("responses.stream: the SDK accumulates the upstream's events into its final response", async () => {
    const stream = sdk().responses.stream(REQUEST)
    const deltas: Array<string> = []
    stream.on("response.output_text.delta", (event) => deltas.push(event.delta))
    const final = await stream.finalResponse()
    expect(deltas).toEqual(["Hello", " there!"])
    expect(final.id).toBe("resp_abc123")
    expect(final.output_text).toBe("Hello there!")
  })

  it("retrieve, cancel, input items, delete: to the provider the route for /v1/responses names", async () => {
    calls.length = 0
    expect(await sdk().responses.retrieve("resp_abc123")).toMatchObject({ id: "resp_abc123", status: "completed" })
    expect(await sdk().responses.cancel("resp_abc123")).toMatchObject({ id: "resp_abc123", status: "cancelled" })
    const items = await sdk().responses.inputItems.list("resp_abc123", { limit: 5 })
    expect(items.data.map((item) => item.id)).toEqual(["msg_in1"])
    await sdk().responses.delete("resp_abc123")
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /v1/responses/resp_abc123",
      "POST /v1/responses/resp_abc123/cancel",
      "GET /v1/responses/resp_abc123/input_items",
      "DELETE /v1/responses/resp_abc123"
    ])
    expect(new URLSearchParams(calls[2]?.search).get("limit")).toBe("5")
    expect(calls[0]?.headers.get("authorization")).toBe(`Bearer ${OPENAI_KEY}`)
    // The upstream's 404 is relayed; a path that is not one id (and maybe an action) is the gateway's 404.
    expect((await client.get("/v1/responses/resp_nope")).status).toBe(404)
    expect((await client.get("/v1/responses/..%2F..%2Fadmin")).status).toBe(404)
    expect((await client.get("/v1/responses/resp_abc123/other")).status).toBe(404)
    expect((await client.request("PATCH", "/v1/responses/resp_abc123")).status).toBe(405)
  })

  it("a model with a target of another kind (here a fallback) is translated over chat, as before", async () => {
    calls.length = 0
    const response = await sdk().responses.create({ model: "mixed", input: "Hi" })
    expect(response.object).toBe("response")
    expect(response).toMatchObject({ store: false })
    expect(response.output_text).toBe("Translated.")
    expect(calls.map((c) => c.path)).toEqual(["/v1/chat/completions"])
    // A stateful field is the translation's 400 there.
    const refused = await client.post("/v1/responses", { model: "mocked", input: "Hi", previous_response_id: "r" })
    expect(refused.status).toBe(400)
  })
})
