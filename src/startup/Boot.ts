/**
 * The owner's stores for a prepared start: the ConfigSource (the watched file, or Postgres:
 * connect, migrate, listen; the Postgres client is loaded only in Postgres mode) and the admin
 * store the admin API's writes run on (Postgres, the config file written back atomically, or, on
 * the embedded default config, a store that only reloads). Only the owner thread opens them.
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
import { configPath, type Prepared } from "./Prepare.ts"

/** In Postgres mode, the file's settings (`server`, `master_key`, `store`, `limits`) as a validated document, re-read on each call. */
const fileSettings = (prepared: Prepared) => {
  const env = prepared.options.env
  return readConfigDocument(configPath(prepared.cli, env), env).pipe(
    Effect.flatMap((document) =>
      Result.match(decodeConfigDocument(document, prepared.store), { onSuccess: () => Effect.succeed(document.doc), onFailure: Effect.fail })
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
  return Layer.unwrap(Effect.map(
    Effect.promise(() => import("../store/postgres/PostgresConfigSource.ts")),
    (PostgresConfigSource) => PostgresConfigSource.layer({ url: store.url, secrets, settings, reloadIntervalMs: store.reloadIntervalMs })
  ))
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
      : Effect.map(Effect.service(FileSystem.FileSystem), (fs) => FileAdminStore.make(fs, { path, env: prepared.options.env, reload, process: prepared.options.runtime.process }))
  }
  return Effect.gen(function*() {
    const [{ make }, { connect }] = yield* Effect.promise(() =>
      Promise.all([import("../admin/PostgresAdminStore.ts"), import("../store/postgres/Migrations.ts")])
    )
    const sql = yield* connect(store.url, { max: 2, applicationName: "llmgate-admin" })
    const platform = yield* Effect.context<FileSystem.FileSystem>()
    return make(sql, { settings: Effect.provide(fileSettings(prepared), platform), secrets, reload })
  })
}
