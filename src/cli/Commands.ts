/**
 * The subcommands that end before serving: `llmgate migrate` (apply the Postgres migrations),
 * `llmgate import FILE` (validate a YAML config, then seed an empty Postgres catalog with its
 * providers, models and routes, secrets sealed, one audit-log row), both taking the database from
 * `--database-url` or `DATABASE_URL`, and `llmgate keys create` (a virtual key through the admin
 * store the gateway would use: Postgres, or the config file). Each answers with an exit code and
 * the text to print.
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Result from "effect/Result"
import type { AdminStoreShape } from "../admin/AdminStore.ts"
import * as FileAdminStore from "../admin/FileAdminStore.ts"
import * as PostgresAdminStore from "../admin/PostgresAdminStore.ts"
import { chooseStore, decodeConfigDocument, readConfigDocument } from "../config/ConfigSource.ts"
import type { Env } from "../config/interpolate.ts"
import { decodeConfig } from "../config/loadConfig.ts"
import { importCatalog } from "../store/postgres/Catalog.ts"
import { connect, loadMigrationFiles, migrate, type MigrationFile } from "../store/postgres/Migrations.ts"
import { describeTarget } from "../store/postgres/PostgresConfigSource.ts"
import { makeProviderSecrets, PLAINTEXT_WARNING } from "../store/postgres/ProviderSecrets.ts"
import type { CliOptions, Command } from "./Cli.ts"

/** A finished command: exit code and output (stdout when the code is 0, stderr otherwise). */
export interface CommandResult {
  readonly code: number
  readonly output: string
}

const label = (files: ReadonlyArray<MigrationFile>, versions: ReadonlyArray<number>): string =>
  versions
    .map((v) => {
      const file = files.find((f) => f.version === v)
      return `${String(v).padStart(4, "0")}${file === undefined ? "" : `_${file.name}`}`
    })
    .join(", ")

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

const databaseUrl = (cli: CliOptions, env: Env): string | undefined => {
  const url = cli.databaseUrl ?? env["DATABASE_URL"]
  return url === undefined || url === "" ? undefined : url
}

const failed =
  (command: string) =>
  (e: { readonly message: string }): Effect.Effect<CommandResult> =>
    Effect.succeed({ code: 1, output: `llmgate ${command}: ${e.message}` })

const noDatabase = (command: string): CommandResult => ({
  code: 2,
  output: `llmgate ${command}: no database: set DATABASE_URL or pass --database-url postgres://USER@HOST:PORT/DB`
})

/** `llmgate migrate`: applies the missing migrations under the advisory lock, says which. */
export const runMigrate = (cli: CliOptions, env: Env): Effect.Effect<CommandResult, never, FileSystem.FileSystem> => {
  const url = databaseUrl(cli, env)
  if (url === undefined) return Effect.succeed(noDatabase("migrate"))
  return Effect.gen(function* () {
    const sql = yield* connect(url, { max: 2 })
    const files = yield* loadMigrationFiles()
    const report = yield* migrate(sql, files)
    const where = `postgres ${describeTarget(sql)}`
    const output =
      report.applied.length > 0
        ? `llmgate migrate: ${where}: applied ${label(files, report.applied)}` +
          (report.alreadyApplied.length > 0 ? ` (already applied: ${label(files, report.alreadyApplied)})` : "")
        : `llmgate migrate: ${where}: up to date (already applied: ${label(files, report.alreadyApplied) || "none"})`
    return { code: 0, output } satisfies CommandResult
  }).pipe(Effect.scoped, Effect.catch(failed("migrate")))
}

/**
 * `llmgate import FILE`: validates FILE as a config (every problem named, nothing written), then
 * migrates and seeds the catalog in one transaction. A database that already has a catalog is
 * refused and left unchanged.
 */
