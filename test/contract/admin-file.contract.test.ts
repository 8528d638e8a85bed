// The admin API writing back to the config file: create a key through the API, use it at once; a second
// gateway on the same file (as another worker or replica) picks it up through its file watcher; the file
// keeps its comments and holds only the key's hash; after a restart the key still works.
import { readFileSync } from "node:fs"
import { afterAll, describe, expect, it } from "vitest"
import { cleanupTempDirs, freePort, launchGateway, type GatewayProcess } from "./gateway.ts"
import { findLeaks, MASTER_KEY, runtime, sleep, store } from "./harness.ts"

const configText = (port: number) => `# admin-file contract config (kept across writes)
server: { host: 127.0.0.1, port: ${port} }
master_key: \${LLMGATE_CONTRACT_MASTER} # from the environment
providers:
  - name: mock # the only provider
    kind: mock
    mock: { chunks: 2, chunk_interval: 1ms }
models:
  - name: mock-chat
    targets: [{ provider: mock }]
  - name: other-chat
    targets: [{ provider: mock }]
projects:
  - id: prj_files
    name: Files
`

const chat = (gw: GatewayProcess, key: string, model = "mock-chat") =>
  fetch(`${gw.baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] })
  }).then(async (r) => ({ status: r.status, text: await r.text() }))

describe.skipIf(store === "postgres")(
  `[${runtime}] admin API in file mode (skipped with the config in Postgres: the API writes the file)`,
  () => {
    const started: Array<GatewayProcess> = []
    afterAll(async () => {
      await Promise.all(started.filter((g) => !g.hasExited()).map((g) => g.stop("SIGTERM", 10_000)))
      cleanupTempDirs()
    })
    const env = { LLMGATE_CONTRACT_MASTER: MASTER_KEY }

    it("a key created through the API works at once, on a second gateway on the file, and after a restart", async () => {
      const port = await freePort()
      const a = await launchGateway({ runtime, port, config: configText(port), env })
      started.push(a)
      const port2 = await freePort()
      const b = await launchGateway({ runtime, port: port2, config: undefined, configPath: a.configPath, env })
      started.push(b)

      const r = await fetch(`${a.baseUrl}/admin/v1/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "api-made", project_id: "prj_files", models: ["mock-*"] })
      })
      const created = (await r.json()) as Record<string, unknown>
      expect(r.status, JSON.stringify(created)).toBe(201)
      expect(r.headers.get("etag")).toBe(`"${String(created["etag"])}"`)
      const key = String(created["key"])
      expect(key).toMatch(/^sk-lg-[0-9A-Za-z]{32}$/)

      expect((await chat(a, key)).status).toBe(200)
      expect((await chat(a, key, "other-chat")).status).toBe(403)

      // the other gateway hears the file change
      const deadline = Date.now() + 5_000
      let onB = await chat(b, key)
      while (onB.status !== 200 && Date.now() < deadline) {
        await sleep(50)
        onB = await chat(b, key)
      }
      expect(onB.status, onB.text).toBe(200)

      const text = readFileSync(a.configPath, "utf8")
      expect(text).toContain("# admin-file contract config (kept across writes)")
      expect(text).toContain("# the only provider")
      expect(text).toContain("master_key: ${LLMGATE_CONTRACT_MASTER}")
      expect(text).not.toContain(key)
      expect(text).not.toContain(MASTER_KEY)
      expect(readFileSync(`${a.configPath}.audit.jsonl`, "utf8")).toContain('"action":"create"')

      // the key survives a restart
      await Promise.all([a.stop("SIGTERM", 10_000), b.stop("SIGTERM", 10_000)])
      const c = await launchGateway({ runtime, port, config: undefined, configPath: a.configPath, env })
      started.push(c)
      expect((await chat(c, key)).status).toBe(200)

      // and it can be listed and revoked through the API
      const listed = await fetch(`${c.baseUrl}/admin/v1/keys?project_id=prj_files`, {
        headers: { authorization: `Bearer ${MASTER_KEY}` }
      })
      const page = (await listed.json()) as { data: Array<Record<string, unknown>> }
      expect(page.data.map((k) => k["name"])).toEqual(["api-made"])
      const revoke = await fetch(`${c.baseUrl}/admin/v1/keys/${String(created["id"])}`, {
        method: "PATCH",
        headers: {
          authorization: `Bearer ${MASTER_KEY}`,
          "content-type": "application/json",
          "if-match": `"${String(page.data[0]?.["etag"])}"`
        },
        body: JSON.stringify({ enabled: false })
      })
      expect(revoke.status, await revoke.text()).toBe(200)
      expect((await chat(c, key)).status).toBe(401)
      expect(findLeaks(started.map((g) => g.stdout() + g.stderr()).join("\n"))).toEqual([])
      expect(started.map((g) => g.stdout() + g.stderr()).join("\n")).not.toContain(key)
    })
  }
)
