/**
 * The soak's traffic: closed-loop clients sending a seeded mix of request kinds (JSON and streams
 * through a real upstream, the mock provider's JSON, streams, failures and failover, embeddings,
 * model lists, fresh connections, streams the client abandons mid-way, a new model name matched by
 * a glob on every request, and /health/detailed), and one sequential
 * admin loop (providers and keys created, changed, used and deleted through the admin API, reloads
 * through the API, and edits of the config file). Every exchange ends in an outcome; an outcome a
 * kind does not allow is "unexpected" (a 500 made by the gateway, a lost connection, a hang…) and
 * fails the soak.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs"
import { Agent, request, type OutgoingHttpHeaders } from "node:http"
import { parse, stringify } from "yaml"
import { send, streamOnce, type Endpoint } from "../../bench/lib/http.ts"

export const SOAK_MASTER_KEY = "sk-soak-master-key-0123456789abcdef"

/** Upstream model ids of the bench upstream: `stream-<chunks>x<intervalMs>` shapes its streams. */
const STREAM_SHAPE = "stream-6x5"
const LONG_SHAPE = "stream-40x25"

/** The gateway config the soak runs (file mode, so admin writes and edits rewrite this file). */
export const soakConfig = (port: number, upstreamPort: number): Record<string, unknown> => {
  const upstream = {
    kind: "openai",
    base_url: `http://127.0.0.1:${upstreamPort}/v1`,
    api_key: "sk-soak-upstream",
    timeout: { request: "30s", idle: "10s" }
  }
  return {
    server: { host: "127.0.0.1", port, shutdown_timeout: "2s" },
    master_key: SOAK_MASTER_KEY,
    providers: [
      { name: "up", ...upstream },
      { name: "mock-ok", kind: "mock", mock: { latency: "0ms", chunks: 4, chunk_interval: "5ms" } },
      { name: "mock-flaky", kind: "mock", mock: { latency: "0ms", failure_rate: 0.5 } }
    ],
    models: [
      { name: "soak-json", targets: [{ provider: "up", model: "bench-upstream" }] },
      { name: "soak-stream", targets: [{ provider: "up", model: STREAM_SHAPE }] },
      { name: "soak-long", targets: [{ provider: "up", model: LONG_SHAPE }] },
      { name: "soak-mock", targets: [{ provider: "mock-ok" }] },
      { name: "soak-flaky", targets: [{ provider: "mock-flaky" }] },
      {
        name: "soak-failover",
        strategy: "failover",
        targets: [{ provider: "mock-flaky" }, { provider: "mock-ok" }],
        retry: { attempts: 1 }
      },
      { name: "soak-embed", targets: [{ provider: "mock-ok" }] },
      // every request names a model no one asked for before: whatever the gateway keeps per matched name must stay bounded
      { name: "soak-glob-*", targets: [{ provider: "mock-ok" }] }
    ]
  }
}

export type Kind =
  | "json"
  | "stream"
  | "mock-json"
  | "mock-stream"
  | "flaky"
  | "failover"
  | "embeddings"
  | "models"
  | "fresh"
  | "cancel"
  | "glob"
  | "detailed"
  | "admin"
  | "reload"
  | "edit"

/** Client request kinds and their weights in the mix. */
const MIX: ReadonlyArray<readonly [Kind, number]> = [
  ["json", 28],
  ["stream", 18],
  ["mock-json", 8],
  ["mock-stream", 8],
  ["cancel", 10],
  ["flaky", 8],
  ["failover", 6],
  ["embeddings", 4],
  ["models", 3],
  ["fresh", 6],
  ["glob", 4],
  ["detailed", 1]
]

/** The kinds clients may send (every one of MIX unless some are left out, e.g. to find what grows). */
export const CLIENT_KINDS: ReadonlyArray<Kind> = MIX.map(([kind]) => kind)

/** mulberry32: a small seeded PRNG, so a run's mix is reproducible. */
const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A picker over the mix without `excluded` kinds. */
const picker = (excluded: ReadonlyArray<Kind>) => {
  const mix = MIX.filter(([kind]) => !excluded.includes(kind))
  const total = mix.reduce((n, [, w]) => n + w, 0)
  return (r: number): Kind => {
    let x = r * total
    for (const [kind, w] of mix) {
      x -= w
      if (x < 0) return kind
    }
    return mix[0]?.[0] ?? "json"
  }
}

