// Multi-worker mode: several worker processes share the port (SO_REUSEPORT) under a supervisor.
// Both workers serve; a config change (SIGHUP) reaches every worker; SIGTERM drains every worker's
// in-flight streams before the supervisor exits 0.
import { writeFileSync } from "node:fs"
import { Agent, request } from "node:http"
import { stringify } from "yaml"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, launchGateway, type GatewayProcess } from "./gateway.ts"
import { MASTER_KEY, runtime, store } from "./harness.ts"

interface Health {
  readonly models: number
  readonly worker: { readonly id: number; readonly count: number }
}

/** GET/POST over `agent` (a fresh connection per request when agent is false). */
const send = (port: number, path: string, agent: Agent | false, body?: unknown) =>
  new Promise<{ readonly status: number; readonly text: string }>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = request({
      host: "127.0.0.1",
      port,
      path,
      agent,
      method: payload === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, ...(payload === undefined ? {} : { "content-type": "application/json" }) }
    }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (c: string) => (text += c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(payload)
  })

const health = async (port: number, agent: Agent | false = false): Promise<Health> => JSON.parse((await send(port, "/health", agent)).text) as Health

const config = (port: number, models: ReadonlyArray<string>) => ({
  server: { host: "127.0.0.1", port },
  master_key: MASTER_KEY,
  providers: [{ name: "mock", kind: "mock", mock: { chunks: 6, chunk_interval: "150ms" } }],
  models: models.map((name) => ({ name, targets: [{ provider: "mock" }] }))
})

describe(`[${runtime}] multi-worker mode`, () => {
  let gw: GatewayProcess | undefined
  let port = 0
  const gateway = () => {
    if (gw === undefined) throw new Error("gateway not started")
    return gw
  }

  beforeAll(async () => {
    port = await freePort()
    gw = await launchGateway({ runtime, config: config(port, ["one"]), port, env: { LLMGATE_WORKERS: "2" } })
  })
  afterAll(async () => {
    if (gw !== undefined && !gw.hasExited()) await gw.stop("SIGKILL", 2_000)
  })

  it("both workers serve the port", async () => {
    // Readiness means one worker listens; the other may still be starting.
    const seen = new Set<number>()
    const deadline = Date.now() + 15_000
    while (seen.size < 2 && Date.now() < deadline) {
      const h = await health(port)
      expect(h.worker.count).toBe(2)
      seen.add(h.worker.id)
      if (seen.size < 2) await new Promise((r) => setTimeout(r, 20))
    }
    expect([...seen].sort()).toEqual([0, 1])
  })

  describe.skipIf(store === "postgres")("(skipped with the config in Postgres: edits the config file)", () => {
    it("a config change (SIGHUP to the supervisor) reaches every worker", async () => {
      writeFileSync(gateway().configPath, stringify(config(port, ["one", "two", "three"])))
      process.kill(gateway().pid ?? 0, "SIGHUP")
      const updated = new Set<number>()
      const deadline = Date.now() + 10_000
      while (updated.size < 2 && Date.now() < deadline) {
        const h = await health(port)
        if (h.models === 3) updated.add(h.worker.id)
        else await new Promise((r) => setTimeout(r, 50))
      }
      expect([...updated].sort()).toEqual([0, 1])
      const models = JSON.parse((await send(port, "/v1/models", false)).text) as { data: Array<{ id: string }> }
      expect(models.data.map((m) => m.id)).toEqual(["one", "two", "three"])
    })
  })

  it("SIGTERM drains every worker's in-flight streams, then the supervisor exits 0", async () => {
    // One keep-alive connection per stream: its /health says which worker holds it.
    const streams: Array<{ readonly worker: number; readonly done: Promise<{ readonly status: number; readonly text: string }> }> = []
    const workers = new Set<number>()
    for (let i = 0; i < 16 && (workers.size < 2 || streams.length < 4); i++) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 })
      const { worker } = await health(port, agent)
      workers.add(worker.id)
      streams.push({
        worker: worker.id,
        done: send(port, "/v1/chat/completions", agent, { model: "one", stream: true, messages: [{ role: "user", content: `s${i}` }] })
      })
    }
    expect([...workers].sort()).toEqual([0, 1])
    await new Promise((r) => setTimeout(r, 200))
    const exit = await gateway().stop("SIGTERM", 15_000)
    const results = await Promise.all(streams.map((s) => s.done))
    for (const r of results) {
      expect(r.status).toBe(200)
      expect(r.text.trimEnd().endsWith("data: [DONE]")).toBe(true)
      expect(r.text).not.toContain(`"error"`)
    }
    expect(exit).toEqual({ code: 0, signal: null })
  }, 30_000)
})
