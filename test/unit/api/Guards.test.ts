import fc from "fast-check"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import { describe, expect, it } from "vitest"
import { GUARDS } from "../../../src/api/Guards.ts"
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequest } from "../../../src/api/Schemas.ts"

const valid = {
  chat: (b: unknown) => Exit.isSuccess(Schema.decodeUnknownExit(ChatCompletionRequest)(b)),
  completions: (b: unknown) => Exit.isSuccess(Schema.decodeUnknownExit(CompletionRequest)(b)),
  embeddings: (b: unknown) => Exit.isSuccess(Schema.decodeUnknownExit(EmbeddingRequest)(b))
}

// Field values near the edges of every constraint, valid and not.
const anything = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    "",
    "m",
    0,
    1,
    -1,
    1.5,
    2 ** 60,
    true,
    false,
    null,
    [],
    {},
    [""],
    [1, 2],
    [[1], [2]],
    [[1.5]],
    ["a", 1],
    [[]],
    "float",
    "base64",
    "other"
  )
)
const message = fc.oneof(
  fc.record({ role: fc.string(), content: fc.string() }),
  fc.record({ role: anything }),
  anything
)
const field = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 })
const body = fc
  .record(
    {
      model: field(fc.oneof(fc.string(), anything)),
      messages: field(fc.oneof(fc.array(message, { maxLength: 3 }), anything)),
      prompt: field(anything),
      input: field(anything),
      stream: field(fc.oneof(fc.boolean(), anything)),
      stream_options: field(
        fc.oneof(fc.record({ include_usage: field(fc.oneof(fc.boolean(), anything)) }, { requiredKeys: [] }), anything)
      ),
      encoding_format: field(anything),
      dimensions: field(anything),
      extra: field(anything)
    },
    { requiredKeys: [] }
  )
  .map((b) => {
    // Absent, not present-with-undefined (JSON bodies have no undefined).
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(b)) if (v !== undefined) out[k] = v
    return out
  })

describe("request guards", () => {
  for (const endpoint of ["chat", "completions", "embeddings"] as const) {
    it(`${endpoint}: the guard never accepts a body its Schema rejects, and accepts the usual valid ones`, () => {
      let accepted = 0
      fc.assert(
        fc.property(body, (b) => {
          if (GUARDS[endpoint](b)) {
            accepted++
            expect(valid[endpoint](b)).toBe(true)
          }
        }),
        { numRuns: 3000 }
      )
      // Not vacuous: the generator reaches bodies the guard accepts.
      expect(accepted).toBeGreaterThan(0)
    })
  }

  it("accepts the bodies SDKs send (so the Schema is skipped on the hot path)", () => {
    expect(
      GUARDS.chat({
        model: "gpt-4o",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
        stream_options: { include_usage: true },
        tools: []
      })
    ).toBe(true)
    expect(
      GUARDS.chat({
        model: "gpt-4o",
        messages: [
          { role: "system", content: "s" },
          { role: "user", content: [{ type: "text", text: "x" }] }
        ]
      })
    ).toBe(true)
    expect(GUARDS.completions({ model: "m", prompt: "hello", max_tokens: 5 })).toBe(true)
    expect(GUARDS.completions({ model: "m", prompt: [[1, 2], [3]] })).toBe(true)
    expect(GUARDS.embeddings({ model: "e", input: ["a", "b"], encoding_format: "float", dimensions: 8 })).toBe(true)
  })

  it("leaves every invalid body to the Schema", () => {
    expect(GUARDS.chat({ model: "", messages: [{ role: "user" }] })).toBe(false)
    expect(GUARDS.chat({ model: "m", messages: [] })).toBe(false)
    expect(GUARDS.chat({ model: "m", messages: [{ content: "x" }] })).toBe(false)
    expect(GUARDS.chat({ model: "m", messages: [{ role: "user" }], stream: "yes" })).toBe(false)
    expect(GUARDS.completions({ model: "m", prompt: [1, "a"] })).toBe(false)
    expect(GUARDS.embeddings({ model: "m", input: "x", dimensions: 0 })).toBe(false)
    expect(GUARDS.embeddings({ model: "m", input: "x", encoding_format: "int8" })).toBe(false)
  })
})
