/**
 * The composition root of the core. `prepare` turns argv and the environment into a validated start
 * (CLI options, config from a file or the embedded default, the config store, master key, worker
 * layout) or runs a subcommand (`migrate`, `import`, `keys create`); `boot` opens the ConfigSource (the file, or
 * Postgres: connect, migrate, load), builds the state, the admin store (Postgres, or the file's
 * writable one) and the HTTP app, and follows the source's
 * changes (the watched file, or Postgres notifications) for as long as its scope lives. It needs
 * only abstract platform services (FileSystem, HttpClient); each runtime entry provides them and
 * serves the app its own way.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as References from "effect/References"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { UpstreamClients } from "./providers/UpstreamClients.ts"
import { parseArgs, parseWorkers, USAGE, UsageError, type CliOptions } from "./cli/Cli.ts"
import type { ResolvedConfig } from "./config/Config.ts"
import { type ConfigError, formatIssue } from "./config/ConfigError.ts"
import { ConfigSource, decodeConfigDocument, loadConfigFile, readConfigDocument, type StoreChoice } from "./config/ConfigSource.ts"
import type { Env } from "./config/interpolate.ts"
import { makeProviderSecrets, PLAINTEXT_WARNING, type ProviderSecrets } from "./store/postgres/ProviderSecrets.ts"
import type { StoreError } from "./store/StoreError.ts"
import { AdminStore, type AdminStoreShape } from "./admin/AdminStore.ts"
import * as FileAdminStore from "./admin/FileAdminStore.ts"
import { gatewayError, type GatewayError } from "./domain/GatewayError.ts"
import { GatewayState, RuntimeInfo } from "./GatewayState.ts"
import { makeApp } from "./http/App.ts"
import type { App } from "./http/Exchange.ts"
import { VERSION } from "./http/Health.ts"

/** Startup ended before serving: `--help`/`--version` (exit 0) or a startup failure (exit non-zero). */
export class StartupExit extends Schema.TaggedError<StartupExit>()("StartupExit", {
  code: Schema.Number,
  output: Schema.String
}) {}

export interface BootOptions {
  readonly argv: ReadonlyArray<string>
  readonly env: Env
  readonly runtime: { readonly name: "node" | "bun" | "deno"; readonly version: string }
}

export interface Booted {
  readonly app: App
  readonly config: ResolvedConfig & { readonly masterKey: Redacted.Redacted<string> }
  readonly state: GatewayState["Service"]
  readonly options: CliOptions
  /** Set when no master key was configured and one was generated for this run. */
  readonly generatedKey: string | undefined
  /** Set in a worker started by the supervisor. */
  readonly worker: WorkerIdentity | undefined
  /** The lines printed once the server listens (a short line in workers other than the first). */
  readonly banner: (port: number) => string
  /** Re-reads the config and swaps it in (SIGHUP); fails, keeping the running config, when it is invalid. */
  readonly reload: Effect.Effect<void, ConfigError | StoreError, FileSystem.FileSystem | UpstreamClients>
}

const generateKey = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(24))
  return "sk-lg-" + btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
}

/** The config file's path: `--config`, then `LLMGATE_CONFIG`; undefined means the embedded default. */
const configPath = (options: CliOptions, env: Env): string | undefined => options.config ?? (env["LLMGATE_CONFIG"] || undefined)

/** This process's place among the workers, when the supervisor started it as one of several. */
export interface WorkerIdentity {
  readonly id: number
  readonly count: number
}

/** Startup decided before anything is built: options, the validated config, the worker layout. */
export interface Prepared {
  readonly options: BootOptions
  readonly cli: CliOptions
  readonly config: ResolvedConfig & { readonly masterKey: Redacted.Redacted<string> }
  /** Set when no master key was configured and one was generated for this run. */
  readonly generatedKey: string | undefined
  /** How many worker processes serve the port (1: this process serves alone). */
  readonly workers: number
  /** Set in a worker started by the supervisor. */
  readonly worker: WorkerIdentity | undefined
  /** Where providers, models and routes come from. */
  readonly store: StoreChoice
  /** How provider secrets are kept in Postgres; set when `store` is Postgres. */
  readonly secrets: ProviderSecrets | undefined
}

