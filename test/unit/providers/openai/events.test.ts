import { describe, expect, it } from "vitest"
import { classifyOpenAIEvent } from "../../../../src/providers/openai/events.ts"

const chat = (delta: unknown, extra: Record<string, unknown> = {}, choice: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: null, ...choice }],
    ...extra
  })

const completion = (text: string, finish: string | null = null) =>
  JSON.stringify({
    id: "cmpl-1",
    object: "text_completion",
    created: 1,
    model: "m",
    choices: [{ index: 0, text, logprobs: null, finish_reason: finish }]
  })

describe("classifyOpenAIEvent", () => {
  describe("chat chunks", () => {
    it.each([
      ["role-only first chunk", chat({ role: "assistant", content: "" })],
      ["role with null content", chat({ role: "assistant", content: null })],
      ["role with refusal null", chat({ role: "assistant", content: "", refusal: null })],
      ["empty delta", chat({})],
      ["empty content", chat({ content: "" })],
      ["empty tool_calls", chat({ tool_calls: [] })],
      ["empty refusal", chat({ refusal: "" })],
      ["empty reasoning", chat({ reasoning_content: "", reasoning: "" })],
      ["null delta", chat(null)],
      ["usage: null (include_usage, before the end)", chat({ role: "assistant", content: "" }, { usage: null })],
      ["no choices yet", JSON.stringify({ id: "x", object: "chat.completion.chunk", choices: [] })],
      [
        "prompt filter results only (Azure)",
        JSON.stringify({ id: "", choices: [], prompt_filter_results: [{ prompt_index: 0 }] })
      ]
    ])("preamble: %s", (_, data) => {
      expect(classifyOpenAIEvent(data)).toBe("preamble")
    })

    it.each([
      ["text", chat({ content: "Hi" })],
      ["role and text together", chat({ role: "assistant", content: "Hi" })],
      ["whitespace text", chat({ content: " " })],
      [
        "tool_calls",
        chat({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "f", arguments: "" } }] })
      ],
      ["legacy function_call", chat({ function_call: { name: "f", arguments: "" } })],
      ["refusal", chat({ refusal: "I can't help with that." })],
      ["reasoning_content", chat({ reasoning_content: "Thinking" })],
      ["reasoning", chat({ reasoning: "Thinking" })],
      ["audio", chat({ audio: { id: "a", data: "AAA=" } })],
      ["finish_reason with an empty delta", chat({}, {}, { finish_reason: "stop" })],
      ["finish_reason tool_calls", chat({}, {}, { finish_reason: "tool_calls" })],
      [
        "usage-only chunk with empty choices",
        JSON.stringify({
          id: "x",
          object: "chat.completion.chunk",
          choices: [],
          usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }
        })
      ],
      [
        "content in a later choice (n > 1)",
        JSON.stringify({
          id: "x",
          choices: [
            { index: 0, delta: {} },
            { index: 1, delta: { content: "b" } }
          ]
        })
      ]
    ])("content: %s", (_, data) => {
      expect(classifyOpenAIEvent(data)).toBe("content")
    })
  })

  describe("completions chunks", () => {
    it("text is content, empty text is preamble, a finish reason is content", () => {
      expect(classifyOpenAIEvent(completion("Hello"))).toBe("content")
      expect(classifyOpenAIEvent(completion(""))).toBe("preamble")
      expect(classifyOpenAIEvent(completion("", "length"))).toBe("content")
    })
  })

  it("[DONE] is content (the end of the stream)", () => {
    expect(classifyOpenAIEvent("[DONE]")).toBe("content")
  })

  it.each([
    ["garbage", "hello there"],
    ["truncated JSON", '{"choices":[{"delta":{"content":"a"'],
    ["empty data", ""],
    ["a JSON string", '"[DONE]"'],
    ["a JSON number", "42"],
    ["null", "null"],
    ["an array", "[]"],
    ["an object without choices", '{"id":"x","object":"chat.completion.chunk"}'],
    ["choices not an array", '{"choices":{}}'],
    ["an in-stream error object", '{"error":{"message":"The server is overloaded","type":"server_error","code":null}}'],
    ["an error next to choices", JSON.stringify({ error: { message: "x" }, choices: [{ delta: { content: "a" } }] })],
    ["lower-case done", "[done]"]
  ])("invalid: %s", (_, data) => {
    expect(classifyOpenAIEvent(data)).toBe("invalid")
  })
})
