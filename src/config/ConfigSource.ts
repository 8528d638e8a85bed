/**
 * ConfigSource: where the running config comes from, and when it may have changed. `load` reads the
 * whole config now (validated); `changes` signals that it may differ from the last load (the gateway
 * then calls `load` and swaps the snapshot, keeping the running one when the new one is invalid).
 * Two layers: the YAML file or the embedded default (`layerFile`: the file's directory is watched,
 * so an editor's replace-by-rename is seen too, debounced by 25 ms, with a 2 s re-read as a safety
 * net where watching is unavailable; a signal is sent only when the file's text differs from the
 * last one loaded; SIGHUP reloads as well), and Postgres (`store/postgres/PostgresConfigSource.ts`:
 * providers, models and routes from the database, `server`/`master_key` still from the file).
 *
 * Which one a start uses is decided here too (`chooseStore`): `--database-url`, then `DATABASE_URL`,
 * then the file's `store.postgres.url` select Postgres; otherwise the file.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { StoreError } from "../domain/StoreError.ts"
import { checkCaFiles } from "./CaFiles.ts"
import { type LoadedConfig, type ResolvedConfig, StoreSection } from "./Config.ts"
import { ConfigError } from "./ConfigError.ts"
import { defaultConfigText } from "./defaultConfig.ts"
import type { Env } from "./interpolate.ts"
import { decodeConfig, parseConfigDocument } from "./loadConfig.ts"
import { durationMillis } from "../domain/units.ts"

export interface ConfigSourceShape {
  /** Where the config comes from, for the banner and logs: `file gateway.yaml`, `postgres 127.0.0.1:5432/llmgate`. */
  readonly description: string
  /** Reads and validates the whole config now (the providers' `tls.ca_file` read too: config/CaFiles.ts). */
  readonly load: Effect.Effect<LoadedConfig, ConfigError | StoreError>
  /**
   * One element each time the config may have changed since the last `load` (already debounced).
   * Never fails: a source retries its own connection trouble and logs it.
   */
  readonly changes: Stream.Stream<void>
}

export class ConfigSource extends Context.Service<ConfigSource, ConfigSourceShape>()("llmgate/ConfigSource") {
  /**
   * The YAML file at `path` (the embedded default when undefined). `changes` follows the file:
   * its directory is watched (editors and the admin API replace the file by rename), and it is
   * re-read every `pollMs` as a safety net; only a text different from the last one loaded signals.
   */
  static readonly layerFile = (path: string | undefined, env: Env, options: FileWatchOptions = {}) =>
    Layer.effect(
      ConfigSource,
      Effect.gen(function* () {
        const context = yield* Effect.context<FileSystem.FileSystem>()
        /**
         * The text of the last `load` (valid or not), so that unchanged re-reads signal nothing;
         * at first the text the start was prepared from (read a moment ago).
         */
        let lastText: string | undefined =
          path === undefined ? undefined : yield* readConfigText(path, env).pipe(Effect.orElseSucceed(() => undefined))
        const source = path ?? "embedded default"
        const load = readConfigText(path, env).pipe(
          Effect.tap((text) =>
            Effect.sync(() => {
              lastText = text
            })
          ),
          Effect.flatMap((text) => fromResult(parseConfigDocument(text, env, source))),
          Effect.flatMap((document) =>
            Effect.map(
              fromResult(decodeConfig(document, source)),
              (config): LoadedConfig => ({ config, document, source })
            )
          ),
          Effect.tap((loaded) => checkCaFiles(Context.get(context, FileSystem.FileSystem), loaded.config, source)),
          Effect.provide(context)
        )
        const changes: Stream.Stream<void> =
          path === undefined
            ? Stream.empty
            : watchFile(path, options).pipe(
                Stream.filterEffect(() =>
                  readConfigText(path, env).pipe(
                    Effect.map((text) => text !== lastText),
                    // Missing for a moment (an editor's delete-then-write): the next event will tell.
                    Effect.orElseSucceed(() => false)
                  )
                ),
                Stream.provideContext(context)
              )
        return ConfigSource.of({ description: path === undefined ? "embedded default" : `file ${path}`, load, changes })
      })
    )
}

export interface FileWatchOptions {
  /**
   * Quiet time after the last file event before the file is re-read (default 25 ms: long enough to
   * fold one write's events together, short enough that a quick second edit is read separately).
   */
  readonly debounceMs?: number
  /** Safety-net re-read interval, for file systems without change events (default 2 s). */
  readonly pollMs?: number
}

/** `/a/b/c.yaml` → [`/a/b`, `c.yaml`] (either separator; a bare name is in `.`). */
const splitPath = (path: string): readonly [string, string] => {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"))
  return i < 0 ? [".", path] : [i === 0 ? path.slice(0, 1) : path.slice(0, i), path.slice(i + 1)]
}

/**
 * One element per (debounced) change of the file at `path`: events of its directory that name it
 * (a rename over it included), plus a periodic tick. A failing watch (the directory gone, no
 * watcher available) is logged once and retried every second; the tick goes on meanwhile.
 */
