// POST /v1/messages/count_tokens through the official Claude SDK (`messages.countTokens`): the count is
// gpt-tokenizer's o200k_base count of the request's text (system prompt, messages, tool calls and
// results, tool definitions, joined with newlines) plus 3 tokens per message, computed here
// independently; every worker answers the same (with two workers each count crosses threads to the
// owner's tokenizer thread; contract-node-pg runs one worker, in the owner's thread). Authentication as
// /v1/messages (x-api-key or bearer), the key's models (403), unknown models (404), a wrong key (401),
// a bad body (400 naming the field), all in Anthropic's error shape; no provider is called.
import { Agent, request } from "node:http"
import Anthropic, {
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  PermissionDeniedError
} from "@anthropic-ai/sdk"
import { countTokens } from "gpt-tokenizer/encoding/o200k_base"
import { describe, expect, it } from "vitest"
import {
  expectEveryWorkerAlive,
  type Health,
  itLeaksNoSecrets,
  MASTER_KEY,
  MODELS,
  runtime,
  useContract,
  VIRTUAL_KEYS,
  workers,
  WRONG_KEY
} from "./harness.ts"

/** gpt-tokenizer's count, special-token text counted as plain text (as the gateway counts it). */
const bpe = (text: string): number => countTokens(text, { disallowedSpecial: new Set() })
const PER_MESSAGE = 3

const TOOL = {
  name: "get_weather",
  description: "The weather in a city",
  input_schema: {
    type: "object" as const,
    properties: { city: { type: "string" }, unit: { type: "string", enum: ["C", "F"] } },
    required: ["city"]
  }
}

const PARAMS = {
  model: MODELS.chat.name,
  system: "You are terse. Answer in one sentence.",
  messages: [
    { role: "user" as const, content: "What is the weather in Paris? Schön, 日本語も <|endoftext|>" },
    {
      role: "assistant" as const,
      content: [
        { type: "text" as const, text: "Let me look it up." },
        { type: "tool_use" as const, id: "toolu_01", name: "get_weather", input: { city: "Paris", unit: "C" } }
      ]
    },
    {
      role: "user" as const,
      content: [
        { type: "tool_result" as const, tool_use_id: "toolu_01", content: "18 degrees and sunny" },
        { type: "text" as const, text: "Thanks! And tomorrow?" }
      ]
    }
  ],
  tools: [TOOL]
}

/** The text the gateway counts for PARAMS, written out by hand. */
const PARAMS_TEXT = [
  "You are terse. Answer in one sentence.",
  "What is the weather in Paris? Schön, 日本語も <|endoftext|>",
  "Let me look it up.",
  "get_weather",
  JSON.stringify({ city: "Paris", unit: "C" }),
  "18 degrees and sunny",
  "Thanks! And tomorrow?",
  "get_weather",
  "The weather in a city",
  JSON.stringify(TOOL.input_schema)
].join("\n")

/** One POST over `agent` (a keep-alive connection held by one worker); the key as a bearer. */
const post = (port: number, path: string, agent: Agent, body: unknown, key = MASTER_KEY) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const payload = JSON.stringify(body)
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        agent,
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }
      },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (c: string) => (text += c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
        res.on("error", reject)
      }
    )
    req.on("error", reject)
    req.end(payload)
  })

const get = (port: number, path: string, agent: Agent) =>
  new Promise<string>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent, method: "GET" }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (c: string) => (text += c))
      res.on("end", () => resolve(text))
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end()
  })

