/**
 * Startup, before anything is built: argv and the environment become a validated start (CLI
 * options, the config file or the embedded default, where the catalog lives, the master key, how
 * many workers serve the port), or a subcommand runs to completion (`migrate`, `import`, `keys
 * create`, `usage`, `providers detect`), or the start ends with a message (`--help`, `--version`, a
 * usage or config error).
 * Only the owner thread prepares; workers receive what they need from it.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { parseArgs, parseWorkers, USAGE, type UsageError, type CliOptions } from "../cli/Cli.ts"
import type { ProcessInfo } from "../admin/FileAdminStore.ts"
import type { ResolvedConfig } from "../config/Config.ts"
import { loadConfigFile, type StoreChoice } from "../config/ConfigSource.ts"
import type { Env } from "../config/interpolate.ts"
import { VERSION } from "../generated/version.ts"
import { makeProviderSecrets, type ProviderSecrets } from "../store/postgres/ProviderSecrets.ts"
import { generateKey } from "../auth/KeyMaterial.ts"

/** Startup ended before serving: `--help`/`--version` or a subcommand (exit 0), or a failure (exit non-zero). */
export class StartupExit extends Schema.TaggedError<StartupExit>()("StartupExit", {
  code: Schema.Number,
  output: Schema.String
}) {}

/** What the runtime entry knows about where it runs. */
export interface RuntimeDescription {
  readonly name: "node" | "bun" | "deno"
  readonly version: string
  /** CPUs available to this process (`--workers auto`). */
  readonly parallelism: number
  /** Whether the kernel spreads connections over sockets sharing a port (SO_REUSEPORT on Linux). */
  readonly reusePortSpreads: boolean
  /** The operating system, for messages. */
  readonly platform: string
  /** This process, where the runtime can tell (the config file's lock uses it to see a dead holder). */
  readonly process?: ProcessInfo | undefined
}

export interface BootOptions {
  readonly argv: ReadonlyArray<string>
  readonly env: Env
  readonly runtime: RuntimeDescription
}

/** Startup decided before anything is built. */
export interface Prepared {
  readonly options: BootOptions
  readonly cli: CliOptions
  /** The config file's (or the embedded default's) config, with host, port and master key settled. */
  readonly config: ResolvedConfig & { readonly masterKey: Redacted.Redacted<string> }
  /** Set when no master key was configured and one was generated for this run. */
  readonly generatedKey: string | undefined
  /** How many worker threads serve the port. */
  readonly workers: number
  /** Why `--workers auto` chose fewer workers than CPUs, if it did (said once at startup). */
  readonly workersNote: string | undefined
  /** Where providers, models and routes come from. */
  readonly store: StoreChoice
  /** How provider secrets are kept in Postgres; set when `store` is Postgres. */
  readonly secrets: ProviderSecrets | undefined
}

/** The config file's path: `--config`, then `LLMGATE_CONFIG`; undefined means the embedded default. */
export const configPath = (options: CliOptions, env: Env): string | undefined =>
  options.config ?? (env["LLMGATE_CONFIG"] || undefined)

/** Host and port: the flag, then the environment, then the file. */
export const listenAddress = (loaded: ResolvedConfig, cli: CliOptions, env: Env) => {
  const host = cli.host ?? (env["LLMGATE_HOST"] || loaded.server.host)
  const envPort = env["LLMGATE_PORT"]
  const port = cli.port ?? (envPort ? Number(envPort) : loaded.server.port)
  return { host, port, envPort }
}

/** How many workers serve the port, and why `auto` chose one on a kernel that does not spread connections. */
const workerCount = (requested: number | "auto", port: number, runtime: RuntimeDescription) => {
  // Workers share one port, so the port must be fixed: with port 0 one worker serves.
  if (port === 0) return { workers: 1, note: undefined }
  if (requested !== "auto") return { workers: requested, note: undefined }
  if (!runtime.reusePortSpreads) {
    return {
      workers: 1,
      note: `one worker: the ${runtime.platform} kernel does not spread connections over sockets sharing a port (--workers N to use more anyway)`
    }
  }
  return { workers: Math.max(1, runtime.parallelism), note: undefined }
}

export const prepare = Effect.fnUntraced(function* (options: BootOptions) {
  const cli = yield* Result.match(parseArgs(options.argv), {
    onSuccess: Effect.succeed,
    onFailure: (e: UsageError) => Effect.fail(new StartupExit({ code: 2, output: `llmgate: ${e.message}\n\n${USAGE}` }))
  })
  if (cli.help) return yield* new StartupExit({ code: 0, output: USAGE })
  if (cli.version) return yield* new StartupExit({ code: 0, output: VERSION })
  if (cli.command._tag === "Usage") {
    // Asks the running gateway over HTTP: needs neither the Postgres client nor the stores.
    const { runUsage } = yield* Effect.promise(() => import("../cli/UsageCommand.ts"))
    return yield* new StartupExit(yield* runUsage(cli, options.env, cli.command))
  }
  if (cli.command._tag === "ProvidersDetect") {
    // Asks an upstream directly, through the providers' own code: needs no config file or store.
    const { runDetect } = yield* Effect.promise(() => import("../cli/DetectCommand.ts"))
    return yield* new StartupExit(yield* runDetect(cli.command))
  }
  if (cli.command._tag !== "Serve") {
    // Loaded only for the subcommand: a serving gateway in file mode never loads the Postgres client.
    const { runImport, runKeysCreate, runMigrate } = yield* Effect.promise(() => import("../cli/Commands.ts"))
    const command = cli.command
    const done =
      command._tag === "Migrate"
        ? yield* runMigrate(cli, options.env)
        : command._tag === "Import"
          ? yield* runImport(cli, options.env, command.file)
          : yield* runKeysCreate(cli, options.env, command)
    return yield* new StartupExit(done)
  }

  const { config: loaded, store } = yield* loadConfigFile(
    configPath(cli, options.env),
    options.env,
    cli.databaseUrl
  ).pipe(
    Effect.mapError((e) => new StartupExit({ code: 1, output: `llmgate: invalid config (${e.source}):\n${e.message}` }))
  )
  const secrets =
    store._tag === "File"
      ? undefined
      : yield* makeProviderSecrets(options.env).pipe(
          Effect.mapError((e) => new StartupExit({ code: 1, output: `llmgate: ${e.message}` }))
        )
  const { host, port, envPort } = listenAddress(loaded, cli, options.env)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return yield* new StartupExit({
      code: 2,
      output: `llmgate: LLMGATE_PORT: expected a port number, got "${envPort}"`
    })
  }
  const envWorkers = options.env["LLMGATE_WORKERS"]
  const requested = cli.workers ?? (envWorkers ? parseWorkers(envWorkers) : "auto")
  if (requested === undefined) {
    return yield* new StartupExit({
      code: 2,
      output: `llmgate: LLMGATE_WORKERS: expected "auto" or a number from 1 to 256, got "${envWorkers}"`
    })
  }
  const { workers, note } = workerCount(requested, port, options.runtime)
  // A config without a master key gets one for this run (a fresh key in the virtual-key format):
  // generated once here, printed once in the banner, and given to every worker.
  const generatedKey = loaded.masterKey !== undefined ? undefined : generateKey().key
  const config = {
    ...loaded,
    server: { ...loaded.server, host, port },
    masterKey: loaded.masterKey ?? Redacted.make(generatedKey ?? "")
  }
  return { options, cli, config, generatedKey, workers, workersNote: note, store, secrets } satisfies Prepared
})
