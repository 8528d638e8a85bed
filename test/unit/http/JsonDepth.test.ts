// The JSON depth scan (issue 10, item 2) against the depth of the parsed value, for arbitrary JSON
// (strings full of brackets, quotes and backslashes, any whitespace) and every limit around it.
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { exceedsJsonDepth } from "../../../src/http/JsonDepth.ts"

/** Nesting depth of a parsed JSON value: a scalar is 0, `[]` and `{}` are 1. */
const depthOf = (value: unknown): number => {
  if (value === null || typeof value !== "object") return 0
  const children = Array.isArray(value) ? value : Object.values(value)
  return 1 + children.reduce((max: number, child) => Math.max(max, depthOf(child)), 0)
}

const encode = (text: string) => new TextEncoder().encode(text)

/** Strings that stress the scan: brackets, quotes, backslashes, multi-byte characters. */
const tricky = fc
  .array(fc.constantFrom("[", "]", "{", "}", '"', "\\", '\\"', "a", "é", "😀", "\n", "\u0000"), { maxLength: 6 })
  .map((cs) => cs.join(""))

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(tricky, fc.integer(), fc.boolean(), fc.constant(null)),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(tricky, tie("value"), { maxKeys: 4 })
  )
})).value

describe("exceedsJsonDepth", () => {
  it("agrees with the parsed value's depth at every limit", () => {
    fc.assert(
      fc.property(json, fc.constantFrom(0, 2, undefined), (value, indent) => {
        const text = JSON.stringify(value, null, indent)
        const depth = depthOf(JSON.parse(text))
        const bytes = encode(text)
        for (let limit = 0; limit <= depth + 1; limit++) {
          expect(exceedsJsonDepth(bytes, limit), `limit ${limit}, depth ${depth}: ${text}`).toBe(depth > limit)
        }
      }),
      { numRuns: 2_000, seed: 10_21 }
    )
  })

  it("also on fast-check's own JSON values", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        const text = JSON.stringify(value)
        const depth = depthOf(JSON.parse(text))
        expect(exceedsJsonDepth(encode(text), depth)).toBe(false)
        if (depth > 0) expect(exceedsJsonDepth(encode(text), depth - 1)).toBe(true)
      }),
      { numRuns: 1_000, seed: 10_22 }
    )
  })

  it("deep bodies, brackets in strings, escapes", () => {
    expect(exceedsJsonDepth(encode("[".repeat(10_000) + "]".repeat(10_000)), 64)).toBe(true)
    expect(exceedsJsonDepth(encode(`["${"[".repeat(10_000)}"]`), 64)).toBe(false)
    expect(exceedsJsonDepth(encode(`["\\\\", [[1]]]`), 2)).toBe(true)
    expect(exceedsJsonDepth(encode(`["\\"[[[[", 1]`), 1)).toBe(false)
    expect(exceedsJsonDepth(encode(`{"a":{"b":{}}}`), 3)).toBe(false)
    expect(exceedsJsonDepth(encode(`{"a":{"b":{}}}`), 2)).toBe(true)
    expect(exceedsJsonDepth(encode(""), 0)).toBe(false)
    // An unterminated string ends the scan (JSON.parse reports it).
    expect(exceedsJsonDepth(encode(`["abc`), 0)).toBe(true)
    expect(exceedsJsonDepth(encode(`"abc[[[`), 0)).toBe(false)
  })
})
