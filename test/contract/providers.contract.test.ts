// Provider kinds behind one public model: an `openai`, an `azure` and an `anthropic` provider, each
// mocked (MSW handlers over a real port) from its published API reference, serve the official OpenAI
// SDK the same completions, streams and tool calls whichever the balancer picks (also through the
// Responses API, `POST /v1/responses`), and the official Claude SDK the same messages through
// `POST /v1/messages`. The Azure mock
// checks the deployment URL, `api-version` and the `api-key` header; the Anthropic mock checks the
// translated Messages request and the `x-api-key` and `anthropic-version` headers, sends its event
// streams cut into 5-byte pieces (every event split mid-JSON) and answers errors in its own shape.
import Anthropic, { AuthenticationError, NotFoundError, RateLimitError } from "@anthropic-ai/sdk"
import { http, HttpResponse, type RequestHandler } from "msw"
import OpenAI, { APIError } from "openai"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanupTempDirs, freePort, launchGateway, type GatewayProcess } from "./gateway.ts"
import { expectOpenAIError, httpClient, MASTER_KEY, runtime } from "./harness.ts"
import { startUpstream, type Upstream } from "./upstream/server.ts"

const ANTHROPIC_KEY = "sk-ant-contract-0123456789abcdef"
const AZURE_KEY = "azure-contract-key-0123456789"
const OPENAI_KEY = "sk-openai-contract-0123456789"
const API_VERSION = "2024-10-21"
const TEXT = "Hello from the trio."
const WEATHER_ARGS = { city: "Paris", unit: "celsius" }
const enc = new TextEncoder()

interface Seen {
  readonly kind: "openai" | "azure" | "anthropic"
  readonly path: string
  readonly search: string
  readonly headers: Headers
  readonly body: Record<string, unknown>
}

const seen: Array<Seen> = []

/** An SSE body sent in `size`-byte pieces, so every event is split at awkward places. */
const pieces = (text: string, size: number, contentType = "text/event-stream"): Response => {
  const bytes = enc.encode(text)
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size))
      controller.close()
    }
  })
  return new HttpResponse(body, { status: 200, headers: { "content-type": contentType } })
}

const TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The weather in a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, unit: { type: "string" } },
      required: ["city"]
    }
  }
} as const

// ---- OpenAI-shaped upstreams (openai and azure kinds) ----------------------------------------------

const openAIAnswer = (tool: boolean) => ({
  id: "chatcmpl-trio",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "upstream",
  choices: [
    {
      index: 0,
      message: tool
        ? {
            role: "assistant",
            content: null,
            tool_calls: [
              {
                id: "call_1",
                type: "function",
                function: { name: "get_weather", arguments: JSON.stringify(WEATHER_ARGS) }
              }
            ]
          }
        : { role: "assistant", content: TEXT },
      finish_reason: tool ? "tool_calls" : "stop"
    }
  ],
  usage: { prompt_tokens: 16, completion_tokens: 5, total_tokens: 21 }
})

const openAIStream = (tool: boolean, usage: boolean): string => {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: "chatcmpl-trio", object: "chat.completion.chunk", created: 1_700_000_000, model: "upstream", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
  const parts = [chunk({ role: "assistant", content: "" })]
  if (tool) {
    parts.push(
      chunk({
        tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }]
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city": "Pa' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'ris", "unit": "celsius"}' } }] }),
      chunk({}, "tool_calls")
    )
  } else parts.push(chunk({ content: "Hello from " }), chunk({ content: "the trio." }), chunk({}, "stop"))
  if (usage)
    parts.push(
      `data: ${JSON.stringify({ id: "chatcmpl-trio", object: "chat.completion.chunk", created: 1_700_000_000, model: "upstream", choices: [], usage: { prompt_tokens: 16, completion_tokens: 5, total_tokens: 21 } })}\n\n`
    )
  return `${parts.join("")}data: [DONE]\n\n`
}

