import { describe, expect, it } from "vitest"
import { totalTokens } from "../../../../src/domain/Usage.ts"
import { openAIUsage } from "../../../../src/providers/openai/OpenAIUsage.ts"
import { responsesUsage, usageReaderOf } from "../../../../src/providers/openai/ResponsesUsage.ts"

describe("responsesUsage", () => {
  it("splits the Responses API's inclusive counts into disjoint kinds", () => {
    const usage = responsesUsage({
      input_tokens: 1200,
      input_tokens_details: { cached_tokens: 1024 },
      output_tokens: 500,
      output_tokens_details: { reasoning_tokens: 320 },
      total_tokens: 1700
    })
    expect(usage).toEqual({ input: 176, cache_read: 1024, cache_write: 0, reasoning: 320, output: 180 })
    expect(usage && totalTokens(usage)).toBe(1700)
  })

  it("reads a plain usage, derives a missing output from the total, caps details at their totals", () => {
    expect(responsesUsage({ input_tokens: 9, output_tokens: 12 })).toEqual({
      input: 9,
      cache_read: 0,
      cache_write: 0,
      reasoning: 0,
      output: 12
    })
    expect(responsesUsage({ input_tokens: 9, total_tokens: 20 })?.output).toBe(11)
    expect(
      responsesUsage({
        input_tokens: 5,
        input_tokens_details: { cached_tokens: 50 },
        output_tokens: 2,
        output_tokens_details: { reasoning_tokens: 9 }
      })
    ).toEqual({ input: 0, cache_read: 5, cache_write: 0, reasoning: 2, output: 0 })
  })

  it("is not reported without a valid input_tokens (chat's names included)", () => {
    for (const usage of [undefined, null, 3, "x", [], {}, { input_tokens: -1 }, { prompt_tokens: 4 }])
      expect(responsesUsage(usage)).toBeUndefined()
  })

  it("usageReaderOf: the Responses mapper for passed-through responses, OpenAI's for the rest", () => {
    expect(usageReaderOf("responses")).toBe(responsesUsage)
    expect(usageReaderOf("chat")).toBe(openAIUsage)
    expect(usageReaderOf("stored_responses")).toBe(openAIUsage)
  })
})
