/**
 * ConfigSource: where the running config comes from, and when it may have changed. `load` reads the
 * whole config now (validated); `changes` signals that it may differ from the last load (the gateway
 * then calls `load` and swaps the snapshot, keeping the running one when the new one is invalid).
 * Two layers: the YAML file or the embedded default (`layerFile`; its `changes` is empty for now:
 * SIGHUP reloads, and a file watcher would emit here), and Postgres (`store/postgres/PostgresConfigSource.ts`:
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
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { StoreError } from "../store/StoreError.ts"
import { type ResolvedConfig, StoreSection } from "./Config.ts"
import { ConfigError } from "./ConfigError.ts"
import { defaultConfigText } from "./defaultConfig.ts"
import type { Env } from "./interpolate.ts"
import { decodeConfig, parseConfigDocument } from "./loadConfig.ts"
import { durationMillis } from "./units.ts"

export interface ConfigSourceShape {
  /** Where the config comes from, for the banner and logs: `file gateway.yaml`, `postgres 127.0.0.1:5432/llmgate`. */
  readonly description: string
  /** Reads and validates the whole config now. */
  readonly load: Effect.Effect<ResolvedConfig, ConfigError | StoreError>
  /**
   * One element each time the config may have changed since the last `load` (already debounced).
   * Never fails: a source retries its own connection trouble and logs it.
   */
  readonly changes: Stream.Stream<void>
}

export class ConfigSource extends Context.Service<ConfigSource, ConfigSourceShape>()("llmgate/ConfigSource") {
  /** The YAML file at `path` (the embedded default when undefined); reload is on SIGHUP. */
  static readonly layerFile = (path: string | undefined, env: Env) =>
    Layer.effect(
      ConfigSource,
      Effect.map(Effect.context<FileSystem.FileSystem>(), (context) =>
        ConfigSource.of({
          description: path === undefined ? "embedded default" : `file ${path}`,
          load: readConfigDocument(path, env).pipe(
            Effect.flatMap(({ doc, source }) => fromResult(decodeConfig(doc, source))),
            Effect.provide(context)
          ),
          changes: Stream.empty
        }))
    )
}

/** The config file as a plain document (YAML parsed, `${VAR}` interpolated, not yet validated). */
export interface ConfigDocument {
  readonly doc: Record<string, unknown>
  /** The file's path, or `embedded default`. */
  readonly source: string
}

const fromResult = <A, E>(result: Result.Result<A, E>): Effect.Effect<A, E> =>
  Result.isSuccess(result) ? Effect.succeed(result.success) : Effect.fail(result.failure)

/** Reads the file at `path` (or the embedded default) and parses it into a document. */
export const readConfigDocument = Effect.fnUntraced(function*(path: string | undefined, env: Env) {
  let text: string
  if (path === undefined) text = defaultConfigText(env)
  else {
    const fs = yield* FileSystem.FileSystem
    text = yield* fs.readFileString(path).pipe(
      Effect.mapError((e) => new ConfigError({ source: path, issues: [{ path: "", message: `cannot read the config file: ${e.message}` }] }))
    )
  }
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
export const chooseStore = (doc: Readonly<Record<string, unknown>>, env: Env, flag: string | undefined): StoreChoice => {
  const postgres = storeSection(doc)?.postgres
  const reloadIntervalMs = postgres?.reload_interval === undefined ? DEFAULT_RELOAD_INTERVAL_MS : durationMillis(postgres.reload_interval)
  if (flag !== undefined) return { _tag: "Postgres", url: flag, from: "--database-url", reloadIntervalMs }
  const fromEnv = env["DATABASE_URL"]
  if (fromEnv !== undefined && fromEnv !== "") return { _tag: "Postgres", url: fromEnv, from: "DATABASE_URL", reloadIntervalMs }
  if (postgres !== undefined) return { _tag: "Postgres", url: postgres.url, from: "store.postgres.url", reloadIntervalMs }
  return { _tag: "File" }
}

/**
 * Validates a document as the file's config. With Postgres the catalog lives in the database: the
 * file may then leave out `providers` and `models` (its own, if any, are validated and unused).
 */
export const decodeConfigDocument = (document: ConfigDocument, store: StoreChoice): Result.Result<ResolvedConfig, ConfigError> =>
  decodeConfig(store._tag === "Postgres" ? { providers: [], models: [], ...document.doc } : document.doc, document.source)

/** Reads and validates the file, choosing the store from it, the environment and the flag. */
export const loadConfigFile = Effect.fnUntraced(function*(path: string | undefined, env: Env, databaseUrl: string | undefined) {
  const document = yield* readConfigDocument(path, env)
  // An invalid `store` section counts as absent here; the decode below reports it.
  const store = chooseStore(document.doc, env, databaseUrl)
  const config = yield* fromResult(decodeConfigDocument(document, store))
  return { document, store, config }
})
