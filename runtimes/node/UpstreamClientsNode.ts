/**
 * Node's upstream clients: one undici Agent per provider (its own keep-alive pool per origin and its
 * own connect timeout), called through undici's `request` API, the leanest client Node has: no
 * WHATWG Request/Response or header objects per call. Undici's own header/body timeouts are off:
 * the core enforces `timeout.request` and `timeout.idle` itself, on every runtime alike.
 *
 * An Agent lives as long as configs use its provider: when a reload removes the provider (or
 * changes its connect timeout, which needs another Agent), the Agent is closed once its requests in
 * flight are over, so removed providers leave no pool and no idle keep-alive sockets behind.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as FileSystem from "effect/FileSystem"
import { Agent } from "undici"
import type { IncomingHttpHeaders } from "undici/types/header.d.ts"
import {
  capped,
  declaredLength,
  readAtMost,
  UpstreamBodyTooLarge,
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamClients,
  UpstreamFailure,
  type UpstreamRequest,
  type UpstreamResponse
} from "../../src/index.ts"

/** What a reload needs from the Node platform. */
export type Services = UpstreamClients | FileSystem.FileSystem

const failure =
  (what: string) =>
  (cause: unknown): UpstreamFailure =>
    new UpstreamFailure({ message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}` })
const sendFailed = failure("request failed")
const readFailed = failure("reading the response failed")

const headersOf = (headers: IncomingHttpHeaders): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined) out[name] = typeof value === "string" ? value : value.join(", ")
  }
  return out
}

interface Target {
  readonly origin: string
  readonly path: string
}

const newAgent = (connectTimeoutMs: number): Agent =>
  new Agent({
    connect: { timeout: connectTimeoutMs },
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    pipelining: 1
  })

/**
 * Every Agent alive, so the layer's end can destroy them: agents of current providers, agents of
 * removed ones still finishing their requests, and one-off agents of requests made on a removed
 * provider. An agent leaves the set once it is closed.
 */
type Live = Set<Agent>

const closeGracefully = (live: Live, agent: Agent): void => {
  // Graceful: requests in flight (a stream still relayed) finish first; new ones are refused.
  agent
    .close()
    .catch(() => {})
    .finally(() => live.delete(agent))
}

interface Entry {
  readonly agent: Agent
  readonly client: UpstreamClient
}

/**
 * The client of one provider over its pool, `agent`. Once a reload removed the provider the pool
 * is closed, and a request an old snapshot still makes with this client (a retry, a request that
 * took the snapshot just before the reload) gets a one-off agent, closed as soon as that request
 * is over.
 */
const makeClient = (live: Live, connectTimeoutMs: number, agent: Agent): UpstreamClient => {
  // Providers call a handful of fixed URLs: split each once.
  const targets = new Map<string, Target>()
  const targetOf = (url: string): Target => {
    let found = targets.get(url)
    if (found === undefined) {
      const u = new URL(url)
      found = { origin: u.origin, path: u.pathname + u.search }
      targets.set(url, found)
    }
    return found
  }
  return {
    post: (request: UpstreamRequest) => {
      const { origin, path } = targetOf(request.url)
      return Effect.map(
        Effect.tryPromise({
          try: (signal) => {
            if (!agent.closed) {
              return agent.request({
                origin,
                path,
                method: "POST",
                headers: request.headers,
                body: request.body,
                signal
              })
            }
            const oneOff = newAgent(connectTimeoutMs)
            live.add(oneOff)
            const sent = oneOff.request({
              origin,
              path,
              method: "POST",
              headers: request.headers,
              body: request.body,
              signal
            })
            closeGracefully(live, oneOff)
            return sent
          },
          catch: sendFailed
        }),
        ({ statusCode, headers: raw, body }): UpstreamResponse => {
          const headers = headersOf(raw)
          return {
            status: statusCode,
            headers,
            bytes: (limit) => {
              // Too large: destroyed unread, which closes the connection (it never goes back to the
              // pool half-read).
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
                    // A declared length within the limit (undici reads exactly that much): undici's
                    // own one-go read, much cheaper per request than iterating the chunks.
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
      )
    }
  }
}

const keyOf = (options: UpstreamClientOptions): string => `${options.provider}\u0000${options.connectTimeoutMs}`

export const layer: Layer.Layer<UpstreamClients> = Layer.effect(
  UpstreamClients,
  Effect.gen(function* () {
    const entries = new Map<string, Entry>()
    const live: Live = new Set()
    // Destroying an agent can wait on a socket whose response body a client abandoned: bounded.
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => Promise.all([...live].map((agent) => agent.destroy().catch(() => {})))).pipe(
        Effect.timeoutOption(1_000),
        Effect.asVoid
      )
    )
    const get = (options: UpstreamClientOptions) =>
      Effect.sync(() => {
        const key = keyOf(options)
        const found = entries.get(key)
        if (found !== undefined) return found.client
        const agent = newAgent(options.connectTimeoutMs)
        live.add(agent)
        const client = makeClient(live, options.connectTimeoutMs, agent)
        entries.set(key, { agent, client })
        return client
      })
    const retain = (clients: ReadonlyArray<UpstreamClientOptions>) =>
      Effect.sync(() => {
        const kept = new Set(clients.map(keyOf))
        for (const [key, entry] of entries) {
          if (kept.has(key)) continue
          entries.delete(key)
          closeGracefully(live, entry.agent)
        }
      })
    return UpstreamClients.of({ get, retain, decodesBodies: false, enforcesConnectTimeout: true })
  })
)
