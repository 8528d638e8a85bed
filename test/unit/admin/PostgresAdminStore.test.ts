// The Postgres AdminStore against a real database: the shared admin store suite (adminStoreSuite.ts), and
// what is Postgres's own: the catalog the replicas load (decodeCatalog) including tenancy, sealed provider
// secrets, problems the catalog already had, a stale etag under a concurrent update, audit rows and
// reloads, and no plaintext key or provider secret in any table.
// Needs Postgres (LLMGATE_TEST_DATABASE_URL); skipped when unreachable, except under CI=true.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import postgres from "postgres"
import { describe, expect, it, onTestFinished, type TestContext } from "vitest"
import type { AdminStoreShape } from "../../../src/admin/AdminStore.ts"
import * as PostgresAdminStore from "../../../src/admin/PostgresAdminStore.ts"
import { hashKey, maskSecret } from "../../../src/auth/KeyMaterial.ts"
import type { GatewayError } from "../../../src/domain/GatewayError.ts"
import { decodeCatalog, readCatalogRows } from "../../../src/store/postgres/Catalog.ts"
import { connect, loadMigrationFiles, migrate } from "../../../src/store/postgres/Migrations.ts"
import { makeProviderSecrets } from "../../../src/store/postgres/ProviderSecrets.ts"
import { withTestDatabase } from "../../support/postgres.ts"
import { adminStoreSuite } from "./adminStoreSuite.ts"

const KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
const SECRET = "sk-upstream-PLAINTEXT-admin-7f3a9c"
const MASTER = { id: "master" } as const

interface Setup {
  readonly sql: postgres.Sql
  readonly store: AdminStoreShape
  readonly reloads: () => number
}

const setup = async (ctx: TestContext, now?: () => number): Promise<Setup> => {
  const db = await withTestDatabase(ctx)
  await Effect.runPromise(
    Effect.gen(function* () {
      const sql = yield* connect(db.url, { max: 1 })
      yield* migrate(sql, yield* loadMigrationFiles())
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer))
  )
  const sql = postgres(db.url, { max: 4, onnotice: () => undefined })
  onTestFinished(() => sql.end({ timeout: 5 }))
  const secrets = await Effect.runPromise(makeProviderSecrets({ LLMGATE_ENCRYPTION_KEY: KEY }))
  let reloads = 0
  const store = PostgresAdminStore.make(sql, {
    settings: Effect.succeed({ master_key: "mk-test" }),
    secrets,
    reload: Effect.sync(() => {
      reloads++
    }),
    ...(now === undefined ? {} : { now })
  })
  return { sql, store, reloads: () => reloads }
}

const run = <A>(effect: Effect.Effect<A, GatewayError>): Promise<A> => Effect.runPromise(effect)
const failure = async (effect: Effect.Effect<unknown, GatewayError>) =>
  (await Effect.runPromise(Effect.flip(effect))).reason

const provider = { name: "up-a", kind: "openai", base_url: "http://127.0.0.1:9/v1", api_key: SECRET }
const model = { name: "chat-a", targets: [{ provider: "up-a", model: "upstream-a" }] }

/** Everything stored in the database, as text. */
const dump = async (sql: postgres.Sql): Promise<string> => {
  const tables = ["providers", "models", "projects", "users", "user_projects", "virtual_keys", "audit_log"]
  const parts = await Promise.all(
    tables.map((t) => sql.unsafe(`select coalesce(json_agg(t), '[]'::json)::text as j from ${t} t`))
  )
  return parts.map((p) => String(p[0]?.["j"])).join("\n")
}

