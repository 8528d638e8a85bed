/**
 * GatewayState: a worker's current config snapshot (its version, config, providers, router,
 * dispatcher, authenticator with the virtual keys by hash, limits, prices), the routing state that outlives
 * snapshots (shared by every worker: routing/RoutingState.ts), gateway events, and the worker's
 * lifecycle. The request path reads `current()` once per request, synchronously; a new snapshot
 * from the owner is built and swapped in with one assignment, so in-flight requests finish on the
 * snapshot they started with.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Redacted from "effect/Redacted"
import { makeAuthenticator, type Principal } from "./auth/Auth.ts"
import type { ResolvedConfig } from "./config/Config.ts"
import { type CounterScope, counterKey } from "./limits/CounterSlots.ts"
import { admitIp, clientIp, IP_TABLE_KEY, IP_TABLE_SLOTS } from "./limits/IpRateLimit.ts"
import {
  type LimiterStore,
  makeMemoryStore,
  makeRateLimiter,
  type RateLimiter,
  rateLimited
} from "./limits/RateLimiter.ts"
import { localSlot, type Slot } from "./state/Slots.ts"
import type { GatewayError } from "./domain/GatewayError.ts"
import type { LimitRefusal } from "./limits/RateLimits.ts"
import type { Provider } from "./providers/Provider.ts"
import { makeProviders } from "./providers/Registry.ts"
import type { UpstreamClients } from "./providers/UpstreamClients.ts"
import type { BreakerTransition } from "./routing/CircuitBreaker.ts"
import { type Dispatcher, makeDispatcher } from "./routing/Dispatch.ts"
import { makeRouter, type Router } from "./routing/Router.ts"
import type { RoutingState } from "./routing/RoutingState.ts"
import type { HealthRegistry } from "./routing/TargetHealth.ts"
import { makePriceBook, type PriceBook } from "./usage/PriceBook.ts"

export interface Snapshot {
  /** The owner's number for this config (1 at startup, +1 per change applied). */
  readonly version: number
  readonly config: ResolvedConfig
  readonly providers: ReadonlyMap<string, Provider>
  readonly router: Router
  readonly dispatcher: Dispatcher
  readonly authenticate: (authorization: string | undefined) => Principal | GatewayError
  /** The keys' and projects' rate limits (limits/RateLimiter.ts). */
  readonly limiter: RateLimiter
  /**
   * `server.ip_rate_limit`: takes one request from the client's bucket (peer address and
   * `X-Forwarded-For`), or answers the refusal; undefined when not configured.
   */
  readonly admitIp:
    | ((remoteAddress: string | undefined, forwardedFor: string | undefined) => LimitRefusal | undefined)
    | undefined
  /** The prices of this config's models (usage/PriceBook.ts): a usage record's cost. */
  readonly priceBook: PriceBook
}

/** Events for observers (metrics, audit): breaker transitions for now. */
export type GatewayEvent = { readonly _tag: "BreakerTransition"; readonly transition: BreakerTransition }

export interface GatewayStateShape {
  readonly current: () => Snapshot
  /** Replaces the snapshot (config reload); `routing` already has the new version's layout. */
  readonly swap: (config: ResolvedConfig, version: number) => Effect.Effect<void>
  /** Live target health (breakers, in-flight, latency), shared by every snapshot and every worker. */
  readonly health: HealthRegistry
  readonly events: PubSub.PubSub<GatewayEvent>
  /** True once shutdown began: readiness fails so load balancers stop sending traffic. */
  readonly isDraining: () => boolean
  readonly startDraining: Effect.Effect<void>
  /** Unix seconds when the gateway started (the `created` of /v1/models entries). */
  readonly startedAt: number
  /** The shared counter slot of a key or project (limits/CounterSlots.ts); undefined when the layout has none. */
  readonly counters: (scope: CounterScope, id: string) => Slot | undefined
}

const logTransition = (t: BreakerTransition): Effect.Effect<void> => {
  const message = `circuit breaker ${t.target}: ${t.from} → ${t.to}`
  const annotated = { target: t.target, failure_rate: Number(t.failureRate.toFixed(3)) }
  return t.to === "open" ? Effect.logWarning(message, annotated) : Effect.logInfo(message, annotated)
}

