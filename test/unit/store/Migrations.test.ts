import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as FileSystem from "effect/FileSystem"
import type * as Scope from "effect/Scope"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import postgres from "postgres"
import { describe, expect, it, onTestFinished } from "vitest"
import {
  connect,
  loadMigrationFiles,
  migrate,
  MIGRATION_LOCK_KEY,
  MIGRATIONS_DIR,
  type ConnectOptions,
  type MigrationFile,
  type MigrationReport
} from "../../../src/store/postgres/Migrations.ts"
import type { StoreError } from "../../../src/domain/StoreError.ts"
import { withTestDatabase } from "../../support/postgres.ts"

// The signatures the config store builds on, checked at compile time.
void (migrate satisfies (
  sql: postgres.Sql,
  files: ReadonlyArray<MigrationFile>
) => Effect.Effect<MigrationReport, StoreError>)
void (connect satisfies (url: string, options?: ConnectOptions) => Effect.Effect<postgres.Sql, StoreError, Scope.Scope>)
void (loadMigrationFiles satisfies (
  dir?: string
) => Effect.Effect<ReadonlyArray<MigrationFile>, StoreError, FileSystem.FileSystem>)

const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope | FileSystem.FileSystem>): Promise<A> =>
  Effect.runPromise(effect.pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer)))

const runError = <A>(effect: Effect.Effect<A, StoreError, Scope.Scope | FileSystem.FileSystem>): Promise<StoreError> =>
  run(Effect.flip(effect))

/** A raw client (for inspecting the database, or a long-lived migrator pool), ended after the test. */
const client = (url: string, max = 2): postgres.Sql => {
  const sql = postgres(url, { max, onnotice: () => undefined })
  onTestFinished(() => sql.end({ timeout: 5 }))
  return sql
}

/** Migrates `url` with `files` on a fresh pool of its own. */
const migrateOn = (url: string, files: ReadonlyArray<MigrationFile>) =>
  Effect.gen(function* () {
    const sql = yield* connect(url, { max: 2 })
    return yield* migrate(sql, files)
  }).pipe(Effect.scoped)

const realFiles = (): Promise<ReadonlyArray<MigrationFile>> => run(loadMigrationFiles())

const recorded = async (sql: postgres.Sql) =>
  (
    await sql<
      Array<{ version: number; name: string }>
    >`select version, name from llmgate_schema_migrations order by version`
  ).map((r) => ({ version: r.version, name: r.name }))

const tableExists = async (sql: postgres.Sql, table: string): Promise<boolean> => {
  const [row] = await sql<Array<{ exists: boolean }>>`select to_regclass(${table}) is not null as exists`
  return row?.exists === true
}

/** The migration lock in this database: held by anyone, and waited for by anyone. */
const lockState = async (sql: postgres.Sql) => {
  const rows = await sql<Array<{ granted: boolean }>>`
    select granted from pg_locks
    where locktype = 'advisory' and objsubid = 1
      and database = (select oid from pg_database where datname = current_database())
      and ((classid::bigint << 32) | objid::bigint) = ${MIGRATION_LOCK_KEY}::bigint`
  return { held: rows.filter((r) => r.granted).length, waiting: rows.filter((r) => !r.granted).length }
}

/** Sessions on this database left inside a transaction (idle in transaction, or aborted). */
const openTransactions = async (sql: postgres.Sql): Promise<number> => {
  const [row] = await sql<Array<{ n: number }>>`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid() and state like 'idle in transaction%'`
  return row?.n ?? -1
}

