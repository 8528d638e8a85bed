// A provider's connection settings (`proxy`, `tls`, `user_agent`, `keep_alive`): their defaults,
// their resolved form, and the config errors that name the field.
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { DEFAULT_CONNECTION, DEFAULT_USER_AGENT } from "../../../src/config/Config.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { VERSION } from "../../../src/generated/version.ts"
import { upstreamHeaders } from "../../../src/providers/openai/OpenAIProvider.ts"

const configOf = (providers: string) =>
  parseConfig(`providers:\n${providers}\nmodels: [{ name: m, targets: [{ provider: p }] }]`, {}, "test.yaml")

const providerOf = (fields: string, kind = "openai", baseUrl = "https://api.example.com/v1") => {
  const r = configOf(`  - { name: p, kind: ${kind}, base_url: "${baseUrl}", ${fields} }`)
  if (Result.isFailure(r)) throw new Error(`expected a valid config, got:\n${r.failure.message}`)
  const p = r.success.providers.get("p")
  if (p === undefined) throw new Error("no provider p")
  return p
}

const errorsOf = (providers: string): ReadonlyArray<string> => {
  const r = configOf(providers)
  if (Result.isSuccess(r)) throw new Error("expected the config to be rejected")
  return r.failure.message.split("\n")
}

describe("provider connection settings", () => {
  it("default: the proxy variables, verified TLS with the runtime's roots, keep-alive, llmgate/<version>", () => {
    const p = providerOf("")
    expect(p.connection).toEqual({ proxy: { _tag: "Environment" }, verify: true, caFile: undefined, keepAlive: true })
    expect(p.connection).toEqual(DEFAULT_CONNECTION)
    expect(p.userAgent).toBe(`llmgate/${VERSION}`)
    expect(DEFAULT_USER_AGENT).toBe(`llmgate/${VERSION}`)
  })

  it("every field as written", () => {
    const p = providerOf(
      `proxy: "http://user:pa%40ss@proxy.internal:3128", tls: { verify: false, ca_file: /etc/llmgate/ca.pem }, user_agent: "acme-gw/2.0", keep_alive: false`
    )
    expect(p.connection).toEqual({
      proxy: { _tag: "Url", url: "http://user:pa%40ss@proxy.internal:3128" },
      verify: false,
      caFile: "/etc/llmgate/ca.pem",
      keepAlive: false
    })
    expect(p.userAgent).toBe("acme-gw/2.0")
  })

  it("proxy: none switches the environment's proxy off; an https proxy and a trailing slash are fine", () => {
    expect(providerOf("proxy: none").connection.proxy).toEqual({ _tag: "None" })
    expect(providerOf('proxy: "https://proxy:8443/"').connection.proxy).toEqual({
      _tag: "Url",
      url: "https://proxy:8443/"
    })
  })

  it("the same settings for every kind that connects somewhere", () => {
    expect(providerOf("keep_alive: false", "anthropic").connection.keepAlive).toBe(false)
    const azure = configOf(
      `  - { name: p, kind: azure, base_url: "https://r.openai.azure.com", api_version: "2024-10-21", proxy: none, user_agent: az }`
    )
    expect(Result.isSuccess(azure) && azure.success.providers.get("p")?.connection.proxy).toEqual({ _tag: "None" })
  })

  it("a proxy that is not an http(s) URL with a host and no path is an error naming the field, without quoting it", () => {
    for (const proxy of [
      "socks5://proxy:1080",
      "proxy:3128",
      "http://proxy:3128/path",
      "http://proxy:3128/?q=1",
      "yes"
    ]) {
      const lines = errorsOf(`  - { name: p, kind: openai, base_url: "http://h/v1", proxy: "${proxy}" }`)
      expect(lines).toEqual([
        'providers[0].proxy: expected an http(s) URL with a host and no path (http://proxy.internal:3128), or "none"'
      ])
    }
    const secret = errorsOf(`  - { name: p, kind: openai, base_url: "http://h/v1", proxy: "ftp://u:s3cret@h" }`)
    expect(secret.join("\n")).not.toContain("s3cret")
  })

  it("wrong types and unknown tls fields name their path", () => {
    const lines = errorsOf(
      `  - { name: p, kind: openai, base_url: "http://h/v1", tls: { verify: "no", ca: x }, keep_alive: 1, user_agent: "" }`
    )
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^providers\[0\]\.tls\.verify: /),
        "providers[0].tls.ca: unknown field",
        expect.stringMatching(/^providers\[0\]\.keep_alive: /),
        expect.stringMatching(/^providers\[0\]\.user_agent: /)
      ])
    )
    expect(errorsOf(`  - { name: p, kind: openai, base_url: "http://h/v1", tls: { ca_file: "" } }`)).toEqual([
      expect.stringMatching(/^providers\[0\]\.tls\.ca_file: /)
    ])
  })

  it("a user_agent with a line break is refused", () => {
    expect(errorsOf(`  - { name: p, kind: openai, base_url: "http://h/v1", user_agent: "a\\r\\nX-Evil: 1" }`)).toEqual([
      "providers[0].user_agent: header values may not contain line breaks"
    ])
  })

  it("kind mock connects nowhere: every connection field is an error", () => {
    expect(
      errorsOf(`  - { name: p, kind: mock, proxy: none, tls: { verify: false }, user_agent: x, keep_alive: false }`)
    ).toEqual([
      'providers[0].proxy: not used by kind "mock"',
      'providers[0].tls: not used by kind "mock"',
      'providers[0].user_agent: not used by kind "mock"',
      'providers[0].keep_alive: not used by kind "mock"'
    ])
  })

  it("user_agent is the User-Agent sent upstream; a header operation still has the last word", () => {
    expect(upstreamHeaders(providerOf(""), "application/json")["user-agent"]).toBe(`llmgate/${VERSION}`)
    expect(upstreamHeaders(providerOf('user_agent: "acme/1"'), "application/json")["user-agent"]).toBe("acme/1")
    expect(
      upstreamHeaders(providerOf('user_agent: "acme/1", headers: { User-Agent: ops/2 }'), "application/json")[
        "user-agent"
      ]
    ).toBe("ops/2")
  })
})
