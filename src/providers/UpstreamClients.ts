/**
 * The upstream port: how providers send a request to an HTTP API. One client per provider, so each
 * provider has its own keep-alive connection pool (and, where the runtime's client supports it, its
 * own connect timeout). The contract is deliberately small (a POST with bytes in, status, headers
 * and a body as bytes or as a stream out) so every runtime can implement it with its fastest client
 * and nothing is adapted per request: Node uses undici's pool API (runtimes/node), Bun and Deno
 * their native fetch (`layerFetch` below).
 *
 * Interrupting `post` (a timeout, the client leaving) aborts the request; cancelling the body's
 * reader (or interrupting `bytes`) releases the response. The body must be consumed one way or
 * the other. A body read whole is read with a byte cap (`server.upstream_body_limit`): one that
 * declares or turns out to be larger is let go at once, never buffered.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { readAtMost } from "../domain/BodyCollector.ts"
import type { ChunkReader } from "../domain/ChunkReader.ts"

/** The request could not be sent, or its response could not be read: a transport failure. */
export class UpstreamFailure extends Schema.TaggedError<UpstreamFailure>()("UpstreamFailure", {
  message: Schema.String
}) {}

/** A body read whole was larger than the cap it was read with; the response was let go. */
export class UpstreamBodyTooLarge extends Schema.TaggedError<UpstreamBodyTooLarge>()("UpstreamBodyTooLarge", {
  limit: Schema.Number
}) {}

export interface UpstreamRequest {
  /** Absolute URL. */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
}

export interface UpstreamResponse {
  readonly status: number
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>
  /** The whole body, at most `limit` bytes of it (more fails without reading on). */
  readonly bytes: (limit: number) => Effect.Effect<Uint8Array, UpstreamFailure | UpstreamBodyTooLarge>
  /** The body as it arrives, read chunk by chunk (streaming/ChunkStream.ts makes it a Stream). */
  readonly reader: () => ChunkReader
}

export interface UpstreamClient {
  readonly post: (request: UpstreamRequest) => Effect.Effect<UpstreamResponse, UpstreamFailure>
}

export interface UpstreamClientOptions {
  readonly provider: string
  readonly connectTimeoutMs: number
}

export interface UpstreamClientsShape {
  /** The client for one provider, created on first use and kept while configs use it (see `retain`). */
  readonly get: (options: UpstreamClientOptions) => Effect.Effect<UpstreamClient>
  /**
   * Says which clients the newest config uses (called once per config snapshot): the resources of
   * every other one (its connection pool) are released once the requests in flight on it end. A
   * client an older snapshot still holds keeps working for the requests that snapshot still makes.
   */
  readonly retain: (clients: ReadonlyArray<UpstreamClientOptions>) => Effect.Effect<void>
  /** Whether response bodies come back decompressed (fetch) so `content-encoding` must not be relayed. */
  readonly decodesBodies: boolean
  /** Whether `timeout.connect` is enforced separately from `timeout.request`. */
  readonly enforcesConnectTimeout: boolean
}

const failure =
  (what: string) =>
  (cause: unknown): UpstreamFailure =>
    new UpstreamFailure({ message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}` })

const headersOf = (headers: Headers): Record<string, string> => {
  const out: Record<string, string> = {}
  headers.forEach((value, name) => {
    out[name] = value
  })
  return out
}

const sendFailed = failure("request failed")
const readFailed = failure("reading the response failed")

const EMPTY_READER: ChunkReader = { read: () => Promise.resolve(undefined), cancel: () => {} }
const EMPTY = new Uint8Array(0)

/** The `content-length` a response declares; NaN when it declares none (or an unreadable one). */
export const declaredLength = (headers: Readonly<Record<string, string>>): number => {
  const value = headers["content-length"]
  return value === undefined || value === "" ? Number.NaN : Number(value)
}

/** The outcome of `readAtMost` as the `bytes` of an UpstreamResponse. */
export const capped =
  (limit: number) =>
  (bytes: Uint8Array | undefined): Effect.Effect<Uint8Array, UpstreamBodyTooLarge> =>
    bytes === undefined ? Effect.fail(new UpstreamBodyTooLarge({ limit })) : Effect.succeed(bytes)

/** An upstream client over a Web `fetch` (the runtime's own pooled, keep-alive client). */
export const fetchClient = (fetchFn: typeof globalThis.fetch): UpstreamClient => ({
  post: (request) => {
    // One controller for the whole exchange: aborting it also ends a body read that was abandoned
    // (a timeout, the client gone), which frees the connection.
    const controller = new AbortController()
    const abort = () => controller.abort()
    return Effect.map(
      Effect.tryPromise({
        try: (signal) => {
          signal.addEventListener("abort", abort, { once: true })
          return fetchFn(request.url, {
            method: "POST",
            headers: request.headers,
            body: request.body as Uint8Array<ArrayBuffer>,
            signal: controller.signal,
            redirect: "manual"
          })
        },
        catch: sendFailed
      }),
      (response): UpstreamResponse => {
        const headers = headersOf(response.headers)
        return {
          status: response.status,
          headers,
          bytes: (limit) => {
            // Too large: the response is let go unread, which closes its connection (aborting it
            // is what releases it on every runtime; a half-read body never goes back to the pool).
            if (declaredLength(headers) > limit) {
              return Effect.suspend(() => {
                response.body?.cancel().catch(() => {})
                abort()
                return Effect.fail(new UpstreamBodyTooLarge({ limit }))
              })
            }
            return Effect.flatMap(
              Effect.tryPromise({
                try: (signal) => {
                  signal.addEventListener("abort", abort, { once: true })
                  const body = response.body
                  if (body === null) return Promise.resolve(EMPTY)
                  // A declared length within the limit of a body fetch does not decompress (it is
                  // exactly that long): the runtime's one-go read, cheaper than a reader per chunk.
                  const encoding = headers["content-encoding"]
                  if (declaredLength(headers) <= limit && (encoding === undefined || encoding === "identity"))
                    return response.bytes()
                  const reader = body.getReader()
                  return readAtMost(() => reader.read().then((r) => (r.done ? undefined : r.value)), limit).then(
                    (bytes) => {
                      if (bytes === undefined) {
                        reader.cancel().catch(() => {})
                        abort()
                      }
                      return bytes
                    }
                  )
                },
                catch: readFailed
              }),
              capped(limit)
            )
          },
          reader: () => {
            const body = response.body
            if (body === null) return EMPTY_READER
            const reader = body.getReader()
            return {
              read: () => reader.read().then((r) => (r.done ? undefined : r.value)),
              cancel: () => {
                reader.cancel().catch(() => {})
              }
            }
          }
        }
      }
    )
  }
})

export class UpstreamClients extends Context.Service<UpstreamClients, UpstreamClientsShape>()(
  "llmgate/UpstreamClients"
) {
  /**
   * Every provider shares the runtime's `fetch` (Bun and Deno pool connections per origin
   * themselves); fetch exposes no connect phase, so `timeout.connect` is folded into `timeout.request`.
   */
  static readonly layerFetch = (fetchFn: typeof globalThis.fetch = globalThis.fetch): Layer.Layer<UpstreamClients> => {
    const client = fetchClient(fetchFn)
    return Layer.succeed(
      UpstreamClients,
      UpstreamClients.of({
        get: () => Effect.succeed(client),
        retain: () => Effect.void,
        decodesBodies: true,
        enforcesConnectTimeout: false
      })
    )
  }
}
