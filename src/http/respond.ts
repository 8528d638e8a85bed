/**
 * Turning results into HTTP responses: OpenAI-shaped errors with the status derived from the reason,
 * JSON bodies, and provider responses relayed with their status and headers.
 */
import { HttpServerResponse } from "effect/http"
import { describe, errorBody, type GatewayErrorReason } from "../domain/GatewayError.ts"
import type { ProviderResponse } from "../providers/Provider.ts"

export const errorResponse = (reason: GatewayErrorReason): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.jsonUnsafe(errorBody(reason), { status: describe(reason).status })

export const json = (body: unknown, status = 200): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.jsonUnsafe(body, { status })

/** Relays a provider response, tagging it with the provider that served it. */
export const providerResponse = (providerName: string, response: ProviderResponse): HttpServerResponse.HttpServerResponse => {
  const { "content-type": contentType, ...rest } = response.headers
  const headers = { ...rest, "x-llmgate-provider": providerName }
  const options = { status: response.status, headers, contentType: contentType ?? "application/json" }
  return response.body._tag === "Buffered"
    ? HttpServerResponse.uint8Array(response.body.bytes, options)
    : HttpServerResponse.stream(response.body.stream, options)
}
