import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { inputTokens, outputTokens, totalTokens } from "../../../../src/domain/Usage.ts"
import { openAIUsage, openAIUsageOf } from "../../../../src/providers/openai/OpenAIUsage.ts"

describe("openAIUsage", () => {
  it("splits OpenAI's inclusive counts into disjoint kinds", () => {
    const usage = openAIUsage({
      prompt_tokens: 1200,
      completion_tokens: 500,
      total_tokens: 1700,
      prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 320, audio_tokens: 0 }
    })
    expect(usage).toEqual({ input: 176, cache_read: 1024, cache_write: 0, reasoning: 320, output: 180 })
    expect(usage && totalTokens(usage)).toBe(1700)
  })

  it("reads a plain usage without details", () => {
    expect(openAIUsage({ prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 })).toEqual({
      input: 9,
      cache_read: 0,
      cache_write: 0,
      reasoning: 0,
      output: 12
    })
  })

  it("reads embeddings usage (no completion_tokens) from total_tokens", () => {
    expect(openAIUsage({ prompt_tokens: 8, total_tokens: 8 })).toEqual({
      input: 8,
      cache_read: 0,
      cache_write: 0,
      reasoning: 0,
      output: 0
    })
    expect(openAIUsage({ prompt_tokens: 8 })).toEqual({
      input: 8,
      cache_read: 0,
      cache_write: 0,
      reasoning: 0,
      output: 0
    })
  })

  it("is 'not reported' for anything without a valid prompt_tokens", () => {
    for (const garbage of [
      undefined,
      null,
      3,
      "x",
      [],
      {},
      { prompt_tokens: -1 },
      { prompt_tokens: 1.5 },
      { prompt_tokens: "10" },
      { prompt_tokens: Number.MAX_VALUE },
      { completion_tokens: 5 }
    ]) {
      expect(openAIUsage(garbage)).toBeUndefined()
    }
  })

  it("ignores garbage details and caps details at their totals", () => {
    expect(
      openAIUsage({
        prompt_tokens: 10,
        completion_tokens: 4,
        prompt_tokens_details: "x",
        completion_tokens_details: { reasoning_tokens: -3 }
      })
    ).toEqual({ input: 10, cache_read: 0, cache_write: 0, reasoning: 0, output: 4 })
    expect(
      openAIUsage({
        prompt_tokens: 10,
        completion_tokens: 4,
        prompt_tokens_details: { cached_tokens: 50 },
        completion_tokens_details: { reasoning_tokens: 9 }
      })
    ).toEqual({ input: 0, cache_read: 10, cache_write: 0, reasoning: 4, output: 0 })
  })

  it("reads the usage of a body or chunk", () => {
    expect(openAIUsageOf({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 3 } })?.output).toBe(3)
    expect(openAIUsageOf({ choices: [], usage: null })).toBeUndefined()
    expect(openAIUsageOf("nope")).toBeUndefined()
  })

  it("never double-counts: the kinds sum to prompt + completion, and each side to its own total", () => {
    const count = fc.integer({ min: 0, max: 10_000_000 })
    fc.assert(
      fc.property(count, count, fc.option(count), fc.option(count), (prompt, completion, cached, reasoning) => {
        const raw: Record<string, unknown> = {
          prompt_tokens: prompt,
          completion_tokens: completion,
          total_tokens: prompt + completion
        }
        if (cached !== null) raw["prompt_tokens_details"] = { cached_tokens: cached }
        if (reasoning !== null) raw["completion_tokens_details"] = { reasoning_tokens: reasoning }
        const u = openAIUsage(raw)
        expect(u).toBeDefined()
        if (u === undefined) return
        expect(inputTokens(u)).toBe(prompt)
        expect(outputTokens(u)).toBe(completion)
        expect(totalTokens(u)).toBe(prompt + completion)
        for (const v of Object.values(u)) expect(v).toBeGreaterThanOrEqual(0)
        expect(u.cache_read).toBe(Math.min(cached ?? 0, prompt))
        expect(u.reasoning).toBe(Math.min(reasoning ?? 0, completion))
      })
    )
  })

  it("never throws on arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const u = openAIUsage(value)
        if (u !== undefined) for (const v of Object.values(u)) expect(Number.isSafeInteger(v) && v >= 0).toBe(true)
      })
    )
  })
})
