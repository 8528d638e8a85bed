/**
 * Bun entry: serves the core's Web handler with Bun.serve (fetch-based upstream client). With more
 * than one worker this process supervises workers that share the port (reusePort).
 * Run with `npm run start:bun -- [--config PATH] [--port N] [--workers N]`.
 */
// First: keeps Effect from capturing an async_hooks resource per fiber suspension (see the module).
import { restore as restoreBuiltins } from "../common/DisableFiberAsyncContext.ts"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Layer from "effect/Layer"
import { WORKER_ENV } from "../../src/Gateway.ts"
import { UpstreamClients } from "../../src/providers/UpstreamClients.ts"
import { delay, startWeb } from "../../src/WebEntry.ts"
import { supervise } from "../common/Supervisor.ts"

restoreBuiltins()

const started = await startWeb(
  { argv: Bun.argv.slice(2), env: process.env, runtime: { name: "bun", version: Bun.version } },
  Layer.mergeAll(NodeFileSystem.layer, UpstreamClients.layerFetch())
)
if (started._tag === "Exit") {
  ;(started.code === 0 ? process.stdout : process.stderr).write(started.output + "\n")
  process.exit(started.code)
}
if (started._tag === "Supervise") {
  const { prepared } = started
  process.exit(await supervise({
    command: process.execPath,
    args: [Bun.argv[1] ?? "runtimes/bun/main.ts"],
    argv: Bun.argv.slice(2),
    workers: prepared.workers,
    env: prepared.generatedKey === undefined ? {} : { [WORKER_ENV.key]: prepared.generatedKey },
    shutdownTimeoutMs: prepared.config.server.shutdownTimeoutMs
  }))
}
const { prepared, booted, handler, drain, reload, close } = started
const { host, port, shutdownTimeoutMs } = booted.config.server
// idleTimeout 0: Bun's 10 s default would cut quiet SSE streams. The body limit is enforced by the
// core (413 in OpenAI's shape, with a request id); Bun's own cap would answer a bare 413 first.
const server = Bun.serve({
  hostname: host,
  port,
  reusePort: prepared.worker !== undefined,
  idleTimeout: 0,
  maxRequestBodySize: Number.MAX_SAFE_INTEGER,
  fetch: handler
})
console.log(booted.banner(server.port ?? port))

let stopping = false
const shutdown = async () => {
  if (stopping) return
  stopping = true
  drain()
  // stop(false) stops accepting and resolves once in-flight requests finish; bounded by the timeout.
  await Promise.race([server.stop(false), delay(shutdownTimeoutMs)])
  await server.stop(true)
  await close()
  process.exit(0)
}
process.on("SIGTERM", shutdown)
process.on("SIGINT", shutdown)
process.on("SIGHUP", async () => {
  const rejected = await reload()
  console.error(rejected === undefined ? "llmgate: config reloaded" : `llmgate: config reload rejected, keeping the running config:\n${rejected}`)
})
