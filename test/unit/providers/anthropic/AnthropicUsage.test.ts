import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { inputTokens, totalTokens } from "../../../../src/domain/Usage.ts"
import { anthropicUsage } from "../../../../src/providers/anthropic/AnthropicUsage.ts"

describe("anthropicUsage", () => {
  it("maps Anthropic's exclusive counts one to one", () => {
    const usage = anthropicUsage({
      input_tokens: 21,
      cache_creation_input_tokens: 188_086,
      cache_read_input_tokens: 0,
      output_tokens: 393
    })
    expect(usage).toEqual({ input: 21, cache_read: 0, cache_write: 188_086, reasoning: 0, output: 393 })
    const read = anthropicUsage({
      input_tokens: 3,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 188_086,
      output_tokens: 12
    })
    expect(read).toEqual({ input: 3, cache_read: 188_086, cache_write: 0, reasoning: 0, output: 12 })
  })

  it("treats absent cache fields as 0 and a usage without input_tokens as not reported", () => {
    expect(anthropicUsage({ input_tokens: 5, output_tokens: 7 })).toEqual({
      input: 5,
      cache_read: 0,
      cache_write: 0,
      reasoning: 0,
      output: 7
    })
    expect(anthropicUsage({ output_tokens: 7 })).toBeUndefined()
    expect(anthropicUsage(null)).toBeUndefined()
    expect(anthropicUsage({ input_tokens: 5, cache_read_input_tokens: "many", output_tokens: -1 })).toEqual({
      input: 5,
      cache_read: 0,
      cache_write: 0,
      reasoning: 0,
      output: 0
    })
  })

  it("never double-counts: all input is input + cache reads + cache writes, the total their sum with output", () => {
    const count = fc.integer({ min: 0, max: 10_000_000 })
    fc.assert(
      fc.property(count, count, count, count, (input, read, write, output) => {
        const u = anthropicUsage({
          input_tokens: input,
          cache_read_input_tokens: read,
          cache_creation_input_tokens: write,
          output_tokens: output
        })
        expect(u).toBeDefined()
        if (u === undefined) return
        expect(inputTokens(u)).toBe(input + read + write)
        expect(totalTokens(u)).toBe(input + read + write + output)
      })
    )
  })

  it("never throws on arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        anthropicUsage(value)
      })
    )
  })
})
