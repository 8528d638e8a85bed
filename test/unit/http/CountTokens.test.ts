// `POST /v1/messages/count_tokens`: the body validated as a Messages request (without max_tokens), the
// key's model check (403) before the model's existence (404), the count asked of the worker's token
// counts with o200k_base (the request's text, plus 3 tokens per message), and a tokenizer that fails or
// does not answer within the timeout → 503 (Anthropic's overloaded_error once App.ts reshapes it).
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import { TestClock } from "effect/testing"
import { countTokens as o200k } from "gpt-tokenizer/encoding/o200k_base"
import { makeAuthenticator, MASTER, type Principal } from "../../../src/auth/Auth.ts"
import { generateKey } from "../../../src/auth/KeyMaterial.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { describe as describeError, GatewayError, type GatewayErrorReason } from "../../../src/domain/GatewayError.ts"
import type { Snapshot } from "../../../src/GatewayState.ts"
import {
  COUNT_TIMEOUT_MS,
  countRequestOf,
  countTokensHandler,
  MESSAGE_OVERHEAD_TOKENS
} from "../../../src/http/CountTokens.ts"
import { isBytes, type IncomingRequest, type OutgoingResponse, withBody } from "../../../src/http/Exchange.ts"
import { anthropicErrors } from "../../../src/http/Messages.ts"
import { errorResponse } from "../../../src/http/respond.ts"
import type { Encoding } from "../../../src/usage/Estimate.ts"
import type { TokenCountsShape } from "../../../src/usage/TokenCounts.ts"
import { TokenCountError } from "../../../src/usage/TokenizerThread.ts"

const key = generateKey()
const config = (() => {
  const r = parseConfig(
    `server: { identifier_limit: 64 }
providers: [{ name: m, kind: mock }]
models:
  - { name: claude-sonnet, targets: [{ provider: m }] }
  - { name: claude-haiku, targets: [{ provider: m }] }
projects: [{ id: p1, name: Acme }]
keys: [{ id: k1, name: k, prefix: "${key.prefix}", hash: "${key.hash}", project_id: p1, models: ["claude-h*"] }]
`,
    {},
    "t"
  )
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
})()
const virtual = makeAuthenticator(Redacted.make("master"), config.tenancy)(`Bearer ${key.key}`) as Principal

const snapshotWith = (pinned: string | undefined = undefined) =>
  ({
    config,
    router: {
      pinnedModel: (path: string) => (path === "/v1/messages" ? pinned : undefined),
      resolve: (model: string) => (config.models.has(model) ? { model: config.models.get(model) } : undefined)
    }
  }) as unknown as Snapshot

const request = (body: unknown): IncomingRequest =>
  withBody(
    {
      method: "POST",
      url: "/v1/messages/count_tokens",
      header: () => undefined,
      body: () => Effect.die("unread"),
      stream: () => Effect.die("unread")
    },
    new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body))
  )

/** Token counts by gpt-tokenizer in this thread, remembering what they were asked. */
const bpeCounts = () => {
  const asked: Array<readonly [Encoding, ReadonlyArray<string>]> = []
  const counts: TokenCountsShape = {
    count: (encoding, texts) =>
      Effect.sync(() => {
        asked.push([encoding, texts])
        return texts.map((t) => o200k(t))
      })
  }
  return { counts, asked }
}

const failing: TokenCountsShape = {
  count: () => Effect.fail(new TokenCountError({ message: "the tokenizer thread failed recently" }))
}
const silent: TokenCountsShape = { count: () => Effect.never }

const handle = (counts: TokenCountsShape, body: unknown, principal: Principal = MASTER, snapshot = snapshotWith()) =>
  countTokensHandler(counts)(request(body), snapshot, "req-1", "/v1/messages/count_tokens", principal)

const reasonOf = (exit: Exit.Exit<OutgoingResponse, GatewayError>): GatewayErrorReason => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")?.error
  if (!(error instanceof GatewayError)) throw new Error("expected a GatewayError")
  return error.reason
}

