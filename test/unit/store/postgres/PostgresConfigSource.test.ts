import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import postgres from "postgres"
import { describe, expect, it, onTestFinished } from "vitest"
import type { ResolvedConfig } from "../../../../src/config/Config.ts"
import { ConfigSource, type ConfigSourceShape } from "../../../../src/config/ConfigSource.ts"
import { CATALOG_SOURCE, importCatalog } from "../../../../src/store/postgres/Catalog.ts"
import { connect, loadMigrationFiles, migrate } from "../../../../src/store/postgres/Migrations.ts"
import * as PostgresConfigSource from "../../../../src/store/postgres/PostgresConfigSource.ts"
import { makeProviderSecrets, type ProviderSecrets } from "../../../../src/store/postgres/ProviderSecrets.ts"
import { baseUrl, withTestDatabase } from "../../../support/postgres.ts"

const KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
const OTHER_KEY = "f".repeat(64)
const SECRET = "sk-upstream-PLAINTEXT-7f3a9c"
const TOKEN = "tok-PLAINTEXT-b81e"

const secretsFor = (env: Record<string, string>): Promise<ProviderSecrets> =>
  Effect.runPromise(makeProviderSecrets(env))

const client = (url: string): postgres.Sql => {
  const sql = postgres(url, { max: 2, onnotice: () => undefined })
  onTestFinished(() => sql.end({ timeout: 5 }))
  return sql
}

const migrated = async (url: string): Promise<void> => {
  await Effect.runPromise(
    Effect.gen(function* () {
      const sql = yield* connect(url, { max: 1 })
      yield* migrate(sql, yield* loadMigrationFiles())
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer))
  )
}

/** Opens the Postgres source on `url` for the rest of the test. */
const openSource = async (
  url: string,
  secrets: ProviderSecrets,
  options: { readonly reloadIntervalMs?: number } = {}
): Promise<ConfigSourceShape> => {
  const scope = Effect.runSync(Scope.make())
  onTestFinished(() => Effect.runPromise(Scope.close(scope, Exit.void)))
  const context = await Effect.runPromise(
    Layer.buildWithScope(
      PostgresConfigSource.layer({ url, secrets, settings: Effect.succeed({ master_key: "mk-test" }), ...options }),
      scope
    ).pipe(Effect.provide(NodeFileSystem.layer))
  )
  return Context.get(context, ConfigSource)
}

const load = (source: ConfigSourceShape): Promise<ResolvedConfig> =>
  Effect.runPromise(Effect.map(source.load, (loaded) => loaded.config))
const loadError = (source: ConfigSourceShape) => Effect.runPromise(Effect.flip(source.load))

/** Counts the source's change signals. */
const countChanges = (source: ConfigSourceShape): { readonly count: () => number } => {
  let n = 0
  const fiber = Effect.runFork(Stream.runForEach(source.changes, () => Effect.sync(() => n++)))
  onTestFinished(() => Effect.runPromise(Fiber.interrupt(fiber)))
  return { count: () => n }
}

const eventually = async (
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 3_000
): Promise<number> => {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return Date.now() - start
}

const spec = (value: unknown) => value as postgres.JSONValue

const seed = {
  providers: [
    {
      name: "up",
      kind: "openai",
      base_url: "http://127.0.0.1:9/v1",
      api_key: SECRET,
      headers: { "X-Team": "team-header-secret-1", "User-Agent": "visible-agent" }
    },
    {
      name: "basic",
      kind: "openai",
      base_url: "http://127.0.0.1:9/v1",
      auth: { type: "basic", username: "u", password: TOKEN },
      headers: [
        { op: "insert", key: "x-api-key", value: "list-header-secret-2" },
        { op: "remove", key: "x-gone" }
      ]
    },
    { name: "mock", kind: "mock" }
  ],
  models: [
    { name: "chat", targets: [{ provider: "up" }] },
    { name: "local", targets: [{ provider: "mock" }] }
  ],
  routes: [{ path: "/v1/special", model: "local" }]
}

