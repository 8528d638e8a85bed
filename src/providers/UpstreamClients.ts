/**
 * The upstream port: how providers send a request to an HTTP API. One client per provider, so each
 * provider has its own keep-alive connection pool (and, where the runtime's client supports it, its
 * own connect timeout). The contract is deliberately small (a POST with bytes or a streamed upload
 * in, or a GET or DELETE, status, headers
 * and a body as bytes or as a stream out) so every runtime can implement it with its fastest client
 * and nothing is adapted per request: Node uses undici's pool API (runtimes/node), Bun and Deno
 * their native fetch (`layerFetch` below).
 *
 * A provider's connection settings (`proxy`, `tls`, `keep_alive`) travel in the client options;
 * `upstreamConnection` resolves them against the process's proxy variables (config/ProxyEnvironment.ts,
 * one meaning on every runtime) into the connection a runtime makes, and clients are pooled per
 * distinct connection. A provider without settings, in an environment without proxy variables,
 * gets the very client it got before they existed.
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
import type { ResolvedConnection } from "../config/Config.ts"
import type { Env } from "../config/interpolate.ts"
import { environmentProxy, namesProxy, setsNoProxy } from "../config/ProxyEnvironment.ts"
import { readAtMost } from "../domain/BodyCollector.ts"
import type { ChunkReader } from "../domain/ChunkReader.ts"
import type { StreamedBody } from "../domain/Upload.ts"

/** The request could not be sent, or its response could not be read: a transport failure. */
export class UpstreamFailure extends Schema.TaggedError<UpstreamFailure>()("UpstreamFailure", {
  message: Schema.String
}) {}

/** A body read whole was larger than the cap it was read with; the response was let go. */
export class UpstreamBodyTooLarge extends Schema.TaggedError<UpstreamBodyTooLarge>()("UpstreamBodyTooLarge", {
  limit: Schema.Number
}) {}

/** The methods providers send: POST (the default) with a body, GET and DELETE (files, batches) without. */
export type UpstreamMethod = "GET" | "POST" | "DELETE"

export interface UpstreamRequest {
  /** POST when absent. */
  readonly method?: UpstreamMethod | undefined
  /** Absolute URL. */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /**
   * Sent with a POST only: bytes, or an upload streamed as it is read (with `content-length` when
   * its length is known, else chunked). A streamed body's reader failing aborts the request.
   */
  readonly body: Uint8Array | StreamedBody
}

/** A streamed body as the async iterable undici sends; the reader is let go however it ends. */
export async function* chunksOf(reader: ChunkReader): AsyncGenerator<Uint8Array> {
  try {
    for (;;) {
      const chunk = await reader.read()
      if (chunk === undefined) return
      yield chunk
    }
  } finally {
    reader.cancel()
  }
}

/** A streamed body as the ReadableStream fetch sends, pulled one chunk at a time (nothing read ahead). */
export const readableOf = (reader: ChunkReader): ReadableStream<Uint8Array> =>
  new ReadableStream<Uint8Array>(
    {
      pull: (controller) =>
        reader.read().then(
          (chunk) => (chunk === undefined ? controller.close() : controller.enqueue(chunk)),
          (cause: unknown) => controller.error(cause)
        ),
      cancel: () => reader.cancel()
    },
    { highWaterMark: 0 }
  )

/** The headers of `request`, with the `content-length` of a streamed body of known length. */
export const headersWithLength = (request: UpstreamRequest): Readonly<Record<string, string>> =>
  request.body instanceof Uint8Array || request.body.length === undefined
    ? request.headers
    : { ...request.headers, "content-length": String(request.body.length) }

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
  /**
   * How the provider connects, with the URL it calls (where the proxy variables are matched).
   * Absent: directly, with the runtime's default TLS and keep-alive.
   */
  readonly connection?: (ResolvedConnection & { readonly baseUrl: string }) | undefined
}

/**
 * A connection as a runtime makes it: the provider's settings with its proxy chosen (the
 * configured one, or what the proxy variables say for its URL). Runtimes pool clients per distinct
 * connection (`connectionKey`).
 */
