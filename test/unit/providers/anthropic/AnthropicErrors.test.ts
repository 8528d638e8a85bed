import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { toOpenAIErrorBody } from "../../../../src/providers/anthropic/AnthropicErrors.ts"

/** Anthropic's error body, as its API reference shows it. */
const anthropicError = (type: string, message: string) => ({
  type: "error",
  error: { type, message },
  request_id: "req_011CSHoEeqs5C35K2UUqR7Fy"
})

describe("toOpenAIErrorBody", () => {
  it.each([
    [400, "invalid_request_error", "invalid_request_error", null],
    [401, "authentication_error", "authentication_error", "invalid_api_key"],
    [403, "permission_error", "permission_error", null],
    [404, "not_found_error", "invalid_request_error", "model_not_found"],
    [413, "request_too_large", "invalid_request_error", "request_too_large"],
    [429, "rate_limit_error", "rate_limit_error", "rate_limit_exceeded"],
    [500, "api_error", "server_error", null],
    [529, "overloaded_error", "server_error", "overloaded"]
  ])("%i %s → type %s, code %s, the upstream message kept", (status, anthropicType, type, code) => {
    expect(toOpenAIErrorBody(status, anthropicError(anthropicType, "Upstream says so."))).toEqual({
      error: { message: "Upstream says so.", type, param: null, code }
    })
  })

  it("names no model for a not_found_error that is not a 404", () => {
    expect(toOpenAIErrorBody(400, anthropicError("not_found_error", "x")).error.code).toBeNull()
  })

  it("gives an error type it does not know the type of its status class and keeps it as the code", () => {
    expect(toOpenAIErrorBody(402, anthropicError("billing_error", "Add credits."))).toEqual({
      error: { message: "Add credits.", type: "invalid_request_error", param: null, code: "billing_error" }
    })
    expect(toOpenAIErrorBody(504, anthropicError("timeout_error", "Timed out."))).toEqual({
      error: { message: "Timed out.", type: "server_error", param: null, code: "timeout_error" }
    })
  })

  it("says only the status of a body that is not Anthropic's error shape", () => {
    expect(toOpenAIErrorBody(502, "<html>Bad gateway</html>")).toEqual({
      error: { message: "Provider answered 502.", type: "server_error", param: null, code: null }
    })
    expect(toOpenAIErrorBody(401, undefined)).toEqual({
      error: { message: "Provider answered 401.", type: "authentication_error", param: null, code: "invalid_api_key" }
    })
    expect(toOpenAIErrorBody(429, { error: "slow down" })).toEqual({
      error: { message: "Provider answered 429.", type: "rate_limit_error", param: null, code: "rate_limit_exceeded" }
    })
    expect(toOpenAIErrorBody(529, { error: { type: "overloaded_error" } })).toEqual({
      error: { message: "Provider answered 529.", type: "server_error", param: null, code: "overloaded" }
    })
    // A proxy's 404 says nothing of the model.
    expect(toOpenAIErrorBody(404, null)).toEqual({
      error: { message: "Provider answered 404.", type: "invalid_request_error", param: null, code: null }
    })
    expect(toOpenAIErrorBody(418, [])).toEqual({
      error: { message: "Provider answered 418.", type: "invalid_request_error", param: null, code: null }
    })
  })

  it("always answers OpenAI's shape, whatever the body", () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), fc.jsonValue(), (status, body) => {
        const { error } = toOpenAIErrorBody(status, body)
        expect(typeof error.message).toBe("string")
        expect(typeof error.type).toBe("string")
        expect(error.param).toBeNull()
        expect(error.code === null || typeof error.code === "string").toBe(true)
      })
    )
  })
})
