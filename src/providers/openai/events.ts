/**
 * What an OpenAI-format SSE event means for hold-back: the role-only first chunk and empty deltas
 * are preamble; text, tool calls, refusals, reasoning, a finish reason, usage or `[DONE]` are
 * content; anything that is not a JSON chunk (or is an `{"error":…}` object) is invalid.
 */
import type { StreamEventKind } from "../../domain/StreamEventKind.ts"

const nonEmpty = (v: unknown): boolean =>
  (typeof v === "string" && v !== "") ||
  (Array.isArray(v) && v.length > 0) ||
  (v !== null && typeof v === "object" && !Array.isArray(v))

const choiceHasContent = (choice: unknown): boolean => {
  if (choice === null || typeof choice !== "object") return false
  const c = choice as Record<string, unknown>
  if (c["finish_reason"] !== null && c["finish_reason"] !== undefined) return true
  if (typeof c["text"] === "string" && c["text"] !== "") return true
  const delta = c["delta"]
  if (delta === null || typeof delta !== "object") return false
  const d = delta as Record<string, unknown>
  return (
    (typeof d["content"] === "string" && d["content"] !== "") ||
    nonEmpty(d["tool_calls"]) ||
    nonEmpty(d["function_call"]) ||
    (typeof d["refusal"] === "string" && d["refusal"] !== "") ||
    (typeof d["reasoning_content"] === "string" && d["reasoning_content"] !== "") ||
    (typeof d["reasoning"] === "string" && d["reasoning"] !== "") ||
    nonEmpty(d["audio"])
  )
}

/** The data of the event that ends every complete OpenAI stream. */
export const OPENAI_STREAM_TERMINATOR = "[DONE]"

export const classifyOpenAIEvent = (data: string): StreamEventKind => {
  if (data === OPENAI_STREAM_TERMINATOR) return "content"
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch {
    return "invalid"
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "invalid"
  const chunk = value as Record<string, unknown>
  if ("error" in chunk) return "invalid"
  if (chunk["usage"] !== null && chunk["usage"] !== undefined) return "content"
  const choices = chunk["choices"]
  if (!Array.isArray(choices)) return "invalid"
  return choices.some(choiceHasContent) ? "content" : "preamble"
}
