// File mode hot reload without SIGHUP: the gateway watches its config file. A valid change is picked
// up (also when the file is replaced by rename, as editors and the admin API do); an invalid one is
// rejected with the reason logged while the running config is still served; rapid successive writes
// end on the last valid content.
import { renameSync, writeFileSync } from "node:fs"
import { stringify } from "yaml"
import { afterAll, describe, expect, it } from "vitest"
import { cleanupTempDirs, freePort, launchGateway, type GatewayProcess } from "./gateway.ts"
import { MASTER_KEY, type ModelList, runtime, sleep, store } from "./harness.ts"

const config = (port: number, models: ReadonlyArray<string>) => ({
  server: { host: "127.0.0.1", port },
  master_key: MASTER_KEY,
  providers: [{ name: "mock", kind: "mock" }],
  models: models.map((name) => ({ name, targets: [{ provider: "mock" }] }))
})

const modelIds = async (gw: GatewayProcess): Promise<Array<string>> => {
  const r = await fetch(`${gw.baseUrl}/v1/models`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })
  expect(r.status).toBe(200)
  return ((await r.json()) as ModelList).data.map((m) => m.id).sort()
}

/** Polls until the gateway serves exactly `expected` (fails after `timeoutMs`). */
const until = async (gw: GatewayProcess, expected: ReadonlyArray<string>, timeoutMs = 5_000): Promise<void> => {
  const end = Date.now() + timeoutMs
  let seen: Array<string> = []
  while (Date.now() < end) {
    seen = await modelIds(gw)
    if (JSON.stringify(seen) === JSON.stringify([...expected].sort())) return
    await sleep(50)
  }
  throw new Error(
    `models ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}\nstderr:\n${gw.stderr()}\nstdout:\n${gw.stdout()}`
  )
}

describe.skipIf(store === "postgres")(
  `[${runtime}] config file watching (skipped with the config in Postgres: every test edits the file)`,
  () => {
    const started: Array<GatewayProcess> = []
    afterAll(async () => {
      await Promise.all(started.map((g) => g.stop("SIGTERM", 10_000)))
      cleanupTempDirs()
    })
    const start = async (models: ReadonlyArray<string>) => {
      const port = await freePort()
      const gw = await launchGateway({ runtime, port, config: config(port, models) })
      started.push(gw)
      return { gw, port }
    }

    it("a valid change is picked up without SIGHUP (written in place, then replaced by rename)", async () => {
      const { gw, port } = await start(["one"])
      expect(await modelIds(gw)).toEqual(["one"])
      writeFileSync(gw.configPath, stringify(config(port, ["one", "two"])))
      await until(gw, ["one", "two"])
      const temp = `${gw.configPath}.editor-tmp`
      writeFileSync(temp, stringify(config(port, ["three"])))
      renameSync(temp, gw.configPath)
      await until(gw, ["three"])
      // and the watch survives the rename
      writeFileSync(gw.configPath, stringify(config(port, ["four"])))
      await until(gw, ["four"])
    })

    it("an invalid change is rejected with the reason logged; the running config is still served", async () => {
      const { gw, port } = await start(["kept"])
      writeFileSync(
        gw.configPath,
        stringify({ ...config(port, ["bad"]), models: [{ name: "bad", targets: [{ provider: "nope" }] }] })
      )
      const end = Date.now() + 5_000
      while (!(gw.stdout() + gw.stderr()).includes('unknown provider "nope"') && Date.now() < end) await sleep(50)
      const output = gw.stdout() + gw.stderr()
      expect(output).toContain("config change rejected")
      expect(output).toContain('models[0].targets[0].provider: unknown provider "nope"')
      expect(await modelIds(gw)).toEqual(["kept"])
      // a later valid change still applies
      writeFileSync(gw.configPath, stringify(config(port, ["fixed"])))
      await until(gw, ["fixed"])
    })

    it("rapid successive writes end on the last valid content", async () => {
      const { gw, port } = await start(["v0"])
      for (let i = 1; i <= 12; i++) {
        writeFileSync(gw.configPath, stringify(config(port, [`v${i}`])))
        await sleep(i % 3 === 0 ? 30 : 2)
      }
      await until(gw, ["v12"])
      await sleep(500)
      expect(await modelIds(gw)).toEqual(["v12"])
      // then a broken write: v12 stays
      writeFileSync(gw.configPath, "models: [ {name: broken\n")
      await sleep(600)
      expect(await modelIds(gw)).toEqual(["v12"])
      expect(gw.hasExited()).toBe(false)
    })
  }
)
