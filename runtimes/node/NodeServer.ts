/**
 * Serves the core's App (src/http/Exchange.ts) straight from `node:http`: each request runs in one
 * fiber that reads the body, dispatches, and writes the answer, with backpressure for streams. The
 * fiber is interrupted when the client goes away before the answer ended, which cancels whatever
 * it was doing (a queue wait, a backoff, the upstream call, a relayed stream). The server closes
 * gracefully when its scope does: stop accepting, let in-flight requests and streams finish (at
 * most `shutdownTimeoutMs`), close idle keep-alive connections along the way, then the rest.
 *
 * Connections are bounded by node:http's own settings (the request head's size and the time to
 * receive it, the idle keep-alive lifetime) and, for answers, by a stall timeout: a client that
 * takes nothing of an answer for `stallTimeoutMs` while data waits is cut off (reset), which
 * interrupts the request's fiber (a stream's upstream is cancelled, its slots released).
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from "node:http"
import type { AddressInfo } from "node:net"
import {
  type App,
  type ConnectionBounds,
  gatewayError,
  type GatewayError,
  type GatewayErrorReason,
  hookAnswer,
  type IncomingRequest,
  isBytes,
  makeBodyCollector,
  makeStallWatchdog,
  type OutgoingResponse,
  type StallWatchdog,
  UNEXPECTED,
  UNREADABLE,
  unparsable,
  uploadReader
} from "../../src/index.ts"

export interface NodeServeOptions {
  readonly host: string
  readonly port: number
  /** Share the port with other workers (SO_REUSEPORT). */
  readonly reusePort: boolean
  readonly shutdownTimeoutMs: number
  readonly connection: ConnectionBounds
  /** Services every request runs with (log level). */
  readonly context: Context.Context<never>
}

const readBody = (req: IncomingMessage, limit: number): Effect.Effect<Uint8Array, GatewayError> => {
  const declared = req.headers["content-length"]
  if (declared !== undefined && Number(declared) > limit)
    return Effect.fail(gatewayError({ _tag: "BodyTooLarge", limit }))
  if (req.readableEnded) return Effect.succeed(new Uint8Array(0))
  return Effect.callback<Uint8Array, GatewayError>((resume) => {
    const collector = makeBodyCollector(limit)
    const onData = (chunk: Buffer) => {
      if (!collector.push(chunk)) {
        cleanup()
        resume(Effect.fail(gatewayError({ _tag: "BodyTooLarge", limit })))
      }
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.succeed(collector.bytes()))
    }
    const onError = () => {
      cleanup()
      resume(Effect.fail(UNREADABLE))
    }
    const cleanup = () => {
      req.off("data", onData)
      req.off("end", onEnd)
      req.off("error", onError)
    }
    req.on("data", onData)
    req.on("end", onEnd)
    req.on("error", onError)
    return Effect.sync(cleanup)
  })
}

const incoming = (req: IncomingMessage): IncomingRequest => ({
  method: req.method ?? "GET",
  url: req.url ?? "/",
  remoteAddress: req.socket.remoteAddress,
  header: (name) => {
    const value = req.headers[name]
    return value === undefined || typeof value === "string" ? value : value.join(", ")
  },
  body: (limit) => readBody(req, limit),
  // Pulled through the stream's own iterator (it reads no further than asked: backpressure);
  // cancelled, it stops reading and lets the rest of the body be drained and discarded.
  stream: (limit) =>
    uploadReader(
      singleHeader(req.headers["content-length"]),
      limit,
      req.readableEnded
        ? undefined
        : () => {
            const iterator = req.iterator({ destroyOnReturn: false })
            return {
              read: () => iterator.next().then((r) => (r.done === true ? undefined : (r.value as Uint8Array))),
              cancel: () => {
                void iterator.return?.().catch(() => {})
                req.resume()
              }
            }
          }
    )
})

const singleHeader = (value: string | Array<string> | undefined): string | undefined =>
  typeof value === "string" || value === undefined ? value : value[0]

