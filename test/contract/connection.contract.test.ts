// Connection settings per provider on every runtime: an outbound proxy (configured, with
// credentials, or from the proxy variables with NO_PROXY, or switched off with `proxy: none`), TLS
// (a CA bundle from `tls.ca_file`, `tls.verify: false`, and the default that refuses a certificate
// it cannot verify), the `User-Agent` sent upstream, and keep-alive switched off.
//
// What the gateway calls, all on 127.0.0.1 in this process: a plain HTTP forward proxy written here
// (absolute-URI requests and CONNECT tunnels, counting what passes through), MSW upstreams over real
// ports, and an HTTPS upstream whose certificate is signed by a test CA (test/fixtures/tls/: a CA
// and a certificate for 127.0.0.1 and localhost, valid 2000–2125, made with `openssl ca`).
import { readFileSync } from "node:fs"
import { createServer as createHttpServer, request as httpRequest, type Server } from "node:http"
import { createServer as createHttpsServer } from "node:https"
import { type AddressInfo, connect as netConnect, type Socket } from "node:net"
import { join } from "node:path"
import { http, HttpResponse, type RequestHandler } from "msw"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { maskSecret } from "../../src/auth/KeyMaterial.ts"
import { VERSION } from "../../src/generated/version.ts"
import { cleanupTempDirs, freePort, type GatewayProcess, launchGateway, ROOT, runUntilExit } from "./gateway.ts"
import { MASTER_KEY, runtime } from "./harness.ts"
import { startUpstream, type Upstream } from "./upstream/server.ts"

const FIXTURES = join(ROOT, "test/fixtures/tls")
const CA_FILE = join(FIXTURES, "ca.pem")
const PROXY_USER = "gw-user"
const PROXY_PASSWORD = "pr0xy-c0ntract-secret-7d1e"
const AGENT = "contract-agent/1.0 (+llmgate)"

const completion = (content: string) => ({
  id: "chatcmpl-connection",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "upstream",
  choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }
})

/** The model list an upstream answers detection's GET with: one model, named after the upstream. */
const modelList = (upstream: string) => ({ object: "list", data: [{ id: `${upstream}-model`, object: "model" }] })

interface Seen {
  readonly upstream: string
  readonly userAgent: string | null
}

// ---- the forward proxy ----------------------------------------------------------------------------

interface ForwardProxy {
  readonly url: string
  /** Absolute-URI requests forwarded: their target's host:port and the Proxy-Authorization they carried. */
  readonly forwarded: Array<{ readonly host: string; readonly authorization: string | undefined }>
  /** CONNECT tunnels opened: their host:port and the Proxy-Authorization they carried. */
  readonly tunnels: Array<{ readonly host: string; readonly authorization: string | undefined }>
  close(): Promise<void>
}

const startProxy = async (): Promise<ForwardProxy> => {
  const forwarded: ForwardProxy["forwarded"] = []
  const tunnels: ForwardProxy["tunnels"] = []
  const sockets = new Set<Socket>()
  const server: Server = createHttpServer((req, res) => {
    let target: URL
    try {
      target = new URL(req.url ?? "")
    } catch {
      res.writeHead(400).end("absolute-form requests only")
      return
    }
    forwarded.push({ host: target.host, authorization: req.headers["proxy-authorization"] })
    const headers = { ...req.headers }
    delete headers["proxy-authorization"]
    delete headers["proxy-connection"]
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      }
    )
    upstream.on("error", () => res.destroy())
    req.pipe(upstream)
  })
  server.on("connect", (req, client: Socket, head: Buffer) => {
    const host = req.url ?? ""
    tunnels.push({ host, authorization: req.headers["proxy-authorization"] })
    const colon = host.lastIndexOf(":")
    const upstream = netConnect(Number(host.slice(colon + 1)), host.slice(0, colon), () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    sockets.add(upstream)
    upstream.on("close", () => sockets.delete(upstream))
    upstream.on("error", () => client.destroy())
    client.on("error", () => upstream.destroy())
  })
  server.on("connection", (s: Socket) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
  })
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    tunnels,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy()
        server.close(() => ok())
      })
  }
}

// ---- the HTTPS upstream ---------------------------------------------------------------------------

interface HttpsUpstream {
  readonly port: number
  readonly baseUrl: string
  /** TLS connections that completed their handshake. */
  connections(): number
  close(): Promise<void>
}

