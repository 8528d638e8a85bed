import * as Result from "effect/Result"
import { describe, expect, it } from "vitest"
import { type RequestProblem, textOfRequest, toChatRequest } from "../../../src/messages/MessagesRequest.ts"

/** The translated request (fails the test when the translation fails). */
const ok = (body: Record<string, unknown>): Record<string, unknown> => {
  const result = toChatRequest(body)
  if (Result.isFailure(result)) throw new Error(`unexpected failure: ${JSON.stringify(result.failure)}`)
  return result.success
}

/** The problem the translation reports (fails the test when it succeeds). */
const problem = (body: Record<string, unknown>): RequestProblem => {
  const result = toChatRequest(body)
  if (Result.isSuccess(result)) throw new Error(`unexpected success: ${JSON.stringify(result.success)}`)
  return result.failure
}

const base = { model: "claude-sonnet-4-5", max_tokens: 1024, messages: [{ role: "user", content: "Hello, Claude" }] }

/** A request with `messages` replaced. */
const withMessages = (messages: ReadonlyArray<unknown>) => ({ ...base, messages })

describe("toChatRequest", () => {
  it("translates the minimal request from the Messages API reference", () => {
    expect(ok(base)).toEqual({
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      messages: [{ role: "user", content: "Hello, Claude" }]
    })
  })

  it("translates a tool-use conversation with every supported field (golden)", () => {
    const body = {
      model: "claude-opus-4-1",
      max_tokens: 2048,
      system: [
        { type: "text", text: "You are a weather assistant." },
        { type: "text", text: "Answer briefly.", cache_control: { type: "ephemeral" } }
      ],
      messages: [
        {
          role: "user",
          content: [
            {
              type: "image",
              source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" }
            },
            { type: "image", source: { type: "url", url: "https://example.com/map.jpg" } },
            { type: "text", text: "What's the weather in San Francisco?" }
          ]
        },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "I should call the tool.", signature: "EqQBCgIYAhIM" },
            { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" },
            { type: "text", text: "Let me check." },
            {
              type: "tool_use",
              id: "toolu_01A09q90qw90lq917835lq9",
              name: "get_weather",
              input: { location: "San Francisco, CA", unit: "celsius" }
            },
            { type: "tool_use", id: "toolu_02", name: "get_time", input: { tz: "America/Los_Angeles" } }
          ]
        },
        {
          role: "user",
          content: [
            { type: "text", text: "Also, be quick." },
            { type: "tool_result", tool_use_id: "toolu_01A09q90qw90lq917835lq9", content: "15 degrees" },
            {
              type: "tool_result",
              tool_use_id: "toolu_02",
              is_error: true,
              content: [
                { type: "text", text: "Error: unknown" },
                { type: "text", text: "time zone" }
              ]
            }
          ]
        }
      ],
      stop_sequences: ["\n\nHuman:"],
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      metadata: { user_id: "user-1234" },
      tools: [
        {
          name: "get_weather",
          description: "Get the current weather in a given location",
          input_schema: {
            type: "object",
            properties: { location: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
            required: ["location"]
          }
        },
        { type: "custom", name: "get_time", input_schema: { type: "object", properties: {} } }
      ],
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
      stream: true,
      thinking: { type: "enabled", budget_tokens: 1024 }
    }
    expect(ok(body)).toEqual({
      model: "claude-opus-4-1",
      max_tokens: 2048,
      messages: [
        { role: "system", content: "You are a weather assistant.\n\nAnswer briefly." },
        {
          role: "user",
          content: [
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "https://example.com/map.jpg" } },
            { type: "text", text: "What's the weather in San Francisco?" }
          ]
        },
        {
          role: "assistant",
          content: "Let me check.",
          tool_calls: [
            {
              id: "toolu_01A09q90qw90lq917835lq9",
              type: "function",
              function: { name: "get_weather", arguments: '{"location":"San Francisco, CA","unit":"celsius"}' }
            },
            {
              id: "toolu_02",
              type: "function",
              function: { name: "get_time", arguments: '{"tz":"America/Los_Angeles"}' }
            }
          ]
        },
        { role: "tool", tool_call_id: "toolu_01A09q90qw90lq917835lq9", content: "15 degrees" },
        { role: "tool", tool_call_id: "toolu_02", content: "Error: unknown\n\ntime zone" },
        { role: "user", content: "Also, be quick." }
      ],
      stop: ["\n\nHuman:"],
      temperature: 0.2,
      top_p: 0.9,
      user: "user-1234",
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Get the current weather in a given location",
            parameters: {
              type: "object",
              properties: {
                location: { type: "string" },
                unit: { type: "string", enum: ["celsius", "fahrenheit"] }
              },
              required: ["location"]
            }
          }
        },
        { type: "function", function: { name: "get_time", parameters: { type: "object", properties: {} } } }
      ],
      tool_choice: "auto",
      parallel_tool_calls: false,
      stream: true,
      stream_options: { include_usage: true }
    })
  })

  it("takes a string system prompt as the leading system message", () => {
    expect(ok({ ...base, system: "Be terse." })["messages"]).toEqual([
      { role: "system", content: "Be terse." },
      { role: "user", content: "Hello, Claude" }
    ])
  })

  it("joins text-only user blocks into one string", () => {
    const body = withMessages([
      {
        role: "user",
        content: [
          { type: "text", text: "<system-reminder>ctx</system-reminder>" },
          { type: "text", text: "Hi" }
        ]
      }
    ])
    expect(ok(body)["messages"]).toEqual([{ role: "user", content: "<system-reminder>ctx</system-reminder>\n\nHi" }])
  })

  it("sends a turn of tool results alone as tool messages", () => {
    const body = withMessages([
      { role: "user", content: "Weather?" },
      { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "w", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t1" }] }
    ])
    expect(ok(body)["messages"]).toEqual([
      { role: "user", content: "Weather?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "t1", type: "function", function: { name: "w", arguments: "{}" } }]
      },
      { role: "tool", tool_call_id: "t1", content: "" }
    ])
  })

  it("moves images of a tool result into the user message after the tool messages", () => {
    const body = withMessages([
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: "t1",
            content: [
              { type: "text", text: "screenshot taken" },
              { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } }
            ]
          },
          { type: "text", text: "What do you see?" }
        ]
      }
    ])
    expect(ok(body)["messages"]).toEqual([
      { role: "tool", tool_call_id: "t1", content: "screenshot taken" },
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQ" } },
          { type: "text", text: "What do you see?" }
        ]
      }
    ])
  })

  it("keeps an assistant string turn (prefill) and drops an assistant turn of thinking only", () => {
    const body = withMessages([
      { role: "user", content: "Hi" },
      { role: "assistant", content: [{ type: "thinking", thinking: "hmm", signature: "sig" }] },
      { role: "user", content: "Answer in JSON" },
      { role: "assistant", content: "{" }
    ])
    expect(ok(body)["messages"]).toEqual([
      { role: "user", content: "Hi" },
      { role: "user", content: "Answer in JSON" },
      { role: "assistant", content: "{" }
    ])
  })

  it("stringifies a missing tool_use input as {}", () => {
    const body = withMessages([{ role: "assistant", content: [{ type: "tool_use", id: "t", name: "n" }] }])
    expect(ok(body)["messages"]).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "t", type: "function", function: { name: "n", arguments: "{}" } }]
      }
    ])
  })

  it.each([
    [{ type: "auto" }, { tool_choice: "auto" }],
    [{ type: "any" }, { tool_choice: "required" }],
    [{ type: "none" }, { tool_choice: "none" }],
    [{ type: "tool", name: "get_weather" }, { tool_choice: { type: "function", function: { name: "get_weather" } } }],
    [
      { type: "any", disable_parallel_tool_use: true },
      { tool_choice: "required", parallel_tool_calls: false }
    ],
    [
      { type: "tool", name: "x", disable_parallel_tool_use: false },
      { tool_choice: { type: "function", function: { name: "x" } } }
    ]
  ])("maps tool_choice %j", (choice, expected) => {
    const tools = [{ name: "get_weather", input_schema: { type: "object" } }]
    const out = ok({ ...base, tools, tool_choice: choice })
    expect({ tool_choice: out["tool_choice"], parallel_tool_calls: out["parallel_tool_calls"] }).toEqual({
      parallel_tool_calls: undefined,
      ...expected
    })
  })

  it("leaves tool_choice out when there are no tools", () => {
    expect(ok({ ...base, tool_choice: { type: "none" } })).toEqual(ok(base))
    expect(ok({ ...base, tools: [], tool_choice: { type: "auto" } })).toEqual(ok(base))
  })

  it("does not ask for a stream when stream is false, and ignores top_k and null options", () => {
    expect(ok({ ...base, stream: false, top_k: 5, temperature: null, stop_sequences: [] })).toEqual(ok(base))
  })

  it.each([
    [{ ...base, model: undefined }, "model"],
    [{ ...base, model: 42 }, "model"],
    [{ ...base, max_tokens: undefined }, "max_tokens"],
    [{ ...base, max_tokens: 0 }, "max_tokens"],
    [{ ...base, max_tokens: 1.5 }, "max_tokens"],
    [{ ...base, max_tokens: "1024" }, "max_tokens"],
    [{ ...base, messages: undefined }, "messages"],
    [{ ...base, messages: [] }, "messages"],
    [{ ...base, messages: { role: "user", content: "hi" } }, "messages"],
    [withMessages(["hi"]), "messages[0]"],
    [withMessages([{ role: "system", content: "hi" }]), "messages[0].role"],
    [withMessages([{ role: "user" }]), "messages[0].content"],
    [withMessages([{ role: "user", content: ["hi"] }]), "messages[0].content[0]"],
    [withMessages([{ role: "user", content: [{ text: "hi" }] }]), "messages[0].content[0].type"],
    [withMessages([{ role: "user", content: [{ type: "text", text: 1 }] }]), "messages[0].content[0].text"],
    [
      withMessages([
        { role: "user", content: "a" },
        { role: "user", content: [{ type: "document", source: { type: "text", data: "x" } }] }
      ]),
      "messages[1].content[0]"
    ],
    [withMessages([{ role: "user", content: [{ type: "search_result", source: "s" }] }]), "messages[0].content[0]"],
    [
      withMessages([{ role: "assistant", content: [{ type: "server_tool_use", id: "s", name: "web_search" }] }]),
      "messages[0].content[0]"
    ],
    [withMessages([{ role: "assistant", content: [{ type: "tool_use", name: "n" }] }]), "messages[0].content[0].id"],
    [
      withMessages([{ role: "assistant", content: [{ type: "tool_result", tool_use_id: "t" }] }]),
      "messages[0].content[0]"
    ],
    [withMessages([{ role: "user", content: [{ type: "tool_use", id: "t", name: "n" }] }]), "messages[0].content[0]"],
    [
      withMessages([{ role: "user", content: [{ type: "tool_result", content: "x" }] }]),
      "messages[0].content[0].tool_use_id"
    ],
    [
      withMessages([
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: [{ type: "document" }] }] }
      ]),
      "messages[0].content[0].content[0]"
    ],
    [
      withMessages([{ role: "user", content: [{ type: "image", source: { type: "file", file_id: "file_1" } }] }]),
      "messages[0].content[0].source.type"
    ],
    [
      withMessages([{ role: "user", content: [{ type: "image", source: { type: "base64", data: "x" } }] }]),
      "messages[0].content[0].source.media_type"
    ],
    [{ ...base, system: [{ type: "image" }] }, "system[0]"],
    [{ ...base, system: 5 }, "system"],
    [{ ...base, tools: {} }, "tools"],
    [{ ...base, tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 5 }] }, "tools[0]"],
    [
      {
        ...base,
        tools: [
          { name: "ok", input_schema: {} },
          { type: "bash_20250124", name: "bash" }
        ]
      },
      "tools[1]"
    ],
    [{ ...base, tools: [{ name: "x" }] }, "tools[0].input_schema"],
    [{ ...base, tools: [{ input_schema: {} }] }, "tools[0].name"],
    [{ ...base, tool_choice: { type: "sometimes" } }, "tool_choice.type"],
    [{ ...base, tool_choice: { type: "tool" } }, "tool_choice.name"],
    [{ ...base, stop_sequences: "STOP" }, "stop_sequences"],
    [{ ...base, temperature: "hot" }, "temperature"]
  ])("refuses %j naming %s", (body, param) => {
    const p = problem(body)
    expect(p.param).toBe(param)
    expect(p.message).toContain(param.replace(/\.(type|text|id|name|tool_use_id|media_type|input_schema)$/, ""))
  })

  it("names the unsupported block type and the server tool type", () => {
    expect(problem(withMessages([{ role: "user", content: [{ type: "document" }] }])).message).toContain('"document"')
    expect(
      problem(withMessages([{ role: "assistant", content: [{ type: "server_tool_use", id: "s", name: "n" }] }])).message
    ).toContain('"server_tool_use"')
    expect(problem({ ...base, tools: [{ type: "web_search_20250305", name: "web_search" }] }).message).toContain(
      "web_search_20250305"
    )
  })
})

describe("textOfRequest", () => {
  it("concatenates the system prompt, message text, tool calls, tool results and tool definitions", () => {
    const body = {
      ...base,
      system: [{ type: "text", text: "sys" }],
      messages: [
        { role: "user", content: "hello" },
        {
          role: "assistant",
          content: [
            { type: "text", text: "calling" },
            { type: "tool_use", id: "t", name: "get_weather", input: { city: "Paris" } }
          ]
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "t", content: [{ type: "text", text: "sunny" }] },
            { type: "image", source: { type: "url", url: "https://x" } }
          ]
        }
      ],
      tools: [{ name: "get_weather", description: "Weather", input_schema: { type: "object" } }]
    }
    expect(textOfRequest(body)).toBe(
      [
        "sys",
        "hello",
        "calling",
        "get_weather",
        '{"city":"Paris"}',
        "sunny",
        "get_weather",
        "Weather",
        '{"type":"object"}'
      ].join("\n")
    )
  })

  it("skips what it does not understand", () => {
    expect(
      textOfRequest({ system: 3, messages: [null, { content: 5 }, { content: [1, { type: "x" }] }], tools: "no" })
    ).toBe("")
  })
})
