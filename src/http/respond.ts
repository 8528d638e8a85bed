/**
 * Turning results into responses: OpenAI-shaped errors with the status derived from the reason,
 * JSON bodies, and provider responses relayed with their status and headers.
 */
import * as Stream from "effect/Stream"
import { describe, errorBody, type GatewayErrorReason } from "../domain/GatewayError.ts"
import type { ProviderResponse } from "../providers/Provider.ts"
import { errorEvents } from "../streaming/Sse.ts"
import type { OutgoingResponse } from "./Exchange.ts"

const encoder = new TextEncoder()
const JSON_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json" }

export const json = (body: unknown, status = 200): OutgoingResponse => ({
  status,
  headers: JSON_HEADERS,
  body: encoder.encode(JSON.stringify(body))
})

export const bytes = (body: Uint8Array, contentType: string, headers: Readonly<Record<string, string>> = {}): OutgoingResponse => ({
  status: 200,
  headers: { ...headers, "content-type": contentType },
  body
})

export const errorResponse = (reason: GatewayErrorReason): OutgoingResponse => json(errorBody(reason), describe(reason).status)

/**
 * Relays a provider response, tagged with the provider that served it and the number of attempts.
 * A stream that fails after it started ends with a terminal SSE error event and `[DONE]`.
 */
export const providerResponse = (providerName: string, response: ProviderResponse, attempts: number): OutgoingResponse => {
  const headers: Record<string, string> = { ...response.headers, "x-llmgate-provider": providerName, "x-llmgate-attempts": String(attempts) }
  headers["content-type"] ??= "application/json"
  return {
    status: response.status,
    headers,
    body: response.body._tag === "Buffered"
      ? response.body.bytes
      : response.body.stream.pipe(Stream.catch((error) => Stream.succeed(errorEvents(error.reason))))
  }
}
