// Provider detection (issue 14, item 8): `llmgate providers detect` (run under the project's runtime)
// and `POST /admin/v1/providers/{name}/detect` (against a gateway under the same runtime) list an
// upstream's models and probe chat, streaming, tools and embeddings. One MSW upstream mocks the three
// kinds under their own path prefixes, from their API references: OpenAI-compatible models that fail
// some probes (no tools, no embeddings, embeddings only, a JSON answer to a stream request, a model
// that wants `max_completion_tokens`, a 500, a model that never answers), Anthropic's paginated model
// list and Messages API (one model refusing tools), and an Azure resource's deployments. The
// capability matrix is asserted exactly, and so are an unreachable base URL and a refused key.
import { delay, http, HttpResponse, type RequestHandler } from "msw"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { generateKey } from "../../src/auth/KeyMaterial.ts"
import { parseConfig } from "../../src/config/loadConfig.ts"
import { cleanupTempDirs, freePort, launchGateway, type GatewayProcess } from "./gateway.ts"
import { expectOpenAIError, httpClient, MASTER_KEY, runCli, runtime } from "./harness.ts"
import { startUpstream, type Upstream } from "./upstream/server.ts"

const OPENAI_KEY = "sk-openai-detect-0123456789"
const ANTHROPIC_KEY = "sk-ant-detect-0123456789abcdef"
const AZURE_KEY = "azure-detect-key-0123456789"
const WRONG_KEY = "sk-wrong-detect-000"
const API_VERSION = "2024-10-21"
const SECRETS = [OPENAI_KEY, ANTHROPIC_KEY, AZURE_KEY, WRONG_KEY]
const ADMIN_KEY = generateKey()
const MEMBER_KEY = generateKey()

interface Seen {
  readonly path: string
  readonly body: Record<string, unknown>
}
/** Every probe the upstream received. */
const seen: Array<Seen> = []

const enc = new TextEncoder()
const sse = (events: ReadonlyArray<string>): Response =>
  new HttpResponse(
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const e of events) controller.enqueue(enc.encode(e))
        controller.close()
      }
    }),
    { status: 200, headers: { "content-type": "text/event-stream" } }
  )
const openAIError = (status: number, message: string) =>
  HttpResponse.json({ error: { message, type: "invalid_request_error", param: null, code: null } }, { status })

// ---- OpenAI-compatible (kind openai under /oai/v1, kind azure under /az) -------------------------------

/** The listed models, in the upstream's order. */
const OPENAI_MODELS = ["gpt-full", "gpt-notools", "embed-only", "json-only", "o-reasoner", "flaky", "unprobed"]

const completion = (model: string) => ({
  id: "chatcmpl-detect",
  object: "chat.completion",
  created: 1_700_000_000,
  model,
  choices: [{ index: 0, message: { role: "assistant", content: "p" }, finish_reason: "length" }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }
})
const chunk = (model: string) =>
  `data: ${JSON.stringify({ id: "chatcmpl-detect", object: "chat.completion.chunk", created: 1_700_000_000, model, choices: [{ index: 0, delta: { role: "assistant", content: "p" }, finish_reason: null }] })}\n\n`
const embedding = (model: string) => ({
  object: "list",
  data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }],
  model,
  usage: { prompt_tokens: 1, total_tokens: 1 }
})

/** A chat completion as each model of the OpenAI-compatible upstreams answers it. */
const chatReply = async (model: string, body: Record<string, unknown>): Promise<Response> => {
  const tools = Array.isArray(body["tools"])
  const stream = body["stream"] === true
  switch (model) {
    case "embed-only":
    case "dep-embed":
      return openAIError(404, "This is not a chat model and thus not supported in the v1/chat/completions endpoint.")
    case "flaky":
      return openAIError(500, "The server is overloaded, try later.")
    case "slow":
      await delay(5_000)
      return HttpResponse.json(completion(model))
    case "o-reasoner":
      if ("max_tokens" in body)
        return openAIError(
          400,
          "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
        )
      break
    case "gpt-notools":
      if (tools) return openAIError(400, "tools is not supported with this model.")
      break
    case "json-only":
      return HttpResponse.json(completion(model))
  }
  return stream ? sse([chunk(model), "data: [DONE]\n\n"]) : HttpResponse.json(completion(model))
}