const jsonOf = (r: OutgoingResponse): unknown => {
  if (!isBytes(r.body)) throw new Error("expected bytes")
  return JSON.parse(new TextDecoder().decode(r.body))
}

const REQUEST = {
  model: "claude-sonnet",
  system: [{ type: "text", text: "You are terse." }],
  messages: [
    { role: "user", content: "What is the weather in Paris?" },
    {
      role: "assistant",
      content: [
        { type: "text", text: "Let me look." },
        { type: "tool_use", id: "tu_1", name: "get_weather", input: { city: "Paris" } }
      ]
    },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "tu_1", content: "18°C, sunny" }] }
  ],
  tools: [
    {
      name: "get_weather",
      description: "The weather in a city",
      input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
    }
  ]
}
const REQUEST_TEXT = [
  "You are terse.",
  "What is the weather in Paris?",
  "Let me look.",
  "get_weather",
  JSON.stringify({ city: "Paris" }),
  "18°C, sunny",
  "get_weather",
  "The weather in a city",
  JSON.stringify(REQUEST.tools[0]?.input_schema)
].join("\n")

describe("countRequestOf", () => {
  it("the request's text (system, messages, tool calls and results, tools) and 3 tokens per message", () => {
    const counted = countRequestOf(REQUEST, 64)
    assert.deepStrictEqual(counted, { model: "claude-sonnet", text: REQUEST_TEXT, fixed: 3 * MESSAGE_OVERHEAD_TOKENS })
  })

  it("needs no max_tokens and ignores one that /v1/messages would refuse", () => {
    const body = { model: "claude-sonnet", messages: [{ role: "user", content: "hi" }] }
    assert.deepStrictEqual(countRequestOf(body, 64), { model: "claude-sonnet", text: "hi", fixed: 3 })
    assert.deepStrictEqual(countRequestOf({ ...body, max_tokens: 0 }, 64), {
      model: "claude-sonnet",
      text: "hi",
      fixed: 3
    })
  })

  const invalid = (body: Record<string, unknown>, limit = 64) => {
    const counted = countRequestOf(body, limit)
    if (!(counted instanceof GatewayError)) throw new Error("expected a GatewayError")
    assert.strictEqual(describeError(counted.reason).status, 400)
    return counted.reason
  }

  it("a missing or non-string model, a missing or empty messages array → 400 naming the field", () => {
    const messages = [{ role: "user", content: "hi" }]
    assert.include(invalid({ messages }), { _tag: "InvalidRequest", param: "model" })
    assert.include(invalid({ model: 7, messages }), { _tag: "InvalidRequest", param: "model" })
    assert.include(invalid({ model: "claude-sonnet" }), { _tag: "InvalidRequest", param: "messages" })
    assert.include(invalid({ model: "claude-sonnet", messages: [] }), { _tag: "InvalidRequest", param: "messages" })
    assert.include(invalid({ model: "claude-sonnet", messages: "hi" }), { _tag: "InvalidRequest", param: "messages" })
  })

  it("validated as a Messages request: a bad role or block → 400 naming it", () => {
    assert.include(invalid({ model: "claude-sonnet", messages: [{ role: "system", content: "x" }] }), {
      param: "messages[0].role"
    })
    assert.include(
      invalid({ model: "claude-sonnet", messages: [{ role: "user", content: [{ type: "text", text: 1 }] }] }),
      { param: "messages[0].content[0].text" }
    )
    assert.include(invalid({ model: "claude-sonnet", messages: [{ role: "user", content: "x" }], tools: [{}] }), {
      param: "tools[0].name"
    })
  })

  it("a model name longer than server.identifier_limit → 400 before anything else", () => {
    assert.include(invalid({ model: "x".repeat(65) }, 64), { _tag: "InvalidRequest", param: "model" })
  })
})

