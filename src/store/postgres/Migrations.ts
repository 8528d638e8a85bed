/**
 * Postgres schema migrations for the config store: opening a verified pool (`connect`), reading the
 * numbered SQL files in `migrations/` through the abstract FileSystem (`loadMigrationFiles`), and
 * applying the missing ones (`migrate`). Every replica may call `migrate` at startup: a session-level
 * advisory lock serialises them, each migration runs in its own transaction together with its row in
 * `llmgate_schema_migrations`, so each version is applied exactly once.
 *
 * Why not `effect/sql/Migrator` (checked on effect 4.1.0 and @effect/sql-pg 4.0.6/4.1.5): it needs a
 * `SqlClient`, which for Postgres means @effect/sql-pg, a driver of its own (no postgres.js) that
 * sends every statement through the extended protocol, so a multi-statement SQL file (ours, with a
 * `$$` function body) cannot run as one statement; its file loader imports `.js`/`.ts` modules only;
 * it runs all pending migrations in one transaction under `LOCK TABLE` on its own bookkeeping table
 * (`migration_id`, `name`, `created_at`), skips files numbered at or below the newest applied one
 * silently, and checks neither names nor a database migrated by a newer gateway, which `migrate`
 * here refuses.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FileSystem from "effect/FileSystem"
import postgres from "postgres"
import { type StoreError, storeError } from "../../domain/StoreError.ts"

/** One migration: `0001_config_store.sql` is `{ version: 1, name: "config_store", sql }`. */
export interface MigrationFile {
  readonly version: number
  readonly name: string
  readonly sql: string
}

/** What a `migrate` call did: versions it applied now, and versions it found already applied. */
export interface MigrationReport {
  readonly applied: ReadonlyArray<number>
  readonly alreadyApplied: ReadonlyArray<number>
}

/** The table recording applied migrations. */
export const MIGRATIONS_TABLE = "llmgate_schema_migrations"

/** Advisory lock key held while migrating: "llmgate" in ASCII, as a 64-bit integer. */
export const MIGRATION_LOCK_KEY = "30510560968258661"

/** A migration's file name: four digits, underscore, lower-case snake-case name. */
export const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/

/** The `migrations/` folder at the repository root, found relative to this module. */
export const MIGRATIONS_DIR: string = decodeURIComponent(new URL("../../../migrations/", import.meta.url).pathname)

/** Entries of the migrations folder that are not migrations and are skipped: docs and dotfiles. */
const IGNORED_ENTRY = /^(\..*|readme(\.[a-z]+)?)$/i

const label = (file: { readonly version: number; readonly name: string }): string =>
  `${String(file.version).padStart(4, "0")}_${file.name}`

const invalid = (message: string): StoreError => storeError({ _tag: "InvalidMigration", message })
const conflict = (message: string): StoreError => storeError({ _tag: "MigrationConflict", message })

/** A driver error as one line: message, SQLSTATE, and where Postgres says it is. */
export const describeCause = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause)
  const field = (key: string): string | undefined => {
    const value: unknown = Reflect.get(cause, key)
    return typeof value === "string" && value !== "" ? value : undefined
  }
  const code = field("code")
  const position = field("position")
  const hint = field("hint")
  return [
    cause.message,
    code === undefined ? undefined : `(${code})`,
    position === undefined ? undefined : `at character ${position}`,
    hint === undefined ? undefined : `hint: ${hint}`
  ]
    .filter((part) => part !== undefined)
    .join(" ")
}

/** A pending postgres.js query: a thenable that can be cancelled. */
interface PendingQuery<A> extends PromiseLike<A> {
  cancel(): void
}

/**
 * Runs one query. Interrupting it stops the wait only: the statement finishes on its connection
 * and whatever runs next there (a rollback, the unlock) is queued behind it.
 */
const exec = <A>(what: string, query: () => PendingQuery<A>): Effect.Effect<A, StoreError> =>
  Effect.tryPromise({
    try: () => query(),
    catch: (cause) => storeError({ _tag: "Query", message: `${what}: ${describeCause(cause)}` })
  })

/** Like `exec`, but interrupting it cancels the statement (used for the lock wait). */
const execCancellable = <A>(what: string, query: () => PendingQuery<A>): Effect.Effect<A, StoreError> =>
  Effect.tryPromise({
    try: (signal) => {
      const pending = query()
      signal.addEventListener(
        "abort",
        () => {
          void Promise.resolve(pending.cancel()).catch(() => undefined)
        },
        { once: true }
      )
      return pending
    },
    catch: (cause) => storeError({ _tag: "Query", message: `${what}: ${describeCause(cause)}` })
  })

