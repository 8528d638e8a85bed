// One gateway on several worker threads. The gateway runs with two workers sharing the port, and the
// requests are spread over both: on keep-alive connections pinned to a known worker (each
// connection's `GET /health` names the worker that holds it), or on fresh connections
// (`Connection: close`) that the kernel spreads. Every promise the README makes holds as with one
// worker: round-robin and smooth-weighted order across workers, least_busy sees the other worker's
// requests, one half-open probe in total, max_concurrency caps the gateway's total, a key created
// through the admin API works on the next request whichever worker serves it, a config edit
// followed at once by an invalid one leaves every worker on the valid version, a crashed worker is
// replaced while the other loses no request; SIGHUP reaches every worker, SIGTERM drains them all.
import { readFileSync, writeFileSync } from "node:fs"
import { Agent, request } from "node:http"
import { parse, stringify } from "yaml"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, launchGateway, type GatewayProcess } from "./gateway.ts"
import { type Health, itLeaksNoSecrets, MASTER_KEY, runtime, sleep, store } from "./harness.ts"
import { provider, useRouting } from "./routing.ts"
import { fail, slow } from "./upstream/controlled.ts"

const WORKERS = 2

interface Reply {
  readonly status: number
  readonly text: string
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
}

/** One HTTP exchange over `agent` (a fresh connection with `Connection: close` when false). */
const send = (
  port: number,
  method: string,
  path: string,
  agent: Agent | false,
  body?: unknown,
  key: string | null = MASTER_KEY
) =>
  new Promise<Reply>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        agent,
        method,
        headers: {
          ...(key === null ? {} : { authorization: `Bearer ${key}` }),
          ...(payload === undefined ? {} : { "content-type": "application/json" }),
          ...(agent === false ? { connection: "close" } : {})
        }
      },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (c: string) => (text += c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }))
        res.on("error", reject)
      }
    )
    req.on("error", reject)
    req.end(payload)
  })

const chat = (model: string, content = "hi") => ({ model, messages: [{ role: "user", content }] })

/** Keep-alive connections, each one held by a known worker. */
interface Pinned {
  readonly agent: Agent
  readonly worker: number
}

/**
 * Opens connections until there are `perWorker` on each worker (a connection's /health says which
 * worker accepted it; the kernel spreads new connections over the workers).
 */
const pinConnections = async (port: number, perWorker: number): Promise<Array<Array<Pinned>>> => {
  const byWorker: Array<Array<Pinned>> = Array.from({ length: WORKERS }, () => [])
  for (let i = 0; i < 200 && byWorker.some((w) => w.length < perWorker); i++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const health = JSON.parse((await send(port, "GET", "/health", agent)).text) as Health
    const list = byWorker[health.worker.id]!
    if (list.length < perWorker) list.push({ agent, worker: health.worker.id })
    else agent.destroy()
  }
  for (const [id, list] of byWorker.entries()) expect(list.length, `connections held by worker ${id}`).toBe(perWorker)
  return byWorker
}

const release = (pinned: ReadonlyArray<ReadonlyArray<Pinned>>) => {
  for (const list of pinned) for (const p of list) p.agent.destroy()
}

/** GET /health on fresh connections until every worker answered; answers each worker's report. */
const everyWorker = async (port: number, timeoutMs = 10_000): Promise<Map<number, Health>> => {
  const seen = new Map<number, Health>()
  const end = Date.now() + timeoutMs
  while (seen.size < WORKERS && Date.now() < end) {
    try {
      const h = JSON.parse((await send(port, "GET", "/health", false, undefined, null)).text) as Health
      seen.set(h.worker.id, h)
    } catch {
      await sleep(20)
    }
  }
  return seen
}

