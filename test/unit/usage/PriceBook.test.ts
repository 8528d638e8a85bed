import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { tokenPrice } from "../../../src/usage/Cost.ts"
import { DEFAULT_PRICES } from "../../../src/usage/DefaultPrices.ts"
import { MEMO_LIMIT, makePriceBook, priceKeys } from "../../../src/usage/PriceBook.ts"

const config = (text: string) => {
  const r = parseConfig(text, {}, "test.yaml")
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

const CONFIG = config(`
providers:
  - { name: up, kind: openai, base_url: "http://127.0.0.1:9/v1" }
models:
  - name: house-model
    targets: [{ provider: up, model: gpt-4o-2024-08-06 }]
    pricing: { input: 1, output: 2 }
  - name: chat
    targets: [{ provider: up, model: gpt-4o-2024-08-06 }]
  - name: "claude-*"
    targets: [{ provider: up }]
pricing:
  gpt-4.1-mini: { input: 0.3, output: 1.2, cache_read: 0.05 }
  My-Llama: { input: 0, output: 0 }
`)

const defaultPrice = (name: string) => {
  const p = DEFAULT_PRICES.get(name)
  if (p === undefined) throw new Error(name)
  return tokenPrice(p)
}

describe("priceKeys", () => {
  it("drops a date or -latest suffix, then Anthropic's -0 alias, lower-cased", () => {
    expect(priceKeys("gpt-4o-2024-08-06")).toEqual(["gpt-4o-2024-08-06", "gpt-4o"])
    expect(priceKeys("claude-sonnet-4-20250514")).toEqual(["claude-sonnet-4-20250514", "claude-sonnet-4"])
    expect(priceKeys("claude-3-5-haiku-latest")).toEqual(["claude-3-5-haiku-latest", "claude-3-5-haiku"])
    expect(priceKeys("claude-opus-4-0")).toEqual(["claude-opus-4-0", "claude-opus-4"])
    expect(priceKeys("GPT-4o")).toEqual(["gpt-4o"])
    expect(priceKeys("o3")).toEqual(["o3"])
  })
})

describe("makePriceBook", () => {
  const book = makePriceBook(CONFIG)

  it("prefers the model's own pricing over everything else", () => {
    const m = book.lookup("house-model", "gpt-4o-2024-08-06")
    expect(m?.source).toBe("model")
    expect(m?.price).toEqual(tokenPrice({ input: 1, cache_read: 1, cache_write: 1, reasoning: 2, output: 2 }))
  })

  it("then the top-level map by upstream name (dated names too, case-insensitively), then the defaults", () => {
    expect(book.lookup("chat", "gpt-4.1-mini-2025-04-14")).toMatchObject({ source: "config", key: "gpt-4.1-mini" })
    expect(book.lookup("chat", "my-llama")).toMatchObject({ source: "config", key: "my-llama" })
    const d = book.lookup("chat", "gpt-4o-2024-08-06")
    expect(d).toMatchObject({ source: "default", key: "gpt-4o" })
    expect(d?.price).toEqual(defaultPrice("gpt-4o"))
    expect(book.lookup("claude-*", "claude-sonnet-4-20250514")).toMatchObject({
      source: "default",
      key: "claude-sonnet-4"
    })
    expect(book.lookup("claude-*", "claude-opus-4-0")).toMatchObject({ source: "default", key: "claude-opus-4" })
  })

  it("never matches by prefix, and keeps a snapshot's own price apart from its family's", () => {
    expect(book.lookup("chat", "gpt-4o-mini-2024-07-18")?.price).toEqual(defaultPrice("gpt-4o-mini"))
    expect(book.lookup("chat", "gpt-4o-2024-05-13")).toMatchObject({ key: "gpt-4o-2024-05-13" })
    expect(book.lookup("chat", "gpt-4o-mini-2024-07-18-ft")).toBeUndefined()
    expect(book.lookup("chat", "gpt-4o-audio-preview")).toBeUndefined()
  })

  it("has no price (cost null) for an unknown model or a request nothing served", () => {
    expect(book.lookup("chat", "llama-3.1-8b")).toBeUndefined()
    expect(
      book.cost({ input: 10, cache_read: 0, cache_write: 0, reasoning: 0, output: 10 }, "chat", "llama-3.1-8b")
    ).toBeNull()
    expect(book.lookup("chat", null)).toBeUndefined()
    // A model's own price holds even when no target served it (the request failed before).
    expect(book.lookup("house-model", null)?.source).toBe("model")
  })

  it("computes the cost at the matched price", () => {
    const cost = book.cost(
      { input: 1_000_000, cache_read: 1_000_000, cache_write: 0, reasoning: 0, output: 1_000_000 },
      "chat",
      "gpt-4.1-mini"
    )
    // Exact, where adding the dollar amounts as doubles would give 1.5499999999999998.
    expect(cost?.usd).toBe(1.55)
  })

  it("works without defaults (an operator who wants only their own prices)", () => {
    const bare = makePriceBook(CONFIG, new Map())
    expect(bare.lookup("chat", "gpt-4o")).toBeUndefined()
    expect(bare.lookup("chat", "gpt-4.1-mini")?.source).toBe("config")
  })

  it("answers a repeated lookup as the first (found, not found, past the memo's limit)", () => {
    const fresh = makePriceBook(CONFIG)
    const asked: Array<readonly [string, string | null]> = [
      ["chat", "gpt-4o-2024-08-06"],
      ["chat", "no-such-model"],
      ["house-model", null],
      ["claude-x", null],
      ["claude-x", "claude-sonnet-4-0"]
    ]
    const first = asked.map(([m, u]) => fresh.lookup(m, u))
    expect(asked.map(([m, u]) => fresh.lookup(m, u))).toEqual(first)
    expect(first.map((f) => f?.source)).toEqual(["default", undefined, "model", undefined, "default"])
    // Past MEMO_LIMIT distinct names the book still answers, by looking each up again.
    for (let i = 0; i < MEMO_LIMIT + 10; i++) fresh.lookup("claude-x", `client-chosen-${i}`)
    expect(fresh.lookup("claude-x", "gpt-4.1-mini")?.source).toBe("config")
    expect(fresh.lookup("claude-x", "client-chosen-0")).toBeUndefined()
  })
})
