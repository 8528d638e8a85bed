import { describe, expect, it } from "vitest"
import { makeMessagesStreamTranslator, type StreamTranslator } from "../../../src/messages/MessagesStream.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const LIMIT = 64 * 1024
const MODEL = "claude-sonnet-4-5"

const translator = (lineLimit = LIMIT): StreamTranslator =>
  makeMessagesStreamTranslator({ requestedModel: MODEL, lineLimit })

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

/** The output parsed back as Anthropic events (each `event:` name must match its data's `type`). */
const parse = (output: string): Array<Event> => {
  expect(output.endsWith("\n\n") || output === "").toBe(true)
  return output
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
      return { event, data }
    })
}

/** An object field of an event's data ({} when the event or the field is missing). */
const field = (e: Event | undefined, key: string): Record<string, unknown> =>
  (e?.data[key] ?? {}) as Record<string, unknown>

const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
  `data: ${JSON.stringify({
    id: "chatcmpl-7Xx9",
    object: "chat.completion.chunk",
    created: 1694268190,
    model: "gpt-4o-mini-2024-07-18",
    system_fingerprint: "fp_44709d6fcb",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }]
  })}\n\n`

const usageChunk = `data: ${JSON.stringify({
  id: "chatcmpl-7Xx9",
  object: "chat.completion.chunk",
  created: 1694268190,
  model: "gpt-4o-mini-2024-07-18",
  choices: [],
  usage: {
    prompt_tokens: 120,
    completion_tokens: 31,
    total_tokens: 151,
    prompt_tokens_details: { cached_tokens: 100 },
    completion_tokens_details: { reasoning_tokens: 0 }
  }
})}\n\n`

/** A realistic OpenAI stream: role chunk, text (with multi-byte characters), a tool call in pieces, finish, usage. */
const REALISTIC =
  chunk({ role: "assistant", content: "", refusal: null }) +
  chunk({ content: "Let me check the " }) +
  chunk({ content: "weather in Zürich ☀️." }) +
  chunk({
    tool_calls: [
      {
        index: 0,
        id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
        type: "function",
        function: { name: "get_weather", arguments: "" }
      }
    ]
  }) +
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"lo' } }] }) +
  chunk({ tool_calls: [{ index: 0, function: { arguments: 'cation": "Zü' } }] }) +
  chunk({ tool_calls: [{ index: 0, function: { arguments: 'rich"}' } }] }) +
  chunk({}, "tool_calls") +
  usageChunk +
  "data: [DONE]\n\n"

