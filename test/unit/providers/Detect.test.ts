// Provider detection: the model lists of each kind parsed, the listing requests, what a probe's answer
// means, and whole detections through real providers (built by the registry) over a fetch upstream
// client whose `fetch` is a function of this file, so every kind's own translation is exercised. The
// time limit runs on the TestClock. Against a real upstream under every runtime: detect.contract.test.ts.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Result } from "effect"
import { TestClock } from "effect/testing"
import { expect } from "vitest"
import type { ResolvedConfig, ResolvedProvider } from "../../../src/config/Config.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { describe as describeReason, type GatewayError } from "../../../src/domain/GatewayError.ts"
import {
  classifyStatus,
  detect,
  type DetectOptions,
  listingRequests,
  parseModelList,
  probeBody
} from "../../../src/providers/Detect.ts"
import type { Provider } from "../../../src/providers/Provider.ts"
import { makeProviders } from "../../../src/providers/Registry.ts"
import { fetchClient, UpstreamClients } from "../../../src/providers/UpstreamClients.ts"

/** The fetch the upstream client of this file's providers calls, for their probes and their model lists alike. */
type Fetch = (input: string, init: RequestInit) => Promise<Response>

const configOf = (providers: string): ResolvedConfig => {
  const r = parseConfig(`providers:\n${providers}\nmodels: []`, {}, "test.yaml")
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

const resolved = (entry: string): ResolvedProvider => {
  const p = [...configOf(`  - ${entry}`).providers.values()][0]
  if (p === undefined) throw new Error("no provider")
  return p
}

describe("parseModelList", () => {
  it("reads OpenAI's, Azure's and Anthropic's lists: ids in order, once each, has_more", () => {
    assert.deepStrictEqual(
      parseModelList({ object: "list", data: [{ id: "a", object: "model" }, { id: "b" }, { id: "a" }] }),
      { ids: ["a", "b"], hasMore: false }
    )
    assert.deepStrictEqual(
      parseModelList({ data: [{ id: "claude-x", display_name: "Claude X" }], has_more: true, last_id: "claude-x" }),
      { ids: ["claude-x"], hasMore: true }
    )
    // Entries without a string id are skipped; an empty list is a list.
    assert.deepStrictEqual(parseModelList({ data: [{ name: "x" }, { id: 3 }, null, { id: "" }, { id: "y" }] }), {
      ids: ["y"],
      hasMore: false
    })
    assert.deepStrictEqual(parseModelList({ data: [] }), { ids: [], hasMore: false })
  })

  it("anything else is not a model list", () => {
    for (const body of [null, [], "x", {}, { data: {} }, { models: [{ id: "a" }] }])
      assert.strictEqual(parseModelList(body), undefined)
  })
})

describe("listingRequests", () => {
  it("openai: GET {base}/models with the key as a bearer", () => {
    const [r, ...rest] = listingRequests(resolved('{ name: o, kind: openai, base_url: "http://u/v1/", api_key: k }'))
    assert.strictEqual(rest.length, 0)
    assert.strictEqual(r?.url(undefined), "http://u/v1/models")
    expect(r?.headers).toMatchObject({ authorization: "Bearer k", accept: "application/json" })
    expect(r?.headers["content-type"]).toBeUndefined()
  })

  it("azure: the deployments, then the models, with api-version and the api-key header", () => {
    const requests = listingRequests(
      resolved(
        '{ name: a, kind: azure, base_url: "https://r.openai.azure.com", api_version: "2024-10-21", api_key: k }'
      )
    )
    assert.deepStrictEqual(
      requests.map((r) => r.url(undefined)),
      [
        "https://r.openai.azure.com/openai/deployments?api-version=2024-10-21",
        "https://r.openai.azure.com/openai/models?api-version=2024-10-21"
      ]
    )
    expect(requests[0]?.headers).toMatchObject({ "api-key": "k" })
    expect(requests[0]?.headers["authorization"]).toBeUndefined()
  })

  it("anthropic: GET {base}/v1/models a page at a time, with x-api-key and anthropic-version", () => {
    const [r] = listingRequests(resolved("{ name: c, kind: anthropic, api_key: k }"))
    assert.strictEqual(r?.paginated, true)
    assert.strictEqual(r?.url(undefined), "https://api.anthropic.com/v1/models?limit=1000")
    assert.strictEqual(r?.url("claude x"), "https://api.anthropic.com/v1/models?limit=1000&after_id=claude%20x")
    expect(r?.headers).toMatchObject({ "x-api-key": "k", "anthropic-version": "2023-06-01" })
  })

  it("mock: none", () => {
    assert.deepStrictEqual(listingRequests(resolved("{ name: m, kind: mock }")), [])
  })
})

describe("classifyStatus", () => {
  it("2xx yes, 401 refused, other 4xx no, 403/408/429/5xx unknown", () => {
    const tags = (statuses: ReadonlyArray<number>) => statuses.map((s) => classifyStatus(s, "")._tag)
    assert.deepStrictEqual(tags([200, 201]), ["Yes", "Yes"])
    assert.deepStrictEqual(tags([401]), ["Refused"])
    assert.deepStrictEqual(tags([400, 404, 405, 415, 422]), ["No", "No", "No", "No", "No"])
    assert.deepStrictEqual(tags([403, 408, 429, 500, 503, 302]), [
      "Unknown",
      "Unknown",
      "Unknown",
      "Unknown",
      "Unknown",
      "Unknown"
    ])
    assert.deepStrictEqual(classifyStatus(400, ": tools are not supported"), {
      _tag: "No",
      message: "answered 400: tools are not supported"
    })
  })
})

describe("probeBody", () => {
  it("one user message and one token; a stream; one tiny tool; an embedding of ping", () => {
    const messages = [{ role: "user", content: "ping" }]
    assert.deepStrictEqual(probeBody("chat", "m", "max_tokens"), { model: "m", messages, max_tokens: 1 })
    assert.deepStrictEqual(probeBody("streaming", "m", "max_completion_tokens"), {
      model: "m",
      messages,
      max_completion_tokens: 1,
      stream: true
    })
    assert.deepStrictEqual(probeBody("tools", "m", "max_tokens"), {
      model: "m",
      messages,
      max_tokens: 1,
      tools: [
        {
          type: "function",
          function: { name: "ping", description: "Answers pong.", parameters: { type: "object", properties: {} } }
        }
      ]
    })
    assert.deepStrictEqual(probeBody("embeddings", "m", "max_tokens"), { model: "m", input: "ping" })
  })
})

// ---- whole detections over a fake upstream ------------------------------------------------------------

type Route = (request: { method: string; path: string; body: Record<string, unknown> }) => Response | undefined

const json = (value: unknown, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } })
const sse = (text: string) => new Response(text, { status: 200, headers: { "content-type": "text/event-stream" } })
const error = (status: number, message: string) =>
  json({ error: { message, type: "x", param: null, code: null } }, status)
