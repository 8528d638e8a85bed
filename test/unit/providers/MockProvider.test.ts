import { assert, describe, it } from "@effect/vitest"
import { Effect, Random, Stream } from "effect"
import * as fc from "fast-check"
import { expect } from "vitest"
import { DEFAULT_CONNECTION, type ResolvedProvider } from "../../../src/config/Config.ts"
import { DEFAULT_BREAKER } from "../../../src/domain/BreakerSettings.ts"
import {
  countTokens,
  embed,
  make,
  MAX_EMBEDDING_INPUTS,
  splitContent
} from "../../../src/providers/mock/MockProvider.ts"
import type { ProviderRequest, ProviderResponse } from "../../../src/providers/Provider.ts"

const config = (mock: Partial<ResolvedProvider["mock"]> = {}): ResolvedProvider => ({
  name: "mock",
  kind: "mock",
  baseUrl: "",
  auth: undefined,
  headerOps: [],
  connectTimeoutMs: 1000,
  connection: DEFAULT_CONNECTION,
  userAgent: "llmgate/test",
  requestTimeoutMs: 1000,
  idleTimeoutMs: 1000,
  breaker: DEFAULT_BREAKER,
  mock: { latencyMs: 0, chunks: 3, chunkIntervalMs: 0, failureRate: 0, crashRate: 0, ...mock }
})

const request = (endpoint: ProviderRequest["endpoint"], body: Record<string, unknown>): ProviderRequest => ({
  endpoint,
  body,
  rawBody: new Uint8Array(),
  upstreamModel: "up-model",
  stream: body["stream"] === true,
  requestId: "r1"
})

const bodyText = (r: ProviderResponse) =>
  r.body._tag === "Buffered"
    ? Effect.succeed(new TextDecoder().decode(r.body.bytes))
    : Stream.runCollect(r.body.stream).pipe(Effect.map((cs) => cs.map((c) => new TextDecoder().decode(c)).join("")))