const openAIReply = async (kind: "openai" | "azure", request: Request): Promise<Response> => {
  const url = new URL(request.url)
  const body = (await request.json()) as Record<string, unknown>
  seen.push({ kind, path: url.pathname, search: url.search, headers: request.headers, body })
  const tool = Array.isArray(body["tools"])
  if (body["stream"] === true) {
    const options = body["stream_options"] as { include_usage?: boolean } | undefined
    return pieces(openAIStream(tool, options?.include_usage === true), 64)
  }
  return HttpResponse.json(openAIAnswer(tool))
}

// ---- Anthropic Messages ------------------------------------------------------------------------------

const anthropicUsage = {
  input_tokens: 10,
  cache_read_input_tokens: 4,
  cache_creation_input_tokens: 2,
  output_tokens: 5
}

const anthropicMessage = (model: string, tool: boolean) => ({
  id: "msg_01Trio",
  type: "message",
  role: "assistant",
  model,
  content: tool
    ? [{ type: "tool_use", id: "toolu_01", name: "get_weather", input: WEATHER_ARGS }]
    : [{ type: "text", text: TEXT }],
  stop_reason: tool ? "tool_use" : "end_turn",
  stop_sequence: null,
  usage: anthropicUsage
})

const event = (type: string, data: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`

const anthropicStream = (model: string, tool: boolean): string =>
  [
    event("message_start", {
      message: {
        id: "msg_01Trio",
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 10, cache_read_input_tokens: 4, cache_creation_input_tokens: 2, output_tokens: 1 }
      }
    }),
    event("ping", {}),
    ...(tool
      ? [
          event("content_block_start", {
            index: 0,
            content_block: { type: "tool_use", id: "toolu_01", name: "get_weather", input: {} }
          }),
          event("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: "" } }),
          event("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: '{"city": "Pa' } }),
          event("content_block_delta", {
            index: 0,
            delta: { type: "input_json_delta", partial_json: 'ris", "unit": "celsius"}' }
          }),
          event("content_block_stop", { index: 0 })
        ]
      : [
          event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
          event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Hello from " } }),
          event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "the trio." } }),
          event("content_block_stop", { index: 0 })
        ]),
    event("message_delta", {
      delta: { stop_reason: tool ? "tool_use" : "end_turn", stop_sequence: null },
      usage: { output_tokens: 5 }
    }),
    event("message_stop", {})
  ].join("")

const anthropicError = (status: number, type: string, message: string, headers: Record<string, string> = {}) =>
  HttpResponse.json({ type: "error", error: { type, message } }, { status, headers })

const handlers = (): Array<RequestHandler> => [
  http.post("*/openai/deployments/:deployment/chat/completions", ({ request }) => openAIReply("azure", request)),
  http.post("*/v1/chat/completions", ({ request }) => openAIReply("openai", request)),
  http.post("*/v1/messages", async ({ request }) => {
    const url = new URL(request.url)
    const body = (await request.json()) as Record<string, unknown>
    seen.push({ kind: "anthropic", path: url.pathname, search: url.search, headers: request.headers, body })
    const model = String(body["model"])
    if (model === "claude-busy") return anthropicError(529, "overloaded_error", "Overloaded")
    if (model === "claude-limited")
      return anthropicError(
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit",
        {
          "retry-after": "7"
        }
      )
    const tool = Array.isArray(body["tools"])
    return body["stream"] === true
      ? pieces(anthropicStream(model, tool), 5)
      : HttpResponse.json(anthropicMessage(model, tool))
  })
]

describe(`[${runtime}] provider kinds: openai, azure and anthropic behind one model`, () => {
  let upstream: Upstream | undefined
  let gateway: GatewayProcess | undefined
  const bodies: Array<string> = []
  const client = httpClient(() => gateway?.baseUrl ?? "", bodies)
  const sdk = () =>
    new OpenAI({ baseURL: `${gateway?.baseUrl}/v1`, apiKey: MASTER_KEY, maxRetries: 0, timeout: 10_000 })

  beforeAll(async () => {
    upstream = await startUpstream(handlers)
    const port = await freePort()
    const base = upstream.baseUrl.replace(/\/v1$/, "")
    gateway = await launchGateway({
      runtime,
      port,
      config: {
        server: { host: "127.0.0.1", port },
        master_key: MASTER_KEY,
        providers: [
          { name: "oai", kind: "openai", base_url: `${base}/v1`, api_key: OPENAI_KEY },
          { name: "az", kind: "azure", base_url: base, api_version: API_VERSION, api_key: AZURE_KEY },
          { name: "claude", kind: "anthropic", base_url: base, api_key: ANTHROPIC_KEY }
        ],
        models: [
          {
            name: "trio",
            strategy: "round_robin",
            targets: [
              { provider: "oai", model: "gpt-4o-mini" },
              { provider: "az", model: "dep-4o-mini" },
              { provider: "claude", model: "claude-3-5-haiku-latest" }
            ]
          },
          { name: "via-azure", targets: [{ provider: "az", model: "dep-4o-mini" }] },
          { name: "via-claude", targets: [{ provider: "claude", model: "claude-3-5-haiku-latest" }] },
          { name: "claude-busy", targets: [{ provider: "claude" }], retry: { attempts: 0 } },
          { name: "claude-limited", targets: [{ provider: "claude" }], retry: { attempts: 0 } }
        ]
      }
    })
  })

  afterAll(async () => {
    await gateway?.stop("SIGTERM", 10_000)
    await upstream?.close()
    cleanupTempDirs()
  })

  const messages = [
    { role: "system" as const, content: "You are terse." },
    { role: "user" as const, content: "Say hello." }
  ]

  it("azure: the deployment URL with api-version, the key in api-key and never as a bearer", async () => {
    seen.length = 0
    const c = await sdk().chat.completions.create({ model: "via-azure", messages })
    expect(c.choices[0]?.message.content).toBe(TEXT)
    const call = seen.find((s) => s.kind === "azure")
    expect(call?.path).toBe("/openai/deployments/dep-4o-mini/chat/completions")
    expect(new URLSearchParams(call?.search).get("api-version")).toBe(API_VERSION)
    expect(call?.headers.get("api-key")).toBe(AZURE_KEY)
    expect(call?.headers.get("authorization")).toBeNull()
  })

  it("anthropic: the OpenAI request arrives as a Messages request with its headers", async () => {
    seen.length = 0
    const c = await sdk().chat.completions.create({ model: "via-claude", messages, stop: ["\n\n"], temperature: 0.5 })
    expect(c.object).toBe("chat.completion")
    expect(c.choices[0]?.message.content).toBe(TEXT)
    expect(c.choices[0]?.finish_reason).toBe("stop")
    // Anthropic counts cache reads and writes apart from input_tokens; OpenAI's prompt_tokens include them.
    expect(c.usage?.prompt_tokens).toBe(16)
    expect(c.usage?.completion_tokens).toBe(5)
    expect(c.usage?.total_tokens).toBe(21)
    expect(c.usage?.prompt_tokens_details?.cached_tokens).toBe(4)
    const call = seen.find((s) => s.kind === "anthropic")
    expect(call?.path).toBe("/v1/messages")
    expect(call?.headers.get("x-api-key")).toBe(ANTHROPIC_KEY)
    expect(call?.headers.get("anthropic-version")).toBe("2023-06-01")
    expect(call?.headers.get("authorization")).toBeNull()
    expect(call?.body).toMatchObject({
      model: "claude-3-5-haiku-latest",
      system: "You are terse.",
      messages: [{ role: "user", content: "Say hello." }],
      max_tokens: 4096,
      stop_sequences: ["\n\n"],
      temperature: 0.5
    })
  })

  /** What an SDK user sees of a completion or a stream: the content, the tool calls, the finish reason. */
  const outcome = async (tools: boolean, stream: boolean) => {
    const params = {
      model: "trio",
      messages,
      ...(tools ? { tools: [TOOL], tool_choice: "auto" as const } : {})
    }
    if (!stream) {
      const c = await sdk().chat.completions.create(params)
      const m = c.choices[0]?.message
      return {
        content: m?.content ?? null,
        tools: (m?.tool_calls ?? []).map((t) =>
          t.type === "function" ? [t.function.name, JSON.parse(t.function.arguments)] : []
        ),
        finish: c.choices[0]?.finish_reason
      }
    }
    const s = await sdk().chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } })
    let content = ""
    let finish: string | null | undefined
    let usage: number | undefined
    const args = new Map<number, { name: string; args: string }>()
    for await (const chunk of s) {
      const choice = chunk.choices[0]
      content += choice?.delta.content ?? ""
      for (const t of choice?.delta.tool_calls ?? []) {
        const entry = args.get(t.index) ?? { name: "", args: "" }
        entry.name += t.function?.name ?? ""
        entry.args += t.function?.arguments ?? ""
        args.set(t.index, entry)
      }
      finish = choice?.finish_reason ?? finish
      if (chunk.usage) usage = chunk.usage.total_tokens
    }
    expect(usage, "the usage chunk the client asked for").toBe(21)
    return {
      content: content === "" ? null : content,
      tools: [...args.values()].map((t) => [t.name, JSON.parse(t.args)]),
      finish
    }
  }

  for (const [label, tools, stream] of [
    ["JSON", false, false],
    ["stream", false, true],
    ["tool call, JSON", true, false],
    ["tool call, streamed", true, true]
  ] as const) {
    it(`the same ${label} answer whichever provider serves`, async () => {
      seen.length = 0
      const answers = []
      for (let i = 0; i < 6; i++) answers.push(await outcome(tools, stream))
      expect(new Set(seen.map((s) => s.kind)), "every kind served").toEqual(new Set(["openai", "azure", "anthropic"]))
      const expected = tools
        ? { content: null, tools: [["get_weather", WEATHER_ARGS]], finish: "tool_calls" }
        : { content: TEXT, tools: [], finish: "stop" }
      for (const a of answers) expect(a).toEqual(expected)
      if (tools) {
        const sent = seen.find((s) => s.kind === "anthropic")?.body
        expect(sent?.["tools"]).toEqual([
          { name: "get_weather", description: "The weather in a city", input_schema: TOOL.function.parameters }
        ])
        expect(sent?.["tool_choice"]).toEqual({ type: "auto" })
      }
    })
  }

  it("anthropic: a tool result turn goes back as a tool_result block", async () => {
    seen.length = 0
    const c = await sdk().chat.completions.create({
      model: "via-claude",
      tools: [TOOL],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "toolu_01",
              type: "function",
              function: { name: "get_weather", arguments: JSON.stringify(WEATHER_ARGS) }
            }
          ]
        },
        { role: "tool", tool_call_id: "toolu_01", content: "18 °C, clear" }
      ]
    })
    expect(c.choices[0]?.finish_reason).toBe("tool_calls")
    const sent = seen.find((s) => s.kind === "anthropic")?.body
    expect(sent?.["messages"]).toEqual([
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_01", name: "get_weather", input: WEATHER_ARGS }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01", content: "18 °C, clear" }] }
    ])
  })

  it("anthropic errors in OpenAI's shape: 429 keeps its Retry-After, 529 overloaded is a 503", async () => {
    const limited = await client.post("/v1/chat/completions", { model: "claude-limited", messages })
    const body = expectOpenAIError(limited, 429)
    expect(body.error.message).toContain("rate limit")
    expect(limited.headers.get("retry-after")).toBe("7")
    const busy = await client.post("/v1/chat/completions", { model: "claude-busy", messages })
    expectOpenAIError(busy, 503)
    await expect(sdk().chat.completions.create({ model: "claude-busy", messages })).rejects.toBeInstanceOf(APIError)
  })

  describe("the Claude SDK through POST /v1/messages", () => {
    const claude = (apiKey = MASTER_KEY) =>
      new Anthropic({ baseURL: gateway?.baseUrl ?? "", apiKey, maxRetries: 0, timeout: 10_000 })
    const params = (tools: boolean) => ({
      model: "trio",
      max_tokens: 256,
      system: "You are terse.",
      messages: [{ role: "user" as const, content: "Say hello." }],
      ...(tools
        ? {
            tools: [
              {
                name: "get_weather",
                description: "The weather in a city",
                input_schema: TOOL.function.parameters as unknown as Anthropic.Tool.InputSchema
              }
            ]
          }
        : {})
    })
    /** What a Claude SDK user sees of a message: its blocks (text, tool uses) and its stop reason. */
    const seenOf = (m: Anthropic.Message) => ({
      blocks: m.content.map((b) =>
        b.type === "text" ? ["text", b.text] : b.type === "tool_use" ? ["tool_use", b.name, b.input] : [b.type]
      ),
      stop: m.stop_reason,
      model: m.model
    })

    for (const [label, tools, stream] of [
      ["message", false, false],
      ["streamed message", false, true],
      ["tool use", true, false],
      ["streamed tool use", true, true]
    ] as const) {
      it(`the same ${label} whichever provider serves`, async () => {
        seen.length = 0
        const answers = []
        for (let i = 0; i < 6; i++) {
          if (!stream) answers.push(seenOf(await claude().messages.create(params(tools))))
          else {
            const events: Array<string> = []
            const s = claude().messages.stream(params(tools))
            s.on("streamEvent", (e) => events.push(e.type))
            const final = await s.finalMessage()
            expect(events[0]).toBe("message_start")
            expect(events.at(-1)).toBe("message_stop")
            expect(final.usage.output_tokens).toBe(5)
            answers.push(seenOf(final))
          }
        }
        expect(new Set(seen.map((s) => s.kind)), "every kind served").toEqual(new Set(["openai", "azure", "anthropic"]))
        const expected = tools
          ? { blocks: [["tool_use", "get_weather", WEATHER_ARGS]], stop: "tool_use", model: "trio" }
          : { blocks: [["text", TEXT]], stop: "end_turn", model: "trio" }
        for (const a of answers) expect(a).toEqual(expected)
        // What reached an OpenAI-shaped upstream: the system prompt first, the tool as a function.
        const sent = seen.find((s) => s.kind === "openai")?.body
        expect(sent?.["messages"]).toEqual([
          { role: "system", content: "You are terse." },
          { role: "user", content: "Say hello." }
        ])
        expect(sent?.["max_tokens"]).toBe(256)
      })
    }

    it("usage in Anthropic's terms: cache reads and writes apart from input_tokens", async () => {
      const m = await claude().messages.create({ ...params(false), model: "via-claude" })
      expect(m.usage).toMatchObject({
        input_tokens: 10,
        cache_read_input_tokens: 4,
        cache_creation_input_tokens: 2,
        output_tokens: 5
      })
    })

    it("errors in Anthropic's shape: a wrong key, an unknown model, a rate limit with Retry-After", async () => {
      await expect(claude("sk-wrong-key-000").messages.create(params(false))).rejects.toBeInstanceOf(
        AuthenticationError
      )
      const unknown = await claude()
        .messages.create({ ...params(false), model: "no-such-model" })
        .catch((e: unknown) => e)
      expect(unknown).toBeInstanceOf(NotFoundError)
      expect((unknown as NotFoundError).error).toMatchObject({ type: "error", error: { type: "not_found_error" } })
      const limited = await claude()
        .messages.create({ ...params(false), model: "claude-limited" })
        .catch((e: unknown) => e)
      expect(limited).toBeInstanceOf(RateLimitError)
      expect((limited as RateLimitError).headers?.get("retry-after")).toBe("7")
      const raw = await client.post(
        "/v1/messages",
        { model: "trio", messages: [{ role: "user", content: "hi" }] },
        { key: null, headers: { "x-api-key": MASTER_KEY } }
      )
      expect(raw.status).toBe(400)
      expect(raw.json()).toEqual({
        type: "error",
        error: { type: "invalid_request_error", message: expect.stringContaining("max_tokens") }
      })
    })
  })

  describe("the OpenAI SDK's Responses API through POST /v1/responses", () => {
    const params = (tools: boolean) => ({
      model: "trio",
      instructions: "You are terse.",
      input: "Say hello.",
      ...(tools
        ? {
            tools: [
              {
                type: "function" as const,
                name: "get_weather",
                description: "The weather in a city",
                parameters: TOOL.function.parameters as unknown as Record<string, unknown>,
                strict: false
              }
            ]
          }
        : {})
    })
    /** What a Responses user sees: the text, the function calls, the status and the usage's total. */
    const seenOf = (r: OpenAI.Responses.Response) => ({
      text: r.output_text,
      calls: r.output.flatMap((item) =>
        item.type === "function_call" ? [[item.name, JSON.parse(item.arguments)]] : []
      ),
      status: r.status,
      total: r.usage?.total_tokens
    })

    for (const [label, tools, stream] of [
      ["response", false, false],
      ["streamed response", false, true],
      ["function call", true, false],
      ["streamed function call", true, true]
    ] as const) {
      it(`the same ${label} whichever provider serves`, async () => {
        seen.length = 0
        const answers = []
        for (let i = 0; i < 6; i++) {
          if (!stream) answers.push(seenOf(await sdk().responses.create(params(tools))))
          else {
            const s = sdk().responses.stream(params(tools))
            const types: Array<string> = []
            s.on("event", (e) => types.push(e.type))
            const final = await s.finalResponse()
            expect(types[0]).toBe("response.created")
            expect(types.at(-1)).toBe("response.completed")
            answers.push(seenOf(final))
          }
        }
        expect(new Set(seen.map((s) => s.kind)), "every kind served").toEqual(new Set(["openai", "azure", "anthropic"]))
        const expected = tools
          ? { text: "", calls: [["get_weather", WEATHER_ARGS]], status: "completed", total: 21 }
          : { text: TEXT, calls: [], status: "completed", total: 21 }
        for (const a of answers) expect(a).toEqual(expected)
        const sent = seen.find((s) => s.kind === "openai")?.body
        expect(sent?.["messages"]).toEqual([
          { role: "system", content: "You are terse." },
          { role: "user", content: "Say hello." }
        ])
      })
    }

    it("what needs the provider's stored state is a 400 naming the field", async () => {
      const res = await client.post("/v1/responses", { model: "trio", input: "hi", previous_response_id: "resp_1" })
      expectOpenAIError(res, 400, { param: "previous_response_id" })
      const tool = await client.post("/v1/responses", { model: "trio", input: "hi", tools: [{ type: "web_search" }] })
      expectOpenAIError(tool, 400, { param: "tools[0]" })
    })
  })

  it("what Messages cannot express is a 400 naming the field; other endpoints are refused by name", async () => {
    const n = await client.post("/v1/chat/completions", { model: "via-claude", messages, n: 2 })
    expectOpenAIError(n, 400, { param: "n" })
    const hot = await client.post("/v1/chat/completions", { model: "via-claude", messages, temperature: 1.5 })
    expectOpenAIError(hot, 400, { param: "temperature" })
    const embed = await client.post("/v1/embeddings", { model: "via-claude", input: "x" })
    const refused = expectOpenAIError(embed, 400)
    expect(refused.error.message).toContain("kind anthropic")
  })
})
