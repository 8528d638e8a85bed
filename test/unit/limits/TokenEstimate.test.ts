// The tokens a request reserves: a characters/4 prompt estimate (or any estimator given) plus the
// completion allowance.
import { describe, expect, it } from "vitest"
import { DEFAULT_COMPLETION_RESERVE, estimateByCharacters, reservedTokens } from "../../../src/limits/TokenEstimate.ts"

describe("reserved tokens", () => {
  it("chat: the messages' text / 4, plus max_completion_tokens, else max_tokens, else the default", () => {
    const messages = [
      { role: "user", content: "12345678" },
      { role: "user", content: [{ type: "text", text: "abcd" }] }
    ]
    expect(estimateByCharacters("chat", { messages })).toBe(3)
    expect(reservedTokens("chat", { messages, max_completion_tokens: 10, max_tokens: 99 })).toBe(13)
    expect(reservedTokens("chat", { messages, max_tokens: 99 })).toBe(102)
    expect(reservedTokens("chat", { messages })).toBe(3 + DEFAULT_COMPLETION_RESERVE)
  })
  it("completions and embeddings; embeddings produce no completion", () => {
    expect(reservedTokens("completions", { prompt: ["aaaa", "bbbbb"], max_tokens: 1 })).toBe(3 + 1)
    expect(reservedTokens("embeddings", { input: "x".repeat(40) })).toBe(10)
  })
  it("takes another estimator (the tokenizer seam)", () => {
    expect(reservedTokens("chat", { messages: [], max_tokens: 5 }, () => 42)).toBe(47)
  })
})
