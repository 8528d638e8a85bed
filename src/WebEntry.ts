/**
 * Shared start-up for runtimes that serve a Web `(Request) => Promise<Response>` handler (Bun, Deno):
 * prepares the start, and either hands back a supervisor's plan (several workers) or boots the core
 * inside a scope the entry closes on shutdown and turns the app into a handler. The entry supplies
 * the platform layer (FileSystem, UpstreamClients) and does its own serving and process handling.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as FileSystem from "effect/FileSystem"
import type * as Layer from "effect/Layer"
import * as References from "effect/References"
import * as Scope from "effect/Scope"
import * as HttpEffect from "effect/http/HttpEffect"
import { boot, type Booted, type BootOptions, isSupervisor, prepare, type Prepared } from "./Gateway.ts"
import { webClientGone, withClientGone } from "./http/ClientGone.ts"
import type { UpstreamClients } from "./providers/UpstreamClients.ts"

export type WebStart =
  | {
    readonly _tag: "Serving"
    readonly prepared: Prepared
    readonly booted: Booted
    readonly handler: (request: Request) => Promise<Response>
    /** Marks the gateway as draining: readiness answers 503 from now on. */
    readonly drain: () => void
    /** Re-reads the config and swaps it in; resolves with the reason when it was rejected. */
    readonly reload: () => Promise<string | undefined>
    /** Releases everything the core holds (upstream pools, state). */
    readonly close: () => Promise<void>
  }
  /** Several workers: this process supervises them instead of serving. */
  | { readonly _tag: "Supervise"; readonly prepared: Prepared }
  | { readonly _tag: "Exit"; readonly code: number; readonly output: string }

const exitOf = (cause: Cause.Cause<{ readonly code: number; readonly output: string }>): WebStart => {
  const failure = cause.reasons.find(Cause.isFailReason)
  return failure !== undefined
    ? { _tag: "Exit", code: failure.error.code, output: failure.error.output }
    : { _tag: "Exit", code: 1, output: `llmgate: failed to start\n${Cause.pretty(cause)}` }
}

export const startWeb = async (
  options: BootOptions,
  platform: Layer.Layer<FileSystem.FileSystem | UpstreamClients>
): Promise<WebStart> => {
  const preparedExit = await Effect.runPromiseExit(prepare(options).pipe(Effect.provide(platform)))
  if (Exit.isFailure(preparedExit)) return exitOf(preparedExit.cause)
  const prepared = preparedExit.value
  if (isSupervisor(prepared)) return { _tag: "Supervise", prepared }

  const scope = Effect.runSync(Scope.make())
  const exit = await Effect.runPromiseExit(boot(prepared).pipe(Scope.provide(scope), Effect.provide(platform)))
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    return exitOf(exit.cause)
  }
  const booted = exit.value
  const app = withClientGone(
    booted.options.debug ? Effect.provideService(booted.app, References.MinimumLogLevel, "Debug") : booted.app,
    webClientGone
  )
  const handler = HttpEffect.toWebHandler(app)
  return {
    _tag: "Serving",
    prepared,
    booted,
    handler: (request) => handler(request),
    drain: () => Effect.runSync(booted.state.startDraining),
    reload: () =>
      Effect.runPromise(booted.reload.pipe(
        Effect.provide(platform),
        Effect.as(undefined),
        Effect.catch((e) => Effect.succeed(e.message))
      )),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** Resolves after `ms`, for bounding a graceful stop. */
export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