/** Env variables the supervisor sets for its workers. */
export const WORKER_ENV = { id: "LLMGATE_WORKER_ID", count: "LLMGATE_WORKER_COUNT", key: "LLMGATE_GENERATED_KEY" } as const

/** The supervisor starts workers instead of serving: more than one worker and not a worker itself. */
export const isSupervisor = (prepared: Prepared): boolean => prepared.workers > 1 && prepared.worker === undefined

const applyOverrides = (loaded: ResolvedConfig, cli: CliOptions, env: Env) => {
  const host = cli.host ?? (env["LLMGATE_HOST"] || loaded.server.host)
  const envPort = env["LLMGATE_PORT"]
  const port = cli.port ?? (envPort ? Number(envPort) : loaded.server.port)
  return { host, port, envPort }
}

export const prepare = Effect.fnUntraced(function*(options: BootOptions) {
  const cli = yield* Result.match(parseArgs(options.argv), {
    onSuccess: Effect.succeed,
    onFailure: (e: UsageError) => Effect.fail(new StartupExit({ code: 2, output: `llmgate: ${e.message}\n\n${USAGE}` }))
  })
  if (cli.help) return yield* new StartupExit({ code: 0, output: USAGE })
  if (cli.version) return yield* new StartupExit({ code: 0, output: VERSION })
  if (cli.command._tag !== "Serve") {
    // Loaded only for the subcommand: a serving gateway in file mode never loads the Postgres client.
    const { runImport, runKeysCreate, runMigrate } = yield* Effect.promise(() => import("./cli/Commands.ts"))
    const command = cli.command
    const done = command._tag === "Migrate"
      ? yield* runMigrate(cli, options.env)
      : command._tag === "Import"
      ? yield* runImport(cli, options.env, command.file)
      : yield* runKeysCreate(cli, options.env, command)
    return yield* new StartupExit(done)
  }

  const { config: loaded, store } = yield* loadConfigFile(configPath(cli, options.env), options.env, cli.databaseUrl).pipe(
    Effect.mapError((e) => new StartupExit({ code: 1, output: `llmgate: invalid config (${e.source}):\n${e.message}` }))
  )
  const secrets = store._tag === "File" ? undefined : yield* makeProviderSecrets(options.env).pipe(
    Effect.mapError((e) => new StartupExit({ code: 1, output: `llmgate: ${e.message}` }))
  )
  const { host, port, envPort } = applyOverrides(loaded, cli, options.env)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return yield* new StartupExit({ code: 2, output: `llmgate: LLMGATE_PORT: expected a port number, got "${envPort}"` })
  }

  const workerId = options.env[WORKER_ENV.id]
  const worker: WorkerIdentity | undefined = workerId === undefined || workerId === ""
    ? undefined
    : { id: Number(workerId), count: Number(options.env[WORKER_ENV.count] ?? "1") }
  const envWorkers = options.env["LLMGATE_WORKERS"]
  const requested = cli.workers ?? (envWorkers ? parseWorkers(envWorkers) : "auto")
  if (requested === undefined) {
    return yield* new StartupExit({ code: 2, output: `llmgate: LLMGATE_WORKERS: expected "auto" or a number from 1 to 256, got "${envWorkers}"` })
  }
  // Workers share one port, so the port must be fixed: with port 0 the process serves alone.
  const workers = worker?.count ?? (port === 0 ? 1 : requested === "auto" ? Math.max(1, navigator.hardwareConcurrency || 1) : requested)

  const inherited = options.env[WORKER_ENV.key]
  const generatedKey = loaded.masterKey !== undefined ? undefined : inherited !== undefined && inherited !== "" ? inherited : generateKey()
  const config = {
    ...loaded,
    server: { ...loaded.server, host, port },
    masterKey: loaded.masterKey ?? Redacted.make(generatedKey ?? "")
  }
  return { options, cli, config, generatedKey, workers, worker, store, secrets } satisfies Prepared
})

