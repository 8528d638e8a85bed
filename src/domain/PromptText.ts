/**
 * The text of a request's input, wherever its API keeps it: what token estimates count (the
 * limiter's by characters, limits/TokenEstimate.ts; the usage estimate's by tokenizer,
 * usage/Estimate.ts). Strings, and in objects the fields that carry text: message `content`,
 * content parts' `text`, a tool call's `name` and `arguments`, a Responses
 * `function_call_output`'s `output`; at any depth up to `depth`.
 */
import { type Endpoint, inputField } from "./Endpoint.ts"

const TEXT_FIELDS = ["content", "text", "name", "arguments", "output"] as const

/** Calls `visit` with each text in `value`, up to `depth` levels down. */
export const visitText = (value: unknown, depth: number, visit: (text: string) => void): void => {
  if (typeof value === "string") {
    visit(value)
    return
  }
  if (depth === 0 || value === null || typeof value !== "object") return
  if (Array.isArray(value)) {
    for (const item of value) visitText(item, depth - 1, visit)
    return
  }
  const o = value as Record<string, unknown>
  for (const field of TEXT_FIELDS) visitText(o[field], depth - 1, visit)
}

/**
 * Calls `visit` with each text of a request body's prompt: its endpoint's input field (chat's
 * `messages`, a completion's `prompt`, …) and, on `responses`, its `instructions`.
 */
export const visitPromptText = (
  endpoint: Endpoint,
  body: Readonly<Record<string, unknown>>,
  visit: (text: string) => void
): void => {
  visitText(body[inputField(endpoint)], 5, visit)
  if (endpoint === "responses") visitText(body["instructions"], 1, visit)
}
