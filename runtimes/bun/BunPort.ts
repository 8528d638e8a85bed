/**
 * The runtime port on Bun: the core's Web handler served by Bun.serve, fetch for the upstreams,
 * Web Workers running `worker.ts`, and process signals.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { availableParallelism } from "node:os"
import process from "node:process"
import { processInfo } from "../common/ProcessInfo.ts"
import type { FromWorker, WorkerLink } from "../../src/cluster/Protocol.ts"
import { type RuntimePort, serveWith } from "../../src/cluster/RuntimePort.ts"
import { UNEXPECTED } from "../../src/http/respond.ts"
import { hookResponse, toWebHandler } from "../../src/http/WebHandler.ts"
import { UpstreamClients } from "../../src/providers/UpstreamClients.ts"

const startWorker = (): WorkerLink => {
  const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" })
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
    onMessage: (handler) => worker.addEventListener("message", (event: MessageEvent<FromWorker>) => handler(event.data)),
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
  platform: Layer.mergeAll(NodeFileSystem.layer, UpstreamClients.layerFetch()),
  serve: (app, options) =>
    serveWith(
      options,
      // idleTimeout 0: Bun's 10 s default would cut quiet SSE streams. The body limit is the
      // core's (413 in OpenAI's shape, with a request id); Bun's own cap would answer first.
      () =>
        Bun.serve({
          hostname: options.host,
          port: options.port,
          reusePort: options.reusePort,
          idleTimeout: 0,
          maxRequestBodySize: Number.MAX_SAFE_INTEGER,
          fetch: toWebHandler(app, options.context),
          // Whatever escapes the handler still gets OpenAI's shape, never Bun's own page.
          error: () => hookResponse(UNEXPECTED)
        }),
      // stop(false) stops accepting and resolves once in-flight requests finish; stop(true) ends the rest.
      (server) => server.stop(false),
      (server) => server.stop(true)
    ).pipe(Effect.map((server) => ({ port: server.port ?? options.port }))),
  startWorker,
  onSignal: (signal, handler) => {
    process.on(signal, handler)
  }
}
