// Config in Postgres, across replicas: `llmgate import` seeds the catalog, two gateway processes share
// the database (one chose it with store.postgres.url, the other with DATABASE_URL), and a model row
// written straight into the database (as the admin API will) reaches both within a second. An invalid
// row is refused by both, which keep serving the running config. Startup refuses Postgres mode
// without LLMGATE_ENCRYPTION_KEY and names an unreachable database without its password. Needs
// Postgres (LLMGATE_TEST_DATABASE_URL); skipped when unreachable, except under CI=true where it fails.
import postgres from "postgres"
import { afterAll, beforeAll, describe, expect, it, onTestFinished, type TestContext } from "vitest"
import { stringify } from "yaml"
import { withTestDatabase } from "../support/postgres.ts"
import { cleanupTempDirs, freePort, launchGateway, runUntilExit, writeConfig, type GatewayProcess } from "./gateway.ts"
import {
  ENCRYPTION_KEY,
  findLeaks,
  httpClient,
  MASTER_KEY,
  runCli,
  PROVIDER_KEY,
  runtime,
  store,
  type ChatCompletion,
  type ModelList
} from "./harness.ts"
import { startUpstream, type Upstream } from "./upstream/server.ts"

let upstream: Upstream
beforeAll(async () => {
  upstream = await startUpstream()
})
afterAll(async () => {
  await upstream?.close()
  cleanupTempDirs()
})

/** The catalog `llmgate import` seeds: one upstream provider (with its key) and one model. */
const seedConfig = () => ({
  providers: [
    { name: "up-a", kind: "openai", base_url: upstream.baseUrl, api_key: PROVIDER_KEY, timeout: { request: "10s" } }
  ],
  models: [{ name: "seeded", targets: [{ provider: "up-a", model: "upstream-seeded" }] }]
})

const client = (url: string): postgres.Sql => {
  const sql = postgres(url, { max: 2, onnotice: () => undefined })
  onTestFinished(() => sql.end({ timeout: 5 }))
  return sql
}

interface Pair {
  readonly sql: postgres.Sql
  readonly gateways: ReadonlyArray<GatewayProcess>
  readonly clients: ReadonlyArray<ReturnType<typeof httpClient>>
  readonly bodies: Array<string>
}

/** A fresh database seeded by `llmgate import`, and two gateways serving from it. */
const startPair = async (ctx: TestContext): Promise<Pair> => {
  const db = await withTestDatabase(ctx)
  const env = { LLMGATE_ENCRYPTION_KEY: ENCRYPTION_KEY }
  const imported = await runCli(["import", writeConfig(seedConfig())], { ...env, DATABASE_URL: db.url })
  expect(imported.code, imported.out).toBe(0)
  expect(imported.out).toContain("1 provider (1 secret encrypted), 1 model, 0 routes")

  const [portA, portB] = [await freePort(), await freePort()]
  const gateways = await Promise.all([
    launchGateway({
      runtime,
      port: portA,
      env,
      config: { master_key: MASTER_KEY, store: { postgres: { url: db.url } } }
    }),
    launchGateway({ runtime, port: portB, env: { ...env, DATABASE_URL: db.url }, config: { master_key: MASTER_KEY } })
  ])
  onTestFinished(async () => {
    await Promise.all(gateways.map((g) => g.stop("SIGTERM", 10_000)))
  })
  const bodies: Array<string> = []
  return { sql: client(db.url), gateways, clients: gateways.map((g) => httpClient(() => g.baseUrl, bodies)), bodies }
}

const modelIds = async (c: Pair["clients"][number]): Promise<Array<string>> => {
  const r = await c.get("/v1/models")
  expect(r.status, r.text).toBe(200)
  return r.json<ModelList>().data.map((m) => m.id)
}

const chat = async (c: Pair["clients"][number], model: string): Promise<string> => {
  const r = await c.post("/v1/chat/completions", { model, messages: [{ role: "user", content: "hi" }] })
  expect(r.status, r.text).toBe(200)
  return r.json<ChatCompletion>().choices[0]?.message.content ?? ""
}