/** Headers as the flat array `writeHead` takes without building another object. */
const rawHeaders = (headers: Readonly<Record<string, string>>, contentLength: number | undefined): Array<string> => {
  const out: Array<string> = []
  for (const name in headers) out.push(name, headers[name]!)
  if (contentLength !== undefined) out.push("content-length", String(contentLength))
  return out
}

/** Resolves when `res` can take more data, or is gone; the watchdog sees how long it waited. */
const drained = (res: ServerResponse, watchdog: StallWatchdog): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    watchdog.waiting()
    const done = () => {
      watchdog.taken()
      res.off("drain", done)
      res.off("close", done)
      resume(Effect.void)
    }
    res.on("drain", done)
    res.on("close", done)
    return Effect.sync(() => {
      res.off("drain", done)
      res.off("close", done)
    })
  })

/**
 * Cuts off a client that stopped reading: a reset, so the kernel drops what it still buffers for
 * it at once (a close would keep it queued for a peer that may never read). The response's close
 * interrupts the request's fiber.
 */
const cut = (res: ServerResponse): void => {
  const socket = res.socket
  if (socket !== null && !socket.destroyed) socket.resetAndDestroy()
  else res.destroy()
}

/** What `write` needs besides the response: the stall bound and what to do on a stall (log it). */
interface WriteOptions {
  readonly stallTimeoutMs: number
  readonly onStall: (out: OutgoingResponse) => void
}

const write = (res: ServerResponse, out: OutgoingResponse, options: WriteOptions): Effect.Effect<void> => {
  const body = out.body
  if (isBytes(body)) {
    res.writeHead(out.status, rawHeaders(out.headers, body.length))
    res.end(body)
    // Most answers are in the kernel's buffer by now; one that is not waits for the client to take
    // it, and a client that never does must not hold the connection and the answer forever.
    if (res.writableLength > 0)
      watchFinish(
        res,
        makeStallWatchdog(options.stallTimeoutMs, () => stalled(res, out, options))
      )
    return Effect.void
  }
  res.writeHead(out.status, rawHeaders(out.headers, undefined))
  const watchdog = makeStallWatchdog(options.stallTimeoutMs, () => stalled(res, out, options))
  return Stream.runForEachArray(body, (chunks) => {
    if (res.destroyed) return Effect.interrupt
    let ok = true
    if (chunks.length === 1) ok = res.write(chunks[0]!)
    else {
      res.cork()
      for (const chunk of chunks) ok = res.write(chunk)
      res.uncork()
    }
    return ok ? Effect.void : drained(res, watchdog)
  }).pipe(
    Effect.ensuring(
      Effect.sync(() => {
        watchdog.stop()
        if (!res.destroyed) res.end()
      })
    )
  )
}

/** Watches an ended answer still waiting for the client until it is flushed or the connection closes. */
const watchFinish = (res: ServerResponse, watchdog: StallWatchdog): void => {
  watchdog.waiting()
  const done = () => {
    watchdog.stop()
    res.off("finish", done)
    res.off("close", done)
  }
  res.on("finish", done)
  res.on("close", done)
}

const stalled = (res: ServerResponse, out: OutgoingResponse, options: WriteOptions): void => {
  cut(res)
  options.onStall(out)
}

/** Answers `reason` from outside the app (an error hook), if the response is still unsent. */
const answerHook = (res: ServerResponse, reason: GatewayErrorReason): void => {
  const { status, headers, body } = hookAnswer(reason)
  res.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(body)) })
  res.end(body)
}

