import type OpenAI from "openai"
import { describe, expect, it } from "vitest"
import { toResponseObject } from "../../../src/responses/ResponsesResponse.ts"
import { makeResponsesStreamTranslator, type StreamTranslator } from "../../../src/responses/ResponsesStream.ts"
import { expectEventShape, fakeClient, sseAnswer } from "./sdk.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const LIMIT = 64 * 1024
const CREATED = 1741476542
const REQUEST = {
  model: "gpt-4.1",
  input: "What's the weather in Zürich?",
  tools: [{ type: "function", name: "get_weather", parameters: { type: "object" }, strict: false }],
  stream: true
}

const translator = (lineLimit = LIMIT, request: Record<string, unknown> = REQUEST): StreamTranslator =>
  makeResponsesStreamTranslator({ request, createdAt: CREATED, lineLimit })

/** Feeds the pieces to a fresh translator, then ends it; every output byte, concatenated. */
const run = (pieces: ReadonlyArray<Uint8Array>, lineLimit = LIMIT): Uint8Array => {
  const t = translator(lineLimit)
  const outs = [...pieces.map((p) => t.push(p)), t.end()]
  const total = new Uint8Array(outs.reduce((n, o) => n + o.length, 0))
  let at = 0
  for (const o of outs) {
    total.set(o, at)
    at += o.length
  }
  return total
}

const runText = (sse: string, lineLimit = LIMIT): string => decoder.decode(run([encoder.encode(sse)], lineLimit))

interface Event {
  readonly event: string
  readonly data: Record<string, unknown>
}

/**
 * The output parsed back as Responses events: each `event:` name matches its data's `type`, the
 * sequence numbers count from 0, and every event has the fields the SDK's type for it requires.
 */
const parse = (output: string): Array<Event> => {
  expect(output.endsWith("\n\n") || output === "").toBe(true)
  const events = output
    .split("\n\n")
    .filter((e) => e !== "")
    .map((block) => {
      const [eventLine, dataLine, ...rest] = block.split("\n")
      expect(rest).toEqual([])
      expect(eventLine).toMatch(/^event: /)
      expect(dataLine).toMatch(/^data: /)
      const event = eventLine!.slice("event: ".length)
      const data = JSON.parse(dataLine!.slice("data: ".length)) as Record<string, unknown>
      expect(data["type"]).toBe(event)
      expectEventShape(data)
      return { event, data }
    })
  expect(events.map((e) => e.data["sequence_number"])).toEqual(events.map((_, i) => i))
  return events
}

/** The Response of an event ({} when there is none). */
const responseOf = (e: Event | undefined): Record<string, unknown> =>
  (e?.data["response"] ?? {}) as Record<string, unknown>

const CHUNK_ID = "chatcmpl-7Xx9"

const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
  `data: ${JSON.stringify({
    id: CHUNK_ID,
    object: "chat.completion.chunk",
    created: 1694268190,
    model: "gpt-4.1-2025-04-14",
    system_fingerprint: "fp_44709d6fcb",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }]
  })}\n\n`

const USAGE = {
  prompt_tokens: 120,
  completion_tokens: 31,
  total_tokens: 151,
  prompt_tokens_details: { cached_tokens: 100 },
  completion_tokens_details: { reasoning_tokens: 0 }
}

const usageChunk = `data: ${JSON.stringify({
  id: CHUNK_ID,
  object: "chat.completion.chunk",
  created: 1694268190,
  model: "gpt-4.1-2025-04-14",
  choices: [],
  usage: USAGE
})}\n\n`

const toolPiece = (index: number, fn: Record<string, unknown>, id?: string): Record<string, unknown> => ({
  tool_calls: [id === undefined ? { index, function: fn } : { index, id, type: "function", function: fn }]
})

/** A realistic chat stream: role chunk, text (with multi-byte characters), a tool call in pieces, finish, usage, [DONE]. */
const REALISTIC =
  chunk({ role: "assistant", content: "", refusal: null }) +
  chunk({ content: "Let me check the " }) +
  chunk({ content: "weather in Zürich ☀️." }) +
  chunk(toolPiece(0, { name: "get_weather", arguments: "" }, "call_DdmO9pD3xa9XTPNJ32zg2hcA")) +
  chunk(toolPiece(0, { arguments: '{"lo' })) +
  chunk(toolPiece(0, { arguments: 'cation": "Zü' })) +
  chunk(toolPiece(0, { arguments: 'rich"}' })) +
  chunk({}, "tool_calls") +
  usageChunk +
  "data: [DONE]\n\n"

