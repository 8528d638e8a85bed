// The tracker the proxy uses when it asked the upstream for usage: parses only events that may
// carry a usage object, agrees with the full tracker on the usage and on what the relay drops, and
// estimates a stream without usage from the size of its events. No timing here: the per-event cost
// is measured by scripts/bench-usage-relay.ts.
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { openAIUsage } from "../../../src/providers/openai/OpenAIUsage.ts"
import { makeStreamUsageTracker, makeUsageChunkTracker, mayCarryUsage } from "../../../src/usage/StreamUsage.ts"
import { makeUsageRelay } from "../../../src/usage/UsageRelay.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const chunk = (delta: Record<string, unknown>, finish: string | null = null, usage: unknown = null) =>
  JSON.stringify({
    id: "c1",
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finish }],
    usage
  })
const USAGE = { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 }
const USAGE_CHUNK = JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [], usage: USAGE })

describe("mayCarryUsage", () => {
  it('finds "usage" followed by an object, whitespace allowed; nothing else', () => {
    expect(mayCarryUsage(USAGE_CHUNK)).toBe(true)
    expect(mayCarryUsage('{"usage" :\n {"prompt_tokens":1}}')).toBe(true)
    expect(mayCarryUsage('{"usage":null,"x":{"usage":{}}}')).toBe(true)
    expect(mayCarryUsage(chunk({ content: "hi" }))).toBe(false)
    expect(mayCarryUsage('{"usage":"none"}')).toBe(false)
    // The word inside generated text is escaped in JSON: no match.
    expect(mayCarryUsage(chunk({ content: '"usage":{}' }))).toBe(false)
    expect(mayCarryUsage('{"usage"')).toBe(false)
  })

  it("answers true whenever JSON.parse finds a usage object at the top level", () => {
    fc.assert(
      fc.property(fc.object(), fc.option(fc.object(), { nil: null }), (rest, usage) => {
        const data = JSON.stringify({ ...rest, usage })
        // Never missed (a false positive only costs a parse).
        if (usage !== null) expect(mayCarryUsage(data)).toBe(true)
      })
    )
  })
})

describe("makeUsageChunkTracker", () => {
  it("reads the usage-only chunk and names it, parses nothing else after the first event", () => {
    const t = makeUsageChunkTracker(openAIUsage)
    expect(t.observe(chunk({ role: "assistant", content: "" }))).toBe("other")
    // Not JSON, but without "usage": not parsed, counted by its size.
    expect(t.observe("not json at all")).toBe("other")
    expect(t.observe(USAGE_CHUNK)).toBe("usage")
    expect(t.observe("[DONE]")).toBe("other")
    expect(t.reported()).toEqual({ input: 12, cache_read: 0, cache_write: 0, reasoning: 0, output: 7 })
    expect(t.text()).toBe("")
  })

  it("reads usage carried on a chunk with choices, which is relayed", () => {
    const t = makeUsageChunkTracker(openAIUsage)
    expect(t.observe(chunk({ content: "x" }, "stop", USAGE))).toBe("other")
    expect(t.reported()?.output).toBe(7)
  })

  it("estimates a stream without usage from its events' size minus the first event's envelope", () => {
    const t = makeUsageChunkTracker(openAIUsage)
    const words = Array.from({ length: 50 }, (_, i) => ` word${i}`)
    t.observe(chunk({ content: "" }))
    for (const w of words) t.observe(chunk({ content: w }))
    expect(t.reported()).toBeUndefined()
    // Same envelope for every event here: exactly the generated characters.
    expect(t.overflowChars()).toBe(words.join("").length)
  })

  it("measures the envelope on the first event with text, not on a role-only preamble (whose envelope is longer)", () => {
    const t = makeUsageChunkTracker(openAIUsage)
    const words = Array.from({ length: 20 }, (_, i) => ` w${i}`)
    t.observe(chunk({ role: "assistant" }))
    for (const w of words) t.observe(chunk({ content: w }))
    expect(t.overflowChars()).toBe(words.join("").length)
  })

  it("relayed, drops and reports exactly what the full tracker does", () => {
    const events = [
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "Hel" }),
      chunk({ content: "lo" }, "stop"),
      USAGE_CHUNK,
      "[DONE]"
    ]
    const bytes = encoder.encode(`: keep-alive\n\n${events.map((e) => `data: ${e}\n\n`).join("")}`)
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 6 }), fc.boolean(), (cuts, drop) => {
        const points = [...new Set([0, ...cuts, bytes.length])].sort((a, b) => a - b)
        const relayed = (tracker: ReturnType<typeof makeStreamUsageTracker>) => {
          const relay = makeUsageRelay({ tracker, drop, lineLimit: 1 << 16 })
          let out = ""
          for (let i = 1; i < points.length; i++)
            out += decoder.decode(relay.push(bytes.subarray(points[i - 1], points[i])))
          return out + decoder.decode(relay.end())
        }
        const full = makeStreamUsageTracker(openAIUsage)
        const lean = makeUsageChunkTracker(openAIUsage)
        expect(relayed(lean)).toBe(relayed(full))
        expect(lean.reported()).toEqual(full.reported())
      })
    )
  })
})
