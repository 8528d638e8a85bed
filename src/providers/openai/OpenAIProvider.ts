/**
 * The `openai` provider kind: any OpenAI-compatible HTTP API (OpenAI, vLLM, Ollama, …). The base for
 * compatible vendors: they reuse `make` and override only what differs. Requests are forwarded with
 * the client's body untouched except `model`; the client's credentials never leave the gateway.
 */
import { Context, Effect, Redacted } from "effect"
import { HttpClient, HttpClientRequest, type HttpClientError } from "effect/http"
import type { ResolvedProvider } from "../../config/Config.ts"
import { gatewayError, type GatewayError } from "../../domain/GatewayError.ts"
import { guardStream, SSE_CONTENT_TYPE } from "../../streaming/Sse.ts"
import { ENDPOINT_PATH, type Provider, type ProviderRequest, type ProviderResponse } from "../Provider.ts"

/**
 * Whether the HttpClient in use hands back decompressed bodies (fetch does, undici does not). When it
 * does, `content-encoding` must not be relayed. Runtimes set it with the client they provide.
 */
export const ClientDecodesBodies = Context.Reference<boolean>("llmgate/ClientDecodesBodies", { defaultValue: () => true })

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

const isEventStream = (headers: Readonly<Record<string, string>>): boolean =>
  (headers["content-type"] ?? "").startsWith(SSE_CONTENT_TYPE)

export const make = Effect.fnUntraced(function*(config: ResolvedProvider) {
  const client = yield* HttpClient.HttpClient
  const decodes = yield* ClientDecodesBodies
  const baseHeaders: Record<string, string> = {
    ...config.headers,
    "content-type": "application/json",
    "accept-encoding": "identity"
  }
  if (config.apiKey !== undefined) baseHeaders["authorization"] = `Bearer ${Redacted.value(config.apiKey)}`
  const streamHeaders = { ...baseHeaders, accept: SSE_CONTENT_TYPE }
  const jsonHeaders = { ...baseHeaders, accept: "application/json" }

  const unreachable = (_: HttpClientError.HttpClientError): GatewayError =>
    gatewayError({ _tag: "UpstreamUnreachable", provider: config.name })
  const timedOut = (): Effect.Effect<never, GatewayError> =>
    Effect.fail(gatewayError({ _tag: "UpstreamTimeout", provider: config.name, after_ms: config.requestTimeoutMs }))

  const call = (request: ProviderRequest): Effect.Effect<ProviderResponse, GatewayError> => {
    const httpRequest = HttpClientRequest.post(config.baseUrl + ENDPOINT_PATH[request.endpoint], {
      headers: request.stream ? streamHeaders : jsonHeaders
    }).pipe(HttpClientRequest.bodyUint8Array(upstreamPayload(request), "application/json"))

    if (!request.stream) {
      return client.execute(httpRequest).pipe(
        Effect.flatMap((response) =>
          Effect.map(response.arrayBuffer, (buffer): ProviderResponse => ({
            status: response.status,
            headers: relayHeaders(response.headers, decodes),
            body: { _tag: "Buffered", bytes: new Uint8Array(buffer) }
          }))
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
            Effect.map((buffer) => ({ status: response.status, headers, body: { _tag: "Buffered", bytes: new Uint8Array(buffer) } }))
          )
        }
        return Effect.succeed({
          status: response.status,
          headers,
          body: {
            _tag: "Stream",
            stream: guardStream(response.stream, {
              idleMs: config.idleTimeoutMs,
              onIdle: () => ({ _tag: "UpstreamTimeout", provider: config.name, after_ms: config.idleTimeoutMs }),
              onError: () => ({ _tag: "UpstreamUnreachable", provider: config.name })
            })
          }
        })
      })
    )
  }
  return { config, call } satisfies Provider
})
