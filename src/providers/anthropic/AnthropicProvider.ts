/**
 * The `anthropic` provider kind: Anthropic's Messages API behind the gateway's OpenAI-shaped chat
 * completions. Everything Anthropic-specific stays in this folder: the request is translated to a
 * Messages request (AnthropicRequest.ts) and sent to `{base_url}/v1/messages` with the
 * `anthropic-version` header and the key in `x-api-key` (config/loadConfig.ts maps `api_key` so);
 * a JSON answer comes back as a `chat.completion` (AnthropicResponse.ts), an event stream as
 * `chat.completion.chunk` events ending in `[DONE]` (AnthropicStream.ts, with the usage chunk when
 * the request asked for it), and an error in OpenAI's error shape (AnthropicErrors.ts) with its
 * status and `Retry-After`, except that `529 overloaded` becomes 503, which clients and the
 * dispatcher already retry. The rest of the gateway sees an OpenAI-compatible provider.
 *
 * Only chat completions translate: a completions or embeddings request routed here is a 400 that
 * names the provider. What a request asks that Messages cannot do is a 400 naming the field.
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import type { ResolvedBounds, ResolvedProvider } from "../../config/Config.ts"
import { formatBytes, gatewayError, type GatewayError } from "../../domain/GatewayError.ts"
import { invalidRequest } from "../../domain/RequestProblem.ts"
import { chunkStream } from "../../streaming/ChunkStream.ts"
import { SSE_CONTENT_TYPE } from "../../streaming/Sse.ts"
import { clientOptions, parseJsonObject, relayHeaders, upstreamHeaders } from "../openai/OpenAIProvider.ts"
import { classifyOpenAIEvent, OPENAI_STREAM_TERMINATOR } from "../openai/events.ts"
import type { Provider, ProviderRequest, ProviderResponse } from "../Provider.ts"
import {
  UpstreamClients,
  type UpstreamBodyTooLarge,
  type UpstreamFailure,
  type UpstreamResponse
} from "../UpstreamClients.ts"
import { toOpenAIErrorBody } from "./AnthropicErrors.ts"
import { ANTHROPIC_VERSION } from "./Kind.ts"
import { toAnthropicRequest } from "./AnthropicRequest.ts"
import { toOpenAIChatCompletion } from "./AnthropicResponse.ts"
import { makeAnthropicStreamTranslator } from "./AnthropicStream.ts"

export { clientOptions }

/** `max_tokens` of a request that sets neither `max_tokens` nor `max_completion_tokens` (Messages requires one). */
export const DEFAULT_MAX_TOKENS = 4096
/** Anthropic's "overloaded" status, answered as 503. */
const OVERLOADED = 529

const encoder = new TextEncoder()