/** Counts of outcomes per kind, and the unexpected ones described. */
export class Tally {
  readonly counts = new Map<Kind, Map<string, number>>()
  /** The first unexpected outcomes, described (the rest are only counted). */
  readonly unexpected: Array<string> = []
  unexpectedCount = 0
  total = 0

  add(kind: Kind, outcome: string, expected: boolean, detail = ""): void {
    const byOutcome = this.counts.get(kind) ?? new Map<string, number>()
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1)
    this.counts.set(kind, byOutcome)
    this.total++
    if (expected) return
    this.unexpectedCount++
    if (this.unexpected.length < 200)
      this.unexpected.push(`${kind}: ${outcome}${detail === "" ? "" : ` — ${detail.slice(0, 300)}`}`)
  }

  count(kind: Kind, outcome?: string): number {
    const byOutcome = this.counts.get(kind)
    if (byOutcome === undefined) return 0
    return outcome === undefined ? [...byOutcome.values()].reduce((a, b) => a + b, 0) : (byOutcome.get(outcome) ?? 0)
  }
}

const headers: OutgoingHttpHeaders = { "content-type": "application/json", authorization: `Bearer ${SOAK_MASTER_KEY}` }
const chat = (model: string, stream: boolean): string =>
  JSON.stringify({ model, messages: [{ role: "user", content: "soak" }], ...(stream ? { stream: true } : {}) })

/** The outcome of a JSON exchange: "200", "201", "500 provider_error" (an error's code), "socket", "timeout". */
const jsonOutcome = async (
  run: () => Promise<{ status: number; body: string }>
): Promise<{ outcome: string; body: string }> => {
  try {
    const r = await run()
    if (r.status >= 200 && r.status < 300) return { outcome: String(r.status), body: r.body }
    let code = "?"
    try {
      code = String((JSON.parse(r.body) as { error?: { code?: unknown } }).error?.code ?? "?")
    } catch {
      code = "not-json"
    }
    return { outcome: `${r.status} ${code}`, body: r.body }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    return { outcome: message === "timeout" ? "timeout" : "socket", body: message }
  }
}

/**
 * A stream the client abandons: reads until `chunks` events arrived, then destroys the connection.
 * "cancelled" when it did; "ended" when the stream ended first; failures otherwise.
 */
const abandon = (port: number, agent: Agent, body: string, chunks: number, timeoutMs: number): Promise<string> =>
  new Promise((resolve) => {
    let settled = false
    const done = (outcome: string) => {
      if (!settled) {
        settled = true
        resolve(outcome)
      }
    }
    const req = request(
      { host: "127.0.0.1", port, path: "/v1/chat/completions", method: "POST", headers, agent },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          res.on("end", () => done(`${res.statusCode ?? 0}`))
          return
        }
        let seen = 0
        res.on("data", (c: Buffer) => {
          seen += c.toString("latin1").split("\n\n").length - 1
          if (seen >= chunks) {
            req.destroy()
            done("cancelled")
          }
        })
        res.on("end", () => done("ended"))
        res.on("error", () => done(settled ? "cancelled" : "socket"))
      }
    )
    req.setTimeout(timeoutMs, () => {
      done("timeout")
      req.destroy()
    })
    req.on("error", () => done(settled ? "cancelled" : "socket"))
    req.end(body)
  })

export interface ClientOptions {
  readonly port: number
  readonly seed: number
  readonly until: () => boolean
  readonly timeoutMs: number
  readonly tally: Tally
  /** Kinds left out of the mix. */
  readonly exclude?: ReadonlyArray<Kind>
}

