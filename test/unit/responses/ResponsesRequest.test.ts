import type OpenAI from "openai"
import * as Result from "effect/Result"
import { describe, expect, it } from "vitest"
import { type RequestProblem, toChatRequest } from "../../../src/responses/ResponsesRequest.ts"
import { fakeClient, jsonAnswer } from "./sdk.ts"

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

const base = { model: "gpt-4.1", input: "Tell me a three sentence bedtime story about a unicorn." }

/** A request with `input` replaced. */
const withInput = (input: ReadonlyArray<unknown>) => ({ model: "gpt-4.1", input })

const weatherTool = {
  type: "function",
  name: "get_weather",
  description: "Get current temperature for a given location.",
  parameters: {
    type: "object",
    properties: { location: { type: "string", description: "City and country e.g. Bogotá, Colombia" } },
    required: ["location"],
    additionalProperties: false
  },
  strict: true
}

describe("toChatRequest", () => {
  it("translates the minimal request from the Responses API reference", () => {
    expect(ok(base)).toEqual({
      model: "gpt-4.1",
      messages: [{ role: "user", content: "Tell me a three sentence bedtime story about a unicorn." }]
    })
  })

  it("translates a tool-use conversation with every supported field (golden)", () => {
    const body = {
      model: "gpt-4.1",
      instructions: "You are a weather assistant.",
      input: [
        { role: "developer", content: "Answer briefly." },
        {
          type: "message",
          role: "user",
          content: [
            { type: "input_text", text: "What's the weather like in Paris and in this picture?" },
            { type: "input_image", image_url: "https://example.com/sky.jpg", detail: "low" },
            { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "original" }
          ]
        },
        { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "gAAAAB" },
        {
          type: "message",
          id: "msg_1",
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: "Let me check.", annotations: [] }]
        },
        {
          type: "function_call",
          id: "fc_1",
          call_id: "call_a",
          name: "get_weather",
          arguments: '{"location":"Paris, France"}',
          status: "completed"
        },
        { type: "function_call", call_id: "call_b", name: "get_weather", arguments: '{"location":"Nice, France"}' },
        { type: "function_call_output", call_id: "call_a", output: "18°C, sunny" },
        {
          type: "function_call_output",
          call_id: "call_b",
          output: [
            { type: "input_text", text: "22°C" },
            { type: "input_text", text: "clear" },
            { type: "input_image", image_url: "https://example.com/nice.png" }
          ]
        },
        { role: "user", content: "Thanks! And tomorrow?" }
      ],
      tools: [weatherTool, { type: "function", name: "get_time", parameters: null, strict: null }],
      tool_choice: { type: "function", name: "get_weather" },
      parallel_tool_calls: false,
      max_output_tokens: 512,
      temperature: 0.2,
      top_p: 0.9,
      user: "user-1234",
      reasoning: { effort: "low", summary: "auto" },
      text: {
        format: {
          type: "json_schema",
          name: "weather",
          description: "A forecast",
          schema: { type: "object", properties: { summary: { type: "string" } }, required: ["summary"] },
          strict: true
        },
        verbosity: "low"
      },
      stream: true,
      store: true,
      metadata: { session: "abc" },
      include: ["reasoning.encrypted_content"],
      truncation: "auto",
      service_tier: "auto",
      prompt_cache_key: "k"
    }
    expect(ok(body)).toEqual({
      model: "gpt-4.1",
      messages: [
        { role: "system", content: "You are a weather assistant." },
        { role: "system", content: "Answer briefly." },
        {
          role: "user",
          content: [
            { type: "text", text: "What's the weather like in Paris and in this picture?" },
            { type: "image_url", image_url: { url: "https://example.com/sky.jpg", detail: "low" } },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }
          ]
        },
        {
          role: "assistant",
          content: "Let me check.",
          tool_calls: [
            {
              id: "call_a",
              type: "function",
              function: { name: "get_weather", arguments: '{"location":"Paris, France"}' }
            },
            {
              id: "call_b",
              type: "function",
              function: { name: "get_weather", arguments: '{"location":"Nice, France"}' }
            }
          ]
        },
        { role: "tool", tool_call_id: "call_a", content: "18°C, sunny" },
        { role: "tool", tool_call_id: "call_b", content: "22°C\n\nclear" },
        { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/nice.png" } }] },
        { role: "user", content: "Thanks! And tomorrow?" }
      ],
      max_completion_tokens: 512,
      temperature: 0.2,
      top_p: 0.9,
      user: "user-1234",
      reasoning_effort: "low",
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "weather",
          description: "A forecast",
          schema: { type: "object", properties: { summary: { type: "string" } }, required: ["summary"] },
          strict: true
        }
      },
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Get current temperature for a given location.",
            parameters: weatherTool.parameters,
            strict: true
          }
        },
        { type: "function", function: { name: "get_time" } }
      ],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      parallel_tool_calls: false,
      stream: true,
      stream_options: { include_usage: true }
    })
  })

  it("opens an assistant message for function calls that follow no assistant text", () => {
    const messages = ok(
      withInput([
        { role: "user", content: "Weather in Paris?" },
        { type: "function_call", call_id: "call_1", name: "get_weather", arguments: "{}" },
        { type: "function_call_output", call_id: "call_1", output: "18°C" },
        { type: "function_call", call_id: "call_2", name: "get_weather", arguments: '{"x":1}' },
        { type: "function_call_output", call_id: "call_2", output: "" }
      ])
    )["messages"]
    expect(messages).toEqual([
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } }]
      },
      { role: "tool", tool_call_id: "call_1", content: "18°C" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_2", type: "function", function: { name: "get_weather", arguments: '{"x":1}' } }]
      },
      { role: "tool", tool_call_id: "call_2", content: "" }
    ])
  })

  it("joins text parts with a blank line, and an assistant's empty text before tool calls is null", () => {
    const messages = ok(
      withInput([
        {
          role: "system",
          content: [
            { type: "input_text", text: "Rule one." },
            { type: "input_text", text: "Rule two." }
          ]
        },
        {
          role: "user",
          content: [
            { type: "input_text", text: "a" },
            { type: "input_text", text: "b" }
          ]
        },
        {
          role: "assistant",
          content: [
            { type: "output_text", text: "", annotations: [] },
            { type: "refusal", refusal: "" }
          ]
        },
        { type: "function_call", call_id: "c", name: "f", arguments: "{}" },
        { role: "assistant", content: [{ type: "refusal", refusal: "I can't help with that." }] }
      ])
    )["messages"]
    expect(messages).toEqual([
      { role: "system", content: "Rule one.\n\nRule two." },
      { role: "user", content: "a\n\nb" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }]
      },
      { role: "assistant", content: "I can't help with that." }
    ])
  })

  it("puts the images of a run of tool outputs after the run, before the next item", () => {
    const messages = ok(
      withInput([
        { type: "function_call", call_id: "a", name: "shot", arguments: "{}" },
        { type: "function_call", call_id: "b", name: "shot", arguments: "{}" },
        { type: "function_call_output", call_id: "a", output: [{ type: "input_image", image_url: "https://x/a.png" }] },
        { type: "function_call_output", call_id: "b", output: [{ type: "input_image", image_url: "https://x/b.png" }] },
        { type: "reasoning", id: "rs", summary: [] }
      ])
    )["messages"] as ReadonlyArray<Record<string, unknown>>
    expect(messages.map((m) => m["role"])).toEqual(["assistant", "tool", "tool", "user"])
    expect(messages[1]).toEqual({ role: "tool", tool_call_id: "a", content: "" })
    expect(messages[3]?.["content"]).toEqual([
      { type: "image_url", image_url: { url: "https://x/a.png" } },
      { type: "image_url", image_url: { url: "https://x/b.png" } }
    ])
  })

  it("maps every tool_choice, and leaves tool_choice and parallel_tool_calls out without tools", () => {
    const withTools = { ...base, tools: [weatherTool] }
    for (const choice of ["auto", "none", "required"]) {
      expect(ok({ ...withTools, tool_choice: choice })["tool_choice"]).toBe(choice)
    }
    expect(ok({ ...withTools, parallel_tool_calls: true })["parallel_tool_calls"]).toBe(true)
    const bare = ok({ ...base, tools: [], tool_choice: "required", parallel_tool_calls: false })
    expect(bare).toEqual(ok(base))
  })

  it("maps text.format json_object, and plain text to nothing", () => {
    expect(ok({ ...base, text: { format: { type: "json_object" } } })["response_format"]).toEqual({
      type: "json_object"
    })
    expect(ok({ ...base, text: { format: { type: "text" } } })).toEqual(ok(base))
    expect(ok({ ...base, text: { verbosity: "high" } })).toEqual(ok(base))
  })

  it("accepts store, background: false, a null previous_response_id and the includable entry", () => {
    for (const extra of [
      { store: false },
      { store: true },
      { background: false },
      { previous_response_id: null, conversation: null, prompt: null },
      { include: ["reasoning.encrypted_content"] },
      { include: [] },
      { top_logprobs: 0 },
      { truncation: "disabled" }
    ]) {
      expect(ok({ ...base, ...extra })).toEqual(ok(base))
    }
  })

  it.each([
    [{ previous_response_id: "resp_123" }, "previous_response_id"],
    [{ conversation: "conv_123" }, "conversation"],
    [{ conversation: { id: "conv_123" } }, "conversation"],
    [{ prompt: { id: "pmpt_123", version: "2" } }, "prompt"],
    [{ background: true }, "background"],
    [{ include: ["reasoning.encrypted_content", "message.output_text.logprobs"] }, "include[1]"],
    [{ include: "file_search_call.results" }, "include"],
    [{ top_logprobs: 5 }, "top_logprobs"],
    [{ model: "" }, "model"],
    [{ model: undefined }, "model"],
    [{ input: undefined }, "input"],
    [{ input: [] }, "input"],
    [{ input: 42 }, "input"],
    [{ instructions: ["be brief"] }, "instructions"],
    [{ max_output_tokens: 0 }, "max_output_tokens"],
    [{ max_output_tokens: 1.5 }, "max_output_tokens"],
    [{ temperature: "hot" }, "temperature"],
    [{ parallel_tool_calls: "no" }, "parallel_tool_calls"],
    [{ tools: { type: "function" } }, "tools"],
    [{ tools: [weatherTool, { type: "web_search" }] }, "tools[1]"],
    [{ tools: [{ type: "web_search_preview" }] }, "tools[0]"],
    [{ tools: [{ type: "file_search", vector_store_ids: ["vs_1"] }] }, "tools[0]"],
    [{ tools: [{ type: "code_interpreter", container: { type: "auto" } }] }, "tools[0]"],
    [{ tools: [{ type: "computer_use_preview", display_width: 1024, display_height: 768 }] }, "tools[0]"],
    [{ tools: [{ type: "image_generation" }] }, "tools[0]"],
    [{ tools: [{ type: "mcp", server_label: "x", server_url: "https://x" }] }, "tools[0]"],
    [{ tools: [{ type: "custom", name: "grammar" }] }, "tools[0]"],
    [{ tools: [{ type: "function", name: "" }] }, "tools[0].name"],
    [{ tools: [{ type: "function", name: "f", parameters: "{}" }] }, "tools[0].parameters"],
    [{ tools: [weatherTool], tool_choice: { type: "allowed_tools", mode: "auto", tools: [] } }, "tool_choice"],
    [{ tools: [weatherTool], tool_choice: { type: "web_search_preview" } }, "tool_choice"],
    [{ tools: [weatherTool], tool_choice: "any" }, "tool_choice"],
    [{ tools: [weatherTool], tool_choice: { type: "function" } }, "tool_choice.name"],
    [{ text: { format: { type: "grammar" } } }, "text.format.type"],
    [{ text: { format: { type: "json_schema", schema: {} } } }, "text.format.name"],
    [{ text: { format: { type: "json_schema", name: "x" } } }, "text.format.schema"]
  ])("refuses %j, naming %s", (extra, param) => {
    expect(problem({ ...base, ...extra }).param).toBe(param)
  })

  it.each([
    [[{ type: "item_reference", id: "msg_123" }], "input[0]"],
    [
      [
        { role: "user", content: "hi" },
        { type: "file_search_call", id: "fs_1", queries: [], status: "completed" }
      ],
      "input[1]"
    ],
    [[{ type: "computer_call_output", call_id: "c", output: {} }], "input[0]"],
    [[{ type: "custom_tool_call", call_id: "c", name: "g", input: "x" }], "input[0]"],
    [["hi"], "input[0]"],
    [[{ role: "tool", content: "x" }], "input[0].role"],
    [[{ content: "x" }], "input[0].role"],
    [[{ role: "user", content: 7 }], "input[0].content"],
    [[{ role: "user", content: [{ type: "input_file", file_id: "file-123" }] }], "input[0].content[0]"],
    [
      [{ role: "user", content: [{ type: "input_image", file_id: "file-123", detail: "auto" }] }],
      "input[0].content[0].file_id"
    ],
    [[{ role: "user", content: [{ type: "input_image", detail: "auto" }] }], "input[0].content[0].image_url"],
    [[{ role: "user", content: [{ type: "input_audio", input_audio: {} }] }], "input[0].content[0]"],
    [[{ role: "user", content: [{ type: "input_text" }] }], "input[0].content[0].text"],
    [[{ role: "user", content: [{ text: "no type" }] }], "input[0].content[0].type"],
    [[{ role: "system", content: [{ type: "input_image", image_url: "https://x/y.png" }] }], "input[0].content[0]"],
    [[{ type: "function_call", name: "f", arguments: "{}" }], "input[0].call_id"],
    [[{ type: "function_call", call_id: "c", arguments: "{}" }], "input[0].name"],
    [[{ type: "function_call", call_id: "c", name: "f", arguments: { a: 1 } }], "input[0].arguments"],
    [[{ type: "function_call_output", output: "x" }], "input[0].call_id"],
    [[{ type: "function_call_output", call_id: "c", output: 3 }], "input[0].output"],
    [
      [{ type: "function_call_output", call_id: "c", output: [{ type: "input_file", file_data: "x" }] }],
      "input[0].output[0]"
    ],
    [
      [{ type: "function_call_output", call_id: "c", output: [{ type: "output_text", text: "x" }] }],
      "input[0].output[0]"
    ]
  ])("refuses the input %j, naming %s", (input, param) => {
    const p = problem(withInput(input))
    expect(p.param).toBe(param)
    expect(p.message).toContain(param)
  })

  it("says why a stateful field cannot be served", () => {
    expect(problem({ ...base, previous_response_id: "resp_1" }).message).toMatch(/stores no responses/)
    expect(problem({ ...base, tools: [{ type: "web_search" }] }).message).toMatch(/"web_search".*only function tools/)
  })

  it("translates the bodies the openai SDK sends", async () => {
    const sent: Array<unknown> = []
    const client = fakeClient(jsonAnswer({}), sent)
    const params: OpenAI.Responses.ResponseCreateParamsNonStreaming = {
      model: "gpt-4.1",
      instructions: "Be brief.",
      input: [
        { role: "user", content: [{ type: "input_text", text: "Weather in Paris?" }] },
        { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"location":"Paris"}' },
        { type: "function_call_output", call_id: "call_1", output: "18°C" }
      ],
      tools: [
        {
          type: "function",
          name: "get_weather",
          parameters: { type: "object", properties: { location: { type: "string" } } },
          strict: false
        }
      ],
      max_output_tokens: 100,
      store: false,
      include: ["reasoning.encrypted_content"]
    }
    await client.responses.create(params).catch(() => undefined)
    expect(sent).toHaveLength(1)
    expect(ok(sent[0] as Record<string, unknown>)).toEqual({
      model: "gpt-4.1",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"location":"Paris"}' } }
          ]
        },
        { role: "tool", tool_call_id: "call_1", content: "18°C" }
      ],
      max_completion_tokens: 100,
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            parameters: { type: "object", properties: { location: { type: "string" } } },
            strict: false
          }
        }
      ]
    })
  })

  it("translates a streaming SDK request with the usage asked for", async () => {
    const sent: Array<unknown> = []
    const client = fakeClient(() => new Response("", { headers: { "content-type": "text/event-stream" } }), sent)
    await client.responses
      .stream({ model: "gpt-4.1", input: "hi" })
      .finalResponse()
      .catch(() => undefined)
    expect(ok(sent[0] as Record<string, unknown>)).toEqual({
      model: "gpt-4.1",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true }
    })
  })
})
