// The one boundary around every request (`answer`): whatever a handler does, the request gets an
// answer in OpenAI's shape with its request id, and nothing escapes to the runtime.
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { gatewayError } from "../../../src/domain/GatewayError.ts"
import { answer } from "../../../src/http/App.ts"
import { isBytes, type OutgoingResponse } from "../../../src/http/Exchange.ts"
import { json } from "../../../src/http/respond.ts"

const bodyOf = (r: OutgoingResponse): unknown => {
  if (!isBytes(r.body)) throw new Error("expected bytes")
  return JSON.parse(new TextDecoder().decode(r.body))
}

describe("answer (the request boundary)", () => {
  it("turns a handler that throws while building its effect into a 500 that names nothing but the request id", async () => {
    const r = await Effect.runPromise(
      answer("req-1", () => {
        throw new URIError("URI malformed")
      })
    )
    expect(r.status).toBe(500)
    expect(r.headers["x-request-id"]).toBe("req-1")
    expect(bodyOf(r)).toEqual({
      error: { message: expect.stringContaining("request id"), type: "api_error", param: null, code: "internal_error" }
    })
    expect(JSON.stringify(bodyOf(r))).not.toContain("URI malformed")
  })

  it("turns a defect inside the effect into the same 500", async () => {
    const r = await Effect.runPromise(answer("req-2", () => Effect.die(new Error("boom"))))
    expect(r.status).toBe(500)
    expect(r.headers["x-request-id"]).toBe("req-2")
  })

  it("answers a failure with its reason's status and OpenAI body, a success as it is, both with the request id", async () => {
    const failed = await Effect.runPromise(
      answer("req-3", () => Effect.fail(gatewayError({ _tag: "ModelNotFound", model: "x" })))
    )
    expect(failed.status).toBe(404)
    expect(bodyOf(failed)).toMatchObject({ error: { code: "model_not_found", param: "model" } })
    expect(failed.headers["x-request-id"]).toBe("req-3")
    const ok = await Effect.runPromise(answer("req-4", () => Effect.succeed(json({ fine: true }))))
    expect([ok.status, bodyOf(ok), ok.headers["x-request-id"]]).toEqual([200, { fine: true }, "req-4"])
  })
})
