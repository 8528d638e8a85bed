/**
 * The core served as a Web handler, `(Request) => Promise<Response>`, for runtimes whose server
 * speaks Web standards (Bun.serve, Deno.serve): the server port (Exchange.ts) over a Web Request,
 * with a bounded body read natively when its length is declared, and the answer as a Response
 * whose streamed body is pulled by the runtime as it writes (backpressure).
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import * as Cause from "effect/Cause"
import { gatewayError, type GatewayErrorReason } from "../domain/GatewayError.ts"
import { type App, type IncomingRequest, isBytes, makeBodyCollector } from "./Exchange.ts"
import { hookAnswer, UNEXPECTED } from "./respond.ts"

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
      const fiber = run(Effect.suspend(() => app(incoming(request))))
      const signal = request.signal
      const onAbort = () => fiber.interruptUnsafe()
      signal.addEventListener("abort", onAbort, { once: true })
      fiber.addObserver((exit) => {
        signal.removeEventListener("abort", onAbort)
        if (Exit.isFailure(exit)) {
          // Interrupted: the client is gone and nobody reads this answer. (The app never fails.)
          resolve(Cause.hasInterruptsOnly(exit.cause) ? new Response(null, { status: 499 }) : hookResponse(UNEXPECTED))
          return
        }
        const out = exit.value
        const init = { status: out.status, headers: out.headers }
        try {
          resolve(isBytes(out.body)
            ? new Response(out.body as Uint8Array<ArrayBuffer>, init)
            : new Response(Stream.toReadableStreamWith(out.body, context), init))
        } catch {
          // A header value the runtime refuses: nothing was sent yet, so a 500 can still be.
          resolve(hookResponse(UNEXPECTED))
        }
      })
    })
}

/** An answer from outside the app (the runtime's error hook), in OpenAI's shape with a request id. */
export const hookResponse = (reason: GatewayErrorReason): Response => {
  const { status, headers, body } = hookAnswer(reason)
  return new Response(body, { status, headers })
}
