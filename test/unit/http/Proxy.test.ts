// The proxy's model permission check: a virtual key asking for a model outside its list gets 403
// `model_not_allowed` (OpenAI's error shape) before routing; a path-pinned route checks the model it
// pins, not the body's; the master key is never checked.
import { Effect, Exit, Redacted, Result } from "effect"
import { describe, expect, it } from "vitest"
import { makeAuthenticator, MASTER, type Principal } from "../../../src/auth/Auth.ts"
import { generateKey } from "../../../src/auth/KeyMaterial.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { errorBody, describe as describeError, GatewayError } from "../../../src/domain/GatewayError.ts"
import type { Snapshot } from "../../../src/GatewayState.ts"
import { type IncomingRequest, withBody } from "../../../src/http/Exchange.ts"
import { proxyHandler } from "../../../src/http/Proxy.ts"
import type { UsageRecord } from "../../../src/domain/Usage.ts"
import { makePriceBook } from "../../../src/usage/PriceBook.ts"

const key = generateKey()
const config = (() => {
  const r = parseConfig(
    `providers: [{ name: m, kind: mock }]
models:
  - { name: gpt-4o, targets: [{ provider: m }] }
  - { name: gpt-4o-mini, targets: [{ provider: m }] }
routes: [{ path: "/v1/pinned/*", model: gpt-4o }]
projects: [{ id: p1, name: Acme }]
keys: [{ id: k1, name: k, prefix: "${key.prefix}", hash: "${key.hash}", project_id: p1, models: ["gpt-4o-mi*"] }]
`,
    {},
    "t"
  )
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
})()

const virtual = makeAuthenticator(Redacted.make("master"), config.tenancy)(`Bearer ${key.key}`) as Principal

// Routing is stubbed: a request that passes the permission check ends at `resolve`, here a 404.
const resolved: Array<string> = []
const records: Array<UsageRecord> = []
const usage = {
  sink: {
    enabled: true,
    begin: () => {},
    record: (r: UsageRecord) => {
      records.push(r)
    }
  }
}
const snapshot = {
  config,
  priceBook: makePriceBook(config),
  router: {
    pinnedModel: (path: string) => (path.startsWith("/v1/pinned/") ? "gpt-4o" : undefined),
    resolve: (model: string) => {
      resolved.push(model)
      return undefined
    }
  }
} as unknown as Snapshot

const request = (body: unknown): IncomingRequest =>
  withBody(
    {
      method: "POST",
      url: "/v1/chat/completions",
      header: () => undefined,
      body: () => Effect.die("unread"),
      stream: () => Effect.die("unread")
    },
    new TextEncoder().encode(JSON.stringify(body))
  )

const run = (principal: Principal, model: string, path = "/v1/chat/completions") => {
  resolved.length = 0
  const exit = Effect.runSyncExit(
    proxyHandler("chat", usage)(
      request({ model, messages: [{ role: "user", content: "x" }] }),
      snapshot,
      "req-1",
      path,
      principal
    )
  )
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")?.error
  if (!(error instanceof GatewayError)) throw new Error("expected a GatewayError")
  return error.reason
}

describe("proxy model permissions", () => {
  it("a model outside the key's list → 403 model_not_allowed in OpenAI's shape, before routing", () => {
    const reason = run(virtual, "gpt-4o")
    expect(reason).toEqual({ _tag: "ModelNotAllowed", model: "gpt-4o" })
    expect(describeError(reason).status).toBe(403)
    expect(errorBody(reason)).toEqual({
      error: {
        message: "This API key is not allowed to use the model `gpt-4o`.",
        type: "invalid_request_error",
        param: "model",
        code: "model_not_allowed"
      }
    })
    expect(resolved).toEqual([])
  })

  it("an allowed model (by pattern) goes on to routing", () => {
    expect(run(virtual, "gpt-4o-mini")._tag).toBe("ModelNotFound")
    expect(resolved).toEqual(["gpt-4o-mini"])
  })

  it("a forbidden unknown model is 403 too (no probing which models exist)", () => {
    expect(run(virtual, "no-such-model")._tag).toBe("ModelNotAllowed")
  })

  it("a path-pinned route checks the model it pins, not the body's", () => {
    expect(run(virtual, "gpt-4o-mini", "/v1/pinned/chat")).toEqual({ _tag: "ModelNotAllowed", model: "gpt-4o" })
    expect(run(MASTER, "gpt-4o-mini", "/v1/pinned/chat")._tag).toBe("ModelNotFound")
    expect(resolved).toEqual(["gpt-4o"])
  })

  it("a refused request leaves one usage record: the key's ids, the status, outcome error, no usage", () => {
    records.length = 0
    run(virtual, "gpt-4o")
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({
      request_id: "req-1",
      key_id: "k1",
      project_id: "p1",
      user_id: null,
      endpoint: "chat",
      model: "gpt-4o",
      provider: null,
      upstream_model: null,
      tokens: { input: 0, cache_read: 0, cache_write: 0, reasoning: 0, output: 0 },
      estimated: false,
      status: 403,
      outcome: "error",
      attempts: 0,
      ttft_ms: null,
      stream: false
    })
    records.length = 0
    run(MASTER, "gpt-4o")
    expect(records.map((r) => [r.key_id, r.project_id, r.status])).toEqual([[null, null, 404]])
  })

  it("a handler of chat for another API records that API, and routes the request as chat", () => {
    records.length = 0
    resolved.length = 0
    Effect.runSyncExit(
      proxyHandler("chat", usage, "messages")(
        request({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] }),
        snapshot,
        "req-2",
        "/v1/messages",
        MASTER
      )
    )
    expect(resolved).toEqual(["gpt-4o"])
    expect(records.map((r) => [r.request_id, r.endpoint])).toEqual([["req-2", "messages"]])
  })

  it("the master key may use any model", () => {
    expect(run(MASTER, "gpt-4o")._tag).toBe("ModelNotFound")
    expect(resolved).toEqual(["gpt-4o"])
  })
})

