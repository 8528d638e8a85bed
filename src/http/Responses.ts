/**
 * `POST /v1/responses`: OpenAI's Responses API for the stateless subset (input items,
 * instructions, function tools, text and function-call streaming events), served from any provider
 * by translation over the chat proxy (OverChat.ts) by the responses/ layer. Nothing is stored
 * (`store: false` in the answer): what needs the provider's state (`previous_response_id`,
 * `conversation`, background runs, built-in tools) is a 400 naming the field. Errors keep OpenAI's
 * shape, which the Responses API shares.
 */
import { toChatRequest } from "../responses/ResponsesRequest.ts"
import { toResponseObject } from "../responses/ResponsesResponse.ts"
import { makeResponsesStreamTranslator } from "../responses/ResponsesStream.ts"
import { type ChatHandler, overChat } from "./OverChat.ts"

export const RESPONSES_PATH = "/v1/responses"

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** The Responses handler over the chat proxy handler `chat`. */
export const responsesHandler = (chat: ChatHandler) =>
  overChat(chat, {
    toChat: toChatRequest,
    fromCompletion: (completion, body) => toResponseObject(completion, body, nowSeconds()),
    fromStream: (body, lineLimit) =>
      makeResponsesStreamTranslator({ request: body, createdAt: nowSeconds(), lineLimit })
  })
