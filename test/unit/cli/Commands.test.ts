import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Result from "effect/Result"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import postgres from "postgres"
import { describe, expect, it, onTestFinished } from "vitest"
import { parseArgs } from "../../../src/cli/Cli.ts"
import { type CommandResult, runImport, runMigrate } from "../../../src/cli/Commands.ts"
import { prepare } from "../../../src/startup/Prepare.ts"
import { TEST_RUNTIME } from "../../support/runtime.ts"
import { makeAuthenticator } from "../../../src/auth/Auth.ts"
import { generateKey } from "../../../src/auth/KeyMaterial.ts"
import { decodeCatalog, readCatalogRows } from "../../../src/store/postgres/Catalog.ts"
import { makeProviderSecrets } from "../../../src/store/postgres/ProviderSecrets.ts"
import { withTestDatabase } from "../../support/postgres.ts"

const KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
const SECRET = "sk-upstream-PLAINTEXT-import-41d2"

const cli = (argv: ReadonlyArray<string>) => {
  const parsed = parseArgs(argv)
  if (Result.isFailure(parsed)) throw new Error(parsed.failure.message)
  return parsed.success
}

const run = (effect: Effect.Effect<CommandResult, never, FileSystem.FileSystem>) =>
  Effect.runPromise(effect.pipe(Effect.provide(NodeFileSystem.layer)))

const migrateCmd = (env: Record<string, string>, argv: ReadonlyArray<string> = ["migrate"]) =>
  run(runMigrate(cli(argv), env))
const importCmd = (env: Record<string, string>, file: string) => run(runImport(cli(["import", file]), env, file))

const writeFile = (text: string): string => {
  const dir = mkdtempSync(join(tmpdir(), "llmgate-import-"))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, "config.yaml")
  writeFileSync(path, text)
  return path
}

const client = (url: string): postgres.Sql => {
  const sql = postgres(url, { max: 1, onnotice: () => undefined })
  onTestFinished(() => sql.end({ timeout: 5 }))
  return sql
}

const counts = async (sql: postgres.Sql) => {
  const [row] = await sql<Array<{ providers: number; models: number; routes: number; audit: number }>>`
    select (select count(*)::int from providers) as providers, (select count(*)::int from models) as models,
           (select count(*)::int from routes) as routes, (select count(*)::int from audit_log) as audit`
  return row
}

const SEED = `
env: [SEED_SECRET]
server: { port: 4123 }
master_key: sk-master-stays-in-file
providers:
  - name: up
    kind: openai
    base_url: http://127.0.0.1:9/v1
    api_key: \${SEED_SECRET}
  - name: mock
    kind: mock
models:
  - name: chat
    targets: [{ provider: up }]
  - name: local
    targets: [{ provider: mock }]
routes:
  - { path: /v1/special, model: local }
`

describe("llmgate migrate (real Postgres)", () => {
  it("applies the migrations and says so, then reports up to date; exit 0 both times", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const first = await migrateCmd({ DATABASE_URL: db.url })
    expect(first).toEqual({
      code: 0,
      output: `llmgate migrate: postgres 127.0.0.1:5432/${db.name}: applied 0001_config_store, 0002_usage, 0003_project_budget, 0004_usage_record_id`
    })
    const again = await migrateCmd({}, ["migrate", "--database-url", db.url])
    expect(again).toEqual({
      code: 0,
      output: `llmgate migrate: postgres 127.0.0.1:5432/${db.name}: up to date (already applied: 0001_config_store, 0002_usage, 0003_project_budget, 0004_usage_record_id)`
    })
  })

  it("without a database URL, or with an unreachable one, fails with a clear message", async () => {
    expect(await migrateCmd({})).toMatchObject({
      code: 2,
      output: expect.stringContaining("set DATABASE_URL or pass --database-url")
    })
    const down = await migrateCmd({ DATABASE_URL: "postgres://u:pw-SECRET@127.0.0.1:1/nowhere" })
    expect(down.code).toBe(1)
    expect(down.output).toContain("cannot connect to Postgres at 127.0.0.1:1/nowhere")
    expect(down.output).not.toContain("pw-SECRET")
  })

  it("is what `prepare` runs for `migrate`: it ends before serving with the command's output", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const exit = await Effect.runPromise(
      Effect.flip(prepare({ argv: ["migrate"], env: { DATABASE_URL: db.url }, runtime: TEST_RUNTIME })).pipe(
        Effect.provide(NodeFileSystem.layer)
      )
    )
    expect(exit).toMatchObject({
      _tag: "StartupExit",
      code: 0,
      output: expect.stringContaining(
        "applied 0001_config_store, 0002_usage, 0003_project_budget, 0004_usage_record_id"
      )
    })
  })
})

