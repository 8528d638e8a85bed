/**
 * Reading token counts out of a provider's usage object, which arrives as untrusted JSON: a count is
 * a non-negative safe integer, anything else (absent, null, negative, fractional, a string) is not
 * a count. The provider mappers (openai/OpenAIUsage.ts, anthropic/AnthropicUsage.ts) build on it.
 */

/** The JSON object `value` is, or undefined (null, an array, a primitive). */
export const asObject = (value: unknown): Readonly<Record<string, unknown>> | undefined =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined

/** `object[key]` when it is a token count, else undefined. */
export const countField = (object: Readonly<Record<string, unknown>> | undefined, key: string): number | undefined => {
  const value = object?.[key]
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined
}
