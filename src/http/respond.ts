/**
 * Turning results into responses: OpenAI-shaped errors with the status derived from the reason,
 * JSON bodies, and provider responses relayed with their status and headers.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { describe, errorBody, type GatewayErrorReason, retryAfterSeconds } from "../domain/GatewayError.ts"
import type { ProviderResponse } from "../providers/Provider.ts"
import { errorEvents } from "../streaming/Sse.ts"
import type { OutgoingResponse } from "./Exchange.ts"

const encoder = new TextEncoder()

/** Why a body that is not UTF-8 is refused (400 invalid_json). */
export const NOT_UTF8 = "the body is not valid UTF-8"
const JSON_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json" }

export const json = (body: unknown, status = 200): OutgoingResponse => ({
  status,
  headers: JSON_HEADERS,
  body: encoder.encode(JSON.stringify(body))
})

export const bytes = (
  body: Uint8Array,
  contentType: string,
  headers: Readonly<Record<string, string>> = {}
): OutgoingResponse => ({
  status: 200,
  headers: { ...headers, "content-type": contentType },
  body
})

export const errorResponse = (reason: GatewayErrorReason): OutgoingResponse => {
  const response = json(errorBody(reason), describe(reason).status)
  const retryAfterMs = reason._tag === "RateLimited" || reason._tag === "BudgetExceeded" ? reason.retry_after_ms : null
  return retryAfterMs === null
    ? response
    : { ...response, headers: { ...response.headers, "retry-after": String(retryAfterSeconds(retryAfterMs)) } }
}

/**
 * What the runtime's own error hooks answer (a request it could not parse, an answer that could
 * not be written): OpenAI's error shape with a fresh request id, as every other answer has.
 */
export const hookAnswer = (
  reason: GatewayErrorReason
): { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string } => ({
  status: describe(reason).status,
  headers: { "content-type": "application/json", "x-request-id": crypto.randomUUID() },
  body: JSON.stringify(errorBody(reason))
})

/** What a defect answers: no detail, the request id points to the log line. */
export const UNEXPECTED: GatewayErrorReason = {
  _tag: "Internal",
  message: "The gateway hit an unexpected error; the request id identifies it in the logs."
}

/** The reason a runtime's error hook answers a request it could not parse as HTTP. */
export const unparsable = (detail: string): GatewayErrorReason => ({
  _tag: "InvalidRequest",
  param: null,
  message: `The request could not be parsed as HTTP (${detail}).`
})

/**
 * Relays a provider response, tagged with the provider that served it and the number of attempts.
 * A stream that fails after it started ends with a terminal SSE error event and `[DONE]`; relayed
 * bytes (speech audio) just end.
 */
export const providerResponse = (
  providerName: string,
  response: ProviderResponse,
  attempts: number
): OutgoingResponse => {
  const headers: Record<string, string> = {
    ...response.headers,
    "x-llmgate-provider": providerName,
    "x-llmgate-attempts": String(attempts)
  }
  headers["content-type"] ??= "application/json"
  return {
    status: response.status,
    headers,
    body:
      response.body._tag === "Buffered"
        ? response.body.bytes
        : response.body._tag === "Bytes"
          ? // Opaque bytes have no way to say a failure: the answer just ends there (logged).
            response.body.stream.pipe(
              Stream.catch((error) => Stream.fromEffectDrain(Effect.logWarning("relayed answer cut off", error.reason)))
            )
          : response.body.stream.pipe(Stream.catch((error) => Stream.succeed(errorEvents(error.reason))))
  }
}
