/**
 * `POST /v1/messages`: Anthropic's Messages API served from any provider, so the Claude SDKs work
 * against the gateway unchanged. The request is translated into a chat completions request
 * (messages/MessagesRequest.ts) and handled by the chat proxy exactly as a chat request — routing,
 * the key's model check, limits and budgets, usage records, spans — and its answer is translated
 * back: a completion into a message (messages/MessagesResponse.ts), a stream of chunks into
 * Anthropic's events (messages/MessagesStream.ts). The client authenticates with `x-api-key` or
 * `Authorization: Bearer` (App.ts). Every error, the gateway's own included (a bad key, an unknown
 * model, a 429 with its `Retry-After`), comes in Anthropic's error shape with its status
 * (`anthropicErrors`, applied to every answer on these paths).
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import type { Principal } from "../auth/Auth.ts"
import { GatewayError, gatewayError } from "../domain/GatewayError.ts"
import type { Snapshot } from "../GatewayState.ts"
import { toChatRequest } from "../messages/MessagesRequest.ts"
import { toAnthropicError, toAnthropicMessage } from "../messages/MessagesResponse.ts"
import { makeMessagesStreamTranslator } from "../messages/MessagesStream.ts"
import { SSE_CONTENT_TYPE } from "../streaming/Sse.ts"
import type { IncomingRequest, OutgoingResponse } from "./Exchange.ts"
import { parseJsonObject } from "./Proxy.ts"

export const MESSAGES_PATH = "/v1/messages"

type ChatHandler = (
  request: IncomingRequest,
  snapshot: Snapshot,
  requestId: string,
  path: string,
  principal: Principal | undefined,
  receivedAt?: number,
  span?: Tracer.Span
) => Effect.Effect<OutgoingResponse, GatewayError>

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const parsed = (bytes: Uint8Array): Readonly<Record<string, unknown>> | undefined => {
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes))
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/**
 * An answer on the Messages paths in Anthropic's error shape when it is an error (status ≥ 400 with
 * a JSON body): the gateway's OpenAI-shaped errors, whoever made them, keep their status and headers.
 */
export const anthropicErrors = (response: OutgoingResponse): OutgoingResponse => {
  if (response.status < 400 || !(response.body instanceof Uint8Array)) return response
  const body = toAnthropicError(response.status, parsed(response.body))
  return {
    status: response.status,
    headers: { ...response.headers, "content-type": "application/json" },
    body: encoder.encode(JSON.stringify(body))
  }
}

/** The Messages handler over the chat proxy handler `chat`. */
export const messagesHandler =
  (chat: ChatHandler) =>
  (
    request: IncomingRequest,
    snapshot: Snapshot,
    requestId: string,
    path: string,
    principal: Principal | undefined,
    receivedAt: number,
    span: Tracer.Span | undefined
  ): Effect.Effect<OutgoingResponse, GatewayError> =>
    Effect.flatMap(request.body(snapshot.config.server.bodyLimit), (raw) => {
      const { bounds } = snapshot.config.server
      const body = parseJsonObject(raw, bounds.jsonDepthLimit)
      if (body instanceof GatewayError) return Effect.fail(body)
      const translated = toChatRequest(body)
      if (Result.isFailure(translated))
        return Effect.fail(
          gatewayError({ _tag: "InvalidRequest", param: translated.failure.param, message: translated.failure.message })
        )
      const requestedModel = typeof body["model"] === "string" ? body["model"] : ""
      const chatBody = encoder.encode(JSON.stringify(translated.success))
      const inner: IncomingRequest = {
        method: request.method,
        url: request.url,
        header: request.header,
        remoteAddress: request.remoteAddress,
        body: () => Effect.succeed(chatBody)
      }
      return Effect.map(chat(inner, snapshot, requestId, path, principal, receivedAt, span), (response) => {
        if (response.status >= 400) return response
        if (response.body instanceof Uint8Array) {
          const completion = parsed(response.body)
          const message = completion === undefined ? undefined : toAnthropicMessage(completion, requestedModel)
          if (message === undefined) return response
          return {
            status: response.status,
            headers: { ...response.headers, "content-type": "application/json" },
            body: encoder.encode(JSON.stringify(message))
          }
        }
        const translator = makeMessagesStreamTranslator({ requestedModel, lineLimit: bounds.sseLineLimit })
        return {
          status: response.status,
          headers: { ...response.headers, "content-type": SSE_CONTENT_TYPE },
          body: response.body.pipe(
            Stream.map(translator.push),
            Stream.concat(Stream.suspend(() => Stream.succeed(translator.end()))),
            Stream.filter((chunk) => chunk.length > 0)
          )
        }
      })
    })
