import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  type AnthropicStreamOptions,
  makeAnthropicStreamTranslator
} from "../../../../src/providers/anthropic/AnthropicStream.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const CREATED = 1_767_225_600
const OPTIONS: AnthropicStreamOptions = { created: CREATED, includeUsage: true, lineLimit: 64 * 1024 }

/** One Anthropic SSE event, as the API sends it: an `event` line, a `data` line, a blank line. */
const sse = (event: Record<string, unknown>): string =>
  `event: ${String(event["type"])}\ndata: ${JSON.stringify(event)}\n\n`

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Everything the translator answers for `chunks` (then end()), as bytes. */
const run = (chunks: ReadonlyArray<Uint8Array>, options: AnthropicStreamOptions = OPTIONS): Uint8Array => {
  const translator = makeAnthropicStreamTranslator(options)
  return concat([...chunks.map((c) => translator.push(c)), translator.end()])
}

/** The `data` of each OpenAI event, JSON-parsed except `[DONE]`. */
const events = (bytes: Uint8Array): Array<unknown> => {
  const text = decoder.decode(bytes)
  expect(text === "" || text.endsWith("\n\n")).toBe(true)
  return text
    .split("\n\n")
    .filter((e) => e !== "")
    .map((e) => {
      expect(e.startsWith("data: ")).toBe(true)
      const data = e.slice("data: ".length)
      return data === "[DONE]" ? data : JSON.parse(data)
    })
}

const translateText = (text: string, options: AnthropicStreamOptions = OPTIONS): Array<unknown> =>
  events(run([encoder.encode(text)], options))

const ID = "msg_01XFDUDYJgAACzvnptvVoYEL"
const MODEL = "claude-sonnet-4-5-20250929"

const messageStart = {
  type: "message_start",
  message: {
    id: ID,
    type: "message",
    role: "assistant",
    content: [],
    model: MODEL,
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 472, cache_creation_input_tokens: 100, cache_read_input_tokens: 2048, output_tokens: 2 }
  }
}

/** A realistic stream: text (with multi-byte characters), then a tool_use whose input arrives in pieces. */
const FULL_STREAM = [
  sse(messageStart),
  sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
  sse({ type: "ping" }),
  sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Okay, let’s check " } }),
  sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "the weather in Zürich 🌤." } }),
  sse({ type: "content_block_stop", index: 0 }),
  sse({
    type: "content_block_start",
    index: 1,
    content_block: { type: "tool_use", id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", input: {} }
  }),
  sse({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "" } }),
  sse({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"location":' } }),
  sse({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: ' "Zürich, CH"' } }),
  sse({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: ', "unit": "c"}' } }),
  sse({ type: "content_block_stop", index: 1 }),
  sse({
    type: "message_delta",
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { output_tokens: 89 }
  }),
  sse({ type: "message_stop" })
].join("")

const chunkOf = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: ID,
  object: "chat.completion.chunk",
  created: CREATED,
  model: MODEL,
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }]
})