describe("MockProvider", () => {
  it.effect("streams the same content and usage as the JSON answer", () =>
    Effect.gen(function* () {
      const p = make(config())
      const messages = [{ role: "user", content: [{ type: "text", text: "tell me a story" }] }]
      const full = JSON.parse(yield* bodyText(yield* p.call(request("chat", { model: "pub", messages }))))
      const sse = yield* bodyText(yield* p.call(request("chat", { model: "pub", messages, stream: true })))
      const events = sse
        .split("\n\n")
        .filter((e) => e !== "")
        .map((e) => e.slice("data: ".length))
      assert.strictEqual(events.at(-1), "[DONE]")
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e))
      assert.deepStrictEqual(chunks[0].choices[0].delta, { role: "assistant", content: "" })
      const content = chunks.map((c) => c.choices[0].delta.content ?? "").join("")
      assert.strictEqual(content, full.choices[0].message.content)
      assert.strictEqual(content, "Mock reply from up-model: tell me a story")
      assert.deepStrictEqual(chunks.at(-1).usage, full.usage)
      assert.strictEqual(full.usage.total_tokens, full.usage.prompt_tokens + full.usage.completion_tokens)
      assert.strictEqual(full.model, "pub")
    })
  )

  it.effect("embeds deterministically with the requested dimensions", () =>
    Effect.gen(function* () {
      const p = make(config())
      const a = JSON.parse(
        yield* bodyText(yield* p.call(request("embeddings", { model: "e", input: ["x", "y"], dimensions: 5 })))
      )
      const b = JSON.parse(
        yield* bodyText(yield* p.call(request("embeddings", { model: "e", input: ["x", "y"], dimensions: 5 })))
      )
      assert.deepStrictEqual(a.data, b.data)
      assert.strictEqual(a.data.length, 2)
      assert.strictEqual(a.data[0].embedding.length, 5)
      assert.notDeepEqual(a.data[0].embedding, a.data[1].embedding)
    })
  )

  it.effect("fails the configured fraction of requests with a 500", () =>
    Effect.gen(function* () {
      const p = make(config({ failureRate: 0.5 }))
      let failures = 0
      for (let i = 0; i < 200; i++) {
        const r = yield* p.call(request("completions", { model: "m", prompt: "hi" }))
        if (r.status === 500) failures++
      }
      assert.isTrue(failures > 60 && failures < 140, `failures: ${failures}`)
    }).pipe(Random.withSeed(7))
  )

  it("splits content into exactly `chunks` pieces without losing text", () => {
    const text = "one two  three four\nfive ✓"
    for (const n of [1, 2, 3, 7, 25]) {
      const parts = splitContent(text, n)
      assert.strictEqual(parts.join(""), text)
      assert.strictEqual(parts.length, n)
      assert.isTrue(parts.every((p) => p.length > 0))
    }
    assert.strictEqual(splitContent("abc", 10).length, 3)
  })

  it("embedding vectors are unit length", () => {
    const v = embed("hello", 16)
    assert.closeTo(Math.sqrt(v.reduce((a, x) => a + x * x, 0)), 1, 1e-4)
  })

  describe("bounded by the request", () => {
    /** The implementations that built arrays of every word and every character. */
    const countBySplit = (text: string) => {
      const trimmed = text.trim()
      return trimmed === "" ? 0 : trimmed.split(/\s+/).length
    }
    const splitByArray = (text: string, n: number) => {
      const chars = Array.from(text)
      const count = Math.max(1, Math.min(n, chars.length))
      return Array.from({ length: count }, (_, i) =>
        chars.slice(Math.floor((i * chars.length) / count), Math.floor(((i + 1) * chars.length) / count)).join("")
      )
    }
    // Every kind of white space `\s` knows, surrogate pairs, lone surrogates.
    const text = fc
      .array(
        fc.oneof(
          fc.string({ unit: "grapheme", maxLength: 6 }),
          fc.constantFrom(
            " ",
            "\t",
            "\n",
            "\r\n",
            "\u00a0",
            "\u1680",
            "\u2003",
            "\u2028",
            "\u202f",
            "\u3000",
            "\ufeff",
            "\v",
            "\f",
            "𝄞",
            "\ud800",
            "\udc00"
          )
        ),
        { maxLength: 20 }
      )
      .map((parts) => parts.join(""))

    it("counts tokens as splitting on white space did, without building the words", () => {
      fc.assert(
        fc.property(text, (t) => countTokens(t) === countBySplit(t)),
        { numRuns: 1000 }
      )
    })

    it("splits content as the code-point array did, without building it", () => {
      fc.assert(
        fc.property(text, fc.integer({ min: 1, max: 30 }), (t, n) => {
          expect(splitContent(t, n)).toEqual(splitByArray(t, n))
        }),
        { numRuns: 1000 }
      )
    })

    it.effect("refuses more than MAX_EMBEDDING_INPUTS inputs with a 400 naming `input`", () =>
      Effect.gen(function* () {
        const p = make(config())
        const many = Array.from({ length: MAX_EMBEDDING_INPUTS + 1 }, () => "")
        const r = yield* p.call(request("embeddings", { model: "e", input: many, dimensions: 4096 }))
        assert.strictEqual(r.status, 400)
        if (r.body._tag !== "Buffered") return assert.fail("expected JSON")
        assert.deepStrictEqual(r.body.json, JSON.parse(yield* bodyText(r)))
        const error = (r.body.json as { error: { param: string; code: string } }).error
        assert.deepStrictEqual([error.param, error.code], ["input", "invalid_request"])
        // At the limit, and a single (long) token array, are fine.
        const ok = yield* p.call(request("embeddings", { model: "e", input: many.slice(1), dimensions: 2 }))
        assert.strictEqual(ok.status, 200)
        const tokens = yield* p.call(
          request("embeddings", { model: "e", input: Array.from({ length: 5000 }, (_, i) => i) })
        )
        assert.strictEqual(tokens.status, 200)
      })
    )

    it.effect("buffered answers carry their parsed JSON", () =>
      Effect.gen(function* () {
        const p = make(config())
        const r = yield* p.call(request("chat", { model: "pub", messages: [{ role: "user", content: "hi" }] }))
        if (r.body._tag !== "Buffered") return assert.fail("expected JSON")
        assert.deepStrictEqual(r.body.json, JSON.parse(yield* bodyText(r)))
      })
    )
  })
})