// Issue 10, item 2: bounded input. A model name longer than `server.identifier_limit` is refused
// before routing, pattern matching and the key's model check; a body nested deeper than
// `server.json_depth_limit` is refused before it is parsed.
describe("proxy input bounds", () => {
  const { identifierLimit, jsonDepthLimit } = config.server.bounds

  const runRaw = (principal: Principal, raw: Uint8Array, at: Snapshot = snapshot) => {
    resolved.length = 0
    const exit = Effect.runSyncExit(
      proxyHandler("chat", usage)(
        { ...request({}), body: () => Effect.succeed(raw) },
        at,
        "req-1",
        "/v1/chat/completions",
        principal
      )
    )
    if (Exit.isSuccess(exit)) throw new Error("expected a failure")
    const error = exit.cause.reasons.find((r) => r._tag === "Fail")?.error
    if (!(error instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${String(exit.cause)}`)
    return error.reason
  }
  const encode = (value: string) => new TextEncoder().encode(value)

  it("defaults: identifiers 256 characters, JSON 64 levels", () => {
    expect([identifierLimit, jsonDepthLimit]).toEqual([256, 64])
  })

  it("a model name over the limit → 400 naming `model`, before the key's check and routing", () => {
    const long = "gpt-4o-mini".padEnd(identifierLimit + 1, "x")
    for (const principal of [virtual, MASTER]) {
      const reason = run(principal, long)
      expect(reason).toEqual({
        _tag: "InvalidRequest",
        param: "model",
        message: `Invalid value for 'model': longer than ${identifierLimit} characters, the most this gateway accepts.`
      })
      expect(describeError(reason).status).toBe(400)
      expect(resolved).toEqual([])
    }
    // 10 KB, as a client might send it.
    expect(run(MASTER, "m".repeat(10_240))).toMatchObject({ _tag: "InvalidRequest", param: "model" })
    // At the limit: on to routing.
    expect(run(MASTER, "m".repeat(identifierLimit))._tag).toBe("ModelNotFound")
    expect(resolved).toEqual(["m".repeat(identifierLimit)])
  })

  it("the limit comes from server.identifier_limit", () => {
    const r = parseConfig(
      `server: { identifier_limit: 8 }
providers: [{ name: m, kind: mock }]
models: [{ name: "gpt-*", targets: [{ provider: m }] }]`,
      {},
      "t"
    )
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    const small = { ...snapshot, config: r.success } as Snapshot
    const body = (model: string) => encode(JSON.stringify({ model, messages: [{ role: "user", content: "x" }] }))
    expect(runRaw(MASTER, body("gpt-4o-mx"), small)).toMatchObject({ _tag: "InvalidRequest", param: "model" })
    expect(runRaw(MASTER, body("gpt-4o-m"), small)._tag).toBe("ModelNotFound")
  })

  it("a body nested deeper than the limit → 400 invalid_json naming the limit, never parsed", () => {
    const deep = encode(
      `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"x":${"[".repeat(10_000)}${"]".repeat(10_000)}}`
    )
    const reason = runRaw(MASTER, deep)
    expect(reason).toEqual({
      _tag: "InvalidJson",
      detail: `it is nested deeper than ${jsonDepthLimit} levels, the most this gateway accepts`
    })
    expect(describeError(reason)).toMatchObject({ status: 400, code: "invalid_json" })
    expect(resolved).toEqual([])
  })

  it("a body exactly at the depth limit is parsed and routed; brackets inside strings do not count", () => {
    // The object itself is level 1: `x` holds 63 more.
    const atLimit = encode(
      `{"model":"gpt-4o","messages":[{"role":"user","content":"${"[".repeat(500)}\\"{{"}],"x":${"[".repeat(jsonDepthLimit - 1)}${"]".repeat(jsonDepthLimit - 1)}}`
    )
    expect(runRaw(MASTER, atLimit)._tag).toBe("ModelNotFound")
    const over = encode(
      `{"model":"gpt-4o","messages":[],"x":${"[".repeat(jsonDepthLimit)}${"]".repeat(jsonDepthLimit)}}`
    )
    expect(runRaw(MASTER, over)._tag).toBe("InvalidJson")
  })
})
