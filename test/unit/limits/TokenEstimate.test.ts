// The tokens a request reserves: a characters/4 prompt estimate (or any estimator given) plus the
// completion allowance (the request's own, else the model's configured default).
import { describe, expect, it } from "vitest"
import { estimateByCharacters, reservedParts } from "../../../src/limits/TokenEstimate.ts"

/** The tokens reserved in total (prompt and completion). */
const reservedTokens = (...args: Parameters<typeof reservedParts>): number => reservedParts(...args).total

const DEFAULT = 1024

describe("reserved tokens", () => {
  it("chat: the messages' text / 4, plus max_completion_tokens, else max_tokens, else the default", () => {
    const messages = [
      { role: "user", content: "12345678" },
      { role: "user", content: [{ type: "text", text: "abcd" }] }
    ]
    expect(estimateByCharacters("chat", { messages })).toBe(3)
    expect(reservedTokens("chat", { messages, max_completion_tokens: 10, max_tokens: 99 }, DEFAULT)).toBe(13)
    expect(reservedTokens("chat", { messages, max_tokens: 99 }, DEFAULT)).toBe(102)
    expect(reservedTokens("chat", { messages }, DEFAULT)).toBe(3 + DEFAULT)
  })
  it("the default is the caller's (the model's configured one), 0 included; a request's own max_tokens wins", () => {
    const messages = [{ role: "user", content: "12345678" }]
    expect(reservedParts("chat", { messages }, 64)).toEqual({ prompt: 2, completion: 64, total: 66 })
    expect(reservedParts("chat", { messages }, 0)).toEqual({ prompt: 2, completion: 0, total: 2 })
    expect(reservedParts("completions", { prompt: "abcd", max_tokens: 7 }, 64)).toEqual({
      prompt: 1,
      completion: 7,
      total: 8
    })
  })
  it("completions and embeddings; embeddings produce no completion", () => {
    expect(reservedTokens("completions", { prompt: ["aaaa", "bbbbb"], max_tokens: 1 }, DEFAULT)).toBe(3 + 1)
    expect(reservedTokens("embeddings", { input: "x".repeat(40) }, DEFAULT)).toBe(10)
  })
  it("responses: the input items' text and the instructions / 4, plus max_output_tokens, else the default", () => {
    const body = {
      instructions: "abcd",
      input: [
        { type: "message", role: "user", content: [{ type: "input_text", text: "12345678" }] },
        { type: "function_call", call_id: "c1", name: "get", arguments: "{}" },
        { type: "function_call_output", call_id: "c1", output: "1234" }
      ]
    }
    // 4 + 8 + 3 + 2 + 4 characters
    expect(estimateByCharacters("responses", body)).toBe(6)
    expect(reservedParts("responses", { ...body, max_output_tokens: 50 }, DEFAULT)).toEqual({
      prompt: 6,
      completion: 50,
      total: 56
    })
    expect(reservedTokens("responses", { input: "12345678" }, DEFAULT)).toBe(2 + DEFAULT)
  })
  it("takes another estimator (the tokenizer seam)", () => {
    expect(reservedTokens("chat", { messages: [], max_tokens: 5 }, DEFAULT, () => 42)).toBe(47)
  })
})
