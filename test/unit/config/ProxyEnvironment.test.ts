// The proxy variables as every runtime's upstream clients read them (config/ProxyEnvironment.ts):
// which variable applies to which URL, and NO_PROXY matching.
import { describe, expect, it } from "vitest"
import {
  environmentProxy,
  namesProxy,
  noProxyMatches,
  proxyUrl,
  setsNoProxy
} from "../../../src/config/ProxyEnvironment.ts"

const P = "http://proxy.internal:3128"

describe("environmentProxy", () => {
  it("https URLs use https_proxy, else HTTPS_PROXY; http URLs http_proxy, else HTTP_PROXY", () => {
    expect(environmentProxy("https://api.example.com/v1", { HTTPS_PROXY: P })).toEqual({
      _tag: "Proxy",
      url: P,
      variable: "HTTPS_PROXY"
    })
    expect(environmentProxy("https://api.example.com/v1", { https_proxy: P, HTTPS_PROXY: "http://other:1" })).toEqual({
      _tag: "Proxy",
      url: P,
      variable: "https_proxy"
    })
    expect(environmentProxy("http://10.0.0.5:8000/v1", { HTTP_PROXY: P })).toMatchObject({ _tag: "Proxy", url: P })
    expect(environmentProxy("http://10.0.0.5:8000/v1", { http_proxy: P })).toMatchObject({ variable: "http_proxy" })
  })

  it("no fallback from one scheme's variable to the other's; ALL_PROXY is not read; empty is unset", () => {
    expect(environmentProxy("https://api.example.com", { HTTP_PROXY: P })).toEqual({ _tag: "Direct" })
    expect(environmentProxy("http://api.example.com", { HTTPS_PROXY: P })).toEqual({ _tag: "Direct" })
    expect(environmentProxy("https://api.example.com", { ALL_PROXY: P })).toEqual({ _tag: "Direct" })
    expect(environmentProxy("https://api.example.com", { https_proxy: "", HTTPS_PROXY: P })).toMatchObject({
      variable: "HTTPS_PROXY"
    })
    expect(environmentProxy("https://api.example.com", { https_proxy: " " })).toEqual({ _tag: "Direct" })
    expect(environmentProxy("https://api.example.com", {})).toEqual({ _tag: "Direct" })
  })

  it("a value without a scheme is an http proxy; one that is no http(s) URL is reported", () => {
    expect(environmentProxy("https://a.example", { HTTPS_PROXY: "proxy.internal:3128" })).toMatchObject({
      url: "http://proxy.internal:3128"
    })
    expect(environmentProxy("https://a.example", { HTTPS_PROXY: "socks5://proxy:1080" })).toEqual({
      _tag: "Invalid",
      variable: "HTTPS_PROXY"
    })
    expect(proxyUrl("http://user:pass@proxy:3128")).toBe("http://user:pass@proxy:3128")
    expect(proxyUrl("::")).toBeUndefined()
  })

  it("NO_PROXY (no_proxy first) names hosts that go direct", () => {
    const env = { HTTPS_PROXY: P, NO_PROXY: "internal.example, .corp.example" }
    expect(environmentProxy("https://internal.example/v1", env)).toEqual({ _tag: "Direct" })
    expect(environmentProxy("https://llm.corp.example/v1", env)).toEqual({ _tag: "Direct" })
    expect(environmentProxy("https://api.openai.com/v1", env)).toMatchObject({ _tag: "Proxy" })
    expect(
      environmentProxy("https://internal.example/v1", { HTTPS_PROXY: P, no_proxy: "other", NO_PROXY: "*" })
    ).toMatchObject({ _tag: "Proxy" })
    // Matched before the proxy value is looked at: a bypassed host never reports a bad variable.
    expect(environmentProxy("https://internal.example", { HTTPS_PROXY: "socks5://x", NO_PROXY: "*" })).toEqual({
      _tag: "Direct"
    })
  })

  it("namesProxy: any scheme's variable or ALL_PROXY, in either case, non-empty; setsNoProxy: NO_PROXY", () => {
    expect(namesProxy({})).toBe(false)
    expect(namesProxy({ HTTPS_PROXY: "", no_proxy: "localhost" })).toBe(false)
    expect(namesProxy({ ALL_PROXY: P })).toBe(true)
    expect(namesProxy({ http_proxy: P })).toBe(true)
    expect(setsNoProxy({ NO_PROXY: "" })).toBe(false)
    expect(setsNoProxy({ no_proxy: "localhost" })).toBe(true)
  })
})

describe("noProxyMatches", () => {
  const matches = (url: string, list: string) => noProxyMatches(new URL(url), list)

  it("`*` matches every host", () => {
    expect(matches("https://anything.example", "*")).toBe(true)
    expect(matches("https://anything.example", "a.example, *")).toBe(true)
  })

  it("a domain matches itself and every name below it, however it is written, case-insensitively", () => {
    for (const entry of ["example.com", ".example.com", "*.example.com", "EXAMPLE.com"]) {
      expect(matches("https://example.com", entry), entry).toBe(true)
      expect(matches("https://api.EU.example.com/v1", entry), entry).toBe(true)
      expect(matches("https://badexample.com", entry), entry).toBe(false)
      expect(matches("https://example.com.evil.net", entry), entry).toBe(false)
    }
  })

  it("entries are separated by commas and/or spaces; empty ones are ignored", () => {
    expect(matches("https://b.example", " a.example,, b.example ")).toBe(true)
    expect(matches("https://c.example", "a.example b.example\tc.example")).toBe(true)
    expect(matches("https://d.example", ",, ,")).toBe(false)
  })

  it("addresses and CIDR ranges match hosts written as addresses", () => {
    expect(matches("http://10.1.2.3:8000", "10.0.0.0/8")).toBe(true)
    expect(matches("http://10.1.2.3:8000", "10.1.2.3")).toBe(true)
    expect(matches("http://11.1.2.3:8000", "10.0.0.0/8")).toBe(false)
    expect(matches("http://[::1]:8000", "::1")).toBe(true)
    expect(matches("http://[fd00::5]:8000", "fd00::/8")).toBe(true)
    // An address entry never matches a name, nor a name entry an address.
    expect(matches("http://localhost:8000", "127.0.0.1")).toBe(false)
    expect(matches("http://127.0.0.1:8000", "localhost")).toBe(false)
  })

  it("an entry with a port matches that port only (80 and 443 when the URL gives none)", () => {
    expect(matches("http://127.0.0.1:8001/v1", "127.0.0.1:8001")).toBe(true)
    expect(matches("http://127.0.0.1:8002/v1", "127.0.0.1:8001")).toBe(false)
    expect(matches("https://api.example.com/v1", "example.com:443")).toBe(true)
    expect(matches("http://api.example.com/v1", "example.com:443")).toBe(false)
    expect(matches("http://api.example.com/v1", "example.com:80")).toBe(true)
    expect(matches("http://[::1]:8080", "[::1]:8080")).toBe(true)
    expect(matches("http://[::1]:8081", "[::1]:8080")).toBe(false)
  })
})