const startHttpsUpstream = async (seen: Array<Seen>): Promise<HttpsUpstream> => {
  let connections = 0
  const sockets = new Set<Socket>()
  const server = createHttpsServer(
    { key: readFileSync(join(FIXTURES, "server-key.pem")), cert: readFileSync(join(FIXTURES, "server.pem")) },
    (req, res) => {
      req.resume()
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" })
        // A model list (detection) is not a call of the ones `seen` counts.
        if (req.method === "GET" && req.url === "/v1/models") return res.end(JSON.stringify(modelList("https")))
        seen.push({ upstream: "https", userAgent: req.headers["user-agent"] ?? null })
        res.end(JSON.stringify(completion("over TLS")))
      })
    }
  )
  server.on("secureConnection", () => connections++)
  server.on("connection", (s: Socket) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
  })
  // A refused handshake (the default TLS settings) is no error of the test's.
  server.on("tlsClientError", () => {})
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok))
  const { port } = server.address() as AddressInfo
  return {
    port,
    baseUrl: `https://127.0.0.1:${port}/v1`,
    connections: () => connections,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy()
        server.close(() => ok())
      })
  }
}

// ---- the MSW upstreams --------------------------------------------------------------------------

const handlers = (name: string, seen: Array<Seen>) => (): Array<RequestHandler> => [
  http.post("*/v1/chat/completions", ({ request }) => {
    seen.push({ upstream: name, userAgent: request.headers.get("user-agent") })
    return HttpResponse.json(completion(`from ${name}`))
  }),
  http.get("*/v1/models", () => HttpResponse.json(modelList(name)))
]

const chat = async (gateway: GatewayProcess, model: string) => {
  const r = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] })
  })
  const text = await r.text()
  return {
    status: r.status,
    text,
    content:
      r.status === 200 ? (JSON.parse(text) as ReturnType<typeof completion>).choices[0]?.message.content : undefined
  }
}

/** One model per provider, named after it. */
const modelsOf = (providers: ReadonlyArray<{ readonly name: string }>) =>
  providers.map((p) => ({ name: p.name, targets: [{ provider: p.name, model: "gpt-x" }] }))