describe("PostgresAdminStore", () => {
  it("creates, reads, updates and deletes every resource; the catalog the replicas load has them", async (ctx) => {
    const { sql, store } = await setup(ctx)
    const p = await run(store.create("providers", provider, MASTER))
    expect(p["api_key"]).toBe(maskSecret(SECRET))
    expect(p.etag).toMatch(/^[0-9a-f]{32}$/)
    expect(JSON.stringify(await run(store.get("providers", "up-a")))).not.toContain(SECRET)

    const m = await run(store.create("models", model, MASTER))
    expect(m).toMatchObject({ name: "chat-a", targets: [{ provider: "up-a", model: "upstream-a" }] })

    const project = await run(store.create("projects", { name: "Search", limits: { requests_per_minute: 60 } }, MASTER))
    expect(project["id"]).toMatch(/^prj_[0-9A-Za-z]{20}$/)
    const user = await run(store.create("users", { name: "Ann", role: "admin", projects: [project["id"]] }, MASTER))
    expect(user).toMatchObject({ role: "admin", projects: [project["id"]], email: null })
    const key = await run(
      store.create("keys", { name: "ci", project_id: project["id"], user_id: user["id"], models: ["chat-a"] }, MASTER)
    )
    const plaintext = String(key["key"])
    expect(plaintext).toMatch(/^sk-lg-[0-9A-Za-z]{32}$/)
    expect(key).toMatchObject({
      prefix: plaintext.slice(0, 12),
      models: ["chat-a"],
      enabled: true,
      expires_at: null,
      project_id: project["id"]
    })
    expect(key).not.toHaveProperty("key_hash")
    const again = await run(store.get("keys", String(key["id"])))
    expect(again).not.toHaveProperty("key")
    expect(again.etag).toBe(key.etag)

    // What the replicas load: decodeCatalog over the rows, tenancy included.
    const secrets = await Effect.runPromise(makeProviderSecrets({ LLMGATE_ENCRYPTION_KEY: KEY }))
    const { config } = await Effect.runPromise(
      decodeCatalog({ master_key: "mk" }, await Effect.runPromise(readCatalogRows(sql)), secrets)
    )
    const resolved = config.tenancy.keysByHash.get(hashKey(plaintext))
    expect(resolved?.id).toBe(key["id"])
    expect(resolved?.role).toBe("admin")
    expect(resolved?.allows("chat-a")).toBe(true)
    expect(resolved?.allows("other")).toBe(false)
    // `limits` stays in the file in Postgres mode too (limits.redis).
    const { config: withRedis } = await Effect.runPromise(
      decodeCatalog(
        { limits: { redis: { on_error: "fail_closed" } } },
        await Effect.runPromise(readCatalogRows(sql)),
        secrets
      )
    )
    expect(withRedis.limits.redis?.onError).toBe("fail_closed")

    // A key without `models` may use every model; `[]` none.
    const all = await run(store.create("keys", { name: "all", project_id: project["id"] }, MASTER))
    expect(all["models"]).toBeNull()
    const none = await run(store.create("keys", { name: "none", project_id: project["id"], models: [] }, MASTER))
    const { config: again2 } = await Effect.runPromise(
      decodeCatalog({}, await Effect.runPromise(readCatalogRows(sql)), secrets)
    )
    expect(again2.tenancy.keys.get(String(all["id"]))?.allows("anything")).toBe(true)
    expect(again2.tenancy.keys.get(String(none["id"]))?.allows("chat-a")).toBe(false)

    // The file's instance settings and its top-level pricing map join the rows; its own catalog sections do not.
    const fileSettings = {
      usage: { batch_size: 7 },
      pricing: { "up-x": { input: 1, output: 2 } },
      models: [{ name: "ignored" }]
    }
    const { config: withFile } = await Effect.runPromise(
      decodeCatalog(fileSettings, await Effect.runPromise(readCatalogRows(sql)), secrets)
    )
    expect(withFile.usage.batchSize).toBe(7)
    expect(withFile.pricing.get("up-x")).toMatchObject({ input: 1, output: 2 })
    expect(withFile.models.has("ignored")).toBe(false)

    // PATCH sets the given fields; null clears an optional one.
    const patched = await run(
      store.update(
        "keys",
        String(key["id"]),
        { enabled: false, models: null, expires_at: "2030-01-01" },
        key.etag,
        MASTER
      )
    )
    expect(patched).toMatchObject({ enabled: false, models: null })
    expect(Date.parse(String(patched["expires_at"]))).toBe(Date.UTC(2030, 0, 1))
    const p2 = await run(store.update("providers", "up-a", { timeout: { request: "10s" } }, p.etag, MASTER))
    expect(p2).toMatchObject({ timeout: { request: "10s" }, base_url: provider.base_url })
    expect(p2["api_key"]).toBe(p["api_key"])

    await run(store.remove("keys", String(none["id"]), undefined, MASTER))
    expect((await failure(store.get("keys", String(none["id"]))))._tag).toBe("NotFound")
    await run(store.remove("users", String(user["id"]), undefined, MASTER))
    expect((await run(store.get("keys", String(key["id"]))))["user_id"]).toBeNull()

    // Nothing in the database holds a plaintext key or provider secret.
    const stored = await dump(sql)
    expect(stored).not.toContain(plaintext)
    expect(stored).not.toContain(SECRET)
    expect(stored).toContain(hashKey(plaintext))
  })

  it("seals provider header values and masks them in every answer; refuses a mask sent back (422); ${VAR} is literal", async (ctx) => {
    const { sql, store } = await setup(ctx)
    const headerSecret = "hdr-secret-0123456789-abcdef"
    const listSecret = "list-secret-0123456789-wxyz"
    const created = await run(
      store.create(
        "providers",
        {
          ...provider,
          headers: { "X-Api-Key": headerSecret, "User-Agent": "llmgate-test ${LLMGATE_MASTER_KEY}" }
        },
        MASTER
      )
    )
    expect(created["api_key"]).toBe(`****${SECRET.slice(-4)}`)
    expect(created["headers"]).toEqual({ "X-Api-Key": "****cdef", "User-Agent": "llmgate-test ${LLMGATE_MASTER_KEY}" })
    const updated = await run(
      store.update(
        "providers",
        "up-a",
        {
          headers: [
            { op: "insert", key: "x-token", value: listSecret },
            { op: "remove", key: "x-gone" }
          ]
        },
        undefined,
        MASTER
      )
    )
    expect(updated["headers"]).toEqual([
      { op: "insert", key: "x-token", value: "****wxyz" },
      { op: "remove", key: "x-gone" }
    ])
    const answers = [
      updated,
      await run(store.get("providers", "up-a")),
      ...(await run(store.list("providers", { limit: 10, cursor: undefined, filters: {} }))).data
    ]
    for (const answer of answers) {
      expect(JSON.stringify(answer)).not.toContain(listSecret)
      expect(JSON.stringify(answer)).not.toContain(SECRET)
    }
    const stored = await dump(sql)
    expect(stored).not.toContain(headerSecret)
    expect(stored).not.toContain(listSecret)

    // The replicas load the opened values; `${…}` in a catalog value is never interpolated.
    const secrets = await Effect.runPromise(makeProviderSecrets({ LLMGATE_ENCRYPTION_KEY: KEY }))
    await run(
      store.update(
        "providers",
        "up-a",
        { headers: { "User-Agent": "agent ${LLMGATE_MASTER_KEY}", "X-Api-Key": headerSecret } },
        undefined,
        MASTER
      )
    )
    const { config } = await Effect.runPromise(
      decodeCatalog({}, await Effect.runPromise(readCatalogRows(sql)), secrets)
    )
    // (jsonb keeps an object's keys in its own order)
    expect([...(config.providers.get("up-a")?.headerOps ?? [])].sort((x, y) => x.key.localeCompare(y.key))).toEqual([
      { op: "replace", key: "user-agent", value: "agent ${LLMGATE_MASTER_KEY}" },
      { op: "replace", key: "x-api-key", value: headerSecret }
    ])

    // What GET showed, sent back, would store the masks: refused, naming the field.
    const shown = await run(store.get("providers", "up-a"))
    const { etag: _etag, name: _name, ...asShown } = shown
    const before = await dump(sql)
    expect(await failure(store.update("providers", "up-a", asShown, undefined, MASTER))).toMatchObject({
      _tag: "Unprocessable",
      param: "api_key"
    })
    expect(
      await failure(store.update("providers", "up-a", { headers: shown["headers"] }, undefined, MASTER))
    ).toMatchObject({ _tag: "Unprocessable", param: "headers.X-Api-Key", message: expect.stringContaining("masked") })
    expect(await failure(store.create("providers", { ...asShown, name: "copy" }, MASTER))).toMatchObject({
      _tag: "Unprocessable",
      param: "api_key"
    })
    expect(await dump(sql)).toBe(before)
  })

  it("problems the catalog already had block no unrelated write, and can be fixed through the API", async (ctx) => {
    const { sql, store } = await setup(ctx)
    const broken = { name: "broken", targets: [{ provider: "nope" }] } as postgres.JSONValue
    await sql`insert into models (name, position, spec) values ('broken', 0, ${sql.json(broken)})`
    await run(store.create("projects", { name: "P" }, MASTER))
    await run(store.create("providers", provider, MASTER))
    const fixed = await run(store.update("models", "broken", { targets: [{ provider: "up-a" }] }, undefined, MASTER))
    expect(fixed).toMatchObject({ targets: [{ provider: "up-a" }] })
    // A new problem is still refused.
    expect(
      await failure(store.update("models", "broken", { fallbacks: ["missing"] }, undefined, MASTER))
    ).toMatchObject({
      _tag: "Unprocessable",
      param: "fallbacks[0]"
    })
  })

  it("refuses a stale If-Match with 412; of two concurrent updates from one read, one wins", async (ctx) => {
    const { store } = await setup(ctx)
    const project = await run(store.create("projects", { name: "P" }, MASTER))
    const id = String(project["id"])
    const first = await run(store.update("projects", id, { name: "Q" }, `"${project.etag}"`, MASTER))
    expect(first.etag).not.toBe(project.etag)
    expect((await failure(store.update("projects", id, { name: "R" }, `"${project.etag}"`, MASTER)))._tag).toBe(
      "PreconditionFailed"
    )
    expect((await failure(store.remove("projects", id, project.etag, MASTER)))._tag).toBe("PreconditionFailed")

    const results = await Promise.allSettled([
      run(store.update("projects", id, { name: "A" }, first.etag, MASTER)),
      run(store.update("projects", id, { name: "B" }, first.etag, MASTER))
    ])
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"])
  })

  it("audits every change with actor, action, resource and id, never a secret; every write and reload reloads this gateway", async (ctx) => {
    const { sql, store, reloads } = await setup(ctx)
    const actor = { id: "key:key_admin", userId: "usr_admin" }
    await run(store.create("providers", provider, actor))
    // The write answers once this gateway serves it (the reload waits for every worker).
    expect(reloads()).toBe(1)
    await run(store.update("providers", "up-a", { api_key: "sk-second-PLAINTEXT-secret" }, undefined, actor))
    const project = await run(store.create("projects", { name: "P" }, MASTER))
    const key = await run(store.create("keys", { name: "k", project_id: project["id"] }, MASTER))
    const rotated = await run(store.rotateKey(String(key["id"]), 0, undefined, MASTER))
    expect(reloads()).toBe(5)
    await run(store.reload(MASTER))
    expect(reloads()).toBe(6)
    const rows = await sql`select actor, action, resource, resource_id, detail from audit_log order by id`
    expect(rows.map((r) => [r["actor"], r["action"], r["resource"], r["resource_id"]])).toEqual([
      ["key:key_admin", "create", "provider", "up-a"],
      ["key:key_admin", "update", "provider", "up-a"],
      ["master", "create", "project", project["id"]],
      ["master", "create", "key", key["id"]],
      ["master", "rotate", "key", key["id"]],
      ["master", "reload", "config", null]
    ])
    expect(rows[0]?.["detail"]).toMatchObject({ fields: ["name", "kind", "base_url", "api_key"], user_id: "usr_admin" })
    const text = JSON.stringify(rows)
    for (const secret of [SECRET, "sk-second-PLAINTEXT-secret", String(key["key"]), String(rotated["key"])])
      expect(text).not.toContain(secret)
  })
})

adminStoreSuite("PostgresAdminStore", async (ctx, now) => {
  const { sql, store } = await setup(ctx, now)
  return {
    store,
    storedKey: async (id) => {
      const [row] = await sql<
        Array<{ hash: string; previous_hash: string | null }>
      >`select key_hash as hash, previous_hash from virtual_keys where id = ${id}`
      if (row === undefined) throw new Error(`no key ${id} in virtual_keys`)
      return row
    },
    audit: async () =>
      (
        await sql<
          Array<{ actor: string; action: string; resource: string; resource_id: string | null; detail: unknown }>
        >`
        select actor, action, resource, resource_id, detail from audit_log order by id`
      ).map(({ detail, ...row }) => {
        const { user_id, ...rest } = Predicate.isObject(detail) ? detail : {}
        return { ...row, user_id: typeof user_id === "string" ? user_id : undefined, detail: rest }
      }),
    dump: () => dump(sql)
  }
})