describe("llmgate import (real Postgres)", () => {
  it("seeds an empty database: rows in file order, secrets sealed, an audit row, a summary", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const file = writeFile(SEED)
    const result = await importCmd({ DATABASE_URL: db.url, LLMGATE_ENCRYPTION_KEY: KEY, SEED_SECRET: SECRET }, file)
    expect(result.code, result.output).toBe(0)
    expect(result.output).toContain(
      `${file} → postgres 127.0.0.1:5432/${db.name}: 2 providers (1 secret encrypted), 2 models, 1 route`
    )
    expect(result.output).not.toContain(SECRET)

    const sql = client(db.url)
    expect(await counts(sql)).toEqual({ providers: 2, models: 2, routes: 1, audit: 1 })
    const providers = await sql<
      Array<{ name: string; position: number; raw: string }>
    >`select name, position, spec::text as raw from providers order by position`
    expect(providers.map((p) => [p.name, p.position])).toEqual([
      ["up", 0],
      ["mock", 1]
    ])
    expect(providers.map((p) => p.raw).join("\n")).not.toContain(SECRET)
    expect(providers[0]?.raw).toContain('"api_key": "enc:v1:')
    const models = await sql<Array<{ name: string; spec: unknown }>>`select name, spec from models order by position`
    expect(models).toEqual([
      { name: "chat", spec: { name: "chat", targets: [{ provider: "up" }] } },
      { name: "local", spec: { name: "local", targets: [{ provider: "mock" }] } }
    ])
    const [audit] = await sql<Array<{ actor: string; action: string; resource: string; detail: unknown }>>`
      select actor, action, resource, detail from audit_log`
    expect(audit).toEqual({
      actor: "cli",
      action: "import",
      resource: "config",
      detail: { file, providers: 2, models: 2, routes: 1, sealed: 1, projects: 0, users: 0, keys: 0 }
    })
    // server and master_key stay in the file: nothing of them is in the database.
    const all = await sql<
      Array<{ t: string }>
    >`select (select string_agg(spec::text, ' ') from providers) || (select string_agg(spec::text, ' ') from models) as t`
    expect(all[0]?.t).not.toContain("sk-master-stays-in-file")
  })

  it("imports projects, users (+ user_projects) and keys; the loaded catalog authenticates a key", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const [open, limited] = [generateKey(), generateKey()]
    const file = writeFile(`${SEED}
projects:
  - { id: prj_a, name: A, limits: { requests_per_minute: 60 }, metadata: { team: x } }
  - { id: prj_b, name: B }
users:
  - { id: usr_a, name: Ann, email: ann@example.test, role: admin, projects: [prj_a, prj_b] }
keys:
  - { id: key_open, name: open, prefix: "${open.prefix}", hash: "${open.hash}", project_id: prj_a, user_id: usr_a }
  - { id: key_limited, name: limited, prefix: "${limited.prefix}", hash: "${limited.hash}", project_id: prj_b, models: [local], enabled: false }
`)
    const env = { DATABASE_URL: db.url, LLMGATE_ENCRYPTION_KEY: KEY, SEED_SECRET: SECRET }
    const result = await importCmd(env, file)
    expect(result.code, result.output).toBe(0)
    expect(result.output).toContain("2 models, 1 route, 2 projects, 1 user, 2 keys")
    expect(result.output).not.toContain("not imported")

    const sql = client(db.url)
    expect(await sql`select id, name, limits, metadata from projects order by id`).toEqual([
      { id: "prj_a", name: "A", limits: { requests_per_minute: 60 }, metadata: { team: "x" } },
      { id: "prj_b", name: "B", limits: null, metadata: {} }
    ])
    expect(await sql`select user_id, project_id from user_projects order by project_id`).toEqual([
      { user_id: "usr_a", project_id: "prj_a" },
      { user_id: "usr_a", project_id: "prj_b" }
    ])
    const keys = await sql<
      Array<{ id: string; prefix: string; key_hash: string; models: unknown; enabled: boolean; is_null: boolean }>
    >`
      select id, prefix, key_hash, models, enabled, models = 'null'::jsonb as is_null from virtual_keys order by id`
    expect(keys).toEqual([
      {
        id: "key_limited",
        prefix: limited.prefix,
        key_hash: limited.hash,
        models: ["local"],
        enabled: false,
        is_null: false
      },
      { id: "key_open", prefix: open.prefix, key_hash: open.hash, models: null, enabled: true, is_null: true }
    ])

    const { config } = await Effect.runPromise(
      Effect.gen(function* () {
        const rows = yield* readCatalogRows(sql)
        return yield* decodeCatalog(
          { master_key: "sk-master-stays-in-file", limits: { default_max_tokens: 300 } },
          rows,
          yield* makeProviderSecrets(env)
        )
      })
    )
    // The file's `limits` apply to the catalog's models (FILE_SETTINGS).
    expect(config.limits.defaultMaxTokens).toBe(300)
    expect(config.models.get("local")?.defaultMaxTokens).toBe(300)
    expect([...config.tenancy.projects.keys()]).toEqual(["prj_a", "prj_b"])
    expect(config.tenancy.users.get("usr_a")).toBeDefined()
    const auth = makeAuthenticator(config.masterKey!, config.tenancy)
    const principal = auth(`Bearer ${open.key}`)
    expect(principal).toMatchObject({ _tag: "VirtualKey", key: { id: "key_open" } })
    expect(auth(`Bearer ${limited.key}`)).toMatchObject({ message: "This API key has been disabled." })
  })

  it("refuses a database that already has a catalog, changing nothing", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const env = { DATABASE_URL: db.url, LLMGATE_ENCRYPTION_KEY: KEY, SEED_SECRET: SECRET }
    expect((await importCmd(env, writeFile(SEED))).code).toBe(0)
    const second = await importCmd(
      env,
      writeFile(SEED.replace("name: local", "name: other").replace("model: local", "model: other"))
    )
    expect(second.code).toBe(1)
    expect(second.output).toContain("the database already has a config catalog (2 providers, 2 models, 1 route)")
    expect(second.output).toContain("import only seeds an empty one")
    const sql = client(db.url)
    expect(await counts(sql)).toEqual({ providers: 2, models: 2, routes: 1, audit: 1 })
    expect((await sql<Array<{ name: string }>>`select name from models order by position`).map((m) => m.name)).toEqual([
      "chat",
      "local"
    ])
  })

  it("refuses an invalid file, naming every bad field, and writes nothing", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const bad = writeFile(`
providers:
  - { name: up, kind: openai, base_ulr: http://x }
models:
  - { name: m, targets: [{ provider: nope }] }
`)
    const result = await importCmd({ DATABASE_URL: db.url, LLMGATE_ENCRYPTION_KEY: KEY }, bad)
    expect(result.code).toBe(1)
    expect(result.output).toContain(`invalid config (${bad}), nothing imported`)
    expect(result.output).toContain("providers[0].base_ulr: unknown field")
    expect(result.output).toContain('models[0].targets[0].provider: unknown provider "nope"')
    const unset = await importCmd({ DATABASE_URL: db.url, LLMGATE_ENCRYPTION_KEY: KEY }, writeFile(SEED))
    expect(unset.code).toBe(1)
    expect(unset.output).toContain("providers[0].api_key")
    // Nothing was written (the database was not even migrated).
    const sql = client(db.url)
    const [t] = await sql<Array<{ exists: boolean }>>`select to_regclass('providers') is not null as exists`
    expect(t?.exists).toBe(false)
  })

  it("needs LLMGATE_ENCRYPTION_KEY, or plaintext explicitly allowed (then says so)", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const file = writeFile(SEED)
    const refused = await importCmd({ DATABASE_URL: db.url, SEED_SECRET: SECRET }, file)
    expect(refused.code).toBe(1)
    expect(refused.output).toContain("needs LLMGATE_ENCRYPTION_KEY")
    const plain = await importCmd(
      { DATABASE_URL: db.url, SEED_SECRET: SECRET, LLMGATE_ALLOW_PLAINTEXT_SECRETS: "1" },
      file
    )
    expect(plain.code, plain.output).toBe(0)
    expect(plain.output).toContain("0 secrets encrypted")
    expect(plain.output).toContain("warning: LLMGATE_ALLOW_PLAINTEXT_SECRETS=1")
  })
})
