/**
 * The `openai` provider kind: any OpenAI-compatible HTTP API (OpenAI, vLLM, Ollama, …). The base for
 * compatible vendors: they reuse `make` and override only what differs. Requests are forwarded with
 * the client's body untouched except `model`; the client's credentials never leave the gateway.
 *
 * What comes back is checked before anything of it reaches the client: a body read whole (an answer,
 * an error, a non-SSE answer to a stream request) is capped at `server.upstream_body_limit` and must
 * be a JSON object in UTF-8, else the attempt fails with `UpstreamProtocol` (502, or another target)
 * instead of relaying an HTML page or a truncated body. An error status (4xx/5xx) whose body is not
 * JSON keeps its status and `Retry-After` (a 429 stays a 429 for retries and clients) with a body of
 * the gateway's own in OpenAI's shape. It is parsed once, here, and the parsed value
 * travels with the bytes. Streams are checked by the hold-back (streaming/HoldBack.ts).
 *
 * The relayed endpoints (images, moderations, rerank, speech: domain/Endpoint.ts) go the same way,
 * except that a successful answer that is not JSON (speech audio, an image event stream) is relayed
 * as bytes as it arrives (`Bytes`), within the idle timeout, never parsed.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import type { ResolvedBounds, ResolvedProvider } from "../../config/Config.ts"
import { errorBody, formatBytes, GatewayError, gatewayError } from "../../domain/GatewayError.ts"
import { replaceTopLevelString } from "../../domain/JsonSplice.ts"
import { replaceField } from "../../domain/MultipartField.ts"
import type { StreamedBody } from "../../domain/Upload.ts"
import { chunkStream } from "../../streaming/ChunkStream.ts"
import { isEventStream, SSE_CONTENT_TYPE } from "../../streaming/Sse.ts"
import { type Endpoint, isRoutedEndpoint, isTypedEndpoint } from "../../domain/Endpoint.ts"
import { ENDPOINT_PATH, type Provider, type ProviderRequest, type ProviderResponse } from "../Provider.ts"
import {
  type UpstreamBodyTooLarge,
  type UpstreamClientOptions,
  UpstreamClients,
  type UpstreamFailure,
  type UpstreamResponse
} from "../UpstreamClients.ts"
import { classifyOpenAIEvent, OPENAI_STREAM_TERMINATOR } from "./events.ts"

const encoder = new TextEncoder()

/** Response headers never relayed: hop-by-hop, framing, and ones the gateway sets itself. */
const DROPPED = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
  "content-length",
  "date",
  "server",
  "set-cookie",
  "x-request-id",
  "alt-svc"
])

