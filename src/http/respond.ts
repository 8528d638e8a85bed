/**
 * Turning results into HTTP responses: OpenAI-shaped errors with the status derived from the reason,
 * JSON bodies, and provider responses relayed with their status and headers.
 */
import * as Stream from "effect/Stream"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import { errorEvents } from "../streaming/Sse.ts"
import { describe, errorBody, type GatewayErrorReason } from "../domain/GatewayError.ts"
import type { ProviderResponse } from "../providers/Provider.ts"

export const errorResponse = (reason: GatewayErrorReason): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.jsonUnsafe(errorBody(reason), { status: describe(reason).status })

export const json = (body: unknown, status = 200): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.jsonUnsafe(body, { status })

/**
 * Relays a provider response, tagged with the provider that served it and the number of attempts.
 * A stream that fails after it started ends with a terminal SSE error event and `[DONE]`.
 */
export const providerResponse = (
  providerName: string,
  response: ProviderResponse,
  attempts: number
): HttpServerResponse.HttpServerResponse => {
  const { "content-type": contentType, ...rest } = response.headers
  const headers = { ...rest, "x-llmgate-provider": providerName, "x-llmgate-attempts": String(attempts) }
  const options = { status: response.status, headers, contentType: contentType ?? "application/json" }
  return response.body._tag === "Buffered"
    ? HttpServerResponse.uint8Array(response.body.bytes, options)
    : HttpServerResponse.stream(
      response.body.stream.pipe(Stream.catch((error) => Stream.succeed(errorEvents(error.reason)))),
      options
    )
}
