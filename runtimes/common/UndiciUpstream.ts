/**
 * Upstream requests over undici, shared by Node (every provider) and Deno (the connections its fetch
 * cannot make). `dispatcherFor` makes the dispatcher of one connection: an Agent, or a ProxyAgent
 * (CONNECT tunnels to https upstreams, absolute-form requests to http ones); a CA bundle added to
 * the runtime's default roots (one secure context per dispatcher, not one per connection; the bundle
 * alone where the roots cannot be read, which the caller says); any
 * certificate accepted when `verify` is off; keep-alive, or a connection per request (`pipelining:
 * 0`, which also sends `connection: close`, and no TCP keep-alive probes). Undici's own header and
 * body timeouts are off: the core enforces `timeout.request` and `timeout.idle` itself.
 *
 * `exchange` is the request and its answer through undici's `dispatch` API with a handler of our
 * own, the leanest client Node has: no WHATWG Request/Response or header objects, and no Node
 * stream, per call.
 */
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import type { Readable } from "node:stream"
import { type ConnectionOptions, createSecureContext, getCACertificates, rootCertificates } from "node:tls"
import { Agent, type Dispatcher, interceptors, Pool, ProxyAgent } from "undici"
import type { IncomingHttpHeaders } from "undici/types/header.d.ts"
import {
  type ChunkReader,
  chunksOf,
  declaredLength,
  headersWithLength,
  makeBodyCollector,
  UpstreamBodyTooLarge,
  type UpstreamClient,
  type UpstreamConnection,
  UpstreamFailure,
  type UpstreamRequest,
  type UpstreamResponse
} from "../../src/index.ts"