describe(`[${runtime}] one gateway on ${WORKERS} worker threads`, () => {
  const ctx = useRouting({
    workers: WORKERS,
    upstreams: ["w1", "w2", "w3"],
    config: ({ url }) => ({
      providers: [
        provider("p-w1", url("w1")),
        provider("p-w2", url("w2")),
        provider("p-w3", url("w3")),
        provider("p-probe", url("w1"), {
          breaker: { failure_rate: 0.5, min_requests: 2, window: "10s", cooldown: "1s" }
        }),
        { name: "mock-fast", kind: "mock", mock: { latency: "0ms" } },
        { name: "mock-crash", kind: "mock", mock: { crash_rate: 1 } }
      ],
      models: [
        {
          name: "rr",
          strategy: "round_robin",
          targets: [
            { provider: "p-w1", model: "rr" },
            { provider: "p-w2", model: "rr" },
            { provider: "p-w3", model: "rr" }
          ]
        },
        {
          name: "weighted",
          strategy: "weighted",
          targets: [
            { provider: "p-w1", model: "wt", weight: 3 },
            { provider: "p-w2", model: "wt", weight: 1 }
          ]
        },
        {
          name: "busy",
          strategy: "least_busy",
          targets: [
            { provider: "p-w1", model: "busy" },
            { provider: "p-w2", model: "busy" }
          ]
        },
        { name: "probe", targets: [{ provider: "p-probe", model: "probe" }] },
        { name: "capped", targets: [{ provider: "p-w3", model: "cap", max_concurrency: 2 }] },
        {
          name: "capped-queue",
          targets: [{ provider: "p-w3", model: "capq", max_concurrency: 2, queue: { size: 10, timeout: "10s" } }]
        },
        { name: "fast", targets: [{ provider: "mock-fast" }] },
        { name: "crash", targets: [{ provider: "mock-crash" }] }
      ]
    })
  })
  const port = () => ctx.gateway.port

  it("both workers serve the port and report the same config version", async () => {
    const seen = await everyWorker(port())
    expect([...seen.keys()].sort()).toEqual([0, 1])
    for (const h of seen.values()) {
      expect(h.worker.count).toBe(WORKERS)
      expect(h.workers).toEqual([
        { id: 0, config_version: h.config_version },
        { id: 1, config_version: h.config_version }
      ])
    }
  })

  it("round_robin keeps one order across workers: 30 requests alternating workers split 10/10/10 in turn", async () => {
    const [w0, w1] = await pinConnections(port(), 1)
    try {
      const providers: Array<string> = []
      for (let i = 0; i < 30; i++) {
        const via = (i % 2 === 0 ? w0 : w1)![0]!
        const r = await send(port(), "POST", "/v1/chat/completions", via.agent, chat("rr"))
        expect(r.status, r.text).toBe(200)
        providers.push(String(r.headers["x-llmgate-provider"]))
      }
      const first = providers.indexOf("p-w1")
      const cycle = ["p-w1", "p-w2", "p-w3"]
      expect(providers).toEqual(Array.from({ length: 30 }, (_, i) => cycle[(i + first) % 3]))
      for (const p of cycle) expect(providers.filter((x) => x === p)).toHaveLength(10)
    } finally {
      release([w0!, w1!])
    }
  })

  it("weighted (3:1) keeps nginx's smooth sequence across workers", async () => {
    const [w0, w1] = await pinConnections(port(), 1)
    try {
      const providers: Array<string> = []
      for (let i = 0; i < 16; i++) {
        const r = await send(
          port(),
          "POST",
          "/v1/chat/completions",
          (i % 2 === 0 ? w0 : w1)![0]!.agent,
          chat("weighted")
        )
        expect(r.status, r.text).toBe(200)
        providers.push(String(r.headers["x-llmgate-provider"]) === "p-w1" ? "a" : "b")
      }
      expect(providers.join("")).toBe("aabaaaba".repeat(2))
    } finally {
      release([w0!, w1!])
    }
  })

  it("least_busy sends the next request away from the target another worker keeps busy", async () => {
    ctx.up("w1").mode = slow(1_500)
    ctx.up("w2").mode = slow(1_500)
    const [w0, w1] = await pinConnections(port(), 1)
    try {
      const first = send(port(), "POST", "/v1/chat/completions", w0![0]!.agent, chat("busy"))
      const deadline = Date.now() + 5_000
      while (ctx.up("w1").inFlight + ctx.up("w2").inFlight === 0 && Date.now() < deadline) await sleep(10)
      const busy = ctx.up("w1").inFlight === 1 ? "p-w1" : "p-w2"
      const second = await send(port(), "POST", "/v1/chat/completions", w1![0]!.agent, chat("busy"))
      expect(second.status, second.text).toBe(200)
      expect(second.headers["x-llmgate-provider"], "the other worker's request made this target busy").not.toBe(busy)
      const r = await first
      expect(r.headers["x-llmgate-provider"]).toBe(busy)
    } finally {
      release([w0!, w1!])
    }
  })

  it("a half-open breaker lets exactly one probe through in total, whichever worker each request reaches", async () => {
    const w1 = ctx.up("w1")
    w1.mode = fail(500)
    for (let i = 0; i < 2; i++)
      expect((await send(port(), "POST", "/v1/chat/completions", false, chat("probe"))).status).toBe(500)
    await ctx.waitForState("probe", "p-probe", "half_open")
    w1.mode = slow(1_000)
    const pinned = await pinConnections(port(), 3)
    try {
      const sent = w1.requests().length
      const replies = await Promise.all(
        pinned.flat().map((p) => send(port(), "POST", "/v1/chat/completions", p.agent, chat("probe")))
      )
      expect(w1.requests().length - sent, "probes that reached the upstream").toBe(1)
      expect(replies.filter((r) => r.status === 200)).toHaveLength(1)
      const refused = replies.filter((r) => r.status !== 200)
      expect(refused).toHaveLength(5)
      for (const r of refused) expect(r.status, r.text).toBe(503)
      expect(await ctx.target("probe", "p-probe")).toMatchObject({ state: "closed", in_flight: 0 })
    } finally {
      release(pinned)
    }
  })

  it("max_concurrency caps the gateway's total: 2 in flight across both workers, the rest refused", async () => {
    const w3 = ctx.up("w3")
    w3.mode = slow(800)
    const pinned = await pinConnections(port(), 3)
    try {
      const replies = await Promise.all(
        pinned.flat().map((p) => send(port(), "POST", "/v1/chat/completions", p.agent, chat("capped")))
      )
      expect(w3.maxInFlight, "requests the upstream had at once").toBe(2)
      expect(replies.filter((r) => r.status === 200)).toHaveLength(2)
      const refused = replies.filter((r) => r.status !== 200)
      expect(refused).toHaveLength(4)
      for (const r of refused) expect(JSON.parse(r.text)).toMatchObject({ error: { code: "concurrency_limit" } })
      expect(await ctx.target("capped", "p-w3")).toMatchObject({ active: 0, queued: 0, in_flight: 0 })
    } finally {
      release(pinned)
    }
  })

  it("a queued request is woken by a permit another worker frees: all served, never more than the cap at once", async () => {
    const w3 = ctx.up("w3")
    w3.mode = slow(300)
    const pinned = await pinConnections(port(), 4)
    try {
      const replies = await Promise.all(
        pinned.flat().map((p) => send(port(), "POST", "/v1/chat/completions", p.agent, chat("capped-queue")))
      )
      for (const r of replies) expect(r.status, r.text).toBe(200)
      expect(w3.maxInFlight).toBe(2)
      expect(await ctx.target("capped-queue", "p-w3")).toMatchObject({ active: 0, queued: 0, in_flight: 0 })
    } finally {
      release(pinned)
    }
  })

  describe.skipIf(store === "postgres")(
    "(skipped in the Postgres project: edits the config file, which this suite runs on)",
    () => {
      it("a key created through the admin API works on the next 100 requests, whichever worker serves them", async () => {
        const before = (await everyWorker(port())).get(0)!.config_version
        const project = await send(port(), "POST", "/admin/v1/projects", false, { name: "Workers" })
        expect(project.status, project.text).toBe(201)
        const created = await send(port(), "POST", "/admin/v1/keys", false, {
          name: "fresh",
          project_id: (JSON.parse(project.text) as { id: string }).id
        })
        expect(created.status, created.text).toBe(201)
        const key = (JSON.parse(created.text) as { key: string }).key
        const statuses = new Map<number, number>()
        for (let i = 0; i < 100; i++) {
          const r = await send(port(), "GET", "/v1/models", false, undefined, key)
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
        }
        expect(Object.fromEntries(statuses)).toEqual({ 200: 100 })
        // The write answered once every worker served it.
        for (const h of (await everyWorker(port())).values()) {
          expect(h.config_version).toBe(before + 2)
          expect(h.workers.map((w) => w.config_version)).toEqual([before + 2, before + 2])
        }
      })

      it("a valid config edit followed at once by an invalid one leaves every worker on the valid version", async () => {
        const path = ctx.gateway.configPath
        const valid = readFileSync(path, "utf8")
        const before = (await everyWorker(port())).get(0)!.config_version
        const doc = parse(valid) as { models: Array<Record<string, unknown>> }
        doc.models.push({ name: "added-by-edit", targets: [{ provider: "mock-fast" }] })
        const edited = stringify(doc)
        try {
          writeFileSync(path, edited)
          // The invalid edit lands as soon as one worker has the valid version, while the push to the
          // other may still be under way. (A fixed pause instead let a slow machine's watcher coalesce
          // both writes into one read of the invalid file, so the valid one was never seen at all.)
          const seenBy = Date.now() + 8_000
          while (Date.now() < seenBy) {
            const h = JSON.parse((await send(port(), "GET", "/health", false, undefined, null)).text) as Health
            if (h.config_version === before + 1) break
            await sleep(5)
          }
          writeFileSync(path, edited.replace("added-by-edit", "added-by-edit\n    bogus_field: 1"))
          const deadline = Date.now() + 8_000
          let versions: Array<number> = []
          while (Date.now() < deadline) {
            versions = [...(await everyWorker(port())).values()].map((h) => h.config_version)
            if (versions.length === WORKERS && versions.every((v) => v === before + 1)) break
            await sleep(50)
          }
          expect(versions).toEqual([before + 1, before + 1])
          // The invalid file was read and rejected, and stays rejected (the safety-net re-read included).
          await sleep(2_500)
          const [w0, w1] = await pinConnections(port(), 1)
          try {
            for (const p of [w0![0]!, w1![0]!]) {
              const models = JSON.parse((await send(port(), "GET", "/v1/models", p.agent)).text) as {
                data: Array<{ id: string }>
              }
              expect(
                models.data.map((m) => m.id),
                `models on worker ${p.worker}`
              ).toContain("added-by-edit")
              const h = JSON.parse((await send(port(), "GET", "/health", p.agent)).text) as Health
              expect(h.config_version).toBe(before + 1)
            }
          } finally {
            release([w0!, w1!])
          }
          expect(ctx.gateway.stdout() + ctx.gateway.stderr()).toMatch(/config change rejected[^\n]*\n[^\n]*bogus_field/)
        } finally {
          writeFileSync(path, valid)
        }
      })
    }
  )

  it("a worker that crashes mid-load is replaced; the other worker loses no request and in-flight counts are repaired", async () => {
    const [w0, w1] = await pinConnections(port(), 2)
    const survivor = w1!
    let stop = false
    const results: Array<number> = []
    // Steady load on the surviving worker's connections while worker 0 crashes.
    const load = Promise.all(
      survivor.map(async (p) => {
        while (!stop) {
          const r = await send(port(), "POST", "/v1/chat/completions", p.agent, chat("fast"))
          results.push(r.status)
        }
      })
    )
    try {
      await sleep(200)
      const crashed = send(port(), "POST", "/v1/chat/completions", w0![0]!.agent, chat("crash")).then(
        (r) => `answered ${r.status}`,
        (e: unknown) => `connection lost: ${String(e)}`
      )
      expect(await crashed).toMatch(/^connection lost/)
      await sleep(500)
      stop = true
      await load
      expect(results.length).toBeGreaterThan(10)
      expect(
        results.every((s) => s === 200),
        `statuses on the surviving worker: ${[...new Set(results)].join(",")}`
      ).toBe(true)
      // Replaced: both workers answer again, on the current config.
      const seen = await everyWorker(port(), 15_000)
      expect([...seen.keys()].sort()).toEqual([0, 1])
      const versions = new Set([...seen.values()].map((h) => h.config_version))
      expect(versions.size).toBe(1)
      expect(ctx.gateway.stdout() + ctx.gateway.stderr()).toMatch(/worker 1 exited .*restarting/)
      // What the dead worker held (the crashing request's in-flight count) was given back.
      expect(await ctx.target("crash", "mock-crash")).toMatchObject({ in_flight: 0 })
      for (let i = 0; i < 20; i++)
        expect((await send(port(), "POST", "/v1/chat/completions", false, chat("fast"))).status).toBe(200)
    } finally {
      stop = true
      release([w0!, survivor])
    }
  })

  itLeaksNoSecrets(ctx)
})

