/**
 * Cost: what one request's usage costs at a price, exactly. Prices are USD per million tokens of
 * each usage kind (config/Config.ts `ResolvedPricing`); each is turned once into an integer number
 * of pico-dollars (10⁻¹² USD) per token (USD per million × 10⁶, rounded to the nearest integer, so
 * six decimals of a per-million price count and finer ones are rounded), and a cost is the sum of
 * tokens × price per kind in BigInt pico-dollars: no floating-point step at all, any token count,
 * and sums over many requests (per key, project, user) stay exact. `usd` is that integer divided
 * by 10¹² once, the only rounding (to the nearest double, ~16 significant digits).
 */
import type { ResolvedPricing } from "../config/Config.ts"
import type { TokenUsage } from "../domain/Usage.ts"

/** Pico-dollars (10⁻¹² USD) per token of each kind. */
export interface TokenPrice {
  readonly input: bigint
  readonly cache_read: bigint
  readonly cache_write: bigint
  readonly reasoning: bigint
  readonly output: bigint
}

export interface Cost {
  /** The exact cost in pico-dollars (10⁻¹² USD). */
  readonly pico: bigint
  /** The same in US dollars (one division; what a UsageRecord's `cost_usd` holds). */
  readonly usd: number
}

export const PICO_PER_USD = 1_000_000_000_000n

/** Pico-dollars per token of a price of `usdPerMillion` USD per million tokens. */
const perToken = (usdPerMillion: number): bigint => BigInt(Math.round(usdPerMillion * 1_000_000))

export const tokenPrice = (pricing: ResolvedPricing): TokenPrice => ({
  input: perToken(pricing.input),
  cache_read: perToken(pricing.cache_read),
  cache_write: perToken(pricing.cache_write),
  reasoning: perToken(pricing.reasoning),
  output: perToken(pricing.output)
})

/** Pico-dollars as US dollars. */
export const picoToUsd = (pico: bigint): number => {
  // Whole dollars and the remainder apart, so a large sum keeps its cents exactly.
  const whole = pico / PICO_PER_USD
  const rest = pico % PICO_PER_USD
  return Number(whole) + Number(rest) / 1e12
}

export const costOf = (usage: TokenUsage, price: TokenPrice): Cost => {
  const pico =
    BigInt(usage.input) * price.input +
    BigInt(usage.cache_read) * price.cache_read +
    BigInt(usage.cache_write) * price.cache_write +
    BigInt(usage.reasoning) * price.reasoning +
    BigInt(usage.output) * price.output
  return { pico, usd: picoToUsd(pico) }
}