const embeddingsReply = (model: string): Response =>
  model === "embed-only" || model === "dep-embed"
    ? HttpResponse.json(embedding(model))
    : openAIError(400, `The model ${model} does not support embeddings.`)

const record = async (request: Request): Promise<Record<string, unknown>> => {
  const body = (await request.json()) as Record<string, unknown>
  seen.push({ path: new URL(request.url).pathname, body })
  return body
}

// ---- Anthropic (kind anthropic under /claude) ------------------------------------------------------------

const anthropicEvent = (type: string, data: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
const anthropicMessage = (model: string) => ({
  id: "msg_detect",
  type: "message",
  role: "assistant",
  model,
  content: [{ type: "text", text: "p" }],
  stop_reason: "max_tokens",
  stop_sequence: null,
  usage: { input_tokens: 1, output_tokens: 1 }
})
const anthropicStream = (model: string): ReadonlyArray<string> => [
  anthropicEvent("message_start", {
    message: {
      ...anthropicMessage(model),
      content: [],
      stop_reason: null,
      usage: { input_tokens: 1, output_tokens: 0 }
    }
  }),
  anthropicEvent("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
  anthropicEvent("content_block_delta", { index: 0, delta: { type: "text_delta", text: "p" } }),
  anthropicEvent("content_block_stop", { index: 0 }),
  anthropicEvent("message_delta", {
    delta: { stop_reason: "max_tokens", stop_sequence: null },
    usage: { output_tokens: 1 }
  }),
  anthropicEvent("message_stop", {})
]
const anthropicError = (status: number, type: string, message: string) =>
  HttpResponse.json({ type: "error", error: { type, message } }, { status })
const anthropicHeadersOk = (request: Request): boolean =>
  request.headers.get("x-api-key") === ANTHROPIC_KEY && request.headers.get("anthropic-version") === "2023-06-01"

const handlers = (): Array<RequestHandler> => [
  // openai: GET {base}/models, the key as a bearer
  http.get("*/oai/v1/models", ({ request }) =>
    request.headers.get("authorization") === `Bearer ${OPENAI_KEY}`
      ? HttpResponse.json({
          object: "list",
          data: OPENAI_MODELS.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "detect" }))
        })
      : openAIError(401, "Incorrect API key provided.")
  ),
  http.post("*/oai/v1/chat/completions", async ({ request }) => {
    if (request.headers.get("authorization") !== `Bearer ${OPENAI_KEY}`) return openAIError(401, "Incorrect API key.")
    const body = await record(request)
    return chatReply(String(body["model"]), body)
  }),
  http.post("*/oai/v1/embeddings", async ({ request }) => {
    const body = await record(request)
    return embeddingsReply(String(body["model"]))
  }),
  // azure: the deployments, with api-version and the api-key header
  http.get("*/az/openai/deployments", ({ request }) =>
    request.headers.get("api-key") === AZURE_KEY && new URL(request.url).searchParams.get("api-version") === API_VERSION
      ? HttpResponse.json({
          object: "list",
          data: [
            { id: "dep-chat", model: "gpt-4o", object: "deployment", status: "succeeded" },
            { id: "dep-embed", model: "text-embedding-3-small", object: "deployment", status: "succeeded" }
          ]
        })
      : openAIError(401, "Access denied due to invalid subscription key.")
  ),
  http.post("*/az/openai/deployments/:deployment/chat/completions", async ({ request, params }) =>
    chatReply(String(params["deployment"]), await record(request))
  ),
  http.post("*/az/openai/deployments/:deployment/embeddings", async ({ request, params }) => {
    await record(request)
    return embeddingsReply(String(params["deployment"]))
  }),
  // anthropic: GET /v1/models a page at a time, x-api-key and anthropic-version
  http.get("*/claude/v1/models", ({ request }) => {
    if (!anthropicHeadersOk(request)) return anthropicError(401, "authentication_error", "invalid x-api-key")
    const after = new URL(request.url).searchParams.get("after_id")
    const page = after === null ? ["claude-a"] : after === "claude-a" ? ["claude-b"] : []
    return HttpResponse.json({
      data: page.map((id) => ({
        type: "model",
        id,
        display_name: id.toUpperCase(),
        created_at: "2025-01-01T00:00:00Z"
      })),
      has_more: after === null,
      first_id: page[0] ?? null,
      last_id: page.at(-1) ?? null
    })
  }),
  http.post("*/claude/v1/messages", async ({ request }) => {
    if (!anthropicHeadersOk(request)) return anthropicError(401, "authentication_error", "invalid x-api-key")
    const body = await record(request)
    const model = String(body["model"])
    if (model === "claude-b" && Array.isArray(body["tools"]))
      return anthropicError(400, "invalid_request_error", "tools: this model does not support tool use")
    return body["stream"] === true ? sse(anthropicStream(model)) : HttpResponse.json(anthropicMessage(model))
  })
]

