/**
 * GatewayState: the current config snapshot (config, providers, router, authenticator) and the
 * process lifecycle. The request path reads `current()` once per request, synchronously; a config
 * reload builds a new snapshot and swaps it in one assignment, so in-flight requests finish on the
 * snapshot they started with.
 */
import { Context, Effect, Layer, Redacted } from "effect"
import type { HttpClient } from "effect/http"
import { makeAuthenticator, type Principal } from "./auth/Auth.ts"
import type { ResolvedConfig } from "./config/Config.ts"
import type { GatewayError } from "./domain/GatewayError.ts"
import type { Provider } from "./providers/Provider.ts"
import { makeProviders } from "./providers/Registry.ts"
import { makeRouter, type Router } from "./routing/Router.ts"

export interface Snapshot {
  readonly config: ResolvedConfig
  readonly providers: ReadonlyMap<string, Provider>
  readonly router: Router
  readonly authenticate: (authorization: string | undefined) => Principal | GatewayError
}

export interface GatewayStateShape {
  readonly current: () => Snapshot
  /** Replaces the snapshot (config reload). */
  readonly swap: (config: ResolvedConfig) => Effect.Effect<void>
  /** True once shutdown began: readiness fails so load balancers stop sending traffic. */
  readonly isDraining: () => boolean
  readonly startDraining: Effect.Effect<void>
  /** Unix seconds when the gateway started (the `created` of /v1/models entries). */
  readonly startedAt: number
}

export class GatewayState extends Context.Service<GatewayState, GatewayStateShape>()("llmgate/GatewayState") {
  /**
   * `config.masterKey` must be set (startup generates one when the file has none).
   */
  static readonly make = Effect.fnUntraced(function*(config: ResolvedConfig & { readonly masterKey: Redacted.Redacted<string> }) {
    const build = Effect.fnUntraced(function*(next: ResolvedConfig) {
      const providers = yield* makeProviders(next)
      const masterKey = next.masterKey ?? config.masterKey
      return {
        config: { ...next, masterKey },
        providers,
        router: makeRouter(next, providers),
        authenticate: makeAuthenticator(masterKey)
      } satisfies Snapshot
    })
    let snapshot = yield* build(config)
    let draining = false
    const context = yield* Effect.context<HttpClient.HttpClient>()
    return GatewayState.of({
      current: () => snapshot,
      swap: (next) => build(next).pipe(Effect.provide(context), Effect.map((s) => { snapshot = s })),
      isDraining: () => draining,
      startDraining: Effect.sync(() => { draining = true }),
      startedAt: Math.floor(Date.now() / 1000)
    })
  })

  static readonly layer = (config: ResolvedConfig & { readonly masterKey: Redacted.Redacted<string> }) =>
    Layer.effect(GatewayState, GatewayState.make(config))
}

/** What the process runs on, reported by /health. Provided by each runtime entry. */
export class RuntimeInfo extends Context.Service<RuntimeInfo, {
  readonly name: "node" | "bun" | "deno"
  readonly version: string
}>()("llmgate/RuntimeInfo") {}
