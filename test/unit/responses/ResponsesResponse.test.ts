import { describe, expect, it } from "vitest"
import { responseUsage, toResponseObject } from "../../../src/responses/ResponsesResponse.ts"
import { expectResponseShape, fakeClient, jsonAnswer } from "./sdk.ts"

const CREATED = 1741476542

const completion = (message: Record<string, unknown>, finish: string, usage?: unknown) => ({
  id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  object: "chat.completion",
  created: 1741569952,
  model: "gpt-4.1-2025-04-14",
  choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
  ...(usage === undefined ? {} : { usage })
})

const request = { model: "gpt-4.1", input: "Tell me a three sentence bedtime story about a unicorn." }

/** The fields every Response echoes for `request` (no instructions, tools or sampling set). */
const echoes = {
  background: false,
  error: null,
  instructions: null,
  max_output_tokens: null,
  model: "gpt-4.1",
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: null,
  store: false,
  temperature: null,
  text: { format: { type: "text" } },
  tool_choice: "auto",
  tools: [],
  top_p: null,
  truncation: "disabled",
  access_programs: null,
  metadata: {}
}

const weatherCalls = [
  {
    id: "call_abc123",
    type: "function",
    function: { name: "get_current_weather", arguments: '{"location":"Boston, MA"}' }
  },
  { id: "call_def456", type: "function", function: { name: "get_time", arguments: "" } }
]