const watchFile = (path: string, options: FileWatchOptions): Stream.Stream<void, never, FileSystem.FileSystem> => {
  const [dir, name] = splitPath(path)
  let warned = false
  const events = Stream.unwrap(Effect.map(Effect.service(FileSystem.FileSystem), (fs) => fs.watch(dir))).pipe(
    Stream.filter((event) => splitPath(event.path)[1] === name),
    Stream.tapError((e) =>
      warned
        ? Effect.void
        : Effect.andThen(
            Effect.sync(() => {
              warned = true
            }),
            Effect.logWarning(
              `cannot watch ${dir} for config changes (re-reading ${path} every ${options.pollMs ?? 2000} ms instead): ${e.message}`
            )
          )
    ),
    Stream.retry(Schedule.spaced("1 second")),
    Stream.catchCause(() => Stream.empty),
    Stream.debounce(`${options.debounceMs ?? 25} millis`)
  )
  const poll = Stream.tick(`${options.pollMs ?? 2000} millis`)
  return Stream.merge(
    Stream.map(events, () => undefined),
    poll
  )
}

/** The config text at `path` (or the embedded default's). */
const readConfigText = (
  path: string | undefined,
  env: Env
): Effect.Effect<string, ConfigError, FileSystem.FileSystem> =>
  path === undefined
    ? Effect.succeed(defaultConfigText(env))
    : Effect.flatMap(Effect.service(FileSystem.FileSystem), (fs) =>
        fs.readFileString(path).pipe(
          Effect.mapError(
            (e) =>
              new ConfigError({
                source: path,
                issues: [{ path: "", message: `cannot read the config file: ${e.message}` }]
              })
          )
        )
      )

/** The config file as a plain document (YAML parsed, `${VAR}` interpolated, not yet validated). */
export interface ConfigDocument {
  readonly doc: Record<string, unknown>
  /** The file's path, or `embedded default`. */
  readonly source: string
}

const fromResult = <A, E>(result: Result.Result<A, E>): Effect.Effect<A, E> =>
  Result.isSuccess(result) ? Effect.succeed(result.success) : Effect.fail(result.failure)

/** Reads the file at `path` (or the embedded default) and parses it into a document. */
export const readConfigDocument = Effect.fnUntraced(function* (path: string | undefined, env: Env) {
  const text = yield* readConfigText(path, env)
  const source = path ?? "embedded default"
  const doc = yield* fromResult(parseConfigDocument(text, env, source))
  return { doc, source } satisfies ConfigDocument
})

/** Where providers, models and routes come from for this start. */
export type StoreChoice =
  | { readonly _tag: "File" }
  | {
      readonly _tag: "Postgres"
      readonly url: string
      /** Which setting chose Postgres, for messages. */
      readonly from: "--database-url" | "DATABASE_URL" | "store.postgres.url"
      /** Safety-net re-read interval besides LISTEN/NOTIFY. */
      readonly reloadIntervalMs: number
    }

export const DEFAULT_RELOAD_INTERVAL_MS = 30_000

/** The file's `store` section, or undefined when absent or invalid. */
const storeSection = (doc: Readonly<Record<string, unknown>>): typeof StoreSection.Type | undefined => {
  const decoded = Schema.decodeUnknownResult(StoreSection)(doc["store"])
  return doc["store"] === undefined || Result.isFailure(decoded) ? undefined : decoded.success
}

/** `--database-url`, then `DATABASE_URL`, then `store.postgres.url` choose Postgres; otherwise the file. */
export const chooseStore = (
  doc: Readonly<Record<string, unknown>>,
  env: Env,
  flag: string | undefined
): StoreChoice => {
  const postgres = storeSection(doc)?.postgres
  const reloadIntervalMs =
    postgres?.reload_interval === undefined ? DEFAULT_RELOAD_INTERVAL_MS : durationMillis(postgres.reload_interval)
  if (flag !== undefined) return { _tag: "Postgres", url: flag, from: "--database-url", reloadIntervalMs }
  const fromEnv = env["DATABASE_URL"]
  if (fromEnv !== undefined && fromEnv !== "")
    return { _tag: "Postgres", url: fromEnv, from: "DATABASE_URL", reloadIntervalMs }
  if (postgres !== undefined)
    return { _tag: "Postgres", url: postgres.url, from: "store.postgres.url", reloadIntervalMs }
  return { _tag: "File" }
}

/**
 * Validates a document as the file's config. With Postgres the catalog lives in the database: the
 * file may then leave out `providers` and `models` (its own, if any, are validated and unused).
 */
export const decodeConfigDocument = (
  document: ConfigDocument,
  store: StoreChoice
): Result.Result<ResolvedConfig, ConfigError> =>
  decodeConfig(
    store._tag === "Postgres" ? { providers: [], models: [], ...document.doc } : document.doc,
    document.source
  )

/** Reads and validates the file, choosing the store from it, the environment and the flag. */
export const loadConfigFile = Effect.fnUntraced(function* (
  path: string | undefined,
  env: Env,
  databaseUrl: string | undefined
) {
  const document = yield* readConfigDocument(path, env)
  // An invalid `store` section counts as absent here; the decode below reports it.
  const store = chooseStore(document.doc, env, databaseUrl)
  const config = yield* fromResult(decodeConfigDocument(document, store))
  yield* checkCaFiles(yield* FileSystem.FileSystem, config, document.source)
  return { document, store, config }
})
