// Fault injection between the gateway and Postgres (issue 10, item 6). The machine's Postgres cannot
// be restarted from a test, so the gateway reaches it through a TCP proxy (test/support/tcpProxy.ts)
// that can reset every connection and refuse new ones for a while, as a restart (or a network cut)
// does. The gateway runs in Postgres mode with a 1 s safety-net re-read. Properties:
// - during an outage the running config keeps serving, a reload is refused with 503 in OpenAI's
//   shape, and what the gateway serves is always one whole catalog: the old one, then (after the
//   outage) the one committed meanwhile, never a mix and never back;
// - LISTEN is re-established after the outage (a listening session newer than the outage) and a
//   change made after recovery arrives within 2 s;
// - admin writes across an outage either succeed (and are in the database, the audit log and,
//   after recovery, the served config) or fail with a 5xx in OpenAI's shape and leave nothing behind;
//   writes after recovery succeed again.
// Needs Postgres (LLMGATE_TEST_DATABASE_URL). Runs in the Postgres project (contract-node-pg) only: the
// code under test (the Postgres config source and admin store) is the same on every runtime, and the
// outages cost seconds; the file projects skip it.
import postgres from "postgres"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { baseUrl, createTestDatabase } from "../support/postgres.ts"
import { startTcpProxy, throughProxy, type TcpProxy } from "../support/tcpProxy.ts"
import { within } from "../support/deadline.ts"
import { cleanupTempDirs, freePort, launchGateway, writeConfig, type GatewayProcess } from "./gateway.ts"
import {
  ENCRYPTION_KEY,
  findLeaks,
  httpClient,
  MASTER_KEY,
  runCli,
  runtime,
  sleep,
  store,
  type ModelList,
  type Res
} from "./harness.ts"

const OLD = ["gen1-a", "gen1-b", "gen1-c"]
const NEW = ["gen2-a", "gen2-b", "gen2-c"]
const OUTAGE_MS = 1_500
const WRITERS = 3

const modelRow = (name: string) => ({ name, targets: [{ provider: "m" }] })

/** The status and OpenAI error shape of a refused admin call. */
const expectCleanFailure = (r: Res, what: string) => {
  expect(r.status, `${what}: ${r.text}`).toBeGreaterThanOrEqual(500)
  expect(r.status, `${what}: ${r.text}`).not.toBe(500)
  expect(r.headers.get("content-type") ?? "", what).toMatch(/application\/json/)
  expect(r.json(), `${what}: ${r.text}`).toEqual({
    error: { message: expect.any(String), type: expect.any(String), param: null, code: expect.any(String) }
  })
}