export class GatewayState extends Context.Service<GatewayState, GatewayStateShape>()("llmgate/GatewayState") {
  /** `config.masterKey` must be set (startup generates one when the file has none). */
  static readonly make = Effect.fnUntraced(function* (
    config: ResolvedConfig & { readonly masterKey: Redacted.Redacted<string> },
    version: number,
    routing: RoutingState,
    slotsOf: (key: string) => ReadonlyArray<Slot> | undefined = () => undefined,
    /** Where key and project limits are counted: Redis when configured (limits/RedisLimiterStore.ts), else the shared slots. */
    limiterStore?: LimiterStore
  ) {
    const health = routing.health
    // Counters of this worker alone, where the layout has no shared slot (tests, or a gateway run
    // without an owner): kept across snapshots like the shared ones.
    const localSlots = new Map<string, Array<Slot>>()
    const slotsFor = (key: string, size: number): ReadonlyArray<Slot> => {
      const shared = slotsOf(key)
      if (shared !== undefined) return shared
      let local = localSlots.get(key)
      if (local === undefined) {
        local = Array.from({ length: size }, localSlot)
        localSlots.set(key, local)
      }
      return local
    }
    // With Redis the memory store is not used for keys and projects (one source of truth); the
    // per-IP limit below stays in this gateway's memory either way.
    const store = limiterStore ?? makeMemoryStore((scope, id) => slotsFor(counterKey(scope, id), 1)[0], Date.now)
    const events = yield* PubSub.sliding<GatewayEvent>(1024)
    const onTransitions = (transitions: ReadonlyArray<BreakerTransition>) =>
      Effect.forEach(
        transitions,
        (transition) =>
          Effect.andThen(
            logTransition(transition),
            PubSub.publish(events, { _tag: "BreakerTransition" as const, transition })
          ),
        { discard: true }
      )
    const build = Effect.fnUntraced(function* (next: ResolvedConfig, nextVersion: number) {
      const providers = yield* makeProviders(next)
      const masterKey = next.masterKey ?? config.masterKey
      const router = makeRouter(next, providers, Math.random, routing)
      return {
        version: nextVersion,
        config: { ...next, masterKey },
        providers,
        router,
        dispatcher: makeDispatcher(router, health, onTransitions, next.server.bounds),
        authenticate: makeAuthenticator(masterKey, next.tenancy),
        limiter: makeRateLimiter(next, store),
        admitIp: ipAdmission(next),
        priceBook: makePriceBook(next)
      } satisfies Snapshot
    })
    const ipAdmission = (next: ResolvedConfig): Snapshot["admitIp"] => {
      const settings = next.server.ipRateLimit
      if (settings === undefined) return undefined
      return (remoteAddress, forwardedFor) => {
        const ip = clientIp(remoteAddress, forwardedFor, settings.trusted)
        if (ip === undefined) return undefined
        const refusal = admitIp(slotsFor(IP_TABLE_KEY, IP_TABLE_SLOTS), ip, settings, Date.now())
        return refusal === undefined ? undefined : rateLimited(refusal)
      }
    }
    let snapshot = yield* build(config, version)
    let draining = false
    const context = yield* Effect.context<UpstreamClients>()
    return GatewayState.of({
      current: () => snapshot,
      swap: (next, nextVersion) =>
        build(next, nextVersion).pipe(
          Effect.provide(context),
          Effect.andThen((s) =>
            Effect.sync(() => {
              snapshot = s
            })
          )
        ),
      health,
      events,
      isDraining: () => draining,
      startDraining: Effect.sync(() => {
        draining = true
      }),
      startedAt: Math.floor(Date.now() / 1000),
      counters: (scope, id) => slotsOf(counterKey(scope, id))?.[0]
    })
  })

  static readonly layer = (
    config: ResolvedConfig & { readonly masterKey: Redacted.Redacted<string> },
    version: number,
    routing: RoutingState,
    slotsOf?: (key: string) => ReadonlyArray<Slot> | undefined
  ) => Layer.effect(GatewayState, GatewayState.make(config, version, routing, slotsOf))
}

/** One worker as /health reports it. */
export interface WorkerStatus {
  readonly id: number
  /** The config version it serves (0 while it starts). */
  readonly configVersion: number
}

/** What the gateway runs on, reported by /health. Provided by the worker (cluster/Worker.ts). */
export class RuntimeInfo extends Context.Service<
  RuntimeInfo,
  {
    readonly name: "node" | "bun" | "deno"
    readonly version: string
    /** This worker's place among the workers sharing the port. */
    readonly worker: { readonly id: number; readonly count: number }
    /** Every worker's config version, read from the owner's shared control memory. */
    readonly workers: () => ReadonlyArray<WorkerStatus>
  }
>()("llmgate/RuntimeInfo") {}
