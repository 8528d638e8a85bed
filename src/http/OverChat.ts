/**
 * An API served over the chat proxy by translation (`/v1/messages`, `/v1/responses`): the request
 * body is translated into a chat completions request and handled by the chat proxy exactly as one —
 * routing, the key's model check, limits and budgets, usage records, spans — and its successful
 * answer translated back, a JSON completion whole, a stream of chunks event by event (the
 * translator keeps what an event split across chunks needs). An error answer goes on as the proxy
 * gave it (its API decides its shape: http/Messages.ts); a body the translation refuses is a 400
 * naming the field.
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import type { Principal } from "../auth/Auth.ts"
import { GatewayError } from "../domain/GatewayError.ts"
import { invalidRequest, type RequestProblem } from "../domain/RequestProblem.ts"
import type { Snapshot } from "../GatewayState.ts"
import type { StreamTranslator } from "../streaming/EventTranslator.ts"
import { SSE_CONTENT_TYPE } from "../streaming/Sse.ts"
import { type IncomingRequest, type OutgoingResponse, withBody } from "./Exchange.ts"
import { parseJsonObject } from "./Proxy.ts"
import type { RequestSpan } from "../domain/GenAi.ts"

type Json = Record<string, unknown>

export type ChatHandler = (
  request: IncomingRequest,
  snapshot: Snapshot,
  requestId: string,
  path: string,
  principal: Principal | undefined,
  receivedAt?: number,
  span?: RequestSpan
) => Effect.Effect<OutgoingResponse, GatewayError>

/** One API's translation to and from chat completions. */
export interface Translation {
  readonly toChat: (body: Readonly<Json>) => Result.Result<Json, RequestProblem>
  /** A chat completion → the API's answer (undefined: not a completion; relayed as it is). */
  readonly fromCompletion: (completion: Readonly<Json>, body: Readonly<Json>) => Json | undefined
  /** A translator of the chat chunk stream into the API's events. */
  readonly fromStream: (body: Readonly<Json>, lineLimit: number) => StreamTranslator
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A JSON object's bytes parsed, or undefined. */
export const parsedObject = (bytes: Uint8Array): Readonly<Json> | undefined => {
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes))
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined
  } catch {
    return undefined
  }
}

/** The handler of an API translated by `translation` over the chat proxy handler `chat`. */
export const overChat =
  (chat: ChatHandler, translation: Translation) =>
  (
    request: IncomingRequest,
    snapshot: Snapshot,
    requestId: string,
    path: string,
    principal: Principal | undefined,
    receivedAt: number,
    span: RequestSpan | undefined
  ): Effect.Effect<OutgoingResponse, GatewayError> =>
    Effect.flatMap(request.body(snapshot.config.server.bodyLimit), (raw) => {
      const { bounds } = snapshot.config.server
      const body = parseJsonObject(raw, bounds.jsonDepthLimit)
      if (body instanceof GatewayError) return Effect.fail(body)
      const translated = translation.toChat(body)
      if (Result.isFailure(translated)) return Effect.fail(invalidRequest(translated.failure))
      const chatBody = encoder.encode(JSON.stringify(translated.success))
      const inner = withBody(request, chatBody)
      return Effect.map(chat(inner, snapshot, requestId, path, principal, receivedAt, span), (response) => {
        if (response.status >= 400) return response
        if (response.body instanceof Uint8Array) {
          const completion = parsedObject(response.body)
          const answer = completion === undefined ? undefined : translation.fromCompletion(completion, body)
          if (answer === undefined) return response
          return {
            status: response.status,
            headers: { ...response.headers, "content-type": "application/json" },
            body: encoder.encode(JSON.stringify(answer))
          }
        }
        const translator = translation.fromStream(body, bounds.sseLineLimit)
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