describe("countTokensHandler", () => {
  it.effect("answers input_tokens: the o200k_base count of the request's text plus the per-message overhead", () =>
    Effect.gen(function* () {
      const { counts, asked } = bpeCounts()
      const response = yield* handle(counts, REQUEST)
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(jsonOf(response), { input_tokens: o200k(REQUEST_TEXT) + 9 })
      assert.deepStrictEqual(asked, [["o200k_base", [REQUEST_TEXT]]])
    })
  )

  it.effect(
    "a virtual key: a model outside its list → 403 before routing (even an unknown one); an allowed one is counted",
    () =>
      Effect.gen(function* () {
        const { counts, asked } = bpeCounts()
        const messages = [{ role: "user", content: "hi" }]
        const forbidden = reasonOf(yield* Effect.exit(handle(counts, { model: "claude-sonnet", messages }, virtual)))
        assert.deepStrictEqual(forbidden, { _tag: "ModelNotAllowed", model: "claude-sonnet" })
        assert.strictEqual(describeError(forbidden).status, 403)
        const unknown = reasonOf(yield* Effect.exit(handle(counts, { model: "gpt-4o", messages }, virtual)))
        assert.strictEqual(unknown._tag, "ModelNotAllowed")
        const allowed = yield* handle(counts, { model: "claude-haiku", messages }, virtual)
        assert.deepStrictEqual(jsonOf(allowed), { input_tokens: o200k("hi") + 3 })
        assert.strictEqual(asked.length, 1)
      })
  )

  it.effect("an unknown model → 404 model_not_found; a route pinning /v1/messages decides the model", () =>
    Effect.gen(function* () {
      const { counts, asked } = bpeCounts()
      const messages = [{ role: "user", content: "hi" }]
      const unknown = reasonOf(yield* Effect.exit(handle(counts, { model: "no-such-model", messages })))
      assert.deepStrictEqual(unknown, { _tag: "ModelNotFound", model: "no-such-model" })
      assert.strictEqual(describeError(unknown).status, 404)
      assert.strictEqual(asked.length, 0)
      const pinned = yield* handle(counts, { model: "no-such-model", messages }, MASTER, snapshotWith("claude-sonnet"))
      assert.strictEqual(pinned.status, 200)
      const pinnedForbidden = reasonOf(
        yield* Effect.exit(handle(counts, { model: "claude-haiku", messages }, virtual, snapshotWith("claude-sonnet")))
      )
      assert.deepStrictEqual(pinnedForbidden, { _tag: "ModelNotAllowed", model: "claude-sonnet" })
    })
  )

  it.effect("a body that is not a JSON object → 400", () =>
    Effect.gen(function* () {
      const { counts } = bpeCounts()
      assert.strictEqual(reasonOf(yield* Effect.exit(handle(counts, "not json")))._tag, "InvalidJson")
      assert.strictEqual(reasonOf(yield* Effect.exit(handle(counts, [1, 2])))._tag, "InvalidJson")
    })
  )

  it.effect("a tokenizer that fails → 503, overloaded_error in Anthropic's shape", () =>
    Effect.gen(function* () {
      const reason = reasonOf(yield* Effect.exit(handle(failing, REQUEST)))
      assert.strictEqual(reason._tag, "Unavailable")
      const shaped = anthropicErrors(errorResponse(reason))
      assert.strictEqual(shaped.status, 503)
      assert.deepStrictEqual(jsonOf(shaped), {
        type: "error",
        error: { type: "overloaded_error", message: describeError(reason).message }
      })
      // The message names no internal detail (paths, the thread's error).
      assert.notInclude(describeError(reason).message, "failed recently")
    })
  )

  it.effect("a tokenizer that does not answer → 503 at the timeout, not before", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(Effect.exit(handle(silent, REQUEST)))
      yield* TestClock.adjust(COUNT_TIMEOUT_MS - 1)
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust(1)
      assert.strictEqual(reasonOf(yield* Fiber.join(fiber))._tag, "Unavailable")
    })
  )
})
