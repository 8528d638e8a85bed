/**
 * An OpenAI chat completions answer → Anthropic's Messages API shape, for clients that called
 * `POST /v1/messages`: the whole `chat.completion` (toAnthropicMessage), its finish reason
 * (stopReason), its usage (anthropicUsageFromOpenAI) and an upstream error (toAnthropicError).
 * MessagesStream.ts does the same for a stream and uses the last three.
 *
 * Usage: OpenAI counts inclusively (`prompt_tokens` includes the cached tokens and, where a
 * provider reports them, the tokens written to its cache); Anthropic counts exclusively
 * (`input_tokens` are only the tokens neither read from nor written to the cache). So
 *
 *   input_tokens = prompt − cached − cache_creation,   cache_read_input_tokens = cached,
 *   cache_creation_input_tokens = cache_creation,     output_tokens = completion
 *
 * with each detail capped so no count goes negative. Reasoning tokens stay inside `output_tokens`,
 * as Anthropic bills thinking.
 *
 * Reasoning text (`reasoning_content`, or `reasoning` as some providers name it) becomes a leading
 * `thinking` block with an empty signature (there is no Anthropic signature to give; the request
 * side drops thinking blocks a client sends back). A refusal (`message.refusal`) is the text when
 * there is no other text. The message id is the completion's (`chatcmpl-` removed) behind `msg_`.
 */
import { anthropicTypeOfStatus } from "../providers/anthropic/AnthropicErrors.ts"
import { asObject, countField } from "../providers/UsageFields.ts"

type Json = Record<string, unknown>

/** OpenAI `finish_reason` → Anthropic `stop_reason`. */
export const stopReason = (finish: unknown): string => {
  switch (finish) {
    case "length":
      return "max_tokens"
    case "tool_calls":
    case "function_call":
      return "tool_use"
    case "content_filter":
      return "refusal"
    default:
      return "end_turn"
  }
}

/** OpenAI usage (untrusted JSON) → Anthropic usage; zeros when it is missing. */
export const anthropicUsageFromOpenAI = (usage: unknown): Record<string, number> => {
  const u = asObject(usage)
  const prompt = countField(u, "prompt_tokens") ?? 0
  const details = asObject(u?.["prompt_tokens_details"])
  const cached = Math.min(countField(details, "cached_tokens") ?? 0, prompt)
  const created = Math.min(countField(details, "cache_creation_tokens") ?? 0, prompt - cached)
  return {
    input_tokens: prompt - cached - created,
    cache_creation_input_tokens: created,
    cache_read_input_tokens: cached,
    output_tokens: countField(u, "completion_tokens") ?? 0
  }
}

/** `msg_` + the upstream id without its `chatcmpl-` prefix (a fresh id when there is none). */
export const anthropicMessageId = (id: unknown): string =>
  typeof id === "string" && id !== ""
    ? `msg_${id.startsWith("chatcmpl-") ? id.slice("chatcmpl-".length) : id}`
    : `msg_${crypto.randomUUID().replaceAll("-", "")}`

/** The reasoning text of a message or delta (`reasoning_content`, else `reasoning`), "" when none. */
export const reasoningOf = (message: Readonly<Json>): string => {
  const value = message["reasoning_content"] ?? message["reasoning"]
  return typeof value === "string" ? value : ""
}

/** The text of an OpenAI message content: a string, or the text of its parts. */
const contentText = (content: unknown): string => {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  return content
    .map((part) => {
      const p = asObject(part)
      return p?.["type"] === "text" && typeof p["text"] === "string" ? p["text"] : ""
    })
    .join("")
}

/** Tool arguments (a JSON string) → the tool_use input: the object they encode, else {}. */
const toolInput = (args: unknown): unknown => {
  if (typeof args !== "string") return asObject(args) ?? {}
  try {
    return asObject(JSON.parse(args)) ?? {}
  } catch {
    return {}
  }
}

const toolUseBlock = (call: unknown, position: number): Json | undefined => {
  const c = asObject(call)
  const fn = asObject(c?.["function"])
  if (c === undefined || fn === undefined) return undefined
  const id = c["id"]
  return {
    type: "tool_use",
    id: typeof id === "string" && id !== "" ? id : `toolu_${position}`,
    name: typeof fn["name"] === "string" ? fn["name"] : "",
    input: toolInput(fn["arguments"])
  }
}

/** An OpenAI `chat.completion` → an Anthropic message; undefined without `choices[0].message`. */
export const toAnthropicMessage = (
  completion: Readonly<Record<string, unknown>>,
  requestedModel: string
): Record<string, unknown> | undefined => {
  const choices = completion["choices"]
  const choice = Array.isArray(choices) ? asObject(choices[0]) : undefined
  const message = asObject(choice?.["message"])
  if (choice === undefined || message === undefined) return undefined

  const content: Array<Json> = []
  const reasoning = reasoningOf(message)
  if (reasoning !== "") content.push({ type: "thinking", thinking: reasoning, signature: "" })
  const text = contentText(message["content"])
  const refusal = message["refusal"]
  if (text !== "") content.push({ type: "text", text })
  else if (typeof refusal === "string" && refusal !== "") content.push({ type: "text", text: refusal })
  const calls = message["tool_calls"]
  if (Array.isArray(calls)) {
    for (const call of calls) {
      const block = toolUseBlock(call, content.length)
      if (block !== undefined) content.push(block)
    }
  }
  const legacy = message["function_call"]
  if (asObject(legacy) !== undefined) {
    const block = toolUseBlock({ function: legacy }, content.length)
    if (block !== undefined) content.push(block)
  }

  return {
    id: anthropicMessageId(completion["id"]),
    type: "message",
    role: "assistant",
    model: requestedModel,
    content,
    stop_reason: stopReason(choice["finish_reason"]),
    stop_sequence: null,
    usage: anthropicUsageFromOpenAI(completion["usage"])
  }
}

/** Anthropic's error type for an HTTP status: the gateway's 503 (no provider could serve) reads as overloaded. */
export const anthropicErrorType = (status: number): string =>
  status === 503 ? "overloaded_error" : anthropicTypeOfStatus(status)

/** The message of an OpenAI error body (`error.message`, or `error` itself when a string). */
const errorMessage = (body: unknown): string | undefined => {
  const error = asObject(body)?.["error"]
  if (typeof error === "string" && error !== "") return error
  const message = asObject(error)?.["message"]
  return typeof message === "string" && message !== "" ? message : undefined
}

/** An error answer (status and OpenAI-shaped body) → Anthropic's error body. */
export const toAnthropicError = (
  status: number,
  openAIErrorBody: unknown
): { readonly type: "error"; readonly error: { readonly type: string; readonly message: string } } => ({
  type: "error",
  error: {
    type: anthropicErrorType(status),
    message: errorMessage(openAIErrorBody) ?? `The request failed with HTTP status ${status}`
  }
})
