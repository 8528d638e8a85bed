import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseConfig } from "../../../src/config/loadConfig.ts"

const parse = (extra: string, modelPricing = "") =>
  parseConfig(
    `
providers:
  - { name: up, kind: openai, base_url: "http://127.0.0.1:9/v1" }
models:
  - name: chat
    targets: [{ provider: up, model: gpt-4o-2024-08-06 }]
${modelPricing}
${extra}
`,
    {},
    "test.yaml"
  )

describe("pricing config", () => {
  it("has no prices when the file names none", () => {
    const c = parse("")
    expect(Result.isSuccess(c)).toBe(true)
    if (Result.isFailure(c)) return
    expect(c.success.pricing.size).toBe(0)
    expect(c.success.models.get("chat")?.pricing).toBeUndefined()
  })

  it("resolves models[].pricing and the top-level map, filling the kinds left out", () => {
    const c = parse(
      "pricing:\n  gpt-4o: { input: 2.5, output: 10, cache_read: 1.25 }\n  my-llama: { input: 0, output: 0 }",
      "    pricing: { input: 1, output: 4, cache_write: 1.25, reasoning: 8 }"
    )
    if (Result.isFailure(c)) throw new Error(c.failure.message)
    expect(c.success.models.get("chat")?.pricing).toEqual({
      input: 1,
      cache_read: 1,
      cache_write: 1.25,
      reasoning: 8,
      output: 4
    })
    expect(c.success.pricing.get("gpt-4o")).toEqual({
      input: 2.5,
      cache_read: 1.25,
      cache_write: 2.5,
      reasoning: 10,
      output: 10
    })
    expect(c.success.pricing.get("my-llama")).toEqual({
      input: 0,
      cache_read: 0,
      cache_write: 0,
      reasoning: 0,
      output: 0
    })
  })

  it("rejects a price that is negative, missing a required kind, or has an unknown field", () => {
    for (const bad of [
      "pricing:\n  gpt-4o: { input: -1, output: 10 }",
      "pricing:\n  gpt-4o: { input: 1 }",
      "pricing:\n  gpt-4o: { input: 1, output: 2, cached: 0.5 }",
      "pricing:\n  gpt-4o: { input: 1, output: 1000001 }",
      "pricing:\n  gpt-4o: { input: .nan, output: 1 }"
    ]) {
      const c = parse(bad)
      expect(Result.isFailure(c), bad).toBe(true)
      if (Result.isSuccess(c)) continue
      expect(c.failure.message).toContain("pricing")
    }
  })
})
