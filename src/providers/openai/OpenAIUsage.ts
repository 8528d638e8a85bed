/**
 * OpenAI's usage object → the normalized TokenUsage (domain/Usage.ts). OpenAI counts inclusively:
 * `prompt_tokens` includes `prompt_tokens_details.cached_tokens`, and `completion_tokens` includes
 * `completion_tokens_details.reasoning_tokens`. The disjoint kinds are therefore
 *
 *   input = prompt − cached,  cache_read = cached,  cache_write = 0,
 *   reasoning = reasoning,    output = completion − reasoning
 *
 * and they sum to `prompt_tokens + completion_tokens` (= `total_tokens`): nothing is billed twice.
 * OpenAI reports no cache writes (its prompt cache is written at no extra charge).
 *
 * Usage is untrusted JSON: the mapper never throws. Without a valid `prompt_tokens` the usage is
 * "not reported" (undefined), so the caller estimates it. `completion_tokens` absent (embeddings)
 * is `total_tokens − prompt_tokens` when that is valid, else 0. A detail count that is not a count
 * is ignored, and one larger than its total is capped at the total (a provider's bug must not make
 * a kind negative).
 */
import type { TokenUsage } from "../../domain/Usage.ts"
import { asObject, countField } from "../UsageFields.ts"

export const openAIUsage = (usage: unknown): TokenUsage | undefined => {
  const u = asObject(usage)
  const prompt = countField(u, "prompt_tokens")
  if (prompt === undefined) return undefined
  const total = countField(u, "total_tokens")
  const completion = countField(u, "completion_tokens") ?? (total !== undefined && total >= prompt ? total - prompt : 0)
  const cached = Math.min(countField(asObject(u?.["prompt_tokens_details"]), "cached_tokens") ?? 0, prompt)
  const reasoning = Math.min(
    countField(asObject(u?.["completion_tokens_details"]), "reasoning_tokens") ?? 0,
    completion
  )
  return { input: prompt - cached, cache_read: cached, cache_write: 0, reasoning, output: completion - reasoning }
}

/** The usage of an OpenAI response body or stream chunk (`body.usage`), when it reports one. */
export const openAIUsageOf = (body: unknown): TokenUsage | undefined => openAIUsage(asObject(body)?.["usage"])