export interface UpstreamConnection {
  readonly connectTimeoutMs: number
  /** The proxy to connect through (an http(s) URL, credentials included); undefined: direct. */
  readonly proxy: string | undefined
  /** false: any certificate is accepted. */
  readonly verify: boolean
  /** A PEM bundle to trust besides the runtime's roots. */
  readonly caFile: string | undefined
  /** false: a new connection per request. */
  readonly keepAlive: boolean
  /**
   * Whether the environment names a proxy (HTTP(S)_PROXY or ALL_PROXY, either case). A client that
   * reads them itself (Bun's and Deno's fetch) must then be told `proxy`, even when it is direct.
   */
  readonly environmentProxies: boolean
  /** Whether the environment sets NO_PROXY, which Deno's fetch applies even to a proxy it is given. */
  readonly environmentNoProxy: boolean
  /** A proxy variable that would apply but names no http(s) proxy (the connection goes direct): said once. */
  readonly invalidVariable: string | undefined
}

/** The connection `options` asks for, in an environment `env`. */
export const upstreamConnection = (options: UpstreamClientOptions, env: Env): UpstreamConnection => {
  const settings = options.connection
  const environmentProxies = namesProxy(env)
  let proxy: string | undefined
  let invalidVariable: string | undefined
  if (settings?.proxy._tag === "Url") proxy = settings.proxy.url
  else if (settings !== undefined && settings.proxy._tag === "Environment" && environmentProxies) {
    const chosen = environmentProxy(settings.baseUrl, env)
    if (chosen._tag === "Proxy") proxy = chosen.url
    else if (chosen._tag === "Invalid") invalidVariable = chosen.variable
  }
  return {
    connectTimeoutMs: options.connectTimeoutMs,
    proxy,
    verify: settings?.verify ?? true,
    caFile: settings?.caFile,
    keepAlive: settings?.keepAlive ?? true,
    environmentProxies,
    environmentNoProxy: setsNoProxy(env),
    invalidVariable
  }
}

/** Equal for connections a pooled client can serve alike. */
export const connectionKey = (c: UpstreamConnection): string =>
  JSON.stringify([c.connectTimeoutMs, c.proxy ?? null, c.verify, c.caFile ?? null, c.keepAlive])

/** Direct, with the default TLS and keep-alive: what a runtime's client does with no settings at all. */
export const isDefaultConnection = (c: UpstreamConnection): boolean =>
  c.proxy === undefined && c.verify && c.caFile === undefined && c.keepAlive

/** Says that a proxy variable was not understood, when one was not (once per client made). */
export const warnInvalidProxy = (options: UpstreamClientOptions, c: UpstreamConnection): Effect.Effect<void> =>
  c.invalidVariable === undefined
    ? Effect.void
    : Effect.logWarning(
        `provider ${options.provider}: ${c.invalidVariable} is not an http(s) proxy URL; its requests go direct`
      )

/**
 * A runtime's client for one connection its shared fetch cannot make. `close` lets its idle
 * connections go; requests in flight (their bodies included) finish. Making one may throw (a CA
 * bundle that went away since the config was loaded): the connection's requests then fail, saying why.
 */
export interface OpenedClient {
  readonly client: UpstreamClient
  readonly close: () => void
  /** What the runtime could not do quite as configured, logged once for the provider. */
  readonly warning?: string | undefined
}

