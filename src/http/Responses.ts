/**
 * `POST /v1/responses`: OpenAI's Responses API, served two ways by the model group that serves the
 * request (a `routes` entry's model for the path, else the body's `model`):
 *
 * - passed through when every target of the group and of its fallbacks is an `openai` provider: the
 *   body goes to the provider's own `/responses` with only `model` replaced, by the relayed-endpoint
 *   proxy (http/Proxy.ts, endpoint `responses`: auth, limits, routing, usage records as for any
 *   relayed endpoint); a JSON answer is relayed as JSON (its `usage.input_tokens`/`output_tokens`
 *   measured, providers/openai/ResponsesUsage.ts), an event stream as bytes as they arrive (its
 *   terminal event's `response.usage` measured on the way: usage/StreamUsage.ts). What
 *   needs the provider's state (`previous_response_id`, `store`, built-in tools) is the provider's
 *   to judge, and the stored responses are reached by id (App.ts, endpoint `stored_responses`).
 * - otherwise (a target of another kind, azure included: its Responses URL depends on an
 *   `api_version` the provider's chat version may not serve) by translation over the chat proxy
 *   (OverChat.ts) by the responses/ layer, for the stateless subset (input items, instructions,
 *   function tools, text and function-call streaming events). Nothing is stored (`store: false` in
 *   the answer): what needs the provider's state is a 400 naming the field.
 *
 * Errors keep OpenAI's shape, which the Responses API shares.
 */
import * as Effect from "effect/Effect"
import type { Principal } from "../auth/Auth.ts"
import { GatewayError } from "../domain/GatewayError.ts"
import type { Snapshot } from "../GatewayState.ts"
import { toChatRequest } from "../responses/ResponsesRequest.ts"
import { toResponseObject } from "../responses/ResponsesResponse.ts"
import { makeResponsesStreamTranslator } from "../responses/ResponsesStream.ts"
import type { ModelGroup, Router } from "../routing/Router.ts"
import { type IncomingRequest, type OutgoingResponse, withBody } from "./Exchange.ts"
import { type ChatHandler, overChat } from "./OverChat.ts"
import { parseJsonObject } from "./Proxy.ts"
import { KINDS } from "../providers/Kinds.ts"
import type { RequestSpan } from "../domain/GenAi.ts"

export const RESPONSES_PATH = "/v1/responses"

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** Whether `group` and its fallbacks have targets, all of them of a kind with a native Responses API. */
const allNative = (router: Router, group: ModelGroup): boolean => {
  const groups = [group, ...group.model.fallbacks.flatMap((name) => router.byName(name) ?? [])]
  return groups.every(
    (g) => g.targets.length > 0 && g.targets.every((target) => KINDS[target.provider.config.kind].nativeResponses)
  )
}

/**
 * Whether the request on `path` with `body` is passed through: the model serving it (as the proxy
 * resolves it) is found and native throughout. Anything else (no model, an unknown one) goes to the
 * translation, whose proxy answers it as for chat.
 */
export const passesThrough = (snapshot: Snapshot, path: string, body: Readonly<Record<string, unknown>>): boolean => {
  const model = snapshot.router.pinnedModel(path) ?? body["model"]
  if (typeof model !== "string" || model.length > snapshot.config.server.bounds.identifierLimit) return false
  const group = snapshot.router.resolve(model)
  return group !== undefined && allNative(snapshot.router, group)
}

type Handler = (
  request: IncomingRequest,
  snapshot: Snapshot,
  requestId: string,
  path: string,
  principal: Principal | undefined,
  receivedAt: number,
  span: RequestSpan | undefined
) => Effect.Effect<OutgoingResponse, GatewayError>

/**
 * The Responses handler: `relay` (the proxy handler of the `responses` endpoint) when the request
 * passes through, else the translation over the chat proxy handler `chat`. The body is read once.
 */
export const responsesHandler = (chat: ChatHandler, relay: Handler): Handler => {
  const translated = overChat(chat, {
    toChat: toChatRequest,
    fromCompletion: (completion, body) => toResponseObject(completion, body, nowSeconds()),
    fromStream: (body, lineLimit) =>
      makeResponsesStreamTranslator({ request: body, createdAt: nowSeconds(), lineLimit })
  })
  return (request, snapshot, requestId, path, principal, receivedAt, span) =>
    Effect.flatMap(request.body(snapshot.config.server.bodyLimit), (raw) => {
      const body = parseJsonObject(raw, snapshot.config.server.bounds.jsonDepthLimit)
      if (body instanceof GatewayError) return Effect.fail(body)
      const read = withBody(request, raw)
      return (passesThrough(snapshot, path, body) ? relay : translated)(
        read,
        snapshot,
        requestId,
        path,
        principal,
        receivedAt,
        span
      )
    })
}
