/**
 * An Anthropic Messages answer → an OpenAI `chat.completion`, for the `anthropic` provider kind, and
 * the two mappings the stream translator (AnthropicStream.ts) shares with it: the stop reason and
 * the usage.
 *
 * Content blocks: `text` blocks are joined (in order, with nothing between them: Anthropic splits one
 * answer into several text blocks around citations) into `message.content`, null when there is none;
 * `tool_use` blocks become `message.tool_calls` (`arguments` is the JSON text of `input`); `thinking`
 * blocks are joined into `message.reasoning_content` (the field OpenAI-compatible servers use for
 * reasoning text); other blocks (`redacted_thinking`, server tool blocks) have no OpenAI equivalent
 * and are left out.
 *
 * Usage: Anthropic's counts are exclusive, OpenAI's `prompt_tokens` inclusive, so
 * `prompt_tokens = input_tokens + cache_read_input_tokens + cache_creation_input_tokens`, with the
 * cache reads in `prompt_tokens_details.cached_tokens` (as OpenAI reports them) and the cache writes
 * in `prompt_tokens_details.cache_creation_tokens` (the gateway's field for them: OpenAI has none).
 */
import { anthropicUsage } from "./AnthropicUsage.ts"
import { asObject } from "../UsageFields.ts"

/** Anthropic's `stop_reason` → OpenAI's `finish_reason`. */
export const finishReason = (stopReason: unknown): string => {
  switch (stopReason) {
    case "max_tokens":
      return "length"
    case "tool_use":
      return "tool_calls"
    case "refusal":
      return "content_filter"
    default:
      // end_turn, stop_sequence, pause_turn (a server tool's long turn paused: the answer so far is
      // complete as far as the client can tell), and anything newer.
      return "stop"
  }
}

/** Anthropic's usage object → OpenAI's; undefined without a valid `input_tokens`. */
export const openAIUsageFromAnthropic = (usage: unknown): Record<string, unknown> | undefined => {
  const u = anthropicUsage(usage)
  if (u === undefined) return undefined
  const prompt = u.input + u.cache_read + u.cache_write
  return {
    prompt_tokens: prompt,
    completion_tokens: u.output,
    total_tokens: prompt + u.output,
    prompt_tokens_details: { cached_tokens: u.cache_read, cache_creation_tokens: u.cache_write }
  }
}

/** The JSON text of a tool call's input, as OpenAI's `arguments` carries it. */
export const toolArguments = (input: unknown): string => JSON.stringify(input ?? {})

export const toOpenAIChatCompletion = (
  message: Readonly<Record<string, unknown>>,
  created: number
): Record<string, unknown> | undefined => {
  const content = message["content"]
  if (!Array.isArray(content)) return undefined
  if (message["type"] !== undefined && message["type"] !== "message") return undefined
  let text: string | null = null
  let reasoning: string | undefined
  const toolCalls: Array<Record<string, unknown>> = []
  for (const item of content) {
    const block = asObject(item)
    switch (block?.["type"]) {
      case "text":
        if (typeof block["text"] === "string") text = (text ?? "") + block["text"]
        break
      case "thinking":
        if (typeof block["thinking"] === "string") reasoning = (reasoning ?? "") + block["thinking"]
        break
      case "tool_use":
        toolCalls.push({
          id: block["id"],
          type: "function",
          function: { name: block["name"], arguments: toolArguments(block["input"]) }
        })
        break
      default:
        break
    }
  }
  const choiceMessage: Record<string, unknown> = { role: "assistant", content: text, refusal: null }
  if (reasoning !== undefined) choiceMessage["reasoning_content"] = reasoning
  if (toolCalls.length > 0) choiceMessage["tool_calls"] = toolCalls
  const completion: Record<string, unknown> = {
    id: message["id"],
    object: "chat.completion",
    created,
    model: message["model"],
    choices: [{ index: 0, message: choiceMessage, logprobs: null, finish_reason: finishReason(message["stop_reason"]) }]
  }
  const usage = openAIUsageFromAnthropic(message["usage"])
  if (usage !== undefined) completion["usage"] = usage
  return completion
}