/** What a fetch-based runtime (Bun, Deno) gives `UpstreamClients.layerFetch`. */
export interface FetchConnections {
  /** The process's environment (its proxy variables). */
  readonly env: Env
  /** The shared client of default connections while no variable names a proxy (default: globalThis.fetch). */
  readonly fetch?: FetchFunction
  /** A client for any other connection. */
  readonly open: (connection: UpstreamConnection) => OpenedClient
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

/** The part of a Web `fetch` the upstream clients call (a runtime's fetch, or one bound to a pool of its own). */
export type FetchFunction = (url: string, init: RequestInit) => Promise<Response>

/** An upstream client over a Web `fetch` (the runtime's own pooled, keep-alive client). */
export const fetchClient = (fetchFn: FetchFunction): UpstreamClient => ({
  post: (request) => {
    // One controller for the whole exchange: aborting it also ends a body read that was abandoned
    // (a timeout, the client gone), which frees the connection.
    const controller = new AbortController()
    const abort = () => controller.abort()
    return Effect.map(
      Effect.tryPromise({
        try: (signal) => {
          signal.addEventListener("abort", abort, { once: true })
          const post = request.method === undefined || request.method === "POST"
          const bytes = request.body instanceof Uint8Array
          const init: RequestInit & { duplex?: "half" } = {
            method: request.method ?? "POST",
            headers: headersWithLength(request),
            body: !post
              ? null
              : request.body instanceof Uint8Array
                ? (request.body as Uint8Array<ArrayBuffer>)
                : readableOf(request.body.reader),
            signal: controller.signal,
            redirect: "manual"
          }
          // A stream sent while the answer may already come (the only mode fetch has for one).
          if (post && !bytes) init.duplex = "half"
          return fetchFn(request.url, init)
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

/** A pooled client and how to retire it once no config uses its connection. */
interface Pooled {
  readonly client: UpstreamClient
  readonly retire: () => void
  readonly warning: string | undefined
}

/**
 * The client of one connection over `open`'s. Once retired (a reload stopped using the connection)
 * its idle connections are let go, and a request an older snapshot still makes with it gets a
 * client of its own, let go as soon as its answer has arrived.
 */
const pooled = (connection: UpstreamConnection, open: FetchConnections["open"]): Pooled => {
  const opened = open(connection)
  const cannotOpen = failure("cannot connect")
  let retired = false
  return {
    client: {
      post: (request) => {
        if (!retired) return opened.client.post(request)
        return Effect.flatMap(Effect.try({ try: () => open(connection), catch: cannotOpen }), (oneOff) =>
          Effect.ensuring(oneOff.client.post(request), Effect.sync(oneOff.close))
        )
      }
    },
    retire: () => {
      retired = true
      opened.close()
    },
    warning: opened.warning
  }
}

export class UpstreamClients extends Context.Service<UpstreamClients, UpstreamClientsShape>()(
  "llmgate/UpstreamClients"
) {
  /**
   * Fetch-based runtimes (Bun, Deno). Providers with default connections share the runtime's
   * `fetch` (which pools connections per origin itself) while no variable names a proxy; every other
   * connection gets the client `open` makes for it, shared by the providers connecting alike and
   * retired once no config uses it. Fetch exposes no connect phase, so `timeout.connect` is folded
   * into `timeout.request`.
   *
   * Without `runtime` (one-off commands): every provider shares `globalThis.fetch` as it is, and
   * connection settings are not applied.
   */
  static readonly layerFetch = (runtime?: FetchConnections): Layer.Layer<UpstreamClients> => {
    if (runtime === undefined) {
      const client = fetchClient(globalThis.fetch)
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
    return Layer.effect(
      UpstreamClients,
      Effect.gen(function* () {
        const shared = fetchClient(runtime.fetch ?? globalThis.fetch)
        const entries = new Map<string, Pooled>()
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            for (const entry of entries.values()) entry.retire()
            entries.clear()
          })
        )
        const get = (options: UpstreamClientOptions): Effect.Effect<UpstreamClient> =>
          Effect.suspend(() => {
            const connection = upstreamConnection(options, runtime.env)
            if (isDefaultConnection(connection) && !connection.environmentProxies) return Effect.succeed(shared)
            const key = connectionKey(connection)
            const found = entries.get(key)
            if (found !== undefined) return Effect.succeed(found.client)
            let entry: Pooled
            try {
              entry = pooled(connection, runtime.open)
            } catch (cause) {
              // Not pooled: the next snapshot that uses the connection tries again.
              const error = failure(`provider ${options.provider}: cannot connect`)(cause)
              const failed = Effect.fail(error)
              return Effect.as(Effect.logError(error.message), { post: () => failed })
            }
            entries.set(key, entry)
            const warning =
              entry.warning === undefined
                ? Effect.void
                : Effect.logWarning(`provider ${options.provider}: ${entry.warning}`)
            return Effect.as(Effect.andThen(warnInvalidProxy(options, connection), warning), entry.client)
          })
        const retain = (clients: ReadonlyArray<UpstreamClientOptions>) =>
          Effect.sync(() => {
            const kept = new Set(clients.map((options) => connectionKey(upstreamConnection(options, runtime.env))))
            for (const [key, entry] of entries) {
              if (kept.has(key)) continue
              entries.delete(key)
              entry.retire()
            }
          })
        return UpstreamClients.of({ get, retain, decodesBodies: true, enforcesConnectTimeout: false })
      })
    )
  }
}
