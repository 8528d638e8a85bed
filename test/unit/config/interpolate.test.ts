// Config values are data (issue 10, item 3): `escapeLiteral` makes any string read back exactly as
// itself through YAML and interpolation, in every field, even with every variable allowed and set;
// references stand only in secret fields (SecretFields.isSecretPath).
import * as fc from "fast-check"
import * as Result from "effect/Result"
import { describe, expect, it } from "vitest"
import type { ConfigIssue } from "../../../src/config/ConfigError.ts"
import { escapeLiteral, hasReference, interpolate, literalValue } from "../../../src/config/interpolate.ts"
import { parseConfigDocument } from "../../../src/config/loadConfig.ts"
import { isSecretPath } from "../../../src/config/SecretFields.ts"

/** Strings made of the pieces that matter here, and any other text. */
const tricky = fc.oneof(
  fc.string({
    unit: fc.constantFrom("$", "{", "}", "$${", "${", "${A}", "${LLMGATE_MASTER_KEY}", "${A:-d}", "a", ":-", "\n", '"'),
    maxLength: 12
  }),
  fc.string({ unit: "grapheme", maxLength: 30 })
)

const EVERY_VARIABLE = { A: "env-a", LLMGATE_MASTER_KEY: "the-master-key" }

describe("escapeLiteral", () => {
  it("reads back as itself through interpolation, in a secret field with every variable allowed too", () => {
    fc.assert(
      fc.property(tricky, (s) => {
        const issues: Array<ConfigIssue> = []
        const escaped = escapeLiteral(s)
        expect(hasReference(escaped)).toBe(false)
        expect(literalValue(escaped)).toBe(s)
        expect(interpolate(escaped, EVERY_VARIABLE, issues, undefined, new Set(["A"]), ["models", 0, "name"])).toBe(s)
        expect(interpolate(escaped, EVERY_VARIABLE, issues, undefined, new Set(["A"]), ["master_key"])).toBe(s)
        expect(issues).toEqual([])
      })
    )
  })

  it("reads back as itself through the YAML file (shielding, parsing, interpolation)", () => {
    fc.assert(
      fc.property(tricky, tricky, (a, b) => {
        const text = `env: [A]\nmaster_key: ${JSON.stringify(escapeLiteral(a))}\nmodels:\n  - name: ${JSON.stringify(escapeLiteral(b))}\n`
        const doc = parseConfigDocument(text, EVERY_VARIABLE, "t")
        expect(Result.isSuccess(doc) && doc.success).toMatchObject({ master_key: a, models: [{ name: b }] })
      })
    )
  })
})

describe("isSecretPath", () => {
  it("names the secret fields only", () => {
    const secret: ReadonlyArray<ReadonlyArray<PropertyKey>> = [
      ["master_key"],
      ["store", "postgres", "url"],
      ["limits", "redis", "url"],
      ["providers", 0, "api_key"],
      ["providers", 2, "auth", "token"],
      ["providers", 0, "auth", "password"],
      ["providers", 0, "auth", "value"],
      ["providers", 1, "headers", "X-Key"],
      ["providers", 1, "headers", 0, "value"]
    ]
    const plain: ReadonlyArray<ReadonlyArray<PropertyKey>> = [
      ["server", "host"],
      ["providers", 0, "base_url"],
      ["providers", 0, "auth", "username"],
      ["providers", 0, "auth", "name"],
      ["providers", 1, "headers", 0, "key"],
      ["models", 0, "name"],
      ["keys", 0, "hash"],
      ["projects", 0, "metadata", "api_key"],
      ["env", 0],
      ["store", "postgres", "reload_interval"],
      ["limits", "redis", "on_error"],
      ["api_key"]
    ]
    for (const p of secret) expect(isSecretPath(p), String(p)).toBe(true)
    for (const p of plain) expect(isSecretPath(p), String(p)).toBe(false)
  })
})
