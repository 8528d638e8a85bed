// CatalogEdit's decisions alone, with a fixed clock, ids and key: the catalog after each change, what
// it entails (a deleted project leaves its members, a deleted user's keys are detached), the answer's
// plaintext, the audit detail, and the refusals (404, 412, 409, 422) — no store, no I/O.
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { describe, expect, it } from "vitest"
import type { Resource } from "../../../src/admin/AdminStore.ts"
import * as CatalogEdit from "../../../src/admin/CatalogEdit.ts"
import type { GatewayError } from "../../../src/domain/GatewayError.ts"

const NOW = Date.parse("2026-03-01T12:00:00Z")
const KEY = { key: "sk-lg-0123456789abcdefghijklmnopqrstuv", prefix: "sk-lg-012345", hash: "a".repeat(64) }
const inputs: CatalogEdit.EditInputs = {
  now: NOW,
  newId: (kind) => `${kind}_fixed`,
  generateKey: () => KEY,
  etagOf: (resource: Resource, entry) => `etag-${CatalogEdit.idOf(resource, entry)}`
}

const catalog: CatalogEdit.Catalog = {
  providers: [{ name: "up", kind: "openai", base_url: "http://127.0.0.1:9/v1" }],
  models: [
    { name: "chat", targets: [{ provider: "up" }] },
    { name: "spare", targets: [{ provider: "up" }], fallbacks: ["chat"] }
  ],
  routes: [{ position: 3, path: "/chat", model: "chat" }],
  projects: [
    { id: "prj_a", name: "A" },
    { id: "prj_b", name: "B" }
  ],
  users: [{ id: "usr_a", name: "Ann", role: "admin", projects: ["prj_a", "prj_b"] }],
  keys: [
    { id: "key_a", name: "k", prefix: "sk-lg-old000", hash: "b".repeat(64), project_id: "prj_a", user_id: "usr_a" }
  ]
}

const ok = (result: Result.Result<CatalogEdit.Change, GatewayError>): CatalogEdit.Change => {
  if (Result.isFailure(result)) throw new Error(`refused: ${result.failure.message}`)
  return result.success
}
const refused = (result: Result.Result<CatalogEdit.Change, GatewayError>) => {
  if (Result.isSuccess(result)) throw new Error("not refused")
  return result.failure.reason
}

