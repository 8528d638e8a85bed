// The proxy's authenticator: the master key, virtual keys by hash (enabled, expiry, a rotated key's
// grace period), the allowed-model checks, and 401 messages that never echo the key.
import { Redacted, Result } from "effect"
import { describe, expect, it } from "vitest"
import {
  bearerToken,
  constantTimeEqual,
  makeAuthenticator,
  MASTER,
  mayList,
  mayUse,
  type Principal
} from "../../../src/auth/Auth.ts"
import { generateKey } from "../../../src/auth/KeyMaterial.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { GatewayError } from "../../../src/domain/GatewayError.ts"

const MASTER_KEY = "sk-master-unit-0123456789"
const valid = generateKey()
const disabled = generateKey()
const expired = generateKey()
const rotatedNew = generateKey()
const rotatedOld = generateKey()
const none = generateKey()

const T0 = Date.UTC(2026, 5, 1) // "now" in these tests
const EXPIRES = "2026-07-01T00:00:00Z"
const GRACE_END = "2026-06-02T00:00:00Z"

const config = `providers: [{ name: m, kind: mock }]
models:
  - { name: gpt-4o, targets: [{ provider: m }] }
  - { name: gpt-4o-mini, targets: [{ provider: m }] }
  - { name: "claude-*", targets: [{ provider: m }] }
projects: [{ id: p1, name: Acme }]
users: [{ id: u1, name: Ann, role: member, projects: [p1] }]
keys:
  - { id: k-valid, name: valid, prefix: "${valid.prefix}", hash: "${valid.hash}", project_id: p1, user_id: u1, models: [gpt-4o-mini, "claude-*"], expires_at: "${EXPIRES}" }
  - { id: k-disabled, name: disabled, prefix: "${disabled.prefix}", hash: "${disabled.hash}", project_id: p1, enabled: false }
  - { id: k-expired, name: expired, prefix: "${expired.prefix}", hash: "${expired.hash}", project_id: p1, expires_at: "2026-05-31T23:59:59Z" }
  - id: k-rotated
    name: rotated
    prefix: "${rotatedNew.prefix}"
    hash: "${rotatedNew.hash}"
    project_id: p1
    previous_hash: "${rotatedOld.hash}"
    previous_expires_at: "${GRACE_END}"
  - { id: k-none, name: none, prefix: "${none.prefix}", hash: "${none.hash}", project_id: p1, models: [] }
`

const resolved = (() => {
  const r = parseConfig(config, {}, "test.yaml")
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
})()

const authAt = (now: number) => makeAuthenticator(Redacted.make(MASTER_KEY), resolved.tenancy, () => now)
const auth = authAt(T0)

const principal = (result: Principal | GatewayError): Principal => {
  if (result instanceof GatewayError) throw new Error(`expected a principal, got ${result.message}`)
  return result
}
const rejection = (result: Principal | GatewayError) => {
  expect(result).toBeInstanceOf(GatewayError)
  const error = result as GatewayError
  expect(error.reason._tag).toBe("Unauthorized")
  return error.message
}
const keyId = (result: Principal | GatewayError) => {
  const p = principal(result)
  return p._tag === "VirtualKey" ? p.key.id : "master"
}

