// GET /admin/v1/config's body: every secret masked (issue 10: masks show at most the last 4 characters
// of a secret of 20 or more, nothing of shorter ones; header values masked unless the header is known
// to carry no credential; nothing of a Basic credential).
import * as Result from "effect/Result"
import { describe, expect, it } from "vitest"
import { effectiveConfig } from "../../../src/admin/EffectiveConfig.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"

const LONG = "sk-long-secret-0123456789-WXYZ"
const HEADER = "header-secret-0123456789-abcd"

const config = () => {
  const r = parseConfig(
    `master_key: short-master
providers:
  - name: bearer
    kind: openai
    base_url: http://127.0.0.1:1/v1
    api_key: ${LONG}
    headers: { X-Api-Key: ${HEADER}, X-Short: tiny, User-Agent: llmgate-test, Anthropic-Version: "2023-06-01" }
  - name: basic
    kind: openai
    base_url: http://127.0.0.1:1/v1
    auth: { type: basic, username: user, password: a-long-password-0123456789 }
    headers: [{ op: insert, key: Cf-Aig-Authorization, value: ${HEADER} }, { op: remove, key: x-gone }]
  - name: custom
    kind: openai
    base_url: http://127.0.0.1:1/v1
    auth: { type: header, name: x-key, value: short }
models: [{ name: m, targets: [{ provider: bearer }] }]`,
    {},
    "test.yaml"
  )
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

describe("effectiveConfig", () => {
  it("masks the master key, credentials and header values but the known-safe ones", () => {
    const shown = effectiveConfig(config(), "file")
    expect(shown.master_key).toBe("****")
    const [bearer, basic, custom] = shown.providers
    expect(bearer?.auth).toEqual({ header: "authorization", value: "Bearer ****WXYZ" })
    expect(bearer?.headers).toEqual([
      { op: "replace", key: "x-api-key", value: "****abcd" },
      { op: "replace", key: "x-short", value: "****" },
      { op: "replace", key: "user-agent", value: "llmgate-test" },
      { op: "replace", key: "anthropic-version", value: "2023-06-01" }
    ])
    expect(basic?.auth).toEqual({ header: "authorization", value: "Basic ****" })
    expect(basic?.headers).toEqual([
      { op: "insert", key: "cf-aig-authorization", value: "****abcd" },
      { op: "remove", key: "x-gone", value: "" }
    ])
    expect(custom?.auth).toEqual({ header: "x-key", value: "****" })
    const text = JSON.stringify(shown)
    for (const secret of [
      LONG,
      HEADER,
      "short-master",
      "tiny",
      "a-long-password",
      btoa("user:a-long-password-0123456789").slice(0, -4)
    ]) {
      expect(text).not.toContain(secret)
    }
  })

  it("shows the limits, the IP rate limit, prices and usage settings as they apply", () => {
    const r = parseConfig(
      `server:
  ip_rate_limit: { rps: 2.5, trusted_proxies: ["10.0.0.0/8"] }
pricing:
  up-model: { input: 1, output: 2 }
usage: { batch_size: 50 }
providers: [{ name: p, kind: openai, base_url: "http://127.0.0.1:1/v1" }]
models: [{ name: m, targets: [{ provider: p, model: up-model }], pricing: { input: 3, output: 4, cache_read: 0.5 } }]
projects: [{ id: prj, name: P, limits: { requests_per_minute: 10, max_parallel: 3 } }]
keys:
  - { id: k, name: k, prefix: sk-lg-abc, hash: "${"a".repeat(64)}", project_id: prj, limits: { requests_per_second: 2, tokens_per_minute: 100 } }`,
      {},
      "test.yaml"
    )
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    const shown = effectiveConfig(r.success, "file")
    expect(shown.server.ip_rate_limit).toEqual({ rps: 2.5, burst: 3, trusted_proxies: ["10.0.0.0/8"] })
    expect(shown.pricing).toEqual({ "up-model": { input: 1, cache_read: 1, cache_write: 1, reasoning: 2, output: 2 } })
    expect(shown.models[0]?.pricing).toEqual({ input: 3, cache_read: 0.5, cache_write: 3, reasoning: 4, output: 4 })
    expect(shown.usage).toMatchObject({ enabled: true, batch_size: 50 })
    expect(shown.projects[0]?.limits).toEqual({
      requests_per_minute: 10,
      tokens_per_minute: null,
      requests_per_second: null,
      burst: null,
      max_parallel: 3
    })
    // The key's own fields over its project's, field by field.
    expect(shown.keys[0]?.limits).toEqual({
      requests_per_minute: 10,
      tokens_per_minute: 100,
      requests_per_second: 2,
      burst: 2,
      max_parallel: 3
    })
  })

  it("shows the default completion reservation: the top-level one and each model's as it applies", () => {
    const r = parseConfig(
      `providers: [{ name: p, kind: mock }]
models:
  - { name: a, targets: [{ provider: p }] }
  - { name: b, targets: [{ provider: p }], default_max_tokens: 4096 }
limits: { default_max_tokens: 300 }`,
      {},
      "test.yaml"
    )
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    const shown = effectiveConfig(r.success, "file")
    expect(shown.limits).toEqual({ default_max_tokens: 300, redis: null })
    expect(shown.models.map((m) => [m.name, m.default_max_tokens])).toEqual([
      ["a", 300],
      ["b", 4096]
    ])
    expect(effectiveConfig(config(), "file").limits.default_max_tokens).toBe(1024)
  })
})
