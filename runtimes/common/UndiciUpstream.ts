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
 * `sendOn` and `responseOf` are the request and its answer through undici's `request` API, the
 * leanest client Node has: no WHATWG Request/Response or header objects per call.
 */
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import type { Readable } from "node:stream"
import { type ConnectionOptions, createSecureContext, getCACertificates, rootCertificates } from "node:tls"
import { Agent, type Dispatcher, interceptors, Pool, ProxyAgent } from "undici"
import type { IncomingHttpHeaders } from "undici/types/header.d.ts"
import {
  capped,
  chunksOf,
  declaredLength,
  headersWithLength,
  readAtMost,
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

/** Sends `request` to `target` on `dispatcher`. */
export const sendOn = (
  dispatcher: Dispatcher,
  target: Target,
  request: UpstreamRequest,
  signal: AbortSignal
): Promise<Dispatcher.ResponseData> =>
  dispatcher.request({
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
        : null,
    signal
  })

/** An undici answer as the upstream port's response. */
export const responseOf = ({ statusCode, headers: raw, body }: Dispatcher.ResponseData): UpstreamResponse => {
  const headers = headersOf(raw)
  return {
    status: statusCode,
    headers,
    bytes: (limit) => {
      // Too large: destroyed unread, which closes the connection (it never goes back to the pool
      // half-read).
      if (declaredLength(headers) > limit) {
        return Effect.suspend(() => {
          body.destroy()
          return Effect.fail(new UpstreamBodyTooLarge({ limit }))
        })
      }
      return Effect.flatMap(
        Effect.tryPromise({
          try: (signal) => {
            // A read abandoned (timeout, client gone) must free the connection.
            signal.addEventListener("abort", () => body.destroy(), { once: true })
            // A declared length within the limit (undici reads exactly that much): undici's own
            // one-go read, much cheaper per request than iterating the chunks.
            if (declaredLength(headers) <= limit) return body.bytes()
            const iterator = body[Symbol.asyncIterator]()
            return readAtMost(
              () => iterator.next().then((r) => (r.done === true ? undefined : (r.value as Uint8Array))),
              limit
            ).then((bytes) => {
              if (bytes === undefined) body.destroy()
              return bytes
            })
          },
          catch: readFailed
        }),
        capped(limit)
      )
    },
    reader: () => {
      const iterator = body[Symbol.asyncIterator]()
      return {
        read: () => iterator.next().then((r) => (r.done === true ? undefined : (r.value as Uint8Array))),
        // destroy(), not the iterator's return(): that waits for a pending read, so a stalled
        // upstream would never be let go.
        cancel: () => {
          body.destroy()
        }
      }
    }
  }
}

/** A client every request of which fails with `message` (a connection that could not be made). */
export const failingClient = (message: string): UpstreamClient => {
  const failed = Effect.fail(new UpstreamFailure({ message }))
  return { post: () => failed }
}

/** Why a dispatcher could not be made, for the log and the failing client. */
export const describeError = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))
