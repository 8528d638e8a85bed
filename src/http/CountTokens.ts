/**
 * `POST /v1/messages/count_tokens`: Anthropic's token counting endpoint (`messages.countTokens` in
 * the Claude SDKs, which Claude Code uses to size its context) answered `{ "input_tokens": N }`.
 * Authenticated as `/v1/messages` is (`x-api-key` or `Authorization: Bearer`, App.ts), every error
 * in Anthropic's shape (`anthropicErrors`). The body is read as the proxy reads one (bounded, depth
 * checked, the model name's length limited), then validated as a Messages request
 * (messages/MessagesRequest.ts `toChatRequest`, a 400 naming the field; `max_tokens` is neither
 * required nor read). The key must be allowed the model (403) and the model must exist (404),
 * checked on the name `/v1/messages` would route (a `routes` entry pinning that path applies). No
 * provider is called, no rate limit or budget is counted, no usage record is left.
 *
 * The count: the request's text (`textOfRequest`: the system prompt, every message's text, tool
 * calls and results and thinking, the tool definitions), counted as one text with gpt-tokenizer's
 * `o200k_base` — an approximation for Claude models, whose tokenizer is not public — plus
 * `MESSAGE_OVERHEAD_TOKENS` per message (a turn's framing, as OpenAI's chat rule counts it).
 * Images and documents add nothing. A serving thread never loads an encoding (usage/Tokenizer.ts):
 * the count comes from the owner's tokenizer thread (usage/TokenCounts.ts). When no count comes
 * within `COUNT_TIMEOUT_MS` (the thread cannot start, failed within the last minute, or is stuck),
 * the answer is 503 `overloaded_error`, which the Claude SDKs retry; never a character estimate
 * passed off as a count.
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { mayUse, type Principal } from "../auth/Auth.ts"
import { GatewayError, gatewayError } from "../domain/GatewayError.ts"
import { invalidRequest } from "../domain/RequestProblem.ts"
import type { Snapshot } from "../GatewayState.ts"
import { textOfRequest, toChatRequest } from "../messages/MessagesRequest.ts"
import type { Encoding } from "../usage/Estimate.ts"
import type { TokenCountsShape } from "../usage/TokenCounts.ts"
import type { IncomingRequest, OutgoingResponse } from "./Exchange.ts"
import { MESSAGES_PATH } from "./Messages.ts"
import { identifierTooLong, parseJsonObject } from "./Proxy.ts"
import { json } from "./respond.ts"

export const COUNT_TOKENS_PATH = "/v1/messages/count_tokens"

/** The encoding every count uses (Anthropic's tokenizer is not public; o200k_base is the closest we have). */
export const COUNT_ENCODING: Encoding = "o200k_base"

/** Tokens added per entry of `messages`: a turn's framing (role and separators), as OpenAI's chat rule counts it. */
export const MESSAGE_OVERHEAD_TOKENS = 3

/** Longest wait for the owner's count (the first one includes loading the encoding, up to ~1.2 s). */
export const COUNT_TIMEOUT_MS = 10_000

/** What a count_tokens body asks for: the model it names, the text to count, and the tokens added to its count. */
export interface CountRequest {
  readonly model: string
  readonly text: string
  readonly fixed: number
}

/** A count_tokens body → what to count, or the 400 naming the field (as `/v1/messages` would answer it). */
export const countRequestOf = (
  body: Readonly<Record<string, unknown>>,
  identifierLimit: number
): CountRequest | GatewayError => {
  const model = body["model"]
  if (typeof model === "string" && model.length > identifierLimit) return identifierTooLong("model", identifierLimit)
  // The Messages request's own validation; `max_tokens` is not part of a count.
  const checked = toChatRequest({ ...body, max_tokens: 1 })
  if (Result.isFailure(checked)) {
    return invalidRequest(checked.failure)
  }
  const messages = body["messages"]
  return {
    model: model as string, // a non-empty string: toChatRequest checked it
    text: textOfRequest(body),
    fixed: MESSAGE_OVERHEAD_TOKENS * (Array.isArray(messages) ? messages.length : 0)
  }
}

/** The 503 when no count comes; its cause (which may name a file) is logged by the owner, never sent. */
const unavailable = (): GatewayError =>
  gatewayError({
    _tag: "Unavailable",
    message: "Tokens cannot be counted right now (the gateway's tokenizer is unavailable); try again later."
  })

/** The count_tokens handler over the worker's token counts. */
export const countTokensHandler =
  (tokenCounts: TokenCountsShape) =>
  (
    request: IncomingRequest,
    snapshot: Snapshot,
    _requestId: string,
    _path: string,
    principal: Principal | undefined
  ): Effect.Effect<OutgoingResponse, GatewayError> =>
    Effect.flatMap(request.body(snapshot.config.server.bodyLimit), (raw) => {
      const { bounds } = snapshot.config.server
      const body = parseJsonObject(raw, bounds.jsonDepthLimit)
      if (body instanceof GatewayError) return Effect.fail(body)
      const counted = countRequestOf(body, bounds.identifierLimit)
      if (counted instanceof GatewayError) return Effect.fail(counted)
      const model = snapshot.router.pinnedModel(MESSAGES_PATH) ?? counted.model
      if (principal === undefined || !mayUse(principal, model)) {
        return Effect.fail(gatewayError({ _tag: "ModelNotAllowed", model }))
      }
      if (snapshot.router.resolve(model) === undefined)
        return Effect.fail(gatewayError({ _tag: "ModelNotFound", model }))
      return tokenCounts.count(COUNT_ENCODING, [counted.text]).pipe(
        Effect.mapError(unavailable),
        Effect.timeoutOrElse({ duration: COUNT_TIMEOUT_MS, orElse: () => Effect.fail(unavailable()) }),
        Effect.map((counts) => json({ input_tokens: (counts[0] ?? 0) + counted.fixed }))
      )
    })