const eventually = async (check: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const file = (version: number, name: string, sql: string): MigrationFile => ({ version, name, sql })

describe("Migrations (real Postgres)", () => {
  it("migrates an empty database: tables, triggers, and a notification on change", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const files = await realFiles()
    expect(files.map((f) => [f.version, f.name])).toEqual([
      [1, "config_store"],
      [2, "usage"],
      [3, "project_budget"],
      [4, "usage_record_id"]
    ])

    const report = await run(migrateOn(db.url, files))
    expect(report).toEqual({ applied: [1, 2, 3, 4], alreadyApplied: [] })

    const sql = client(db.url)
    const tables = await sql<Array<{ table_name: string }>>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name`
    expect(tables.map((t) => t.table_name)).toEqual([
      "audit_log",
      "llmgate_schema_migrations",
      "models",
      "projects",
      "providers",
      "routes",
      "usage",
      "usage_minute",
      "user_projects",
      "users",
      "virtual_keys"
    ])
    const triggers = await sql<Array<{ table: string }>>`
      select c.relname as table from pg_trigger t join pg_class c on c.oid = t.tgrelid
      where t.tgname = 'llmgate_config_changed' and not t.tgisinternal order by c.relname`
    expect(triggers.map((t) => t.table)).toEqual([
      "models",
      "projects",
      "providers",
      "routes",
      "user_projects",
      "users",
      "virtual_keys"
    ])
    expect(await recorded(sql)).toEqual([
      { version: 1, name: "config_store" },
      { version: 2, name: "usage" },
      { version: 3, name: "project_budget" },
      { version: 4, name: "usage_record_id" }
    ])

    const notifications: Array<string> = []
    await sql.listen("llmgate_config", (payload) => notifications.push(payload))
    await sql`insert into projects (id, name) values ('p1', 'Project one')`
    await eventually(async () => notifications.includes("projects"), "a llmgate_config notification")
    expect(notifications).toEqual(["projects"])

    // audit_log is not watched; defaults and constraints are in place.
    await sql`insert into audit_log (actor, action, resource) values ('admin', 'create', 'project')`
    const [project] = await sql<Array<{ metadata: unknown }>>`select metadata from projects where id = 'p1'`
    expect(project?.metadata).toEqual({})
    await expect(sql`insert into users (id, name, role) values ('u1', 'U', 'owner')`).rejects.toThrow(
      /users_role_check/
    )
    await sql`insert into virtual_keys (id, name, key_hash, prefix, project_id) values ('k1', 'K', 'h1', 'sk-1', 'p1')`
    await expect(sql`delete from projects where id = 'p1'`).rejects.toThrow(/foreign key/)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(notifications.filter((n) => n === "audit_log")).toEqual([])
    expect(notifications).toContain("virtual_keys")
  })

  it("re-running is a no-op", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const files = await realFiles()
    await run(migrateOn(db.url, files))
    const sql = client(db.url)
    const [before] = await sql<Array<{ applied_at: Date }>>`select applied_at from llmgate_schema_migrations`

    const again = await run(migrateOn(db.url, files))
    expect(again).toEqual({ applied: [], alreadyApplied: [1, 2, 3, 4] })
    const [after] = await sql<Array<{ applied_at: Date }>>`select applied_at from llmgate_schema_migrations`
    expect(after?.applied_at).toEqual(before?.applied_at)
    expect(await recorded(sql)).toEqual([
      { version: 1, name: "config_store" },
      { version: 2, name: "usage" },
      { version: 3, name: "project_budget" },
      { version: 4, name: "usage_record_id" }
    ])
  })

  it("concurrent migrators on separate connections apply each version exactly once", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const files = [
      ...(await realFiles()).filter((f) => f.version === 1),
      // Holds the lock a while and would fail if applied twice (duplicate table).
      file(2, "slow", "create table slow_marker (id integer); select pg_sleep(0.3);"),
      file(3, "after_slow", "create table after_slow (id integer);")
    ]
    const reports = await run(
      Effect.all(
        [0, 1, 2, 3].map(() => migrateOn(db.url, files)),
        { concurrency: "unbounded" }
      )
    )

    expect(reports).toHaveLength(4)
    const applied = reports.flatMap((r) => r.applied).sort()
    expect(applied).toEqual([1, 2, 3])
    for (const r of reports) expect([...r.applied, ...r.alreadyApplied].sort()).toEqual([1, 2, 3])
    // Whoever took the lock first applied everything in one run; the others found it done.
    expect(reports.filter((r) => r.applied.length > 0)).toEqual([{ applied: [1, 2, 3], alreadyApplied: [] }])

    const sql = client(db.url)
    expect(await recorded(sql)).toEqual([
      { version: 1, name: "config_store" },
      { version: 2, name: "slow" },
      { version: 3, name: "after_slow" }
    ])
    expect(await lockState(sql)).toEqual({ held: 0, waiting: 0 })
  })

  it("refuses a database with a recorded version this gateway does not have", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const files = await realFiles()
    await run(migrateOn(db.url, files))
    const sql = client(db.url)
    await sql`insert into llmgate_schema_migrations (version, name) values (7, 'from_the_future')`

    const error = await runError(migrateOn(db.url, files))
    expect(error.reason._tag).toBe("MigrationConflict")
    expect(error.message).toContain("0007_from_the_future")
    expect(error.message).toContain("0004_usage_record_id")
    expect(await lockState(sql)).toEqual({ held: 0, waiting: 0 })
  })

  it("refuses a recorded version whose name differs from the file", async (ctx) => {
    const db = await withTestDatabase(ctx)
    await run(migrateOn(db.url, [file(1, "first", "create table first (id integer);")]))

    const error = await runError(migrateOn(db.url, [file(1, "renamed", "create table first (id integer);")]))
    expect(error.reason._tag).toBe("MigrationConflict")
    expect(error.message).toContain("0001_first")
    expect(error.message).toContain("0001_renamed")
  })

  it("refuses a new file numbered below the newest applied migration", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const first = file(1, "first", "create table first (id integer);")
    const third = file(3, "third", "create table third (id integer);")
    await run(migrateOn(db.url, [first, third]))

    const error = await runError(
      migrateOn(db.url, [first, file(2, "second", "create table second (id integer);"), third])
    )
    expect(error.reason._tag).toBe("MigrationConflict")
    expect(error.message).toContain("0002_second")
    expect(error.message).toContain("0003_third")
    expect(await tableExists(client(db.url), "second")).toBe(false)
  })

  // The migrator pools below have one connection and outlive the `migrate` calls, as in a running
  // gateway: a transaction or lock left behind on the connection would show (ending the pool hides it).

  it("rolls back a failing migration and releases the lock; a fixed file then applies", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const pool = client(db.url, 1)
    const sql = client(db.url)
    const ok = file(1, "ok", "create table ok_table (id integer);")
    const bad = file(2, "bad", "create table half_done (id integer);\ninsert into no_such_table values (1);")

    const error = await runError(migrate(pool, [ok, bad]))
    expect(error.reason._tag).toBe("Query")
    expect(error.message).toContain("0002_bad")
    expect(error.message).toContain("no_such_table")

    expect(await recorded(sql)).toEqual([{ version: 1, name: "ok" }])
    expect(await tableExists(sql, "ok_table")).toBe(true)
    expect(await tableExists(sql, "half_done")).toBe(false)
    expect(await lockState(sql)).toEqual({ held: 0, waiting: 0 })
    expect(await openTransactions(sql)).toBe(0)

    const fixed = file(2, "bad", "create table half_done (id integer);")
    expect(await run(migrate(pool, [ok, fixed]))).toEqual({ applied: [2], alreadyApplied: [1] })
    expect(await tableExists(sql, "half_done")).toBe(true)
    expect(await lockState(sql)).toEqual({ held: 0, waiting: 0 })
  })

  it("releases the lock and rolls back when interrupted mid-migration", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const pool = client(db.url, 1)
    const sql = client(db.url)
    const slow = file(1, "slow", "create table interrupted (id integer); select pg_sleep(0.5);")

    const fiber = Effect.runFork(migrate(pool, [slow]))
    await eventually(async () => (await lockState(sql)).held === 1, "the migrator to take the lock")
    await Effect.runPromise(Fiber.interrupt(fiber))

    expect(await lockState(sql)).toEqual({ held: 0, waiting: 0 })
    expect(await openTransactions(sql)).toBe(0)
    expect(await tableExists(sql, "interrupted")).toBe(false)
    // Nothing recorded (under load the interrupt may land before the bookkeeping table exists).
    expect((await tableExists(sql, "llmgate_schema_migrations")) ? await recorded(sql) : []).toEqual([])
    expect(await run(migrate(pool, [slow]))).toEqual({ applied: [1], alreadyApplied: [] })
    expect(await lockState(sql)).toEqual({ held: 0, waiting: 0 })
  })

  it("stops waiting for the lock when interrupted, and leaves no lock behind", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const pool = client(db.url, 1)
    const sql = client(db.url)
    const holder = await client(db.url, 1).reserve()
    await holder`select pg_advisory_lock(${MIGRATION_LOCK_KEY}::bigint)`
    const one = file(1, "one", "create table one (id integer);")

    const fiber = Effect.runFork(migrate(pool, [one]))
    await eventually(async () => (await lockState(sql)).waiting === 1, "the migrator to wait for the lock")
    await Effect.runPromise(Fiber.interrupt(fiber))
    await eventually(async () => (await lockState(sql)).waiting === 0, "the cancelled lock wait to end", 2_000)
    expect(await lockState(sql)).toEqual({ held: 1, waiting: 0 })
    expect(await tableExists(sql, "one")).toBe(false)

    await holder`select pg_advisory_unlock(${MIGRATION_LOCK_KEY}::bigint)`
    holder.release()
    expect(await lockState(sql)).toEqual({ held: 0, waiting: 0 })
    expect(await run(migrate(pool, [one]))).toEqual({ applied: [1], alreadyApplied: [] })
    expect(await lockState(sql)).toEqual({ held: 0, waiting: 0 })
  })
})

describe("loadMigrationFiles", () => {
  const folderWith = (names: ReadonlyArray<string>): string => {
    const dir = mkdtempSync(join(tmpdir(), "llmgate-migrations-"))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    for (const name of names) writeFileSync(join(dir, name), `-- ${name}\nselect 1;\n`)
    return dir
  }

  it("finds the repository's migrations folder relative to the module", async () => {
    expect(MIGRATIONS_DIR.endsWith("/migrations/")).toBe(true)
    const files = await realFiles()
    expect(files[0]?.sql).toContain("create table providers")
  })

  it("reads NNNN_name.sql files in version order, skipping README and dotfiles", async () => {
    const dir = folderWith(["0002_second.sql", "0001_first.sql", "0010_tenth.sql", "README.md", ".gitkeep"])
    const files = await run(loadMigrationFiles(dir))
    expect(files.map((f) => [f.version, f.name])).toEqual([
      [1, "first"],
      [2, "second"],
      [10, "tenth"]
    ])
    expect(files[0]?.sql).toBe("-- 0001_first.sql\nselect 1;\n")
  })

  it.each([
    "1_init.sql",
    "0002-second.sql",
    "0002_Second.sql",
    "0002_second.SQL",
    "0002_second.sql.bak",
    "notes.txt",
    "00002_x.sql"
  ])("rejects %s, naming it", async (bad) => {
    const dir = folderWith(["0001_first.sql", bad])
    const error = await runError(loadMigrationFiles(dir))
    expect(error.reason._tag).toBe("InvalidMigration")
    expect(error.message).toContain(bad)
  })

  it("rejects two files with the same version", async () => {
    const dir = folderWith(["0001_first.sql", "0001_other.sql"])
    const error = await runError(loadMigrationFiles(dir))
    expect(error.reason._tag).toBe("InvalidMigration")
    expect(error.message).toContain("0001_first")
    expect(error.message).toContain("0001_other")
  })

  it("fails on a missing folder", async () => {
    const error = await runError(loadMigrationFiles("/nonexistent/llmgate/migrations"))
    expect(error.reason._tag).toBe("InvalidMigration")
    expect(error.message).toContain("/nonexistent/llmgate/migrations")
  })
})

describe("connect", () => {
  it("reports an unreachable server with host, port and database, never the password", async () => {
    const error = await runError(
      connect("postgres://llmgate:s3cr%40t-pw@127.0.0.1:1/configdb", { connectTimeoutSeconds: 2 })
    )
    expect(error.reason._tag).toBe("Unreachable")
    expect(error.message).toContain("127.0.0.1:1/configdb")
    expect(error.message).not.toContain("s3cr")
  })

  it("verifies the pool and ends it when the scope closes", async (ctx) => {
    const db = await withTestDatabase(ctx)
    const sql = await run(
      Effect.gen(function* () {
        const sql = yield* connect(db.url)
        const [row] = yield* Effect.promise(() => sql<Array<{ db: string }>>`select current_database() as db`)
        expect(row?.db).toBe(db.name)
        return sql
      })
    )
    await expect(sql`select 1`).rejects.toThrow(/CONNECTION_ENDED|ended/i)
  })
})
