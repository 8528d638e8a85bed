/**
 * The Postgres ConfigSource: connects (a pool ended with the layer's scope), applies the migrations
 * under the advisory lock (so several replicas may start at once), and serves the catalog. Changes
 * made by any replica reach this one through LISTEN `llmgate_config` (debounced ~100 ms); a periodic
 * re-read (default every 30 s) is the safety net, signalling only when the rows differ from the last
 * load. The same tick checks that the listener still hears (a self-addressed notification whose
 * payload starts with `ping:`; other listeners of the channel should ignore those); when the
 * connection is lost it relistens with backoff and, once back, signals a re-read.
 */
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import type postgres from "postgres"
import { checkCaFiles } from "../../config/CaFiles.ts"
import { ConfigSource } from "../../config/ConfigSource.ts"
import type { ConfigError } from "../../config/ConfigError.ts"
import { type StoreError, storeError } from "../../domain/StoreError.ts"
import { CONFIG_CHANNEL, decodeCatalog, fingerprint, readCatalogRows } from "./Catalog.ts"
import { connect, describeCause, loadMigrationFiles, migrate, MIGRATIONS_DIR } from "./Migrations.ts"
import type { ProviderSecrets } from "./ProviderSecrets.ts"

export interface PostgresSourceOptions {
  readonly url: string
  readonly secrets: ProviderSecrets
  /** The file's settings (`FILE_SETTINGS` of Catalog.ts) as a validated document, re-read on each load. */
  readonly settings: Effect.Effect<Readonly<Record<string, unknown>>, ConfigError, FileSystem.FileSystem>
  /** Safety-net re-read and listener check (default 30 s). */
  readonly reloadIntervalMs?: number
  /** Notifications arriving within this window are folded into one re-read (default 100 ms). */
  readonly debounceMs?: number
  /** How long the listener check waits for its ping (default 5 s). */
  readonly pingTimeoutMs?: number
  /** Longest wait for the database to answer a read or a (un)listen (default 10 s): a half-open connection must not stall reloads. */
  readonly queryTimeoutMs?: number
  readonly migrationsDir?: string
}

/** host:port/database of a pool, without credentials. */
export const describeTarget = (sql: postgres.Sql): string =>
  `${sql.options.host.map((h, i) => `${h}:${sql.options.port[i] ?? sql.options.port[0] ?? 5432}`).join(",")}/${sql.options.database}`

/** Payload prefix of the listener checks sent on the config channel (not a change). */
export const PING = "ping:"

