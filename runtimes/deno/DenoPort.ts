/**
 * The runtime port on Deno: the core's Web handler served by Deno.serve, fetch for the upstreams,
 * module Workers running `worker.ts` (they inherit this thread's permissions), and signals.
 */
/// <reference path="./deno.d.ts" />
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { FromWorker, WorkerLink } from "../../src/cluster/Protocol.ts"
import { type RuntimePort, serveWith } from "../../src/cluster/RuntimePort.ts"
import { UNEXPECTED } from "../../src/http/respond.ts"
import { hookResponse, toWebHandler } from "../../src/http/WebHandler.ts"
import { UpstreamClients } from "../../src/providers/UpstreamClients.ts"

const startWorker = (): WorkerLink => {
  const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" })
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
    onMessage: (handler) => worker.addEventListener("message", (event: MessageEvent<FromWorker>) => handler(event.data)),
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
  platform: Layer.mergeAll(NodeFileSystem.layer, UpstreamClients.layerFetch()),
  serve: (app, options) =>
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
            onError: () => hookResponse(UNEXPECTED)
          },
          toWebHandler(app, options.context)
        ),
      // shutdown() stops accepting and resolves once in-flight requests finish.
      (server) => server.shutdown()
    ).pipe(Effect.map((server) => ({ port: server.addr.port }))),
  startWorker,
  onSignal: (signal, handler) => Deno.addSignalListener(signal, handler)
}