/** Polls `check` on every gateway until it holds on all; returns the ms it took. */
const onAll = async (
  pair: Pair,
  check: (c: Pair["clients"][number]) => Promise<boolean>,
  what: string,
  timeoutMs = 1_000
) => {
  const start = performance.now()
  for (;;) {
    const done = await Promise.all(pair.clients.map(check))
    if (done.every(Boolean)) return performance.now() - start
    if (performance.now() - start > timeoutMs)
      throw new Error(`not every gateway saw ${what} within ${timeoutMs} ms: ${JSON.stringify(done)}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const modelSpec = (name: string, upstreamModel: string, provider = "up-a") =>
  ({ name, targets: [{ provider, model: upstreamModel }] }) as postgres.JSONValue

describe.skipIf(store === "postgres")(
  `[${runtime}] config in Postgres, shared by two gateways (skipped with the config in Postgres: manages its own databases, run in contract-node)`,
  () => {
    it("serves the imported catalog (secret opened); a row inserted, then updated, reaches both within a second", async (ctx) => {
      const pair = await startPair(ctx)
      for (const c of pair.clients) {
        expect(await modelIds(c)).toEqual(["seeded"])
        expect(await chat(c, "seeded")).toBe("upstream reply for upstream-seeded")
      }
      const sent = upstream.recorder.find((r) => r.headers["authorization"] === `Bearer ${PROVIDER_KEY}`)
      expect(sent.length, "the provider key (sealed in the database) went upstream").toBeGreaterThanOrEqual(2)
      expect(pair.gateways[0]?.stdout()).toContain("config:          postgres 127.0.0.1:")

      await pair.sql`insert into models (name, position, spec) values ('from-db', 1, ${pair.sql.json(modelSpec("from-db", "upstream-v1"))})`
      const inserted = await onAll(pair, async (c) => (await modelIds(c)).includes("from-db"), "the inserted model")
      expect(inserted).toBeLessThan(1_000)
      for (const c of pair.clients) expect(await chat(c, "from-db")).toBe("upstream reply for upstream-v1")

      await pair.sql`update models set spec = ${pair.sql.json(modelSpec("from-db", "upstream-v2"))}, updated_at = now() where name = 'from-db'`
      const updated = await onAll(
        pair,
        async (c) => (await chat(c, "from-db")) === "upstream reply for upstream-v2",
        "the updated model"
      )
      expect(updated).toBeLessThan(1_000)

      const output = pair.gateways.map((g) => g.stdout() + g.stderr()).join("\n")
      expect(findLeaks(output + pair.bodies.join("\n")), "secrets in output or bodies").toEqual([])

      // SIGTERM: the listener and the pool close with the gateway, which exits 0 promptly.
      const started = performance.now()
      const exits = await Promise.all(pair.gateways.map((g) => g.stop("SIGTERM", 10_000)))
      expect(exits.map((e) => e.code)).toEqual([0, 0])
      expect(performance.now() - started).toBeLessThan(5_000)
    })

    it("an invalid row is rejected by both gateways, which keep serving; fixing it is picked up", async (ctx) => {
      const pair = await startPair(ctx)
      await pair.sql`insert into models (name, position, spec) values ('broken', 1, ${pair.sql.json(modelSpec("broken", "x", "no-such-provider"))})`
      for (const g of pair.gateways) {
        await expectEventually(
          () => g.stdout() + g.stderr(),
          'models["broken"].targets[0].provider: unknown provider "no-such-provider"'
        )
      }
      for (const c of pair.clients) {
        expect(await modelIds(c)).toEqual(["seeded"])
        expect(await chat(c, "seeded")).toBe("upstream reply for upstream-seeded")
      }
      await pair.sql`update models set spec = ${pair.sql.json(modelSpec("broken", "upstream-fixed"))} where name = 'broken'`
      await onAll(pair, async (c) => (await modelIds(c)).includes("broken"), "the fixed model")
      for (const c of pair.clients) expect(await chat(c, "broken")).toBe("upstream reply for upstream-fixed")
    })

    it("refuses to start in Postgres mode without LLMGATE_ENCRYPTION_KEY, and names an unreachable database", async () => {
      const port = await freePort()
      const noKey = await runUntilExit({
        runtime,
        port,
        config: { master_key: MASTER_KEY },
        env: { DATABASE_URL: "postgres://llmgate@127.0.0.1:1/llmgate" }
      })
      expect(noKey.exit.code).toBe(1)
      expect(noKey.stderr).toContain("needs LLMGATE_ENCRYPTION_KEY")
      expect(noKey.stderr).toContain("LLMGATE_ALLOW_PLAINTEXT_SECRETS=1")

      const down = await runUntilExit({
        runtime,
        port,
        config: stringify({
          master_key: MASTER_KEY,
          store: { postgres: { url: "postgres://llmgate:pw-NOT-SHOWN@127.0.0.1:1/llmgate_db" } }
        }),
        env: { LLMGATE_ENCRYPTION_KEY: ENCRYPTION_KEY }
      })
      expect(down.timedOut).toBe(false)
      expect(down.exit.code).toBe(1)
      expect(down.stderr).toContain("cannot connect to Postgres at 127.0.0.1:1/llmgate_db")
      expect(down.stdout + down.stderr).not.toContain("pw-NOT-SHOWN")
    })
  }
)

const expectEventually = async (read: () => string, needle: string, timeoutMs = 2_000): Promise<void> => {
  const end = performance.now() + timeoutMs
  while (!read().includes(needle)) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${JSON.stringify(needle)} in:\n${read()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