const FULL_EXPECTED = [
  chunkOf({ role: "assistant", content: "" }),
  chunkOf({ content: "Okay, let’s check " }),
  chunkOf({ content: "the weather in Zürich 🌤." }),
  chunkOf({
    tool_calls: [
      {
        index: 0,
        id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        type: "function",
        function: { name: "get_weather", arguments: "" }
      }
    ]
  }),
  chunkOf({ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
  chunkOf({ tool_calls: [{ index: 0, function: { arguments: ' "Zürich, CH"' } }] }),
  chunkOf({ tool_calls: [{ index: 0, function: { arguments: ', "unit": "c"}' } }] }),
  chunkOf({}, "tool_calls"),
  {
    id: ID,
    object: "chat.completion.chunk",
    created: CREATED,
    model: MODEL,
    choices: [],
    usage: {
      prompt_tokens: 2620,
      completion_tokens: 89,
      total_tokens: 2709,
      prompt_tokens_details: { cached_tokens: 2048, cache_creation_tokens: 100 }
    }
  },
  "[DONE]"
]

describe("makeAnthropicStreamTranslator", () => {
  it("translates a full stream (text, then a tool call in pieces) into OpenAI chunks", () => {
    expect(translateText(FULL_STREAM)).toEqual(FULL_EXPECTED)
  })

  it("sends no usage chunk when the client did not ask for one", () => {
    expect(translateText(FULL_STREAM, { ...OPTIONS, includeUsage: false })).toEqual(
      FULL_EXPECTED.filter((e) => typeof e === "string" || (e as { choices: Array<unknown> }).choices.length > 0)
    )
  })

  it("answers the same bytes however the upstream bytes are split in two", () => {
    const bytes = encoder.encode(FULL_STREAM)
    const whole = run([bytes])
    for (let cut = 0; cut <= bytes.length; cut++) {
      const split = run([bytes.subarray(0, cut), bytes.subarray(cut)])
      if (split.length !== whole.length || !split.every((b, i) => b === whole[i]))
        expect({ cut, out: decoder.decode(split) }).toEqual({ cut, out: decoder.decode(whole) })
    }
  })

  it("answers the same bytes when the upstream arrives one byte at a time", () => {
    const bytes = encoder.encode(FULL_STREAM)
    const pieces = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))
    expect(decoder.decode(run(pieces))).toBe(decoder.decode(run([bytes])))
  })

  it("answers the same bytes for any split into many pieces, with any line ends", () => {
    const whole = decoder.decode(run([encoder.encode(FULL_STREAM)]))
    fc.assert(
      fc.property(
        fc.constantFrom("\n", "\r\n", "\r"),
        fc.uniqueArray(fc.integer({ min: 0, max: encoder.encode(FULL_STREAM).length * 2 }), { maxLength: 20 }),
        (lineEnd, rawCuts) => {
          const bytes = encoder.encode(FULL_STREAM.replaceAll("\n", lineEnd))
          const cuts = rawCuts.filter((c) => c <= bytes.length).sort((a, b) => a - b)
          const pieces: Array<Uint8Array> = []
          let start = 0
          for (const cut of cuts) {
            pieces.push(bytes.slice(start, cut))
            start = cut
          }
          pieces.push(bytes.slice(start))
          expect(decoder.decode(run(pieces))).toBe(whole)
        }
      )
    )
  })

  it("numbers tool calls from 0 whatever their block index, and maps each delta to its own call", () => {
    const stream = [
      sse(messageStart),
      sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
      sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Two calls." } }),
      sse({ type: "content_block_stop", index: 0 }),
      sse({
        type: "content_block_start",
        index: 1,
        content_block: { type: "tool_use", id: "t1", name: "a", input: {} }
      }),
      sse({
        type: "content_block_start",
        index: 2,
        content_block: { type: "tool_use", id: "t2", name: "b", input: {} }
      }),
      sse({ type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: "{}" } }),
      sse({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"x":1}' } }),
      sse({ type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 30 } }),
      sse({ type: "message_stop" })
    ].join("")
    expect(translateText(stream, { ...OPTIONS, includeUsage: false })).toEqual([
      chunkOf({ role: "assistant", content: "" }),
      chunkOf({ content: "Two calls." }),
      chunkOf({ tool_calls: [{ index: 0, id: "t1", type: "function", function: { name: "a", arguments: "" } }] }),
      chunkOf({ tool_calls: [{ index: 1, id: "t2", type: "function", function: { name: "b", arguments: "" } }] }),
      chunkOf({ tool_calls: [{ index: 1, function: { arguments: "{}" } }] }),
      chunkOf({ tool_calls: [{ index: 0, function: { arguments: '{"x":1}' } }] }),
      chunkOf({}, "tool_calls"),
      "[DONE]"
    ])
  })

  it("sends thinking as reasoning_content and skips signatures, citations and unknown events", () => {
    const stream = [
      sse(messageStart),
      sse({ type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } }),
      sse({ type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Let me think." } }),
      sse({ type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "EqQBCgIYAhIM" } }),
      sse({ type: "content_block_stop", index: 0 }),
      sse({ type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }),
      sse({
        type: "content_block_delta",
        index: 1,
        delta: { type: "citations_delta", citation: { type: "char_location", cited_text: "x" } }
      }),
      sse({ type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Done." } }),
      sse({ type: "some_future_event", detail: 1 }),
      sse({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 7 } }),
      sse({ type: "message_stop" })
    ].join("")
    expect(translateText(stream, { ...OPTIONS, includeUsage: false })).toEqual([
      chunkOf({ role: "assistant", content: "" }),
      chunkOf({ reasoning_content: "Let me think." }),
      chunkOf({ content: "Done." }),
      chunkOf({}, "stop"),
      "[DONE]"
    ])
  })

  it.each([
    ["end_turn", "stop"],
    ["max_tokens", "length"],
    ["stop_sequence", "stop"],
    ["refusal", "content_filter"]
  ])("maps stop_reason %s to finish_reason %s", (stopReason, finish) => {
    const stream = [
      sse(messageStart),
      sse({ type: "message_delta", delta: { stop_reason: stopReason }, usage: { output_tokens: 1 } })
    ].join("")
    expect(translateText(stream)[1]).toEqual(chunkOf({}, finish))
  })

  it("prefers the input counts of message_delta when it has them", () => {
    const stream = [
      sse({
        type: "message_start",
        message: { ...messageStart.message, usage: { input_tokens: 0, output_tokens: 1 } }
      }),
      sse({
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { input_tokens: 849, cache_creation_input_tokens: 0, cache_read_input_tokens: null, output_tokens: 47 }
      }),
      sse({ type: "message_stop" })
    ].join("")
    expect(translateText(stream).at(-2)).toEqual({
      id: ID,
      object: "chat.completion.chunk",
      created: CREATED,
      model: MODEL,
      choices: [],
      usage: {
        prompt_tokens: 849,
        completion_tokens: 47,
        total_tokens: 896,
        prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 }
      }
    })
  })

  it("sends no usage chunk when no input count was reported", () => {
    const stream = [
      sse({ type: "message_start", message: { ...messageStart.message, usage: {} } }),
      sse({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 5 } }),
      sse({ type: "message_stop" })
    ].join("")
    expect(translateText(stream)).toEqual([chunkOf({ role: "assistant", content: "" }), chunkOf({}, "stop"), "[DONE]"])
  })

  it("turns an error event into an OpenAI error object and stops there", () => {
    const translator = makeAnthropicStreamTranslator(OPTIONS)
    const first = translator.push(
      encoder.encode(
        sse(messageStart) +
          sse({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }) +
          sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "late" } })
      )
    )
    expect(events(first)).toEqual([
      chunkOf({ role: "assistant", content: "" }),
      { error: { message: "Overloaded", type: "server_error", param: null, code: "overloaded" } }
    ])
    expect(translator.push(encoder.encode(sse({ type: "message_stop" }))).length).toBe(0)
    expect(translator.end().length).toBe(0)
  })

  it("describes an error event without Anthropic's error shape as a server error", () => {
    expect(translateText(sse({ type: "error" }))).toEqual([
      { error: { message: "Anthropic stream reported an error.", type: "server_error", param: null, code: null } }
    ])
  })

  it("ends with an upstream_protocol error on a line over the limit, and ignores what follows", () => {
    const translator = makeAnthropicStreamTranslator({ ...OPTIONS, lineLimit: 64 })
    const out = translator.push(encoder.encode(`data: ${"x".repeat(100)}`))
    expect(events(out)).toEqual([
      {
        error: {
          message: "Anthropic stream line is longer than 64 bytes.",
          type: "upstream_protocol",
          param: null,
          code: "upstream_protocol_error"
        }
      }
    ])
    expect(translator.push(encoder.encode(sse(messageStart))).length).toBe(0)
    expect(translator.end().length).toBe(0)
  })

  it("ends with an upstream_protocol error on data that is not UTF-8", () => {
    const out = run([encoder.encode(sse(messageStart)), new Uint8Array([0x64, 0x61, 0x74, 0x61, 0x3a, 0xff, 0x0a])])
    expect(events(out)).toEqual([
      chunkOf({ role: "assistant", content: "" }),
      {
        error: {
          message: "Anthropic stream data is not UTF-8.",
          type: "upstream_protocol",
          param: null,
          code: "upstream_protocol_error"
        }
      }
    ])
  })

  it("ends with an upstream_protocol error on data that is not a JSON object", () => {
    expect(translateText(`${sse(messageStart)}data: {not json\n\n${sse({ type: "message_stop" })}`)).toEqual([
      chunkOf({ role: "assistant", content: "" }),
      {
        error: {
          message: "Anthropic stream event is not a JSON object.",
          type: "upstream_protocol",
          param: null,
          code: "upstream_protocol_error"
        }
      }
    ])
  })

  it("ends with an upstream_protocol error on content before message_start", () => {
    const stream = sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } })
    expect(translateText(stream)).toEqual([
      {
        error: {
          message: "Anthropic stream sent content_block_delta before message_start.",
          type: "upstream_protocol",
          param: null,
          code: "upstream_protocol_error"
        }
      }
    ])
  })

  it("adds nothing at the end of a stream cut short (no [DONE]: the gateway sees it was cut)", () => {
    const cut = FULL_STREAM.slice(0, FULL_STREAM.indexOf("event: message_delta"))
    const out = translateText(`${cut}data: {"type":"message_del`)
    expect(out).toEqual(FULL_EXPECTED.slice(0, 7))
  })

  it("answers nothing for pings and an empty push", () => {
    const translator = makeAnthropicStreamTranslator(OPTIONS)
    expect(translator.push(new Uint8Array(0)).length).toBe(0)
    expect(translator.push(encoder.encode(sse({ type: "ping" }))).length).toBe(0)
    expect(translator.push(encoder.encode(": comment\n\n")).length).toBe(0)
  })

  it("never throws on arbitrary events", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), (values) => {
        const text = [sse(messageStart), ...values.map((v) => `data: ${JSON.stringify(v)}\n\n`)].join("")
        const out = events(run([encoder.encode(text)]))
        expect(out.length).toBeGreaterThan(0)
      })
    )
  })
})
