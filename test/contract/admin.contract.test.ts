// The admin API's "done when", with plain HTTP calls and no restart: two gateways share one empty
// database; on the first, add a provider, a model using it, a project and a key limited to that model;
// the second serves the key to the OpenAI SDK; rotate it (the old key is refused on both within a second,
// the new one works), disable it (refused on both). Also: admin auth (master, an admin user's key, a
// member's key), 409 for a provider in use, 412 for a stale If-Match, 422 naming the field, and the
// effective config with secrets masked. Needs Postgres (LLMGATE_TEST_DATABASE_URL); skipped when
// unreachable, except under CI=true where it fails. And in file mode (issue 10): what an admin user's key
// writes is data, so `${LLMGATE_MASTER_KEY}` in it never reads the master key back; a masked value sent
// back is a 422.
import OpenAI, { AuthenticationError, PermissionDeniedError } from "openai"
import { afterAll, beforeAll, describe, expect, it, onTestFinished, type TestContext } from "vitest"
import { withTestDatabase } from "../support/postgres.ts"
import { readFileSync } from "node:fs"
import { cleanupTempDirs, freePort, launchGateway, type GatewayProcess } from "./gateway.ts"
import {
  ENCRYPTION_KEY,
  findLeaks,
  httpClient,
  itLeaksNoSecrets,
  MASTER_KEY,
  PROVIDER_KEY,
  runtime,
  store,
  TENANCY,
  useContract,
  VIRTUAL_KEYS,
  type HttpClient,
  type Res
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

interface Pair {
  readonly gateways: ReadonlyArray<GatewayProcess>
  readonly a: HttpClient
  readonly b: HttpClient
  readonly bodies: Array<string>
}

const startPair = async (ctx: TestContext): Promise<Pair> => {
  const db = await withTestDatabase(ctx)
  const env = { LLMGATE_ENCRYPTION_KEY: ENCRYPTION_KEY, DATABASE_URL: db.url }
  const gateways = await Promise.all(
    [0, 1].map(async () => launchGateway({ runtime, port: await freePort(), env, config: { master_key: MASTER_KEY } }))
  )
  onTestFinished(async () => {
    await Promise.all(gateways.map((g) => g.stop("SIGTERM", 10_000)))
  })
  const bodies: Array<string> = []
  const [ga, gb] = gateways as [GatewayProcess, GatewayProcess]
  return { gateways, a: httpClient(() => ga.baseUrl, bodies), b: httpClient(() => gb.baseUrl, bodies), bodies }
}

const patch = (c: HttpClient, path: string, body: unknown, headers: Record<string, string> = {}, key?: string) =>
  c.request("PATCH", path, body, { headers, ...(key === undefined ? {} : { key }) })

const expectStatus = (r: Res, status: number): Record<string, unknown> => {
  expect(r.status, r.text).toBe(status)
  return r.json<Record<string, unknown>>()
}

/** Polls `check` until it holds; returns the ms it took (fails after `timeoutMs`). */
const within = async (check: () => Promise<boolean>, what: string, timeoutMs = 1_000): Promise<number> => {
  const start = performance.now()
  for (;;) {
    if (await check()) return performance.now() - start
    if (performance.now() - start > timeoutMs) throw new Error(`${what}: not seen within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const sdk = (g: GatewayProcess, apiKey: string) =>
  new OpenAI({ baseURL: `${g.baseUrl}/v1`, apiKey, maxRetries: 0, timeout: 10_000 })

/** What the SDK gets for a chat with `key` on `g`: the reply, or the error's status. */
const chat = async (g: GatewayProcess, key: string, model = "admin-chat"): Promise<string | number> => {
  try {
    const c = await sdk(g, key).chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] })
    return c.choices[0]?.message.content ?? ""
  } catch (e) {
    if (e instanceof OpenAI.APIError && typeof e.status === "number") return e.status
    throw e
  }
}

const REPLY = "upstream reply for upstream-admin"

describe.skipIf(store === "postgres")(
  `[${runtime}] admin API, two gateways sharing a database (skipped with the config in Postgres: manages its own databases, run in contract-node)`,
  () => {
    it("provider → model → project → key used by the SDK on the other replica → rotate → disable, each live on both", async (ctx) => {
      const pair = await startPair(ctx)
      const [ga, gb] = pair.gateways as [GatewayProcess, GatewayProcess]

      const provider = expectStatus(
        await pair.a.post("/admin/v1/providers", {
          name: "up-a",
          kind: "openai",
          base_url: upstream.baseUrl,
          api_key: PROVIDER_KEY,
          timeout: { request: "10s" }
        }),
        201
      )
      expect(provider["api_key"]).not.toBe(PROVIDER_KEY)
      expectStatus(
        await pair.a.post("/admin/v1/models", {
          name: "admin-chat",
          targets: [{ provider: "up-a", model: "upstream-admin" }]
        }),
        201
      )
      expectStatus(await pair.a.post("/admin/v1/models", { name: "admin-other", targets: [{ provider: "up-a" }] }), 201)
      expect(
        await within(async () => (await chat(gb, MASTER_KEY)) === REPLY, "the new model on the second gateway")
      ).toBeLessThan(1_000)

      const project = expectStatus(await pair.a.post("/admin/v1/projects", { name: "Contract" }), 201)
      const created = await pair.a.post("/admin/v1/keys", {
        name: "sdk",
        project_id: project["id"],
        models: ["admin-chat"]
      })
      const key = expectStatus(created, 201)
      const id = String(key["id"])
      const first = String(key["key"])
      expect(created.headers.get("etag")).toBe(`"${String(key["etag"])}"`)
      expect(key).toMatchObject({
        name: "sdk",
        prefix: first.slice(0, 12),
        project_id: project["id"],
        user_id: null,
        models: ["admin-chat"],
        enabled: true
      })
      expect(
        await within(async () => (await chat(gb, first)) === REPLY, "the new key on the second gateway")
      ).toBeLessThan(1_000)
      expect(await chat(gb, first, "admin-other")).toBe(403)
      await expect(
        sdk(gb, first).chat.completions.create({ model: "admin-other", messages: [{ role: "user", content: "x" }] })
      ).rejects.toBeInstanceOf(PermissionDeniedError)
      const listed = await sdk(gb, first).models.list()
      expect(listed.data.map((m) => m.id)).toEqual(["admin-chat"])
      // The plaintext key is answered once: never again by a read.
      expect((await pair.b.get(`/admin/v1/keys/${id}`)).text).not.toContain(first)

      const rotated = expectStatus(await pair.a.post(`/admin/v1/keys/${id}/rotate`, {}), 200)
      const second = String(rotated["key"])
      expect(second).not.toBe(first)
      const refused = await within(async () => {
        const answers = await Promise.all([chat(ga, first), chat(gb, first), chat(ga, second), chat(gb, second)])
        return answers[0] === 401 && answers[1] === 401 && answers[2] === REPLY && answers[3] === REPLY
      }, "the rotation on both gateways")
      expect(refused).toBeLessThan(1_000)
      await expect(
        sdk(gb, first).chat.completions.create({ model: "admin-chat", messages: [{ role: "user", content: "x" }] })
      ).rejects.toBeInstanceOf(AuthenticationError)

      // With a grace period the previous key keeps working (here: the second, while the third is new).
      const graced = expectStatus(await pair.a.post(`/admin/v1/keys/${id}/rotate`, { grace_period: "10m" }), 200)
      const third = String(graced["key"])
      expect(graced["previous_expires_at"]).not.toBeNull()
      await within(
        async () => (await chat(gb, third)) === REPLY && (await chat(ga, third)) === REPLY,
        "the third key on both"
      )
      expect([await chat(ga, second), await chat(gb, second)]).toEqual([REPLY, REPLY])
      expect(await chat(gb, first)).toBe(401)

      const current = await pair.b.get(`/admin/v1/keys/${id}`)
      const etag = current.headers.get("etag") ?? ""
      expectStatus(await patch(pair.b, `/admin/v1/keys/${id}`, { enabled: false }, { "if-match": etag }), 200)
      // The etag read before the change is stale now.
      expectStatus(await patch(pair.a, `/admin/v1/keys/${id}`, { enabled: true }, { "if-match": etag }), 412)
      const disabled = await within(async () => {
        const answers = await Promise.all([chat(ga, second), chat(gb, second), chat(ga, third), chat(gb, third)])
        return answers.every((a) => a === 401)
      }, "the disabled key on both")
      expect(disabled).toBeLessThan(1_000)

      const output = pair.gateways.map((g) => g.stdout() + g.stderr()).join("\n")
      expect(findLeaks(output + pair.bodies.join("\n")), "secrets in output or bodies").toEqual([])
    })

    it("authenticates admins, names fields, refuses dependants, and shows the effective config masked", async (ctx) => {
      const pair = await startPair(ctx)
      const { a, b } = pair
      expectStatus(await a.get("/admin/v1/providers", { key: null }), 401)
      expectStatus(await a.get("/admin/v1/providers", { key: "sk-lg-000000000000000000000000000000ZZ" }), 401)

      expectStatus(
        await a.post("/admin/v1/providers", {
          name: "up-a",
          kind: "openai",
          base_url: upstream.baseUrl,
          api_key: PROVIDER_KEY
        }),
        201
      )
      expectStatus(
        await a.post("/admin/v1/models", {
          name: "admin-chat",
          targets: [{ provider: "up-a", model: "upstream-admin" }]
        }),
        201
      )
      const project = expectStatus(await a.post("/admin/v1/projects", { name: "P" }), 201)
      const admin = expectStatus(
        await a.post("/admin/v1/users", { name: "Ann", role: "admin", projects: [project["id"]] }),
        201
      )
      const member = expectStatus(
        await a.post("/admin/v1/users", { name: "Bob", role: "member", projects: [project["id"]] }),
        201
      )
      const adminKey = String(
        expectStatus(
          await a.post("/admin/v1/keys", { name: "ann", project_id: project["id"], user_id: admin["id"] }),
          201
        )["key"]
      )
      const memberKey = String(
        expectStatus(
          await a.post("/admin/v1/keys", { name: "bob", project_id: project["id"], user_id: member["id"] }),
          201
        )["key"]
      )

      // Each key reaches the second gateway with the reload its own write triggers: wait for both.
      await within(
        async () => (await b.get("/admin/v1/projects", { key: adminKey })).status === 200,
        "the admin user's key on the second gateway"
      )
      await within(
        async () => (await b.get("/admin/v1/projects", { key: memberKey })).status !== 401,
        "the member's key on the second gateway"
      )
      const forbidden = expectStatus(await b.get("/admin/v1/projects", { key: memberKey }), 403)
      expect(forbidden["error"]).toMatchObject({ code: "forbidden" })
      // An admin user's key may change things; the audit names it.
      expectStatus(
        await patch(b, `/admin/v1/projects/${String(project["id"])}`, { metadata: { team: "search" } }, {}, adminKey),
        200
      )

      const unknown = expectStatus(
        await a.post("/admin/v1/models", { name: "bad", targets: [{ provider: "nope" }] }),
        422
      )
      expect(unknown["error"]).toMatchObject({ param: "targets[0].provider", code: "invalid_value" })
      const inUse = expectStatus(await a.request("DELETE", "/admin/v1/providers/up-a"), 409)
      expect(inUse["error"]).toMatchObject({ code: "conflict", message: expect.stringContaining('model "admin-chat"') })
      expectStatus(await a.post("/admin/v1/providers", "{not json"), 400)
      expectStatus(await a.get("/admin/v1/keys?limit=0"), 400)
      expectStatus(await a.get("/admin/v1/keys/key_missing"), 404)

      const page = expectStatus(await a.get(`/admin/v1/keys?limit=1&project_id=${String(project["id"])}`), 200)
      expect((page["data"] as Array<unknown>).length).toBe(1)
      expect(typeof page["next_cursor"]).toBe("string")
      const rest = expectStatus(
        await a.get(`/admin/v1/keys?limit=1&cursor=${encodeURIComponent(String(page["next_cursor"]))}`),
        200
      )
      expect(rest["next_cursor"]).toBeNull()

      const config = await b.get("/admin/v1/config")
      const body = expectStatus(config, 200)
      expect(body["store"]).toBe("postgres")
      expect(config.text).not.toContain(PROVIDER_KEY)
      expect(config.text).not.toContain(MASTER_KEY)
      expectStatus(await b.post("/admin/v1/config/reload", {}), 200)

      const output = pair.gateways.map((g) => g.stdout() + g.stderr()).join("\n")
      expect(findLeaks(output + pair.bodies.join("\n")), "secrets in output or bodies").toEqual([])
      for (const k of [adminKey, memberKey]) expect(output).not.toContain(k)
    })
  }
)

describe(`[${runtime}] admin API with the config ${store === "postgres" ? "imported into Postgres" : "file"}`, () => {
  const ctx = useContract()

  it("shows the effective config (secrets masked, no hashes) to the master key and an admin user's key", async () => {
    for (const key of [MASTER_KEY, VIRTUAL_KEYS.open.key]) {
      const r = await ctx.get("/admin/v1/config", { key })
      const body = expectStatus(r, 200)
      expect(body).toMatchObject({ store })
      expect((body["keys"] as Array<Record<string, unknown>>).find((k) => k["id"] === "key_open")).toMatchObject({
        prefix: VIRTUAL_KEYS.open.prefix
      })
      expect(r.text).not.toContain(PROVIDER_KEY)
      expect(r.text).not.toContain(VIRTUAL_KEYS.open.hash)
    }
  })

  it("refuses other keys: 401 unknown, disabled or missing, 403 a member's", async () => {
    expectStatus(await ctx.get("/admin/v1/config", { key: null }), 401)
    expectStatus(await ctx.get("/admin/v1/config", { key: VIRTUAL_KEYS.disabled.key }), 401)
    const forbidden = expectStatus(await ctx.get("/admin/v1/config", { key: VIRTUAL_KEYS.limited.key }), 403)
    expect(forbidden["error"]).toMatchObject({ type: "permission_error", code: "forbidden" })
  })

  it("serves the resources from the file (writes: admin-file.contract.test.ts); reload works", async () => {
    const keys = expectStatus(await ctx.get(`/admin/v1/keys?project_id=${TENANCY.project}`), 200)
    expect((keys["data"] as Array<Record<string, unknown>>).map((k) => k["id"])).toContain("key_open")
    expect(JSON.stringify(keys)).not.toContain(VIRTUAL_KEYS.open.hash)
    const provider = expectStatus(await ctx.get("/admin/v1/providers/up-a"), 200)
    expect(provider["api_key"]).not.toBe(PROVIDER_KEY)
    expectStatus(await ctx.post("/admin/v1/config/reload", {}), 200)
    expectStatus(await ctx.get("/admin/v1/nothing"), 404)
    expectStatus(await ctx.request("PUT", "/admin/v1/config"), 405)
  })

  itLeaksNoSecrets(ctx)
})

describe.skipIf(store === "postgres")(
  `[${runtime}] admin API in file mode: what the API writes is data (skipped with the config in Postgres: the API writes the file)`,
  () => {
    const admin = VIRTUAL_KEYS.open
    const configText = (port: number) => `server: { host: 127.0.0.1, port: ${port} }
master_key: \${LLMGATE_MASTER_KEY}
providers:
  - { name: mock, kind: mock, mock: { chunks: 1, chunk_interval: 1ms } }
models:
  - { name: mock-chat, targets: [{ provider: mock }] }
projects:
  - { id: prj_data, name: Data }
users:
  - { id: usr_data_admin, name: Admin, role: admin, projects: [prj_data] }
keys:
  - { id: key_data_admin, name: admin, prefix: ${admin.prefix}, hash: ${admin.hash}, project_id: prj_data, user_id: usr_data_admin }
`

    it("an admin user's key cannot read LLMGATE_MASTER_KEY back through ${…} in any field; a mask sent back is refused with 422", async (ctx) => {
      const port = await freePort()
      const gw = await launchGateway({
        runtime,
        port,
        config: configText(port),
        env: { LLMGATE_MASTER_KEY: MASTER_KEY }
      })
      ctx.onTestFinished(() => gw.stop("SIGTERM", 10_000).then(() => undefined))
      const bodies: Array<string> = []
      const c = httpClient(() => gw.baseUrl, bodies)
      const asAdmin = { key: admin.key }
      const ref = "${LLMGATE_MASTER_KEY}"

      expectStatus(
        await c.post(
          "/admin/v1/providers",
          {
            name: "leaky",
            kind: "mock",
            headers: { "User-Agent": ref, "X-Secret": "secret-header-value-0123456789" }
          },
          asAdmin
        ),
        201
      )
      expectStatus(
        await c.post(
          "/admin/v1/models",
          { name: `leak-${ref}`, targets: [{ provider: "leaky", model: ref }] },
          asAdmin
        ),
        201
      )
      expectStatus(
        await patch(c, "/admin/v1/projects/prj_data", { name: ref, metadata: { note: ref } }, {}, admin.key),
        200
      )

      const config = await c.get("/admin/v1/config", asAdmin)
      expectStatus(config, 200)
      expect(config.text).not.toContain(MASTER_KEY)
      const body = config.json<{
        models: Array<{ name: string; targets: Array<{ model: string }> }>
        providers: Array<{ name: string; headers: Array<{ key: string; value: string }> }>
        projects: Array<{ name: string }>
      }>()
      expect(body.models.find((m) => m.name === `leak-${ref}`)?.targets[0]?.model).toBe(ref)
      expect(body.providers.find((p) => p.name === "leaky")?.headers).toEqual([
        { op: "replace", key: "user-agent", value: ref },
        { op: "replace", key: "x-secret", value: "****6789" }
      ])
      expect(body.projects[0]?.name).toBe(ref)
      const models = await c.get("/v1/models", asAdmin)
      expect(models.text).toContain(`leak-${ref}`)
      expect(models.text).not.toContain(MASTER_KEY)
      const reply = await c.post(
        "/v1/chat/completions",
        { model: `leak-${ref}`, messages: [{ role: "user", content: "hi" }] },
        asAdmin
      )
      expect(expectStatus(reply, 200)).toMatchObject({
        choices: [{ message: { content: `Mock reply from ${ref}: hi` } }]
      })
      expect(readFileSync(gw.configPath, "utf8")).toContain("$${LLMGATE_MASTER_KEY}")

      // What GET shows, sent back, would store the mask in place of the header's secret.
      const shown = expectStatus(await c.get("/admin/v1/providers/leaky", asAdmin), 200)
      expect(shown["headers"]).toEqual({ "User-Agent": ref, "X-Secret": "****6789" })
      const refused = expectStatus(
        await patch(c, "/admin/v1/providers/leaky", { headers: shown["headers"] }, {}, admin.key),
        422
      )
      expect(refused["error"]).toMatchObject({
        type: "invalid_request_error",
        code: "invalid_value",
        param: "headers.X-Secret"
      })
      expect(readFileSync(gw.configPath, "utf8")).toContain("secret-header-value-0123456789")

      expect(findLeaks(gw.stdout() + gw.stderr() + bodies.join("\n")), "secrets in output or bodies").toEqual([])
    })
  }
)
