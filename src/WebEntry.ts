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
import type * as Context from "effect/Context"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { gatewayError } from "./domain/GatewayError.ts"
import { boot, type Booted, type BootOptions, isSupervisor, prepare, type Prepared, requestContext } from "./Gateway.ts"
import { type App, type IncomingRequest, isBytes, makeBodyCollector } from "./http/Exchange.ts"
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

/** The path and query of an absolute request URL. */
const target = (url: string): string => {
  const slash = url.indexOf("/", url.indexOf("//") + 2)
  return slash === -1 ? "/" : url.slice(slash)
}

const unreadable = gatewayError({ _tag: "InvalidJson", detail: "the request body could not be read" })

/** Reads a Web request's body, refusing more than `limit` bytes (declared or actual). */
const readBody = (request: Request, limit: number): Effect.Effect<Uint8Array, ReturnType<typeof gatewayError>> => {
  const declared = request.headers.get("content-length")
  const tooLarge = () => gatewayError({ _tag: "BodyTooLarge", limit })
  if (declared !== null && Number(declared) > limit) return Effect.fail(tooLarge())
  const body = request.body
  if (body === null) return Effect.succeed(new Uint8Array(0))
  // A declared length within the limit (the runtime holds the body to it): read it natively in one
  // go; a stream reader costs several promise turns per request on Bun.
  if (declared !== null) {
    return Effect.tryPromise({ try: () => request.bytes(), catch: () => unreadable })
  }
  return Effect.flatMap(
    Effect.tryPromise({
      try: async () => {
        const collector = makeBodyCollector(limit)
        const reader = body.getReader()
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return collector.bytes()
          if (!collector.push(value)) {
            void reader.cancel().catch(() => {})
            return undefined
          }
        }
      },
      catch: () => unreadable
    }),
    (bytes) => bytes === undefined ? Effect.fail(tooLarge()) : Effect.succeed(bytes)
  )
}

const incoming = (request: Request): IncomingRequest => ({
  method: request.method,
  url: target(request.url),
  header: (name) => request.headers.get(name) ?? undefined,
  body: (limit) => readBody(request, limit)
})

/**
 * Serves the app as a Web handler. Each request runs in its own fiber, interrupted when the client
 * disconnects before the response (Bun and Deno abort `request.signal`); a streamed body is pulled
 * by the runtime as it writes (backpressure) and cancelled when the client leaves.
 */
export const toWebHandler = (app: App, context: Context.Context<never>) => {
  const run = Effect.runForkWith(context)
  return (request: Request): Promise<Response> =>
    new Promise((resolve) => {
      const fiber = run(app(incoming(request)))
      const signal = request.signal
      const onAbort = () => fiber.interruptUnsafe()
      signal.addEventListener("abort", onAbort, { once: true })
      fiber.addObserver((exit) => {
        signal.removeEventListener("abort", onAbort)
        if (Exit.isFailure(exit)) {
          // Interrupted: the client is gone and nobody reads this answer.
          resolve(new Response(null, { status: 499 }))
          return
        }
        const out = exit.value
        const init = { status: out.status, headers: out.headers }
        resolve(isBytes(out.body)
          ? new Response(out.body as Uint8Array<ArrayBuffer>, init)
          : new Response(Stream.toReadableStreamWith(out.body, context), init))
      })
    })
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
  const context = requestContext(booted.options.debug)
  return {
    _tag: "Serving",
    prepared,
    booted,
    handler: toWebHandler(booted.app, context),
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
