/**
 * Anthropic's usage object → the normalized TokenUsage (domain/Usage.ts), the first piece of the
 * Anthropic adapter. Anthropic counts exclusively: `input_tokens` are only the input tokens read
 * neither from nor into the prompt cache; `cache_read_input_tokens` and
 * `cache_creation_input_tokens` are separate. So the kinds map one to one:
 *
 *   input = input_tokens,  cache_read = cache_read_input_tokens,
 *   cache_write = cache_creation_input_tokens,  output = output_tokens,  reasoning = 0
 *
 * and the total is their plain sum: nothing is billed twice. Anthropic does not report thinking
 * tokens apart from `output_tokens` (they are billed as output), so reasoning stays 0 and they are
 * priced as output. Cache writes are one kind here: a 1-hour cache write (priced higher than the
 * default 5-minute one) is priced as a cache write at the model's `cache_write` price.
 *
 * In a stream, `message_start` carries the input counts and `message_delta` the cumulative
 * `output_tokens`; the adapter merges them before mapping. Usage is untrusted JSON: without a valid
 * `input_tokens` it is "not reported" (undefined); other counts that are not counts are 0.
 */
import type { TokenUsage } from "../../domain/Usage.ts"
import { asObject, countField } from "../UsageFields.ts"

export const anthropicUsage = (usage: unknown): TokenUsage | undefined => {
  const u = asObject(usage)
  const input = countField(u, "input_tokens")
  if (input === undefined) return undefined
  return {
    input,
    cache_read: countField(u, "cache_read_input_tokens") ?? 0,
    cache_write: countField(u, "cache_creation_input_tokens") ?? 0,
    reasoning: 0,
    output: countField(u, "output_tokens") ?? 0
  }
}