describe("makeAuthenticator", () => {
  it("the master key is the Master principal", () => {
    expect(principal(auth(`Bearer ${MASTER_KEY}`))).toBe(MASTER)
    expect(principal(auth(`bearer   ${MASTER_KEY}  `))).toBe(MASTER)
  })

  it("works without tenancy (master only)", () => {
    const bare = makeAuthenticator(Redacted.make(MASTER_KEY))
    expect(principal(bare(`Bearer ${MASTER_KEY}`))).toBe(MASTER)
    expect(rejection(bare(`Bearer ${valid.key}`))).toBe("Incorrect API key provided.")
  })

  it("a valid virtual key is its key's principal, the same object on every request", () => {
    const a = principal(auth(`Bearer ${valid.key}`))
    expect(a).toMatchObject({
      _tag: "VirtualKey",
      key: { id: "k-valid", projectId: "p1", userId: "u1", role: "member" }
    })
    expect(auth(`Bearer ${valid.key}`)).toBe(a)
  })

  it("missing, malformed and unknown keys → 401", () => {
    expect(rejection(auth(undefined))).toMatch(/didn't provide an API key/)
    expect(rejection(auth(`Basic ${btoa(`u:${valid.key}`)}`))).toMatch(/didn't provide an API key/)
    expect(rejection(auth(`Bearer ${generateKey().key}`))).toBe("Incorrect API key provided.")
    expect(rejection(auth(`Bearer ${valid.key}x`))).toBe("Incorrect API key provided.")
    expect(rejection(auth(`Bearer ${valid.hash}`))).toBe("Incorrect API key provided.")
    expect(rejection(auth(`Bearer ${MASTER_KEY.slice(0, -1)}`))).toBe("Incorrect API key provided.")
  })

  it("a disabled key → 401", () => {
    expect(rejection(auth(`Bearer ${disabled.key}`))).toBe("This API key has been disabled.")
  })

  it("an expired key → 401; a key works until the instant it expires", () => {
    expect(rejection(auth(`Bearer ${expired.key}`))).toBe("This API key has expired.")
    const expiry = Date.parse(EXPIRES)
    expect(keyId(authAt(expiry - 1)(`Bearer ${valid.key}`))).toBe("k-valid")
    expect(rejection(authAt(expiry)(`Bearer ${valid.key}`))).toBe("This API key has expired.")
  })

  it("a rotated key: the old key works until the grace period ends, the new one after it", () => {
    const graceEnd = Date.parse(GRACE_END)
    expect(keyId(auth(`Bearer ${rotatedOld.key}`))).toBe("k-rotated")
    expect(keyId(authAt(graceEnd - 1)(`Bearer ${rotatedOld.key}`))).toBe("k-rotated")
    expect(rejection(authAt(graceEnd)(`Bearer ${rotatedOld.key}`))).toMatch(/rotated and its grace period has ended/)
    expect(keyId(authAt(graceEnd + 86_400_000)(`Bearer ${rotatedNew.key}`))).toBe("k-rotated")
  })

  it("no 401 message echoes the presented key, its prefix or its hash", () => {
    const keys = [valid, disabled, expired, rotatedOld, generateKey()]
    const messages = keys
      .map((k) => authAt(Date.parse("2030-01-01"))(`Bearer ${k.key}`))
      .map((r) => (r instanceof GatewayError ? JSON.stringify(r.reason) + r.message : "accepted"))
    for (const [i, k] of keys.entries()) {
      expect(messages[i]).not.toContain(k.key)
      expect(messages[i]).not.toContain(k.prefix)
      expect(messages[i]).not.toContain(k.hash)
    }
  })
})

describe("mayUse and mayList", () => {
  const key = (k: { key: string }) => principal(auth(`Bearer ${k.key}`))

  it("the master key may use and list everything", () => {
    expect(mayUse(MASTER, "anything")).toBe(true)
    expect(mayList(MASTER, "claude-*", false)).toBe(true)
  })

  it("a key may use exactly its allowed names and patterns", () => {
    const k = key(valid)
    expect(mayUse(k, "gpt-4o-mini")).toBe(true)
    expect(mayUse(k, "claude-3-haiku")).toBe(true)
    expect(mayUse(k, "gpt-4o")).toBe(false)
    expect(mayUse(k, "GPT-4O-MINI")).toBe(false)
  })

  it("a key without models may use every model; models: [] none", () => {
    expect(mayUse(key(rotatedNew), "gpt-4o")).toBe(true)
    expect(mayUse(key(none), "gpt-4o")).toBe(false)
    expect(mayList(key(none), "gpt-4o", true)).toBe(false)
  })

  it("lists exact names the key allows, and pattern names only for keys listing that pattern or every model", () => {
    const k = key(valid)
    expect(mayList(k, "gpt-4o-mini", true)).toBe(true)
    expect(mayList(k, "gpt-4o", true)).toBe(false)
    expect(mayList(k, "claude-*", false)).toBe(true)
    expect(mayList(key(rotatedNew), "claude-*", false)).toBe(true)
    const gptOnly = makeAuthenticator(Redacted.make(MASTER_KEY), parseTenancy(`models: ["gpt-*"]`).tenancy)
    expect(mayList(principal(gptOnly(`Bearer ${valid.key}`)), "claude-*", false)).toBe(false)
  })
})

const parseTenancy = (keyFields: string) => {
  const r = parseConfig(
    `providers: [{ name: m, kind: mock }]
models: [{ name: "claude-*", targets: [{ provider: m }] }]
projects: [{ id: p1, name: Acme }]
keys: [{ id: k, name: k, prefix: x, hash: "${valid.hash}", project_id: p1, ${keyFields} }]
`,
    {},
    "t"
  )
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

describe("helpers", () => {
  it("constantTimeEqual and bearerToken", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true)
    expect(constantTimeEqual("abc", "abd")).toBe(false)
    expect(constantTimeEqual("abc", "abcd")).toBe(false)
    expect(bearerToken("Bearer x")).toBe("x")
    expect(bearerToken("Bearer a b")).toBeUndefined()
    expect(bearerToken(undefined)).toBeUndefined()
  })
})