const event = (type: string, data: Record<string, unknown>): string =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`

const REALISTIC_OUT =
  event("message_start", {
    message: {
      id: "msg_7Xx9",
      type: "message",
      role: "assistant",
      content: [],
      model: MODEL,
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 }
    }
  }) +
  event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }) +
  event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Let me check the " } }) +
  event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "weather in Zürich ☀️." } }) +
  event("content_block_stop", { index: 0 }) +
  event("content_block_start", {
    index: 1,
    content_block: { type: "tool_use", id: "call_DdmO9pD3xa9XTPNJ32zg2hcA", name: "get_weather", input: {} }
  }) +
  event("content_block_delta", { index: 1, delta: { type: "input_json_delta", partial_json: '{"lo' } }) +
  event("content_block_delta", { index: 1, delta: { type: "input_json_delta", partial_json: 'cation": "Zü' } }) +
  event("content_block_delta", { index: 1, delta: { type: "input_json_delta", partial_json: 'rich"}' } }) +
  event("content_block_stop", { index: 1 }) +
  event("message_delta", {
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { output_tokens: 31, input_tokens: 20, cache_read_input_tokens: 100, cache_creation_input_tokens: 0 }
  }) +
  event("message_stop", {})

describe("makeMessagesStreamTranslator", () => {
  it("translates a realistic stream (golden)", () => {
    expect(runText(REALISTIC)).toBe(REALISTIC_OUT)
  })

  it("emits the events in Anthropic's order, and the tool input parses", () => {
    const events = parse(runText(REALISTIC))
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop"
    ])
    const json = events
      .filter((e) => (e.data["delta"] as Record<string, unknown> | undefined)?.["type"] === "input_json_delta")
      .map((e) => (e.data["delta"] as Record<string, string>)["partial_json"])
      .join("")
    expect(JSON.parse(json)).toEqual({ location: "Zürich" })
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

  it("opens a new tool_use block per tool call and drops a piece for a closed one", () => {
    const sse =
      chunk({ role: "assistant", content: null }) +
      chunk({
        tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "a", arguments: '{"x":' } }]
      }) +
      chunk({ tool_calls: [{ index: 0, function: { arguments: "1}" } }] }) +
      chunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "b", arguments: "{}" } }] }) +
      chunk({ tool_calls: [{ index: 0, function: { arguments: "late" } }] }) +
      chunk({}, "tool_calls") +
      "data: [DONE]\n\n"
    const events = parse(runText(sse))
    expect(events.slice(1).map((e) => [e.event, e.data["index"]])).toEqual([
      ["content_block_start", 0],
      ["content_block_delta", 0],
      ["content_block_delta", 0],
      ["content_block_stop", 0],
      ["content_block_start", 1],
      ["content_block_delta", 1],
      ["content_block_stop", 1],
      ["message_delta", undefined],
      ["message_stop", undefined]
    ])
    expect(events[5]?.data["content_block"]).toEqual({ type: "tool_use", id: "call_b", name: "b", input: {} })
    expect(events.some((e) => JSON.stringify(e.data).includes("late"))).toBe(false)
  })

  it("turns reasoning deltas into a thinking block before the text", () => {
    const sse =
      chunk({ role: "assistant", reasoning_content: "Hmm, " }) +
      chunk({ reasoning_content: "easy." }) +
      chunk({ content: "4" }) +
      chunk({}, "stop") +
      "data: [DONE]\n\n"
    const events = parse(runText(sse))
    expect(
      events.slice(1, 7).map((e) => [e.event, e.data["content_block"] ?? e.data["delta"] ?? e.data["index"]])
    ).toEqual([
      ["content_block_start", { type: "thinking", thinking: "", signature: "" }],
      ["content_block_delta", { type: "thinking_delta", thinking: "Hmm, " }],
      ["content_block_delta", { type: "thinking_delta", thinking: "easy." }],
      ["content_block_stop", 0],
      ["content_block_start", { type: "text", text: "" }],
      ["content_block_delta", { type: "text_delta", text: "4" }]
    ])
    expect(events.at(-2)?.data["delta"]).toEqual({ stop_reason: "end_turn", stop_sequence: null })
    expect(events.at(-2)?.data["usage"]).toEqual({
      output_tokens: 0,
      input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0
    })
  })

  it("finishes at end() when the stream stopped after a finish_reason without [DONE]", () => {
    const events = parse(runText(chunk({ content: "Hi" }) + chunk({}, "length") + usageChunk))
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop"
    ])
    expect(events[4]?.data["delta"]).toEqual({ stop_reason: "max_tokens", stop_sequence: null })
    expect(field(events[4], "usage")["output_tokens"]).toBe(31)
  })

  it("reports an error when the stream ends before any finish_reason", () => {
    const events = parse(runText(chunk({ content: "Hi" })))
    expect(events.map((e) => e.event)).toEqual(["message_start", "content_block_start", "content_block_delta", "error"])
    expect(events[3]?.data["error"]).toMatchObject({ type: "api_error" })
  })

  it("turns an error chunk into an error event and writes nothing after it", () => {
    const t = translator()
    const first = decoder.decode(
      t.push(
        encoder.encode(
          `${chunk({ content: "Hi" })}data: {"error":{"message":"Rate limit reached","type":"requests"}}\n\n`
        )
      )
    )
    const events = parse(first)
    expect(events.at(-1)).toEqual({
      event: "error",
      data: { type: "error", error: { type: "api_error", message: "Rate limit reached" } }
    })
    expect(t.push(encoder.encode(`${chunk({ content: "more" })}data: [DONE]\n\n`))).toHaveLength(0)
    expect(t.end()).toHaveLength(0)
  })

  it("answers an error chunk before anything else with the error event alone", () => {
    expect(parse(runText('data: {"error":{"message":""}}\n\n'))).toEqual([
      {
        event: "error",
        data: { type: "error", error: { type: "api_error", message: "The upstream provider reported an error" } }
      }
    ])
  })

  it("reports a chunk that is not JSON, and a line over the limit", () => {
    expect(parse(runText(`${chunk({ content: "a" })}data: {oops\n\n`)).at(-1)?.event).toBe("error")
    const events = parse(runText(`data: ${"x".repeat(200)}\n\n`, 100))
    expect(events).toHaveLength(1)
    expect(events[0]?.data["error"]).toMatchObject({ type: "api_error", message: expect.stringContaining("100 bytes") })
  })

  it("answers a bare [DONE] with a complete empty message", () => {
    const events = parse(runText("data: [DONE]\n\n"))
    expect(events.map((e) => e.event)).toEqual(["message_start", "message_delta", "message_stop"])
    expect(field(events[0], "message")["id"]).toMatch(/^msg_/)
  })

  it("ignores SSE comments and keeps a message id without the chatcmpl- prefix", () => {
    const sse = `: keep-alive\n\ndata: {"id":"gen-42","choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`
    const events = parse(runText(sse))
    expect(field(events[0], "message")["id"]).toBe("msg_gen-42")
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop"
    ])
  })
})
