/**
 * OpenAI's usage object → the normalized TokenUsage (domain/Usage.ts). OpenAI counts inclusively:
 * `prompt_tokens` includes `prompt_tokens_details.cached_tokens`, and `completion_tokens` includes
 * `completion_tokens_details.reasoning_tokens`. The disjoint kinds are therefore
 *
 *   input = prompt − cached,  cache_read = cached,  cache_write = 0,
 *   reasoning = reasoning,    output = completion − reasoning
 *
 * and they sum to `prompt_tokens + completion_tokens` (= `total_tokens`): nothing is billed twice.
 * OpenAI reports no cache writes (its prompt cache is written at no extra charge); an adapter that
 * translates a provider which does (anthropic/AnthropicResponse.ts) carries them, included in
 * `prompt_tokens` like the cached tokens, as `prompt_tokens_details.cache_creation_tokens`:
 *
 *   input = prompt − cached − cache_creation,  cache_write = cache_creation
 *
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
  const details = asObject(u?.["prompt_tokens_details"])
  const cached = Math.min(countField(details, "cached_tokens") ?? 0, prompt)
  const written = Math.min(countField(details, "cache_creation_tokens") ?? 0, prompt - cached)
  const reasoning = Math.min(
    countField(asObject(u?.["completion_tokens_details"]), "reasoning_tokens") ?? 0,
    completion
  )
  return {
    input: prompt - cached - written,
    cache_read: cached,
    cache_write: written,
    reasoning,
    output: completion - reasoning
  }
}

/** The usage of an OpenAI response body or stream chunk (`body.usage`), when it reports one. */
export const openAIUsageOf = (body: unknown): TokenUsage | undefined => openAIUsage(asObject(body)?.["usage"])
