/**
 * The core served as a Web handler, `(Request) => Promise<Response>`, for runtimes whose server
 * speaks Web standards (Bun.serve, Deno.serve): the server port (Exchange.ts) over a Web Request,
 * with a bounded body read natively when its length is declared, and the answer as a Response
 * whose streamed body is pulled by the runtime as it writes (backpressure).
 *
 * The connection bounds these servers do not enforce themselves are enforced here: the request
 * line and headers are measured before the app runs (431 past `server.header_limit`), and a client
 * that stops taking a streamed answer for `server.stall_timeout` is cut off: its stream is
 * interrupted (the upstream cancelled, every slot released) and the response body errored.
 */
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Latch from "effect/Latch"
import type * as Stream from "effect/Stream"
import { gatewayError, type GatewayErrorReason } from "../domain/GatewayError.ts"
import { readAtMost } from "../domain/BodyCollector.ts"
import { type App, type IncomingRequest, isBytes, makeStallWatchdog, UNREADABLE, uploadReader } from "./Exchange.ts"
import { hookAnswer, UNEXPECTED } from "./respond.ts"

export interface WebHandlerOptions {
  /** Services every request runs with (log level). */
  readonly context: Context.Context<never>
  /**
   * Request line plus headers, bytes: larger gets 431. Undefined when the runtime's own limit is
   * not above it (the runtime refuses first; measuring again would cost every request for nothing).
   */
  readonly headerLimit: number | undefined
  /** A client that takes no data of a streamed answer this long is cut off (0: never). */
  readonly stallTimeoutMs: number
  /** The runtime's per-connection idle timer, where it also runs while a request is worked on. */
  readonly connection?: ConnectionControl
}

/**
 * A runtime whose idle timer counts every quiet moment of a connection, a request being worked on
 * included (Bun), would cut an answer an upstream takes minutes to start and a quiet stream. It is
 * held once the request's body is read (from then on the gateway's own timeouts bound the work,
 * and a stream's liveness is the stall and upstream idle timeouts' business), released when the
 * answer is handed over or its stream ended (the connection idles again), and `cut` short when a
 * stalled stream is cut off (close the connection soon, even with data unsent).
 */
export interface ConnectionControl {
  readonly hold: (request: Request) => void
  readonly release: (request: Request) => void
  readonly cut: (request: Request) => void
}

/** The path and query of an absolute request URL. */
const target = (url: string): string => {
  const slash = url.indexOf("/", url.indexOf("//") + 2)
  return slash === -1 ? "/" : url.slice(slash)
}

/**
 * The request line and headers' size about as on the wire: `METHOD target HTTP/1.1`, then
 * `name: value` per header, each line with its CRLF (header values are byte strings, so their
 * length is their size; repeated headers arrive joined, which costs a little less than repeated).
 */
export const headSize = (request: Request, url: string): number => {
  let size = request.method.length + url.length + 12
  request.headers.forEach((value, name) => {
    size += name.length + value.length + 4
  })
  return size + 2
}

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
    return Effect.tryPromise({ try: () => request.bytes(), catch: () => UNREADABLE })
  }
  return Effect.flatMap(
    Effect.tryPromise({
      try: async () => {
        const reader = body.getReader()
        const bytes = await readAtMost(() => reader.read().then((r) => (r.done ? undefined : r.value)), limit)
        if (bytes === undefined) void reader.cancel().catch(() => {})
        return bytes
      },
      catch: () => UNREADABLE
    }),
    (bytes) => (bytes === undefined ? Effect.fail(tooLarge()) : Effect.succeed(bytes))
  )
}

const incoming = (
  request: Request,
  url: string,
  onBodyRead: (() => void) | undefined,
  remoteAddress: (() => string | undefined) | undefined
): IncomingRequest => ({
  method: request.method,
  url,
  // Asked for only when an IP rate limit applies: finding it costs Bun a call per request.
  get remoteAddress() {
    return remoteAddress?.()
  },
  header: (name) => request.headers.get(name) ?? undefined,
  body: (limit) =>
    onBodyRead === undefined
      ? readBody(request, limit)
      : Effect.map(readBody(request, limit), (bytes) => {
          onBodyRead()
          return bytes
        }),
  // Pulled one chunk per read (backpressure); while it flows, the runtime's idle timer stays on
  // (a client that stops sending is cut like any quiet connection), held once it has all arrived.
  stream: (limit) => {
    const body = request.body
    return uploadReader(
      request.headers.get("content-length") ?? undefined,
      limit,
      body === null
        ? undefined
        : () => {
            const reader = body.getReader()
            return {
              read: () => reader.read().then((r) => (r.done ? undefined : r.value)),
              cancel: () => {
                reader.cancel().catch(() => {})
              }
            }
          },
      onBodyRead
    )
  }
})

