/**
 * Measure and its recount: the request path estimates by characters and keeps the texts it counted
 * (bounded); counting those texts again with the BPE encoding (as the tokenizer thread does) gives
 * exactly the estimate a BPE counter would have given in the first place.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { Endpoint } from "../../../src/domain/Endpoint.ts"
import { openAIUsage } from "../../../src/providers/openai/OpenAIUsage.ts"
import { completionTokens, encodingFor, promptTokens } from "../../../src/usage/Estimate.ts"
import { type Measured, measureResponse, measureStream } from "../../../src/usage/Measure.ts"
import { RECOUNT_TEXT_LIMIT, recountSize } from "../../../src/usage/Recount.ts"
import { makeStreamUsageTracker, makeUsageChunkTracker } from "../../../src/usage/StreamUsage.ts"
import * as Tokenizer from "../../../src/usage/Tokenizer.ts"
import { countRecounts } from "../../../src/usage/TokenizerThread.ts"

const tokenizer = Effect.runSync(Tokenizer.make)

/** The tokens of a measure once its recount is counted with the BPE encoding. */
const recounted = async (measured: Measured): Promise<{ input: number; output: number }> => {
  const recount = measured.recount
  if (recount === undefined) throw new Error("no recount")
  const [counts] = await Effect.runPromise(countRecounts(tokenizer, [recount]))
  if (counts === undefined) throw new Error("no counts")
  return { input: recount.input.fixed + counts[0], output: recount.output.fixed + counts[1] }
}

/** What counting with the BPE encoding in the first place would have given. */
const direct = async (endpoint: Endpoint, body: Record<string, unknown>, model: string, text: string) => {
  const count = await Effect.runPromise(tokenizer.counter(encodingFor(model)))
  return { input: promptTokens(count, endpoint, body), output: completionTokens(count, text) }
}

const body = {
  model: "chat",
  stream: true,
  messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", name: "alice", content: "What is the weather in Paris?" }
  ]
}
const request = { endpoint: "chat" as const, body, upstreamModel: "gpt-4o-2024-08-06" }
const delta = (content: string) => JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })
const chars = (text: string) => Math.ceil(text.length / 4)

describe("measureStream", () => {
  it("takes the reported usage when the stream sent it, with no recount", () => {
    const tracker = makeStreamUsageTracker(openAIUsage)
    tracker.observe(delta("Hi"))
    tracker.observe(JSON.stringify({ choices: [], usage: { prompt_tokens: 30, completion_tokens: 2 } }))
    expect(measureStream(tracker, request)).toEqual({
      tokens: { input: 30, cache_read: 0, cache_write: 0, reasoning: 0, output: 2 },
      estimated: false
    })
  })

  it("estimates a stream cancelled before its usage chunk by characters; its recount gives the BPE counts", async () => {
    const tracker = makeStreamUsageTracker(openAIUsage)
    tracker.observe(delta("Hello,"))
    tracker.observe(delta(" world!"))
    const measured = measureStream(tracker, request)
    expect(measured.estimated).toBe(true)
    expect(measured.tokens.output).toBe(chars("Hello, world!"))
    expect(measured.recount?.encoding).toBe("o200k_base")
    expect(measured.recount?.price).toBeNull()
    // The prompt is 26 tokens in o200k_base (gpt-4o's encoding); "Hello, world!" is 4.
    expect(await recounted(measured)).toEqual({ input: 26, output: 4 })
    expect(await recounted(measured)).toEqual(await direct("chat", body, request.upstreamModel, "Hello, world!"))
  })

  it("a stream whose upstream was asked for usage keeps its events (not parsed) and recounts their text", async () => {
    const tracker = makeUsageChunkTracker(openAIUsage, RECOUNT_TEXT_LIMIT)
    const words = ["Bonjour", " à", " tous", ", ", "le", " monde", "!"]
    for (const w of words) tracker.observe(delta(w))
    const measured = measureStream(tracker, request)
    expect(measured.recount?.output.events).toHaveLength(words.length)
    expect(measured.recount?.output.texts).toEqual([])
    // By characters on the request path (the text's characters from the events' sizes).
    expect(measured.tokens.output).toBe(chars(words.join("")))
    expect(await recounted(measured)).toEqual(await direct("chat", body, request.upstreamModel, words.join("")))
  })

  it("keeps at most its limit of events; the rest is counted by characters", async () => {
    const tracker = makeUsageChunkTracker(openAIUsage, delta("one").length * 2)
    for (const w of ["one", "two", "three", "four"]) tracker.observe(delta(w))
    expect(tracker.keptEvents().data).toEqual([delta("one"), delta("two")])
    expect(tracker.keptEvents().chars).toBe(6)
    expect(tracker.overflowChars()).toBe("threefour".length)
    const measured = measureStream(tracker, request)
    const bpe = await direct("chat", body, request.upstreamModel, "onetwo")
    expect((await recounted(measured)).output).toBe(bpe.output + chars("threefour"))
  })
})