export const relayHeaders = (headers: Readonly<Record<string, string>>, decodes: boolean): Record<string, string> => {
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

/**
 * The body sent upstream: the client's bytes as they are, with only the `model` value replaced in
 * place when it must change; re-serialized only when that cannot be done exactly. An upload is
 * streamed, opened for this attempt, its multipart `model` value replaced in its head.
 */
export const upstreamPayload = (request: ProviderRequest): Uint8Array | StreamedBody | GatewayError => {
  const model = request.body["model"]
  const upload = request.upload
  if (upload !== undefined) {
    const field = upload.field
    return upload.open(
      field === undefined || model === request.upstreamModel
        ? upload.head
        : replaceField(upload.head, field.start, field.end, request.upstreamModel)
    )
  }
  if (model === request.upstreamModel || isRoutedEndpoint(request.endpoint)) return request.rawBody
  if (typeof model === "string") {
    const spliced = replaceTopLevelString(request.rawBody, "model", request.upstreamModel)
    if (spliced !== undefined) return spliced
  }
  return encoder.encode(JSON.stringify({ ...request.body, model: request.upstreamModel }))
}

/**
 * The headers sent upstream for `accept`: the gateway's own (`user-agent` the provider's
 * `user_agent`), then the provider's credential, then the configured operations in order (insert:
 * only if absent; replace: set; remove).
 */
export const upstreamHeaders = (config: ResolvedProvider, accept: string): Record<string, string> => {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "accept-encoding": "identity",
    accept,
    "user-agent": config.userAgent
  }
  if (config.auth !== undefined) headers[config.auth.header] = Redacted.value(config.auth.value)
  for (const { op, key, value } of config.headerOps) {
    if (op === "remove") delete headers[key]
    else if (op === "replace" || headers[key] === undefined) headers[key] = value
  }
  return headers
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * A body read whole as the JSON object every answer of this API is; otherwise what it is instead
 * (said without quoting it: it may be large, and it is the upstream's, not ours to show).
 */
export const parseJsonObject = (bytes: Uint8Array): Result.Result<Readonly<Record<string, unknown>>, string> => {
  if (bytes.length === 0) return Result.fail("an empty body")
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return Result.fail("a body that is not valid UTF-8")
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return Result.fail("a body that is not JSON")
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return Result.fail("JSON that is not an object")
  return Result.succeed(value as Record<string, unknown>)
}

/** The upstream client of a provider of this kind (one pool per provider, connect timeout and connection settings). */
export const clientOptions = (config: ResolvedProvider): UpstreamClientOptions => ({
  provider: config.name,
  connectTimeoutMs: config.connectTimeoutMs,
  connection: { ...config.connection, baseUrl: config.baseUrl }
})

/** Where a compatible vendor's API differs from OpenAI's: the URL of a call (azure: per deployment). */
export interface Dialect {
  readonly url: (request: ProviderRequest) => string
}

export const make = Effect.fnUntraced(function* (
  config: ResolvedProvider,
  bounds: Pick<ResolvedBounds, "upstreamBodyLimit">,
  dialect?: Dialect
) {
  const clients = yield* UpstreamClients
  const client = yield* clients.get(clientOptions(config))
  const decodes = clients.decodesBodies
  const streamHeaders = upstreamHeaders(config, SSE_CONTENT_TYPE)
  const jsonHeaders = upstreamHeaders(config, "application/json")
  const anyHeaders = upstreamHeaders(config, "*/*")
  const urls = Object.fromEntries(
    Object.entries(ENDPOINT_PATH).map(([endpoint, path]) => [endpoint, config.baseUrl + path])
  ) as Readonly<Record<Endpoint, string>>

  const unreachable = gatewayError({ _tag: "UpstreamUnreachable", provider: config.name })
  const toUnreachable = (_: UpstreamFailure): GatewayError => unreachable
  const timedOut = Effect.fail(
    gatewayError({ _tag: "UpstreamTimeout", provider: config.name, after_ms: config.requestTimeoutMs })
  )
  const orTimedOut = () => timedOut
  const idle = gatewayError({ _tag: "UpstreamTimeout", provider: config.name, after_ms: config.idleTimeoutMs })
  const streamOptions = { idleMs: config.idleTimeoutMs, onIdle: () => idle, onError: () => unreachable }
  const withinRequestTimeout = { duration: config.requestTimeoutMs, orElse: orTimedOut }
  const protocol = (message: string) => gatewayError({ _tag: "UpstreamProtocol", provider: config.name, message })
  const { upstreamBodyLimit } = bounds
  const tooLarge = protocol(
    `the response body is larger than ${formatBytes(upstreamBodyLimit)} (server.upstream_body_limit)`
  )
  const toReadError = (error: UpstreamFailure | UpstreamBodyTooLarge): GatewayError =>
    error._tag === "UpstreamBodyTooLarge" ? tooLarge : unreachable

  /**
   * The whole answer: a success, or an error (or a non-SSE answer to a stream request); relayed as
   * it is when it is a JSON object, else a protocol failure of the attempt.
   */
  const buffered = (response: UpstreamResponse): Effect.Effect<ProviderResponse, GatewayError> =>
    Effect.flatMap(Effect.mapError(response.bytes(upstreamBodyLimit), toReadError), (bytes) => {
      const json = parseJsonObject(bytes)
      if (Result.isFailure(json)) {
        const type = response.headers["content-type"]
        const what = `${json.failure}${type === undefined ? "" : ` (content-type ${type.slice(0, 100)})`}`
        if (response.status < 400 || response.status > 599)
          return Effect.fail(protocol(`it answered ${response.status} with ${what}`))
        const own = errorBody({
          _tag: "ProviderFailure",
          provider: config.name,
          status: response.status,
          message: `Provider \`${config.name}\` answered ${response.status} with ${what}.`
        })
        // The upstream's headers (Retry-After, ids) but none describing its body, which is not sent.
        const headers = relayHeaders(response.headers, decodes)
        delete headers["content-encoding"]
        headers["content-type"] = "application/json"
        return Effect.succeed({
          status: response.status,
          headers,
          body: { _tag: "Buffered", bytes: encoder.encode(JSON.stringify(own)), json: own }
        } satisfies ProviderResponse)
      }
      return Effect.succeed({
        status: response.status,
        headers: relayHeaders(response.headers, decodes),
        body: { _tag: "Buffered", bytes, json: json.success }
      } satisfies ProviderResponse)
    })

  /** A relayed endpoint's answer: a success that is not JSON goes as bytes, anything else as `buffered`. */
  const relayed = (response: UpstreamResponse): Effect.Effect<ProviderResponse, GatewayError> =>
    response.status >= 400 || (response.headers["content-type"] ?? "").includes("json")
      ? buffered(response)
      : Effect.succeed({
          status: response.status,
          headers: relayHeaders(response.headers, decodes),
          body: { _tag: "Bytes", stream: chunkStream(response.reader, streamOptions) }
        } satisfies ProviderResponse)

  const call = (request: ProviderRequest): Effect.Effect<ProviderResponse, GatewayError> => {
    const typed = isTypedEndpoint(request.endpoint)
    const headers = !typed ? anyHeaders : request.stream ? streamHeaders : jsonHeaders
    const traced = request.traceparent === undefined ? headers : { ...headers, traceparent: request.traceparent }
    const body = upstreamPayload(request)
    if (body instanceof GatewayError) return Effect.fail(body)
    const sent = client.post({
      method: request.method,
      url:
        dialect !== undefined
          ? dialect.url(request)
          : request.subpath === undefined && request.query === undefined
            ? urls[request.endpoint]
            : `${urls[request.endpoint]}${request.subpath ?? ""}${request.query ?? ""}`,
      headers: request.contentType === undefined ? traced : { ...traced, "content-type": request.contentType },
      body
    })
    if (!typed || !request.stream) {
      return sent.pipe(
        Effect.mapError(toUnreachable),
        Effect.flatMap(typed ? buffered : relayed),
        Effect.timeoutOrElse(withinRequestTimeout)
      )
    }
    return Effect.flatMap(
      sent.pipe(Effect.mapError(toUnreachable), Effect.timeoutOrElse(withinRequestTimeout)),
      (response): Effect.Effect<ProviderResponse, GatewayError> => {
        if (response.status >= 400 || !isEventStream(response.headers)) {
          return buffered(response).pipe(Effect.timeoutOrElse(withinRequestTimeout))
        }
        const stream = chunkStream(response.reader, streamOptions)
        return Effect.succeed({
          status: response.status,
          headers: relayHeaders(response.headers, decodes),
          body: { _tag: "Stream", stream }
        })
      }
    )
  }
  return {
    config,
    call,
    classifyEvent: classifyOpenAIEvent,
    streamTerminator: OPENAI_STREAM_TERMINATOR
  } satisfies Provider
})