describe.runIf(store === "postgres")(
  `[${runtime}] Postgres going away under the gateway (run in the Postgres project only)`,
  () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined
    let proxy: TcpProxy | undefined
    let gateway: GatewayProcess | undefined
    let sql: postgres.Sql | undefined
    const bodies: Array<string> = []
    const client = httpClient(() => need(gateway).baseUrl, bodies)
    function need<A>(a: A | undefined): A {
      if (a === undefined) throw new Error("faults-pg: not started (beforeAll failed?)")
      return a
    }

    beforeAll(async () => {
      db = await createTestDatabase()
      const seed = { providers: [{ name: "m", kind: "mock", mock: { latency: "0ms" } }], models: OLD.map(modelRow) }
      const imported = await runCli(["import", writeConfig(seed)], {
        LLMGATE_ENCRYPTION_KEY: ENCRYPTION_KEY,
        DATABASE_URL: db.url
      })
      if (imported.code !== 0) throw new Error(`llmgate import failed:\n${imported.out}`)
      const server = new URL(baseUrl())
      proxy = await startTcpProxy({ targetHost: server.hostname, targetPort: Number(server.port || "5432") })
      sql = postgres(db.url, { max: 2, onnotice: () => undefined })
      const port = await freePort()
      gateway = await launchGateway({
        runtime,
        port,
        env: { LLMGATE_ENCRYPTION_KEY: ENCRYPTION_KEY },
        config: {
          master_key: MASTER_KEY,
          store: { postgres: { url: throughProxy(db.url, proxy), reload_interval: "1s" } }
        }
      })
    })

    afterAll(async () => {
      await gateway?.stop("SIGTERM", 10_000)
      await sql?.end({ timeout: 5 })
      await proxy?.close()
      await db?.drop()
      cleanupTempDirs()
    })

    const served = async (): Promise<Array<string>> => {
      const r = await client.get("/v1/models")
      expect(r.status, r.text).toBe(200)
      return r
        .json<ModelList>()
        .data.map((m) => m.id)
        .sort()
    }

    const waitServed = async (
      check: (ids: Array<string>) => boolean,
      what: string,
      timeoutMs: number
    ): Promise<number> => {
      const t0 = performance.now()
      let last: Array<string> = []
      while (performance.now() - t0 < timeoutMs) {
        last = await served()
        if (check(last)) return performance.now() - t0
        await sleep(25)
      }
      throw new Error(
        `the gateway did not serve ${what} within ${timeoutMs} ms (serves ${last.join(", ")})\n${need(gateway).stdout()}${need(gateway).stderr()}`
      )
    }

    it("an outage during a hot reload: the old catalog keeps serving, then the new one whole, never a mix; LISTEN comes back", async () => {
      const db_ = need(db)
      const px = need(proxy)
      const direct = need(sql)
      expect(await served()).toEqual(OLD)

      // Sample what the gateway serves, all along.
      const samples: Array<string> = []
      let sampling = true
      const sampler = (async () => {
        // until told to stop and the last sample shows the new catalog (or 15 s)
        const end = performance.now() + 15_000
        while ((sampling || samples.at(-1) !== NEW.join(",")) && performance.now() < end) {
          samples.push((await served()).join(","))
          await sleep(20)
        }
      })()

      await px.refuse()
      px.drop()
      // The new catalog is committed while the gateway cannot hear it: one transaction, old models out, new in.
      await direct.begin(async (tx) => {
        await tx`delete from models`
        for (const [position, name] of NEW.entries()) {
          await tx`insert into models (name, position, spec) values (${name}, ${position}, ${tx.json(modelRow(name))})`
        }
      })
      // Meanwhile the running config serves, and a reload is refused cleanly.
      const chat = await client.post("/v1/chat/completions", {
        model: "gen1-a",
        messages: [{ role: "user", content: "still there?" }]
      })
      expect(chat.status, chat.text).toBe(200)
      const reload = await client.post("/admin/v1/config/reload", {})
      expectCleanFailure(reload, "a reload during the outage")
      expect(reload.status).toBe(503)
      await sleep(OUTAGE_MS)
      expect(await served(), "the old catalog all through the outage").toEqual(OLD)

      const recovered = performance.now()
      await px.accept()
      // The re-listen (or the safety-net re-read) brings the new catalog: after the 1 s interval, the
      // listener check and postgres.js's reconnection backoff (which grows with every failed attempt).
      await waitServed((ids) => ids.join(",") === NEW.join(","), "the catalog committed during the outage", 15_000)
      sampling = false
      await sampler
      const distinct = [...new Set(samples)]
      expect(
        distinct.every((s) => s === OLD.join(",") || s === NEW.join(",")),
        `served: ${distinct.join(" | ")}`
      ).toBe(true)
      const firstNew = samples.indexOf(NEW.join(","))
      expect(firstNew, "the new catalog was sampled").toBeGreaterThanOrEqual(0)
      expect(
        samples.slice(firstNew).every((s) => s === NEW.join(",")),
        "never back to the old catalog"
      ).toBe(true)

      // LISTEN is re-established: a listening session of the gateway started after the outage …
      const end = performance.now() + 10_000
      for (;;) {
        const [row] = await direct<Array<{ n: number }>>`
        select count(*)::int as n from pg_stat_activity
        where datname = ${db_.name} and query ilike 'listen%'
          and backend_start > now() - make_interval(secs => ${(performance.now() - recovered) / 1000})`
        if ((row?.n ?? 0) > 0) break
        if (performance.now() > end)
          throw new Error(`no LISTEN session after the outage\n${need(gateway).stdout()}${need(gateway).stderr()}`)
        await sleep(50)
      }
      // … and hears: a change made now arrives promptly.
      await direct`insert into models (name, position, spec) values ('gen3', 9, ${direct.json(modelRow("gen3"))})`
      await waitServed((ids) => ids.includes("gen3"), "a change made after the outage", 2_000)
      expect(await served()).toEqual([...NEW, "gen3"])
    }, 45_000)

    it("admin writes across an outage: each succeeds (and is stored, audited and served) or fails with a clean 5xx and leaves nothing", async () => {
      const px = need(proxy)
      const direct = need(sql)
      // The admin API works (the outage of the previous test is over for its pool too).
      await within(
        15_000,
        "an admin read after the previous outage",
        (async () => {
          while ((await client.get("/admin/v1/models")).status !== 200) await sleep(100)
        })()
      )
      interface Call {
        readonly op: "create-model" | "create-provider" | "delete-model"
        readonly name: string
        readonly res: Res
        readonly startedAt: number
        readonly endedAt: number
      }
      // Three writers at once (as automation would), each on its own names: with the admin pool's two
      // connections busy, a third write waits for one of them when the connections are reset.
      const calls: Array<Array<Call>> = Array.from({ length: WRITERS }, () => [])
      let stop = false
      const writer = async (k: number) => {
        /** This writer's names that exist after its successful calls so far. */
        const live = new Set<string>()
        for (let i = 0; !stop; i++) {
          const victim = [...live].find((n) => n.startsWith("w-"))
          const [op, name]: [Call["op"], string] =
            i % 4 === 3 && victim !== undefined
              ? ["delete-model", victim]
              : i % 2 === 0
                ? ["create-model", `w-${k}-${i}`]
                : ["create-provider", `pw-${k}-${i}`]
          const startedAt = performance.now()
          const sent =
            op === "delete-model"
              ? client.request("DELETE", `/admin/v1/models/${name}`)
              : op === "create-model"
                ? client.post("/admin/v1/models", modelRow(name))
                : client.post("/admin/v1/providers", { name, kind: "mock" })
          // A write that never answers is the failure this test is for: name it. Generous, as a write
          // queued during the outage waits for postgres.js's reconnection backoff (up to 20 s).
          // A lost connection is a failure too: say whether the gateway was still up, and what it said.
          const res = await within(
            25_000,
            `${op} ${name}`,
            sent.catch((e: unknown) => {
              const g = need(gateway)
              throw new Error(
                `${op} ${name}: ${e instanceof Error ? `${e.message} (${String(e.cause)})` : String(e)}; gateway exited: ${g.hasExited()}\n` +
                  `stderr: ${g.stderr().slice(-3000)}\nstdout: ${g.stdout().slice(-3000)}`
              )
            })
          )
          calls[k]!.push({ op, name, res, startedAt, endedAt: performance.now() })
          // A name whose write failed is left alone (that write may have committed with its answer lost):
          // each name sees one create and at most one delete, so every audit line names one call.
          if (res.status < 300 && op !== "delete-model") live.add(name)
          else live.delete(name)
          await sleep(15)
        }
      }
      const writers = Promise.all(calls.map((_, k) => writer(k)))
      const failure = writers.then(
        () => undefined,
        (e: unknown) => e
      )
      await sleep(400)
      const dropAt = performance.now()
      await px.outage(OUTAGE_MS)
      const backAt = performance.now()
      // Writes go on after the outage until a few have succeeded again.
      const deadline = performance.now() + 15_000
      while (
        calls.flat().filter((c) => c.startedAt > backAt && c.res.status < 300).length < 3 &&
        performance.now() < deadline
      ) {
        if ((await Promise.race([failure, sleep(50).then(() => undefined)])) !== undefined) break
      }
      stop = true
      const broken = await failure
      if (broken !== undefined) throw broken

      const all = calls.flat()
      const failed = all.filter((c) => c.res.status >= 300)
      const succeeded = all.filter((c) => c.res.status < 300)
      expect(failed.length, "writes refused during the outage").toBeGreaterThan(0)
      expect(succeeded.filter((c) => c.endedAt < dropAt).length, "writes before the outage").toBeGreaterThan(0)
      expect(succeeded.filter((c) => c.startedAt > backAt).length, "writes after the outage").toBeGreaterThanOrEqual(3)
      for (const c of failed) expectCleanFailure(c.res, `${c.op} ${c.name}`)
      for (const c of succeeded)
        expect(c.res.status, `${c.op} ${c.name}: ${c.res.text}`).toBe(c.op === "delete-model" ? 200 : 201)

      const stored = new Set([
        ...(await direct<Array<{ name: string }>>`select name from models where name like 'w-%'`).map((r) => r.name),
        ...(await direct<Array<{ name: string }>>`select name from providers where name like 'pw-%'`).map((r) => r.name)
      ])
      const audited = (
        await direct<Array<{ action: string; resource_id: string }>>`
      select action, resource_id from audit_log where resource_id like 'w-%' or resource_id like 'pw-%'`
      ).map((a) => `${a.action} ${a.resource_id}`)
      // A call in flight when the connections were reset may have committed with its answer lost (no
      // client can know): whole if so (its row and its audit line), absent otherwise. Every other
      // failed call left nothing; every successful one is stored and audited.
      const line = (c: Call) => `${c.op === "delete-model" ? "delete" : "create"} ${c.name}`
      const effective = all.filter(
        (c) => c.res.status < 300 || (c.startedAt < dropAt && c.endedAt > dropAt && audited.includes(line(c)))
      )
      expect(audited.sort(), "the audit log: every successful write, nothing of a failed one").toEqual(
        effective.map(line).sort()
      )
      const expected = new Set<string>()
      for (const list of calls) {
        for (const c of list.filter((c) => effective.includes(c))) {
          if (c.op === "delete-model") expected.delete(c.name)
          else expected.add(c.name)
        }
      }
      expect([...stored].sort(), "the stored rows: every successful write, nothing of a failed one").toEqual(
        [...expected].sort()
      )

      // After recovery the gateway serves exactly what is stored.
      const models = [...NEW, "gen3", ...[...expected].filter((n) => n.startsWith("w-"))].sort()
      await waitServed((ids) => ids.join(",") === models.join(","), "the stored models", 5_000)
      const listed = await client.get("/admin/v1/providers?limit=200")
      expect(listed.status, listed.text).toBe(200)
      const names = listed
        .json<{ data: Array<{ name: string }> }>()
        .data.map((p) => p.name)
        .filter((n) => n.startsWith("pw-"))
        .sort()
      expect(names).toEqual([...expected].filter((n) => n.startsWith("pw-")).sort())
    }, 60_000)

    it("leaks no secret in any response body or log line", () => {
      const g = need(gateway)
      expect(findLeaks(bodies.join("\n") + g.stdout() + g.stderr())).toEqual([])
    })
  }
)