const chunk = `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { role: "assistant", content: "p" }, finish_reason: null }] })}\n\n`
const completion = { id: "c", object: "chat.completion", created: 1, model: "m", choices: [] }

/** A `fetch` answering from `route`; a request nobody routes never answers (it waits for its abort). */
const fakeFetch =
  (route: Route, calls: Array<string> = []): Fetch =>
  async (input, init) => {
    const url = new URL(String(input))
    const text = init?.body === undefined || init.body === null ? "" : new TextDecoder().decode(init.body as Uint8Array)
    const method = init?.method ?? "GET"
    const body = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>)
    calls.push(
      `${method} ${url.pathname}${url.search}${body["model"] === undefined ? "" : ` ${String(body["model"])}`}`
    )
    const answer = route({ method, path: url.pathname, body })
    if (answer !== undefined) return answer
    return new Promise<Response>((_, reject) =>
      init?.signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true })
    )
  }

/** Upstream clients that all call `fetchFn`. */
const clientsOf = (fetchFn: Fetch) => {
  const client = fetchClient(fetchFn as unknown as typeof globalThis.fetch)
  return UpstreamClients.of({
    get: () => Effect.succeed(client),
    retain: () => Effect.void,
    decodesBodies: true,
    enforcesConnectTimeout: false
  })
}

