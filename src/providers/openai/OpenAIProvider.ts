/**
 * The `openai` provider kind: any OpenAI-compatible HTTP API (OpenAI, vLLM, Ollama, …). The base for
 * compatible vendors: they reuse `make` and override only what differs. Requests are forwarded with
 * the client's body untouched except `model`; the client's credentials never leave the gateway.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type * as HttpClientError from "effect/http/HttpClientError"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type { ResolvedProvider } from "../../config/Config.ts"
import { gatewayError, type GatewayError } from "../../domain/GatewayError.ts"
import { SSE_CONTENT_TYPE } from "../../streaming/Sse.ts"
import { ENDPOINT_PATH, type Provider, type ProviderRequest, type ProviderResponse } from "../Provider.ts"
import { UpstreamClients } from "../UpstreamClients.ts"
import { classifyOpenAIEvent, OPENAI_STREAM_TERMINATOR } from "./events.ts"

const encoder = new TextEncoder()

/** Response headers never relayed: hop-by-hop, framing, and ones the gateway sets itself. */
const DROPPED = new Set([
  "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate",
  "proxy-authorization", "content-length", "date", "server", "set-cookie", "x-request-id", "alt-svc"
])

const relayHeaders = (headers: Readonly<Record<string, string>>, decodes: boolean): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name in headers) {
    if (DROPPED.has(name) || (decodes && name === "content-encoding")) continue
    const value = headers[name]
    if (value !== undefined) out[name] = value
  }
  const upstreamId = headers["x-request-id"]
  if (upstreamId !== undefined) out["x-upstream-request-id"] = upstreamId
  return out
}

/** The body sent upstream: the client's bytes, re-serialized only when `model` must change. */
export const upstreamPayload = (request: ProviderRequest): Uint8Array =>
  request.body["model"] === request.upstreamModel
    ? request.rawBody
    : encoder.encode(JSON.stringify({ ...request.body, model: request.upstreamModel }))

/**
 * The headers sent upstream for `accept`: the gateway's own, then the provider's credential, then
 * the configured operations in order (insert: only if absent; replace: set; remove).
 */
export const upstreamHeaders = (config: ResolvedProvider, accept: string): Record<string, string> => {
  const headers: Record<string, string> = { "content-type": "application/json", "accept-encoding": "identity", accept }
  if (config.auth !== undefined) headers[config.auth.header] = Redacted.value(config.auth.value)
  for (const { op, key, value } of config.headerOps) {
    if (op === "remove") delete headers[key]
    else if (op === "replace" || headers[key] === undefined) headers[key] = value
  }
  return headers
}

const isEventStream = (headers: Readonly<Record<string, string>>): boolean =>
  (headers["content-type"] ?? "").startsWith(SSE_CONTENT_TYPE)

export const make = Effect.fnUntraced(function*(config: ResolvedProvider) {
  const clients = yield* UpstreamClients
  const client = yield* clients.get({ provider: config.name, connectTimeoutMs: config.connectTimeoutMs })
  const decodes = clients.decodesBodies
  const streamHeaders = upstreamHeaders(config, SSE_CONTENT_TYPE)
  const jsonHeaders = upstreamHeaders(config, "application/json")

  const unreachable = (_: HttpClientError.HttpClientError): GatewayError =>
    gatewayError({ _tag: "UpstreamUnreachable", provider: config.name })
  const timedOut = (): Effect.Effect<never, GatewayError> =>
    Effect.fail(gatewayError({ _tag: "UpstreamTimeout", provider: config.name, after_ms: config.requestTimeoutMs }))
  const idle = gatewayError({ _tag: "UpstreamTimeout", provider: config.name, after_ms: config.idleTimeoutMs })

  const buffered = (status: number, headers: Record<string, string>, buffer: ArrayBuffer): ProviderResponse => ({
    status,
    headers,
    body: { _tag: "Buffered", bytes: new Uint8Array(buffer) }
  })

  const call = (request: ProviderRequest): Effect.Effect<ProviderResponse, GatewayError> => {
    const httpRequest = HttpClientRequest.post(config.baseUrl + ENDPOINT_PATH[request.endpoint], {
      headers: request.stream ? streamHeaders : jsonHeaders
    }).pipe(HttpClientRequest.bodyUint8Array(upstreamPayload(request), "application/json"))

    if (!request.stream) {
      return client.execute(httpRequest).pipe(
        Effect.flatMap((response) =>
          Effect.map(response.arrayBuffer, (buffer) => buffered(response.status, relayHeaders(response.headers, decodes), buffer))
        ),
        Effect.mapError(unreachable),
        Effect.timeoutOrElse({ duration: config.requestTimeoutMs, orElse: timedOut })
      )
    }
    return client.execute(httpRequest).pipe(
      Effect.mapError(unreachable),
      Effect.timeoutOrElse({ duration: config.requestTimeoutMs, orElse: timedOut }),
      Effect.flatMap((response): Effect.Effect<ProviderResponse, GatewayError> => {
        const headers = relayHeaders(response.headers, decodes)
        if (response.status >= 400 || !isEventStream(response.headers)) {
          // An error (or a non-SSE answer) to a stream request is relayed whole, with its status.
          return response.arrayBuffer.pipe(
            Effect.mapError(unreachable),
            Effect.timeoutOrElse({ duration: config.requestTimeoutMs, orElse: timedOut }),
            Effect.map((buffer) => buffered(response.status, headers, buffer))
          )
        }
        const stream = response.stream.pipe(
          Stream.mapError(unreachable),
          Stream.timeoutOrElse({ duration: config.idleTimeoutMs, orElse: () => Stream.fail(idle) })
        )
        return Effect.succeed({ status: response.status, headers, body: { _tag: "Stream", stream } })
      })
    )
  }
  return { config, call, classifyEvent: classifyOpenAIEvent, streamTerminator: OPENAI_STREAM_TERMINATOR } satisfies Provider
})
