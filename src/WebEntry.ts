/**
 * Shared start-up for runtimes that serve a Web `(Request) => Promise<Response>` handler (Bun, Deno):
 * boots the core inside a scope the entry closes on shutdown, and turns the app into a handler.
 * The entry supplies the platform layer (FileSystem, HttpClient) and does its own serving.
 */
import { Cause, Effect, Exit, Layer, References, Scope } from "effect"
import { HttpEffect } from "effect/http"
import { webClientGone, withClientGone } from "./http/ClientGone.ts"
import type { UpstreamClients } from "./providers/UpstreamClients.ts"
import type { FileSystem } from "effect"
import { boot, type Booted, type BootOptions } from "./Gateway.ts"

export type WebStart =
  | {
    readonly _tag: "Serving"
    readonly booted: Booted
    readonly handler: (request: Request) => Promise<Response>
    /** Marks the gateway as draining: readiness answers 503 from now on. */
    readonly drain: () => void
    /** Releases everything the core holds (upstream pools, state). */
    readonly close: () => Promise<void>
  }
  | { readonly _tag: "Exit"; readonly code: number; readonly output: string }

export const startWeb = async (
  options: BootOptions,
  platform: Layer.Layer<FileSystem.FileSystem | UpstreamClients>
): Promise<WebStart> => {
  const scope = Effect.runSync(Scope.make())
  const exit = await Effect.runPromiseExit(boot(options).pipe(Scope.provide(scope), Effect.provide(platform)))
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    const failure = exit.cause.reasons.find(Cause.isFailReason)
    return failure !== undefined
      ? { _tag: "Exit", code: failure.error.code, output: failure.error.output }
      : { _tag: "Exit", code: 1, output: `llmgate: failed to start\n${Cause.pretty(exit.cause)}` }
  }
  const booted = exit.value
  const app = withClientGone(
    booted.options.debug ? Effect.provideService(booted.app, References.MinimumLogLevel, "Debug") : booted.app,
    webClientGone
  )
  const handler = HttpEffect.toWebHandler(app)
  return {
    _tag: "Serving",
    booted,
    handler: (request) => handler(request),
    drain: () => Effect.runSync(booted.state.startDraining),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** Resolves after `ms`, for bounding a graceful stop. */
export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
