// The file AdminStore on a real YAML file (in a temp dir): the shared admin store suite
// (adminStoreSuite.ts), and what is the file's own: CRUD on a file with comments, routes and `${VAR}`
// references (kept), the written file valid for the gateway, values written as data, no temp or lock
// file left, an audit line per write without secrets, and concurrent writers (two stores on one file,
// as two workers) losing no update.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as FileSystem from "effect/FileSystem"
import * as Predicate from "effect/Predicate"
import * as Result from "effect/Result"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it, onTestFinished } from "vitest"
import { parse as parseYaml } from "yaml"
import type { AdminStoreShape } from "../../../src/admin/AdminStore.ts"
import * as FileAdminStore from "../../../src/admin/FileAdminStore.ts"
import { hashKey, maskSecret } from "../../../src/auth/KeyMaterial.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { effectiveConfig } from "../../../src/admin/EffectiveConfig.ts"
import type { GatewayError } from "../../../src/domain/GatewayError.ts"
import { adminStoreSuite, type AuditEntry } from "./adminStoreSuite.ts"

const MASTER = { id: "master" } as const
const ENV = { MK: "mk-master-PLAINTEXT-1234", UP_KEY: "upk-PLAINTEXT-5678-abcdef" }
const LITERAL_SECRET = "sk-upstream-LITERAL-9f8e7d6c"

const CONFIG = `# llmgate test config (top comment)
env: [MK, UP_KEY]
master_key: \${MK} # the master key
providers:
  # the mock provider
  - name: mock
    kind: mock
  - name: up
    kind: openai
    base_url: http://127.0.0.1:1/v1
    auth: { type: bearer, token: \${UP_KEY} }
models:
  - name: m # used by the route
    targets: [{ provider: mock }]
  - name: n
    targets:
      - provider: up
    fallbacks: [m]
routes:
  - path: /r
    model: m
projects:
  - id: prj_a
    name: A # project A
keys: []
`

interface Setup {
  readonly dir: string
  readonly path: string
  readonly store: AdminStoreShape
  readonly reloads: () => number
  readonly text: () => string
  readonly makeStore: () => AdminStoreShape
}

const setup = (text = CONFIG, now?: () => number): Setup => {
  const dir = mkdtempSync(join(tmpdir(), "llmgate-file-admin-"))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, "gateway.yaml")
  writeFileSync(path, text)
  let reloads = 0
  const makeStore = () =>
    Effect.runSync(
      Effect.map(Effect.service(FileSystem.FileSystem), (fs) =>
        FileAdminStore.make(fs, {
          path,
          env: ENV,
          reload: Effect.sync(() => void reloads++),
          ...(now === undefined ? {} : { now })
        })
      ).pipe(Effect.provide(NodeFileSystem.layer))
    )
  return { dir, path, store: makeStore(), reloads: () => reloads, text: () => readFileSync(path, "utf8"), makeStore }
}

const run = <A>(effect: Effect.Effect<A, GatewayError>): Promise<A> => Effect.runPromise(effect)
const failure = async (effect: Effect.Effect<unknown, GatewayError>) =>
  (await Effect.runPromise(Effect.flip(effect))).reason

