import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { openAIUsage } from "../../../src/providers/openai/OpenAIUsage.ts"
import { makeSseScanner } from "../../../src/streaming/SseScanner.ts"
import { responsesUsage } from "../../../src/providers/openai/ResponsesUsage.ts"
import { makeStreamUsageTracker, RESPONSES_EVENTS, streamEventsOf } from "../../../src/usage/StreamUsage.ts"
import { makeUsageRelay } from "../../../src/usage/UsageRelay.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] })
const USAGE = { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19, prompt_tokens_details: { cached_tokens: 4 } }
const USAGE_CHUNK = JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [], usage: USAGE })

describe("makeStreamUsageTracker", () => {
  it("takes the usage from the final usage-only chunk and names that chunk", () => {
    const t = makeStreamUsageTracker(openAIUsage)
    expect(t.observe(chunk({ role: "assistant", content: "" }))).toBe("other")
    expect(t.observe(chunk({ content: "Hel" }))).toBe("other")
    expect(t.observe(chunk({ content: "lo" }, "stop"))).toBe("other")
    expect(t.reported()).toBeUndefined()
    expect(t.observe(USAGE_CHUNK)).toBe("usage")
    expect(t.observe("[DONE]")).toBe("other")
    expect(t.reported()).toEqual({ input: 8, cache_read: 4, cache_write: 0, reasoning: 0, output: 7 })
    expect(t.text()).toBe("Hello")
  })

  it("reads usage carried on a chunk with choices (relayed, not dropped) and keeps the last one", () => {
    const t = makeStreamUsageTracker(openAIUsage)
    const withChoices = JSON.stringify({
      choices: [{ index: 0, delta: { content: "x" } }],
      usage: { prompt_tokens: 1, completion_tokens: 1 }
    })
    expect(t.observe(withChoices)).toBe("other")
    expect(t.reported()?.output).toBe(1)
    expect(t.observe(JSON.stringify({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 5 } }))).toBe("usage")
    expect(t.reported()?.output).toBe(5)
  })

  it("names a usage-only chunk whose usage is malformed (still dropped) but reports nothing from it", () => {
    const t = makeStreamUsageTracker(openAIUsage)
    expect(t.observe(JSON.stringify({ choices: [], usage: { prompt_tokens: "many" } }))).toBe("usage")
    expect(t.reported()).toBeUndefined()
    expect(t.observe(JSON.stringify({ choices: [], usage: null }))).toBe("other")
  })

  it("collects every kind of generated text: reasoning, content, refusals, tool calls, legacy text", () => {
    const t = makeStreamUsageTracker(openAIUsage)
    t.observe(chunk({ reasoning_content: "think " }))
    t.observe(chunk({ content: "answer " }))
    t.observe(chunk({ refusal: "no " }))
    t.observe(
      chunk({ tool_calls: [{ index: 0, id: "t", type: "function", function: { name: "get", arguments: '{"a":' } }] })
    )
    t.observe(chunk({ tool_calls: [{ index: 0, function: { arguments: "1}" } }] }))
    t.observe(JSON.stringify({ choices: [{ index: 0, text: " legacy", finish_reason: null }] }))
    expect(t.text()).toBe('think answer no get{"a":1} legacy')
  })

  it("ignores what is not a chunk and never throws", () => {
    const t = makeStreamUsageTracker(openAIUsage)
    for (const data of ["", "{", "null", "[1]", '{"error":{"message":"x"}}', '{"choices":"x","usage":5}'])
      expect(t.observe(data)).toBe("other")
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v))
        ),
        (data) => {
          t.observe(data)
        }
      )
    )
  })

  it("keeps at most textLimit characters and counts the rest", () => {
    const t = makeStreamUsageTracker(openAIUsage, 5)
    t.observe(chunk({ content: "abc" }))
    t.observe(chunk({ content: "defg" }))
    t.observe(chunk({ content: "hi" }))
    expect(t.text()).toBe("abcde")
    expect(t.overflowChars()).toBe(4)
  })
})

/** One stream's events and how to frame them. */
const streamOf = (events: ReadonlyArray<string>, eol: string, keepAlive: boolean): string =>
  events
    .map((data, i) => `${keepAlive && i % 2 === 0 ? `: keep-alive${eol}${eol}` : ""}data: ${data}${eol}${eol}`)
    .join("")

/** The stream's bytes cut at the given offsets. */
const split = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const parts: Array<Uint8Array> = []
  let from = 0
  for (const p of points) {
    parts.push(bytes.slice(from, p))
    from = p
  }
  parts.push(bytes.slice(from))
  return parts
}

const relayAll = (parts: ReadonlyArray<Uint8Array>, drop: boolean) => {
  const tracker = makeStreamUsageTracker(openAIUsage)
  const relay = makeUsageRelay({ tracker, drop, lineLimit: 1 << 20 })
  const out: Array<Uint8Array> = []
  for (const part of parts) out.push(relay.push(part))
  out.push(relay.end())
  const size = out.reduce((n, p) => n + p.length, 0)
  const all = new Uint8Array(size)
  let at = 0
  for (const p of out) {
    all.set(p, at)
    at += p.length
  }
  return { tracker, bytes: all }
}

