import { Redacted, Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseConfig } from "../../../src/config/loadConfig.ts"

const errorsOf = (text: string, env: Record<string, string> = {}): ReadonlyArray<string> => {
  const r = parseConfig(text, env, "test.yaml")
  if (Result.isSuccess(r)) throw new Error("expected the config to be rejected")
  return r.failure.message.split("\n")
}

const okConfig = (text: string, env: Record<string, string> = {}) => {
  const r = parseConfig(text, env, "test.yaml")
  if (Result.isFailure(r)) throw new Error(`expected a valid config, got:\n${r.failure.message}`)
  return r.success
}

const MINIMAL = `
env: [UPSTREAM_KEY]
server: { host: 127.0.0.1, port: 4000 }
master_key: \${LLMGATE_MASTER_KEY}
providers:
  - name: local-a            # unique
    kind: openai
    base_url: http://127.0.0.1:9001/v1
    api_key: \${UPSTREAM_KEY:-}
    headers: { X-Extra: "1" }
models:
  - name: gpt-4o-mini
    targets:
      - { provider: local-a, model: gpt-4o-mini-2024-07-18 }
`

describe("parseConfig", () => {
  it("accepts the issue's minimal shape exactly as written", () => {
    const c = okConfig(MINIMAL, { LLMGATE_MASTER_KEY: "sk-master" })
    expect(c.server).toMatchObject({ host: "127.0.0.1", port: 4000, bodyLimit: 10 * 1024 * 1024 })
    expect(c.masterKey && Redacted.value(c.masterKey)).toBe("sk-master")
    const p = c.providers.get("local-a")
    expect(p).toMatchObject({
      kind: "openai",
      baseUrl: "http://127.0.0.1:9001/v1",
      headerOps: [{ op: "replace", key: "x-extra", value: "1" }]
    })
    expect(p?.auth).toBeUndefined()
    expect(c.models.get("gpt-4o-mini")?.targets).toEqual([
      {
        provider: "local-a",
        model: "gpt-4o-mini-2024-07-18",
        weight: 1,
        maxConcurrency: undefined,
        queueSize: 0,
        queueTimeoutMs: 30_000
      }
    ])
    expect(c.modelNames).toEqual(["gpt-4o-mini"])
  })

  it("defaults a target's upstream model to the public name", () => {
    const c = okConfig("providers: [{name: m, kind: mock}]\nmodels: [{name: pub, targets: [{provider: m}]}]")
    expect(c.models.get("pub")?.targets[0]?.model).toBe("pub")
  })

  it("names an unknown field with its path", () => {
    expect(errorsOf(MINIMAL.replace("base_url:", "base_ulr:"), { LLMGATE_MASTER_KEY: "k" })).toContain(
      "providers[0].base_ulr: unknown field"
    )
  })

  it("names an unknown provider reference with its path", () => {
    const text = `providers: [{name: a, kind: mock}]
models:
  - name: one
    targets: [{ provider: a }]
  - name: two
    targets: [{ provider: a }, { provider: x }]`
    expect(errorsOf(text)).toEqual(['models[1].targets[1].provider: unknown provider "x"'])
  })

  it("reports schema and reference problems together", () => {
    expect(
      errorsOf(`providers: [{name: a, kind: mock, base_ulr: x}]\nmodels: [{name: m, targets: [{provider: x}]}]`)
    ).toEqual(["providers[0].base_ulr: unknown field", 'models[0].targets[0].provider: unknown provider "x"'])
  })

  it("reports every problem, one per line", () => {
    const lines = errorsOf(`providers: [{name: a, kind: opena, port: 1}]\nmodels: [{name: m, targets: []}]\nextra: 1`)
    expect(lines).toEqual(
      expect.arrayContaining([
        "extra: unknown field",
        "providers[0].port: unknown field",
        expect.stringMatching(/^providers\[0\]\.kind: expected "openai" \| "azure" \| "anthropic" \| "mock"/),
        expect.stringMatching(/^models\[0\]\.targets: /)
      ])
    )
  })

  it("rejects duplicates and kind-specific mistakes", () => {
    const lines = errorsOf(`providers:
  - { name: a, kind: openai }
  - { name: a, kind: mock, base_url: "http://x" }
  - { name: b, kind: openai, base_url: "ftp://x" }
models:
  - { name: m, targets: [{ provider: a }] }
  - { name: m, targets: [{ provider: b }] }`)
    expect(lines).toEqual(
      expect.arrayContaining([
        `providers[0].base_url: required for kind "openai"`,
        `providers[1].name: duplicate provider name "a"`,
        `providers[1].base_url: not used by kind "mock"`,
        `providers[2].base_url: expected an http(s) URL, got "ftp://x"`,
        `models[1].name: duplicate model name "m"`
      ])
    )
  })

  it("azure and anthropic kinds: their own fields, defaults and how api_key is sent", () => {
    const c = okConfig(`providers:
  - { name: az, kind: azure, base_url: "https://r.openai.azure.com/", api_version: "2024-10-21", api_key: k1 }
  - { name: entra, kind: azure, base_url: "https://r.openai.azure.com", api_version: "2024-10-21", auth: { type: bearer, token: t1 } }
  - { name: claude, kind: anthropic, api_key: k2 }
  - { name: claude2, kind: anthropic, base_url: "http://127.0.0.1:9/", anthropic_version: "2024-01-01" }
models:
  - { name: m, targets: [{ provider: az }, { provider: claude }] }`)
    const az = c.providers.get("az")
    expect(az?.baseUrl).toBe("https://r.openai.azure.com")
    expect(az?.apiVersion).toBe("2024-10-21")
    expect(az?.auth?.header).toBe("api-key")
    expect(Redacted.value(az?.auth?.value ?? Redacted.make(""))).toBe("k1")
    expect(c.providers.get("entra")?.auth?.header).toBe("authorization")
    const claude = c.providers.get("claude")
    expect(claude?.baseUrl).toBe("https://api.anthropic.com")
    expect(claude?.anthropicVersion).toBe("2023-06-01")
    expect(claude?.auth?.header).toBe("x-api-key")
    expect(c.providers.get("claude2")?.baseUrl).toBe("http://127.0.0.1:9")
    expect(c.providers.get("claude2")?.anthropicVersion).toBe("2024-01-01")
    expect(
      errorsOf(`providers:
  - { name: a, kind: azure, base_url: "https://r.openai.azure.com" }
  - { name: b, kind: azure, api_version: "2024-10-21" }
  - { name: c, kind: openai, base_url: "http://x/v1", api_version: "1", anthropic_version: "2" }
models:
  - { name: m, targets: [{ provider: a }] }`)
    ).toEqual([
      `providers[0].api_version: required for kind "azure" (e.g. "2024-10-21")`,
      `providers[1].base_url: required for kind "azure"`,
      `providers[2].api_version: only allowed for kind "azure"`,
      `providers[2].anthropic_version: only allowed for kind "anthropic"`
    ])
  })

  it("interpolates ${VAR} and ${VAR:-default} in the secret fields", () => {
    const c = okConfig(
      `env: [KEY, PG_URL]
master_key: "\${LLMGATE_MK}"
store: { postgres: { url: "\${PG_URL}" } }
providers:
  - { name: a, kind: openai, base_url: "http://10.0.0.5:9000/v1", api_key: "\${KEY:-fallback}", headers: { X-Api-Key: "k-\${LLMGATE_H}" } }
  - name: b
    kind: openai
    base_url: "http://10.0.0.6/v1"
    auth: { type: basic, username: u, password: "\${LLMGATE_PW}" }
    headers: [{ op: insert, key: X-Other, value: "\${LLMGATE_H}" }]
  - { name: c, kind: openai, base_url: "http://10.0.0.7/v1", auth: { type: header, name: x-key, value: "\${LLMGATE_H}" } }
models: [{ name: m, targets: [{ provider: a }] }]`,
      { KEY: "", LLMGATE_MK: "mk", PG_URL: "postgres://h/db", LLMGATE_H: "h", LLMGATE_PW: "pw" }
    )
    expect(c.masterKey && Redacted.value(c.masterKey)).toBe("mk")
    const auth = c.providers.get("a")?.auth
    expect(auth?.header).toBe("authorization")
    expect(auth && Redacted.value(auth.value)).toBe("Bearer fallback")
    expect(c.providers.get("a")?.headerOps).toEqual([{ op: "replace", key: "x-api-key", value: "k-h" }])
    expect(c.providers.get("b")?.headerOps).toEqual([{ op: "insert", key: "x-other", value: "h" }])
    const basic = c.providers.get("b")?.auth
    expect(basic && Redacted.value(basic.value)).toBe(`Basic ${btoa("u:pw")}`)
    const header = c.providers.get("c")?.auth
    expect(header && Redacted.value(header.value)).toBe("h")
  })

  it("encodes basic auth credentials as UTF-8 (RFC 7617) in base64", () => {
    const c = okConfig(`providers:
  - { name: b, kind: openai, base_url: "http://10.0.0.6/v1", auth: { type: basic, username: "jürgen", password: "p€ss:wörd" } }
models: [{ name: m, targets: [{ provider: b }] }]`)
    const basic = c.providers.get("b")?.auth
    const utf8 = String.fromCharCode(...new TextEncoder().encode("jürgen:p€ss:wörd"))
    expect(basic && Redacted.value(basic.value)).toBe(`Basic ${btoa(utf8)}`)
  })

  it("a reference in a field that is not secret is an error naming the field, whatever the variable", () => {
    const errors = errorsOf(
      `env: [UP_HOST]
server: { host: "\${LLMGATE_HOST:-0.0.0.0}" }
providers: [{ name: a, kind: openai, base_url: "http://\${UP_HOST}:9000/v1", auth: { type: basic, username: "\${LLMGATE_USER}", password: p } }]
models: [{ name: "\${LLMGATE_MASTER_KEY}", targets: [{ provider: a }] }]
projects: [{ id: p, name: P, metadata: { note: "\${LLMGATE_MASTER_KEY}" } }]`,
      { LLMGATE_MASTER_KEY: "the-master-key", UP_HOST: "h", LLMGATE_USER: "u" }
    )
    for (const field of [
      "server.host",
      "providers[0].base_url",
      "providers[0].auth.username",
      "models[0].name",
      "projects[0].metadata.note"
    ]) {
      expect(
        errors.some(
          (e) => e.startsWith(`${field}: \${`) && e.includes("can be read only in secret fields") && e.includes("$${")
        )
      ).toBe(true)
    }
    expect(errors.join("\n")).not.toContain("the-master-key")
  })

  it("a reference to a variable outside LLMGATE_* that env does not list is an error saying how to allow it", () => {
    expect(
      errorsOf(
        `providers: [{ name: a, kind: openai, base_url: "http://h/v1", api_key: "\${OPENAI_API_KEY}" }]
models: [{ name: m, targets: [{ provider: a }] }]`,
        { OPENAI_API_KEY: "sk-x" }
      )
    ).toEqual([
      "providers[0].api_key: environment variable OPENAI_API_KEY is not allowed: only LLMGATE_* variables and those listed in the top-level env are read " +
        "(add `env: [OPENAI_API_KEY]` to the config to allow it)"
    ])
    const c = okConfig(
      `env: [OPENAI_API_KEY]
providers: [{ name: a, kind: openai, base_url: "http://h/v1", api_key: "\${OPENAI_API_KEY}" }]
models: [{ name: m, targets: [{ provider: a }] }]`,
      { OPENAI_API_KEY: "sk-x" }
    )
    const auth = c.providers.get("a")?.auth
    expect(auth && Redacted.value(auth.value)).toBe("Bearer sk-x")
  })

  it("env lists variable names, and is itself no place for a reference", () => {
    const rest = `providers: [{ name: a, kind: mock }]\nmodels: [{ name: m, targets: [{ provider: a }] }]`
    expect(errorsOf(`env: [OK_NAME, "not a name"]\n${rest}`)).toEqual([
      "env[1]: expected an environment variable name (letters, digits and _)"
    ])
    expect(errorsOf(`env: [OK_NAME, "\${LLMGATE_X}"]\n${rest}`, { LLMGATE_X: "X" })).toEqual([
      "env[1]: ${LLMGATE_X}: environment variables can be read only in secret fields (master_key, store.postgres.url, limits.redis.url, tracing.otlp.headers values, tracing.langfuse.secret_key, providers[].api_key, " +
        "providers[].auth.token, providers[].auth.password, providers[].auth.value, providers[].proxy, providers[].headers values); write $${ for a literal ${"
    ])
  })

  it("$${ is a literal ${ in every field", () => {
    const c = okConfig(
      `master_key: "$\${LLMGATE_MASTER_KEY}"
providers: [{ name: a, kind: mock }]
models: [{ name: "a$\${b}", targets: [{ provider: a }] }]`,
      { LLMGATE_MASTER_KEY: "secret" }
    )
    expect(c.masterKey && Redacted.value(c.masterKey)).toBe("${LLMGATE_MASTER_KEY}")
    expect(c.modelNames).toEqual(["a${b}"])
  })

  it("an unset variable without a default is an error naming the field", () => {
    expect(errorsOf(MINIMAL, {})).toEqual([
      "master_key: environment variable LLMGATE_MASTER_KEY is not set (write ${LLMGATE_MASTER_KEY:-} to allow it to be empty)"
    ])
  })

  it("an environment value cannot inject YAML structure", () => {
    const c = okConfig(
      `master_key: "\${LLMGATE_K}"\nproviders: [{name: a, kind: mock}]\nmodels: [{name: m, targets: [{provider: a}]}]`,
      { LLMGATE_K: "x\nproviders: []" }
    )
    expect(c.masterKey && Redacted.value(c.masterKey)).toBe("x\nproviders: []")
    expect(c.providers.size).toBe(1)
  })

  it("parses durations and sizes", () => {
    const c = okConfig(`server: { body_limit: 64KiB, shutdown_timeout: 2s }
providers:
  - { name: a, kind: openai, base_url: "http://h/v1/", timeout: { request: 1.5s, idle: 250ms } }
  - { name: m, kind: mock, mock: { latency: 1m, chunks: 3, chunk_interval: 5, failure_rate: 0.25 } }
models: [{ name: x, targets: [{ provider: a }] }]`)
    expect(c.server.bodyLimit).toBe(65536)
    expect(c.server.shutdownTimeoutMs).toBe(2000)
    expect(c.providers.get("a")).toMatchObject({ baseUrl: "http://h/v1", requestTimeoutMs: 1500, idleTimeoutMs: 250 })
    expect(c.providers.get("m")?.mock).toEqual({
      latencyMs: 60_000,
      chunks: 3,
      chunkIntervalMs: 5,
      failureRate: 0.25,
      crashRate: 0
    })
  })

  it("bounds have defaults and are set from the server section", () => {
    const defaults = okConfig(`providers: [{name: a, kind: mock}]\nmodels: [{name: m, targets: [{provider: a}]}]`)
      .server.bounds
    expect(defaults).toEqual({
      headerLimit: 16384,
      headerTimeoutMs: 10_000,
      idleTimeoutMs: 65_000,
      stallTimeoutMs: 30_000,
      identifierLimit: 256,
      jsonDepthLimit: 64,
      upstreamBodyLimit: 64 * 1024 ** 2,
      sseLineLimit: 1024 ** 2,
      preambleLimit: 1024 ** 2,
      patternTargetLimit: 1024,
      uploadLimit: 512 * 1024 ** 2,
      uploadReplayLimit: 1024 ** 2
    })
    const set = okConfig(`server:
  header_limit: 8KiB
  header_timeout: 2s
  idle_timeout: 5s
  stall_timeout: 1s
  identifier_limit: 64
  json_depth_limit: 8
  upstream_body_limit: 1MiB
  sse_line_limit: 4KiB
  preamble_limit: 16KiB
  pattern_target_limit: 10
  upload_limit: 25MiB
  upload_replay_limit: 64KiB
providers: [{name: a, kind: mock}]
models: [{name: m, targets: [{provider: a}]}]`).server.bounds
    expect(set).toEqual({
      headerLimit: 8192,
      headerTimeoutMs: 2000,
      idleTimeoutMs: 5000,
      stallTimeoutMs: 1000,
      identifierLimit: 64,
      jsonDepthLimit: 8,
      upstreamBodyLimit: 1024 ** 2,
      sseLineLimit: 4096,
      preambleLimit: 16384,
      patternTargetLimit: 10,
      uploadLimit: 25 * 1024 ** 2,
      uploadReplayLimit: 65536
    })
    const lines =
      errorsOf(`server: { json_depth_limit: 0, stall_timeout: never, pattern_target_limit: 1.5, upload_limit: lots, upload_replay_limit: -1 }
providers: [{name: a, kind: mock}]
models: [{name: m, targets: [{provider: a}]}]`)
    expect(lines.map((l) => l.split(":")[0])).toEqual(
      expect.arrayContaining([
        "server.json_depth_limit",
        "server.stall_timeout",
        "server.pattern_target_limit",
        "server.upload_limit",
        "server.upload_replay_limit"
      ])
    )
  })

  it("an exact model name longer than server.identifier_limit is refused: no request could name it", () => {
    const lines = errorsOf(`server: { identifier_limit: 8 }
providers: [{name: a, kind: mock}]
models: [{name: short, targets: [{provider: a}]}, {name: much-too-long, targets: [{provider: a}]}, {name: "long-glob-*", targets: [{provider: a}]}]`)
    expect(lines).toEqual(["models[1].name: longer than server.identifier_limit (8), so no request could name it"])
  })

  it("rejects malformed durations, sizes and ports with the field named", () => {
    const lines = errorsOf(`server: { port: 70000, body_limit: lots }
providers: [{ name: a, kind: mock, mock: { latency: soon, failure_rate: 2 } }]
models: [{ name: x, targets: [{ provider: a }] }]`)
    expect(lines.map((l) => l.split(":")[0])).toEqual(
      expect.arrayContaining([
        "server.port",
        "server.body_limit",
        "providers[0].mock.latency",
        "providers[0].mock.failure_rate"
      ])
    )
  })

  it("reports YAML syntax errors with a position", () => {
    expect(errorsOf("providers: [\n  - a\nmodels: {")[0]).toMatch(/^line \d+, column \d+: invalid YAML/)
  })

  it("rejects a document that is not a mapping", () => {
    expect(errorsOf("- just\n- a list")).toEqual(["the config must be a YAML mapping with providers and models"])
  })

  it("requires providers and models", () => {
    expect(errorsOf("server: { port: 1 }")).toEqual(
      expect.arrayContaining(["providers: required field is missing", "models: required field is missing"])
    )
  })
})
