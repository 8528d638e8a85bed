/**
 * The built-in prices, USD per million tokens, used when the config prices a model neither by its
 * public name (`models[].pricing`) nor by its upstream name (the top-level `pricing:` map). Keys
 * are upstream model names without a date suffix (PriceBook.ts strips `-2024-08-06`, `-20250514`,
 * `-latest`). Reasoning tokens are billed as output by both vendors, so `reasoning` = `output`.
 *
 * Sources, read 2026-12-07 (the standard tier; no batch, priority, regional or long-context rates):
 * - Anthropic: the model pricing table of Anthropic's pricing page,
 *   https://docs.anthropic.com/en/docs/about-claude/pricing (and its successor
 *   https://platform.claude.com/docs/en/about-claude/pricing for the 4.5 models). `cache_write` is
 *   the "5m cache writes" price (the default TTL); a 1-hour write costs 2× input and is billed here
 *   at the 5-minute price (Anthropic's usage does not tell the two apart unless asked). Sonnet's
 *   premium above 200K input tokens is not modelled.
 * - OpenAI: https://platform.openai.com/docs/pricing ("Input", "Cached input", "Output"), not
 *   readable from here first-hand: each row below is one on which at least two independent
 *   transcriptions of that page agree. OpenAI does not bill prompt-cache writes apart, so
 *   `cache_write` = `input`. `gpt-4o-2024-05-13` keeps its own, older price (it supports no
 *   caching), so the date-suffix rule does not price it as `gpt-4o`.
 * Left out because the sources disagree or could not be checked: o1-preview, o1-pro, o3-pro,
 * gpt-4.5-preview, gpt-4-turbo, gpt-3.5-turbo, the gpt-5 family, embeddings and the audio models.
 * An operator prices those (or corrects these) in config.
 */
import type { ResolvedPricing } from "../config/Config.ts"

const price = (input: number, cacheRead: number, cacheWrite: number, output: number): ResolvedPricing => ({
  input,
  cache_read: cacheRead,
  cache_write: cacheWrite,
  reasoning: output,
  output
})

/** OpenAI: a cache write costs what input costs. */
const openai = (input: number, cachedInput: number, output: number): ResolvedPricing =>
  price(input, cachedInput, input, output)

export const DEFAULT_PRICES: ReadonlyMap<string, ResolvedPricing> = new Map([
  // ---- OpenAI ----
  ["gpt-4o", openai(2.5, 1.25, 10)],
  ["gpt-4o-2024-05-13", openai(5, 5, 15)],
  ["gpt-4o-mini", openai(0.15, 0.075, 0.6)],
  ["gpt-4.1", openai(2, 0.5, 8)],
  ["gpt-4.1-mini", openai(0.4, 0.1, 1.6)],
  ["gpt-4.1-nano", openai(0.1, 0.025, 0.4)],
  ["o1", openai(15, 7.5, 60)],
  ["o1-mini", openai(1.1, 0.55, 4.4)],
  ["o3", openai(2, 0.5, 8)],
  ["o3-mini", openai(1.1, 0.55, 4.4)],
  ["o4-mini", openai(1.1, 0.275, 4.4)],
  // ---- Anthropic: input, cache hits, 5-minute cache writes, output ----
  ["claude-3-haiku", price(0.25, 0.03, 0.3, 1.25)],
  ["claude-3-opus", price(15, 1.5, 18.75, 75)],
  ["claude-3-5-haiku", price(0.8, 0.08, 1, 4)],
  ["claude-3-5-sonnet", price(3, 0.3, 3.75, 15)],
  ["claude-3-7-sonnet", price(3, 0.3, 3.75, 15)],
  ["claude-sonnet-4", price(3, 0.3, 3.75, 15)],
  ["claude-sonnet-4-5", price(3, 0.3, 3.75, 15)],
  ["claude-opus-4", price(15, 1.5, 18.75, 75)],
  ["claude-opus-4-1", price(15, 1.5, 18.75, 75)],
  ["claude-opus-4-5", price(5, 0.5, 6.25, 25)],
  ["claude-haiku-4-5", price(1, 0.1, 1.25, 5)]
])