const dataOf = (bytes: Uint8Array): ReadonlyArray<string> => {
  const scanned = makeSseScanner(1 << 20).push(bytes)
  return scanned._tag === "Events" ? scanned.data : []
}

describe("makeUsageRelay", () => {
  const words = fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 })
  const cuts = fc.array(fc.nat(), { maxLength: 12 })

  it("extracts the usage and drops exactly the usage-only event, however the stream is cut", () => {
    fc.assert(
      fc.property(words, cuts, fc.constantFrom("\n", "\r\n", "\r"), fc.boolean(), (texts, at, eol, keepAlive) => {
        const content = texts.map((t) => chunk({ content: t }))
        const events = [chunk({ role: "assistant", content: "" }), ...content, chunk({}, "stop"), USAGE_CHUNK, "[DONE]"]
        const original = encoder.encode(streamOf(events, eol, keepAlive))
        const withoutUsage = events.filter((e) => e !== USAGE_CHUNK)

        const dropped = relayAll(split(original, at), true)
        expect(dropped.tracker.reported()).toEqual({ input: 8, cache_read: 4, cache_write: 0, reasoning: 0, output: 7 })
        expect(dropped.tracker.text()).toBe(texts.join(""))
        expect(dataOf(dropped.bytes)).toEqual(withoutUsage)
        // With "\n" line ends the bytes are the original stream minus the event's own bytes, exactly.
        if (eol === "\n")
          expect(decoder.decode(dropped.bytes)).toBe(decoder.decode(original).replace(`data: ${USAGE_CHUNK}\n\n`, ""))

        const kept = relayAll(split(original, at), false)
        expect(kept.bytes).toEqual(original)
        expect(kept.tracker.reported()?.output).toBe(7)
      })
    )
  })

  it("relays keep-alives at once while an event is held", () => {
    const tracker = makeStreamUsageTracker(openAIUsage)
    const relay = makeUsageRelay({ tracker, drop: true, lineLimit: 1 << 20 })
    expect(
      decoder.decode(relay.push(encoder.encode(`data: ${chunk({ content: "a" })}\n\n: ping\n\ndata: {"cho`)))
    ).toBe(`data: ${chunk({ content: "a" })}\n\n: ping\n\n`)
    expect(decoder.decode(relay.push(encoder.encode(`ices":[],"usage":${JSON.stringify(USAGE)}}\n\n: ping\n`)))).toBe(
      ": ping\n"
    )
    expect(decoder.decode(relay.push(encoder.encode("data: [DONE]\n\n")))).toBe("data: [DONE]\n\n")
    expect(relay.end().length).toBe(0)
    expect(tracker.reported()?.output).toBe(7)
  })

  it("relays an unfinished last event at the end, and everything as it is once a line is too long", () => {
    const tracker = makeStreamUsageTracker(openAIUsage)
    const relay = makeUsageRelay({ tracker, drop: true, lineLimit: 64 })
    expect(relay.push(encoder.encode('data: {"a"'))).toHaveLength(0)
    const long = encoder.encode(`:${"x".repeat(100)}\n`)
    expect(decoder.decode(relay.push(long))).toBe(`data: {"a":${"x".repeat(100)}\n`)
    const after = encoder.encode(`data: ${USAGE_CHUNK}\n\n`)
    expect(relay.push(after)).toBe(after)
    expect(tracker.reported()).toBeUndefined()
  })
})

describe("makeStreamUsageTracker over the Responses API's events", () => {
  const ev = (type: string, fields: Record<string, unknown> = {}) => JSON.stringify({ type, ...fields })
  const usage = { input_tokens: 9, output_tokens: 4, total_tokens: 13 }

  it("keeps each text delta once (not the done events, not audio), and the terminal event's usage only", () => {
    const t = makeStreamUsageTracker(responsesUsage, undefined, RESPONSES_EVENTS)
    // A usage object on a non-terminal event is not the response's usage.
    expect(t.observe(ev("response.created", { response: { usage } }))).toBe("other")
    expect(t.reported()).toBeUndefined()
    t.observe(ev("response.reasoning_summary_text.delta", { delta: "think " }))
    t.observe(ev("response.output_text.delta", { delta: "Hel" }))
    t.observe(ev("response.output_audio.delta", { delta: "AAAABBBB" }))
    t.observe(ev("response.output_text.delta", { delta: "lo" }))
    t.observe(ev("response.output_text.done", { text: "Hello" }))
    t.observe(ev("response.function_call_arguments.delta", { delta: "{}" }))
    expect(t.text()).toBe("think Hello{}")
    // Never a usage-only event to drop.
    expect(t.observe(ev("response.incomplete", { response: { usage } }))).toBe("other")
    expect(t.reported()).toEqual({ input: 9, cache_read: 0, cache_write: 0, reasoning: 0, output: 4 })
  })

  it("is the format of the responses endpoint's streams; chat and completions keep chat chunks", () => {
    expect(streamEventsOf("responses")).toBe(RESPONSES_EVENTS)
    expect(streamEventsOf("chat")).not.toBe(RESPONSES_EVENTS)
    expect(streamEventsOf("completions")).not.toBe(RESPONSES_EVENTS)
  })
})