describe("measureResponse", () => {
  it("takes the reported usage of a buffered answer", () => {
    const json = {
      choices: [{ index: 0, message: { role: "assistant", content: "Hi" } }],
      usage: { prompt_tokens: 9, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 8 } }
    }
    expect(measureResponse(openAIUsage, json, request)).toEqual({
      tokens: { input: 1, cache_read: 8, cache_write: 0, reasoning: 0, output: 1 },
      estimated: false
    })
  })

  it("estimates an answer without usage (or with a malformed one) from its message", async () => {
    for (const usage of [undefined, null, { prompt_tokens: "x" }]) {
      const json = { choices: [{ index: 0, message: { role: "assistant", content: "Hello, world!" } }], usage }
      const measured = measureResponse(openAIUsage, json, request)
      expect(measured.estimated).toBe(true)
      expect(await recounted(measured)).toEqual({ input: 26, output: 4 })
    }
  })

  it("recounts a legacy completion's text with cl100k_base for a GPT-3.5 model", async () => {
    const json = { choices: [{ index: 0, text: "hello world" }] }
    const measured = measureResponse(openAIUsage, json, {
      endpoint: "completions",
      body: { prompt: "Hello, world!" },
      upstreamModel: "gpt-3.5-turbo-instruct"
    })
    expect(measured.recount?.encoding).toBe("cl100k_base")
    expect(await recounted(measured)).toEqual({ input: 4, output: 2 })
  })

  it("recounts tools, tool calls and embeddings exactly as a BPE estimate counts them", async () => {
    const tools = {
      model: "x",
      messages: [
        { role: "system", content: "Use tools." },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }]
        },
        { role: "tool", content: "sunny, 21°C" }
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "weather",
            description: "The weather of a city",
            parameters: { type: "object", properties: { city: { type: "string", description: "Its name" } } }
          }
        }
      ]
    }
    // A parameters schema the renderer cannot walk: counted as JSON.
    const broken = { ...tools, tools: [{ type: "function", function: { name: "f", parameters: { properties: 3 } } }] }
    const cases: ReadonlyArray<readonly [Endpoint, Record<string, unknown>]> = [
      ["chat", tools],
      ["chat", broken],
      ["embeddings", { input: ["first text", "second, longer text", [1, 2, 3]] }]
    ]
    for (const [endpoint, b] of cases) {
      const measured = measureResponse(
        openAIUsage,
        { choices: [{ message: { content: "Done." } }] },
        {
          endpoint,
          body: b,
          upstreamModel: "gpt-4o"
        }
      )
      expect(await recounted(measured)).toEqual(await direct(endpoint, b, "gpt-4o", "Done."))
    }
  })

  it("keeps at most RECOUNT_TEXT_LIMIT characters of prompt text; the rest stays counted by characters", async () => {
    const long = "lorem ipsum dolor sit amet ".repeat(Math.ceil(RECOUNT_TEXT_LIMIT / 27) + 10)
    const b = {
      model: "x",
      messages: [
        { role: "user", content: "A short question?" },
        { role: "user", content: long }
      ]
    }
    const measured = measureResponse(
      openAIUsage,
      { choices: [{ message: { content: "ok" } }] },
      {
        endpoint: "chat",
        body: b,
        upstreamModel: "gpt-4o"
      }
    )
    const recount = measured.recount
    expect(recount?.input.texts).not.toContain(long)
    expect(recountSize(recount!)).toBeLessThanOrEqual(2 * RECOUNT_TEXT_LIMIT)
    const bpeWithoutLong = await direct(
      "chat",
      { ...b, messages: [b.messages[0], { role: "user", content: "" }] },
      "gpt-4o",
      "ok"
    )
    expect((await recounted(measured)).input).toBe(bpeWithoutLong.input + chars(long))
  })
})
