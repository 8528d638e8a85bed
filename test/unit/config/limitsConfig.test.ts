// Rate limits in config: the new fields, a key's limits merged over its project's field by field,
// burst's default and its need for requests_per_second, and server.ip_rate_limit with its CIDRs.
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import { describe, expect, expectTypeOf, it } from "vitest"
import { hashKey } from "../../../src/auth/KeyMaterial.ts"
import type { LimitsSection } from "../../../src/config/Config.ts"
import type { components } from "../../../src/generated/openapi.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"

const BASE = `providers: [{ name: m, kind: mock }]
models: [{ name: chat, targets: [{ provider: m }] }]
`
const key = (id: string, extra: string) =>
  `  - { id: ${id}, name: ${id}, prefix: sk-lg-${id}, hash: "${hashKey(id)}", project_id: p1${extra} }`

const parse = (text: string) => parseConfig(BASE + text, {}, "test.yaml")
const ok = (text: string) => {
  const r = parse(text)
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}
const errors = (text: string) => {
  const r = parse(text)
  if (Result.isSuccess(r)) throw new Error("expected the config to be rejected")
  return r.failure.message.split("\n")
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

describe("limits on keys and projects", () => {
  it("the config's LimitsSection and the spec's AdminLimits are the same type (compile-time)", () => {
    expectTypeOf<Mutable<typeof LimitsSection.Type>>().toEqualTypeOf<components["schemas"]["AdminLimits"]>()
  })

  it("merges a key's own limits over its project's, field by field; burst defaults to ceil(rps)", () => {
    const c =
      ok(`projects: [{ id: p1, name: P, limits: { requests_per_minute: 60, requests_per_second: 2.5, max_parallel: 4, tokens_per_minute: 1000 } }]
keys:
${key("k1", ", limits: { requests_per_minute: 5, burst: 10 }")}
${key("k2", "")}
`)
    expect(c.tenancy.keys.get("k1")!.limits).toEqual({
      requestsPerMinute: 5,
      tokensPerMinute: 1000,
      requestsPerSecond: 2.5,
      burst: 10,
      maxParallel: 4
    })
    expect(c.tenancy.keys.get("k2")!.limits).toEqual({
      requestsPerMinute: 60,
      tokensPerMinute: 1000,
      requestsPerSecond: 2.5,
      burst: 3,
      maxParallel: 4
    })
    expect(c.tenancy.projects.get("p1")!.limits).toMatchObject({ requestsPerSecond: 2.5, burst: 3 })
  })

  it("rejects bad values and a burst without requests_per_second, naming the field", () => {
    const lines = errors(`projects: [{ id: p1, name: P, limits: { burst: 3 } }]
keys:
${key("k1", ", limits: { requests_per_second: 0, max_parallel: 1.5 }")}
`)
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^keys\[0\]\.limits\.requests_per_second: expected a value greater than 0/),
        expect.stringMatching(/^keys\[0\]\.limits\.max_parallel: expected an integer/)
      ])
    )
    expect(errors(`projects: [{ id: p1, name: P, limits: { burst: 3 } }]`)).toEqual(
      expect.arrayContaining([
        "projects[0].limits.burst: only meaningful with requests_per_second (the bucket's refill rate)"
      ])
    )
    expect(
      errors(`projects: [{ id: p1, name: P }]
keys:
${key("k1", ", limits: { burst: 2 }")}
`)
    ).toEqual(
      expect.arrayContaining([
        "keys[0].limits.burst: only meaningful with requests_per_second (the bucket's refill rate)"
      ])
    )
  })
})

