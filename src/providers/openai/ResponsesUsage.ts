/**
 * The Responses API's usage object → the normalized TokenUsage (domain/Usage.ts), for an answer of
 * `POST /v1/responses` passed through to an OpenAI provider (a JSON answer's `usage`, a stream's
 * terminal event's `response.usage`: usage/StreamUsage.ts finds it). It counts like chat's
 * (providers/openai/OpenAIUsage.ts) under other names: `input_tokens` includes
 * `input_tokens_details.cached_tokens`, `output_tokens` includes
 * `output_tokens_details.reasoning_tokens`; so
 *
 *   input = input − cached,  cache_read = cached,  cache_write = 0,
 *   reasoning = reasoning,   output = output − reasoning
 *
 * Untrusted JSON: never throws. Without a valid `input_tokens` the usage is "not reported"
 * (undefined: the caller estimates it); a detail count larger than its total is capped at it.
 */
import type { Endpoint } from "../../domain/Endpoint.ts"
import type { TokenUsage } from "../../domain/Usage.ts"
import { asObject, countField } from "../UsageFields.ts"
import { openAIUsage } from "./OpenAIUsage.ts"

export const responsesUsage = (usage: unknown): TokenUsage | undefined => {
  const u = asObject(usage)
  const input = countField(u, "input_tokens")
  if (input === undefined) return undefined
  const total = countField(u, "total_tokens")
  const output = countField(u, "output_tokens") ?? (total !== undefined && total >= input ? total - input : 0)
  const cached = Math.min(countField(asObject(u?.["input_tokens_details"]), "cached_tokens") ?? 0, input)
  const reasoning = Math.min(countField(asObject(u?.["output_tokens_details"]), "reasoning_tokens") ?? 0, output)
  return { input: input - cached, cache_read: cached, cache_write: 0, reasoning, output: output - reasoning }
}

/** The mapper of the usage an answer on `endpoint` reports: the Responses API's, else OpenAI's chat-shaped one. */
export const usageReaderOf = (endpoint: Endpoint): ((usage: unknown) => TokenUsage | undefined) =>
  endpoint === "responses" ? responsesUsage : openAIUsage
