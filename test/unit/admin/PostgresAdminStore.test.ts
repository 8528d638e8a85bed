// The Postgres AdminStore against a real database: CRUD of every resource, pages and cursors, 409 for
// names taken and dependants, 412 for a stale etag (also under a concurrent update), 422 naming the field
// when the resulting catalog would be invalid, the catalog the replicas load (decodeCatalog) including
// tenancy, audit rows without secrets, and no plaintext key or provider secret in any table.
// Needs Postgres (LLMGATE_TEST_DATABASE_URL); skipped when unreachable, except under CI=true.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
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

const KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
const SECRET = "sk-upstream-PLAINTEXT-admin-7f3a9c"
const MASTER = { id: "master" } as const

interface Setup {
  readonly sql: postgres.Sql
  readonly store: AdminStoreShape
  readonly reloads: () => number
}

const setup = async (ctx: TestContext): Promise<Setup> => {
  const db = await withTestDatabase(ctx)
  await Effect.runPromise(Effect.gen(function*() {
    const sql = yield* connect(db.url, { max: 1 })
    yield* migrate(sql, yield* loadMigrationFiles())
  }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer)))
  const sql = postgres(db.url, { max: 4, onnotice: () => undefined })
  onTestFinished(() => sql.end({ timeout: 5 }))
  const secrets = await Effect.runPromise(makeProviderSecrets({ LLMGATE_ENCRYPTION_KEY: KEY }))
  let reloads = 0
  const store = PostgresAdminStore.make(sql, {
    settings: Effect.succeed({ master_key: "mk-test" }),
    secrets,
    reload: Effect.sync(() => {
      reloads++
    })
  })
  return { sql, store, reloads: () => reloads }
}

const run = <A>(effect: Effect.Effect<A, GatewayError>): Promise<A> => Effect.runPromise(effect)
const failure = async (effect: Effect.Effect<unknown, GatewayError>) => (await Effect.runPromise(Effect.flip(effect))).reason

const provider = { name: "up-a", kind: "openai", base_url: "http://127.0.0.1:9/v1", api_key: SECRET }
const model = { name: "chat-a", targets: [{ provider: "up-a", model: "upstream-a" }] }