/** Listens and serves `app`; the server is closed gracefully when the scope closes. */
export const serveNode = (app: App, options: NodeServeOptions): Effect.Effect<AddressInfo, Error, Scope.Scope> =>
  Effect.gen(function* () {
    const run = Effect.runForkWith(options.context)
    const bounds = options.connection
    // node:http's whole-request bound (its default, 300 s) stays; it may not be below the head's.
    const requestTimeoutMs = Math.max(300_000, bounds.headerTimeoutMs)
    const writeOptions: WriteOptions = {
      stallTimeoutMs: bounds.stallTimeoutMs,
      onStall: (out) =>
        run(
          Effect.logWarning(`the client took nothing of its answer for ${bounds.stallTimeoutMs} ms: cut off`).pipe(
            Effect.annotateLogs({ requestId: out.headers["x-request-id"] ?? "" })
          )
        )
    }
    // Responses in progress, so shutdown knows when every in-flight request and stream has finished.
    let inProgress = 0
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      inProgress++
      const fiber = run(
        Effect.suspend(() => Effect.flatMap(app(incoming(req)), (out) => write(res, out, writeOptions)))
      )
      fiber.addObserver((exit) => {
        // The app never fails; writing the answer might (a header value node:http refuses): answer
        // 500 when nothing was sent yet, otherwise cut the connection rather than leave it hanging.
        if (exit._tag === "Failure" && !exit.cause.reasons.every((r) => r._tag === "Interrupt")) {
          if (!res.headersSent) answerHook(res, UNEXPECTED)
          else res.destroy()
        }
      })
      res.once("close", () => {
        inProgress--
        // The connection closed before the answer was complete: the client is gone.
        if (!res.writableFinished) fiber.interruptUnsafe()
      })
    }
    const server: Server = createServer(
      {
        maxHeaderSize: bounds.headerLimit,
        headersTimeout: bounds.headerTimeoutMs,
        requestTimeout: requestTimeoutMs,
        keepAliveTimeout: bounds.idleTimeoutMs,
        // node:http refuses an HTTP/1.1 request without Host with a bare 400 before any hook could
        // shape it; the gateway routes by path alone, so it serves such a request like Bun and Deno.
        requireHostHeader: false,
        // How often node:http looks for connections past the head or request timeout (30 s by
        // default): a quarter of the head's timeout, so a slowloris client goes within 1.25 × it.
        connectionsCheckingInterval:
          bounds.headerTimeoutMs > 0 ? Math.min(30_000, Math.max(100, Math.floor(bounds.headerTimeoutMs / 4))) : 30_000
      },
      onRequest
    )
    // A request node:http cannot parse (or that took too long to arrive) never reaches the app:
    // answer it in OpenAI's shape too.
    server.on("clientError", (error: Error & { readonly code?: string }, socket) => {
      if (!socket.writable || error.code === "ECONNRESET") return void socket.destroy()
      const reason: GatewayErrorReason =
        error.code === "HPE_HEADER_OVERFLOW"
          ? { _tag: "HeadersTooLarge", limit: bounds.headerLimit }
          : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
            ? { _tag: "RequestTimeout", header_ms: bounds.headerTimeoutMs, request_ms: requestTimeoutMs }
            : unparsable(error.code ?? "malformed request")
      const { status, headers, body } = hookAnswer(reason)
      const head = Object.entries({
        ...headers,
        "content-length": String(Buffer.byteLength(body)),
        connection: "close"
      })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("")
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n${head}\r\n${body}`)
    })
    yield* Effect.acquireRelease(
      Effect.callback<void, Error>((resume) => {
        const onError = (error: Error) => resume(Effect.fail(error))
        server.once("error", onError)
        // A deep backlog: a thousand clients connecting at once must not overflow it (SYN retries).
        server.listen({ host: options.host, port: options.port, reusePort: options.reusePort, backlog: 4096 }, () => {
          server.off("error", onError)
          resume(Effect.void)
        })
      }),
      () =>
        Effect.callback<void>((resume) => {
          // Stop accepting; close keep-alive connections as their responses end, and every
          // connection once no response is in progress (server.close() alone waits for clients to
          // drop keep-alive connections; one that stopped reading a finished stream may never do so).
          const sweep = setInterval(() => {
            if (inProgress === 0) server.closeAllConnections()
            else server.closeIdleConnections()
          }, 50)
          const deadline = setTimeout(() => server.closeAllConnections(), options.shutdownTimeoutMs)
          server.close(() => {
            clearInterval(sweep)
            clearTimeout(deadline)
            resume(Effect.void)
          })
          server.closeIdleConnections()
        })
    )
    return server.address() as AddressInfo
  })