describe("server.ip_rate_limit", () => {
  it("resolves rps, burst (default ceil(rps)) and the trusted proxies", () => {
    const c = ok(`server: { ip_rate_limit: { rps: 1.5, trusted_proxies: ["10.0.0.0/8", "::1", "fd00::/8"] } }\n`)
    const ip = c.server.ipRateLimit!
    expect([ip.rps, ip.burst]).toEqual([1.5, 2])
    expect([ip.trusted("10.1.1.1"), ip.trusted("::1"), ip.trusted("fd00::5"), ip.trusted("11.0.0.1")]).toEqual([
      true,
      true,
      true,
      false
    ])
    expect(ok("").server.ipRateLimit).toBeUndefined()
  })

  it("rejects a bad CIDR or rate, naming the field", () => {
    expect(
      errors(
        `server: { ip_rate_limit: { rps: 0, burst: 0, trusted_proxies: ["10.0.0.0/8", "10.0.0.0/40", "proxy.local"] } }\n`
      )
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^server\.ip_rate_limit\.rps: expected a value greater than 0/),
        expect.stringMatching(/^server\.ip_rate_limit\.burst: expected a value greater than or equal to 1/)
      ])
    )
    expect(
      errors(`server: { ip_rate_limit: { rps: 1, trusted_proxies: ["10.0.0.0/8", "10.0.0.0/40", "proxy.local"] } }\n`)
    ).toEqual(
      expect.arrayContaining([
        'server.ip_rate_limit.trusted_proxies[1]: expected a prefix length from 0 to 32 in "10.0.0.0/40"',
        'server.ip_rate_limit.trusted_proxies[2]: expected an IPv4 or IPv6 address or CIDR range, got "proxy.local"'
      ])
    )
  })
})

describe("limits.redis", () => {
  it("resolves url, on_error (default fail_open) and key_prefix (default llmgate:); the url may be left to REDIS_URL", () => {
    expect(ok("").limits.redis).toBeUndefined()
    const r = ok("limits: { redis: { url: redis://127.0.0.1:6379, on_error: fail_closed, key_prefix: 'a:' } }").limits
      .redis
    expect(r?.url === undefined ? undefined : Redacted.value(r.url)).toBe("redis://127.0.0.1:6379")
    expect(r?.onError).toBe("fail_closed")
    expect(r?.keyPrefix).toBe("a:")
    const d = ok("limits: { redis: {} }").limits.redis
    expect(d).toEqual({ url: undefined, onError: "fail_open", keyPrefix: "llmgate:" })
  })

  it("rejects an unknown on_error and unknown fields", () => {
    expect(errors("limits: { redis: { on_error: maybe } }").join("\n")).toContain("limits.redis.on_error")
    expect(errors("limits: { redis: { host: x } }").join("\n")).toContain("limits.redis.host")
  })

  it("reads the url from ${VAR} like every secret field", () => {
    const r = parseConfig(
      `${BASE}limits: { redis: { url: "\${LLMGATE_REDIS}" } }`,
      { LLMGATE_REDIS: "redis://h:1" },
      "test.yaml"
    )
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    const url = r.success.limits.redis?.url
    expect(url === undefined ? undefined : Redacted.value(url)).toBe("redis://h:1")
  })
})

describe("limits.default_max_tokens and models[].default_max_tokens", () => {
  it("1024 unless configured; a model's own wins over the top-level one", () => {
    expect(ok("").limits.defaultMaxTokens).toBe(1024)
    expect(ok("").models.get("chat")!.defaultMaxTokens).toBe(1024)
    const c = parseConfig(
      `providers: [{ name: m, kind: mock }]
models:
  - { name: chat, targets: [{ provider: m }] }
  - { name: long, targets: [{ provider: m }], default_max_tokens: 8192 }
  - { name: terse, targets: [{ provider: m }], default_max_tokens: 0 }
limits: { default_max_tokens: 256 }
`,
      {},
      "test.yaml"
    )
    if (Result.isFailure(c)) throw new Error(c.failure.message)
    expect(c.success.limits.defaultMaxTokens).toBe(256)
    expect([...c.success.models.values()].map((m) => [m.name, m.defaultMaxTokens])).toEqual([
      ["chat", 256],
      ["long", 8192],
      ["terse", 0]
    ])
  })

  it("rejects a negative, fractional or absurd value, naming the field", () => {
    const message = "expected a whole number of tokens from 0 to 10000000"
    expect(errors("limits: { default_max_tokens: -1 }")).toEqual(
      expect.arrayContaining([expect.stringMatching(/^limits\.default_max_tokens: /)])
    )
    expect(errors("limits: { default_max_tokens: 20000000 }")).toContain(`limits.default_max_tokens: ${message}`)
    expect(errors("limits: { default_max_tokens: 1.5 }").join("\n")).toMatch(/^limits\.default_max_tokens: /m)
    const r = parseConfig(
      "providers: [{ name: m, kind: mock }]\nmodels: [{ name: chat, targets: [{ provider: m }], default_max_tokens: 1e9 }]\n",
      {},
      "test.yaml"
    )
    if (Result.isSuccess(r)) throw new Error("expected the config to be rejected")
    expect(r.failure.message).toContain(`models[0].default_max_tokens: ${message}`)
  })
})
