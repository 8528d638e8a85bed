/**
 * The subcommands that end before serving: `llmgate migrate` (apply the Postgres migrations) and
 * `llmgate import FILE` (validate a YAML config, then seed an empty Postgres catalog with its
 * providers, models and routes, secrets sealed, one audit-log row). Both take the database from
 * `--database-url` or `DATABASE_URL`, and answer with an exit code and the text to print.
 */
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Result from "effect/Result"
import { readConfigDocument } from "../config/ConfigSource.ts"
import type { Env } from "../config/interpolate.ts"
import { decodeConfig } from "../config/loadConfig.ts"
import { importCatalog } from "../store/postgres/Catalog.ts"
import { connect, loadMigrationFiles, migrate, type MigrationFile } from "../store/postgres/Migrations.ts"
import { describeTarget } from "../store/postgres/PostgresConfigSource.ts"
import { makeProviderSecrets, PLAINTEXT_WARNING } from "../store/postgres/ProviderSecrets.ts"
import type { CliOptions } from "./Cli.ts"

/** A finished command: exit code and output (stdout when the code is 0, stderr otherwise). */
export interface CommandResult {
  readonly code: number
  readonly output: string
}

const label = (files: ReadonlyArray<MigrationFile>, versions: ReadonlyArray<number>): string =>
  versions.map((v) => {
    const file = files.find((f) => f.version === v)
    return `${String(v).padStart(4, "0")}${file === undefined ? "" : `_${file.name}`}`
  }).join(", ")

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

const databaseUrl = (cli: CliOptions, env: Env): string | undefined => {
  const url = cli.databaseUrl ?? env["DATABASE_URL"]
  return url === undefined || url === "" ? undefined : url
}

const failed = (command: string) => (e: { readonly message: string }): Effect.Effect<CommandResult> =>
  Effect.succeed({ code: 1, output: `llmgate ${command}: ${e.message}` })

const noDatabase = (command: string): CommandResult => ({
  code: 2,
  output: `llmgate ${command}: no database: set DATABASE_URL or pass --database-url postgres://USER@HOST:PORT/DB`
})

/** `llmgate migrate`: applies the missing migrations under the advisory lock, says which. */
export const runMigrate = (cli: CliOptions, env: Env): Effect.Effect<CommandResult, never, FileSystem.FileSystem> => {
  const url = databaseUrl(cli, env)
  if (url === undefined) return Effect.succeed(noDatabase("migrate"))
  return Effect.gen(function*() {
    const sql = yield* connect(url, { max: 2 })
    const files = yield* loadMigrationFiles()
    const report = yield* migrate(sql, files)
    const where = `postgres ${describeTarget(sql)}`
    const output = report.applied.length > 0
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
export const runImport = (cli: CliOptions, env: Env, file: string): Effect.Effect<CommandResult, never, FileSystem.FileSystem> => {
  const url = databaseUrl(cli, env)
  if (url === undefined) return Effect.succeed(noDatabase("import"))
  return Effect.gen(function*() {
    const { doc, source } = yield* readConfigDocument(file, env)
    const valid = decodeConfig(doc, source)
    if (Result.isFailure(valid)) {
      return { code: 1, output: `llmgate import: invalid config (${source}), nothing imported:\n${valid.failure.message}` } satisfies CommandResult
    }
    const secrets = yield* makeProviderSecrets(env)
    const sql = yield* connect(url, { max: 2 })
    yield* migrate(sql, yield* loadMigrationFiles())
    const summary = yield* importCatalog(sql, doc, secrets, { actor: "cli", file })
    const notImported = ["projects", "users", "keys"].filter((k) => doc[k] !== undefined)
    const lines = [
      `llmgate import: ${file} → postgres ${describeTarget(sql)}: ` +
      `${plural(summary.providers, "provider")} (${plural(summary.sealed, "secret")} encrypted), ` +
      `${plural(summary.models, "model")}, ${plural(summary.routes, "route")}`,
      "  server, master_key and store stay in the file; running gateways pick the catalog up within a second",
      ...(notImported.length > 0 ? [`  not imported (the admin API manages them in Postgres): ${notImported.join(", ")}`] : []),
      ...(secrets.mode === "plaintext" ? [`  warning: ${PLAINTEXT_WARNING}`] : [])
    ]
    return { code: 0, output: lines.join("\n") } satisfies CommandResult
  }).pipe(
    Effect.scoped,
    Effect.catchTag("ConfigError", (e) => Effect.succeed({ code: 1, output: `llmgate import: invalid config (${e.source}), nothing imported:\n${e.message}` })),
    Effect.catch(failed("import"))
  )
}