/** The file as the gateway would load it. */
const loads = (text: string) => {
  const r = parseConfig(text, ENV, "test")
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

describe("FileAdminStore", () => {
  it("creates, reads, updates and deletes; the gateway loads the written file; comments and ${VAR} are kept", async () => {
    const s = setup()
    const project = await run(
      s.store.create("projects", { name: "Search", limits: { requests_per_minute: 60 } }, MASTER)
    )
    expect(project["id"]).toMatch(/^prj_[0-9A-Za-z]{20}$/)
    expect(project).toMatchObject({ name: "Search", limits: { requests_per_minute: 60 }, updated_at: null })
    const user = await run(s.store.create("users", { name: "Ann", role: "admin", projects: [project["id"]] }, MASTER))
    expect(user).toMatchObject({ role: "admin", projects: [project["id"]], email: null })
    const key = await run(
      s.store.create("keys", { name: "ci", project_id: project["id"], user_id: user["id"], models: ["gpt-*"] }, MASTER)
    )
    const plaintext = String(key["key"])
    expect(plaintext).toMatch(/^sk-lg-[0-9A-Za-z]{32}$/)
    expect(key).toMatchObject({
      prefix: plaintext.slice(0, 12),
      models: ["gpt-*"],
      enabled: true,
      expires_at: null,
      project_id: project["id"]
    })
    expect(key).not.toHaveProperty("hash")

    const text = s.text()
    expect(text).not.toContain(plaintext)
    expect(text).toContain(hashKey(plaintext))
    for (const comment of [
      "# llmgate test config (top comment)",
      "# the master key",
      "# the mock provider",
      "# used by the route",
      "# project A"
    ]) {
      expect(text).toContain(comment)
    }
    expect(text).toContain("master_key: ${MK}")
    expect(text).toContain("auth: { type: bearer, token: ${UP_KEY} }")
    expect(text).not.toContain(ENV.UP_KEY)
    const config = loads(text)
    expect(config.tenancy.keysByHash.get(hashKey(plaintext))?.allows("gpt-4o")).toBe(true)
    expect(config.tenancy.keysByHash.get(hashKey(plaintext))?.allows("claude")).toBe(false)
    expect(s.reloads()).toBe(3)

    const listed = await run(
      s.store.list("keys", { limit: 10, cursor: undefined, filters: { project_id: String(project["id"]) } })
    )
    expect(listed.data.map((k) => k["id"])).toEqual([key["id"]])
    expect(await run(s.store.get("keys", String(key["id"])))).toEqual({
      ...key,
      key: undefined,
      etag: key.etag
    } as unknown)

    const updated = await run(
      s.store.update("keys", String(key["id"]), { enabled: false, models: null }, `"${key.etag}"`, MASTER)
    )
    expect(updated).toMatchObject({ enabled: false, models: null })
    expect(updated.etag).not.toBe(key.etag)
    expect(loads(s.text()).tenancy.keys.get(String(key["id"]))).toMatchObject({ enabled: false, models: undefined })

    await run(s.store.remove("keys", String(key["id"]), undefined, MASTER))
    await run(s.store.remove("users", String(user["id"]), undefined, MASTER))
    await run(s.store.remove("projects", String(project["id"]), undefined, MASTER))
    expect(await failure(s.store.get("projects", String(project["id"])))).toMatchObject({ _tag: "NotFound" })
    expect(loads(s.text()).tenancy.keys.size).toBe(0)
    expect(s.text()).toContain("# project A")
  })

  it("providers and models by name; literal secrets written as given and shown masked, references shown as written", async () => {
    const s = setup()
    const p = await run(
      s.store.create(
        "providers",
        { name: "lit", kind: "openai", base_url: "http://127.0.0.1:2/v1", api_key: LITERAL_SECRET },
        MASTER
      )
    )
    expect(p["api_key"]).toBe(maskSecret(LITERAL_SECRET))
    expect(p["api_key"]).toBe("****7d6c")
    expect(s.text()).toContain(LITERAL_SECRET)
    expect(await run(s.store.get("providers", "up"))).toMatchObject({ auth: { type: "bearer", token: "${UP_KEY}" } })
    const m = await run(s.store.create("models", { name: "lit-chat", targets: [{ provider: "lit" }] }, MASTER))
    expect(m).toMatchObject({ name: "lit-chat", targets: [{ provider: "lit" }] })
    const changed = await run(s.store.update("models", "lit-chat", { strategy: "failover" }, m.etag, MASTER))
    expect(changed).toMatchObject({ strategy: "failover" })
    expect((await run(s.store.list("models", { limit: 1, cursor: undefined, filters: {} }))).next_cursor).not.toBeNull()
    expect(loads(s.text()).models.get("lit-chat")?.strategy).toBe("failover")
  })

  it("values sent through the API are data: ${VAR} in them stays literal in every field, and reads back as sent", async () => {
    // Before issue 10 the strings were written unescaped, so `${MK}` in any of them read the master key from the environment.
    const s = setup()
    const ref = "${MK}"
    const provider = await run(
      s.store.create(
        "providers",
        {
          name: "leak",
          kind: "openai",
          base_url: `http://127.0.0.1:2/v1?x=${ref}`,
          api_key: ref,
          headers: { "X-Leak": ref, "User-Agent": `agent ${ref}` }
        },
        MASTER
      )
    )
    const model = await run(
      s.store.create("models", { name: `m-${ref}`, targets: [{ provider: "leak", model: ref }] }, MASTER)
    )
    const project = await run(
      s.store.create("projects", { name: `P ${ref}`, metadata: { note: ref, nested: [{ deep: `$${ref}` }] } }, MASTER)
    )
    const key = await run(
      s.store.create("keys", { name: ref, project_id: project["id"], models: [`m-${ref}`] }, MASTER)
    )

    const text = s.text()
    expect(text).toContain("$${MK}")
    const config = loads(text)
    const leak = config.providers.get("leak")
    expect(leak?.baseUrl).toBe(`http://127.0.0.1:2/v1?x=${ref}`)
    expect(leak?.auth && Redacted.value(leak.auth.value)).toBe(`Bearer ${ref}`)
    expect(leak?.headerOps).toEqual([
      { op: "replace", key: "x-leak", value: ref },
      { op: "replace", key: "user-agent", value: `agent ${ref}` }
    ])
    expect(config.modelNames).toContain(`m-${ref}`)
    expect(config.models.get(`m-${ref}`)?.targets[0]?.model).toBe(ref)
    expect(config.tenancy.projects.get(String(project["id"]))).toMatchObject({
      name: `P ${ref}`,
      metadata: { note: ref, nested: [{ deep: `$${ref}` }] }
    })
    expect(config.tenancy.keys.get(String(key["id"]))).toMatchObject({ name: ref, models: [`m-${ref}`] })
    // Nowhere does the environment's value show: not in what the gateway runs, not in what the API answers.
    const everything = JSON.stringify([
      effectiveConfig(config, "file"),
      provider,
      model,
      project,
      key,
      await run(s.store.list("providers", { limit: 50, cursor: undefined, filters: {} }))
    ])
    expect(everything).not.toContain(ENV.MK)

    // Read back as sent; secrets masked (a literal `${MK}` is a short secret).
    expect(provider).toMatchObject({
      base_url: `http://127.0.0.1:2/v1?x=${ref}`,
      api_key: "****",
      headers: { "X-Leak": "****", "User-Agent": `agent ${ref}` }
    })
    expect(model).toMatchObject({ name: `m-${ref}`, targets: [{ provider: "leak", model: ref }] })
    expect(await run(s.store.get("models", `m-${ref}`))).toEqual(model)
    expect(project).toMatchObject({ name: `P ${ref}`, metadata: { note: ref, nested: [{ deep: `$${ref}` }] } })
    // Sent back as read, a value is written the same (the etag does not move).
    const again = await run(
      s.store.update(
        "projects",
        String(project["id"]),
        { name: project["name"], metadata: project["metadata"] },
        project.etag,
        MASTER
      )
    )
    expect(again.etag).toBe(project.etag)
  })

  it("a reference the file has is kept where it stands when sent back unchanged, and cannot be created or moved", async () => {
    const s = setup()
    const up = await run(s.store.get("providers", "up"))
    const kept = await run(s.store.update("providers", "up", { auth: up["auth"] }, up.etag, MASTER))
    expect(kept["auth"]).toEqual({ type: "bearer", token: "${UP_KEY}" })
    const auth = loads(s.text()).providers.get("up")?.auth
    expect(auth && Redacted.value(auth.value)).toBe(`Bearer ${ENV.UP_KEY}`)

    // The same reference in another place is a literal there.
    await run(
      s.store.update(
        "providers",
        "up",
        { auth: { type: "header", name: "x-key", value: "${UP_KEY}" } },
        undefined,
        MASTER
      )
    )
    const moved = loads(s.text()).providers.get("up")?.auth
    expect(moved && Redacted.value(moved.value)).toBe("${UP_KEY}")
    expect(s.text()).not.toMatch(/value: \$\{UP_KEY\}/)
  })

  it("a masked value sent back is refused with 422 naming the field, and nothing is written", async () => {
    const s = setup()
    const headerSecret = "hdr-secret-0123456789-abcdef"
    const p = await run(
      s.store.create(
        "providers",
        {
          name: "lit",
          kind: "openai",
          base_url: "http://127.0.0.1:2/v1",
          api_key: LITERAL_SECRET,
          headers: { "X-Api-Key": headerSecret, "Anthropic-Version": "2023-06-01" }
        },
        MASTER
      )
    )
    // Header values are masked unless the header is known to carry no credential.
    expect(p["headers"]).toEqual({ "X-Api-Key": "****cdef", "Anthropic-Version": "2023-06-01" })
    for (const shown of [
      p,
      await run(s.store.get("providers", "lit")),
      (await run(s.store.list("providers", { limit: 50, cursor: undefined, filters: {} }))).data.find(
        (x) => x["name"] === "lit"
      )
    ]) {
      expect(JSON.stringify(shown)).not.toContain(LITERAL_SECRET)
      expect(JSON.stringify(shown)).not.toContain(headerSecret)
    }
    const before = s.text()
    const { etag: _etag, name: _name, ...asShown } = p
    expect(await failure(s.store.update("providers", "lit", asShown, undefined, MASTER))).toMatchObject({
      _tag: "Unprocessable",
      param: "api_key",
      message: expect.stringContaining("masked")
    })
    expect(
      await failure(s.store.update("providers", "lit", { headers: p["headers"] }, undefined, MASTER))
    ).toMatchObject({ _tag: "Unprocessable", param: "headers.X-Api-Key" })
    expect(
      await failure(
        s.store.update(
          "providers",
          "lit",
          { auth: { type: "bearer", token: "****" }, api_key: null },
          undefined,
          MASTER
        )
      )
    ).toMatchObject({ _tag: "Unprocessable", param: "auth.token" })
    expect(await failure(s.store.create("providers", { ...asShown, name: "copy" }, MASTER))).toMatchObject({
      _tag: "Unprocessable",
      param: "api_key"
    })
    expect(s.text()).toBe(before)
    // Without the masked fields the same change goes through, the secrets kept.
    const { api_key: _k, headers: _h, ...rest } = asShown
    await run(s.store.update("providers", "lit", { ...rest, base_url: "http://127.0.0.1:3/v1" }, undefined, MASTER))
    expect(s.text()).toContain(LITERAL_SECRET)
    expect(s.text()).toContain(headerSecret)
  })

  it("412 for a stale If-Match; 409 for a name taken and for dependants; 422 naming the field", async () => {
    const s = setup()
    const project = await run(s.store.create("projects", { name: "P" }, MASTER))
    const before = s.text()
    expect(
      await failure(s.store.update("projects", String(project["id"]), { name: "Q" }, '"0000"', MASTER))
    ).toMatchObject({ _tag: "PreconditionFailed" })
    expect(await failure(s.store.create("providers", { name: "mock", kind: "mock" }, MASTER))).toMatchObject({
      _tag: "Conflict",
      param: "name"
    })
    expect(await failure(s.store.create("projects", { name: "P" }, MASTER))).toMatchObject({
      _tag: "Conflict",
      param: "name"
    })
    const inUse = await failure(s.store.remove("providers", "mock", undefined, MASTER))
    expect(inUse).toMatchObject({ _tag: "Conflict", message: expect.stringContaining('model "m"') })
    const model = await failure(s.store.remove("models", "m", undefined, MASTER))
    expect(model).toMatchObject({
      _tag: "Conflict",
      message: expect.stringMatching(/models\["n"\]\.fallbacks.*routes\[0\] \(\/r\)/)
    })
    await run(s.store.create("keys", { name: "k", project_id: "prj_a" }, MASTER))
    expect(await failure(s.store.remove("projects", "prj_a", undefined, MASTER))).toMatchObject({ _tag: "Conflict" })
    const afterKey = s.text()

    expect(await failure(s.store.create("keys", { name: "k2", project_id: "prj_nope" }, MASTER))).toMatchObject({
      _tag: "Unprocessable",
      param: "project_id",
      message: expect.stringContaining('unknown project "prj_nope"')
    })
    expect(
      await failure(s.store.create("providers", { name: "bad", kind: "openai", base_url: "ftp://x" }, MASTER))
    ).toMatchObject({ _tag: "Unprocessable", param: "base_url" })
    expect(
      await failure(s.store.update("models", "m", { targets: [{ provider: "nope" }] }, undefined, MASTER))
    ).toMatchObject({ _tag: "Unprocessable", param: "targets[0].provider" })
    expect(await failure(s.store.create("keys", { name: "k3", project_id: "prj_a", hash: "x" }, MASTER))).toMatchObject(
      { _tag: "Unprocessable", param: "hash" }
    )
    expect(await failure(s.store.update("projects", "prj_a", { name: null }, undefined, MASTER))).toMatchObject({
      _tag: "Unprocessable",
      param: "name"
    })
    expect(await failure(s.store.update("models", "m", { name: "other" }, undefined, MASTER))).toMatchObject({
      _tag: "Unprocessable",
      param: "name"
    })
    expect(s.text()).toBe(afterKey)
    expect(before).not.toBe(afterKey)
  })

  it("rotates a key: the new key works, the old one until the grace period ends", async () => {
    let clock = Date.parse("2026-01-01T00:00:00Z")
    const s = setup()
    const store = Effect.runSync(
      Effect.map(Effect.service(FileSystem.FileSystem), (fs) =>
        FileAdminStore.make(fs, { path: s.path, env: ENV, reload: Effect.void, now: () => clock })
      ).pipe(Effect.provide(NodeFileSystem.layer))
    )
    const key = await run(store.create("keys", { name: "k", project_id: "prj_a" }, MASTER))
    clock += 1_000
    const rotated = await run(store.rotateKey(String(key["id"]), 60_000, key.etag, MASTER))
    expect(rotated["key"]).not.toBe(key["key"])
    expect(rotated["previous_expires_at"]).toBe("2026-01-01T00:01:01.000Z")
    const tenancy = loads(s.text()).tenancy
    expect(tenancy.keysByHash.get(hashKey(String(rotated["key"])))?.id).toBe(key["id"])
    expect(tenancy.keysByHash.get(hashKey(String(key["key"])))?.id).toBe(key["id"])
    const again = await run(store.rotateKey(String(key["id"]), 0, undefined, MASTER))
    expect(again["previous_expires_at"]).toBeNull()
    expect(loads(s.text()).tenancy.keysByHash.get(hashKey(String(rotated["key"])))).toBeUndefined()
  })

  it("writes atomically (no temp or lock file left) and audits every write without secrets", async () => {
    const s = setup()
    const key = await run(s.store.create("keys", { name: "k", project_id: "prj_a" }, MASTER))
    await run(
      s.store.create(
        "providers",
        { name: "lit", kind: "openai", base_url: "http://127.0.0.1:2/v1", api_key: LITERAL_SECRET },
        { id: "key:key_admin", userId: "usr_admin" }
      )
    )
    await run(s.store.reload(MASTER))
    expect(readdirSync(s.dir).sort()).toEqual(["gateway.yaml", "gateway.yaml.audit.jsonl"])
    const audit = readFileSync(`${s.path}.audit.jsonl`, "utf8")
    const lines = audit
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.map((l) => [l["actor"], l["action"], l["resource"]])).toEqual([
      ["master", "create", "key"],
      ["key:key_admin", "create", "provider"],
      ["master", "reload", "config"]
    ])
    expect(lines[0]).toMatchObject({ resource_id: key["id"], detail: { prefix: key["prefix"], project_id: "prj_a" } })
    expect(lines[1]).toMatchObject({
      user_id: "usr_admin",
      detail: { fields: ["name", "kind", "base_url", "api_key"] }
    })
    expect(audit).not.toContain(String(key["key"]))
    expect(audit).not.toContain(LITERAL_SECRET)
  })

  it("takes over a stale lock, and waits for a live one", async () => {
    const s = setup()
    writeFileSync(`${s.path}.lock`, "{}")
    const old = new Date(Date.now() - 60_000)
    const { utimesSync } = await import("node:fs")
    utimesSync(`${s.path}.lock`, old, old)
    await run(s.store.create("projects", { name: "After stale" }, MASTER))
    writeFileSync(`${s.path}.lock`, "{}")
    const busy = Effect.runSync(
      Effect.map(Effect.service(FileSystem.FileSystem), (fs) =>
        FileAdminStore.make(fs, { path: s.path, env: ENV, reload: Effect.void, lockTimeoutMs: 200 })
      ).pipe(Effect.provide(NodeFileSystem.layer))
    )
    expect(await failure(busy.create("projects", { name: "Blocked" }, MASTER))).toMatchObject({ _tag: "Unavailable" })
    rmSync(`${s.path}.lock`)
    await run(busy.create("projects", { name: "Unblocked" }, MASTER))
    expect(loads(s.text()).tenancy.projects.size).toBe(3)
  })

  it("concurrent writers on one file (two stores, as two workers) lose no update", async () => {
    const s = setup()
    const other = s.makeStore()
    const names = Array.from({ length: 12 }, (_, i) => `P${i}`)
    await run(
      Effect.all(
        names.map((name, i) => (i % 2 === 0 ? s.store : other).create("projects", { name }, MASTER)),
        { concurrency: "unbounded" }
      )
    )
    const projects = [...loads(s.text()).tenancy.projects.values()].map((p) => p.name).sort()
    expect(projects).toEqual(["A", ...names].sort())
    expect(readdirSync(s.dir).filter((f) => f.includes(".tmp-") || f.endsWith(".lock"))).toEqual([])
  })
})

