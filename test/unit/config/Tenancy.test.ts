// Projects, users and virtual keys in the config file: the schema, every cross-check message (with
// its path), and the resolved form the authenticator reads (keys by hash, matchers, roles, limits).
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { hashKey } from "../../../src/auth/KeyMaterial.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { compileModelMatcher } from "../../../src/config/Tenancy.ts"
import { timestampMillis } from "../../../src/domain/units.ts"

const H1 = hashKey("sk-lg-one")
const H2 = hashKey("sk-lg-two")
const H3 = hashKey("sk-lg-three")

const BASE = `providers: [{ name: m, kind: mock }]
models:
  - { name: gpt-4o, targets: [{ provider: m }] }
  - { name: gpt-4o-mini, targets: [{ provider: m }] }
  - { name: "claude-*", targets: [{ provider: m }] }
`

const TENANCY = `projects:
  - { id: p1, name: Acme, limits: { requests_per_minute: 60, tokens_per_minute: 10000 }, metadata: { team: core } }
  - { id: p2, name: Beta, created_at: "2026-01-01T00:00:00Z" }
users:
  - { id: u1, name: Ann, email: ann@example.com, role: admin, projects: [p1, p2] }
  - { id: u2, name: Bob, role: member, projects: [p2] }
keys:
  - id: k1
    name: ci
    prefix: sk-lg-one
    hash: "${H1}"
    project_id: p1
    user_id: u1
    models: [gpt-4o-mini, "claude-*", "/^o[0-9]$/"]
    limits: { tokens_per_minute: 500 }
    budget: { amount_usd: 25.5, period: monthly }
    expires_at: "2027-01-01T00:00:00Z"
    previous_hash: "${H3}"
    previous_expires_at: "2026-12-01T12:00:00+01:00"
  - { id: k2, name: ci, prefix: sk-lg-two, hash: "${H2}", project_id: p2, enabled: false, expires_at: null }
`

const errorsOf = (text: string): ReadonlyArray<string> => {
  const r = parseConfig(text, {}, "test.yaml")
  if (Result.isSuccess(r)) throw new Error("expected the config to be rejected")
  return r.failure.message.split("\n")
}
const ok = (text: string) => {
  const r = parseConfig(text, {}, "test.yaml")
  if (Result.isFailure(r)) throw new Error(`expected a valid config, got:\n${r.failure.message}`)
  return r.success
}