describe("toResponseObject", () => {
  it("translates a text answer (golden, from the Responses API reference)", () => {
    const body = completion(
      {
        role: "assistant",
        content: "In a peaceful grove beneath a silver moon, a unicorn named Lumina discovered a hidden pool.",
        refusal: null
      },
      "stop",
      {
        prompt_tokens: 36,
        completion_tokens: 87,
        total_tokens: 123,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 }
      }
    )
    expect(toResponseObject(body, request, CREATED)).toEqual({
      id: "resp_B9MBs8CjcvOU2jLn4n570S5qMJKcT",
      object: "response",
      created_at: CREATED,
      status: "completed",
      incomplete_details: null,
      ...echoes,
      output: [
        {
          id: "msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT",
          type: "message",
          status: "completed",
          role: "assistant",
          content: [
            {
              type: "output_text",
              text: "In a peaceful grove beneath a silver moon, a unicorn named Lumina discovered a hidden pool.",
              annotations: [],
              logprobs: []
            }
          ]
        }
      ],
      usage: {
        input_tokens: 36,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 87,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 123
      }
    })
  })

  it("translates tool calls into function_call items after the message (golden)", () => {
    const body = completion({ role: "assistant", content: "Checking.", tool_calls: weatherCalls }, "tool_calls", {
      prompt_tokens: 82,
      completion_tokens: 17,
      total_tokens: 99
    })
    const response = toResponseObject(body, request, CREATED)
    expect(response?.["output"]).toEqual([
      {
        id: "msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        type: "message",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "Checking.", annotations: [], logprobs: [] }]
      },
      {
        id: "fc_B9MBs8CjcvOU2jLn4n570S5qMJKcT_1",
        type: "function_call",
        status: "completed",
        arguments: '{"location":"Boston, MA"}',
        call_id: "call_abc123",
        name: "get_current_weather"
      },
      {
        id: "fc_B9MBs8CjcvOU2jLn4n570S5qMJKcT_2",
        type: "function_call",
        status: "completed",
        arguments: "{}",
        call_id: "call_def456",
        name: "get_time"
      }
    ])
    expect(response?.["status"]).toBe("completed")
  })

  it("makes up call ids for tool calls without one, and reads the legacy function_call", () => {
    const body = completion(
      {
        role: "assistant",
        content: null,
        tool_calls: [{ type: "function", function: { name: "a", arguments: { x: 1 } } }],
        function_call: { name: "legacy", arguments: '{"y":2}' }
      },
      "tool_calls"
    )
    const output = toResponseObject(body, request, CREATED)?.["output"]
    expect(output).toEqual([
      {
        id: "fc_B9MBs8CjcvOU2jLn4n570S5qMJKcT_0",
        type: "function_call",
        status: "completed",
        arguments: '{"x":1}',
        call_id: "call_B9MBs8CjcvOU2jLn4n570S5qMJKcT_0",
        name: "a"
      },
      {
        id: "fc_B9MBs8CjcvOU2jLn4n570S5qMJKcT_1",
        type: "function_call",
        status: "completed",
        arguments: '{"y":2}',
        call_id: "call_B9MBs8CjcvOU2jLn4n570S5qMJKcT_1",
        name: "legacy"
      }
    ])
  })

  it("turns a refusal into a refusal part, and text in parts into output_text", () => {
    const refused = completion({ role: "assistant", content: null, refusal: "I can't help with that." }, "stop")
    expect(toResponseObject(refused, request, CREATED)?.["output"]).toEqual([
      {
        id: "msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        type: "message",
        status: "completed",
        role: "assistant",
        content: [{ type: "refusal", refusal: "I can't help with that." }]
      }
    ])
    const parts = completion(
      {
        role: "assistant",
        content: [
          { type: "text", text: "Hello" },
          { type: "text", text: ", world" }
        ]
      },
      "stop"
    )
    const output = toResponseObject(parts, request, CREATED)?.["output"] as ReadonlyArray<Record<string, unknown>>
    expect(output[0]?.["content"]).toEqual([
      { type: "output_text", text: "Hello, world", annotations: [], logprobs: [] }
    ])
  })

  it("drops reasoning text and leaves the output empty for an empty answer", () => {
    const body = completion({ role: "assistant", content: "", reasoning_content: "Let me think." }, "stop")
    expect(toResponseObject(body, request, CREATED)?.["output"]).toEqual([])
  })

  it.each([
    ["length", "max_output_tokens"],
    ["content_filter", "content_filter"]
  ])("answers finish_reason %s as incomplete (%s), the last item incomplete", (finish, reason) => {
    const body = completion({ role: "assistant", content: "Once upon a", tool_calls: [weatherCalls[0]] }, finish)
    const response = toResponseObject(body, request, CREATED)
    expect(response?.["status"]).toBe("incomplete")
    expect(response?.["incomplete_details"]).toEqual({ reason })
    const output = response?.["output"] as ReadonlyArray<Record<string, unknown>>
    expect(output.map((item) => item["status"])).toEqual(["completed", "incomplete"])
  })

  it("echoes the request's fields", () => {
    const tools = [{ type: "function", name: "get_weather", parameters: { type: "object" }, strict: true }]
    const full = {
      model: "my-alias",
      input: "hi",
      instructions: "Be brief.",
      max_output_tokens: 256,
      parallel_tool_calls: false,
      reasoning: { effort: "low" },
      temperature: 0.3,
      top_p: 0.8,
      text: { format: { type: "json_object" } },
      tool_choice: "required",
      tools,
      truncation: "auto",
      user: "u-1",
      metadata: { session: "s" },
      store: true,
      previous_response_id: null
    }
    const response = toResponseObject(completion({ role: "assistant", content: "{}" }, "stop"), full, CREATED)
    expect(response).toMatchObject({
      model: "my-alias",
      instructions: "Be brief.",
      max_output_tokens: 256,
      parallel_tool_calls: false,
      reasoning: { effort: "low" },
      temperature: 0.3,
      top_p: 0.8,
      text: { format: { type: "json_object" } },
      tool_choice: "required",
      tools,
      truncation: "auto",
      user: "u-1",
      metadata: { session: "s" },
      store: false,
      previous_response_id: null,
      background: false
    })
    expect(Object.hasOwn(toResponseObject(completion({ content: "x" }, "stop"), request, CREATED) ?? {}, "user")).toBe(
      false
    )
  })

  it("falls back on the completion's model, and on a fresh id", () => {
    const body = { choices: [{ message: { content: "x" }, finish_reason: "stop" }], model: "upstream-model" }
    const response = toResponseObject(body, { input: "x" }, CREATED)
    expect(response?.["model"]).toBe("upstream-model")
    expect(response?.["id"]).toMatch(/^resp_[0-9a-f]{32}$/)
    const id = String(response?.["id"]).slice("resp_".length)
    expect(response?.["output"]).toMatchObject([{ id: `msg_${id}` }])
    expect(toResponseObject({ ...body, id: "gen-42" }, request, CREATED)?.["id"]).toBe("resp_gen-42")
  })

  it("answers undefined for a body without choices[0].message", () => {
    expect(toResponseObject({}, request, CREATED)).toBeUndefined()
    expect(toResponseObject({ choices: [] }, request, CREATED)).toBeUndefined()
    expect(toResponseObject({ choices: [{ delta: {} }] }, request, CREATED)).toBeUndefined()
  })

  it("has every field the openai SDK's Response type requires", () => {
    const body = completion({ role: "assistant", content: "Hi", tool_calls: weatherCalls }, "tool_calls", {
      prompt_tokens: 5,
      completion_tokens: 3,
      total_tokens: 8
    })
    expectResponseShape(toResponseObject(body, request, CREATED))
    expectResponseShape(toResponseObject(completion({ refusal: "no" }, "length"), request, CREATED))
  })

  it("is read by the openai SDK: output_text, function calls and usage", async () => {
    const body = completion(
      { role: "assistant", content: "Checking the weather.", tool_calls: weatherCalls },
      "tool_calls",
      {
        prompt_tokens: 82,
        completion_tokens: 17,
        total_tokens: 99,
        prompt_tokens_details: { cached_tokens: 64 }
      }
    )
    const client = fakeClient(jsonAnswer(toResponseObject(body, request, CREATED)))
    const response = await client.responses.create({ model: "gpt-4.1", input: request.input })
    expect(response.output_text).toBe("Checking the weather.")
    expect(response.status).toBe("completed")
    const calls = response.output.flatMap((item) => (item.type === "function_call" ? [item] : []))
    expect(calls.map((c) => [c.call_id, c.name, JSON.parse(c.arguments)])).toEqual([
      ["call_abc123", "get_current_weather", { location: "Boston, MA" }],
      ["call_def456", "get_time", {}]
    ])
    expect(response.usage?.input_tokens_details.cached_tokens).toBe(64)
    expect(response.usage?.total_tokens).toBe(99)
  })

  it("is parsed by the openai SDK for a json_schema text format", async () => {
    const format = {
      type: "json_schema" as const,
      name: "story",
      schema: { type: "object", properties: { title: { type: "string" } }, required: ["title"] },
      strict: true
    }
    const req = { model: "gpt-4.1", input: "A title, please.", text: { format } }
    const client = fakeClient(
      jsonAnswer(toResponseObject(completion({ content: '{"title":"Lumina"}' }, "stop"), req, CREATED))
    )
    const parsed = await client.responses.parse(req)
    expect(parsed.output_parsed).toEqual({ title: "Lumina" })
  })
})

