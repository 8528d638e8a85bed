/**
 * Node's upstream clients: one undici Agent per provider, so each provider has its own keep-alive
 * pool and its own connect timeout. Undici's own header/body timeouts are off: the core enforces
 * `timeout.request` and `timeout.idle` itself, on every runtime alike.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import type * as HttpClient from "effect/http/HttpClient"
import { UpstreamClients } from "../../src/providers/UpstreamClients.ts"

/** What a reload needs from the Node platform. */
export type Services = UpstreamClients | FileSystem.FileSystem

export const layer: Layer.Layer<UpstreamClients> = Layer.effect(
  UpstreamClients,
  Effect.gen(function*() {
    // The pools live in a scope of their own, closed at shutdown with a bound: destroying an undici
    // agent can wait on a socket whose response body a client abandoned.
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() =>
      Effect.forkDetach(Scope.close(scope, Exit.void)).pipe(
        Effect.flatMap((closing) => Fiber.await(closing).pipe(Effect.timeoutOption(1_000))),
        Effect.asVoid
      ))
    const clients = new Map<string, HttpClient.HttpClient>()
    const get = Effect.fnUntraced(function*(options: { readonly provider: string; readonly connectTimeoutMs: number }) {
      const key = `${options.provider}\u0000${options.connectTimeoutMs}`
      const found = clients.get(key)
      if (found !== undefined) return found
      const dispatcher = yield* NodeHttpClient.makeDispatcherOptions({
        connect: { timeout: options.connectTimeoutMs },
        headersTimeout: 0,
        bodyTimeout: 0,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000
      }).pipe(Scope.provide(scope))
      const client = yield* NodeHttpClient.makeUndici.pipe(Effect.provideService(NodeHttpClient.Dispatcher, dispatcher))
      clients.set(key, client)
      return client
    })
    return UpstreamClients.of({ get, decodesBodies: false, enforcesConnectTimeout: true })
  })
)
