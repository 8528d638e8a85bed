import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { replaceTopLevelString } from "../../../src/domain/JsonSplice.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const splice = (text: string, value: string): string | undefined => {
  const out = replaceTopLevelString(encoder.encode(text), "model", value)
  return out === undefined ? undefined : decoder.decode(out)
}

describe("replaceTopLevelString", () => {
  it("replaces only the value's bytes: spacing, key order and every other byte stay as sent", () => {
    const text = `{ "messages" : [{"role":"user","content":"say \\"model\\": 1 {"}],"model" :  "gpt-4o",  "x": {"model":"inner"}, "n": 1.50e3 }`
    expect(splice(text, "up-2024")).toBe(text.replace(`"gpt-4o"`, `"up-2024"`))
  })

  it("writes the new value as a JSON string (quotes, backslashes, unicode, control characters)", () => {
    const value = `a"b\\c\u00e9\u{1F600}\n\u0001`
    const out = splice(`{"model":"m","stream":true}`, value)
    expect(out).toBeDefined()
    expect(JSON.parse(out!)).toEqual({ model: value, stream: true })
  })

  it("recognises the key written with escapes, and escaped keys that are other names", () => {
    expect(JSON.parse(splice(`{"mod\\u0065l":"a","n":1}`, "x")!)).toEqual({ model: "x", n: 1 })
    expect(JSON.parse(splice(`{"mo\\"del":"a","model":"b"}`, "x")!)).toEqual({ 'mo"del': "a", model: "x" })
  })

  it("handles escaped quotes and backslashes inside strings before and inside the value", () => {
    const text = `{"a":"x\\\\","b":"y\\\\\\"z","model":"q\\"\\\\","c":"\\\\"}`
    const out = splice(text, "new")
    expect(JSON.parse(out!)).toEqual({ ...(JSON.parse(text) as object), model: "new" })
  })

  it("gives up where splicing would not be exact", () => {
    expect(splice(`{"messages":[]}`, "x")).toBeUndefined() // absent
    expect(splice(`{"model":null}`, "x")).toBeUndefined() // not a string
    expect(splice(`{"model":["a"]}`, "x")).toBeUndefined()
    expect(splice(`{"model":"a","model":"b"}`, "x")).toBeUndefined() // repeated: JSON.parse keeps the last
    expect(splice(`{"mod\\u0065l":"a","model":"b"}`, "x")).toBeUndefined() // repeated, once escaped
    expect(splice(`[{"model":"a"}]`, "x")).toBeUndefined() // not an object
    expect(splice(`{}`, "x")).toBeUndefined()
    expect(splice(`{"model":"a"`, "x")).toBeUndefined() // truncated
    expect(splice(`{"model":"a}`, "x")).toBeUndefined()
  })

  it("property: the result parses to the same object with only `model` changed, keys in the same order", () => {
    const member = fc.tuple(
      fc.string().filter((k) => k !== "model"),
      fc.jsonValue()
    )
    fc.assert(
      fc.property(
        fc.array(member, { maxLength: 6 }),
        fc.array(member, { maxLength: 6 }),
        fc.string(),
        fc.string(),
        fc.boolean(),
        (before, after, original, replacement, pretty) => {
          const object: Record<string, unknown> = {}
          for (const [k, v] of before) object[k] = v
          if (!("model" in object)) object["model"] = original
          for (const [k, v] of after) if (!(k in object)) object[k] = v
          const text = pretty ? JSON.stringify(object, null, 2) : JSON.stringify(object)
          const out = splice(text, replacement)
          if (out === undefined) return false
          const parsed = JSON.parse(out) as Record<string, unknown>
          // Against the text's own parse (JSON has no -0, undefined, …).
          expect(parsed).toEqual({ ...(JSON.parse(text) as object), model: replacement })
          expect(Object.keys(parsed)).toEqual(Object.keys(object))
          return true
        }
      ),
      { numRuns: 500 }
    )
  })
})