describe("responseUsage", () => {
  it("carries the counts over, inclusive as chat's, with the details capped", () => {
    expect(
      responseUsage({
        prompt_tokens: 100,
        completion_tokens: 40,
        total_tokens: 140,
        prompt_tokens_details: { cached_tokens: 80, cache_creation_tokens: 10 },
        completion_tokens_details: { reasoning_tokens: 25 }
      })
    ).toEqual({
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 80 },
      output_tokens: 40,
      output_tokens_details: { reasoning_tokens: 25 },
      total_tokens: 140
    })
    expect(
      responseUsage({
        prompt_tokens: 10,
        completion_tokens: 5,
        prompt_tokens_details: { cached_tokens: 99 },
        completion_tokens_details: { reasoning_tokens: 9 }
      })
    ).toMatchObject({ input_tokens_details: { cached_tokens: 10 }, output_tokens_details: { reasoning_tokens: 5 } })
  })

  it("answers zeros for missing usage, and reads output from total_tokens when completion_tokens is absent", () => {
    const zero = {
      input_tokens: 0,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 0,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 0
    }
    expect(responseUsage(undefined)).toEqual(zero)
    expect(responseUsage({ prompt_tokens: -1, completion_tokens: "3" })).toEqual(zero)
    expect(responseUsage({ prompt_tokens: 7, total_tokens: 10 })).toMatchObject({ output_tokens: 3, total_tokens: 10 })
  })
})
