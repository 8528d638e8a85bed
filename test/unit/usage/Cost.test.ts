import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { ResolvedPricing } from "../../../src/config/Config.ts"
import type { TokenUsage } from "../../../src/domain/Usage.ts"
import { anthropicUsage } from "../../../src/providers/anthropic/AnthropicUsage.ts"
import { openAIUsage } from "../../../src/providers/openai/OpenAIUsage.ts"
import { costOf, picoToUsd, tokenPrice } from "../../../src/usage/Cost.ts"
import { DEFAULT_PRICES } from "../../../src/usage/DefaultPrices.ts"

const priceOf = (name: string) => {
  const p = DEFAULT_PRICES.get(name)
  if (p === undefined) throw new Error(`no default price for ${name}`)
  return tokenPrice(p)
}
const usage = (u: TokenUsage | undefined): TokenUsage => {
  if (u === undefined) throw new Error("expected a usage")
  return u
}

describe("costOf", () => {
  it("prices OpenAI's inclusive usage without billing cached or reasoning tokens twice", () => {
    const u = usage(
      openAIUsage({
        prompt_tokens: 1200,
        completion_tokens: 500,
        prompt_tokens_details: { cached_tokens: 1024 },
        completion_tokens_details: { reasoning_tokens: 320 }
      })
    )
    // 176 uncached × $2.50 + 1024 cached × $1.25 + (320 reasoning + 180 output) × $10, per million.
    const cost = costOf(u, priceOf("gpt-4o"))
    expect(cost.pico).toBe(6_720_000_000n)
    expect(cost.usd).toBe(0.00672)
  })

  it("prices Anthropic's exclusive usage with cache writes and reads at their own prices", () => {
    const write = usage(
      anthropicUsage({
        input_tokens: 21,
        cache_creation_input_tokens: 188_086,
        cache_read_input_tokens: 0,
        output_tokens: 393
      })
    )
    // 21 × $3 + 188,086 × $3.75 + 393 × $15, per million.
    expect(costOf(write, priceOf("claude-sonnet-4")).usd).toBe(0.7112805)
    const read = usage(
      anthropicUsage({
        input_tokens: 3,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 188_086,
        output_tokens: 393
      })
    )
    // 3 × $3 + 188,086 × $0.30 + 393 × $15, per million.
    expect(costOf(read, priceOf("claude-sonnet-4")).usd).toBe(0.0623298)
  })

  it("is zero for no usage and for a free model", () => {
    expect(costOf({ input: 0, cache_read: 0, cache_write: 0, reasoning: 0, output: 0 }, priceOf("o3")).pico).toBe(0n)
    const free = tokenPrice({ input: 0, cache_read: 0, cache_write: 0, reasoning: 0, output: 0 })
    expect(costOf({ input: 5, cache_read: 5, cache_write: 5, reasoning: 5, output: 5 }, free).usd).toBe(0)
  })

  it("keeps six decimals of a per-million price exactly and rounds finer ones", () => {
    const p = (input: number): ResolvedPricing => ({ input, cache_read: 0, cache_write: 0, reasoning: 0, output: 0 })
    expect(tokenPrice(p(0.075)).input).toBe(75_000n)
    expect(tokenPrice(p(0.000001)).input).toBe(1n)
    expect(tokenPrice(p(0.0000004)).input).toBe(0n)
    expect(tokenPrice(p(100_000)).input).toBe(100_000_000_000n)
  })

  it("adds up exactly: a million one-token requests cost what one million-token request costs", () => {
    const price = priceOf("gpt-4.1-nano")
    const one = costOf({ input: 1, cache_read: 0, cache_write: 0, reasoning: 0, output: 0 }, price)
    let sum = 0n
    for (let i = 0; i < 1_000_000; i++) sum += one.pico
    expect(sum).toBe(costOf({ input: 1_000_000, cache_read: 0, cache_write: 0, reasoning: 0, output: 0 }, price).pico)
    expect(picoToUsd(sum)).toBe(0.1)
  })

  it("is linear in every kind, and usd is the exact pico amount to double precision", () => {
    const count = fc.integer({ min: 0, max: 50_000_000 })
    const kinds = fc.record({ input: count, cache_read: count, cache_write: count, reasoning: count, output: count })
    const names = [...DEFAULT_PRICES.keys()]
    fc.assert(
      fc.property(kinds, kinds, fc.constantFrom(...names), (a, b, name) => {
        const price = priceOf(name)
        const both = {
          input: a.input + b.input,
          cache_read: a.cache_read + b.cache_read,
          cache_write: a.cache_write + b.cache_write,
          reasoning: a.reasoning + b.reasoning,
          output: a.output + b.output
        }
        const sum = costOf(both, price)
        expect(sum.pico).toBe(costOf(a, price).pico + costOf(b, price).pico)
        expect(Math.abs(sum.usd - Number(sum.pico) / 1e12)).toBeLessThanOrEqual(sum.usd * 1e-15)
      })
    )
  })

  it("converts large sums without losing cents", () => {
    expect(picoToUsd(123_456_789_012_345_678_901_234n)).toBe(123_456_789_012.34567)
    expect(picoToUsd(10_000_000_000_010_000_000_000n)).toBe(10_000_000_000.01)
  })
})

describe("DEFAULT_PRICES", () => {
  it("covers the common OpenAI and Anthropic models", () => {
    for (const name of [
      "gpt-4o",
      "gpt-4o-mini",
      "gpt-4.1",
      "gpt-4.1-mini",
      "gpt-4.1-nano",
      "o1",
      "o1-mini",
      "o3",
      "o3-mini",
      "o4-mini",
      "claude-3-5-haiku",
      "claude-3-5-sonnet",
      "claude-3-7-sonnet",
      "claude-sonnet-4",
      "claude-opus-4",
      "claude-haiku-4-5"
    ])
      expect(DEFAULT_PRICES.has(name), name).toBe(true)
  })

  it("bills reasoning as output, reads from the cache at no more than input, and Anthropic cache writes at 1.25× input (Claude 3 Haiku: 1.2×)", () => {
    for (const [name, p] of DEFAULT_PRICES) {
      expect(p.reasoning, name).toBe(p.output)
      expect(p.cache_read, name).toBeLessThanOrEqual(p.input)
      if (name === "claude-3-haiku") expect(p.cache_write).toBe(0.3)
      else if (name.startsWith("claude-")) expect(p.cache_write, name).toBeCloseTo(p.input * 1.25, 10)
      else expect(p.cache_write, name).toBe(p.input)
    }
  })
})