/** One closed-loop client on a keep-alive connection (plus a fresh one for the "fresh" kind). */
export const runClient = async (o: ClientOptions): Promise<void> => {
  const random = prng(o.seed)
  const pick = picker(o.exclude ?? [])
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const endpoint: Endpoint = { port: o.port, path: "/v1/chat/completions", headers }
  const stream = async (kind: Kind, model: string) => {
    const s = await streamOnce(endpoint, chat(model, true), agent, o.timeoutMs)
    o.tally.add(kind, s.ok ? "200" : (s.failure ?? "?"), s.ok)
  }
  const json = async (
    kind: Kind,
    allowed: (outcome: string) => boolean,
    run: () => Promise<{ status: number; body: string }>
  ) => {
    const { outcome, body } = await jsonOutcome(run)
    o.tally.add(kind, outcome, allowed(outcome), body)
  }
  const ok = (outcome: string) => outcome === "200"
  try {
    while (!o.until()) {
      const kind = pick(random())
      switch (kind) {
        case "json":
          await json(kind, ok, () => send(o.port, endpoint.path, chat("soak-json", false), headers, o.timeoutMs, agent))
          break
        case "stream":
          await stream(kind, "soak-stream")
          break
        case "mock-json":
          await json(kind, ok, () => send(o.port, endpoint.path, chat("soak-mock", false), headers, o.timeoutMs, agent))
          break
        case "mock-stream":
          await stream(kind, "soak-mock")
          break
        case "flaky":
          // The mock's injected failure is relayed as the upstream's 500 (code provider_error), and
          // opens the target's breaker now and then (503 at once); any other 500 is the gateway's.
          await json(
            kind,
            (x) => x === "200" || x === "500 provider_error" || x === "503 service_unavailable",
            () => send(o.port, endpoint.path, chat("soak-flaky", false), headers, o.timeoutMs, agent)
          )
          break
        case "failover":
          await json(kind, ok, () =>
            send(o.port, endpoint.path, chat("soak-failover", false), headers, o.timeoutMs, agent)
          )
          break
        case "embeddings":
          await json(kind, ok, () =>
            send(
              o.port,
              "/v1/embeddings",
              JSON.stringify({ model: "soak-embed", input: ["a", "b"] }),
              headers,
              o.timeoutMs,
              agent
            )
          )
          break
        case "models":
          await json(kind, ok, () => send(o.port, "/v1/models", undefined, headers, o.timeoutMs, agent))
          break
        case "glob":
          await json(kind, ok, () =>
            send(
              o.port,
              endpoint.path,
              chat(`soak-glob-${o.seed}-${Math.floor(random() * 2 ** 32).toString(36)}`, false),
              headers,
              o.timeoutMs,
              agent
            )
          )
          break
        case "detailed":
          await json(kind, ok, () => send(o.port, "/health/detailed", undefined, {}, o.timeoutMs, agent))
          break
        case "fresh":
          await json(kind, ok, () =>
            send(
              o.port,
              endpoint.path,
              chat("soak-json", false),
              { ...headers, connection: "close" },
              o.timeoutMs,
              false
            )
          )
          break
        case "cancel": {
          const outcome = await abandon(
            o.port,
            agent,
            chat("soak-long", true),
            2 + Math.floor(random() * 6),
            o.timeoutMs
          )
          o.tally.add(kind, outcome, outcome === "cancelled")
          break
        }
        default:
          break
      }
    }
  } finally {
    agent.destroy()
  }
}