/** Sorts by version and refuses duplicate or out-of-range versions and malformed names. */
const validateFiles = (
  files: ReadonlyArray<MigrationFile>
): Effect.Effect<ReadonlyArray<MigrationFile>, StoreError> => {
  const sorted = [...files].sort((a, b) => a.version - b.version)
  for (const [i, file] of sorted.entries()) {
    if (!Number.isSafeInteger(file.version) || file.version < 1 || file.version > 9999) {
      return Effect.fail(invalid(`migration ${file.name}: version ${file.version} is not an integer from 1 to 9999`))
    }
    if (!/^[a-z0-9_]+$/.test(file.name)) {
      return Effect.fail(
        invalid(`migration ${label(file)}: the name must be lower-case letters, digits and underscores`)
      )
    }
    const previous = sorted[i - 1]
    if (previous !== undefined && previous.version === file.version) {
      return Effect.fail(invalid(`migrations ${label(previous)} and ${label(file)} have the same version`))
    }
  }
  return Effect.succeed(sorted)
}

/**
 * Reads `migrations/*.sql` (or `dir`) in version order. Every entry must be a migration named
 * `NNNN_name.sql`, except README files and dotfiles; anything else fails, naming the entry.
 */
export const loadMigrationFiles = Effect.fn("Migrations.loadMigrationFiles")(function* (dir: string = MIGRATIONS_DIR) {
  const fs = yield* FileSystem.FileSystem
  const folder = dir.endsWith("/") ? dir : `${dir}/`
  const entries = yield* fs
    .readDirectory(folder)
    .pipe(Effect.mapError((e) => invalid(`cannot read the migrations folder ${folder}: ${e.message}`)))
  const files: Array<MigrationFile> = []
  for (const entry of [...entries].sort()) {
    if (IGNORED_ENTRY.test(entry)) continue
    const match = MIGRATION_FILE.exec(entry)
    if (match === null || match[1] === undefined || match[2] === undefined) {
      return yield* Effect.fail(
        invalid(
          `${folder}${entry}: not a migration; migration files are named NNNN_name.sql (four digits, lower-case snake_case name)`
        )
      )
    }
    const sql = yield* fs
      .readFileString(`${folder}${entry}`)
      .pipe(Effect.mapError((e) => invalid(`cannot read migration ${folder}${entry}: ${e.message}`)))
    files.push({ version: Number(match[1]), name: match[2], sql })
  }
  return yield* validateFiles(files)
})

/** Releases the migration lock if this session holds it (a no-op otherwise, without a warning). */
const unlockIfHeld = (conn: postgres.ReservedSql) =>
  exec(
    "release the migration lock",
    () =>
      conn`
      select pg_advisory_unlock(${MIGRATION_LOCK_KEY}::bigint)
      from pg_locks
      where locktype = 'advisory' and pid = pg_backend_pid() and granted and objsubid = 1
        and ((classid::bigint << 32) | objid::bigint) = ${MIGRATION_LOCK_KEY}::bigint`
  )

/**
 * One pooled connection for the whole run (the lock is per session), handed back in every case
 * with the lock released. The unlock is retried: a cancelled lock wait may race with it.
 */
const reserveLocked = (sql: postgres.Sql) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => sql.reserve(),
      catch: (cause) =>
        storeError({ _tag: "Unreachable", message: `cannot get a database connection: ${describeCause(cause)}` })
    }),
    (conn) =>
      unlockIfHeld(conn).pipe(
        Effect.retry({ times: 2 }),
        Effect.ignore,
        Effect.ensuring(Effect.sync(() => conn.release()))
      )
  ).pipe(
    Effect.tap((conn) =>
      execCancellable("wait for the migration lock", () => conn`select pg_advisory_lock(${MIGRATION_LOCK_KEY}::bigint)`)
    )
  )

/** Applies one migration and records it, in one transaction rolled back on failure or interruption. */
const applyOne = (conn: postgres.ReservedSql, file: MigrationFile) =>
  Effect.acquireUseRelease(
    exec(`begin migration ${label(file)}`, () => conn.unsafe("begin")),
    () =>
      Effect.gen(function* () {
        yield* exec(`migration ${label(file)} failed`, () => conn.unsafe(file.sql))
        yield* exec(
          `record migration ${label(file)}`,
          () => conn`insert into llmgate_schema_migrations (version, name) values (${file.version}, ${file.name})`
        )
        yield* exec(`commit migration ${label(file)}`, () => conn.unsafe("commit"))
      }),
    (_, exit) =>
      Exit.isSuccess(exit) ? Effect.void : exec("rollback", () => conn.unsafe("rollback")).pipe(Effect.ignore)
  )

/**
 * Refuses a database migrated by a newer gateway, one whose history differs from the files, and a
 * new file numbered below the newest applied one (migrations are append-only).
 */