const providerOf = (entry: string, fetchFn: Fetch): Effect.Effect<Provider> =>
  makeProviders(configOf(`  - ${entry}`)).pipe(
    Effect.map((providers) => [...providers.values()][0] as Provider),
    Effect.provideService(UpstreamClients, clientsOf(fetchFn))
  )

const OPENAI = '{ name: oai, kind: openai, base_url: "http://up/v1", api_key: k }'

/** `provider` detected over upstream clients that call `fetchFn` (the model list included). */
const detectOver = (fetchFn: Fetch, provider: Provider, more: Partial<DetectOptions> = {}) =>
  detect(provider, {
    probe: 3,
    timeoutMs: 10_000,
    bounds: { upstreamBodyLimit: 1 << 20, sseLineLimit: 1 << 16 },
    ...more
  }).pipe(Effect.provideService(UpstreamClients, clientsOf(fetchFn)))

/** OpenAI-compatible models, each failing its own way. */
const openAIRoute: Route = ({ method, path, body }) => {
  const model = String(body["model"])
  if (method === "GET" && path === "/v1/models")
    return json({
      data: ["full", "reasoner", "embed", "json", "eventless", "broken", "limited", "denied"].map((id) => ({ id }))
    })
  if (path === "/v1/embeddings") return model === "embed" ? json({ data: [] }) : error(404, "no embeddings")
  if (path !== "/v1/chat/completions") return undefined
  const stream = body["stream"] === true
  switch (model) {
    case "embed":
      return error(404, "This is not a chat model.")
    case "reasoner":
      if ("max_tokens" in body)
        return error(400, "Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens' instead.")
      break
    case "json":
      return json(completion)
    case "eventless":
      if (stream) return sse("data: [DONE]\n\n")
      break
    case "broken":
      if (stream) return sse(`data: {"error":{"message":"boom"}}\n\n`)
      break
    case "limited":
      return error(429, "slow down")
    case "denied":
      return error(403, "no access to this model")
  }
  if (Array.isArray(body["tools"]) && model !== "full") return error(400, "tools are not supported")
  return stream ? sse(`: keep-alive\n\n${chunk}data: [DONE]\n\n`) : json(completion)
}