/** The same answer as one chat.completion. */
const REALISTIC_COMPLETION = {
  id: CHUNK_ID,
  object: "chat.completion",
  created: 1694268190,
  model: "gpt-4.1-2025-04-14",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: "Let me check the weather in Zürich ☀️.",
        tool_calls: [
          {
            id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
            type: "function",
            function: { name: "get_weather", arguments: '{"location": "Zürich"}' }
          }
        ]
      },
      finish_reason: "tool_calls"
    }
  ],
  usage: USAGE
}

/** Events as the translator writes them, numbered from 0. */
const written = (list: ReadonlyArray<readonly [string, Record<string, unknown>]>): string =>
  list
    .map(([type, data], i) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data, sequence_number: i })}\n\n`)
    .join("")

const shell = (status: string, rest: Record<string, unknown>) => ({
  id: "resp_7Xx9",
  object: "response",
  created_at: CREATED,
  status,
  background: false,
  error: null,
  incomplete_details: null,
  instructions: null,
  max_output_tokens: null,
  model: "gpt-4.1",
  output: [],
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: null,
  store: false,
  temperature: null,
  text: { format: { type: "text" } },
  tool_choice: "auto",
  tools: REQUEST.tools,
  top_p: null,
  truncation: "disabled",
  access_programs: null,
  metadata: {},
  ...rest
})

const MSG = { item_id: "msg_7Xx9", output_index: 0, content_index: 0 }
const FC = { item_id: "fc_7Xx9_1", output_index: 1 }
const TEXT = "Let me check the weather in Zürich ☀️."
const ARGS = '{"location": "Zü' + 'rich"}'
const messageDone = {
  id: "msg_7Xx9",
  type: "message",
  status: "completed",
  role: "assistant",
  content: [{ type: "output_text", text: TEXT, annotations: [], logprobs: [] }]
}
const callItem = (status: string, args: string) => ({
  id: "fc_7Xx9_1",
  type: "function_call",
  status,
  arguments: args,
  call_id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
  name: "get_weather"
})

const REALISTIC_OUT = written([
  ["response.created", { response: shell("in_progress", {}) }],
  ["response.in_progress", { response: shell("in_progress", {}) }],
  [
    "response.output_item.added",
    {
      output_index: 0,
      item: { id: "msg_7Xx9", type: "message", status: "in_progress", role: "assistant", content: [] }
    }
  ],
  [
    "response.content_part.added",
    {
      ...MSG,
      part: { type: "output_text", text: "", annotations: [], logprobs: [] }
    }
  ],
  ["response.output_text.delta", { ...MSG, delta: "Let me check the ", logprobs: [] }],
  ["response.output_text.delta", { ...MSG, delta: "weather in Zürich ☀️.", logprobs: [] }],
  ["response.output_text.done", { ...MSG, text: TEXT, logprobs: [] }],
  ["response.content_part.done", { ...MSG, part: messageDone.content[0] }],
  ["response.output_item.done", { output_index: 0, item: messageDone }],
  ["response.output_item.added", { output_index: 1, item: callItem("in_progress", "") }],
  ["response.function_call_arguments.delta", { ...FC, delta: '{"lo' }],
  ["response.function_call_arguments.delta", { ...FC, delta: 'cation": "Zü' }],
  ["response.function_call_arguments.delta", { ...FC, delta: 'rich"}' }],
  ["response.function_call_arguments.done", { ...FC, arguments: ARGS }],
  ["response.output_item.done", { output_index: 1, item: callItem("completed", ARGS) }],
  [
    "response.completed",
    {
      response: shell("completed", {
        output: [messageDone, callItem("completed", ARGS)],
        usage: {
          input_tokens: 120,
          input_tokens_details: { cached_tokens: 100 },
          output_tokens: 31,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 151
        }
      })
    }
  ]
])

/** The output fed to the openai SDK's own stream: its events and its final Response. */
const throughSdk = async (
  output: Uint8Array
): Promise<{
  readonly events: ReadonlyArray<OpenAI.Responses.ResponseStreamEvent>
  readonly final: OpenAI.Responses.Response
}> => {
  const stream = fakeClient(sseAnswer(output)).responses.stream({ model: "gpt-4.1", input: "hi" })
  const events: Array<OpenAI.Responses.ResponseStreamEvent> = []
  for await (const e of stream) events.push(e)
  return { events, final: await stream.finalResponse() }
}

describe("makeResponsesStreamTranslator", () => {
  it("translates a realistic stream (golden)", () => {
    expect(runText(REALISTIC)).toBe(REALISTIC_OUT)
  })

  it("emits the events in the documented order, numbered from 0", () => {
    const events = parse(runText(REALISTIC))
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed"
    ])
    const args = events
      .filter((e) => e.event === "response.function_call_arguments.delta")
      .map((e) => e.data["delta"])
      .join("")
    expect(JSON.parse(args)).toEqual({ location: "Zürich" })
  })

  it("ends with the Response toResponseObject builds for the same answer", () => {
    const completed = parse(runText(REALISTIC)).at(-1)
    expect(responseOf(completed)).toEqual(toResponseObject(REALISTIC_COMPLETION, REQUEST, CREATED))
  })

  it("gives the same output for the input split at every byte boundary", () => {
    const bytes = encoder.encode(REALISTIC)
    const whole = decoder.decode(run([bytes]))
    for (let cut = 0; cut <= bytes.length; cut++) {
      const out = decoder.decode(run([bytes.subarray(0, cut), bytes.subarray(cut)]))
      if (out !== whole) expect.fail(`split at byte ${cut} changed the output`)
    }
  })

  it("gives the same output for the input fed byte by byte", () => {
    const bytes = encoder.encode(REALISTIC)
    const pieces = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))
    expect(decoder.decode(run(pieces))).toBe(REALISTIC_OUT)
  })

  it("is read by the openai SDK's ResponseStream: same events, output_text and the function call", async () => {
    const output = run([encoder.encode(REALISTIC)])
    const { events, final } = await throughSdk(output)
    expect(events.map((e) => e.type)).toEqual(parse(decoder.decode(output)).map((e) => e.event))
    expect(final.output_text).toBe(TEXT)
    expect(final.status).toBe("completed")
    expect(final.id).toBe("resp_7Xx9")
    const call = final.output[1]
    expect(call?.type === "function_call" ? [call.call_id, call.name, JSON.parse(call.arguments)] : call).toEqual([
      "call_DdmO9pD3xa9XTPNJ32zg2hcA",
      "get_weather",
      { location: "Zürich" }
    ])
    expect(final.usage?.input_tokens_details.cached_tokens).toBe(100)
  })

  it("answers finish_reason length with response.incomplete, the last item incomplete, read by the SDK", async () => {
    const output = run([encoder.encode(chunk({ content: "Once upon a" }) + chunk({}, "length") + usageChunk)])
    const events = parse(decoder.decode(output))
    expect(events.map((e) => e.event).slice(-2)).toEqual(["response.output_item.done", "response.incomplete"])
    expect(events.at(-2)?.data["item"]).toMatchObject({ status: "incomplete" })
    const response = responseOf(events.at(-1))
    expect(response["incomplete_details"]).toEqual({ reason: "max_output_tokens" })
    expect(response).toEqual(
      toResponseObject(
        {
          id: CHUNK_ID,
          choices: [{ message: { content: "Once upon a" }, finish_reason: "length" }],
          usage: USAGE
        },
        REQUEST,
        CREATED
      )
    )
    const { final } = await throughSdk(output)
    expect(final.status).toBe("incomplete")
    expect(final.output_text).toBe("Once upon a")
  })

  it("turns an error chunk into response.failed with the output so far, and writes nothing after it", async () => {
    const t = translator()
    const first = t.push(
      encoder.encode(
        chunk({ content: "Hi" }) +
          chunk(toolPiece(0, { name: "f", arguments: '{"a"' }, "call_1")) +
          'data: {"error":{"message":"Rate limit reached","type":"requests"}}\n\n'
      )
    )
    const events = parse(decoder.decode(first))
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.failed"
    ])
    const response = responseOf(events.at(-1))
    expect(response["status"]).toBe("failed")
    expect(response["error"]).toEqual({ code: "server_error", message: "Rate limit reached" })
    expect(response["output"]).toEqual([
      {
        id: "msg_7Xx9",
        type: "message",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "Hi", annotations: [], logprobs: [] }]
      },
      { id: "fc_7Xx9_1", type: "function_call", status: "incomplete", arguments: '{"a"', call_id: "call_1", name: "f" }
    ])
    expect(Object.hasOwn(response, "usage")).toBe(false)
    expect(t.push(encoder.encode(`${chunk({ content: "more" })}data: [DONE]\n\n`))).toHaveLength(0)
    expect(t.end()).toHaveLength(0)

    const { final } = await throughSdk(first)
    expect(final.status).toBe("failed")
    expect(final.error?.message).toBe("Rate limit reached")
    expect(final.output_text).toBe("Hi")
  })

  it("keeps an open message's text in the failed Response", () => {
    const events = parse(runText(chunk({ content: "Hal" })))
    expect(events.at(-1)?.event).toBe("response.failed")
    expect(responseOf(events.at(-1))["output"]).toEqual([
      {
        id: "msg_7Xx9",
        type: "message",
        status: "incomplete",
        role: "assistant",
        content: [{ type: "output_text", text: "Hal", annotations: [], logprobs: [] }]
      }
    ])
    expect(responseOf(events.at(-1))["error"]).toEqual({
      code: "server_error",
      message: "The upstream stream ended before the answer was complete"
    })
  })

  it("answers an error chunk before anything else with created, in_progress and failed", () => {
    const events = parse(runText('data: {"error":{"message":""}}\n\n'))
    expect(events.map((e) => e.event)).toEqual(["response.created", "response.in_progress", "response.failed"])
    expect(responseOf(events[2])["error"]).toEqual({
      code: "server_error",
      message: "The upstream provider reported an error"
    })
    expect(responseOf(events[0])["id"]).toBe(responseOf(events[2])["id"])
    expect(responseOf(events[0])["id"]).toMatch(/^resp_[0-9a-f]{32}$/)
  })

  it("reports a chunk that is not JSON, one that is not an object, data that is not UTF-8 and a line over the limit", () => {
    const lastError = (events: ReadonlyArray<Event>) =>
      (responseOf(events.at(-1))["error"] as Record<string, string>)["message"]
    expect(lastError(parse(runText(`${chunk({ content: "a" })}data: {oops\n\n`)))).toMatch(/not JSON/)
    expect(lastError(parse(runText(`${chunk({ content: "a" })}data: [1]\n\n`)))).toMatch(/not a JSON object/)
    const notUtf8 = decoder.decode(run([encoder.encode("data: "), new Uint8Array([0xff, 0x0a, 0x0a])]))
    expect(lastError(parse(notUtf8))).toMatch(/not UTF-8/)
    const events = parse(runText(`data: ${"x".repeat(200)}\n\n`, 100))
    expect(events.map((e) => e.event)).toEqual(["response.created", "response.in_progress", "response.failed"])
    expect(lastError(events)).toContain("100 bytes")
  })

  it("answers a bare [DONE] with a complete empty response", () => {
    const events = parse(runText("data: [DONE]\n\n"))
    expect(events.map((e) => e.event)).toEqual(["response.created", "response.in_progress", "response.completed"])
    expect(responseOf(events[2])).toMatchObject({ status: "completed", output: [] })
  })

  it("finishes at end() when the stream stopped after a finish_reason without [DONE]", () => {
    const events = parse(runText(chunk({ content: "Hi" }) + chunk({}, "stop") + usageChunk))
    expect(events.at(-1)?.event).toBe("response.completed")
    expect(responseOf(events.at(-1))["usage"]).toMatchObject({ input_tokens: 120, output_tokens: 31 })
  })

  it("opens a new message item for text after tool calls, and counts output indexes across items", async () => {
    const sse =
      chunk(toolPiece(0, { name: "a", arguments: "{}" }, "call_a")) +
      chunk({ content: "Done." }) +
      chunk({}, "stop") +
      "data: [DONE]\n\n"
    const output = run([encoder.encode(sse)])
    const events = parse(decoder.decode(output))
    const added = events.filter((e) => e.event === "response.output_item.added").map((e) => e.data["item"])
    expect(added).toEqual([
      { id: "fc_7Xx9_0", type: "function_call", status: "in_progress", arguments: "", call_id: "call_a", name: "a" },
      { id: "msg_7Xx9_1", type: "message", status: "in_progress", role: "assistant", content: [] }
    ])
    const { final } = await throughSdk(output)
    expect(final.output.map((item) => item.type)).toEqual(["function_call", "message"])
    expect(final.output_text).toBe("Done.")
  })

  it("follows interleaved parallel tool calls, opens a new item for a new id at an index, drops a piece for a call closed by text", async () => {
    const sse =
      chunk(toolPiece(0, { name: "a", arguments: '{"x":' }, "call_a")) +
      chunk(toolPiece(1, { name: "b", arguments: '{"y":' }, "call_b")) +
      chunk(toolPiece(0, { arguments: "1}" })) +
      chunk(toolPiece(1, { arguments: "2}" })) +
      chunk(toolPiece(1, { name: "c", arguments: "{}" }, "call_c")) +
      chunk({ content: "ok" }) +
      chunk(toolPiece(0, { arguments: "late" })) +
      chunk({}, "stop") +
      "data: [DONE]\n\n"
    const output = run([encoder.encode(sse)])
    const events = parse(decoder.decode(output))
    expect(events.some((e) => JSON.stringify(e.data).includes("late"))).toBe(false)
    const final = responseOf(events.at(-1))["output"] as ReadonlyArray<Record<string, unknown>>
    expect(final.map((item) => [item["id"], item["call_id"], item["arguments"]])).toEqual([
      ["fc_7Xx9_0", "call_a", '{"x":1}'],
      ["fc_7Xx9_1", "call_b", '{"y":2}'],
      ["fc_7Xx9_2", "call_c", "{}"],
      ["msg_7Xx9_3", undefined, undefined]
    ])
    const sdk = await throughSdk(output)
    expect(sdk.final.output.map((item) => (item.type === "function_call" ? item.arguments : item.type))).toEqual([
      '{"x":1}',
      '{"y":2}',
      "{}",
      "message"
    ])
  })

  it("streams a refusal as a refusal part, and drops reasoning deltas", async () => {
    const sse =
      chunk({ role: "assistant", reasoning_content: "Hmm." }) +
      chunk({ refusal: "I can't " }) +
      chunk({ refusal: "help with that." }) +
      chunk({}, "stop") +
      "data: [DONE]\n\n"
    const output = run([encoder.encode(sse)])
    const events = parse(decoder.decode(output))
    expect(events.map((e) => e.event).slice(2)).toEqual([
      "response.output_item.added",
      "response.content_part.added",
      "response.refusal.delta",
      "response.refusal.delta",
      "response.refusal.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed"
    ])
    expect(events.some((e) => JSON.stringify(e.data).includes("Hmm."))).toBe(false)
    const { final } = await throughSdk(output)
    const message = final.output[0]
    expect(message?.type === "message" ? message.content : message).toMatchObject([
      { type: "refusal", refusal: "I can't help with that." }
    ])
  })

  it("makes up a call id for a tool call without one, and gives empty arguments as {}", () => {
    const sse = `data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"now"}}]},"finish_reason":"tool_calls"}]}\n\ndata: [DONE]\n\n`
    const events = parse(runText(sse))
    const output = responseOf(events.at(-1))["output"] as ReadonlyArray<Record<string, unknown>>
    const id = String(responseOf(events[0])["id"]).slice("resp_".length)
    expect(output).toEqual([
      {
        id: `fc_${id}_0`,
        type: "function_call",
        status: "completed",
        arguments: "{}",
        call_id: `call_${id}_0`,
        name: "now"
      }
    ])
  })

  it("echoes the request in every Response it carries", () => {
    const request = { model: "alias", input: "x", instructions: "Be brief.", temperature: 0.5, metadata: { k: "v" } }
    const t = makeResponsesStreamTranslator({ request, createdAt: 7, lineLimit: LIMIT })
    const out = decoder.decode(t.push(encoder.encode(`${chunk({ content: "y" }, "stop")}data: [DONE]\n\n`)))
    for (const e of parse(out).filter((e) => e.data["response"] !== undefined)) {
      expect(responseOf(e)).toMatchObject({
        model: "alias",
        instructions: "Be brief.",
        temperature: 0.5,
        metadata: { k: "v" },
        created_at: 7,
        store: false
      })
    }
  })
})