const checkRecorded = (
  recorded: ReadonlyArray<{ readonly version: number; readonly name: string }>,
  files: ReadonlyArray<MigrationFile>
): Effect.Effect<void, StoreError> => {
  const byVersion = new Map(files.map((f) => [f.version, f]))
  const newest = files.at(-1)
  for (const row of recorded) {
    const file = byVersion.get(row.version)
    if (file === undefined) {
      return Effect.fail(
        conflict(
          `the database has migration ${label(row)}, which this gateway does not have (its newest is ${newest === undefined ? "none" : label(newest)}); ` +
            "a newer gateway has migrated this database"
        )
      )
    }
    if (file.name !== row.name) {
      return Effect.fail(
        conflict(`the database recorded migration ${label(row)} where this gateway has ${label(file)}`)
      )
    }
  }
  const newestRecorded = recorded.at(-1)
  const done = new Set(recorded.map((r) => r.version))
  const late =
    newestRecorded === undefined
      ? undefined
      : files.find((f) => !done.has(f.version) && f.version < newestRecorded.version)
  if (late !== undefined && newestRecorded !== undefined) {
    return Effect.fail(
      conflict(
        `migration ${label(late)} is numbered below ${label(newestRecorded)}, which the database already has; ` +
          "migrations are append-only: renumber it after the newest"
      )
    )
  }
  return Effect.void
}

/**
 * Applies, in version order, every migration not yet recorded, each in its own transaction, all
 * under the migration advisory lock (released in every case). Re-running is a no-op.
 */
export const migrate = Effect.fn("Migrations.migrate")(function* (
  sql: postgres.Sql,
  files: ReadonlyArray<MigrationFile>
) {
  const ordered = yield* validateFiles(files)
  return yield* Effect.scoped(
    Effect.gen(function* () {
      const conn = yield* reserveLocked(sql)
      yield* exec(`create ${MIGRATIONS_TABLE}`, () =>
        conn.unsafe(`create table if not exists ${MIGRATIONS_TABLE} (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`)
      )
      const recorded = yield* exec(
        `read ${MIGRATIONS_TABLE}`,
        () =>
          conn<
            Array<{ version: number; name: string }>
          >`select version, name from llmgate_schema_migrations order by version`
      )
      yield* checkRecorded(recorded, ordered)
      const done = new Set(recorded.map((r) => r.version))
      const applied: Array<number> = []
      for (const file of ordered) {
        if (done.has(file.version)) continue
        yield* applyOne(conn, file)
        applied.push(file.version)
      }
      const report: MigrationReport = {
        applied,
        alreadyApplied: ordered.filter((f) => done.has(f.version)).map((f) => f.version)
      }
      return report
    })
  )
})

/** Options for `connect`. */
export interface ConnectOptions {
  /** Pool size (default 10). */
  readonly max?: number
  /** Seconds to wait for a connection (default 10). */
  readonly connectTimeoutSeconds?: number
  /** `application_name` shown in `pg_stat_activity` (default `llmgate`). */
  readonly applicationName?: string
}

/** Replaces the URL's password, raw and decoded, wherever it appears in `text`. */
const scrub = (text: string, url: string): string => {
  const password = /^[a-z][a-z0-9+.-]*:\/\/[^/@:]*:([^@/]*)@/i.exec(url)?.[1]
  if (password === undefined || password === "") return text
  let decoded = password
  try {
    decoded = decodeURIComponent(password)
  } catch {
    // keep the raw form
  }
  return [password, decoded].reduce((acc, secret) => acc.split(secret).join("***"), text)
}

/**
 * Opens a pool on `url`, checks it with `select 1`, and ends it when the scope closes. Failing to
 * connect is `Unreachable`, naming host, port and database, never the password.
 */
export const connect = Effect.fn("Postgres.connect")(function* (url: string, options: ConnectOptions = {}) {
  const sql = yield* Effect.acquireRelease(
    Effect.try({
      try: () =>
        postgres(url, {
          max: options.max ?? 10,
          connect_timeout: options.connectTimeoutSeconds ?? 10,
          onnotice: () => undefined,
          connection: { application_name: options.applicationName ?? "llmgate" }
        }),
      catch: (cause) =>
        storeError({ _tag: "Unreachable", message: scrub(`invalid database URL: ${describeCause(cause)}`, url) })
    }),
    (sql) => Effect.promise(() => sql.end({ timeout: 5 }))
  )
  const target = `${sql.options.host.map((h, i) => `${h}:${sql.options.port[i] ?? sql.options.port[0] ?? 5432}`).join(",")}/${sql.options.database}`
  yield* Effect.tryPromise({
    try: () => sql`select 1`,
    catch: (cause) =>
      storeError({
        _tag: "Unreachable",
        message: scrub(`cannot connect to Postgres at ${target}: ${describeCause(cause)}`, url)
      })
  })
  return sql
})