const failure =
  (what: string) =>
  (cause: unknown): UpstreamFailure =>
    new UpstreamFailure({ message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}` })
export const sendFailed = failure("request failed")
const readFailed = failure("reading the response failed")

const headersOf = (headers: IncomingHttpHeaders): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined) out[name] = typeof value === "string" ? value : value.join(", ")
  }
  return out
}

/**
 * The runtime's default roots (with NODE_EXTRA_CA_CERTS, and the system store where enabled), which
 * a `ca` option would otherwise replace; undefined where they cannot be read (Deno without
 * `--allow-sys=ca`).
 */
export const defaultRoots = (): ReadonlyArray<string> | undefined => {
  try {
    return typeof getCACertificates === "function" ? getCACertificates("default") : rootCertificates
  } catch {
    return undefined
  }
}

/** TLS options of a connection; reads its CA bundle (throws when it cannot). */
const tlsOptions = (c: UpstreamConnection): ConnectionOptions => {
  const verify = c.verify ? {} : { rejectUnauthorized: false }
  if (c.caFile === undefined) return verify
  const bundle = readFileSync(c.caFile, "utf8")
  return { ...verify, secureContext: createSecureContext({ ca: [...(defaultRoots() ?? []), bundle] }) }
}

/**
 * The dispatcher of one connection. `decompress`: decode compressed bodies as fetch does (Deno,
 * whose upstream port says bodies come back decoded). Throws when the CA bundle cannot be read or
 * the proxy is not a URL undici takes.
 */
export const dispatcherFor = (c: UpstreamConnection, decompress = false): Dispatcher => {
  const pool = {
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    pipelining: c.keepAlive ? 1 : 0
  }
  const tls = tlsOptions(c)
  const agent =
    c.proxy === undefined
      ? new Agent({ ...pool, connect: { timeout: c.connectTimeoutMs, keepAlive: c.keepAlive, ...tls } })
      : new ProxyAgent({
          ...pool,
          uri: c.proxy,
          connectTimeout: c.connectTimeoutMs,
          requestTls: tls,
          proxyTls: tls,
          // Also the client undici forwards http requests to the proxy with (which otherwise gets
          // its default timeouts and keep-alive).
          factory: (origin, options) => new Pool(origin, { ...pool, ...options })
        })
  return decompress ? agent.compose(interceptors.decompress({ skipErrorResponses: false })) : agent
}

export interface Target {
  readonly origin: string
  readonly path: string
}

/** URLs kept split: the fixed ones providers call; per-resource URLs (`/files/{id}`) past this are split each time. */
const KNOWN_TARGETS = 256

/** A URL split into undici's origin and path, once per URL (providers call a handful of fixed URLs). */
export const targets = (): ((url: string) => Target) => {
  const known = new Map<string, Target>()
  return (url) => {
    let found = known.get(url)
    if (found === undefined) {
      const u = new URL(url)
      found = { origin: u.origin, path: u.pathname + u.search }
      if (known.size < KNOWN_TARGETS) known.set(url, found)
    }
    return found
  }
}

/** Unread answer bytes past which undici is asked to stop reading the socket (resumed as they are read). */
const HIGH_WATER_MARK = 64 * 1024

/** What a cancelled or abandoned exchange aborts undici's request with. */
const abandoned = (): Error => new Error("the upstream answer was let go")

/**
 * One request and its answer through undici's `dispatch` API, with a handler of our own: the
 * answer's head ends the wait of `exchange`, and its body waits here until `bytes` collects it
 * whole or `reader` reads it chunk by chunk (past `HIGH_WATER_MARK` unread bytes undici pauses the
 * socket, and resumes it as they are read). Undici's `request` API made a Node Readable and an
 * AsyncResource per request, whose objects outlived young-generation collections and were carried
 * to the old generation by the megabyte (measured on a pass-through: 4–10 MB promoted per
 * scavenge with `request`, ~40 KB with `dispatch`, and ~20 % less CPU per request).
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined
  /** Hears the answer's head, or the failure before it; undefined once heard. */
  private answer: ((response: Effect.Effect<UpstreamResponse, UpstreamFailure>) => void) | undefined
  /** Chunks not read yet, and their size. */
  private chunks: Array<Uint8Array> = []
  private queued = 0
  private ended = false
  private failure: Error | undefined
  /** Let go (cancelled, a read abandoned): what still comes is dropped. */
  private dropped = false
  /** A read waiting for the next chunk. */
  private waiting:
    | { readonly resolve: (chunk: Uint8Array | undefined) => void; readonly reject: (e: unknown) => void }
    | undefined
  /** The answer's headers (set with its head). */
  private headers: Readonly<Record<string, string>> = {}
  /** `bytes` collecting: every chunk goes to it. */
  private collecting: ((event: Uint8Array | "end" | Error) => void) | undefined

  constructor(answer: (response: Effect.Effect<UpstreamResponse, UpstreamFailure>) => void) {
    this.answer = answer
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.dropped) controller.abort(abandoned())
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // 1xx (100 Continue, 103 Early Hints) come before the answer's own head.
    if (statusCode < 200) return
    const answer = this.answer
    this.answer = undefined
    this.headers = headersOf(headers)
    answer?.(Effect.succeed({ status: statusCode, headers: this.headers, bytes: this.bytes, reader: this.reader }))
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Uint8Array): void {
    if (this.dropped) return
    const waiting = this.waiting
    if (this.collecting !== undefined) this.collecting(chunk)
    else if (waiting !== undefined) {
      this.waiting = undefined
      waiting.resolve(chunk)
    } else {
      this.chunks.push(chunk)
      this.queued += chunk.length
      if (this.queued > HIGH_WATER_MARK) controller.pause()
    }
  }

  onResponseEnd(): void {
    this.ended = true
    const waiting = this.waiting
    this.waiting = undefined
    if (this.collecting !== undefined) this.collecting("end")
    else waiting?.resolve(undefined)
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.failure = error
    const answer = this.answer
    const waiting = this.waiting
    this.answer = undefined
    this.waiting = undefined
    if (answer !== undefined) answer(Effect.fail(sendFailed(error)))
    else if (this.dropped) return
    else if (this.collecting !== undefined) this.collecting(error)
    else waiting?.reject(error)
  }

  /** Stops reading and frees the connection (an unfinished answer's is closed). */
  readonly drop = (): void => {
    if (this.dropped) return
    this.dropped = true
    this.chunks = []
    this.queued = 0
    const waiting = this.waiting
    this.waiting = undefined
    waiting?.resolve(undefined)
    if (!this.ended && this.failure === undefined) this.controller?.abort(abandoned())
  }

  private readonly next = (): Promise<Uint8Array | undefined> => {
    if (this.dropped) return Promise.resolve(undefined)
    const chunk = this.chunks.shift()
    if (chunk !== undefined) {
      this.queued -= chunk.length
      if (this.queued <= HIGH_WATER_MARK && this.controller?.paused === true) this.controller.resume()
      return Promise.resolve(chunk)
    }
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.ended) return Promise.resolve(undefined)
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject }
    })
  }

  private readonly reader = (): ChunkReader => ({ read: this.next, cancel: this.drop })

  private readonly bytes = (limit: number): Effect.Effect<Uint8Array, UpstreamFailure | UpstreamBodyTooLarge> =>
    Effect.callback((resume) => {
      const tooLarge = () => {
        this.drop()
        resume(Effect.fail(new UpstreamBodyTooLarge({ limit })))
      }
      // Too large by its own account: let go unread, which closes the connection (it never goes
      // back to the pool half-read).
      if (declaredLength(this.headers) > limit) return tooLarge()
      const collector = makeBodyCollector(limit)
      const collect = (event: Uint8Array | "end" | Error): void => {
        if (event === "end") resume(Effect.succeed(collector.bytes()))
        else if (event instanceof Error) resume(Effect.fail(readFailed(event)))
        else if (!collector.push(event)) {
          this.collecting = undefined
          tooLarge()
        }
      }
      for (const chunk of this.chunks) if (!collector.push(chunk)) return tooLarge()
      this.chunks = []
      this.queued = 0
      if (this.failure !== undefined) return collect(this.failure)
      if (this.ended) return collect("end")
      this.collecting = collect
      if (this.controller?.paused === true) this.controller.resume()
      // A read abandoned (timeout, client gone) frees the connection.
      return Effect.sync(this.drop)
    })
}

/**
 * Sends `request` to `target` on `dispatcher`; succeeds with the answer once its head came (its
 * body read later through `bytes` or `reader`). Interrupted before then, the request is aborted.
 */
export const exchange = (
  dispatcher: Dispatcher,
  target: Target,
  request: UpstreamRequest
): Effect.Effect<UpstreamResponse, UpstreamFailure> =>
  Effect.callback((resume) => {
    const handler = new Exchange(resume)
    try {
      dispatcher.dispatch(
        {
          origin: target.origin,
          path: target.path,
          method: request.method ?? "POST",
          headers: headersWithLength(request),
          body:
            request.method === undefined || request.method === "POST"
              ? request.body instanceof Uint8Array
                ? request.body
                : // undici sends an async iterable as it yields (chunked, or to the declared length); its
                  // types name only Readable, whose `from` would read ahead of what the upstream takes.
                  (chunksOf(request.body.reader) as unknown as Readable)
              : null
        },
        handler
      )
    } catch (cause) {
      return resume(Effect.fail(sendFailed(cause)))
    }
    return Effect.sync(handler.drop)
  })

/** A client every request of which fails with `message` (a connection that could not be made). */
export const failingClient = (message: string): UpstreamClient => {
  const failed = Effect.fail(new UpstreamFailure({ message }))
  return { post: () => failed }
}

/** Why a dispatcher could not be made, for the log and the failing client. */
export const describeError = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))
