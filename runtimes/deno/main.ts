/**
 * Deno entry: serves the core's Web handler with Deno.serve (fetch-based upstream client). With more
 * than one worker this process supervises workers that share the port (reusePort, Linux).
 * Run with `npm run start:deno -- [--config PATH] [--port N] [--workers N]`.
 */
/// <reference path="./deno.d.ts" />
// First: keeps Effect from capturing an async_hooks resource per fiber suspension (see the module).
import { restore as restoreBuiltins } from "../common/DisableFiberAsyncContext.ts"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Layer from "effect/Layer"
import { WORKER_ENV } from "../../src/Gateway.ts"
import { UpstreamClients } from "../../src/providers/UpstreamClients.ts"
import { delay, startWeb } from "../../src/WebEntry.ts"
import { supervise } from "../common/Supervisor.ts"

restoreBuiltins()

/** The flags a worker runs with: this entry's own permissions. */
const WORKER_FLAGS = ["run", "--unstable-no-legacy-abort", "--unstable-net", "--allow-net", "--allow-env", "--allow-read", "--allow-write"]

const started = await startWeb(
  { argv: Deno.args, env: Deno.env.toObject(), runtime: { name: "deno", version: Deno.version.deno } },
  Layer.mergeAll(NodeFileSystem.layer, UpstreamClients.layerFetch())
)
if (started._tag === "Exit") {
  if (started.code === 0) console.log(started.output)
  else console.error(started.output)
  Deno.exit(started.code)
}
if (started._tag === "Supervise") {
  const { prepared } = started
  Deno.exit(await supervise({
    command: Deno.execPath(),
    args: [...WORKER_FLAGS, new URL(import.meta.url).pathname],
    argv: Deno.args,
    workers: prepared.workers,
    env: prepared.generatedKey === undefined ? {} : { [WORKER_ENV.key]: prepared.generatedKey },
    shutdownTimeoutMs: prepared.config.server.shutdownTimeoutMs,
    onSignal: (signal, handler) => Deno.addSignalListener(signal, handler)
  }))
}
const { prepared, booted, handler, drain, reload, close } = started
const { host, port, shutdownTimeoutMs } = booted.config.server
const server = Deno.serve(
  { hostname: host, port, reusePort: prepared.worker !== undefined, onListen: (addr) => console.log(booted.banner(addr.port)) },
  handler
)

let stopping = false
const shutdown = async () => {
  if (stopping) return
  stopping = true
  drain()
  // shutdown() stops accepting and resolves once in-flight requests finish; bounded by the timeout.
  await Promise.race([server.shutdown(), delay(shutdownTimeoutMs)])
  await close()
  Deno.exit(0)
}
Deno.addSignalListener("SIGTERM", shutdown)
Deno.addSignalListener("SIGINT", shutdown)
Deno.addSignalListener("SIGHUP", async () => {
  const rejected = await reload()
  console.error(rejected === undefined ? "llmgate: config reloaded" : `llmgate: config reload rejected, keeping the running config:\n${rejected}`)
})