/**
 * A streamed answer as a ReadableStream the runtime pulls as it writes: one fiber runs the stream,
 * released one chunk per pull (as Effect's Stream.toReadableStreamWith does), and a stall watchdog
 * over the gaps between a chunk handed over and the runtime's next pull. A stall interrupts the
 * fiber, which closes the stream's scope (its finalizers cancel the upstream and release every
 * slot), and errors the body. Per chunk this adds a clock read to Effect's bridge: no timer.
 */
const readableOf = (
  body: Stream.Stream<Uint8Array>,
  run: <A, E>(effect: Effect.Effect<A, E>) => Fiber.Fiber<A, E>,
  stallTimeoutMs: number,
  events: { readonly ended: () => void; readonly stalled: () => void }
): ReadableStream<Uint8Array> => {
  let fiber: Fiber.Fiber<void> | undefined
  let resolvePull: (() => void) | undefined
  let over = false
  const latch = Latch.makeUnsafe(false)
  let output: ReadableStreamDefaultController<Uint8Array> | undefined
  const watchdog = makeStallWatchdog(stallTimeoutMs, () => {
    over = true
    fiber?.interruptUnsafe()
    events.stalled()
    // Errored, so the runtime ends the response unfinished. With no reason: Bun prints an errored
    // body's reason to stderr with a code frame, and the stall is logged already.
    output?.error()
  })
  return new ReadableStream<Uint8Array>({
    start(controller) {
      output = controller
      fiber = run(
        Channel.runForEach(
          Channel.transformPull(body.channel, (pull) => Effect.succeed(latch.whenOpen(pull))),
          (chunk) =>
            Effect.sync(() => {
              latch.closeUnsafe()
              for (let i = 0; i < chunk.length; i++) controller.enqueue(chunk[i]!)
              watchdog.waiting()
              resolvePull?.()
              resolvePull = undefined
            })
        )
      )
      fiber.addObserver((exit) => {
        watchdog.stop()
        if (over) return
        over = true
        if (Exit.isFailure(exit)) controller.error(Cause.squash(exit.cause))
        else {
          controller.close()
          events.ended()
        }
      })
    },
    pull() {
      watchdog.taken()
      return new Promise<void>((resolve) => {
        resolvePull = resolve
        latch.openUnsafe()
      })
    },
    cancel() {
      // The client went away (or the runtime gave up on the body): stop the stream.
      over = true
      watchdog.stop()
      fiber?.interruptUnsafe()
    }
  })
}

/**
 * Serves the app as a Web handler. Each request runs in its own fiber, interrupted when the client
 * disconnects before the response (Bun and Deno abort `request.signal`); a streamed body is pulled
 * by the runtime as it writes (backpressure), cancelled when the client leaves and cut off when
 * it stops reading.
 */
export const toWebHandler = (app: App, options: WebHandlerOptions) => {
  const { context, headerLimit, stallTimeoutMs, connection } = options
  const run = Effect.runForkWith(context)
  /** `remoteAddress`: finds the peer's IP when asked (Bun: `server.requestIP(request)`, Deno: the handler info's `remoteAddr`). */
  return (request: Request, remoteAddress?: () => string | undefined): Promise<Response> => {
    const url = target(request.url)
    if (headerLimit !== undefined && headSize(request, url) > headerLimit) {
      return Promise.resolve(hookResponse({ _tag: "HeadersTooLarge", limit: headerLimit }))
    }
    let held = false
    const onBodyRead =
      connection === undefined
        ? undefined
        : () => {
            held = true
            connection.hold(request)
          }
    const release = () => {
      if (held) connection?.release(request)
    }
    return new Promise((resolve) => {
      const fiber = run(Effect.suspend(() => app(incoming(request, url, onBodyRead, remoteAddress))))
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
        if (isBytes(out.body)) {
          const bytes = out.body as Uint8Array<ArrayBuffer>
          release()
          resolve(responseOr500(() => new Response(bytes, init)))
          return
        }
        const requestId = out.headers["x-request-id"] ?? ""
        const readable = readableOf(out.body, run, stallTimeoutMs, {
          ended: release,
          stalled: () => {
            connection?.cut(request)
            run(
              Effect.logWarning(`the client took nothing of its answer for ${stallTimeoutMs} ms: cut off`).pipe(
                Effect.annotateLogs({ requestId })
              )
            )
          }
        })
        resolve(
          responseOr500(
            () => new Response(readable, init),
            () => void readable.cancel()
          )
        )
      })
    })
  }
}

/** The Response `make` builds, or a 500 when the runtime refuses a header value (nothing was sent yet). */
const responseOr500 = (make: () => Response, discard?: () => void): Response => {
  try {
    return make()
  } catch {
    discard?.()
    return hookResponse(UNEXPECTED)
  }
}

/** An answer from outside the app (the runtime's error hook), in OpenAI's shape with a request id. */
export const hookResponse = (reason: GatewayErrorReason): Response => {
  const { status, headers, body } = hookAnswer(reason)
  return new Response(body, { status, headers })
}