/** The proxy variables, all unset (an empty value is unset), so the ones a test sets are the only ones. */
const NO_PROXY_VARIABLES = {
  http_proxy: "",
  HTTP_PROXY: "",
  https_proxy: "",
  HTTPS_PROXY: "",
  all_proxy: "",
  ALL_PROXY: "",
  no_proxy: "",
  NO_PROXY: ""
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`

describe(`[${runtime}] connection settings per provider`, () => {
  const seen: Array<Seen> = []
  let proxy: ForwardProxy
  let plain: Upstream
  let bypassed: Upstream
  let secure: HttpsUpstream
  let configured: GatewayProcess | undefined
  let fromEnvironment: GatewayProcess | undefined

  beforeAll(async () => {
    proxy = await startProxy()
    plain = await startUpstream(handlers("plain", seen))
    bypassed = await startUpstream(handlers("bypassed", seen))
    secure = await startHttpsUpstream(seen)
    const proxyWithCredentials = proxy.url.replace("://", `://${PROXY_USER}:${PROXY_PASSWORD}@`)
    const providers = [
      { name: "direct", kind: "openai", base_url: plain.baseUrl },
      { name: "proxied", kind: "openai", base_url: plain.baseUrl, proxy: proxyWithCredentials, user_agent: AGENT },
      { name: "tls-ca", kind: "openai", base_url: secure.baseUrl, tls: { ca_file: CA_FILE } },
      { name: "tls-ca-proxied", kind: "openai", base_url: secure.baseUrl, tls: { ca_file: CA_FILE }, proxy: proxy.url },
      { name: "tls-any", kind: "openai", base_url: secure.baseUrl, tls: { verify: false } },
      { name: "tls-default", kind: "openai", base_url: secure.baseUrl },
      { name: "no-keep-alive", kind: "openai", base_url: secure.baseUrl, tls: { ca_file: CA_FILE }, keep_alive: false }
    ]
    const port = await freePort()
    const envProviders = [
      { name: "env-proxied", kind: "openai", base_url: plain.baseUrl },
      { name: "env-no-proxy", kind: "openai", base_url: bypassed.baseUrl },
      { name: "env-none", kind: "openai", base_url: plain.baseUrl, proxy: "none" },
      { name: "env-tls", kind: "openai", base_url: secure.baseUrl, tls: { ca_file: CA_FILE } }
    ]
    const envPort = await freePort()
    const gateways = await Promise.all([
      launchGateway({
        runtime,
        port,
        // One worker: connections to the upstreams are counted, and each worker has its own pools.
        workers: 1,
        env: NO_PROXY_VARIABLES,
        config: { master_key: MASTER_KEY, providers, models: modelsOf(providers) }
      }),
      launchGateway({
        runtime,
        port: envPort,
        // The lower-case form for http, the upper-case one for https; NO_PROXY names one upstream by port.
        env: {
          ...NO_PROXY_VARIABLES,
          http_proxy: proxy.url,
          HTTPS_PROXY: proxy.url,
          NO_PROXY: `example.invalid, 127.0.0.1:${bypassed.port}`
        },
        config: { master_key: MASTER_KEY, providers: envProviders, models: modelsOf(envProviders) }
      })
    ])
    configured = gateways[0]
    fromEnvironment = gateways[1]
  })

  afterAll(async () => {
    await Promise.all([configured?.stop("SIGTERM", 10_000), fromEnvironment?.stop("SIGTERM", 10_000)])
    await Promise.all([proxy?.close(), plain?.close(), bypassed?.close(), secure?.close()])
    cleanupTempDirs()
  })

  const gw = () => {
    if (configured === undefined) throw new Error("the gateway did not start")
    return configured
  }
  const envGw = () => {
    if (fromEnvironment === undefined) throw new Error("the gateway did not start")
    return fromEnvironment
  }

  it("without settings: direct, with User-Agent llmgate/<version>", async () => {
    const before = proxy.forwarded.length
    seen.length = 0
    const r = await chat(gw(), "direct")
    expect(r.status, r.text).toBe(200)
    expect(r.content).toBe("from plain")
    expect(proxy.forwarded.length).toBe(before)
    expect(seen).toEqual([{ upstream: "plain", userAgent: `llmgate/${VERSION}` }])
  })

  it("proxy: the request arrives through the proxy, with its credentials and the provider's user_agent", async () => {
    const before = proxy.forwarded.length
    seen.length = 0
    const r = await chat(gw(), "proxied")
    expect(r.status, r.text).toBe(200)
    expect(r.content).toBe("from plain")
    expect(proxy.forwarded.slice(before)).toEqual([
      { host: `127.0.0.1:${plain.port}`, authorization: basic(PROXY_USER, PROXY_PASSWORD) }
    ])
    expect(seen).toEqual([{ upstream: "plain", userAgent: AGENT }])
  })

  it("tls.ca_file: the upstream's certificate, signed by the bundle's CA, is trusted", async () => {
    const r = await chat(gw(), "tls-ca")
    expect(r.status, r.text).toBe(200)
    expect(r.content).toBe("over TLS")
  })

  it("tls.ca_file through the proxy: a CONNECT tunnel to the HTTPS upstream", async () => {
    const before = proxy.tunnels.length
    const r = await chat(gw(), "tls-ca-proxied")
    expect(r.status, r.text).toBe(200)
    expect(proxy.tunnels.slice(before).map((t) => t.host)).toEqual([`127.0.0.1:${secure.port}`])
  })

  it("tls.verify: false: any certificate is accepted, without the CA", async () => {
    const r = await chat(gw(), "tls-any")
    expect(r.status, r.text).toBe(200)
    expect(r.content).toBe("over TLS")
  })

  it("default TLS: a certificate the runtime cannot verify is refused (502)", async () => {
    const r = await chat(gw(), "tls-default")
    expect(r.status, r.text).toBe(502)
    expect(JSON.parse(r.text)).toMatchObject({ error: { code: "upstream_unreachable" } })
  })

  it("keep_alive: false opens a connection per request; the default keeps one", async () => {
    await chat(gw(), "tls-ca")
    const kept = secure.connections()
    for (let i = 0; i < 4; i++) expect((await chat(gw(), "tls-ca")).status).toBe(200)
    // Reused (a pool may open one more while its first connection is still being released).
    expect(secure.connections() - kept).toBeLessThanOrEqual(1)
    const before = secure.connections()
    for (let i = 0; i < 4; i++) expect((await chat(gw(), "no-keep-alive")).status).toBe(200)
    expect(secure.connections() - before).toBe(4)
  })

  it("detection lists the models through the provider's connection: its proxy, its tls.ca_file", async () => {
    /** POST /admin/v1/providers/{name}/detect, the list only (no probe). */
    const detect = async (name: string) => {
      const r = await fetch(`${gw().baseUrl}/admin/v1/providers/${name}/detect`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ probe: 0 })
      })
      return { status: r.status, body: (await r.json()) as { models?: Array<{ id: string }>; error?: unknown } }
    }
    const before = proxy.forwarded.length
    const proxied = await detect("proxied")
    expect(proxied.status, JSON.stringify(proxied.body)).toBe(200)
    expect(proxied.body.models?.map((m) => m.id)).toEqual(["plain-model"])
    expect(proxy.forwarded.slice(before)).toEqual([
      { host: `127.0.0.1:${plain.port}`, authorization: basic(PROXY_USER, PROXY_PASSWORD) }
    ])
    // The HTTPS upstream's certificate is trusted only through the provider's CA bundle.
    const trusted = await detect("tls-ca")
    expect(trusted.status, JSON.stringify(trusted.body)).toBe(200)
    expect(trusted.body.models?.map((m) => m.id)).toEqual(["https-model"])
    const refused = await detect("tls-default")
    expect(refused.status, JSON.stringify(refused.body)).toBe(502)
    expect(refused.body).toMatchObject({ error: { code: "upstream_unreachable" } })
  })

  it("the effective config shows the settings, the proxy's password masked", async () => {
    const r = await fetch(`${gw().baseUrl}/admin/v1/config`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })
    const text = await r.text()
    expect(r.status, text).toBe(200)
    expect(text).not.toContain(PROXY_PASSWORD)
    const body = JSON.parse(text) as { providers: Array<Record<string, unknown>> }
    const shown = (name: string) => body.providers.find((p) => p["name"] === name)
    expect(shown("proxied")).toMatchObject({
      proxy: `http://${PROXY_USER}:${maskSecret(PROXY_PASSWORD)}@${new URL(proxy.url).host}`,
      user_agent: AGENT,
      keep_alive: true,
      tls: { verify: true, ca_file: null }
    })
    expect(shown("direct")).toMatchObject({ proxy: "environment", user_agent: `llmgate/${VERSION}` })
    expect(shown("no-keep-alive")).toMatchObject({ keep_alive: false, tls: { verify: true, ca_file: CA_FILE } })
  })

  it("proxy variables: http_proxy and HTTPS_PROXY are used, NO_PROXY (host:port) bypasses, proxy: none is direct", async () => {
    const forwarded = proxy.forwarded.length
    const tunnels = proxy.tunnels.length
    seen.length = 0
    const viaProxy = await chat(envGw(), "env-proxied")
    expect(viaProxy.status, viaProxy.text).toBe(200)
    expect(proxy.forwarded.slice(forwarded)).toEqual([{ host: `127.0.0.1:${plain.port}`, authorization: undefined }])
    const noProxy = await chat(envGw(), "env-no-proxy")
    expect(noProxy.status, noProxy.text).toBe(200)
    expect(noProxy.content).toBe("from bypassed")
    const none = await chat(envGw(), "env-none")
    expect(none.status, none.text).toBe(200)
    expect(proxy.forwarded.length - forwarded, "only env-proxied went through the proxy").toBe(1)
    const tls = await chat(envGw(), "env-tls")
    expect(tls.status, tls.text).toBe(200)
    expect(proxy.tunnels.slice(tunnels).map((t) => t.host)).toEqual([`127.0.0.1:${secure.port}`])
    expect(seen.map((s) => s.upstream)).toEqual(["plain", "bypassed", "plain", "https"])
    // Deno goes through undici while proxy variables are set, and its node:tls may not read the
    // default roots (no --allow-sys=ca): the bundle is then trusted alone, which it says.
    const logs = envGw().stdout() + envGw().stderr()
    if (runtime === "deno") expect(logs).toContain("provider env-tls: deno cannot read its default root certificates")
    else expect(logs).not.toContain("root certificates")
  })

  it("a tls.ca_file that cannot be read is a config error naming the field", async () => {
    const port = await freePort()
    const missing = join(FIXTURES, "no-such-ca.pem")
    const { exit, stderr, timedOut } = await runUntilExit({
      runtime,
      port,
      config: {
        master_key: MASTER_KEY,
        providers: [
          { name: "up", kind: "openai", base_url: "https://127.0.0.1:1/v1", tls: { ca_file: missing } },
          { name: "mocked", kind: "mock" }
        ],
        models: [{ name: "m", targets: [{ provider: "up" }] }]
      }
    })
    expect(timedOut).toBe(false)
    expect(exit.code).toBe(1)
    expect(stderr).toContain(`providers[0].tls.ca_file: cannot read "${missing}"`)
  })
})
