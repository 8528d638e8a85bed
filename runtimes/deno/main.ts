/**
 * Deno entry: serves the core's Web handler with Deno.serve (fetch-based upstream client).
 * Run with `npm run start:deno -- [--config PATH] [--port N]`.
 */
/// <reference path="./deno.d.ts" />
import { NodeFileSystem } from "@effect/platform-node"
import { Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { UpstreamClients } from "../../src/providers/UpstreamClients.ts"
import { delay, startWeb } from "../../src/WebEntry.ts"

const started = await startWeb(
  { argv: Deno.args, env: Deno.env.toObject(), runtime: { name: "deno", version: Deno.version.deno } },
  Layer.mergeAll(NodeFileSystem.layer, UpstreamClients.layerShared.pipe(Layer.provide(FetchHttpClient.layer)))
)
if (started._tag === "Exit") {
  if (started.code === 0) console.log(started.output)
  else console.error(started.output)
  Deno.exit(started.code)
}
const { booted, handler, drain, close } = started
const { host, port, shutdownTimeoutMs } = booted.config.server
const server = Deno.serve({ hostname: host, port, onListen: (addr) => console.log(booted.banner(addr.port)) }, handler)

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