describe("detect", () => {
  it.effect("lists the models and probes the first `probe` of them: yes, no, unknown with the reason", () =>
    Effect.gen(function* () {
      const calls: Array<string> = []
      const fetchFn = fakeFetch(openAIRoute, calls)
      const detection = yield* detectOver(fetchFn, yield* providerOf(OPENAI, fetchFn), { probe: 7 })
      const caps = (
        chat: boolean | null,
        streaming: boolean | null,
        tools: boolean | null,
        embeddings: boolean | null
      ) => ({
        chat,
        streaming,
        tools,
        embeddings
      })
      assert.deepStrictEqual(detection, {
        provider: "oai",
        models: [
          { id: "full", capabilities: caps(true, true, true, false) },
          { id: "reasoner", capabilities: caps(true, true, false, false) },
          { id: "embed", capabilities: caps(false, false, false, true) },
          { id: "json", capabilities: caps(true, false, true, false) },
          { id: "eventless", capabilities: caps(true, false, false, false) },
          { id: "broken", capabilities: caps(true, null, false, false) },
          { id: "limited", capabilities: caps(null, null, null, false) },
          { id: "denied", capabilities: null }
        ],
        probed: 7,
        errors: [
          {
            model: "broken",
            probe: "streaming",
            message: `the stream's first event is not a chunk: {"error":{"message":"boom"}}`
          },
          { model: "limited", probe: "chat", message: "answered 429: slow down" }
        ]
      })
      // The list is asked once; a model that did not chat gets neither a streaming nor a tools probe.
      assert.deepStrictEqual(
        calls.filter((c) => c.startsWith("GET")),
        ["GET /v1/models"]
      )
      assert.deepStrictEqual(calls.filter((c) => c.endsWith(" embed") || c.endsWith(" limited")).sort(), [
        "POST /v1/chat/completions embed",
        "POST /v1/chat/completions limited",
        "POST /v1/embeddings embed",
        "POST /v1/embeddings limited"
      ])
    })
  )

  it.effect("a 403 is unknown, not no: the key may only lack access", () =>
    Effect.gen(function* () {
      const fetchFn = fakeFetch(openAIRoute)
      const detection = yield* detectOver(fetchFn, yield* providerOf(OPENAI, fetchFn), { models: ["denied"] })
      assert.deepStrictEqual(detection.models[0]?.capabilities, {
        chat: null,
        streaming: null,
        tools: null,
        embeddings: false
      })
      assert.deepStrictEqual(detection.errors, [
        { model: "denied", probe: "chat", message: "answered 403: no access to this model" }
      ])
    })
  )

  it.effect("named models are probed without listing; probe 0 lists only", () =>
    Effect.gen(function* () {
      const calls: Array<string> = []
      const fetchFn = fakeFetch(openAIRoute, calls)
      const provider = yield* providerOf(OPENAI, fetchFn)
      const named = yield* detectOver(fetchFn, provider, { models: ["full", "full"], probe: 2 })
      assert.deepStrictEqual(
        named.models.map((m) => m.id),
        ["full"]
      )
      assert.strictEqual(named.probed, 1)
      assert.isFalse(calls.some((c) => c.startsWith("GET")))
      calls.length = 0
      const listed = yield* detectOver(fetchFn, provider, { probe: 0 })
      assert.strictEqual(listed.probed, 0)
      assert.isTrue(listed.models.every((m) => m.capabilities === null))
      assert.deepStrictEqual(calls, ["GET /v1/models"])
    })
  )

  it.effect("a list nobody answers leaves the models unknown, said in errors", () =>
    Effect.gen(function* () {
      const fetchFn = fakeFetch(({ method }) => (method === "GET" ? error(404, "no such route") : undefined))
      const detection = yield* detectOver(fetchFn, yield* providerOf(OPENAI, fetchFn))
      assert.deepStrictEqual(detection, {
        provider: "oai",
        models: [],
        probed: 0,
        errors: [
          {
            model: null,
            probe: "models",
            message:
              "the models could not be listed (GET http://up/v1/models answered 404: no such route): name the models to probe"
          }
        ]
      })
    })
  )

  it.effect("azure: the models when the deployments are not listed", () =>
    Effect.gen(function* () {
      const calls: Array<string> = []
      const fetchFn = fakeFetch(
        ({ path }) => (path.endsWith("/deployments") ? error(404, "not found") : json({ data: [{ id: "gpt-4o" }] })),
        calls
      )
      const provider = yield* providerOf(
        '{ name: az, kind: azure, base_url: "http://az", api_version: "2024-10-21", api_key: k }',
        fetchFn
      )
      const detection = yield* detectOver(fetchFn, provider, { probe: 0 })
      assert.deepStrictEqual(detection.models, [{ id: "gpt-4o", capabilities: null }])
      assert.deepStrictEqual(calls, [
        "GET /openai/deployments?api-version=2024-10-21",
        "GET /openai/models?api-version=2024-10-21"
      ])
    })
  )

  it.effect("anthropic: every page of the list; probes through Messages; embeddings no without asking", () =>
    Effect.gen(function* () {
      const calls: Array<string> = []
      const message = {
        id: "msg",
        type: "message",
        role: "assistant",
        model: "c",
        content: [{ type: "text", text: "p" }],
        stop_reason: "max_tokens",
        stop_sequence: null,
        usage: { input_tokens: 1, output_tokens: 1 }
      }
      const event = (type: string, data: Record<string, unknown>) =>
        `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
      const stream = [
        event("message_start", { message: { ...message, content: [], stop_reason: null } }),
        event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
        event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "p" } }),
        event("content_block_stop", { index: 0 }),
        event("message_delta", { delta: { stop_reason: "max_tokens" }, usage: { output_tokens: 1 } }),
        event("message_stop", {})
      ].join("")
      const fetchFn = fakeFetch(({ method, path, body }) => {
        if (method === "GET")
          return path.endsWith("/v1/models") && calls.length === 1
            ? json({ data: [{ id: "c-1" }], has_more: true, last_id: "c-1" })
            : json({ data: [{ id: "c-2" }], has_more: false, last_id: "c-2" })
        if (path !== "/v1/messages") return undefined
        if (body["model"] === "c-2" && Array.isArray(body["tools"]))
          return json({ type: "error", error: { type: "invalid_request_error", message: "no tools" } }, 400)
        return body["stream"] === true ? sse(stream) : json(message)
      }, calls)
      const provider = yield* providerOf("{ name: claude, kind: anthropic, base_url: http://an, api_key: k }", fetchFn)
      const detection = yield* detectOver(fetchFn, provider)
      assert.deepStrictEqual(detection.models, [
        { id: "c-1", capabilities: { chat: true, streaming: true, tools: true, embeddings: false } },
        { id: "c-2", capabilities: { chat: true, streaming: true, tools: false, embeddings: false } }
      ])
      assert.deepStrictEqual(
        calls.filter((c) => c.startsWith("GET")),
        ["GET /v1/models?limit=1000", "GET /v1/models?limit=1000&after_id=c-1"]
      )
      assert.isFalse(calls.some((c) => c.includes("embeddings")))
    })
  )

  it.effect("a probe that does not answer within the time limit is unknown", () =>
    Effect.gen(function* () {
      const fetchFn = fakeFetch(({ path, body }) =>
        path === "/v1/embeddings" ? error(400, "no") : body["model"] === "slow" ? undefined : json(completion)
      )
      const provider = yield* providerOf(OPENAI, fetchFn)
      const fiber = yield* Effect.forkChild(detectOver(fetchFn, provider, { models: ["slow"], timeoutMs: 2_000 }))
      yield* TestClock.adjust(2_000)
      const detection = yield* Fiber.join(fiber)
      assert.deepStrictEqual(detection.models[0]?.capabilities, {
        chat: null,
        streaming: null,
        tools: null,
        embeddings: false
      })
      assert.deepStrictEqual(detection.errors, [{ model: "slow", probe: "chat", message: "no answer within 2000 ms" }])
    })
  )

  it.effect("a refused key or an unreachable upstream fails the detection, naming the provider", () =>
    Effect.gen(function* () {
      const failure = (fetchFn: Fetch, more: Partial<DetectOptions> = {}) =>
        Effect.gen(function* () {
          const provider = yield* providerOf(OPENAI, fetchFn)
          const error = yield* Effect.flip(detectOver(fetchFn, provider, more))
          return describeReason((error as GatewayError).reason)
        })
      const refused = yield* failure(fakeFetch(() => error(401, "bad key")))
      assert.deepInclude(refused, {
        status: 502,
        code: "provider_error",
        message:
          "Provider `oai` refused the credentials: GET http://up/v1/models answered 401 (check its api_key or auth)."
      })
      // A 401 to a probe (the list not asked) is the same refusal.
      const probed = yield* failure(
        fakeFetch(({ path }) => (path === "/v1/chat/completions" ? error(401, "bad key") : error(400, "no"))),
        { models: ["m"] }
      )
      assert.deepInclude(probed, {
        status: 502,
        message: "Provider `oai` refused the credentials: a probe answered 401 (check its api_key or auth)."
      })
      const down = yield* failure(() => Promise.reject(new TypeError("fetch failed")))
      assert.deepInclude(down, {
        status: 502,
        code: "upstream_unreachable",
        message: "Provider `oai` could not be reached."
      })
    })
  )
})
