/**
 * The gateway on Node (loaded by main.ts): serves the core straight from node:http (NodeServer.ts),
 * with an undici keep-alive pool per provider for upstream calls (UpstreamClientsNode.ts). With
 * more than one worker this process supervises workers that share the port (SO_REUSEPORT).
 * Run with `npm start -- [--config PATH] [--port N] [--workers N]`.
 */
// Subpath imports: the package barrel loads every platform module (≈100 ms and ≈50 MB more at startup).
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { boot, isSupervisor, prepare, type Prepared, requestContext, WORKER_ENV, withLogLevel } from "../../src/Gateway.ts"
import { supervise } from "../common/Supervisor.ts"
import { serveNode } from "./NodeServer.ts"
import * as UpstreamClientsNode from "./UpstreamClientsNode.ts"

/** Set when boot refused to start (e.g. the config store is unreachable): its exit code. */
let refusedWith: number | undefined

const serve = (prepared: Prepared) =>
  Effect.gen(function*() {
    const booted = yield* boot(prepared).pipe(Effect.catchTag("StartupExit", (e) =>
      Effect.sync(() => {
        process.stderr.write(e.output + "\n")
        refusedWith = e.code
      })))
    if (booted === undefined) return
    const { host, port, shutdownTimeoutMs } = booted.config.server
    const address = yield* serveNode(booted.app, {
      host,
      port,
      reusePort: prepared.worker !== undefined,
      shutdownTimeoutMs,
      context: requestContext(prepared.cli.debug)
    })
    // Finalizers run last-added first: stop reporting ready before the server drains.
    yield* Effect.addFinalizer(() =>
      Effect.andThen(booted.state.startDraining, Effect.logInfo("shutting down: draining in-flight requests")))
    // SIGHUP: re-read the config file; an invalid one is logged and the running config stays.
    const context = yield* Effect.context<UpstreamClientsNode.Services>()
    const onHangup = () =>
      Effect.runFork(booted.reload.pipe(
        Effect.andThen(Effect.logInfo("config reloaded")),
        Effect.catch((e) => Effect.logWarning(`config reload rejected, keeping the running config:\n${e.message}`)),
        Effect.provide(context)
      ))
    process.on("SIGHUP", onHangup)
    yield* Effect.addFinalizer(() => Effect.sync(() => process.off("SIGHUP", onHangup)))
    console.log(booted.banner(address.port))
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Effect.provide([NodeFileSystem.layer, UpstreamClientsNode.layer, withLogLevel(prepared.cli.debug)])
  )

const started = await Effect.runPromiseExit(
  prepare({ argv: process.argv.slice(2), env: process.env, runtime: { name: "node", version: process.versions.node } })
    .pipe(Effect.provide(NodeFileSystem.layer))
)
if (Exit.isFailure(started)) {
  const failure = started.cause.reasons.find(Cause.isFailReason)
  const [code, output] = failure !== undefined ? [failure.error.code, failure.error.output] : [1, Cause.pretty(started.cause)]
  ;(code === 0 ? process.stdout : process.stderr).write(output + "\n")
  process.exit(code)
}
const prepared = started.value
if (isSupervisor(prepared)) {
  process.exit(await supervise({
    command: process.execPath,
    args: [...process.execArgv, process.argv[1] ?? "runtimes/node/main.ts"],
    argv: process.argv.slice(2),
    workers: prepared.workers,
    env: prepared.generatedKey === undefined ? {} : { [WORKER_ENV.key]: prepared.generatedKey },
    shutdownTimeoutMs: prepared.config.server.shutdownTimeoutMs
  }))
}

// A signal interrupts the main fiber: that is a clean shutdown, exit 0 (the default says 130).
// Once every finalizer has run, exit: an idle upstream keep-alive socket must not keep us alive.
NodeRuntime.runMain(serve(prepared), {
  teardown: (exit, onExit) => {
    const code = refusedWith ?? (Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause) ? 0 : 1)
    onExit(code)
    process.exit(code)
  }
})
