import { describe, expect, it } from "vitest"
import { isSecretPath, providerSecretPaths, proxyHasCredentials } from "../../../src/config/SecretFields.ts"

describe("a provider's proxy as a secret field", () => {
  it("a proxy URL is a secret when it carries credentials", () => {
    expect(proxyHasCredentials("http://user:pass@proxy:3128")).toBe(true)
    expect(proxyHasCredentials("https://token@proxy.example")).toBe(true)
    expect(proxyHasCredentials("http://proxy:3128")).toBe(false)
    expect(proxyHasCredentials("http://proxy:3128/?q=a@b")).toBe(false)
    expect(proxyHasCredentials("none")).toBe(false)
  })

  it("masked, sealed and checked for masks only when it is one; `all` lists it in any case", () => {
    const withCredentials = { name: "p", kind: "openai", api_key: "k", proxy: "http://u:secret@proxy:3128" }
    const plain = { name: "p", kind: "openai", proxy: "http://proxy:3128" }
    expect(providerSecretPaths(withCredentials)).toEqual([["api_key"], ["proxy"]])
    expect(providerSecretPaths(plain)).toEqual([])
    expect(providerSecretPaths(plain, "all")).toEqual([["proxy"]])
    expect(providerSecretPaths({ name: "p", kind: "openai", proxy: "none" }, "secret")).toEqual([])
  })

  it("`${VAR}` may stand in it", () => {
    expect(isSecretPath(["providers", 0, "proxy"])).toBe(true)
    expect(isSecretPath(["providers", 0, "base_url"])).toBe(false)
  })
})
