/**
 * `POST /v1/messages`: Anthropic's Messages API served from any provider, so the Claude SDKs work
 * against the gateway unchanged: translated over the chat proxy (OverChat.ts) by the messages/
 * layer — a Messages request into a chat request, a completion into a message, a stream of chunks
 * into Anthropic's events. The client authenticates with `x-api-key` or `Authorization: Bearer`
 * (App.ts). Every error, the gateway's own included (a bad key, an unknown model, a 429 with its
 * `Retry-After`), comes in Anthropic's error shape with its status (`anthropicErrors`, which App.ts
 * applies to every answer on Anthropic's paths).
 */
import { toChatRequest } from "../messages/MessagesRequest.ts"
import { toAnthropicError, toAnthropicMessage } from "../messages/MessagesResponse.ts"
import { makeMessagesStreamTranslator } from "../messages/MessagesStream.ts"
import type { OutgoingResponse } from "./Exchange.ts"
import { type ChatHandler, overChat, parsedObject } from "./OverChat.ts"

export const MESSAGES_PATH = "/v1/messages"

const encoder = new TextEncoder()

const requestedModel = (body: Readonly<Record<string, unknown>>): string =>
  typeof body["model"] === "string" ? body["model"] : ""

/**
 * An answer on Anthropic's paths in Anthropic's error shape when it is an error (status ≥ 400 with
 * a JSON body): the gateway's OpenAI-shaped errors, whoever made them, keep their status and headers.
 */
export const anthropicErrors = (response: OutgoingResponse): OutgoingResponse => {
  if (response.status < 400 || !(response.body instanceof Uint8Array)) return response
  const body = toAnthropicError(response.status, parsedObject(response.body))
  return {
    status: response.status,
    headers: { ...response.headers, "content-type": "application/json" },
    body: encoder.encode(JSON.stringify(body))
  }
}

/** The Messages handler over the chat proxy handler `chat`. */
export const messagesHandler = (chat: ChatHandler) =>
  overChat(chat, {
    toChat: toChatRequest,
    fromCompletion: (completion, body) => toAnthropicMessage(completion, requestedModel(body)),
    fromStream: (body, lineLimit) => makeMessagesStreamTranslator({ requestedModel: requestedModel(body), lineLimit })
  })
