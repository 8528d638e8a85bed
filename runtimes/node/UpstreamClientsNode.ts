/**
 * Node's upstream clients: one undici dispatcher per provider (its own keep-alive pool per origin
 * and its own connect timeout), made for the provider's connection (runtimes/common/UndiciUpstream.ts:
 * its proxy, configured or from the proxy variables as the core reads them, its TLS settings and
 * keep-alive), called through undici's `dispatch` API (`exchange`).
 *
 * A dispatcher lives as long as configs use its provider as it is: when a reload removes the
 * provider (or changes its connect timeout or connection, which needs another dispatcher), the old
 * one is closed once its requests in flight are over, so removed providers leave no pool and no
 * idle keep-alive sockets behind.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as FileSystem from "effect/FileSystem"
import process from "node:process"
import type { Dispatcher } from "undici"
import {
  connectionKey,
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamClients,
  type UpstreamConnection,
  upstreamConnection,
  type UpstreamRequest,
  warnInvalidProxy
} from "../../src/index.ts"
import { describeError, dispatcherFor, exchange, failingClient, targets } from "../common/UndiciUpstream.ts"

/** What a reload needs from the Node platform. */
export type Services = UpstreamClients | FileSystem.FileSystem

/**
 * Every dispatcher alive, so the layer's end can destroy them: those of current providers, those
 * of removed ones still finishing their requests, and one-off ones of requests made on a removed
 * provider. A dispatcher leaves the set once it is closed.
 */
type Live = Set<Dispatcher>

const closeGracefully = (live: Live, dispatcher: Dispatcher): void => {
  // Graceful: requests in flight (a stream still relayed) finish first; new ones are refused.
  dispatcher
    .close()
    .catch(() => {})
    .finally(() => live.delete(dispatcher))
}

interface Entry {
  readonly client: UpstreamClient
  /** Closes the pool once its requests are over (a reload stopped using it). */
  readonly retire: () => void
}

/**
 * The client of one provider over its pool, `dispatcher`. Once a reload removed the provider the
 * pool is closed, and a request an old snapshot still makes with this client (a retry, a request
 * that took the snapshot just before the reload) gets a one-off dispatcher, closed as soon as that
 * request is over.
 */
const makeClient = (live: Live, connection: UpstreamConnection, dispatcher: Dispatcher): Entry => {
  const targetOf = targets()
  let retired = false
  return {
    client: {
      post: (request: UpstreamRequest) => {
        const target = targetOf(request.url)
        return Effect.suspend(() => {
          if (!retired) return exchange(dispatcher, target, request)
          const oneOff = dispatcherFor(connection)
          live.add(oneOff)
          const sent = exchange(oneOff, target, request)
          // Closed once its one request is over (graceful: it waits for it).
          return Effect.ensuring(
            sent,
            Effect.sync(() => closeGracefully(live, oneOff))
          )
        })
      }
    },
    retire: () => {
      retired = true
      closeGracefully(live, dispatcher)
    }
  }
}

const keyOf = (options: UpstreamClientOptions, connection: UpstreamConnection): string =>
  `${options.provider}\u0000${connectionKey(connection)}`

export const layer: Layer.Layer<UpstreamClients> = Layer.effect(
  UpstreamClients,
  Effect.gen(function* () {
    // The proxy variables as this process has them (workers inherit them).
    const env = { ...process.env }
    const entries = new Map<string, Entry>()
    const live: Live = new Set()
    // Destroying a dispatcher can wait on a socket whose response body a client abandoned: bounded.
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => Promise.all([...live].map((d) => d.destroy().catch(() => {})))).pipe(
        Effect.timeoutOption(1_000),
        Effect.asVoid
      )
    )
    const get = (options: UpstreamClientOptions) =>
      Effect.suspend(() => {
        const connection = upstreamConnection(options, env)
        const key = keyOf(options, connection)
        const found = entries.get(key)
        if (found !== undefined) return Effect.succeed(found.client)
        let dispatcher: Dispatcher
        try {
          dispatcher = dispatcherFor(connection)
        } catch (cause) {
          // The CA bundle went away since the config was loaded, say: every request fails, saying
          // why. Not pooled: the next snapshot that uses the provider tries again.
          const message = `provider ${options.provider}: cannot connect: ${describeError(cause)}`
          return Effect.as(Effect.logError(message), failingClient(message))
        }
        live.add(dispatcher)
        const entry = makeClient(live, connection, dispatcher)
        entries.set(key, entry)
        return Effect.as(warnInvalidProxy(options, connection), entry.client)
      })
    const retain = (clients: ReadonlyArray<UpstreamClientOptions>) =>
      Effect.sync(() => {
        const kept = new Set(clients.map((options) => keyOf(options, upstreamConnection(options, env))))
        for (const [key, entry] of entries) {
          if (kept.has(key)) continue
          entries.delete(key)
          entry.retire()
        }
      })
    return UpstreamClients.of({ get, retain, decodesBodies: false, enforcesConnectTimeout: true })
  })
)