export interface AdminOptions {
  readonly port: number
  readonly configPath: string
  readonly until: () => boolean
  readonly timeoutMs: number
  readonly tally: Tally
  readonly adminEveryMs: number
  readonly reloadEveryMs: number
  readonly editEveryMs: number
  /** Any of "admin", "reload", "edit" leaves that part out. */
  readonly exclude?: ReadonlyArray<Kind>
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * The admin loop, one operation at a time (the file is written by the admin API and by the edits;
 * sequential, they never race): a cycle of provider and key writes, API reloads, and file edits
 * that add or remove a model (written to a temporary file and renamed over, as editors do).
 */
export const runAdmin = async (o: AdminOptions): Promise<void> => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const call = async (
    kind: Kind,
    method: string,
    path: string,
    body: unknown,
    expected: number,
    key = SOAK_MASTER_KEY
  ) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const h: OutgoingHttpHeaders = {
      authorization: `Bearer ${key}`,
      ...(payload === undefined ? {} : { "content-type": "application/json" })
    }
    const { outcome, body: text } = await jsonOutcome(() =>
      sendMethod(o.port, method, path, payload, h, o.timeoutMs, agent)
    )
    const good = outcome === String(expected)
    o.tally.add(kind, `${method} ${outcome}`, good, `${path}: ${text}`)
    if (!good) return undefined
    try {
      return JSON.parse(text) as Record<string, unknown>
    } catch {
      return undefined
    }
  }
  try {
    const project = await call("admin", "POST", "/admin/v1/projects", { name: "soak" }, 201)
    const projectId = typeof project?.["id"] === "string" ? project["id"] : undefined
    let n = 0
    let step = 0
    let keyId: string | undefined
    let key: string | undefined
    let edited = false
    const start = performance.now()
    const left = (kind: Kind) => (o.exclude ?? []).includes(kind)
    let nextAdmin = left("admin") ? Number.POSITIVE_INFINITY : start
    let nextReload = left("reload") ? Number.POSITIVE_INFINITY : start + o.reloadEveryMs / 2
    let nextEdit = left("edit") ? Number.POSITIVE_INFINITY : start + o.editEveryMs / 3
    while (!o.until()) {
      const now = performance.now()
      if (now >= nextAdmin) {
        nextAdmin += o.adminEveryMs
        const provider = `soak-p-${n}`
        switch (step++ % 6) {
          case 0:
            await call(
              "admin",
              "POST",
              "/admin/v1/providers",
              { name: provider, kind: "mock", mock: { latency: "0ms" } },
              201
            )
            break
          case 1:
            if (projectId !== undefined) {
              const created = await call(
                "admin",
                "POST",
                "/admin/v1/keys",
                { name: `soak-k-${n}`, project_id: projectId },
                201
              )
              keyId = typeof created?.["id"] === "string" ? created["id"] : undefined
              key = typeof created?.["key"] === "string" ? created["key"] : undefined
            }
            break
          case 2:
            await call("admin", "PATCH", `/admin/v1/providers/${provider}`, { mock: { latency: "1ms" } }, 200)
            break
          case 3:
            if (key !== undefined) await call("admin", "GET", "/v1/models", undefined, 200, key)
            break
          case 4:
            await call("admin", "DELETE", `/admin/v1/providers/${provider}`, undefined, 200)
            break
          case 5:
            if (keyId !== undefined) await call("admin", "DELETE", `/admin/v1/keys/${keyId}`, undefined, 200)
            keyId = undefined
            key = undefined
            n++
            break
        }
      } else if (now >= nextReload) {
        nextReload += o.reloadEveryMs
        await call("reload", "POST", "/admin/v1/config/reload", {}, 200)
      } else if (now >= nextEdit) {
        nextEdit += o.editEveryMs
        try {
          const doc = parse(readFileSync(o.configPath, "utf8")) as { models: Array<Record<string, unknown>> }
          doc.models = edited
            ? doc.models.filter((m) => m["name"] !== "soak-edited")
            : [...doc.models, { name: "soak-edited", targets: [{ provider: "mock-ok" }] }]
          edited = !edited
          const tmp = `${o.configPath}.soak-edit`
          writeFileSync(tmp, stringify(doc))
          renameSync(tmp, o.configPath)
          o.tally.add("edit", edited ? "added" : "removed", true)
        } catch (e) {
          o.tally.add("edit", "failed", false, e instanceof Error ? e.message : String(e))
        }
      } else {
        await sleep(Math.max(1, Math.min(nextAdmin, nextReload, nextEdit, now + 1_000) - now))
      }
    }
  } finally {
    agent.destroy()
  }
}

/** `send` with any method (the bench's helper sends GET without a body and POST with one). */
const sendMethod = (
  port: number,
  method: string,
  path: string,
  body: string | undefined,
  h: OutgoingHttpHeaders,
  timeoutMs: number,
  agent: Agent
): Promise<{ status: number; body: string }> =>
  new Promise((ok, ko) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers: h, agent }, (res) => {
      const parts: Array<Buffer> = []
      res.on("data", (c: Buffer) => parts.push(c))
      res.on("end", () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }))
      res.on("error", ko)
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timeout")))
    req.on("error", ko)
    req.end(body)
  })
