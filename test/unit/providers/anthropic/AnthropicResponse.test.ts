import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  finishReason,
  openAIUsageFromAnthropic,
  toOpenAIChatCompletion
} from "../../../../src/providers/anthropic/AnthropicResponse.ts"
import { anthropicUsage } from "../../../../src/providers/anthropic/AnthropicUsage.ts"
import { inputTokens, totalTokens } from "../../../../src/domain/Usage.ts"

const CREATED = 1_767_225_600

describe("finishReason", () => {
  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
    ["pause_turn", "stop"],
    ["model_context_window_exceeded", "stop"],
    [null, "stop"],
    [undefined, "stop"],
    [42, "stop"]
  ])("%s → %s", (stopReason, expected) => {
    expect(finishReason(stopReason)).toBe(expected)
  })
})

describe("openAIUsageFromAnthropic", () => {
  it("makes prompt_tokens inclusive of cache reads and writes, and reports both apart", () => {
    expect(
      openAIUsageFromAnthropic({
        input_tokens: 21,
        cache_creation_input_tokens: 188_086,
        cache_read_input_tokens: 5,
        output_tokens: 393,
        service_tier: "standard"
      })
    ).toEqual({
      prompt_tokens: 188_112,
      completion_tokens: 393,
      total_tokens: 188_505,
      prompt_tokens_details: { cached_tokens: 5, cache_creation_tokens: 188_086 }
    })
  })

  it("counts absent cache fields as 0", () => {
    expect(openAIUsageFromAnthropic({ input_tokens: 25, output_tokens: 15 })).toEqual({
      prompt_tokens: 25,
      completion_tokens: 15,
      total_tokens: 40,
      prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 }
    })
  })

  it("is undefined without a valid input_tokens", () => {
    expect(openAIUsageFromAnthropic({ output_tokens: 15 })).toBeUndefined()
    expect(openAIUsageFromAnthropic({ input_tokens: -1, output_tokens: 15 })).toBeUndefined()
    expect(openAIUsageFromAnthropic(null)).toBeUndefined()
    expect(openAIUsageFromAnthropic("many")).toBeUndefined()
  })

  it("keeps the normalized totals of anthropicUsage", () => {
    const count = fc.integer({ min: 0, max: 10_000_000 })
    fc.assert(
      fc.property(count, count, count, count, (input, read, write, output) => {
        const anthropic = {
          input_tokens: input,
          cache_read_input_tokens: read,
          cache_creation_input_tokens: write,
          output_tokens: output
        }
        const normalized = anthropicUsage(anthropic)!
        const openai = openAIUsageFromAnthropic(anthropic)!
        expect(openai["prompt_tokens"]).toBe(inputTokens(normalized))
        expect(openai["total_tokens"]).toBe(totalTokens(normalized))
      })
    )
  })
})

describe("toOpenAIChatCompletion", () => {
  it("turns a text message into a chat completion", () => {
    // The example answer of Anthropic's Messages API reference.
    const message = {
      id: "msg_013Zva2CMHLNnXjNJJKqJ2EF",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5-20250929",
      content: [{ type: "text", text: "Hi! My name is Claude." }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 2095, output_tokens: 503, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }
    }
    expect(toOpenAIChatCompletion(message, CREATED)).toEqual({
      id: "msg_013Zva2CMHLNnXjNJJKqJ2EF",
      object: "chat.completion",
      created: CREATED,
      model: "claude-sonnet-4-5-20250929",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Hi! My name is Claude.", refusal: null },
          logprobs: null,
          finish_reason: "stop"
        }
      ],
      usage: {
        prompt_tokens: 2095,
        completion_tokens: 503,
        total_tokens: 2598,
        prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 }
      }
    })
  })

  it("turns tool_use blocks into tool calls, with content null when there is no text", () => {
    const message = {
      id: "msg_01Aq9w938a90dw8q",
      type: "message",
      role: "assistant",
      model: "claude-opus-4-1-20250805",
      content: [
        {
          type: "tool_use",
          id: "toolu_01A09q90qw90lq917835lq9",
          name: "get_weather",
          input: { location: "San Francisco, CA", unit: "celsius" }
        },
        { type: "tool_use", id: "toolu_02", name: "get_time", input: {} }
      ],
      stop_reason: "tool_use",
      usage: { input_tokens: 472, output_tokens: 89 }
    }
    expect(toOpenAIChatCompletion(message, CREATED)?.["choices"]).toEqual([
      {
        index: 0,
        message: {
          role: "assistant",
          content: null,
          refusal: null,
          tool_calls: [
            {
              id: "toolu_01A09q90qw90lq917835lq9",
              type: "function",
              function: { name: "get_weather", arguments: '{"location":"San Francisco, CA","unit":"celsius"}' }
            },
            { id: "toolu_02", type: "function", function: { name: "get_time", arguments: "{}" } }
          ]
        },
        logprobs: null,
        finish_reason: "tool_calls"
      }
    ])
  })

  it("joins text blocks, keeps text beside tool calls, thinking as reasoning_content, and drops other blocks", () => {
    const message = {
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [
        { type: "thinking", thinking: "The user wants", signature: "EqQBCgIYAhIM" },
        { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" },
        { type: "thinking", thinking: " the weather." },
        { type: "text", text: "According to the forecast, " },
        { type: "text", text: "it is sunny.", citations: [{ type: "char_location", cited_text: "sunny" }] },
        { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "weather" } },
        { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }
      ],
      stop_reason: "tool_use",
      usage: { input_tokens: 10, output_tokens: 20 }
    }
    const completion = toOpenAIChatCompletion(message, CREATED)
    expect(completion?.["choices"]).toEqual([
      {
        index: 0,
        message: {
          role: "assistant",
          content: "According to the forecast, it is sunny.",
          refusal: null,
          reasoning_content: "The user wants the weather.",
          tool_calls: [
            { id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }
          ]
        },
        logprobs: null,
        finish_reason: "tool_calls"
      }
    ])
  })

  it("maps max_tokens and refusal stops, and leaves usage out when it is not reported", () => {
    const base = { id: "msg_2", type: "message", role: "assistant", model: "claude-haiku-4-5", content: [] }
    const cut = toOpenAIChatCompletion({ ...base, stop_reason: "max_tokens" }, CREATED)
    expect(cut).toEqual({
      id: "msg_2",
      object: "chat.completion",
      created: CREATED,
      model: "claude-haiku-4-5",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: null, refusal: null },
          logprobs: null,
          finish_reason: "length"
        }
      ]
    })
    const refused = toOpenAIChatCompletion({ ...base, stop_reason: "refusal" }, CREATED)
    expect(refused?.["choices"]).toEqual([
      {
        index: 0,
        message: { role: "assistant", content: null, refusal: null },
        logprobs: null,
        finish_reason: "content_filter"
      }
    ])
  })

  it("is undefined for a body that is not a message", () => {
    expect(
      toOpenAIChatCompletion({ type: "error", error: { type: "api_error", message: "x" } }, CREATED)
    ).toBeUndefined()
    expect(toOpenAIChatCompletion({ id: "msg_3", content: "text" }, CREATED)).toBeUndefined()
    expect(toOpenAIChatCompletion({ type: "message_batch", content: [] }, CREATED)).toBeUndefined()
  })

  it("never throws on arbitrary JSON objects", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        toOpenAIChatCompletion(value, CREATED)
      })
    )
  })
})
