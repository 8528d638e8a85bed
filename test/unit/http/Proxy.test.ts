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
import type { IncomingRequest } from "../../../src/http/Exchange.ts"
import { proxyHandler } from "../../../src/http/Proxy.ts"

const key = generateKey()
const config = (() => {
  const r = parseConfig(`providers: [{ name: m, kind: mock }]
models:
  - { name: gpt-4o, targets: [{ provider: m }] }
  - { name: gpt-4o-mini, targets: [{ provider: m }] }
routes: [{ path: "/v1/pinned/*", model: gpt-4o }]
projects: [{ id: p1, name: Acme }]
keys: [{ id: k1, name: k, prefix: "${key.prefix}", hash: "${key.hash}", project_id: p1, models: ["gpt-4o-mi*"] }]
`, {}, "t")
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
})()

const virtual = makeAuthenticator(Redacted.make("master"), config.tenancy)(`Bearer ${key.key}`) as Principal

// Routing is stubbed: a request that passes the permission check ends at `resolve`, here a 404.
const resolved: Array<string> = []
const snapshot = {
  config,
  router: {
    pinnedModel: (path: string) => (path.startsWith("/v1/pinned/") ? "gpt-4o" : undefined),
    resolve: (model: string) => {
      resolved.push(model)
      return undefined
    }
  }
} as unknown as Snapshot

const request = (body: unknown): IncomingRequest => ({
  method: "POST",
  url: "/v1/chat/completions",
  header: () => undefined,
  body: () => Effect.succeed(new TextEncoder().encode(JSON.stringify(body)))
})

const run = (principal: Principal, model: string, path = "/v1/chat/completions") => {
  resolved.length = 0
  const exit = Effect.runSyncExit(
    proxyHandler("chat")(request({ model, messages: [{ role: "user", content: "x" }] }), snapshot, "req-1", path, principal)
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
      error: { message: "This API key is not allowed to use the model `gpt-4o`.", type: "invalid_request_error", param: "model", code: "model_not_allowed" }
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

  it("the master key may use any model", () => {
    expect(run(MASTER, "gpt-4o")._tag).toBe("ModelNotFound")
    expect(resolved).toEqual(["gpt-4o"])
  })
})
