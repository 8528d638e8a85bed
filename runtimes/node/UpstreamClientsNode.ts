/**
 * Node's upstream clients: one undici Agent per provider (its own keep-alive pool per origin and its
 * own connect timeout), called through undici's `request` API, the leanest client Node has: no
 * WHATWG Request/Response or header objects per call. Undici's own header/body timeouts are off:
 * the core enforces `timeout.request` and `timeout.idle` itself, on every runtime alike.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as FileSystem from "effect/FileSystem"
import { Agent } from "undici"
import type { IncomingHttpHeaders } from "undici/types/header.d.ts"
import {
  type UpstreamClient,
  UpstreamClients,
  UpstreamFailure,
  type UpstreamRequest,
  type UpstreamResponse
} from "../../src/providers/UpstreamClients.ts"

/** What a reload needs from the Node platform. */
export type Services = UpstreamClients | FileSystem.FileSystem

const failure = (what: string) => (cause: unknown): UpstreamFailure =>
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

const makeClient = (agent: Agent): UpstreamClient => {
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
          try: (signal) => agent.request({ origin, path, method: "POST", headers: request.headers, body: request.body, signal }),
          catch: sendFailed
        }),
        ({ statusCode, headers, body }): UpstreamResponse => ({
          status: statusCode,
          headers: headersOf(headers),
          bytes: Effect.tryPromise({
            try: (signal) => {
              // A read abandoned (timeout, client gone) must free the connection.
              signal.addEventListener("abort", () => body.destroy(), { once: true })
              return body.bytes()
            },
            catch: readFailed
          }),
          reader: () => {
            const iterator = body[Symbol.asyncIterator]()
            return {
              read: () => iterator.next().then((r) => r.done === true ? undefined : r.value as Uint8Array),
              // destroy(), not the iterator's return(): that waits for a pending read, so a stalled
              // upstream would never be let go.
              cancel: () => {
                body.destroy()
              }
            }
          }
        })
      )
    }
  }
}

export const layer: Layer.Layer<UpstreamClients> = Layer.effect(
  UpstreamClients,
  Effect.gen(function*() {
    const agents = new Map<string, { readonly agent: Agent; readonly client: UpstreamClient }>()
    // Destroying an agent can wait on a socket whose response body a client abandoned: bounded.
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => Promise.all([...agents.values()].map(({ agent }) => agent.destroy().catch(() => {})))).pipe(
        Effect.timeoutOption(1_000),
        Effect.asVoid
      ))
    const get = (options: { readonly provider: string; readonly connectTimeoutMs: number }) =>
      Effect.sync(() => {
        const key = `${options.provider}\u0000${options.connectTimeoutMs}`
        const found = agents.get(key)
        if (found !== undefined) return found.client
        const agent = new Agent({
          connect: { timeout: options.connectTimeoutMs },
          headersTimeout: 0,
          bodyTimeout: 0,
          keepAliveTimeout: 30_000,
          keepAliveMaxTimeout: 600_000,
          pipelining: 1
        })
        const client = makeClient(agent)
        agents.set(key, { agent, client })
        return client
      })
    return UpstreamClients.of({ get, decodesBodies: false, enforcesConnectTimeout: true })
  })
)
