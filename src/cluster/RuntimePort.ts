/**
 * The runtime port: the little the core needs from Node, Bun or Deno to run as one gateway on
 * several threads. Each runtime implements it in its folder (`runtimes/<runtime>/`), in a few
 * lines over its own primitives: serve an App on a port (with SO_REUSEPORT when several workers
 * share it), start a worker thread running its worker entry (and the tokenizer thread running its
 * tokenizer entry), subscribe to signals. The launch
 * (cluster/Launch.ts), the owner (Owner.ts) and the workers (Worker.ts) are written once, against
 * this port.
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import type * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { App } from "../http/Exchange.ts"
import type { RedisClients } from "../limits/RedisScripts.ts"
import type { UpstreamClients } from "../providers/UpstreamClients.ts"
import type { RuntimeDescription } from "../startup/Prepare.ts"
import type { SqliteDriver } from "../usage/SqliteDriver.ts"
import type { TokenizerLink } from "../usage/TokenizerThread.ts"
import type { ConnectionBounds } from "./ConnectionBounds.ts"
import type { OwnerLink, WorkerLink } from "./Protocol.ts"
import type { ProcessResources } from "../metrics/GatewayMetrics.ts"

/** The server could not listen (the port is taken, the address is not ours, …). */
export class ServeError extends Schema.TaggedError<ServeError>()("ServeError", {
  message: Schema.String
}) {}

export interface ServeOptions {
  readonly host: string
  readonly port: number
  /** Share the port with other workers (SO_REUSEPORT). */
  readonly reusePort: boolean
  /** How long closing waits for in-flight requests and streams. */
  readonly shutdownTimeoutMs: number
  /** What a client connection may take and hold (`server` bounds; they apply at start, like the port). */
  readonly connection: ConnectionBounds
  /** Services every request runs with (log level). */
  readonly context: Context.Context<never>
}

/**
 * A runtime's own server as the port's `serve`: `listen` starts it (throwing when it cannot), and
 * closing the scope runs `drain` (stop accepting, let in-flight requests finish) for at most the
 * shutdown timeout, then `close` (whatever is left).
 */
export const serveWith = <S>(
  options: ServeOptions,
  listen: () => S,
  drain: (server: S) => Promise<void>,
  close: (server: S) => Promise<void> = () => Promise.resolve()
): Effect.Effect<S, ServeError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      try: listen,
      catch: (e) =>
        new ServeError({
          message: `cannot listen on ${options.host}:${options.port}: ${e instanceof Error ? e.message : String(e)}`
        })
    }),
    (server) =>
      Effect.promise(async () => {
        let timer: ReturnType<typeof setTimeout> | undefined
        await Promise.race([
          drain(server),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, options.shutdownTimeoutMs)))
        ])
        clearTimeout(timer)
        await close(server)
      })
  )

export type Signal = "SIGTERM" | "SIGINT" | "SIGHUP"

export interface RuntimePort {
  readonly runtime: RuntimeDescription
  /** The file system (the owner reads and writes the config with it). */
  readonly fileSystem: Layer.Layer<FileSystem.FileSystem>
  /** What a worker serves with: the file system, the upstream clients and Redis (when limits are counted there). */
  readonly platform: Layer.Layer<FileSystem.FileSystem | UpstreamClients | RedisClients>
  /**
   * Listens and serves `app`, answering the port it listens on. Closing the scope stops accepting,
   * lets in-flight requests and streams finish (at most `shutdownTimeoutMs`), then closes the rest.
   */
  readonly serve: (app: App, options: ServeOptions) => Effect.Effect<{ readonly port: number }, ServeError, Scope.Scope>
  /** Starts a worker thread running this runtime's worker entry (which calls `runWorkerThread`). */
  readonly startWorker: () => WorkerLink
  /**
   * Starts the tokenizer thread running this runtime's tokenizer entry (which calls
   * `runTokenizerThread`): the owner's, for estimated usage records (usage/TokenizerThread.ts).
   */
  readonly startTokenizer: () => TokenizerLink
  /** The runtime's built-in SQLite (the owner's usage store in file mode). */
  readonly sqlite: SqliteDriver
  /** Calls `handler` on each `signal` this process receives. */
  readonly onSignal: (signal: Signal, handler: () => void) => void
  /** The process's memory and CPU use now, for the metrics' `process_*` series. */
  readonly resources: () => ProcessResources
}

/** What a worker thread's entry hands to the core. */
export interface WorkerThreadPort {
  readonly port: RuntimePort
  readonly owner: OwnerLink
}