export const runImport = (
  cli: CliOptions,
  env: Env,
  file: string
): Effect.Effect<CommandResult, never, FileSystem.FileSystem> => {
  const url = databaseUrl(cli, env)
  if (url === undefined) return Effect.succeed(noDatabase("import"))
  return Effect.gen(function* () {
    const { doc, source } = yield* readConfigDocument(file, env)
    const valid = decodeConfig(doc, source)
    if (Result.isFailure(valid)) {
      return {
        code: 1,
        output: `llmgate import: invalid config (${source}), nothing imported:\n${valid.failure.message}`
      } satisfies CommandResult
    }
    const secrets = yield* makeProviderSecrets(env)
    const sql = yield* connect(url, { max: 2 })
    yield* migrate(sql, yield* loadMigrationFiles())
    const summary = yield* importCatalog(sql, doc, secrets, { actor: "cli", file })
    const lines = [
      `llmgate import: ${file} → postgres ${describeTarget(sql)}: ` +
        `${plural(summary.providers, "provider")} (${plural(summary.sealed, "secret")} encrypted), ` +
        `${plural(summary.models, "model")}, ${plural(summary.routes, "route")}, ` +
        `${plural(summary.projects, "project")}, ${plural(summary.users, "user")}, ${plural(summary.keys, "key")}`,
      "  server, master_key, store and limits stay in the file; running gateways pick the catalog up within a second",
      ...(secrets.mode === "plaintext" ? [`  warning: ${PLAINTEXT_WARNING}`] : [])
    ]
    return { code: 0, output: lines.join("\n") } satisfies CommandResult
  }).pipe(
    Effect.scoped,
    Effect.catchTag("ConfigError", (e) =>
      Effect.succeed({
        code: 1,
        output: `llmgate import: invalid config (${e.source}), nothing imported:\n${e.message}`
      })
    ),
    Effect.catch(failed("import"))
  )
}

/**
 * `llmgate keys create`: creates a virtual key in the store the gateway would use with the same
 * options (Postgres when chosen, else the config file, which running gateways then reload) and
 * prints its plaintext once, then its id and prefix.
 */
export const runKeysCreate = (
  cli: CliOptions,
  env: Env,
  command: Extract<Command, { readonly _tag: "KeysCreate" }>
): Effect.Effect<CommandResult, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const path = cli.config ?? (env["LLMGATE_CONFIG"] || undefined)
    const document = yield* readConfigDocument(path, env)
    const store = chooseStore(document.doc, env, cli.databaseUrl)
    let admin: AdminStoreShape
    let where: string
    if (store._tag === "Postgres") {
      const settings = decodeConfigDocument(document, store)
      if (Result.isFailure(settings))
        return {
          code: 1,
          output: `llmgate keys create: invalid config (${document.source}):\n${settings.failure.message}`
        } satisfies CommandResult
      const secrets = yield* makeProviderSecrets(env)
      const sql = yield* connect(store.url, { max: 2, applicationName: "llmgate-cli" })
      yield* migrate(sql, yield* loadMigrationFiles())
      admin = PostgresAdminStore.make(sql, { settings: Effect.succeed(document.doc), secrets, reload: Effect.void })
      where = `postgres ${describeTarget(sql)}`
    } else {
      if (path === undefined) {
        return {
          code: 2,
          output:
            "llmgate keys create: no config store: pass --config FILE (or LLMGATE_CONFIG), or --database-url / DATABASE_URL"
        } satisfies CommandResult
      }
      admin = FileAdminStore.make(yield* Effect.service(FileSystem.FileSystem), { path, env, reload: Effect.void })
      where = `file ${path}`
    }
    // --project names a project by id, or else by its (unique) name.
    const projects = yield* admin.list("projects", { limit: 500, cursor: undefined, filters: {} })
    const project =
      projects.data.find((p) => p["id"] === command.project) ?? projects.data.find((p) => p["name"] === command.project)
    if (project === undefined)
      return {
        code: 1,
        output: `llmgate keys create: ${where}: no project with id or name ${JSON.stringify(command.project)}`
      } satisfies CommandResult
    const created = yield* admin.create(
      "keys",
      {
        name: command.name ?? `cli-${new Date().toISOString()}`,
        project_id: project["id"],
        ...(command.user === undefined ? {} : { user_id: command.user }),
        ...(command.models === undefined ? {} : { models: command.models }),
        ...(command.expires === undefined ? {} : { expires_at: command.expires })
      },
      { id: "cli" }
    )
    const models = Array.isArray(created["models"]) ? created["models"].join(", ") : "every model"
    const lines = [
      String(created["key"]),
      `  created key ${String(created["id"])} (prefix ${String(created["prefix"])}) in project ${String(project["id"])} (${where}); models: ${models}`,
      "  the key is shown only now: store it safely (only its hash is kept)"
    ]
    return { code: 0, output: lines.join("\n") } satisfies CommandResult
  }).pipe(
    Effect.scoped,
    Effect.catchTag("ConfigError", (e) =>
      Effect.succeed({ code: 1, output: `llmgate keys create: invalid config (${e.source}):\n${e.message}` })
    ),
    Effect.catch(failed("keys create"))
  )
