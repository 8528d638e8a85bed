import * as fc from "fast-check"
import * as Result from "effect/Result"
import { describe, expect, it } from "vitest"
import { toAnthropicRequest } from "../../../../src/providers/anthropic/AnthropicRequest.ts"

const MODEL = "claude-sonnet-4-5-20250929"
const DEFAULT_MAX = 4096

/** The translated body (fails the test when the translation fails). */
const translate = (body: Record<string, unknown>): Record<string, unknown> => {
  const result = toAnthropicRequest(body, MODEL, DEFAULT_MAX)
  if (Result.isFailure(result)) throw new Error(`unexpected failure: ${JSON.stringify(result.failure)}`)
  return result.success
}

/** The failure of a translation (fails the test when it succeeds). */
const failure = (body: Record<string, unknown>): { readonly param: string | null; readonly message: string } => {
  const result = toAnthropicRequest(body, MODEL, DEFAULT_MAX)
  if (Result.isSuccess(result)) throw new Error(`unexpected success: ${JSON.stringify(result.success)}`)
  return result.failure
}

const hello = [{ role: "user", content: "Hello" }]

describe("toAnthropicRequest", () => {
  describe("the minimal request", () => {
    it("names the upstream model and sets the default max_tokens", () => {
      expect(translate({ model: "claude", messages: hello })).toEqual({
        model: MODEL,
        max_tokens: DEFAULT_MAX,
        messages: [{ role: "user", content: "Hello" }]
      })
    })

    it("takes max_completion_tokens over max_tokens over the default", () => {
      expect(translate({ messages: hello, max_tokens: 100 })["max_tokens"]).toBe(100)
      expect(translate({ messages: hello, max_tokens: 100, max_completion_tokens: 200 })["max_tokens"]).toBe(200)
      expect(translate({ messages: hello, max_tokens: null, max_completion_tokens: null })["max_tokens"]).toBe(
        DEFAULT_MAX
      )
      expect(failure({ messages: hello, max_tokens: 0 })).toEqual({
        param: "max_tokens",
        message: "max_tokens: expected a positive integer"
      })
      expect(failure({ messages: hello, max_completion_tokens: 1.5 }).param).toBe("max_completion_tokens")
    })
  })

  describe("system and developer messages", () => {
    it("joins string ones, wherever they are, into a string system", () => {
      const body = {
        messages: [
          { role: "system", content: "You are terse." },
          { role: "user", content: "Hi" },
          { role: "developer", content: "Answer in French." }
        ]
      }
      expect(translate(body)).toEqual({
        model: MODEL,
        max_tokens: DEFAULT_MAX,
        system: "You are terse.\n\nAnswer in French.",
        messages: [{ role: "user", content: "Hi" }]
      })
    })

    it("makes text blocks of them when one has content parts", () => {
      const body = {
        messages: [
          { role: "system", content: "You are terse." },
          {
            role: "developer",
            content: [
              { type: "text", text: "Rule one." },
              { type: "text", text: "Rule two." }
            ]
          },
          { role: "user", content: "Hi" }
        ]
      }
      expect(translate(body)["system"]).toEqual([
        { type: "text", text: "You are terse." },
        { type: "text", text: "Rule one." },
        { type: "text", text: "Rule two." }
      ])
    })

    it("leaves out empty ones and fails on a part that is not text", () => {
      expect(translate({ messages: [{ role: "system", content: "" }, ...hello] })["system"]).toBeUndefined()
      expect(
        failure({
          messages: [{ role: "system", content: [{ type: "image_url", image_url: { url: "https://x/a.png" } }] }]
        })
      ).toEqual({
        param: "messages[0].content[0].type",
        message:
          "messages[0].content[0].type: the anthropic provider kind cannot translate a content part of type image_url here"
      })
    })
  })

  describe("turns", () => {
    it("merges consecutive messages of one role into one turn", () => {
      const body = {
        messages: [
          { role: "user", content: "First." },
          { role: "user", content: [{ type: "text", text: "Second." }] },
          { role: "assistant", content: "Reply." },
          { role: "assistant", content: "More." },
          { role: "user", content: "Third." }
        ]
      }
      expect(translate(body)["messages"]).toEqual([
        {
          role: "user",
          content: [
            { type: "text", text: "First." },
            { type: "text", text: "Second." }
          ]
        },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Reply." },
            { type: "text", text: "More." }
          ]
        },
        { role: "user", content: "Third." }
      ])
    })

    it("keeps a system message between two user messages from splitting their turn", () => {
      const body = {
        messages: [
          { role: "user", content: "A" },
          { role: "system", content: "S" },
          { role: "user", content: "B" }
        ]
      }
      expect(translate(body)).toEqual({
        model: MODEL,
        max_tokens: DEFAULT_MAX,
        system: "S",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "A" },
              { type: "text", text: "B" }
            ]
          }
        ]
      })
    })

    it("translates images given as base64 data URLs and as http(s) URLs", () => {
      const body = {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is in these images?" },
              { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQSkZJRg==", detail: "high" } },
              { type: "image_url", image_url: { url: "https://upload.wikimedia.org/a.jpg" } }
            ]
          }
        ]
      }
      expect(translate(body)["messages"]).toEqual([
        {
          role: "user",
          content: [
            { type: "text", text: "What is in these images?" },
            { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQSkZJRg==" } },
            { type: "image", source: { type: "url", url: "https://upload.wikimedia.org/a.jpg" } }
          ]
        }
      ])
    })

    it("fails on an image URL that is neither base64 data nor http(s)", () => {
      const image = (url: string) => ({
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url } }] }]
      })
      expect(failure(image("ftp://host/a.png")).param).toBe("messages[0].content[0].image_url.url")
      expect(failure(image("data:image/png,rawbytes")).param).toBe("messages[0].content[0].image_url.url")
      expect(failure({ messages: [{ role: "user", content: [{ type: "image_url" }] }] }).param).toBe(
        "messages[0].content[0].image_url"
      )
    })

    it.each([
      [{ type: "input_audio", input_audio: { data: "UklGR", format: "wav" } }, "input_audio"],
      [{ type: "file", file: { file_id: "file-abc" } }, "file"]
    ])("fails on a content part of type %j", (part, type) => {
      expect(failure({ messages: [{ role: "user", content: [{ type: "text", text: "Listen" }, part] }] })).toEqual({
        param: "messages[0].content[1].type",
        message: `messages[0].content[1].type: the anthropic provider kind cannot translate a content part of type ${type} here`
      })
    })

    it("fails on an empty user message", () => {
      expect(failure({ messages: [{ role: "user", content: "" }] })).toEqual({
        param: "messages[0].content",
        message: "messages[0].content: empty"
      })
      expect(failure({ messages: [...hello, { role: "user", content: [] }] }).message).toBe(
        "messages[1].content: empty"
      )
    })

    it("fails on an unknown role and on a conversation without user or assistant messages", () => {
      expect(failure({ messages: [...hello, { role: "function", name: "f", content: "x" }] })).toEqual({
        param: "messages[1].role",
        message: "messages[1].role: the anthropic provider kind cannot translate a message with role function"
      })
      expect(failure({ messages: [{ role: "system", content: "Only a system prompt." }] })).toEqual({
        param: "messages",
        message: "messages: at least one user or assistant message is required"
      })
      expect(failure({ messages: [] }).param).toBe("messages")
      expect(failure({ messages: [{ content: "no role" }] }).param).toBe("messages[0].role")
    })

    it("sends an assistant's earlier refusal back as text", () => {
      const body = {
        messages: [...hello, { role: "assistant", content: [{ type: "refusal", refusal: "I can't help with that." }] }]
      }
      expect(translate(body)["messages"]).toEqual([
        { role: "user", content: "Hello" },
        { role: "assistant", content: [{ type: "text", text: "I can't help with that." }] }
      ])
    })
  })

  describe("tool calls and results", () => {
    const toolConversation = [
      { role: "user", content: "What's the weather in Paris and Rome?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_paris",
            type: "function",
            function: { name: "get_weather", arguments: '{"location":"Paris"}' }
          },
          { id: "call_rome", type: "function", function: { name: "get_weather", arguments: '{"location":"Rome"}' } }
        ]
      },
      { role: "tool", tool_call_id: "call_paris", content: "18°C, sunny" },
      { role: "tool", tool_call_id: "call_rome", content: [{ type: "text", text: "22°C" }] },
      { role: "user", content: "Which is warmer?" }
    ]

    it("turns tool calls into tool_use blocks and tool messages into tool_result blocks of one user turn", () => {
      expect(translate({ messages: toolConversation })["messages"]).toEqual([
        { role: "user", content: "What's the weather in Paris and Rome?" },
        {
          role: "assistant",
          content: [
            { type: "tool_use", id: "call_paris", name: "get_weather", input: { location: "Paris" } },
            { type: "tool_use", id: "call_rome", name: "get_weather", input: { location: "Rome" } }
          ]
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "call_paris", content: "18°C, sunny" },
            { type: "tool_result", tool_use_id: "call_rome", content: [{ type: "text", text: "22°C" }] },
            { type: "text", text: "Which is warmer?" }
          ]
        }
      ])
    })

    it("keeps an assistant's text before its tool calls", () => {
      const body = {
        messages: [
          ...hello,
          {
            role: "assistant",
            content: "Let me check.",
            tool_calls: [{ id: "call_1", type: "function", function: { name: "now", arguments: "{}" } }]
          }
        ]
      }
      expect(translate(body)["messages"]).toEqual([
        { role: "user", content: "Hello" },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Let me check." },
            { type: "tool_use", id: "call_1", name: "now", input: {} }
          ]
        }
      ])
    })

    it.each(["not json", "[1,2]", '"text"', "null", ""])("fails on arguments %j that are not a JSON object", (args) => {
      const body = {
        messages: [
          ...hello,
          { role: "assistant", content: "ok" },
          { role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: args } }] }
        ]
      }
      expect(failure(body).param).toBe("messages[2].tool_calls[0].function.arguments")
    })

    it("fails on an assistant message with neither content nor tool calls", () => {
      expect(failure({ messages: [...hello, { role: "assistant", content: null }] })).toEqual({
        param: "messages[1].content",
        message: "messages[1].content: empty"
      })
    })

    it("fails on a tool message without tool_call_id", () => {
      expect(failure({ messages: [...hello, { role: "tool", content: "x" }] }).param).toBe("messages[1].tool_call_id")
    })
  })

  describe("tools and tool_choice", () => {
    const weather = {
      type: "function",
      function: {
        name: "get_weather",
        description: "Get the current weather in a given location",
        parameters: {
          type: "object",
          properties: { location: { type: "string", description: "The city and state" } },
          required: ["location"]
        },
        strict: true
      }
    }
    const bare = { type: "function", function: { name: "now" } }

    it("turns function tools into Anthropic tools, with an empty object schema when there are no parameters", () => {
      expect(translate({ messages: hello, tools: [weather, bare] })["tools"]).toEqual([
        {
          name: "get_weather",
          description: "Get the current weather in a given location",
          input_schema: {
            type: "object",
            properties: { location: { type: "string", description: "The city and state" } },
            required: ["location"]
          }
        },
        { name: "now", input_schema: { type: "object", properties: {} } }
      ])
    })

    it("fails on a tool that is not a function", () => {
      expect(failure({ messages: hello, tools: [weather, { type: "custom", custom: { name: "x" } }] })).toEqual({
        param: "tools[1].type",
        message: "tools[1].type: the anthropic provider kind cannot translate a tool of type custom"
      })
    })

    it.each([
      ["auto", { type: "auto" }],
      ["required", { type: "any" }],
      ["none", { type: "none" }],
      [
        { type: "function", function: { name: "get_weather" } },
        { type: "tool", name: "get_weather" }
      ]
    ])("tool_choice %j → %j", (choice, expected) => {
      expect(translate({ messages: hello, tools: [weather], tool_choice: choice })["tool_choice"]).toEqual(expected)
    })

    it("fails on a tool_choice it cannot translate", () => {
      expect(failure({ messages: hello, tools: [weather], tool_choice: "sometimes" }).param).toBe("tool_choice")
      expect(
        failure({ messages: hello, tools: [weather], tool_choice: { type: "allowed_tools", allowed_tools: {} } }).param
      ).toBe("tool_choice")
      expect(failure({ messages: hello, tools: [weather], tool_choice: { type: "function" } }).param).toBe(
        "tool_choice.function.name"
      )
    })

    it("turns parallel_tool_calls: false into disable_parallel_tool_use", () => {
      const noParallel = { messages: hello, tools: [weather], parallel_tool_calls: false }
      expect(translate(noParallel)["tool_choice"]).toEqual({ type: "auto", disable_parallel_tool_use: true })
      expect(translate({ ...noParallel, tool_choice: "required" })["tool_choice"]).toEqual({
        type: "any",
        disable_parallel_tool_use: true
      })
      expect(
        translate({ ...noParallel, tool_choice: { type: "function", function: { name: "get_weather" } } })[
          "tool_choice"
        ]
      ).toEqual({ type: "tool", name: "get_weather", disable_parallel_tool_use: true })
      // Anthropic's `none` choice has no such flag.
      expect(translate({ ...noParallel, tool_choice: "none" })["tool_choice"]).toEqual({ type: "none" })
      // Without tools there is nothing to choose from.
      expect(translate({ messages: hello, parallel_tool_calls: false })["tool_choice"]).toBeUndefined()
      expect(translate({ messages: hello, tools: [weather], parallel_tool_calls: true })["tool_choice"]).toBeUndefined()
    })

    it("leaves out an empty tools list", () => {
      expect(translate({ messages: hello, tools: [] })["tools"]).toBeUndefined()
    })
  })

  describe("sampling and other parameters", () => {
    it("maps stop, temperature, top_p, user and stream", () => {
      expect(
        translate({
          messages: hello,
          stop: ["\n\nHuman:", "END"],
          temperature: 0.2,
          top_p: 0.9,
          user: "user-1234",
          stream: true,
          stream_options: { include_usage: true }
        })
      ).toEqual({
        model: MODEL,
        max_tokens: DEFAULT_MAX,
        messages: [{ role: "user", content: "Hello" }],
        stop_sequences: ["\n\nHuman:", "END"],
        temperature: 0.2,
        top_p: 0.9,
        metadata: { user_id: "user-1234" },
        stream: true
      })
      expect(translate({ messages: hello, stop: "END" })["stop_sequences"]).toEqual(["END"])
      expect(translate({ messages: hello, stop: [] })["stop_sequences"]).toBeUndefined()
      expect(translate({ messages: hello, stream: false })["stream"]).toBeUndefined()
      expect(failure({ messages: hello, stop: [1] }).param).toBe("stop")
    })

    it("fails on a temperature above Anthropic's range", () => {
      expect(translate({ messages: hello, temperature: 1 })["temperature"]).toBe(1)
      expect(failure({ messages: hello, temperature: 1.5 })).toEqual({
        param: "temperature",
        message: "temperature: 1.5 is out of range for the anthropic provider kind (Anthropic's range is 0 to 1)"
      })
      expect(failure({ messages: hello, temperature: "hot" }).param).toBe("temperature")
    })

    it("ignores what does not change the answer", () => {
      const body = {
        messages: hello,
        stream_options: { include_usage: true },
        seed: 42,
        frequency_penalty: 0.5,
        presence_penalty: 0.5,
        logit_bias: { "50256": -100 },
        store: true,
        metadata: { session: "s" },
        service_tier: "auto",
        reasoning_effort: "low",
        prediction: { type: "content", content: "x" },
        n: 1,
        logprobs: false,
        response_format: { type: "text" },
        modalities: ["text"]
      }
      expect(translate(body)).toEqual({
        model: MODEL,
        max_tokens: DEFAULT_MAX,
        messages: [{ role: "user", content: "Hello" }]
      })
    })

    it.each([
      [{ n: 2 }, "n"],
      [{ logprobs: true }, "logprobs"],
      [{ audio: { voice: "alloy", format: "wav" } }, "audio"],
      [{ modalities: ["text", "audio"] }, "modalities"],
      [{ response_format: { type: "json_object" } }, "response_format"],
      [{ response_format: { type: "json_schema", json_schema: { name: "x", schema: {} } } }, "response_format"],
      [{ functions: [{ name: "f" }] }, "functions"],
      [{ function_call: "auto" }, "function_call"],
      [{ web_search_options: {} }, "web_search_options"]
    ])("fails on %j, naming %s", (extra, param) => {
      const problem = failure({ messages: hello, ...extra })
      expect(problem.param).toBe(param)
      expect(problem.message).toContain("the anthropic provider kind cannot translate")
    })

    it("says which structured output it cannot translate", () => {
      expect(failure({ messages: hello, response_format: { type: "json_schema" } }).message).toBe(
        "response_format: the anthropic provider kind cannot translate a response_format of type json_schema (structured output)"
      )
      expect(failure({ messages: hello, response_format: { type: "json_object" } }).message).toContain("json_object")
    })
  })

  it("never throws on arbitrary JSON", () => {
    const message = fc.record({
      role: fc.constantFrom("system", "developer", "user", "assistant", "tool", "other"),
      content: fc.jsonValue(),
      tool_calls: fc.option(fc.jsonValue(), { nil: undefined }),
      tool_call_id: fc.option(fc.string(), { nil: undefined })
    })
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 6 }),
        fc.dictionary(fc.string(), fc.jsonValue()),
        (messages, extra) => {
          toAnthropicRequest({ ...extra, messages }, MODEL, DEFAULT_MAX)
        }
      )
    )
  })
})
