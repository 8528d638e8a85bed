/**
 * The config file's schema (the public contract: later work extends it, never breaks it) and the
 * resolved, compiled form the request path reads. Decoding rejects unknown fields; cross-references
 * (unknown provider, duplicate names) are checked in `resolve` with the same path-named messages.
 */
import { Redacted, Schema } from "effect"
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
  request: Schema.optional(DurationInput),
  idle: Schema.optional(DurationInput)
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
  headers: Schema.optional(Schema.Record(Schema.String, Schema.String)),
  timeout: Schema.optional(ProviderTimeout),
  mock: Schema.optional(MockSettings)
})

export const TargetSection = Schema.Struct({
  provider: Schema.String,
  model: Schema.optional(Schema.String.check(Schema.isMinLength(1)))
})

export const ModelSection = Schema.Struct({
  name: Schema.String.check(Schema.isMinLength(1)),
  targets: Schema.Array(TargetSection).check(Schema.isMinLength(1))
})

export const ConfigFile = Schema.Struct({
  server: Schema.optional(ServerSection),
  master_key: Schema.optional(Schema.String),
  providers: Schema.Array(ProviderSection),
  models: Schema.Array(ModelSection)
})
export type ConfigFile = typeof ConfigFile.Type

// ---- resolved form -------------------------------------------------------------------------

export const DEFAULT_HOST = "127.0.0.1"
export const DEFAULT_PORT = 4000
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000

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
  readonly apiKey: Redacted.Redacted<string> | undefined
  /** Extra upstream headers, names lower-cased. */
  readonly headers: Readonly<Record<string, string>>
  readonly requestTimeoutMs: number
  readonly idleTimeoutMs: number
  readonly mock: MockOptions
}

export interface ResolvedTarget {
  readonly provider: string
  /** The model id sent upstream. */
  readonly model: string
}

export interface ResolvedModel {
  readonly name: string
  readonly targets: ReadonlyArray<ResolvedTarget>
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
  readonly models: ReadonlyMap<string, ResolvedModel>
  /** Public model names, in config order. */
  readonly modelNames: ReadonlyArray<string>
}