/** In Postgres mode, the file's settings (`server`, `master_key`, `store`) as a validated document, re-read on each call. */
const fileSettings = (prepared: Prepared) => {
  const env = prepared.options.env
  const store = prepared.store
  return readConfigDocument(configPath(prepared.cli, env), env).pipe(
    Effect.flatMap((document) =>
      Result.match(decodeConfigDocument(document, store), { onSuccess: () => Effect.succeed(document.doc), onFailure: Effect.fail })
    )
  )
}

/** The ConfigSource for a prepared start: the file, or Postgres (connect, migrate, listen). */
const sourceLayer = (prepared: Prepared) => {
  const env = prepared.options.env
  const path = configPath(prepared.cli, env)
  const { store, secrets } = prepared
  // `secrets` is set whenever the store is Postgres: `prepare` refuses to start otherwise.
  if (store._tag === "File" || secrets === undefined) return ConfigSource.layerFile(path, env)
  const settings = fileSettings(prepared)
  // Loaded only in Postgres mode (the client costs ≈60 ms and several MB at startup otherwise).
  return Layer.unwrap(Effect.map(
    Effect.promise(() => import("./store/postgres/PostgresConfigSource.ts")),
    (PostgresConfigSource) => PostgresConfigSource.layer({ url: store.url, secrets, settings, reloadIntervalMs: store.reloadIntervalMs })
  ))
}

/**
 * Builds the gateway for a prepared start: the config source, state, app, banner, and config reload
 * (on SIGHUP through `reload`, and on every change the source signals, for as long as the scope lives).
 */