/** Everything stored in the database, as text. */
const dump = async (sql: postgres.Sql): Promise<string> => {
  const tables = ["providers", "models", "projects", "users", "user_projects", "virtual_keys", "audit_log"]
  const parts = await Promise.all(tables.map((t) => sql.unsafe(`select coalesce(json_agg(t), '[]'::json)::text as j from ${t} t`)))
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
    const key = await run(store.create("keys", { name: "ci", project_id: project["id"], user_id: user["id"], models: ["chat-a"] }, MASTER))
    const plaintext = String(key["key"])
    expect(plaintext).toMatch(/^sk-lg-[0-9A-Za-z]{32}$/)
    expect(key).toMatchObject({ prefix: plaintext.slice(0, 12), models: ["chat-a"], enabled: true, expires_at: null, project_id: project["id"] })
    expect(key).not.toHaveProperty("key_hash")
    const again = await run(store.get("keys", String(key["id"])))
    expect(again).not.toHaveProperty("key")
    expect(again.etag).toBe(key.etag)

    // What the replicas load: decodeCatalog over the rows, tenancy included.
    const secrets = await Effect.runPromise(makeProviderSecrets({ LLMGATE_ENCRYPTION_KEY: KEY }))
    const { config } = await Effect.runPromise(decodeCatalog({ master_key: "mk" }, await Effect.runPromise(readCatalogRows(sql)), secrets))
    const resolved = config.tenancy.keysByHash.get(hashKey(plaintext))
    expect(resolved?.id).toBe(key["id"])
    expect(resolved?.role).toBe("admin")
    expect(resolved?.allows("chat-a")).toBe(true)
    expect(resolved?.allows("other")).toBe(false)

    // A key without `models` may use every model; `[]` none.
    const all = await run(store.create("keys", { name: "all", project_id: project["id"] }, MASTER))
    expect(all["models"]).toBeNull()
    const none = await run(store.create("keys", { name: "none", project_id: project["id"], models: [] }, MASTER))
    const { config: again2 } = await Effect.runPromise(decodeCatalog({}, await Effect.runPromise(readCatalogRows(sql)), secrets))
    expect(again2.tenancy.keys.get(String(all["id"]))?.allows("anything")).toBe(true)
    expect(again2.tenancy.keys.get(String(none["id"]))?.allows("chat-a")).toBe(false)

    // PATCH sets the given fields; null clears an optional one.
    const patched = await run(store.update("keys", String(key["id"]), { enabled: false, models: null, expires_at: "2030-01-01" }, key.etag, MASTER))
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
    const created = await run(store.create("providers", {
      ...provider,
      headers: { "X-Api-Key": headerSecret, "User-Agent": "llmgate-test ${LLMGATE_MASTER_KEY}" }
    }, MASTER))
    expect(created["api_key"]).toBe(`****${SECRET.slice(-4)}`)
    expect(created["headers"]).toEqual({ "X-Api-Key": "****cdef", "User-Agent": "llmgate-test ${LLMGATE_MASTER_KEY}" })
    const updated = await run(store.update("providers", "up-a", {
      headers: [{ op: "insert", key: "x-token", value: listSecret }, { op: "remove", key: "x-gone" }]
    }, undefined, MASTER))
    expect(updated["headers"]).toEqual([{ op: "insert", key: "x-token", value: "****wxyz" }, { op: "remove", key: "x-gone" }])
    const answers = [updated, await run(store.get("providers", "up-a")), ...(await run(store.list("providers", { limit: 10, cursor: undefined, filters: {} }))).data]
    for (const answer of answers) {
      expect(JSON.stringify(answer)).not.toContain(listSecret)
      expect(JSON.stringify(answer)).not.toContain(SECRET)
    }
    const stored = await dump(sql)
    expect(stored).not.toContain(headerSecret)
    expect(stored).not.toContain(listSecret)

    // The replicas load the opened values; `${…}` in a catalog value is never interpolated.
    const secrets = await Effect.runPromise(makeProviderSecrets({ LLMGATE_ENCRYPTION_KEY: KEY }))
    await run(store.update("providers", "up-a", { headers: { "User-Agent": "agent ${LLMGATE_MASTER_KEY}", "X-Api-Key": headerSecret } }, undefined, MASTER))
    const { config } = await Effect.runPromise(decodeCatalog({}, await Effect.runPromise(readCatalogRows(sql)), secrets))
    // (jsonb keeps an object's keys in its own order)
    expect([...(config.providers.get("up-a")?.headerOps ?? [])].sort((x, y) => x.key.localeCompare(y.key))).toEqual([
      { op: "replace", key: "user-agent", value: "agent ${LLMGATE_MASTER_KEY}" },
      { op: "replace", key: "x-api-key", value: headerSecret }
    ])

    // What GET showed, sent back, would store the masks: refused, naming the field.
    const shown = await run(store.get("providers", "up-a"))
    const { etag: _etag, name: _name, ...asShown } = shown
    const before = await dump(sql)
    expect(await failure(store.update("providers", "up-a", asShown, undefined, MASTER))).toMatchObject({ _tag: "Unprocessable", param: "api_key" })
    expect(await failure(store.update("providers", "up-a", { headers: shown["headers"] }, undefined, MASTER)))
      .toMatchObject({ _tag: "Unprocessable", param: "headers.X-Api-Key", message: expect.stringContaining("masked") })
    expect(await failure(store.create("providers", { ...asShown, name: "copy" }, MASTER))).toMatchObject({ _tag: "Unprocessable", param: "api_key" })
    expect(await dump(sql)).toBe(before)
  })

  it("pages lists with limit and cursor, and filters", async (ctx) => {
    const { store } = await setup(ctx)
    const ids: Array<string> = []
    for (let i = 0; i < 5; i++) ids.push(String((await run(store.create("projects", { name: `p${i}` }, MASTER)))["id"]))
    const seen: Array<string> = []
    let cursor: string | undefined
    let pages = 0
    for (;;) {
      const page = await run(store.list("projects", { limit: 2, cursor, filters: {} }))
      pages++
      seen.push(...page.data.map((o) => String(o["id"])))
      if (page.next_cursor === null) break
      cursor = page.next_cursor
    }
    expect(pages).toBe(3)
    expect(seen).toEqual([...ids].sort())
    await run(store.create("keys", { name: "k", project_id: ids[0] }, MASTER))
    await run(store.create("keys", { name: "k", project_id: ids[1] }, MASTER))
    const filtered = await run(store.list("keys", { limit: 50, cursor: undefined, filters: { project_id: String(ids[1]) } }))
    expect(filtered.data.map((k) => k["project_id"])).toEqual([ids[1]])
    expect((await failure(store.list("keys", { limit: 5, cursor: "%%%", filters: {} })))).toMatchObject({ _tag: "InvalidRequest", param: "cursor" })
  })

  it("refuses with 409 a name taken and a provider or model still in use, naming the dependants", async (ctx) => {
    const { store } = await setup(ctx)
    await run(store.create("providers", provider, MASTER))
    await run(store.create("models", model, MASTER))
    await run(store.create("models", { name: "chat-b", targets: [{ provider: "up-a" }], fallbacks: ["chat-a"] }, MASTER))
    expect(await failure(store.create("providers", provider, MASTER))).toMatchObject({ _tag: "Conflict", param: "name" })
    const inUse = await failure(store.remove("providers", "up-a", undefined, MASTER))
    expect(inUse._tag).toBe("Conflict")
    expect(inUse).toMatchObject({ message: expect.stringContaining('"chat-a", "chat-b"') })
    const fallback = await failure(store.remove("models", "chat-a", undefined, MASTER))
    expect(fallback).toMatchObject({ _tag: "Conflict", message: expect.stringContaining('models["chat-b"].fallbacks') })
    const project = await run(store.create("projects", { name: "P" }, MASTER))
    await run(store.create("keys", { name: "k", project_id: project["id"] }, MASTER))
    expect((await failure(store.remove("projects", String(project["id"]), undefined, MASTER)))._tag).toBe("Conflict")
    expect(await failure(store.create("projects", { name: "P" }, MASTER))).toMatchObject({ _tag: "Conflict", param: "name" })
  })

  it("answers 422 naming the field when the resulting config would be invalid, and writes nothing", async (ctx) => {
    const { sql, store } = await setup(ctx)
    expect(await failure(store.create("models", { name: "m", targets: [{ provider: "nope" }] }, MASTER))).toMatchObject({
      _tag: "Unprocessable",
      param: "targets[0].provider",
      message: expect.stringContaining('unknown provider "nope"')
    })
    expect(await failure(store.create("providers", { name: "x", kind: "openai" }, MASTER))).toMatchObject({ _tag: "Unprocessable", param: "base_url" })
    const project = await run(store.create("projects", { name: "P" }, MASTER))
    expect(await failure(store.create("keys", { name: "k", project_id: project["id"], enabled: "yes" }, MASTER))).toMatchObject({ _tag: "Unprocessable", param: "enabled" })
    expect(await failure(store.create("keys", { name: "k", project_id: "prj_missing" }, MASTER))).toMatchObject({ _tag: "Unprocessable", param: "project_id" })
    expect(await failure(store.create("keys", { name: "k", project_id: project["id"], hash: "0".repeat(64) }, MASTER))).toMatchObject({ _tag: "Unprocessable", param: "hash" })
    const [counts] = await sql`select (select count(*)::int from models) as models, (select count(*)::int from virtual_keys) as keys`
    expect(counts).toEqual({ models: 0, keys: 0 })
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
    expect(await failure(store.update("models", "broken", { fallbacks: ["missing"] }, undefined, MASTER))).toMatchObject({
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
    expect((await failure(store.update("projects", id, { name: "R" }, `"${project.etag}"`, MASTER)))._tag).toBe("PreconditionFailed")
    expect((await failure(store.remove("projects", id, project.etag, MASTER)))._tag).toBe("PreconditionFailed")

    const results = await Promise.allSettled([
      run(store.update("projects", id, { name: "A" }, first.etag, MASTER)),
      run(store.update("projects", id, { name: "B" }, first.etag, MASTER))
    ])
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"])
  })

  it("rotates a key: the new hash replaces the old one, kept only for a grace period", async (ctx) => {
    const { sql, store } = await setup(ctx)
    const project = await run(store.create("projects", { name: "P" }, MASTER))
    const key = await run(store.create("keys", { name: "k", project_id: project["id"] }, MASTER))
    const id = String(key["id"])
    const rotated = await run(store.rotateKey(id, 0, key.etag, MASTER))
    expect(rotated["key"]).not.toBe(key["key"])
    const [row] = await sql`select key_hash, previous_hash from virtual_keys where id = ${id}`
    expect(row).toEqual({ key_hash: hashKey(String(rotated["key"])), previous_hash: null })
    const graced = await run(store.rotateKey(id, 60_000, undefined, MASTER))
    const [row2] = await sql`select key_hash, previous_hash, previous_expires_at from virtual_keys where id = ${id}`
    expect(row2?.["key_hash"]).toBe(hashKey(String(graced["key"])))
    expect(row2?.["previous_hash"]).toBe(hashKey(String(rotated["key"])))
    expect(graced["previous_expires_at"]).not.toBeNull()
    expect((await failure(store.rotateKey(id, 0, key.etag, MASTER)))._tag).toBe("PreconditionFailed")
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
    for (const secret of [SECRET, "sk-second-PLAINTEXT-secret", String(key["key"]), String(rotated["key"])]) expect(text).not.toContain(secret)
  })
})