describe("Postgres config source (real Postgres)", () => {
  it("loads providers, models and routes in position order, with the file's settings", async (ctx) => {
    const db = await withTestDatabase(ctx)
    await migrated(db.url)
    const sql = client(db.url)
    // Inserted out of order: `position` decides.
    await sql`insert into providers (name, position, spec) values ('b', 2, ${sql.json(spec({ name: "b", kind: "mock" }))}),
                                                               ('a', 1, ${sql.json(spec({ name: "a", kind: "mock" }))})`
    await sql`insert into models (name, position, spec) values
      ('z-last', 3, ${sql.json(spec({ name: "z-last", targets: [{ provider: "a" }] }))}),
      ('a-first', 1, ${sql.json(spec({ name: "a-first", targets: [{ provider: "b" }] }))}),
      ('m-mid', 2, ${sql.json(spec({ targets: [{ provider: "a" }] }))})`
    await sql`insert into routes (position, path, model) values (2, '/second', 'm-mid'), (1, '/first', 'a-first')`

    const config = await load(await openSource(db.url, await secretsFor({ LLMGATE_ENCRYPTION_KEY: KEY })))
    expect([...config.providers.keys()]).toEqual(["a", "b"])
    expect(config.modelNames).toEqual(["a-first", "m-mid", "z-last"])
    expect(config.routes.map((r) => r.path)).toEqual(["/first", "/second"])
    expect(config.masterKey === undefined ? undefined : Redacted.value(config.masterKey)).toBe("mk-test")
  })

  it("names every problem of an invalid catalog by row, with the file's messages", async (ctx) => {
    const db = await withTestDatabase(ctx)
    await migrated(db.url)
    const sql = client(db.url)
    await sql`insert into providers (name, position, spec) values ('up', 0, ${sql.json(spec({ name: "up", kind: "openai", base_ulr: "x" }))})`
    await sql`insert into models (name, position, spec) values ('m', 0, ${sql.json(spec({ name: "m", targets: [{ provider: "nope" }] }))}),
                                                             ('odd', 1, ${sql.json(spec({ name: "other", targets: [{ provider: "up" }] }))})`
    const error = await loadError(await openSource(db.url, await secretsFor({ LLMGATE_ENCRYPTION_KEY: KEY })))
    expect(error._tag).toBe("ConfigError")
    if (error._tag !== "ConfigError") return
    expect(error.source).toBe(CATALOG_SOURCE)
    expect(error.message.split("\n")).toEqual(
      expect.arrayContaining([
        'providers["up"].base_ulr: unknown field',
        'models["m"].targets[0].provider: unknown provider "nope"',
        'models["odd"].name: "other" differs from the row\'s name'
      ])
    )
  })

  it("stores provider secrets sealed (no plaintext in the row) and opens them on load", async (ctx) => {
    const db = await withTestDatabase(ctx)
    await migrated(db.url)
    const sql = client(db.url)
    const secrets = await secretsFor({ LLMGATE_ENCRYPTION_KEY: KEY })
    await Effect.runPromise(importCatalog(sql, seed, secrets, { actor: "test", file: "seed" }))

    const rows = await sql<
      Array<{ name: string; raw: string }>
    >`select name, spec::text as raw from providers order by position`
    const raw = rows.map((r) => r.raw).join("\n")
    expect(raw).not.toContain(SECRET)
    expect(raw).not.toContain(TOKEN)
    // Header values are sealed too (issue 10), but for headers known to carry no credential.
    expect(raw).not.toContain("team-header-secret-1")
    expect(raw).not.toContain("list-header-secret-2")
    expect(raw).toContain("visible-agent")
    const [up] = await sql<
      Array<{ spec: { api_key: string; headers: Record<string, string> } }>
    >`select spec from providers where name = 'up'`
    expect(up?.spec.api_key).toMatch(/^enc:v1:/)
    expect(up?.spec.headers["X-Team"]).toMatch(/^enc:v1:/)

    const config = await load(await openSource(db.url, secrets))
    const auth = (name: string) => {
      const a = config.providers.get(name)?.auth
      return a === undefined ? undefined : Redacted.value(a.value)
    }
    expect(auth("up")).toBe(`Bearer ${SECRET}`)
    expect(auth("basic")).toBe(`Basic ${btoa(`u:${TOKEN}`)}`)
    expect(config.providers.get("up")?.headerOps).toEqual([
      { op: "replace", key: "x-team", value: "team-header-secret-1" },
      { op: "replace", key: "user-agent", value: "visible-agent" }
    ])
    expect(config.providers.get("basic")?.headerOps).toEqual([
      { op: "insert", key: "x-api-key", value: "list-header-secret-2" },
      { op: "remove", key: "x-gone", value: "" }
    ])

    // Header values stored in plaintext before headers were sealed still load (sealed on the provider's next write).
    await sql`update providers set spec = jsonb_set(spec, '{headers,X-Team}', '"legacy-plain"') where name = 'up'`
    const legacy = await load(await openSource(db.url, secrets))
    expect(legacy.providers.get("up")?.headerOps[0]).toEqual({ op: "replace", key: "x-team", value: "legacy-plain" })
  })

  it("fails clearly under another key, for a copied value, and for plaintext rows when a key is set", async (ctx) => {
    const db = await withTestDatabase(ctx)
    await migrated(db.url)
    const sql = client(db.url)
    await Effect.runPromise(
      importCatalog(sql, seed, await secretsFor({ LLMGATE_ENCRYPTION_KEY: KEY }), { actor: "test", file: "seed" })
    )

    const wrong = await loadError(await openSource(db.url, await secretsFor({ LLMGATE_ENCRYPTION_KEY: OTHER_KEY })))
    expect(wrong.message).toContain('providers["up"].api_key: The sealed value for `provider:up:api_key` does not open')
    expect(wrong.message).toContain('providers["basic"].auth.password: The sealed value')
    expect(wrong.message).not.toContain(OTHER_KEY)

    // A sealed value is bound to its field: copied to another provider it does not open.
    await sql`update providers set spec = jsonb_set(spec, '{auth,password}', (select spec->'api_key' from providers where name = 'up'))
              where name = 'basic'`
    await sql`update providers set spec = jsonb_set(spec, '{api_key}', '"typed-in-by-hand"') where name = 'up'`
    const source = await openSource(db.url, await secretsFor({ LLMGATE_ENCRYPTION_KEY: KEY }))
    const issues = (await loadError(source)).message.split("\n")
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^providers\["basic"\]\.auth\.password: The sealed value for `provider:basic:auth\.password` does not open/
        ),
        expect.stringMatching(/^providers\["up"\]\.api_key: stored in plaintext while LLMGATE_ENCRYPTION_KEY is set/)
      ])
    )
    expect(issues.join("\n")).not.toContain("typed-in-by-hand")
  })

  it("refuses Postgres mode without a key unless plaintext is allowed, then stores plaintext", async (ctx) => {
    await expect(secretsFor({})).rejects.toThrow(/needs LLMGATE_ENCRYPTION_KEY.*LLMGATE_ALLOW_PLAINTEXT_SECRETS=1/)
    await expect(secretsFor({ LLMGATE_ENCRYPTION_KEY: "short" })).rejects.toThrow(
      /LLMGATE_ENCRYPTION_KEY is not a valid key/
    )

    const db = await withTestDatabase(ctx)
    await migrated(db.url)
    const sql = client(db.url)
    const plaintext = await secretsFor({ LLMGATE_ALLOW_PLAINTEXT_SECRETS: "1" })
    expect(plaintext.mode).toBe("plaintext")
    await Effect.runPromise(importCatalog(sql, seed, plaintext, { actor: "test", file: "seed" }))
    const [up] = await sql<Array<{ spec: { api_key: string } }>>`select spec from providers where name = 'up'`
    expect(up?.spec.api_key).toBe(SECRET)
    const config = await load(await openSource(db.url, plaintext))
    const auth = config.providers.get("up")?.auth
    expect(auth === undefined ? undefined : Redacted.value(auth.value)).toBe(`Bearer ${SECRET}`)
  })

  it("signals a change within a second of a commit by anyone, folding a burst into one", async (ctx) => {
    const db = await withTestDatabase(ctx)
    await migrated(db.url)
    const sql = client(db.url)
    const source = await openSource(db.url, await secretsFor({ LLMGATE_ENCRYPTION_KEY: KEY }))
    await load(source)
    const changes = countChanges(source)
    await new Promise((resolve) => setTimeout(resolve, 100)) // the subscription is in place
    // Three commits in a row (separate statements, separate notifications).
    await sql`insert into providers (name, position, spec) values ('mock', 0, ${sql.json(spec({ name: "mock", kind: "mock" }))})`
    await sql`insert into models (name, position, spec) values ('m', 0, ${sql.json(spec({ name: "m", targets: [{ provider: "mock" }] }))})`
    await sql`insert into routes (position, path, model) values (0, '/r', 'm')`
    const took = await eventually(() => changes.count() >= 1, "a change signal", 1_000)
    expect(took).toBeLessThan(1_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(changes.count()).toBe(1)
    const config = await load(source)
    expect([...config.providers.keys()]).toEqual(["mock"])
    expect(config.routes.map((r) => r.model)).toEqual(["m"])
  })

  it("re-reads periodically as a safety net, signalling only when the rows differ", async (ctx) => {
    const db = await withTestDatabase(ctx)
    await migrated(db.url)
    const sql = client(db.url)
    const source = await openSource(db.url, await secretsFor({ LLMGATE_ENCRYPTION_KEY: KEY }), {
      reloadIntervalMs: 200
    })
    await load(source)
    const changes = countChanges(source)
    await new Promise((resolve) => setTimeout(resolve, 700))
    expect(changes.count()).toBe(0) // nothing changed: no signal, however many re-reads
    // A change that notifies nobody (triggers disabled for this session) is still found.
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`
      await tx`insert into providers (name, position, spec) values ('quiet', 0, ${tx.json(spec({ name: "quiet", kind: "mock" }))})`
    })
    await eventually(() => changes.count() >= 1, "the safety-net re-read", 2_000)
  })

  it("after a lost connection, listens again and signals a re-read", async (ctx) => {
    const db = await withTestDatabase(ctx)
    await migrated(db.url)
    const source = await openSource(db.url, await secretsFor({ LLMGATE_ENCRYPTION_KEY: KEY }), {
      reloadIntervalMs: 300
    })
    await load(source)
    const changes = countChanges(source)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const admin = client(db.url)
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`
    await eventually(() => changes.count() >= 1, "a re-read after reconnecting", 3_000)
    // And the feed works again: a later commit is heard.
    const before = changes.count()
    await new Promise((resolve) => setTimeout(resolve, 200))
    await admin`insert into providers (name, position, spec) values ('after', 0, ${admin.json(spec({ name: "after", kind: "mock" }))})`
    await eventually(() => changes.count() > before, "a change after reconnecting", 3_000)
    expect([...(await load(source)).providers.keys()]).toEqual(["after"])
  })

  it("when the database stays away, retries with backoff and re-reads once it is back", async (ctx) => {
    const db = await withTestDatabase(ctx)
    await migrated(db.url)
    const source = await openSource(db.url, await secretsFor({ LLMGATE_ENCRYPTION_KEY: KEY }), {
      reloadIntervalMs: 200
    })
    await load(source)
    const changes = countChanges(source)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const maintenance = client(baseUrl())
    const database = maintenance(db.name)
    // Refuse new connections, then cut the existing ones: postgres.js's own single re-listen fails.
    await maintenance`alter database ${database} allow_connections false`
    onTestFinished(() => maintenance`alter database ${database} allow_connections true`.then(() => undefined))
    await maintenance`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${db.name}`
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    expect(changes.count()).toBe(0)
    const failed = await loadError(source)
    expect(failed._tag).toBe("StoreError")
    await maintenance`alter database ${database} allow_connections true`
    await eventually(() => changes.count() >= 1, "a re-read once the database is back", 12_000)
    const before = changes.count()
    await new Promise((resolve) => setTimeout(resolve, 200))
    const admin = client(db.url)
    await admin`insert into providers (name, position, spec) values ('back', 0, ${admin.json(spec({ name: "back", kind: "mock" }))})`
    await eventually(() => changes.count() > before, "a change heard after the outage", 3_000)
  }, 30_000)

  it("fails to open on an unreachable database, naming host, port and database but no password", async () => {
    const error = await Effect.runPromise(
      Effect.flip(
        Layer.build(
          PostgresConfigSource.layer({
            url: "postgres://llmgate:hunter2-SECRET@127.0.0.1:1/llmgate_nowhere",
            secrets: await secretsFor({ LLMGATE_ENCRYPTION_KEY: KEY }),
            settings: Effect.succeed({})
          })
        ).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer))
      )
    )
    expect(error.message).toContain("127.0.0.1:1/llmgate_nowhere")
    expect(error.message).not.toContain("hunter2-SECRET")
  })
})