export const boot = Effect.fnUntraced(function*(prepared: Prepared) {
  const { options, cli, generatedKey, worker } = prepared
  const withOverrides = (next: ResolvedConfig) => {
    const { host: nextHost, port: nextPort } = applyOverrides(next, cli, options.env)
    return { ...next, server: { ...next.server, host: nextHost, port: nextPort }, masterKey: next.masterKey ?? prepared.config.masterKey }
  }
  const startupFailure = (e: ConfigError | StoreError) =>
    new StartupExit({
      code: 1,
      output: e._tag === "ConfigError" ? `llmgate: invalid config (${e.source}):\n${e.message}` : `llmgate: config store: ${e.message}`
    })
  const source = yield* Layer.build(sourceLayer(prepared)).pipe(
    Effect.map((built) => Context.get(built, ConfigSource)),
    Effect.mapError(startupFailure)
  )
  // The file was read by `prepare`; Postgres supplies the catalog now.
  const config = prepared.store._tag === "File" ? prepared.config : withOverrides(yield* Effect.mapError(source.load, startupFailure))
  if (prepared.secrets?.mode === "plaintext") yield* Effect.logWarning(PLAINTEXT_WARNING)
  const { host } = config.server
  const context = yield* Layer.build(
    Layer.mergeAll(GatewayState.layer(config), Layer.succeed(RuntimeInfo, RuntimeInfo.of({ ...options.runtime, worker })))
  )
  const state = yield* Effect.provide(Effect.service(GatewayState), context)
  /** Re-reads the config source and swaps it in; the running config stays on failure. */
  const reload = source.load.pipe(Effect.flatMap((next) => state.swap(withOverrides(next))))
  const platform = yield* Effect.context<FileSystem.FileSystem | UpstreamClients>()
  const adminReload = reload.pipe(Effect.provide(platform), Effect.mapError(reloadError))
  const adminStore = yield* makeAdminStore(prepared, adminReload, platform).pipe(Effect.mapError(startupFailure))
  const app = yield* Effect.provide(makeApp, Context.add(context, AdminStore, adminStore))

  const banner = (actualPort: number): string => {
    if (worker !== undefined && worker.id > 0) {
      return `llmgate worker ${worker.id + 1}/${worker.count} listening on http://${host.includes(":") ? `[${host}]` : host}:${actualPort}`
    }
    const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host
    const base = `http://${shown}:${actualPort}`
    const key = generatedKey ?? "$LLMGATE_MASTER_KEY"
    const firstChat = config.modelNames.find((m) => !m.includes("embed")) ?? config.modelNames[0] ?? "MODEL"
    return [
      `llmgate ${VERSION} on ${options.runtime.name} ${options.runtime.version}`,
      `llmgate listening on http://${host.includes(":") ? `[${host}]` : host}:${actualPort}`,
      `  OpenAI base URL: ${base}/v1`,
      `  API reference:   ${base}/docs   (spec: ${base}/openapi.json)`,
      `  models:          ${config.modelNames.join(", ")}`,
      ...(prepared.store._tag === "File" ? [] : [`  config:          ${source.description} (hot reload)`]),
      ...(worker === undefined ? [] : [`  workers:         ${worker.count} (sharing the port)`]),
      ...(generatedKey === undefined ? [] : [`  master key (generated for this run, shown once): ${generatedKey}`]),
      `  try:`,
      `    curl ${base}/v1/chat/completions -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\`,
      `      -d '{"model":"${firstChat}","messages":[{"role":"user","content":"Hello!"}]}'`
    ].join("\n")
  }
  // Follow the source: every signalled change is re-read; a rejected one is logged and the running config stays.
  yield* source.changes.pipe(
    Stream.runForEach(() =>
      reload.pipe(
        Effect.andThen(Effect.logInfo(`config reloaded from ${source.description}`)),
        Effect.catch((e) =>
          Effect.logWarning(
            e._tag === "ConfigError"
              ? `config change rejected (${e.source}), keeping the running config:\n${e.message}`
              : `config re-read failed, keeping the running config: ${e.message}`
          )
        )
      )
    ),
    Effect.forkScoped
  )
  return { app, config, state, options: cli, generatedKey, worker, banner, reload } satisfies Booted
})

/** A failed reload as the admin API answers it: 422 naming the first problem, 503 when the store is unreachable. */
const reloadError = (e: ConfigError | StoreError): GatewayError =>
  e._tag === "ConfigError"
    ? gatewayError({
      _tag: "Unprocessable",
      param: e.issues[0]?.path ?? null,
      message: `The config was not reloaded (the running config stays): ${e.issues.map(formatIssue).join("; ")}`
    })
    : gatewayError({ _tag: "Unavailable", message: `The config store could not be read: ${e.message}` })

/**
 * The admin API's store: Postgres (its own small pool, closed with the scope; loaded only in
 * Postgres mode), the config file (written back atomically), or, with the embedded default
 * config, a store that only reloads.
 */
const makeAdminStore = (
  prepared: Prepared,
  reload: Effect.Effect<void, GatewayError>,
  platform: Context.Context<FileSystem.FileSystem | UpstreamClients>
): Effect.Effect<AdminStoreShape, StoreError, Scope.Scope> => {
  const { store, secrets } = prepared
  if (store._tag === "File" || secrets === undefined) {
    const path = configPath(prepared.cli, prepared.options.env)
    return Effect.succeed(
      path === undefined
        ? AdminStore.makeFile(reload)
        : FileAdminStore.make(Context.get(platform, FileSystem.FileSystem), { path, env: prepared.options.env, reload })
    )
  }
  return Effect.gen(function*() {
    const [{ make }, { connect }] = yield* Effect.promise(() =>
      Promise.all([import("./admin/PostgresAdminStore.ts"), import("./store/postgres/Migrations.ts")])
    )
    const sql = yield* connect(store.url, { max: 2, applicationName: "llmgate-admin" })
    return make(sql, { settings: Effect.provide(fileSettings(prepared), platform), secrets, reload })
  })
}

/** Log level from `--debug`. */
export const withLogLevel = (debug: boolean) =>
  Layer.succeed(References.MinimumLogLevel, debug ? "Debug" : "Info")

/** The services every request fiber runs with (the log level from `--debug`). */
export const requestContext = (debug: boolean): Context.Context<never> =>
  Context.make(References.MinimumLogLevel, debug ? "Debug" : "Info")

export type BootRequirements = FileSystem.FileSystem | UpstreamClients | Scope.Scope
