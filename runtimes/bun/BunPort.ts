/**
 * The runtime port on Bun: the core's Web handler served by Bun.serve, fetch for the upstreams
 * (UpstreamClientsBun.ts: a FetchSession per provider connection with settings),
 * Web Workers running `worker.ts` (and the tokenizer thread's `tokenizer.ts`), and process signals.
 *
 * Connection bounds on Bun (README "Limits and bounds"):
 * - Request head: Bun refuses one over its own limit (16 KiB, or `--max-http-header-size`) with a
 *   bare 431 before any hook; the core's check (431 in OpenAI's shape) runs only when
 *   `header_limit` is below Bun's, and a larger `header_limit` is warned about at start.
 * - Head timeout: Bun's own, fixed (about 10 s, checked every 4 s, for a head sent slowly or not
 *   at all); `header_timeout` cannot change it.
 * - Idle: Bun's `idleTimeout` (whole seconds, at most 255) is `idle_timeout`. It also counts quiet
 *   time while a request is being worked on, so the Web handler holds it (`server.timeout(request,
 *   0)`) from the request's body read until its answer is handed over or its stream ended.
 * - Stall: the Web handler's watchdog; Bun's idle timer, set short, then closes the connection.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { maxHeaderSize } from "node:http"
import { availableParallelism } from "node:os"
import process from "node:process"
import { processInfo } from "../common/ProcessInfo.ts"
import * as RedisClientsIoredis from "../common/RedisClientsIoredis.ts"
import { type RuntimePort, serveWith, type ThreadLink, UNEXPECTED } from "../../src/index.ts"
import { bunSqlite } from "./BunSqlite.ts"
import * as UpstreamClientsBun from "./UpstreamClientsBun.ts"
import { hookResponse, toWebHandler } from "../../src/web.ts"
import { processResources } from "../common/Resources.ts"

/** A Web Worker running `entry`, as the core's link to it. */
const startThread = <Out, In>(entry: URL): ThreadLink<Out, In> => {
  const worker = new Worker(entry.href, { type: "module" })
  let failure: string | undefined
  worker.addEventListener("error", (event) => {
    // Handled here: the owner restarts the worker; the process goes on.
    event.preventDefault()
    // Bun's message carries a code frame: keep its `error: …` line.
    const lines = event.message.split("\n")
    failure = lines.find((l) => l.startsWith("error: "))?.slice("error: ".length) ?? lines[0] ?? "uncaught error"
  })
  return {
    post: (message) => worker.postMessage(message),
    onMessage: (handler) => worker.addEventListener("message", (event: MessageEvent<In>) => handler(event.data)),
    onExit: (handler) => worker.addEventListener("close", () => handler(failure ?? "the worker ended"), { once: true }),
    terminate: () => worker.terminate()
  }
}

export const bunPort: RuntimePort = {
  runtime: {
    name: "bun",
    version: Bun.version,
    parallelism: availableParallelism(),
    reusePortSpreads: process.platform === "linux",
    platform: process.platform,
    process: processInfo()
  },
  fileSystem: NodeFileSystem.layer,
  platform: Layer.mergeAll(NodeFileSystem.layer, UpstreamClientsBun.layer, RedisClientsIoredis.layer),
  serve: (app, options) => {
    const bounds = options.connection
    // Bun's idle timer counts whole seconds, at most 255 (0 turns it off): never shorter than asked.
    const idleSeconds = Math.min(255, Math.ceil(bounds.idleTimeoutMs / 1000))
    let server: Bun.Server<undefined> | undefined
    const fetch = toWebHandler(app, {
      context: options.context,
      // Measured only below Bun's own limit: at or above it, Bun refuses a larger head first.
      headerLimit: bounds.headerLimit < maxHeaderSize ? bounds.headerLimit : undefined,
      stallTimeoutMs: bounds.stallTimeoutMs,
      connection: {
        hold: (request) => server?.timeout(request, 0),
        release: (request) => server?.timeout(request, idleSeconds),
        // Bun closes a connection whose answer errored only once the client reads again: its idle
        // timer, set to its shortest, closes it within a few seconds (Bun checks every 4 s).
        cut: (request) => server?.timeout(request, 1)
      }
    })
    const warning =
      bounds.headerLimit > maxHeaderSize
        ? Effect.logWarning(
            `server.header_limit (${bounds.headerLimit} bytes) is above Bun's own limit (${maxHeaderSize} bytes): Bun answers a bare 431 ` +
              `to larger request heads; start Bun with --max-http-header-size=${bounds.headerLimit} (or BUN_OPTIONS) to enforce header_limit`
          )
        : Effect.void
    return warning.pipe(
      Effect.andThen(
        serveWith(
          options,
          // The body limit is the core's (413 in OpenAI's shape, with a request id); Bun's own cap
          // would answer first.
          () =>
            (server = Bun.serve({
              hostname: options.host,
              port: options.port,
              reusePort: options.reusePort,
              idleTimeout: idleSeconds,
              maxRequestBodySize: Number.MAX_SAFE_INTEGER,
              fetch: (request, bunServer) => fetch(request, () => bunServer.requestIP(request)?.address),
              // Whatever escapes the handler still gets OpenAI's shape, never Bun's own page.
              error: () => hookResponse(UNEXPECTED)
            })),
          // stop(false) stops accepting and resolves once in-flight requests finish; stop(true) ends the rest.
          (server) => server.stop(false),
          (server) => server.stop(true)
        )
      ),
      Effect.map((server) => ({ port: server.port ?? options.port }))
    )
  },
  startWorker: () => startThread(new URL("./worker.ts", import.meta.url)),
  startTokenizer: () => startThread(new URL("./tokenizer.ts", import.meta.url)),
  sqlite: bunSqlite,
  resources: processResources(),
  onSignal: (signal, handler) => {
    process.on(signal, handler)
  }
}
