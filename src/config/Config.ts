/**
 * The config file's schema (the public contract: later work extends it, never breaks it) and the
 * resolved, compiled form the request path reads. Decoding rejects unknown fields; cross-references
 * (unknown provider, duplicate names) are checked in `resolve` with the same path-named messages.
 */
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { BreakerSettings } from "../routing/CircuitBreaker.ts"
import type { StrategyName as StrategyNameType } from "../routing/Strategy.ts"
import { ByteSizeInput, DurationInput } from "./units.ts"

const Name = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/, { message: "expected a name of letters, digits and . _ : / @ -" })
)

export const ServerSection = Schema.Struct({
  host: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
  port: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 }))),
  body_limit: Schema.optional(ByteSizeInput),
  shutdown_timeout: Schema.optional(DurationInput)
})

export const ProviderTimeout = Schema.Struct({
  connect: Schema.optional(DurationInput),
  request: Schema.optional(DurationInput),
  idle: Schema.optional(DurationInput)
})

export const ProviderAuth = Schema.Union([
  Schema.Struct({ type: Schema.Literal("bearer"), token: Schema.String }),
  Schema.Struct({ type: Schema.Literal("basic"), username: Schema.String, password: Schema.String }),
  Schema.Struct({ type: Schema.Literal("header"), name: Schema.String.check(Schema.isMinLength(1)), value: Schema.String }),
  Schema.Struct({ type: Schema.Literal("none") })
])
export type ProviderAuth = typeof ProviderAuth.Type

export const HeaderOperation = Schema.Struct({
  op: Schema.Literals(["insert", "replace", "remove"]),
  key: Schema.String.check(Schema.isMinLength(1)),
  value: Schema.optional(Schema.String)
})
export type HeaderOperation = typeof HeaderOperation.Type

export const BreakerSection = Schema.Struct({
  failure_rate: Schema.optional(Schema.Number.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1))),
  min_requests: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  window: Schema.optional(DurationInput),
  cooldown: Schema.optional(DurationInput)
})

export const MockSettings = Schema.Struct({
  latency: Schema.optional(DurationInput),
  chunks: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10_000 }))),
  chunk_interval: Schema.optional(DurationInput),
  failure_rate: Schema.optional(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })))
})

export const ProviderKind = Schema.Literals(["openai", "mock"])
export type ProviderKind = typeof ProviderKind.Type

export const ProviderSection = Schema.Struct({
  name: Name,
  kind: ProviderKind,
  base_url: Schema.optional(Schema.String),
  api_key: Schema.optional(Schema.String),
  auth: Schema.optional(ProviderAuth),
  headers: Schema.optional(Schema.Union([Schema.Record(Schema.String, Schema.String), Schema.Array(HeaderOperation)])),
  timeout: Schema.optional(ProviderTimeout),
  breaker: Schema.optional(BreakerSection),
  mock: Schema.optional(MockSettings)
})

export const TargetSection = Schema.Struct({
  provider: Schema.String,
  model: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
  weight: Schema.optional(Schema.Number.check(Schema.isGreaterThan(0))),
  max_concurrency: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  queue: Schema.optional(Schema.Struct({
    size: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
    timeout: Schema.optional(DurationInput)
  }))
})

export const StrategyName = Schema.Literals(["round_robin", "weighted", "random", "least_busy", "latency", "failover"])

export const RetrySection = Schema.Struct({
  attempts: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 10 }))),
  backoff: Schema.optional(DurationInput),
  max_backoff: Schema.optional(DurationInput)
})

export const ModelSection = Schema.Struct({
  name: Schema.String.check(Schema.isMinLength(1)),
  strategy: Schema.optional(StrategyName),
  targets: Schema.Array(TargetSection).check(Schema.isMinLength(1)),
  retry: Schema.optional(RetrySection),
  fallbacks: Schema.optional(Schema.Array(Schema.String))
})

export const RouteSection = Schema.Struct({
  path: Schema.String.check(Schema.isPattern(/^\//, { message: "expected a path starting with /" })),
  model: Schema.String
})

export const ConfigFile = Schema.Struct({
  server: Schema.optional(ServerSection),
  master_key: Schema.optional(Schema.String),
  providers: Schema.Array(ProviderSection),
  models: Schema.Array(ModelSection),
  routes: Schema.optional(Schema.Array(RouteSection))
})
export type ConfigFile = typeof ConfigFile.Type

// ---- resolved form -------------------------------------------------------------------------

export const DEFAULT_HOST = "127.0.0.1"
export const DEFAULT_PORT = 4000
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
export const DEFAULT_QUEUE_TIMEOUT_MS = 30_000
export const DEFAULT_RETRY_BACKOFF_MS = 200
export const DEFAULT_RETRY_MAX_BACKOFF_MS = 5_000

export interface MockOptions {
  readonly latencyMs: number
  readonly chunks: number
  readonly chunkIntervalMs: number
  readonly failureRate: number
}

export interface ResolvedProvider {
  readonly name: string
  readonly kind: ProviderKind
  /** Base URL without a trailing slash (`openai` kind). */
  readonly baseUrl: string
  /** The credential header sent upstream (`authorization` for bearer/basic), if any. */
  readonly auth: { readonly header: string; readonly value: Redacted.Redacted<string> } | undefined
  /** Header operations applied, in order, to the headers the gateway sends upstream (names lower-cased). */
  readonly headerOps: ReadonlyArray<{ readonly op: "insert" | "replace" | "remove"; readonly key: string; readonly value: string }>
  readonly connectTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly idleTimeoutMs: number
  readonly breaker: BreakerSettings
  readonly mock: MockOptions
}

export interface ResolvedTarget {
  readonly provider: string
  /** The model id sent upstream; undefined means the requested model name (pattern models). */
  readonly model: string | undefined
  readonly weight: number
  /** Most requests in flight on this target; undefined means no cap. */
  readonly maxConcurrency: number | undefined
  readonly queueSize: number
  readonly queueTimeoutMs: number
}

export type ModelPattern =
  | { readonly _tag: "Exact" }
  | { readonly _tag: "Glob"; readonly regex: RegExp }
  | { readonly _tag: "Regex"; readonly regex: RegExp }

export interface ResolvedModel {
  /** The name as configured: an exact name, a glob (`claude-*`) or a regex written `/.../`. */
  readonly name: string
  readonly pattern: ModelPattern
  readonly strategy: StrategyNameType
  readonly targets: ReadonlyArray<ResolvedTarget>
  readonly retry: { readonly attempts: number; readonly backoffMs: number; readonly maxBackoffMs: number }
  /** Other models' names, tried in order when every target of this one failed. */
  readonly fallbacks: ReadonlyArray<string>
}

export interface ResolvedRoute {
  readonly path: string
  readonly regex: RegExp
  readonly model: string
}

export interface ResolvedConfig {
  readonly server: {
    readonly host: string
    readonly port: number
    readonly bodyLimit: number
    /** How long shutdown waits for in-flight requests and streams. */
    readonly shutdownTimeoutMs: number
  }
  /** Absent when the file configures none; the startup then generates one. */
  readonly masterKey: Redacted.Redacted<string> | undefined
  readonly providers: ReadonlyMap<string, ResolvedProvider>
  /** Every model by its configured name (exact names and patterns). */
  readonly models: ReadonlyMap<string, ResolvedModel>
  /** Configured model names, in config order (patterns included). */
  readonly modelNames: ReadonlyArray<string>
  readonly routes: ReadonlyArray<ResolvedRoute>
}
