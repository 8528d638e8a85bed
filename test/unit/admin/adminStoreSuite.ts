// The behaviour both AdminStores promise, run against each (FileAdminStore.test.ts on a real file in a
// temp dir, PostgresAdminStore.test.ts on a real database): CRUD of every resource, names and
// duplicates (409), dependants (409), key minting (plaintext once, hash and prefix stored), rotation
// (the previous key until `previous_expires_at`), etags and If-Match (412), 422 naming the field (and
// nothing written), a masked secret sent back (422), pages and filters, and the audit log.
import * as Effect from "effect/Effect"
import { describe, expect, it, type TestContext } from "vitest"
import type { Actor, AdminStoreShape } from "../../../src/admin/AdminStore.ts"
import { hashKey, maskSecret } from "../../../src/auth/KeyMaterial.ts"
import type { GatewayError } from "../../../src/domain/GatewayError.ts"

/** One audit entry, as either store records it (Postgres keeps `user_id` in `detail`; here it is beside it, as in the file). */
export interface AuditEntry {
  readonly actor: string
  readonly user_id?: string | undefined
  readonly action: string
  readonly resource: string
  readonly resource_id: string | null
  readonly detail: Readonly<Record<string, unknown>>
}

export interface AdminStoreHarness {
  /** A store on an empty catalog (no provider, model, project, user or key). */
  readonly store: AdminStoreShape
  /** What the store holds for key `id`: its hash and the previous key's (null when none). */
  readonly storedKey: (id: string) => Promise<{ readonly hash: string; readonly previous_hash: string | null }>
  /** The audit log, oldest first. */
  readonly audit: () => Promise<ReadonlyArray<AuditEntry>>
  /** Everything the store holds, as text (to see that nothing changed, or that no plaintext is kept). */
  readonly dump: () => Promise<string>
}

/** Makes a harness for one test; `now` is the store's clock. */
export type MakeHarness = (ctx: TestContext, now: () => number) => Promise<AdminStoreHarness>

const MASTER: Actor = { id: "master" }
const ADMIN: Actor = { id: "key:key_admin", userId: "usr_admin" }
const SECRET = "sk-upstream-SUITE-secret-4f2a9c"
const HEADER_SECRET = "hdr-secret-0123456789-abcdef"
const provider = { name: "up", kind: "openai", base_url: "http://127.0.0.1:9/v1", api_key: SECRET }
const model = { name: "chat", targets: [{ provider: "up", model: "upstream-chat" }] }
const all = { limit: 100, cursor: undefined, filters: {} }

const run = <A>(effect: Effect.Effect<A, GatewayError>): Promise<A> => Effect.runPromise(effect)
const failure = async (effect: Effect.Effect<unknown, GatewayError>) =>
  (await Effect.runPromise(Effect.flip(effect))).reason
const idOf = (o: Readonly<Record<string, unknown>>): string => String(o["id"])