// ---- the expected matrices -------------------------------------------------------------------------------

const caps = (chat: boolean | null, streaming: boolean | null, tools: boolean | null, embeddings: boolean | null) => ({
  chat,
  streaming,
  tools,
  embeddings
})

const openAIDetection = (provider: string) => ({
  provider,
  models: [
    { id: "gpt-full", capabilities: caps(true, true, true, false) },
    { id: "gpt-notools", capabilities: caps(true, true, false, false) },
    { id: "embed-only", capabilities: caps(false, false, false, true) },
    { id: "json-only", capabilities: caps(true, false, true, false) },
    { id: "o-reasoner", capabilities: caps(true, true, true, false) },
    { id: "flaky", capabilities: caps(null, null, null, false) },
    { id: "unprobed", capabilities: null }
  ],
  probed: 6,
  errors: [{ model: "flaky", probe: "chat", message: "answered 500: The server is overloaded, try later." }]
})

const anthropicDetection = (provider: string) => ({
  provider,
  models: [
    { id: "claude-a", capabilities: caps(true, true, true, false) },
    { id: "claude-b", capabilities: caps(true, true, false, false) }
  ],
  probed: 2,
  errors: []
})

const azureDetection = (provider: string) => ({
  provider,
  models: [
    { id: "dep-chat", capabilities: caps(true, true, true, false) },
    { id: "dep-embed", capabilities: caps(false, false, false, true) }
  ],
  probed: 2,
  errors: []
})

const leaks = (text: string): Array<string> => SECRETS.filter((s) => text.includes(s))