describe("tenancy config", () => {
  it("a config without projects, users or keys stays valid, with empty tenancy", () => {
    const c = ok(BASE)
    expect(c.tenancy.projects.size).toBe(0)
    expect(c.tenancy.users.size).toBe(0)
    expect(c.tenancy.keys.size).toBe(0)
    expect(c.tenancy.keysByHash.size).toBe(0)
  })

  it("resolves projects, users and keys", () => {
    const c = ok(BASE + TENANCY)
    expect(c.tenancy.projects.get("p1")).toEqual({
      id: "p1",
      name: "Acme",
      limits: { requestsPerMinute: 60, tokensPerMinute: 10000 },
      metadata: { team: "core" },
      createdAt: undefined
    })
    expect(c.tenancy.projects.get("p2")?.createdAt).toBe("2026-01-01T00:00:00Z")
    expect(c.tenancy.users.get("u1")).toMatchObject({ role: "admin", email: "ann@example.com", projects: ["p1", "p2"] })
    const k1 = c.tenancy.keys.get("k1")!
    expect(k1).toMatchObject({
      id: "k1",
      name: "ci",
      prefix: "sk-lg-one",
      hash: H1,
      projectId: "p1",
      userId: "u1",
      role: "admin",
      enabled: true,
      expiresAt: "2027-01-01T00:00:00Z",
      expiresAtMs: Date.UTC(2027, 0, 1),
      // tokens from the key, requests from the project's default
      limits: { requestsPerMinute: 60, tokensPerMinute: 500 },
      budget: { amountUsd: 25.5, period: "monthly" },
      previousHash: H3,
      previousExpiresAtMs: Date.UTC(2026, 11, 1, 11)
    })
    const k2 = c.tenancy.keys.get("k2")!
    expect(k2).toMatchObject({
      enabled: false,
      expiresAt: null,
      expiresAtMs: Infinity,
      userId: undefined,
      role: undefined,
      models: undefined
    })
    expect(k2.limits).toEqual({ requestsPerMinute: undefined, tokensPerMinute: undefined })
    // both hashes of the rotated key, and the other key's
    expect([...c.tenancy.keysByHash.keys()].sort()).toEqual([H1, H2, H3].sort())
    expect(c.tenancy.keysByHash.get(H3)).toBe(k1)
  })

  it("compiles each key's allowed models: exact names, globs and /regex/", () => {
    const k1 = ok(BASE + TENANCY).tenancy.keys.get("k1")!
    expect(["gpt-4o-mini", "claude-3-opus", "claude-", "o1", "o9"].filter(k1.allows)).toHaveLength(5)
    expect(["gpt-4o", "gpt-4o-mini-2", "o10", "xclaude-3", ""].filter(k1.allows)).toEqual([])
    const k2 = ok(BASE + TENANCY).tenancy.keys.get("k2")!
    expect(k2.allows("anything")).toBe(true)
  })

  it("models: absent allows every model, [] allows none", () => {
    expect(compileModelMatcher(undefined)("x")).toBe(true)
    expect(compileModelMatcher([])("x")).toBe(false)
    expect(compileModelMatcher(["gpt-4?"])("gpt-4o")).toBe(true)
    expect(compileModelMatcher(["gpt-4?"])("gpt-4oo")).toBe(false)
    expect(compileModelMatcher(["/GPT/i"])("my-gpt-x")).toBe(true)
    // dots in globs are literal
    expect(compileModelMatcher(["gpt-4.1*"])("gpt-4x1")).toBe(false)
  })

  it("a previous hash never outlives the key", () => {
    const c = ok(
      BASE + TENANCY.replace(`previous_expires_at: "2026-12-01T12:00:00+01:00"`, `previous_expires_at: "2030-01-01"`)
    )
    expect(c.tenancy.keys.get("k1")?.previousExpiresAtMs).toBe(Date.UTC(2027, 0, 1))
  })

  describe("rejects, naming the field", () => {
    const key = (fields: string) =>
      `  - { id: kx, name: x, prefix: sk-lg-x, hash: "${hashKey("x")}", project_id: p1, ${fields} }\n`

    it("duplicate ids and names", () => {
      const text =
        BASE +
        TENANCY.replace("users:", `  - { id: p1, name: Acme }\nusers:`).replace(
          "keys:",
          `  - { id: u2, name: Cy, email: ANN@example.com, role: member, projects: [] }\nkeys:`
        ) +
        `  - { id: k1, name: ci, prefix: sk-lg-x, hash: "${hashKey("x")}", project_id: p1 }\n`
      expect(errorsOf(text)).toEqual([
        `projects[2].id: duplicate project id "p1"`,
        `projects[2].name: duplicate project name "Acme"`,
        `users[2].id: duplicate user id "u2"`,
        `users[2].email: duplicate user email "ANN@example.com"`,
        `keys[2].id: duplicate key id "k1"`,
        `keys[2].name: duplicate key name "ci" in project "p1"`
      ])
    })

    it("unknown project and user references", () => {
      const text =
        BASE +
        TENANCY.replace("projects: [p1, p2]", "projects: [p1, p9, p1]") +
        key(`project_id: nope, user_id: ghost`).replace("project_id: p1, ", "")
      expect(errorsOf(text)).toEqual([
        `users[0].projects[1]: unknown project "p9"`,
        `users[0].projects[2]: project "p1" is listed twice`,
        `keys[2].project_id: unknown project "nope"`,
        `keys[2].user_id: unknown user "ghost"`
      ])
    })

    it("a key's user who is not a member of the key's project", () => {
      expect(errorsOf(BASE + TENANCY + key("user_id: u2"))).toEqual([
        `keys[2].user_id: user "u2" is not a member of project "p1"`
      ])
    })

    it("a bad hash", () => {
      expect(errorsOf(BASE + TENANCY + key("").replace(/hash: "[0-9a-f]+"/, `hash: "${H1.toUpperCase()}"`))).toEqual([
        "keys[2].hash: expected 64 lowercase hex characters (the SHA-256 of the key)"
      ])
      expect(errorsOf(BASE + TENANCY + key("").replace(/hash: "[0-9a-f]+"/, `hash: "abc"`))).toEqual([
        "keys[2].hash: expected 64 lowercase hex characters (the SHA-256 of the key)"
      ])
      expect(errorsOf(BASE + TENANCY + key(`previous_hash: "sk-lg-plain", previous_expires_at: "2026-01-01"`))).toEqual(
        ["keys[2].previous_hash: expected 64 lowercase hex characters (the SHA-256 of the key)"]
      )
    })

    it("duplicate hashes, also between a hash and a previous hash", () => {
      expect(errorsOf(BASE + TENANCY + key("").replace(/hash: "[0-9a-f]+"/, `hash: "${H2}"`))).toEqual([
        "keys[2].hash: the same hash as keys[1].hash (every key needs its own)"
      ])
      expect(errorsOf(BASE + TENANCY + key("").replace(/hash: "[0-9a-f]+"/, `hash: "${H3}"`))).toEqual([
        "keys[2].hash: the same hash as keys[0].previous_hash (every key needs its own)"
      ])
      const x = hashKey("x")
      expect(errorsOf(BASE + TENANCY + key(`previous_hash: "${x}", previous_expires_at: "2026-01-01"`))).toEqual([
        "keys[2].previous_hash: the same as the key's hash (a rotation needs a new key)"
      ])
    })

    it("previous_hash and previous_expires_at come together", () => {
      expect(errorsOf(BASE + TENANCY + key(`previous_hash: "${hashKey("y")}"`))).toEqual([
        "keys[2].previous_expires_at: required with previous_hash: when the old key stops working"
      ])
      expect(errorsOf(BASE + TENANCY + key(`previous_expires_at: "2026-01-01"`))).toEqual([
        "keys[2].previous_expires_at: only allowed with previous_hash"
      ])
    })

    it("bad dates", () => {
      const message = `expected an ISO 8601 date ("2026-12-31") or date-time with a time zone ("2026-12-31T23:59:59Z")`
      for (const bad of [
        "2026-02-30",
        "2026-13-01",
        "tomorrow",
        "2026-12-31T23:59:59",
        "2026-12-31T24:00:00Z",
        "1735689600"
      ]) {
        expect(errorsOf(BASE + TENANCY + key(`expires_at: "${bad}"`)), bad).toEqual([`keys[2].expires_at: ${message}`])
      }
      expect(errorsOf(BASE + TENANCY + key(`created_at: "soon"`))).toEqual([`keys[2].created_at: ${message}`])
      expect(
        errorsOf(BASE + TENANCY.replace('created_at: "2026-01-01T00:00:00Z"', 'created_at: "2026-01-01T00:00"'))
      ).toEqual([`projects[1].created_at: ${message}`])
    })

    it("invalid model patterns", () => {
      expect(errorsOf(BASE + TENANCY + key(`models: [gpt-4o, "/(/", ""]`))).toEqual([
        "keys[2].models[2]: expected a value with a length of at least 1"
      ])
      const lines = errorsOf(BASE + TENANCY + key(`models: [gpt-4o, "/(/"]`))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^keys\[2\]\.models\[1\]: invalid regular expression: /)
    })

    it("key model patterns RE2 cannot run (backreferences, lookaround), and over-long ones", () => {
      expect(errorsOf(BASE + TENANCY + key(`models: [gpt-4o, "/(a)\\\\1/", "/gpt(?=-4)/"]`))).toEqual([
        "keys[2].models[1]: invalid regular expression: invalid escape sequence: `\\1` (RE2 syntax: no backreferences or lookaround)",
        "keys[2].models[2]: invalid regular expression: invalid or unsupported Perl syntax: `(?=` (RE2 syntax: no backreferences or lookaround)"
      ])
      expect(errorsOf(BASE + TENANCY + key(`models: ["/${"a".repeat(511)}/"]`))).toEqual([
        "keys[2].models[0]: expected at most 512 characters"
      ])
      // A key's regex runs in linear time: `(a+)+$` would backtrack for ages on RegExp.
      const c = ok(BASE + TENANCY + key(`models: ["/^(a+)+$/"]`))
      expect(c.tenancy.keys.get("kx")?.allows(`${"a".repeat(50)}!`)).toBe(false)
      expect(c.tenancy.keys.get("kx")?.allows("aaa")).toBe(true)
    })

    it("bad limits, budgets, roles, emails, prefixes and unknown fields", () => {
      const text =
        BASE +
        TENANCY.replace("role: member", "role: owner").replace("email: ann@example.com", "email: ann") +
        key(
          `limits: { requests_per_minute: 0, tokens_per_minute: 1.5 }, budget: { amount_usd: 0, period: yearly }, secret: 1`
        ).replace("prefix: sk-lg-x", `prefix: "sk lg"`)
      expect(errorsOf(text)).toEqual(
        expect.arrayContaining([
          "users[0].email: expected an email address",
          `users[1].role: expected "admin" | "member"`,
          "keys[2].prefix: expected the key's visible start: 1 to 32 characters without spaces",
          "keys[2].limits.requests_per_minute: expected a value greater than or equal to 1",
          expect.stringMatching(/^keys\[2\]\.limits\.tokens_per_minute: expected an integer/),
          "keys[2].budget.amount_usd: expected a value greater than 0",
          `keys[2].budget.period: expected "daily" | "weekly" | "monthly" | "total"`,
          "keys[2].secret: unknown field"
        ])
      )
    })

    it("schema and reference problems together", () => {
      expect(
        errorsOf(BASE + TENANCY + key(`project_id: nope, enabled: maybe`).replace("project_id: p1, ", ""))
      ).toEqual(["keys[2].enabled: expected boolean", `keys[2].project_id: unknown project "nope"`])
    })
  })
})

describe("timestampMillis", () => {
  it("reads dates and date-times with a zone", () => {
    expect(timestampMillis("2026-12-31")).toBe(Date.UTC(2026, 11, 31))
    expect(timestampMillis("2026-12-31T23:59:59Z")).toBe(Date.UTC(2026, 11, 31, 23, 59, 59))
    expect(timestampMillis("2026-12-31T23:59:59.250Z")).toBe(Date.UTC(2026, 11, 31, 23, 59, 59, 250))
    expect(timestampMillis("2026-12-31T10:00+02:00")).toBe(Date.UTC(2026, 11, 31, 8))
    expect(timestampMillis("2024-02-29")).toBe(Date.UTC(2024, 1, 29))
    // years below 100 are not shifted to 19xx
    expect(timestampMillis("0099-01-01")).toBe(new Date("0099-01-01T00:00:00Z").getTime())
  })
  it("refuses impossible or ambiguous ones", () => {
    for (const bad of [
      "2025-02-29",
      "2026-04-31",
      "2026-00-10",
      "2026-12-31T12:00",
      "2026-12-31T12:60Z",
      "2026-12-31T12:00+24:00",
      "31/12/2026"
    ]) {
      expect(timestampMillis(bad), bad).toBeUndefined()
    }
  })
})
