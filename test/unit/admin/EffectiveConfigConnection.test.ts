// GET /admin/v1/config shows each provider's connection settings, a proxy's credentials masked.
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { effectiveConfig, maskProxyUrl } from "../../../src/admin/EffectiveConfig.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { VERSION } from "../../../src/generated/version.ts"

describe("effective config: connection settings", () => {
  it("maskProxyUrl masks the password, or a user name standing alone; a URL without credentials is shown", () => {
    expect(maskProxyUrl("http://proxy.internal:3128")).toBe("http://proxy.internal:3128")
    expect(maskProxyUrl("http://user:short@proxy:3128")).toBe("http://user:****@proxy:3128")
    expect(maskProxyUrl("https://user:a-long-proxy-password-1234@proxy")).toBe("https://user:****1234@proxy")
    expect(maskProxyUrl("http://tok3n-standing-alone-abcd@proxy:3128")).toBe("http://****abcd@proxy:3128")
  })

  it("shows proxy, tls, user_agent and keep_alive for providers that connect, none for mock", () => {
    const r = parseConfig(
      `providers:
  - { name: a, kind: openai, base_url: "https://h/v1" }
  - { name: b, kind: openai, base_url: "https://h/v1", proxy: "http://u:secret-pw@proxy:3128", tls: { verify: false, ca_file: /ca.pem }, user_agent: x/1, keep_alive: false }
  - { name: c, kind: anthropic, proxy: none }
  - { name: m, kind: mock }
models: [{ name: m, targets: [{ provider: m }] }]`,
      {},
      "test.yaml"
    )
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    const shown = effectiveConfig(r.success, "file")
    const byName = (name: string) => shown.providers.find((p) => p.name === name)
    expect(byName("a")).toMatchObject({
      proxy: "environment",
      tls: { verify: true, ca_file: null },
      user_agent: `llmgate/${VERSION}`,
      keep_alive: true
    })
    expect(byName("b")).toMatchObject({
      proxy: "http://u:****@proxy:3128",
      tls: { verify: false, ca_file: "/ca.pem" },
      user_agent: "x/1",
      keep_alive: false
    })
    expect(byName("c")).toMatchObject({ proxy: "none" })
    expect(byName("m")).not.toHaveProperty("proxy")
    expect(JSON.stringify(shown)).not.toContain("secret-pw")
  })
})