export const make = Effect.fn("PostgresConfigSource.make")(function* (options: PostgresSourceOptions) {
  const reloadIntervalMs = options.reloadIntervalMs ?? 30_000
  // Reads are rare (a load, a safety-net re-read); LISTEN has its own connection. Small, as every worker has one.
  const sql = yield* connect(options.url, { max: 2 })
  const target = describeTarget(sql)
  const report = yield* migrate(sql, yield* loadMigrationFiles(options.migrationsDir ?? MIGRATIONS_DIR))
  if (report.applied.length > 0)
    yield* Effect.logInfo(`postgres ${target}: applied migrations ${report.applied.join(", ")}`)

  const queryTimeoutMs = options.queryTimeoutMs ?? 10_000
  const bounded = <A>(what: string, effect: Effect.Effect<A, StoreError>): Effect.Effect<A, StoreError> =>
    Effect.timeoutOrElse(effect, {
      duration: queryTimeoutMs,
      orElse: () =>
        Effect.fail(
          storeError({ _tag: "Unreachable", message: `${what}: no answer from ${target} within ${queryTimeoutMs} ms` })
        )
    })
  const read = bounded("read the config catalog", readCatalogRows(sql))
  const unlisten = (h: { readonly unlisten: () => Promise<unknown> }) =>
    Effect.promise(() => h.unlisten().catch(() => undefined)).pipe(Effect.timeoutOption(queryTimeoutMs), Effect.asVoid)

  // replay 1: a signal sent between the gateway's first load and its subscription is not lost.
  const signals = yield* PubSub.sliding<void>({ capacity: 16, replay: 1 })
  const signal = () => {
    PubSub.publishUnsafe(signals, undefined)
  }
  /** Fingerprint of the rows the last load (or safety-net read) saw. */
  let seen: string | undefined
  const pings = new Map<string, () => void>()
  let listens = 0
  const onNotify = (payload: string) => {
    if (payload.startsWith(PING)) pings.get(payload)?.()
    else signal()
  }
  // Called after the first LISTEN and after every re-listen (postgres.js's own, or ours): a re-listen
  // follows a lost connection, during which changes went unheard.
  const onListen = () => {
    if (listens++ > 0) signal()
  }
  const listen = bounded(
    `listen on ${CONFIG_CHANNEL}`,
    Effect.tryPromise({
      try: () => sql.listen(CONFIG_CHANNEL, onNotify, onListen),
      catch: (cause) =>
        storeError({
          _tag: "Unreachable",
          message: `cannot listen on ${CONFIG_CHANNEL} at ${target}: ${describeCause(cause)}`
        })
    })
  )
  let handle = yield* listen
  yield* Effect.addFinalizer(() => unlisten(handle))

  /** Whether the listener hears: a ping sent through the database comes back within the timeout. */
  const hears = Effect.gen(function* () {
    const token = `${PING}${crypto.randomUUID()}`
    // Registered before sending: the ping may come back before the sending query returns.
    const heard = yield* Deferred.make<void>()
    pings.set(token, () => Deferred.doneUnsafe(heard, Effect.void))
    const sent = Effect.tryPromise(() => sql`select pg_notify(${CONFIG_CHANNEL}, ${token})`)
    return yield* Effect.andThen(sent, Deferred.await(heard)).pipe(
      Effect.timeoutOption(options.pingTimeoutMs ?? 5_000),
      Effect.map((o) => o._tag === "Some"),
      Effect.catch(() => Effect.succeed(false)),
      Effect.ensuring(Effect.sync(() => pings.delete(token)))
    )
  })

  /** The safety net: re-read the rows and signal when they differ from what the last load saw. */
  const recheck = read.pipe(
    Effect.andThen((rows) =>
      Effect.sync(() => {
        if (fingerprint(rows) !== seen) signal()
      })
    )
  )

  /** Re-listens until it works, backing off from 200 ms to 10 s; the re-listen signals a re-read. */
  const relisten = Effect.gen(function* () {
    yield* unlisten(handle)
    let delayMs = 200
    for (;;) {
      const next = yield* Effect.result(listen)
      if (next._tag === "Success") {
        handle = next.success
        yield* Effect.logInfo(`postgres ${target}: listening for config changes again`)
        return
      }
      yield* Effect.logWarning(`postgres ${target}: ${next.failure.message}; retrying in ${delayMs} ms`)
      yield* Effect.sleep(delayMs)
      delayMs = Math.min(delayMs * 2, 10_000)
    }
  })

  const watch = Effect.gen(function* () {
    for (;;) {
      yield* Effect.sleep(reloadIntervalMs)
      const checked = yield* Effect.result(recheck)
      const ok = checked._tag === "Success" && (yield* hears)
      if (!ok) {
        yield* Effect.logWarning(
          `postgres ${target}: lost the config change feed${checked._tag === "Failure" ? ` (${checked.failure.message})` : ""}; reconnecting`
        )
        yield* relisten
      }
    }
  })
  yield* Effect.forkScoped(watch)

  const platform = yield* Effect.context<FileSystem.FileSystem>()
  const load = Effect.gen(function* () {
    const settings = yield* Effect.provide(options.settings, platform)
    const rows = yield* read
    seen = fingerprint(rows)
    const loaded = yield* decodeCatalog(settings, rows, options.secrets)
    yield* checkCaFiles(Context.get(platform, FileSystem.FileSystem), loaded.config, loaded.source)
    return loaded
  })

  return ConfigSource.of({
    description: `postgres ${target}`,
    load,
    changes: Stream.fromPubSub(signals).pipe(Stream.debounce(options.debounceMs ?? 100))
  })
})

/** The Postgres ConfigSource as a layer (pool, migrations and listener live as long as it). */
export const layer = (options: PostgresSourceOptions): Layer.Layer<ConfigSource, StoreError, FileSystem.FileSystem> =>
  Layer.effect(ConfigSource, make(options))