describe(`[${runtime}] provider detection`, () => {
  let upstream: Upstream | undefined
  let gateway: GatewayProcess | undefined
  let closedPort = 0
  const bodies: Array<string> = []
  const client = httpClient(() => gateway?.baseUrl ?? "", bodies)
  const origin = () => (upstream?.baseUrl ?? "").replace(/\/v1$/, "")

  beforeAll(async () => {
    upstream = await startUpstream(handlers)
    const port = await freePort()
    closedPort = await freePort()
    gateway = await launchGateway({
      runtime,
      port,
      config: {
        server: { host: "127.0.0.1", port },
        master_key: MASTER_KEY,
        providers: [
          { name: "oai", kind: "openai", base_url: `${origin()}/oai/v1`, api_key: OPENAI_KEY },
          { name: "claude", kind: "anthropic", base_url: `${origin()}/claude`, api_key: ANTHROPIC_KEY },
          { name: "az", kind: "azure", base_url: `${origin()}/az`, api_version: API_VERSION, api_key: AZURE_KEY },
          { name: "down", kind: "openai", base_url: `http://127.0.0.1:${closedPort}/v1`, api_key: OPENAI_KEY },
          { name: "badkey", kind: "openai", base_url: `${origin()}/oai/v1`, api_key: WRONG_KEY },
          { name: "mock", kind: "mock" }
        ],
        models: [{ name: "gpt-full", targets: [{ provider: "oai" }] }],
        projects: [{ id: "prj_detect", name: "Detect" }],
        users: [
          { id: "usr_admin", name: "Admin", role: "admin", projects: ["prj_detect"] },
          { id: "usr_member", name: "Member", role: "member", projects: ["prj_detect"] }
        ],
        keys: [
          {
            id: "key_admin",
            name: "admin",
            prefix: ADMIN_KEY.prefix,
            hash: ADMIN_KEY.hash,
            project_id: "prj_detect",
            user_id: "usr_admin"
          },
          {
            id: "key_member",
            name: "member",
            prefix: MEMBER_KEY.prefix,
            hash: MEMBER_KEY.hash,
            project_id: "prj_detect",
            user_id: "usr_member"
          }
        ]
      }
    })
  })

  afterAll(async () => {
    await gateway?.stop("SIGTERM", 10_000)
    await upstream?.close()
    cleanupTempDirs()
  })

  /** `llmgate providers detect ARGS`; its exit code and output (the secrets never in it). */
  const detectCli = async (args: ReadonlyArray<string>) => {
    const r = await runCli(["providers", "detect", ...args], {})
    expect(leaks(r.out), "no key in the output").toEqual([])
    return r
  }
  const openAIArgs = () => ["--base-url", `${origin()}/oai/v1`, "--api-key", OPENAI_KEY]

  describe("llmgate providers detect", () => {
    it("openai: the listed models' exact capability matrix (--json)", async () => {
      seen.length = 0
      const r = await detectCli([...openAIArgs(), "--probe", "6", "--json"])
      expect(r.code, r.out).toBe(0)
      expect(JSON.parse(r.out)).toEqual(openAIDetection("openai"))
      // Each probe asks for one token; a model that wants max_completion_tokens is asked with it.
      const chats = seen.filter((s) => s.path.endsWith("/chat/completions"))
      expect(chats.filter((s) => s.body["model"] !== "o-reasoner").every((s) => s.body["max_tokens"] === 1)).toBe(true)
      expect(
        chats.filter((s) => s.body["model"] === "o-reasoner" && s.body["max_completion_tokens"] === 1)
      ).toHaveLength(3)
      // The tools probe sends one function tool; a model that did not chat gets no streaming or tools probe.
      expect(
        chats.filter((s) => Array.isArray(s.body["tools"])).map((s) => (s.body["tools"] as Array<unknown>).length)
      ).toEqual([1, 1, 1, 1])
      expect(chats.filter((s) => s.body["model"] === "embed-only")).toHaveLength(1)
      expect(chats.filter((s) => s.body["model"] === "flaky")).toHaveLength(1)
      // A model past --probe is listed, never probed.
      expect(seen.filter((s) => s.body["model"] === "unprobed")).toEqual([])
      expect(seen.find((s) => s.path.endsWith("/embeddings") && s.body["model"] === "gpt-full")?.body).toEqual({
        model: "gpt-full",
        input: "ping"
      })
    })

    it("prints a table: the first 3 models by default, the rest listed as not probed", async () => {
      const r = await detectCli(openAIArgs())
      expect(r.code, r.out).toBe(0)
      const lines = r.out.trim().split("\n")
      expect(lines[0]).toBe(`openai (kind openai) at ${origin()}/oai/v1: 7 models listed, 3 probed`)
      expect(lines.slice(2, 11).map((l) => l.split(/\s+/))).toEqual([
        ["model", "chat", "streaming", "tools", "embeddings"],
        ["gpt-full", "yes", "yes", "yes", "no"],
        ["gpt-notools", "yes", "yes", "no", "no"],
        ["embed-only", "no", "no", "no", "yes"],
        ["json-only", "-", "-", "-", "-"],
        ["o-reasoner", "-", "-", "-", "-"],
        ["flaky", "-", "-", "-", "-"],
        ["unprobed", "-", "-", "-", "-"],
        ["(4", "models", "not", "probed:", "--probe", "N", "probes", "more,", "--models", "LIST", "chosen", "ones)"]
      ])
    })

    it("--yaml prints a providers: entry and models: entries that load as a config", async () => {
      const r = await detectCli([
        ...openAIArgs(),
        "--name",
        "my-oai",
        "--models",
        "gpt-full,embed-only,flaky",
        "--yaml"
      ])
      expect(r.code, r.out).toBe(0)
      expect(r.out).toContain('api_key: "${LLMGATE_MY_OAI_API_KEY}"')
      const loaded = parseConfig(r.out, { LLMGATE_MY_OAI_API_KEY: "sk-pasted" }, "pasted")
      if (loaded._tag === "Failure") throw new Error(loaded.failure.message)
      const provider = loaded.success.providers.get("my-oai")
      expect(provider?.baseUrl).toBe(`${origin()}/oai/v1`)
      expect(provider?.kind).toBe("openai")
      // flaky answered nothing it could be used for: only named in a comment.
      expect(loaded.success.modelNames).toEqual(["gpt-full", "embed-only"])
      expect(r.out).toContain("# flaky: no capability answered yes, left out")
    })

    it("anthropic: the paginated model list and the probes through the Messages API", async () => {
      seen.length = 0
      const r = await detectCli([
        "--kind",
        "anthropic",
        "--base-url",
        `${origin()}/claude`,
        "--api-key",
        ANTHROPIC_KEY,
        "--json"
      ])
      expect(r.code, r.out).toBe(0)
      expect(JSON.parse(r.out)).toEqual(anthropicDetection("anthropic"))
      // Translated by the gateway's own provider: max_tokens 1, the tool as Anthropic's; embeddings never sent.
      expect(seen.every((s) => s.path.endsWith("/v1/messages") && s.body["max_tokens"] === 1)).toBe(true)
      expect(seen.find((s) => Array.isArray(s.body["tools"]))?.body["tools"]).toEqual([
        { name: "ping", description: "Answers pong.", input_schema: { type: "object", properties: {} } }
      ])
    })

    it("azure: the resource's deployments, probed at their deployment URLs", async () => {
      const r = await detectCli([
        "--kind",
        "azure",
        "--base-url",
        `${origin()}/az`,
        "--api-key",
        AZURE_KEY,
        "--api-version",
        API_VERSION,
        "--json"
      ])
      expect(r.code, r.out).toBe(0)
      expect(JSON.parse(r.out)).toEqual(azureDetection("azure"))
    })

    it("a probe that does not answer within --timeout is unknown, with the reason", async () => {
      const r = await detectCli([...openAIArgs(), "--models", "slow,gpt-full", "--timeout", "1s", "--json"])
      expect(r.code, r.out).toBe(0)
      expect(JSON.parse(r.out)).toEqual({
        provider: "openai",
        models: [
          { id: "slow", capabilities: caps(null, null, null, false) },
          { id: "gpt-full", capabilities: caps(true, true, true, false) }
        ],
        probed: 2,
        errors: [{ model: "slow", probe: "chat", message: "no answer within 1000 ms" }]
      })
    })

    it("an unreachable base URL: exit code 1 and a message naming it", async () => {
      const r = await detectCli(["--base-url", `http://127.0.0.1:${closedPort}/v1`, "--api-key", OPENAI_KEY])
      expect(r.code).toBe(1)
      expect(r.out.trim()).toBe(
        `llmgate providers detect: Provider \`openai\` could not be reached. (--base-url http://127.0.0.1:${closedPort}/v1)`
      )
    })

    it("a refused key: exit code 1 and a message saying so", async () => {
      const r = await detectCli(["--base-url", `${origin()}/oai/v1`, "--api-key", WRONG_KEY])
      expect(r.code).toBe(1)
      expect(r.out.trim()).toBe(
        `llmgate providers detect: Provider \`openai\` refused the credentials: GET ${origin()}/oai/v1/models answered 401 (check its api_key or auth).`
      )
    })

    it("bad options: exit code 2 and the usage", async () => {
      const r = await detectCli(["--kind", "azure", "--base-url", `${origin()}/az`])
      expect(r.code).toBe(2)
      expect(r.out).toContain('providers detect --kind azure needs --api-version V (e.g. "2024-10-21")')
    })
  })

  describe("POST /admin/v1/providers/{name}/detect", () => {
    const path = (name: string) => `/admin/v1/providers/${name}/detect`

    it("openai: the configured provider's models and capability matrix", async () => {
      const r = await client.post(path("oai"), { probe: 6 })
      expect(r.status, r.text).toBe(200)
      expect(r.json()).toEqual(openAIDetection("oai"))
    })

    it("anthropic and azure, with the default probe count and no body", async () => {
      const claude = await client.request("POST", path("claude"))
      expect(claude.status, claude.text).toBe(200)
      expect(claude.json()).toEqual(anthropicDetection("claude"))
      const az = await client.request("POST", path("az"))
      expect(az.status, az.text).toBe(200)
      expect(az.json()).toEqual(azureDetection("az"))
    })

    it("named models, probe 0 (list only), for an admin user's key", async () => {
      const r = await client.post(path("oai"), { models: ["gpt-full", "embed-only"], probe: 0 }, { key: ADMIN_KEY.key })
      expect(r.status, r.text).toBe(200)
      expect(r.json()).toEqual({
        provider: "oai",
        models: [
          { id: "gpt-full", capabilities: null },
          { id: "embed-only", capabilities: null }
        ],
        probed: 0,
        errors: []
      })
    })

    it("an unreachable upstream: 502 naming the provider", async () => {
      const body = expectOpenAIError(await client.post(path("down"), {}), 502, { code: "upstream_unreachable" })
      expect(body.error.message).toBe("Provider `down` could not be reached.")
    })

    it("a refused key: 502 naming the provider", async () => {
      const body = expectOpenAIError(await client.post(path("badkey"), {}), 502, {
        code: "provider_error",
        type: "api_error"
      })
      expect(body.error.message).toBe(
        `Provider \`badkey\` refused the credentials: GET ${origin()}/oai/v1/models answered 401 (check its api_key or auth).`
      )
    })

    it("refusals: an unknown provider, a mock one, a bad body, another method, a member's key", async () => {
      expectOpenAIError(await client.post(path("nope"), {}), 404, { code: "not_found" })
      expectOpenAIError(await client.post(path("mock"), {}), 400, { code: "invalid_request" })
      expectOpenAIError(await client.post(path("oai"), { probe: 51 }), 422, { param: "probe" })
      expectOpenAIError(await client.post(path("oai"), { models: [] }), 422, { param: "models" })
      expectOpenAIError(await client.post(path("oai"), { timeout: "forever" }), 422, { param: "timeout" })
      expectOpenAIError(await client.post(path("oai"), { extra: 1 }), 422, { param: "extra" })
      expectOpenAIError(await client.get(path("oai")), 405)
      expectOpenAIError(await client.post(path("oai"), {}, { key: MEMBER_KEY.key }), 403, { code: "forbidden" })
      expectOpenAIError(await client.post(path("oai"), {}, { key: null }), 401)
    })

    it("no answer leaks a provider key", () => {
      expect(bodies.length).toBeGreaterThan(0)
      expect(bodies.flatMap(leaks)).toEqual([])
      expect(leaks(`${gateway?.stdout()}${gateway?.stderr()}`)).toEqual([])
    })
  })
})