export const make = Effect.fnUntraced(function* (
  config: ResolvedProvider,
  bounds: Pick<ResolvedBounds, "upstreamBodyLimit" | "sseLineLimit">
) {
  const clients = yield* UpstreamClients
  const client = yield* clients.get(clientOptions(config))
  const decodes = clients.decodesBodies
  const version = { "anthropic-version": config.anthropicVersion ?? ANTHROPIC_VERSION }
  const streamHeaders = { ...upstreamHeaders(config, SSE_CONTENT_TYPE), ...version }
  const jsonHeaders = { ...upstreamHeaders(config, "application/json"), ...version }
  const url = `${config.baseUrl}/v1/messages`

  const unreachable = gatewayError({ _tag: "UpstreamUnreachable", provider: config.name })
  const timedOut = Effect.fail(
    gatewayError({ _tag: "UpstreamTimeout", provider: config.name, after_ms: config.requestTimeoutMs })
  )
  const withinRequestTimeout = { duration: config.requestTimeoutMs, orElse: () => timedOut }
  const idle = gatewayError({ _tag: "UpstreamTimeout", provider: config.name, after_ms: config.idleTimeoutMs })
  const streamOptions = { idleMs: config.idleTimeoutMs, onIdle: () => idle, onError: () => unreachable }
  const protocol = (message: string) => gatewayError({ _tag: "UpstreamProtocol", provider: config.name, message })
  const tooLarge = protocol(
    `the response body is larger than ${formatBytes(bounds.upstreamBodyLimit)} (server.upstream_body_limit)`
  )
  const toReadError = (error: UpstreamFailure | UpstreamBodyTooLarge): GatewayError =>
    error._tag === "UpstreamBodyTooLarge" ? tooLarge : unreachable

  const json = (status: number, headers: Record<string, string>, value: Record<string, unknown>): ProviderResponse => {
    headers["content-type"] = "application/json"
    delete headers["content-encoding"]
    return { status, headers, body: { _tag: "Buffered", bytes: encoder.encode(JSON.stringify(value)), json: value } }
  }

  /** A whole answer: a message as a chat completion, an error in OpenAI's shape (its status kept, 529 → 503). */
  const buffered = (response: UpstreamResponse): Effect.Effect<ProviderResponse, GatewayError> =>
    Effect.flatMap(Effect.mapError(response.bytes(bounds.upstreamBodyLimit), toReadError), (bytes) => {
      const parsed = parseJsonObject(bytes)
      const headers = relayHeaders(response.headers, decodes)
      if (response.status >= 400 && response.status <= 599) {
        const status = response.status === OVERLOADED ? 503 : response.status
        return Effect.succeed(
          json(
            status,
            headers,
            toOpenAIErrorBody(response.status, Result.isSuccess(parsed) ? parsed.success : undefined)
          )
        )
      }
      if (Result.isFailure(parsed))
        return Effect.fail(protocol(`it answered ${response.status} with ${parsed.failure}`))
      const completion = toOpenAIChatCompletion(parsed.success, Math.floor(Date.now() / 1000))
      if (completion === undefined || response.status >= 300)
        return Effect.fail(protocol(`it answered ${response.status} with JSON that is not a message`))
      return Effect.succeed(json(response.status, headers, completion))
    })

  const call = (request: ProviderRequest): Effect.Effect<ProviderResponse, GatewayError> => {
    if (request.endpoint !== "chat") {
      return Effect.fail(
        gatewayError({
          _tag: "InvalidRequest",
          param: "model",
          message: `Provider \`${config.name}\` (kind anthropic) serves chat completions only, not ${request.endpoint}.`
        })
      )
    }
    const translated = toAnthropicRequest(request.body, request.upstreamModel, DEFAULT_MAX_TOKENS)
    if (Result.isFailure(translated)) return Effect.fail(invalidRequest(translated.failure))
    const headers = request.stream ? streamHeaders : jsonHeaders
    const sent = client.post({
      url,
      headers: request.traceparent === undefined ? headers : { ...headers, traceparent: request.traceparent },
      body: encoder.encode(JSON.stringify(translated.success))
    })
    if (!request.stream)
      return sent.pipe(
        Effect.mapError(() => unreachable),
        Effect.flatMap(buffered),
        Effect.timeoutOrElse(withinRequestTimeout)
      )
    const options = request.body["stream_options"]
    const includeUsage =
      options !== null && typeof options === "object" && (options as Record<string, unknown>)["include_usage"] === true
    return Effect.flatMap(
      sent.pipe(
        Effect.mapError(() => unreachable),
        Effect.timeoutOrElse(withinRequestTimeout)
      ),
      (response): Effect.Effect<ProviderResponse, GatewayError> => {
        if (response.status >= 400 || !(response.headers["content-type"] ?? "").startsWith(SSE_CONTENT_TYPE))
          return buffered(response).pipe(Effect.timeoutOrElse(withinRequestTimeout))
        const translator = makeAnthropicStreamTranslator({
          created: Math.floor(Date.now() / 1000),
          includeUsage,
          lineLimit: bounds.sseLineLimit
        })
        const stream = chunkStream(response.reader, streamOptions).pipe(
          Stream.map(translator.push),
          Stream.concat(Stream.suspend(() => Stream.succeed(translator.end()))),
          Stream.filter((chunk) => chunk.length > 0)
        )
        const relayed = relayHeaders(response.headers, decodes)
        relayed["content-type"] = SSE_CONTENT_TYPE
        return Effect.succeed({ status: response.status, headers: relayed, body: { _tag: "Stream", stream } })
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
