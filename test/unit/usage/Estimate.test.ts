import { Effect } from "effect"
import * as fc from "fast-check"
import gpt4o from "gpt-tokenizer/model/gpt-4o"
import { describe, expect, it } from "vitest"
import {
  chatPromptTokens,
  completionTokens,
  encodingFor,
  estimatedUsage,
  promptTokens
} from "../../../src/usage/Estimate.ts"
import { Tokenizer } from "../../../src/usage/Tokenizer.ts"

/** The real counters, loaded through the service (each encoding once). */
const loadCounters = Effect.gen(function* () {
  const tokenizer = yield* Tokenizer
  const o200k = yield* tokenizer.counter("o200k_base")
  const cl100k = yield* tokenizer.counter("cl100k_base")
  return { o200k, cl100k, again: yield* tokenizer.counter("o200k_base") }
}).pipe(Effect.provide(Tokenizer.layer))
const { o200k, cl100k, again } = await Effect.runPromise(loadCounters)

describe("Tokenizer", () => {
  it("loads each encoding once and shares it", () => {
    expect(again).toBe(o200k)
  })

  it("counts known strings as gpt-tokenizer does", () => {
    expect(o200k("Hello, world!")).toBe(4)
    expect(cl100k("Hello, world!")).toBe(4)
    expect(o200k("The quick brown fox jumps over the lazy dog.")).toBe(10)
    expect(o200k("日本語のテキスト")).toBe(6)
    expect(cl100k("日本語のテキスト")).toBe(8)
    expect(o200k("")).toBe(0)
  })

  it("counts special-token text as plain text instead of throwing", () => {
    expect(o200k("<|endoftext|>")).toBe(7)
  })
})

describe("encodingFor", () => {
  it("picks o200k_base for GPT-4o, 4.1, 4.5, 5 and the o-series, cl100k_base otherwise", () => {
    for (const m of [
      "gpt-4o",
      "gpt-4o-mini-2024-07-18",
      "chatgpt-4o-latest",
      "gpt-4.1-nano",
      "gpt-5",
      "o1",
      "o3-mini",
      "o4-mini",
      "openai/gpt-4o"
    ]) {
      expect(encodingFor(m), m).toBe("o200k_base")
    }
    for (const m of ["gpt-4", "gpt-4-turbo", "gpt-3.5-turbo", "claude-sonnet-4-20250514", "llama-3.1-8b", "omni"]) {
      expect(encodingFor(m), m).toBe("cl100k_base")
    }
  })
})

describe("chatPromptTokens", () => {
  const reference = (request: Parameters<NonNullable<typeof gpt4o.countChatCompletionTokens>>[0]) => {
    const count = gpt4o.countChatCompletionTokens
    if (count === undefined) throw new Error("gpt-tokenizer's gpt-4o has no countChatCompletionTokens")
    return count(request)
  }

  it("follows OpenAI's per-message rule as gpt-tokenizer implements it", () => {
    const messages = [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", name: "alice", content: "What is the weather in Paris?" }
    ]
    // 3 per message + role + content (+ name + 1) + 3 to prime the reply.
    expect(chatPromptTokens(o200k, { model: "gpt-4o", messages })).toBe(26)
    expect(chatPromptTokens(o200k, { messages })).toBe(reference({ messages }))
  })

  it("counts tools as gpt-tokenizer counts function definitions", () => {
    const parameters = {
      type: "object",
      required: ["city"],
      properties: { city: { type: "string", description: "A city" }, unit: { type: "string", enum: ["c", "f"] } }
    }
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Weather in Paris?" }
    ]
    const fn = { name: "get_weather", description: "Look up the weather.", parameters }
    const expected = reference({ messages, functions: [fn] as never })
    expect(chatPromptTokens(o200k, { messages, tools: [{ type: "function", function: fn }] })).toBe(expected)
    expect(chatPromptTokens(o200k, { messages, functions: [fn] })).toBe(expected)
  })

  it("counts the text parts of a message, and each tool call's name and arguments", () => {
    const plain = chatPromptTokens(o200k, { messages: [{ role: "user", content: "Describe this." }] })
    const parts = chatPromptTokens(o200k, {
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Describe this." },
            { type: "image_url", image_url: { url: "data:x" } }
          ]
        }
      ]
    })
    expect(parts).toBe(plain)
    const call = { id: "1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }
    const withCall = chatPromptTokens(o200k, {
      messages: [{ role: "assistant", content: null, tool_calls: [call, call] }]
    })
    const without = chatPromptTokens(o200k, { messages: [{ role: "assistant", content: null }] })
    expect(withCall - without).toBe(2 * (o200k("get_weather") + o200k('{"city":"Paris"}') + 3))
  })

  it("survives tool schemas the renderer cannot walk, and never throws on any body", () => {
    const odd = {
      messages: [{ role: "user", content: "x" }],
      tools: [
        {
          type: "function",
          function: { name: "f", parameters: { type: "object", properties: { a: { type: "string", enum: "nope" } } } }
        }
      ]
    }
    expect(chatPromptTokens(o200k, odd)).toBeGreaterThan(chatPromptTokens(o200k, { messages: odd.messages }))
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom("messages", "tools", "functions", "model"), fc.jsonValue()), (body) => {
        expect(chatPromptTokens(cl100k, body)).toBeGreaterThanOrEqual(3)
      })
    )
  })
})

describe("promptTokens and completionTokens", () => {
  it("counts a legacy prompt and embeddings inputs (strings, lists, token arrays)", () => {
    expect(promptTokens(cl100k, "completions", { prompt: "Hello, world!" })).toBe(4)
    expect(promptTokens(cl100k, "completions", { prompt: ["Hello, world!", "hello world"] })).toBe(6)
    expect(promptTokens(cl100k, "embeddings", { input: [[1, 2, 3], [4]] })).toBe(4)
    expect(promptTokens(cl100k, "embeddings", { input: 42 })).toBe(0)
    expect(promptTokens(o200k, "chat", { messages: [] })).toBe(3)
  })

  it("counts a Responses input's items and its instructions", () => {
    const items = [
      { type: "message", role: "user", content: [{ type: "input_text", text: "Hello, world!" }] },
      { type: "function_call_output", call_id: "c1", output: "hello world" }
    ]
    expect(promptTokens(cl100k, "responses", { input: items })).toBe(6)
    expect(promptTokens(cl100k, "responses", { input: items, instructions: "Hello, world!" })).toBe(10)
    expect(promptTokens(cl100k, "responses", { input: "Hello, world!" })).toBe(4)
  })

  it("counts generated text, plus one token per 4 characters not kept", () => {
    expect(completionTokens(o200k, "Hello, world!")).toBe(4)
    expect(completionTokens(o200k, "Hello, world!", 10)).toBe(7)
  })

  it("makes an estimated usage of uncached input and plain output", () => {
    expect(estimatedUsage(26, 4)).toEqual({ input: 26, cache_read: 0, cache_write: 0, reasoning: 0, output: 4 })
  })
})