/** The audit log of the file at `path`, oldest first, as the shared suite reads it. */
const auditOf = (path: string): ReadonlyArray<AuditEntry> =>
  !existsSync(`${path}.audit.jsonl`)
    ? []
    : readFileSync(`${path}.audit.jsonl`, "utf8")
        .trim()
        .split("\n")
        .map((line) => {
          const entry: unknown = JSON.parse(line)
          if (!Predicate.isObject(entry) || !Predicate.isObject(entry["detail"]))
            throw new Error(`not an audit line: ${line}`)
          const text = (key: string) => (typeof entry[key] === "string" ? entry[key] : undefined)
          return {
            actor: String(entry["actor"]),
            user_id: text("user_id"),
            action: String(entry["action"]),
            resource: String(entry["resource"]),
            resource_id: text("resource_id") ?? null,
            detail: entry["detail"]
          }
        })

adminStoreSuite("FileAdminStore", async (_ctx, now) => {
  const s = setup("providers: []\nmodels: []\n", now)
  return {
    store: s.store,
    storedKey: async (id) => {
      const doc: unknown = parseYaml(s.text())
      const keys = Predicate.isObject(doc) && Array.isArray(doc["keys"]) ? doc["keys"] : []
      const key: unknown = keys.find((k) => Predicate.isObject(k) && k["id"] === id)
      if (!Predicate.isObject(key)) throw new Error(`no key ${id} in the file`)
      return {
        hash: String(key["hash"]),
        previous_hash: typeof key["previous_hash"] === "string" ? key["previous_hash"] : null
      }
    },
    audit: async () => auditOf(s.path),
    dump: async () =>
      `${s.text()}\n${existsSync(`${s.path}.audit.jsonl`) ? readFileSync(`${s.path}.audit.jsonl`, "utf8") : ""}`
  }
})