describe("CatalogEdit", () => {
  it("mints a key from the inputs: the entry holds hash and prefix, the answer reveals the plaintext once", () => {
    const change = ok(
      CatalogEdit.create(catalog, "keys", { name: "ci", project_id: "prj_b", models: ["chat"] }, inputs)
    )
    expect(change.entry).toEqual({
      id: "key_fixed",
      name: "ci",
      prefix: KEY.prefix,
      hash: KEY.hash,
      project_id: "prj_b",
      models: ["chat"],
      created_at: "2026-03-01T12:00:00.000Z"
    })
    expect(change.reveal).toEqual({ key: KEY.key })
    expect(change.detail).toEqual({ fields: ["name", "project_id", "models"], prefix: KEY.prefix, project_id: "prj_b" })
    expect(change.next.keys.map((k) => k.id)).toEqual(["key_a", "key_fixed"])
    expect(catalog.keys).toHaveLength(1)
  })

  it("rotates: the previous hash kept until now + grace, or dropped", () => {
    const graced = ok(CatalogEdit.rotate(catalog, "key_a", 60_000, '"etag-key_a"', inputs))
    expect(graced.entry).toMatchObject({
      hash: KEY.hash,
      prefix: KEY.prefix,
      previous_hash: "b".repeat(64),
      previous_expires_at: "2026-03-01T12:01:00.000Z"
    })
    expect(graced.detail).toEqual({ prefix: KEY.prefix, grace_period_ms: 60_000 })
    const rotatedTwice = ok(CatalogEdit.rotate(graced.next, "key_a", 0, undefined, inputs))
    expect(rotatedTwice.entry).not.toHaveProperty("previous_hash")
    expect(rotatedTwice.entry).not.toHaveProperty("previous_expires_at")
    expect(refused(CatalogEdit.rotate(catalog, "key_a", 0, '"etag-other"', inputs))).toMatchObject({
      _tag: "PreconditionFailed"
    })
    expect(refused(CatalogEdit.rotate(catalog, "key_x", 0, undefined, inputs))).toMatchObject({
      _tag: "NotFound",
      message: 'No key with id "key_x".'
    })
  })

  it("updates the given fields; null removes one; the name or id cannot change", () => {
    const change = ok(
      CatalogEdit.update(catalog, "keys", "key_a", { user_id: null, enabled: false }, undefined, inputs)
    )
    expect(change.entry).not.toHaveProperty("user_id")
    expect(change.entry).toMatchObject({ enabled: false, id: "key_a" })
    expect(change.detail).toEqual({ fields: ["user_id", "enabled"] })
    expect(refused(CatalogEdit.update(catalog, "models", "chat", { name: "other" }, undefined, inputs))).toMatchObject({
      _tag: "Unprocessable",
      param: "name"
    })
    expect(
      refused(CatalogEdit.update(catalog, "keys", "key_a", { hash: "c".repeat(64) }, undefined, inputs))
    ).toMatchObject({ _tag: "Unprocessable", param: "hash" })
    expect(refused(CatalogEdit.update(catalog, "projects", "prj_a", { name: null }, undefined, inputs))).toMatchObject({
      _tag: "Unprocessable",
      param: "name"
    })
  })

  it("deletes what nothing uses, with what that entails; names the dependants otherwise", () => {
    expect(refused(CatalogEdit.remove(catalog, "providers", "up", undefined, inputs))).toMatchObject({
      _tag: "Conflict",
      message: 'The provider "up" is used by models "chat", "spare"; change or remove them first.'
    })
    expect(refused(CatalogEdit.remove(catalog, "models", "chat", undefined, inputs))).toMatchObject({
      message: 'The model "chat" is used by models["spare"].fallbacks, routes[3] (/chat); change or remove them first.'
    })
    expect(refused(CatalogEdit.remove(catalog, "projects", "prj_a", undefined, inputs))).toMatchObject({
      message: 'The project "prj_a" is used by key "key_a"; delete it first.'
    })
    const project = ok(CatalogEdit.remove(catalog, "projects", "prj_b", undefined, inputs))
    expect(project.next.projects.map((p) => p.id)).toEqual(["prj_a"])
    expect(project.next.users[0]?.["projects"]).toEqual(["prj_a"])
    expect(project.next.keys).toBe(catalog.keys)
    const user = ok(CatalogEdit.remove(catalog, "users", "usr_a", undefined, inputs))
    expect(user.next.users).toEqual([])
    expect(user.next.keys[0]).not.toHaveProperty("user_id")
    expect(user.entry).toBeUndefined()
  })

  it("refuses a provider without a name, a name taken, and a masked secret", () => {
    expect(refused(CatalogEdit.create(catalog, "providers", { kind: "mock" }, inputs))).toMatchObject({
      _tag: "Unprocessable",
      param: "name"
    })
    expect(refused(CatalogEdit.create(catalog, "providers", { name: "up", kind: "mock" }, inputs))).toMatchObject({
      _tag: "Conflict",
      param: "name"
    })
    expect(
      refused(CatalogEdit.create(catalog, "providers", { name: "new", kind: "openai", api_key: "****abcd" }, inputs))
    ).toMatchObject({ _tag: "Unprocessable", param: "api_key" })
    expect(refused(CatalogEdit.create(catalog, "projects", { name: "P", id: "prj_mine" }, inputs))).toMatchObject({
      _tag: "Unprocessable",
      param: "id",
      message: "id: read-only"
    })
  })

  it("pages and filters a section", () => {
    const page = Effect.runSync(
      CatalogEdit.page(catalog, "keys", {
        limit: 10,
        cursor: undefined,
        filters: { enabled: "true", user_id: "usr_a" }
      })
    )
    expect(page.rows.map((k) => CatalogEdit.idOf("keys", k))).toEqual(["key_a"])
  })
})
