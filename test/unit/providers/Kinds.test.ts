import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { effectiveConfig } from "../../../src/admin/EffectiveConfig.ts"
import { ProviderSection } from "../../../src/config/Config.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { KIND_NAMES, KINDS } from "../../../src/providers/Kinds.ts"

const parsed = (text: string) => parseConfig(text, {}, "test.yaml")

describe("provider kinds", () => {
  it("every kind has its rules, and each field of a kind is a provider entry field no other kind owns", () => {
    const owners = new Map<string, string>()
    for (const name of KIND_NAMES) {
      expect(KINDS[name].kind).toBe(name)
      for (const field of KINDS[name].fields) {
        expect(owners.get(field), `${field} owned twice`).toBeUndefined()
        owners.set(field, name)
        expect(Object.keys(ProviderSection.fields)).toContain(field)
      }
    }
    expect([...owners]).toEqual([
      ["api_version", "azure"],
      ["anthropic_version", "anthropic"],
      ["mock", "mock"]
    ])
  })

  it("names each kind as the GenAI conventions do", () => {
    expect(KIND_NAMES.map((name) => KINDS[name].genAiName)).toEqual([
      "openai",
      "azure.ai.openai",
      "anthropic",
      "llmgate.mock"
    ])
  })

  it("refuses a kind's fields on another kind and connection settings on a kind that connects nowhere", () => {
    const r = parsed(`providers:
  - { name: a, kind: openai, base_url: "http://x/v1", mock: { latency: 5ms } }
  - { name: m, kind: mock, base_url: "http://x", api_version: "1", proxy: none, keep_alive: false }
models: [{ name: m, targets: [{ provider: a }] }]`)
    expect(Result.isFailure(r)).toBe(true)
    if (Result.isSuccess(r)) return
    expect(r.failure.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'providers[0].mock: only allowed for kind "mock"',
      'providers[1].base_url: not used by kind "mock"',
      'providers[1].api_version: only allowed for kind "azure"',
      'providers[1].proxy: not used by kind "mock"',
      'providers[1].keep_alive: not used by kind "mock"'
    ])
  })

  it("resolves and shows each kind's own settings, and only its own", () => {
    const r = parsed(`providers:
  - { name: o, kind: openai, base_url: "http://x/v1" }
  - { name: az, kind: azure, base_url: "https://r.openai.azure.com", api_version: "2024-10-21" }
  - { name: c, kind: anthropic }
  - { name: m, kind: mock, mock: { latency: 5ms, chunks: 2 } }
models: [{ name: m, targets: [{ provider: o }] }]`)
    expect(Result.isSuccess(r)).toBe(true)
    if (Result.isFailure(r)) return
    const config = r.success
    expect(config.providers.get("m")?.mock).toEqual({
      latencyMs: 5,
      chunks: 2,
      chunkIntervalMs: 20,
      failureRate: 0,
      crashRate: 0
    })
    expect(config.providers.get("o")?.mock).toBeUndefined()
    const shown = new Map(
      effectiveConfig(config, "file").providers.map((p) => [
        p.name,
        Object.keys(p).filter((k) => ["api_version", "anthropic_version", "mock", "proxy"].includes(k))
      ])
    )
    expect(Object.fromEntries(shown)).toEqual({
      o: ["proxy"],
      az: ["api_version", "proxy"],
      c: ["anthropic_version", "proxy"],
      m: ["mock"]
    })
  })
})