const signalConfig = (port: number, models: ReadonlyArray<string>) => ({
  server: { host: "127.0.0.1", port },
  master_key: MASTER_KEY,
  providers: [{ name: "mock", kind: "mock", mock: { chunks: 6, chunk_interval: "150ms" } }],
  models: models.map((name) => ({ name, targets: [{ provider: "mock" }] }))
})

describe(`[${runtime}] signals with ${WORKERS} worker threads`, () => {
  let gw: GatewayProcess | undefined
  let port = 0
  const gateway = () => {
    if (gw === undefined) throw new Error("gateway not started")
    return gw
  }

  beforeAll(async () => {
    port = await freePort()
    gw = await launchGateway({ runtime, config: signalConfig(port, ["one"]), port, workers: WORKERS })
  })
  afterAll(async () => {
    if (gw !== undefined && !gw.hasExited()) await gw.stop("SIGKILL", 2_000)
  })

  describe.skipIf(store === "postgres")("(skipped with the config in Postgres: edits the config file)", () => {
    it("SIGHUP reloads the config once, in the owner, and every worker serves it", async () => {
      writeFileSync(gateway().configPath, stringify(signalConfig(port, ["one", "two", "three"])))
      process.kill(gateway().pid ?? 0, "SIGHUP")
      const deadline = Date.now() + 10_000
      let seen = new Map<number, Health>()
      while (Date.now() < deadline) {
        seen = await everyWorker(port)
        if ([...seen.values()].every((h) => h.models === 3) && seen.size === WORKERS) break
        await sleep(50)
      }
      expect([...seen.values()].map((h) => h.models)).toEqual([3, 3])
      const models = JSON.parse((await send(port, "GET", "/v1/models", false)).text) as { data: Array<{ id: string }> }
      expect(models.data.map((m) => m.id)).toEqual(["one", "two", "three"])
    })
  })

  it("SIGTERM drains every worker's in-flight streams, then the process exits 0", async () => {
    const pinned = await pinConnections(port, 2)
    const streams = pinned.flat().map((p, i) =>
      send(port, "POST", "/v1/chat/completions", p.agent, {
        model: "one",
        stream: true,
        messages: [{ role: "user", content: `s${i}` }]
      })
    )
    await sleep(200)
    const exit = await gateway().stop("SIGTERM", 15_000)
    const results = await Promise.all(streams)
    for (const r of results) {
      expect(r.status).toBe(200)
      expect(r.text.trimEnd().endsWith("data: [DONE]")).toBe(true)
      expect(r.text).not.toContain(`"error"`)
    }
    expect(exit).toEqual({ code: 0, signal: null })
    release(pinned)
  }, 30_000)
})