export const adminStoreSuite = (name: string, make: MakeHarness) =>
  describe(`${name}: the admin store contract`, () => {
    const start = Date.parse("2026-03-01T12:00:00Z")

    it("creates, reads, lists, updates and deletes providers and models by name; secrets shown masked", async (ctx) => {
      const { store } = await make(ctx, () => start)
      const p = await run(store.create("providers", provider, MASTER))
      expect(p).toMatchObject({ name: "up", kind: "openai", base_url: provider.base_url, api_key: maskSecret(SECRET) })
      expect(p.etag).toMatch(/^[0-9a-f]{32}$/)
      const m = await run(store.create("models", model, MASTER))
      expect(m).toMatchObject(model)
      expect(await run(store.get("providers", "up"))).toEqual(p)
      expect(await run(store.get("models", "chat"))).toEqual(m)
      expect((await run(store.list("providers", all))).data).toEqual([p])
      expect(
        (await run(store.list("models", { ...all, filters: { provider: "up" } }))).data.map((x) => x["name"])
      ).toEqual(["chat"])
      expect((await run(store.list("models", { ...all, filters: { provider: "other" } }))).data).toEqual([])

      const p2 = await run(store.update("providers", "up", { timeout: { request: "10s" } }, p.etag, MASTER))
      expect(p2).toMatchObject({ timeout: { request: "10s" }, base_url: provider.base_url, api_key: p["api_key"] })
      expect(p2.etag).not.toBe(p.etag)
      const m2 = await run(store.update("models", "chat", { strategy: "failover", name: "chat" }, undefined, MASTER))
      expect(m2).toMatchObject({ strategy: "failover" })
      expect(await run(store.update("models", "chat", { strategy: null }, undefined, MASTER))).not.toHaveProperty(
        "strategy"
      )
      expect(JSON.stringify(await run(store.list("providers", all)))).not.toContain(SECRET)

      await run(store.remove("models", "chat", undefined, MASTER))
      await run(store.remove("providers", "up", undefined, MASTER))
      expect(await failure(store.get("providers", "up"))).toMatchObject({
        _tag: "NotFound",
        message: 'No provider named "up".'
      })
      expect(await failure(store.remove("models", "chat", undefined, MASTER))).toMatchObject({ _tag: "NotFound" })
      expect((await run(store.list("models", all))).data).toEqual([])
    })

    it("refuses a missing or changed name (422), a name taken (409) and a provider or model still in use (409)", async (ctx) => {
      const { store, dump } = await make(ctx, () => start)
      await run(store.create("providers", provider, MASTER))
      await run(store.create("models", model, MASTER))
      await run(store.create("models", { name: "chat-b", targets: [{ provider: "up" }], fallbacks: ["chat"] }, MASTER))
      const before = await dump()
      expect(await failure(store.create("providers", { kind: "mock" }, MASTER))).toMatchObject({
        _tag: "Unprocessable",
        param: "name"
      })
      expect(
        await failure(store.create("providers", { ...provider, api_key: "other-key-0123456789" }, MASTER))
      ).toMatchObject({ _tag: "Conflict", param: "name", message: 'A provider named "up" already exists.' })
      expect(await failure(store.update("models", "chat", { name: "renamed" }, undefined, MASTER))).toMatchObject({
        _tag: "Unprocessable",
        param: "name"
      })
      expect(await failure(store.remove("providers", "up", undefined, MASTER))).toMatchObject({
        _tag: "Conflict",
        param: null,
        message: 'The provider "up" is used by models "chat", "chat-b"; change or remove them first.'
      })
      expect(await failure(store.remove("models", "chat", undefined, MASTER))).toMatchObject({
        _tag: "Conflict",
        message: 'The model "chat" is used by models["chat-b"].fallbacks; change or remove it first.'
      })
      expect(await dump()).toBe(before)
      const project = await run(store.create("projects", { name: "P" }, MASTER))
      expect(await failure(store.create("projects", { name: "P" }, MASTER))).toMatchObject({
        _tag: "Conflict",
        param: "name"
      })
      await run(store.create("keys", { name: "k", project_id: idOf(project) }, MASTER))
      expect(await failure(store.remove("projects", idOf(project), undefined, MASTER))).toMatchObject({
        _tag: "Conflict",
        message: expect.stringMatching(/^The project "prj_\w+" is used by key "key_\w+"; delete it first\.$/)
      })
    })

    it("mints a key: the plaintext answered once, its hash and prefix stored; projects, users and keys by id", async (ctx) => {
      const { store, storedKey, dump } = await make(ctx, () => start)
      const project = await run(
        store.create(
          "projects",
          { name: "Search", limits: { requests_per_minute: 60 }, budget: { amount_usd: 25, period: "weekly" } },
          MASTER
        )
      )
      expect(project).toMatchObject({
        name: "Search",
        limits: { requests_per_minute: 60 },
        budget: { amount_usd: 25, period: "weekly" }
      })
      expect(await run(store.get("projects", idOf(project)))).toMatchObject({
        budget: { amount_usd: 25, period: "weekly" }
      })
      expect(idOf(project)).toMatch(/^prj_[0-9A-Za-z]{20}$/)
      const user = await run(store.create("users", { name: "Ann", role: "admin", projects: [project["id"]] }, MASTER))
      expect(user).toMatchObject({ name: "Ann", role: "admin", projects: [project["id"]], email: null })
      expect(idOf(user)).toMatch(/^usr_/)
      const key = await run(
        store.create("keys", { name: "ci", project_id: project["id"], user_id: user["id"], models: ["chat"] }, MASTER)
      )
      const plaintext = String(key["key"])
      expect(plaintext).toMatch(/^sk-lg-[0-9A-Za-z]{32}$/)
      expect(key).toMatchObject({
        prefix: plaintext.slice(0, 12),
        project_id: project["id"],
        user_id: user["id"],
        models: ["chat"],
        enabled: true,
        expires_at: null,
        previous_expires_at: null
      })
      expect(key).not.toHaveProperty("hash")
      expect(key).not.toHaveProperty("key_hash")
      expect(await storedKey(idOf(key))).toEqual({ hash: hashKey(plaintext), previous_hash: null })
      const shown = await run(store.get("keys", idOf(key)))
      expect(shown).not.toHaveProperty("key")
      expect(shown.etag).toBe(key.etag)
      expect(await dump()).not.toContain(plaintext)

      // A key without `models` may use every model (null); filters by project, user and enabled.
      const other = await run(store.create("projects", { name: "Other" }, MASTER))
      const open = await run(store.create("keys", { name: "open", project_id: other["id"], enabled: false }, MASTER))
      expect(open["models"]).toBeNull()
      const ids = async (filters: Record<string, string>) =>
        (await run(store.list("keys", { ...all, filters }))).data.map(idOf)
      expect(await ids({ project_id: idOf(other) })).toEqual([idOf(open)])
      expect(await ids({ user_id: idOf(user) })).toEqual([idOf(key)])
      expect(await ids({ enabled: "false" })).toEqual([idOf(open)])
      expect(
        (await run(store.list("users", { ...all, filters: { project_id: idOf(project), role: "admin" } }))).data.map(
          idOf
        )
      ).toEqual([idOf(user)])

      // PATCH sets the given fields; null clears an optional one.
      const patched = await run(
        store.update("keys", idOf(key), { enabled: false, models: null, name: "ci-2" }, key.etag, MASTER)
      )
      expect(patched).toMatchObject({ enabled: false, models: null, name: "ci-2", prefix: key["prefix"] })
      const renamed = await run(store.update("users", idOf(user), { email: "ann@example.com" }, undefined, MASTER))
      expect(renamed).toMatchObject({ email: "ann@example.com", projects: [project["id"]] })
      expect(await run(store.update("users", idOf(user), { email: null }, undefined, MASTER))).toMatchObject({
        email: null
      })

      // A deleted user's keys stay, detached; a deleted project leaves its members.
      await run(store.remove("users", idOf(user), undefined, MASTER))
      expect((await run(store.get("keys", idOf(key))))["user_id"]).toBeNull()
      const member = await run(
        store.create("users", { name: "Bob", role: "member", projects: [project["id"], other["id"]] }, MASTER)
      )
      await run(store.remove("keys", idOf(open), undefined, MASTER))
      await run(store.remove("projects", idOf(other), undefined, MASTER))
      expect((await run(store.get("users", idOf(member))))["projects"]).toEqual([project["id"]])
      expect(await failure(store.get("projects", idOf(other)))).toMatchObject({
        _tag: "NotFound",
        message: `No project with id "${idOf(other)}".`
      })
    })

    it("rotates a key: a new plaintext; the old key's hash kept until previous_expires_at, or dropped at once", async (ctx) => {
      let clock = start
      const { store, storedKey } = await make(ctx, () => clock)
      const project = await run(store.create("projects", { name: "P" }, MASTER))
      const key = await run(store.create("keys", { name: "k", project_id: project["id"] }, MASTER))
      clock += 1_000
      const rotated = await run(store.rotateKey(idOf(key), 60_000, key.etag, MASTER))
      expect(rotated["key"]).toMatch(/^sk-lg-/)
      expect(rotated["key"]).not.toBe(key["key"])
      expect(rotated["prefix"]).toBe(String(rotated["key"]).slice(0, 12))
      expect(Date.parse(String(rotated["previous_expires_at"]))).toBe(start + 61_000)
      expect(await storedKey(idOf(key))).toEqual({
        hash: hashKey(String(rotated["key"])),
        previous_hash: hashKey(String(key["key"]))
      })
      expect(await failure(store.rotateKey(idOf(key), 0, key.etag, MASTER))).toMatchObject({
        _tag: "PreconditionFailed"
      })
      const again = await run(store.rotateKey(idOf(key), 0, rotated.etag, MASTER))
      expect(again["previous_expires_at"]).toBeNull()
      expect(await storedKey(idOf(key))).toEqual({ hash: hashKey(String(again["key"])), previous_hash: null })
      expect(await failure(store.rotateKey("key_missing", 0, undefined, MASTER))).toMatchObject({ _tag: "NotFound" })
    })

    it("conditions writes on the etag: If-Match of another version is 412 and changes nothing", async (ctx) => {
      const { store, dump } = await make(ctx, () => start)
      const project = await run(store.create("projects", { name: "P" }, MASTER))
      const id = idOf(project)
      expect((await run(store.list("projects", all))).data[0]?.etag).toBe(project.etag)
      const first = await run(store.update("projects", id, { name: "Q" }, `W/"${project.etag}"`, MASTER))
      expect(first.etag).not.toBe(project.etag)
      const before = await dump()
      const stale = await failure(store.update("projects", id, { name: "R" }, `"${project.etag}"`, MASTER))
      expect(stale).toMatchObject({
        _tag: "PreconditionFailed",
        message: expect.stringContaining(`now "${first.etag}"`)
      })
      expect(await failure(store.remove("projects", id, project.etag, MASTER))).toMatchObject({
        _tag: "PreconditionFailed"
      })
      expect(await dump()).toBe(before)
      expect(await run(store.update("projects", id, { name: "S" }, `"0000", "${first.etag}"`, MASTER))).toMatchObject({
        name: "S"
      })
      await run(store.remove("projects", id, "*", MASTER))
    })

    it("refuses with 422 naming the field what the resulting config or the API does not allow, writing nothing", async (ctx) => {
      const { store, dump } = await make(ctx, () => start)
      await run(store.create("providers", provider, MASTER))
      const project = await run(store.create("projects", { name: "P" }, MASTER))
      const before = await dump()
      expect(
        await failure(store.create("models", { name: "m", targets: [{ provider: "nope" }] }, MASTER))
      ).toMatchObject({
        _tag: "Unprocessable",
        param: "targets[0].provider",
        message: expect.stringContaining('unknown provider "nope"')
      })
      expect(
        await failure(store.create("providers", { name: "x", kind: "openai", base_url: "ftp://x" }, MASTER))
      ).toMatchObject({ _tag: "Unprocessable", param: "base_url" })
      expect(await failure(store.create("keys", { name: "k", project_id: "prj_missing" }, MASTER))).toMatchObject({
        _tag: "Unprocessable",
        param: "project_id"
      })
      expect(
        await failure(store.create("keys", { name: "k", project_id: project["id"], enabled: "yes" }, MASTER))
      ).toMatchObject({ _tag: "Unprocessable", param: "enabled" })
      expect(
        await failure(store.create("keys", { name: "k", project_id: project["id"], hash: "0".repeat(64) }, MASTER))
      ).toMatchObject({ _tag: "Unprocessable", param: "hash", message: "hash: unknown field" })
      expect(
        await failure(store.create("keys", { name: "k", project_id: project["id"], prefix: "sk-lg-abc" }, MASTER))
      ).toMatchObject({ _tag: "Unprocessable", param: "prefix", message: "prefix: read-only" })
      expect(await failure(store.update("projects", idOf(project), { name: null }, undefined, MASTER))).toMatchObject({
        _tag: "Unprocessable",
        param: "name",
        message: "name: cannot be null"
      })
      expect(
        await failure(store.update("projects", idOf(project), { id: "prj_other" }, undefined, MASTER))
      ).toMatchObject({ _tag: "Unprocessable", param: "id" })
      expect(await failure(store.create("users", { name: "U", role: "owner", projects: [] }, MASTER))).toMatchObject({
        _tag: "Unprocessable",
        param: "role"
      })
      expect(await dump()).toBe(before)
    })

    it("refuses a masked secret sent back (422 naming the field), keeping the stored one", async (ctx) => {
      const { store, dump } = await make(ctx, () => start)
      const p = await run(
        store.create(
          "providers",
          { ...provider, headers: { "X-Api-Key": HEADER_SECRET, "Anthropic-Version": "2023-06-01" } },
          MASTER
        )
      )
      expect(p["headers"]).toEqual({ "X-Api-Key": maskSecret(HEADER_SECRET), "Anthropic-Version": "2023-06-01" })
      const { etag: _etag, name: _name, ...asShown } = p
      const before = await dump()
      expect(await failure(store.update("providers", "up", asShown, undefined, MASTER))).toMatchObject({
        _tag: "Unprocessable",
        param: "api_key",
        message: expect.stringContaining("masked")
      })
      expect(
        await failure(store.update("providers", "up", { headers: p["headers"] }, undefined, MASTER))
      ).toMatchObject({ _tag: "Unprocessable", param: "headers.X-Api-Key" })
      expect(await failure(store.create("providers", { ...asShown, name: "copy" }, MASTER))).toMatchObject({
        _tag: "Unprocessable",
        param: "api_key"
      })
      expect(await dump()).toBe(before)
      const { api_key: _k, headers: _h, ...rest } = asShown
      const changed = await run(
        store.update("providers", "up", { ...rest, base_url: "http://127.0.0.1:10/v1" }, undefined, MASTER)
      )
      expect(changed).toMatchObject({
        base_url: "http://127.0.0.1:10/v1",
        api_key: p["api_key"],
        headers: p["headers"]
      })
    })

    it("pages lists by id with limit and cursor; a cursor not from a page is 400", async (ctx) => {
      const { store } = await make(ctx, () => start)
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) ids.push(idOf(await run(store.create("projects", { name: `p${i}` }, MASTER))))
      const seen: Array<string> = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = await run(store.list("projects", { limit: 2, cursor, filters: {} }))
        pages++
        seen.push(...page.data.map(idOf))
        cursor = page.next_cursor ?? undefined
      } while (cursor !== undefined)
      expect(pages).toBe(3)
      expect(seen).toEqual([...ids].sort())
      expect(await failure(store.list("keys", { limit: 5, cursor: "%%%", filters: {} }))).toMatchObject({
        _tag: "InvalidRequest",
        param: "cursor"
      })
    })

    it("audits every write and reload: actor, action, resource, id and the fields changed, never a secret", async (ctx) => {
      const { store, audit } = await make(ctx, () => start)
      await run(store.create("providers", provider, ADMIN))
      await run(store.update("providers", "up", { api_key: "sk-second-SUITE-secret-0000" }, undefined, ADMIN))
      const project = await run(store.create("projects", { name: "P" }, MASTER))
      const key = await run(store.create("keys", { name: "k", project_id: project["id"] }, MASTER))
      const rotated = await run(store.rotateKey(idOf(key), 0, undefined, MASTER))
      await run(store.remove("keys", idOf(key), undefined, MASTER))
      await run(store.reload(MASTER))
      const entries = await audit()
      expect(entries.map((e) => [e.actor, e.user_id, e.action, e.resource, e.resource_id])).toEqual([
        ["key:key_admin", "usr_admin", "create", "provider", "up"],
        ["key:key_admin", "usr_admin", "update", "provider", "up"],
        ["master", undefined, "create", "project", idOf(project)],
        ["master", undefined, "create", "key", idOf(key)],
        ["master", undefined, "rotate", "key", idOf(key)],
        ["master", undefined, "delete", "key", idOf(key)],
        ["master", undefined, "reload", "config", null]
      ])
      expect(entries.map((e) => e.detail)).toEqual([
        { fields: ["name", "kind", "base_url", "api_key"] },
        { fields: ["api_key"] },
        { fields: ["name"] },
        { fields: ["name", "project_id"], prefix: key["prefix"], project_id: project["id"] },
        { prefix: rotated["prefix"], grace_period_ms: 0 },
        {},
        {}
      ])
      const text = JSON.stringify(entries)
      for (const secret of [SECRET, "sk-second-SUITE-secret-0000", String(key["key"]), String(rotated["key"])])
        expect(text).not.toContain(secret)
    })
  })
