/**
 * The runtime port on Deno: the core's Web handler served by Deno.serve, fetch for the upstreams
 * (UpstreamClientsDeno.ts: an HttpClient per provider connection with settings, undici where
 * Deno's fetch cannot make it),
 * module Workers running `worker.ts` and the tokenizer thread's `tokenizer.ts` (they inherit this
 * thread's permissions), and signals.
 *
 * Connection bounds on Deno (README "Limits and bounds"): Deno.serve offers no control over its
 * connections (Deno 2.9: no head timeout, no keep-alive idle timeout, no header size option).
 * - Request head: the core's check answers 431 in OpenAI's shape; a head over Deno's own limit
 *   (about 64 KiB, or more than about 125 headers) gets Deno's bare 400 before any hook, so a
 *   `header_limit` above 64 KiB is warned about at start.
 * - Head timeout and idle timeout: not enforced. Deno keeps a connection that trickles its head,
 *   sends nothing, or idles between requests for as long as the client keeps it.
 * - Stall: the Web handler's watchdog cuts the stream (the upstream is cancelled, every slot
 *   released); Deno closes the connection itself only once the client reads again or leaves.
 */
/// <reference path="./deno.d.ts" />
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as RedisClientsIoredis from "../common/RedisClientsIoredis.ts"
import { type RuntimePort, serveWith, type ThreadLink, UNEXPECTED } from "../../src/index.ts"
import { nodeSqlite } from "../common/NodeSqlite.ts"
import * as UpstreamClientsDeno from "./UpstreamClientsDeno.ts"
import { hookResponse, toWebHandler } from "../../src/web.ts"
import { processResources } from "../common/Resources.ts"

/** The Web handler given the peer's address from Deno's handler info. */
const withPeer =
  (handler: (request: Request, remoteAddress?: () => string | undefined) => Promise<Response>) =>
  (request: Request, info: Deno.ServeHandlerInfo) =>
    handler(request, () => info.remoteAddr.hostname)

/** Deno's own limit on a request head (measured on Deno 2.9: hyper's buffer; larger gets a bare 400). */
const DENO_HEADER_LIMIT = 64 * 1024

/** A module Worker running `entry`, as the core's link to it. */
const startThread = <Out, In>(entry: URL): ThreadLink<Out, In> => {
  const worker = new Worker(entry.href, { type: "module" })
  let exitHandler: ((reason: string) => void) | undefined
  let ended = false
  // Deno signals no end of a worker: an uncaught error ends it (terminated here to be sure), and
  // so does terminate(); both report the exit once.
  const end = (reason: string) => {
    if (ended) return
    ended = true
    worker.terminate()
    queueMicrotask(() => exitHandler?.(reason))
  }
  worker.addEventListener("error", (event) => {
    event.preventDefault()
    end(event.message)
  })
  return {
    post: (message) => worker.postMessage(message),
    onMessage: (handler) => worker.addEventListener("message", (event: MessageEvent<In>) => handler(event.data)),
    onExit: (handler) => {
      exitHandler = handler
    },
    terminate: () => end("terminated")
  }
}

export const denoPort: RuntimePort = {
  runtime: {
    name: "deno",
    version: Deno.version.deno,
    parallelism: navigator.hardwareConcurrency || 1,
    reusePortSpreads: Deno.build.os === "linux",
    platform: Deno.build.os
  },
  fileSystem: NodeFileSystem.layer,
  platform: Layer.mergeAll(NodeFileSystem.layer, UpstreamClientsDeno.layer, RedisClientsIoredis.layer),
  serve: (app, options) => {
    const bounds = options.connection
    const warning =
      bounds.headerLimit > DENO_HEADER_LIMIT
        ? Effect.logWarning(
            `server.header_limit (${bounds.headerLimit} bytes) is above Deno's own limit (about ${DENO_HEADER_LIMIT} bytes): ` +
              `Deno answers a bare 400 to larger request heads`
          )
        : Effect.void
    return warning.pipe(
      Effect.andThen(
        serveWith(
          options,
          () =>
            Deno.serve(
              {
                hostname: options.host,
                port: options.port,
                reusePort: options.reusePort,
                onListen: () => {},
                // Whatever escapes the handler still gets OpenAI's shape, never Deno's own answer.
                // (Deno also calls it when a stalled stream's body is errored: nobody reads that answer.)
                onError: () => hookResponse(UNEXPECTED)
              },
              withPeer(
                toWebHandler(app, {
                  context: options.context,
                  headerLimit: bounds.headerLimit,
                  stallTimeoutMs: bounds.stallTimeoutMs
                })
              )
            ),
          // shutdown() stops accepting and resolves once in-flight requests finish.
          (server) => server.shutdown()
        )
      ),
      Effect.map((server) => ({ port: server.addr.port }))
    )
  },
  startWorker: () => startThread(new URL("./worker.ts", import.meta.url)),
  startTokenizer: () => startThread(new URL("./tokenizer.ts", import.meta.url)),
  sqlite: nodeSqlite,
  resources: processResources(),
  onSignal: (signal, handler) => Deno.addSignalListener(signal, handler)
}
