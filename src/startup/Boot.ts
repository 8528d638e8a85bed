/**
 * The owner's stores for a prepared start: the ConfigSource (the watched file, or Postgres:
 * connect, migrate, listen; the Postgres client is loaded only in Postgres mode) and the admin
 * store the admin API's writes run on (Postgres, the config file written back atomically, or, on
 * the embedded default config, a store that only reloads), and the usage store the owner's usage
 * writer fills (SQLite beside the config file, or the Postgres database). Only the owner thread
 * opens them.
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import { AdminStore, type AdminStoreShape } from "../admin/AdminStore.ts"
import * as FileAdminStore from "../admin/FileAdminStore.ts"
import { ConfigSource, decodeConfigDocument, readConfigDocument } from "../config/ConfigSource.ts"
import type { GatewayError } from "../domain/GatewayError.ts"
import type { StoreError } from "../domain/StoreError.ts"
import type { UsageStoreShape } from "../domain/UsageSeries.ts"
import * as SqliteUsageStore from "../usage/SqliteUsageStore.ts"
import type { SqliteDriver } from "../usage/SqliteDriver.ts"
import { discardStore, lazyStore } from "../usage/UsageStore.ts"
import { configPath, type Prepared } from "./Prepare.ts"

/** In Postgres mode, the file's settings (`FILE_SETTINGS` of store/postgres/Catalog.ts) as a validated document, re-read on each call. */
const fileSettings = (prepared: Prepared) => {
  const env = prepared.options.env
  return readConfigDocument(configPath(prepared.cli, env), env).pipe(
    Effect.flatMap((document) =>
      Result.match(decodeConfigDocument(document, prepared.store), {
        onSuccess: () => Effect.succeed(document.doc),
        onFailure: Effect.fail
      })
    )
  )
}

/** The ConfigSource for a prepared start: the file, or Postgres (connect, migrate, listen). */
export const sourceLayer = (prepared: Prepared): Layer.Layer<ConfigSource, StoreError, FileSystem.FileSystem> => {
  const env = prepared.options.env
  const path = configPath(prepared.cli, env)
  const { store, secrets } = prepared
  // `secrets` is set whenever the store is Postgres: `prepare` refuses to start otherwise.
  if (store._tag === "File" || secrets === undefined) return ConfigSource.layerFile(path, env)
  const settings = fileSettings(prepared)
  // Loaded only in Postgres mode (the client costs ≈60 ms and several MB at startup otherwise).
  return Layer.unwrap(
    Effect.map(
      Effect.promise(() => import("../store/postgres/PostgresConfigSource.ts")),
      (PostgresConfigSource) =>
        PostgresConfigSource.layer({ url: store.url, secrets, settings, reloadIntervalMs: store.reloadIntervalMs })
    )
  )
}

/**
 * The admin API's store: Postgres (its own small pool, closed with the scope), the config file
 * (written back atomically), or, with the embedded default config, a store that only reloads.
 * `reload` re-reads the config and answers once every worker serves it.
 */
export const makeAdminStore = (
  prepared: Prepared,
  reload: Effect.Effect<void, GatewayError>
): Effect.Effect<AdminStoreShape, StoreError, Scope.Scope | FileSystem.FileSystem> => {
  const { store, secrets } = prepared
  if (store._tag === "File" || secrets === undefined) {
    const path = configPath(prepared.cli, prepared.options.env)
    return path === undefined
      ? Effect.succeed(AdminStore.makeFile(reload))
      : Effect.map(Effect.service(FileSystem.FileSystem), (fs) =>
          FileAdminStore.make(fs, {
            path,
            env: prepared.options.env,
            reload,
            process: prepared.options.runtime.process
          })
        )
  }
  return Effect.gen(function* () {
    const [{ make }, { connect }] = yield* Effect.promise(() =>
      Promise.all([import("../admin/PostgresAdminStore.ts"), import("../store/postgres/Migrations.ts")])
    )
    const sql = yield* connect(store.url, { max: 2, applicationName: "llmgate-admin" })
    const platform = yield* Effect.context<FileSystem.FileSystem>()
    return make(sql, { settings: Effect.provide(fileSettings(prepared), platform), secrets, reload })
  })
}

/**
 * Where the SQLite usage store lives in file mode: `usage.sqlite_path` (relative to the config
 * file's folder), else `<config file>.usage.sqlite`; with the embedded default config (no file),
 * an in-memory database that lasts as long as the process.
 */
export const usageSqlitePath = (config: string | undefined, sqlitePath: string | undefined): string => {
  if (config === undefined) return sqlitePath ?? ":memory:"
  if (sqlitePath === undefined) return `${config}.usage.sqlite`
  if (sqlitePath === ":memory:" || sqlitePath.startsWith("/") || /^[A-Za-z]:[\\/]/.test(sqlitePath)) return sqlitePath
  const slash = Math.max(config.lastIndexOf("/"), config.lastIndexOf("\\"))
  return slash < 0 ? sqlitePath : `${config.slice(0, slash + 1)}${sqlitePath}`
}

/**
 * The usage store for a prepared start, opened on first use (so an unreachable or unwritable
 * database delays the writes, never the start): Postgres (its own small pool, in the catalog's
 * database, which the config source has migrated) or SQLite through the runtime's driver; or a
 * store that keeps nothing when `usage.enabled` is false.
 */
export const openUsageStore = (
  prepared: Prepared,
  sqlite: SqliteDriver
): Effect.Effect<UsageStoreShape, never, Scope.Scope> => {
  const { store, secrets } = prepared
  const usage = prepared.config.usage
  if (!usage.enabled) return Effect.succeed(discardStore)
  if (store._tag === "File" || secrets === undefined) {
    const path = usageSqlitePath(configPath(prepared.cli, prepared.options.env), usage.sqlitePath)
    return lazyStore(SqliteUsageStore.describe(path), SqliteUsageStore.open(sqlite, path))
  }
  return lazyStore(
    "postgres",
    Effect.gen(function* () {
      const [PostgresUsageStore, { connect }] = yield* Effect.promise(() =>
        Promise.all([import("../store/postgres/PostgresUsageStore.ts"), import("../store/postgres/Migrations.ts")])
      )
      const sql = yield* connect(store.url, { max: 2, applicationName: "llmgate-usage" })
      return PostgresUsageStore.make(sql)
    })
  )
}
