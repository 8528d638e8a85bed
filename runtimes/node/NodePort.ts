/**
 * The runtime port on Node: the core served from node:http (NodeServer.ts), undici pools for the
 * upstreams (UpstreamClientsNode.ts), worker threads from node:worker_threads running `worker.ts`
 * (and the tokenizer thread running `tokenizer.ts`), and process signals.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { availableParallelism } from "node:os"
import process from "node:process"
import { processInfo } from "../common/ProcessInfo.ts"
import * as RedisClientsIoredis from "../common/RedisClientsIoredis.ts"
import { Worker } from "node:worker_threads"
import { type RuntimePort, ServeError, type ThreadLink } from "../../src/index.ts"
import { nodeSqlite } from "../common/NodeSqlite.ts"
import { serveNode } from "./NodeServer.ts"
import * as UpstreamClientsNode from "./UpstreamClientsNode.ts"
import { processResources } from "../common/Resources.ts"

/** A thread running `entry`, as the core's link to it. */
const startThread = <Out, In>(entry: URL): ThreadLink<Out, In> => {
  const worker = new Worker(entry)
  let failure: string | undefined
  // Registered at once: an unhandled worker error would end the process.
  worker.on("error", (error) => {
    failure = error.message
  })
  return {
    post: (message) => worker.postMessage(message),
    onMessage: (handler) => {
      worker.on("message", (message: In) => handler(message))
    },
    onExit: (handler) => {
      worker.once("exit", (code) => handler(failure ?? `exit code ${code}`))
    },
    terminate: () => {
      void worker.terminate()
    }
  }
}

export const nodePort: RuntimePort = {
  runtime: {
    name: "node",
    version: process.versions.node,
    parallelism: availableParallelism(),
    reusePortSpreads: process.platform === "linux",
    platform: process.platform,
    process: processInfo()
  },
  fileSystem: NodeFileSystem.layer,
  platform: Layer.mergeAll(NodeFileSystem.layer, UpstreamClientsNode.layer, RedisClientsIoredis.layer),
  serve: (app, options) =>
    serveNode(app, options).pipe(
      Effect.map((address) => ({ port: address.port })),
      Effect.mapError(
        (e) => new ServeError({ message: `cannot listen on ${options.host}:${options.port}: ${e.message}` })
      )
    ),
  startWorker: () => startThread(new URL("./worker.ts", import.meta.url)),
  startTokenizer: () => startThread(new URL("./tokenizer.ts", import.meta.url)),
  sqlite: nodeSqlite,
  resources: processResources(),
  onSignal: (signal, handler) => {
    process.on(signal, handler)
  }
}
