import { describe, expect, it } from "vitest"
import {
  anthropicUsageFromOpenAI,
  stopReason,
  toAnthropicError,
  toAnthropicMessage
} from "../../../src/messages/MessagesResponse.ts"

const completion = (message: Record<string, unknown>, finish: string, usage?: unknown) => ({
  id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  object: "chat.completion",
  created: 1741569952,
  model: "gpt-4.1-2025-04-14",
  choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
  ...(usage === undefined ? {} : { usage })
})

describe("toAnthropicMessage", () => {
  it("translates a text answer (golden, from the chat completions reference)", () => {
    const body = completion(
      { role: "assistant", content: "Hello! How can I assist you today?", refusal: null },
      "stop",
      {
        prompt_tokens: 19,
        completion_tokens: 10,
        total_tokens: 29,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 }
      }
    )
    expect(toAnthropicMessage(body, "claude-sonnet-4-5")).toEqual({
      id: "msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [{ type: "text", text: "Hello! How can I assist you today?" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 19, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 10 }
    })
  })

  it("translates tool calls into tool_use blocks after the text", () => {
    const body = completion(
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          {
            id: "call_abc123",
            type: "function",
            function: { name: "get_current_weather", arguments: '{\n"location": "Boston, MA"\n}' }
          },
          { id: "call_def", type: "function", function: { name: "broken", arguments: '{"unterminated' } },
          { id: "call_arr", type: "function", function: { name: "array", arguments: "[1,2]" } }
        ]
      },
      "tool_calls",
      { prompt_tokens: 82, completion_tokens: 17, total_tokens: 99 }
    )
    expect(toAnthropicMessage(body, "m")).toEqual({
      id: "msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT",
      type: "message",
      role: "assistant",
      model: "m",
      content: [
        { type: "text", text: "Checking." },
        { type: "tool_use", id: "call_abc123", name: "get_current_weather", input: { location: "Boston, MA" } },
        { type: "tool_use", id: "call_def", name: "broken", input: {} },
        { type: "tool_use", id: "call_arr", name: "array", input: {} }
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 82, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 17 }
    })
  })

  it("has no text block for empty or null content, and zero usage when none is reported", () => {
    const message = toAnthropicMessage(
      completion(
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }]
        },
        "tool_calls"
      ),
      "m"
    )
    expect(message?.["content"]).toEqual([{ type: "tool_use", id: "c", name: "f", input: {} }])
    expect(message?.["usage"]).toEqual({
      input_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 0
    })
    expect(toAnthropicMessage(completion({ role: "assistant", content: "" }, "stop"), "m")?.["content"]).toEqual([])
  })

  it("puts reasoning first as a thinking block and uses a refusal as the text", () => {
    const message = toAnthropicMessage(
      completion(
        { role: "assistant", content: null, reasoning_content: "Let me think.", refusal: "I can't help with that." },
        "content_filter"
      ),
      "m"
    )
    expect(message?.["content"]).toEqual([
      { type: "thinking", thinking: "Let me think.", signature: "" },
      { type: "text", text: "I can't help with that." }
    ])
    expect(message?.["stop_reason"]).toBe("refusal")
  })

  it("keeps an id without the chatcmpl- prefix and makes one up when there is none", () => {
    const body = { ...completion({ role: "assistant", content: "x" }, "stop"), id: "gen-123" }
    expect(toAnthropicMessage(body, "m")?.["id"]).toBe("msg_gen-123")
    const { id: _, ...noId } = body
    expect(toAnthropicMessage(noId, "m")?.["id"]).toMatch(/^msg_[0-9a-f]{32}$/)
  })

  it("is undefined without choices[0].message", () => {
    expect(toAnthropicMessage({ id: "x", choices: [] }, "m")).toBeUndefined()
    expect(toAnthropicMessage({ id: "x" }, "m")).toBeUndefined()
    expect(toAnthropicMessage({ id: "x", choices: [{ index: 0, text: "legacy" }] }, "m")).toBeUndefined()
  })
})

describe("stopReason", () => {
  it.each([
    ["stop", "end_turn"],
    ["length", "max_tokens"],
    ["tool_calls", "tool_use"],
    ["function_call", "tool_use"],
    ["content_filter", "refusal"],
    ["something_else", "end_turn"],
    [null, "end_turn"],
    [undefined, "end_turn"]
  ])("%j → %s", (finish, reason) => {
    expect(stopReason(finish)).toBe(reason)
  })
})

describe("anthropicUsageFromOpenAI", () => {
  it("takes cached and cache-creation tokens out of the input tokens", () => {
    expect(
      anthropicUsageFromOpenAI({
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920, cache_creation_tokens: 50 }
      })
    ).toEqual({ input_tokens: 36, cache_creation_input_tokens: 50, cache_read_input_tokens: 1920, output_tokens: 300 })
  })

  it("never goes negative when the details exceed the prompt", () => {
    expect(
      anthropicUsageFromOpenAI({
        prompt_tokens: 10,
        completion_tokens: 1,
        prompt_tokens_details: { cached_tokens: 8, cache_creation_tokens: 5 }
      })
    ).toEqual({ input_tokens: 0, cache_creation_input_tokens: 2, cache_read_input_tokens: 8, output_tokens: 1 })
  })

  it.each([undefined, null, "usage", { prompt_tokens: -1, completion_tokens: "3" }])("is zeros for %j", (usage) => {
    expect(anthropicUsageFromOpenAI(usage)).toEqual({
      input_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 0
    })
  })
})

describe("toAnthropicError", () => {
  it.each([
    [400, "invalid_request_error"],
    [401, "authentication_error"],
    [403, "permission_error"],
    [404, "not_found_error"],
    [413, "request_too_large"],
    [429, "rate_limit_error"],
    [503, "overloaded_error"],
    [529, "overloaded_error"],
    [500, "api_error"],
    [502, "api_error"],
    [504, "api_error"],
    [422, "invalid_request_error"]
  ])("maps status %i to %s", (status, type) => {
    const body = { error: { message: "upstream said no", type: "whatever", param: null, code: null } }
    expect(toAnthropicError(status, body)).toEqual({ type: "error", error: { type, message: "upstream said no" } })
  })

  it("falls back to a generic message", () => {
    expect(toAnthropicError(502, "<html>Bad Gateway</html>")).toEqual({
      type: "error",
      error: { type: "api_error", message: "The request failed with HTTP status 502" }
    })
    expect(toAnthropicError(429, { error: { message: "" } }).error.message).toBe(
      "The request failed with HTTP status 429"
    )
    expect(toAnthropicError(400, { error: "bad input" }).error.message).toBe("bad input")
  })
})