describe(`[${runtime}] POST /v1/messages/count_tokens`, () => {
  const ctx = useContract()
  const claude = (apiKey = MASTER_KEY) => new Anthropic({ baseURL: ctx.base, apiKey, maxRetries: 0, timeout: 15_000 })

  it("the Claude SDK's countTokens: gpt-tokenizer's o200k_base count of the request's text, plus 3 per message", async () => {
    const before = ctx.recorder.requests.length
    const counted = await claude().messages.countTokens(PARAMS)
    expect(counted).toEqual({ input_tokens: bpe(PARAMS_TEXT) + PER_MESSAGE * PARAMS.messages.length })
    // A plain string message, no system prompt, no tools.
    const hello = await claude().messages.countTokens({
      model: MODELS.chat.name,
      messages: [{ role: "user", content: "Hello, world" }]
    })
    expect(hello).toEqual({ input_tokens: bpe("Hello, world") + PER_MESSAGE })
    // A virtual key allowed the model (by pattern) counts the same way.
    const limited = await claude(VIRTUAL_KEYS.limited.key).messages.countTokens({
      model: MODELS.mockFine.name,
      messages: [{ role: "user", content: "Hello, world" }]
    })
    expect(limited).toEqual(hello)
    expect(ctx.recorder.requests.length, "no provider was called").toBe(before)
  })

  it("every worker gives the same count (bearer keys too, no max_tokens needed)", async () => {
    const byWorker = new Map<number, Agent>()
    for (let i = 0; i < 200 && byWorker.size < workers; i++) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 })
      const health = JSON.parse(await get(ctx.gateway.port, "/health", agent)) as Health
      if (byWorker.has(health.worker.id)) agent.destroy()
      else byWorker.set(health.worker.id, agent)
    }
    expect([...byWorker.keys()].sort()).toEqual(Array.from({ length: workers }, (_, i) => i))
    try {
      for (const [id, agent] of byWorker) {
        for (let i = 0; i < 3; i++) {
          const r = await post(ctx.gateway.port, "/v1/messages/count_tokens", agent, PARAMS)
          expect(r.status, `worker ${id}: ${r.text}`).toBe(200)
          expect(JSON.parse(r.text)).toEqual({ input_tokens: bpe(PARAMS_TEXT) + PER_MESSAGE * PARAMS.messages.length })
        }
      }
    } finally {
      for (const agent of byWorker.values()) agent.destroy()
    }
  })

  it("errors in Anthropic's shape: unknown model 404, forbidden model 403, wrong key 401, bad body 400", async () => {
    const messages = [{ role: "user" as const, content: "hi" }]
    const unknown = await claude()
      .messages.countTokens({ model: "no-such-model", messages })
      .catch((e: unknown) => e)
    expect(unknown).toBeInstanceOf(NotFoundError)
    expect((unknown as NotFoundError).error).toEqual({
      type: "error",
      error: { type: "not_found_error", message: expect.stringContaining("no-such-model") }
    })

    const forbidden = await claude(VIRTUAL_KEYS.limited.key)
      .messages.countTokens({ model: MODELS.chat.name, messages })
      .catch((e: unknown) => e)
    expect(forbidden).toBeInstanceOf(PermissionDeniedError)
    expect((forbidden as PermissionDeniedError).error).toEqual({
      type: "error",
      error: { type: "permission_error", message: expect.stringContaining(MODELS.chat.name) }
    })

    const wrong = await claude(WRONG_KEY)
      .messages.countTokens({ model: MODELS.chat.name, messages })
      .catch((e: unknown) => e)
    expect(wrong).toBeInstanceOf(AuthenticationError)
    expect((wrong as AuthenticationError).error).toEqual({
      type: "error",
      error: { type: "authentication_error", message: expect.any(String) }
    })

    const bad = await claude()
      .messages.countTokens({
        model: MODELS.chat.name,
        messages: [{ role: "user", content: [{ type: "text" }] }]
      } as never)
      .catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(BadRequestError)
    expect((bad as BadRequestError).error).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringContaining("messages[0].content[0].text") }
    })

    // No key at all, and the raw shapes: a missing model, an unknown method on the path.
    const none = await ctx.post("/v1/messages/count_tokens", { model: MODELS.chat.name, messages }, { key: null })
    expect(none.status).toBe(401)
    expect(none.json()).toEqual({ type: "error", error: { type: "authentication_error", message: expect.any(String) } })
    const noModel = await ctx.post(
      "/v1/messages/count_tokens",
      { messages },
      {
        key: null,
        headers: { "x-api-key": MASTER_KEY }
      }
    )
    expect(noModel.status).toBe(400)
    expect(noModel.json()).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringContaining("model") }
    })
    const method = await ctx.get("/v1/messages/count_tokens")
    expect(method.status).toBe(405)
    expect(method.json()).toMatchObject({ type: "error" })
  })

  it("every worker is still alive", async () => {
    await expectEveryWorkerAlive(ctx)
  })

  itLeaksNoSecrets(ctx)
})
