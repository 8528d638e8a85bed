/**
 * The config file's schema (the public contract: later work extends it, never breaks it) and the
 * resolved, compiled form the request path reads. Decoding rejects unknown fields; cross-references
 * (unknown provider, duplicate names) are checked in `resolve` with the same path-named messages.
 */
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { BreakerSettings } from "../domain/BreakerSettings.ts"
import { StrategyName } from "../domain/StrategyName.ts"
import { VERSION } from "../generated/version.ts"
import { KIND_FIELDS, KIND_NAMES, type KindSettings } from "../providers/Kinds.ts"
import { ByteSizeInput, DurationInput, TimestampInput } from "../domain/units.ts"

/** Longest `/regex/` model name or key pattern accepted in config (fixed). */
export const REGEX_LENGTH_LIMIT = 512
/** Longest provider name. */
export const NAME_LENGTH_LIMIT = 256

const Name = Schema.String.check(
  Schema.isMaxLength(NAME_LENGTH_LIMIT, { message: `expected a name of at most ${NAME_LENGTH_LIMIT} characters` }),
  Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/, { message: "expected a name of letters, digits and . _ : / @ -" })
)

/**
 * A model name as written in the config (an exact name, a glob or a `/regex/`), an upstream model
 * id or a route's path: never longer than REGEX_LENGTH_LIMIT, so every pattern the matchers run is
 * bounded (config/ModelPattern.ts).
 */
const ModelName = Schema.String.check(
  Schema.isMinLength(1),
  Schema.isMaxLength(REGEX_LENGTH_LIMIT, { message: `expected at most ${REGEX_LENGTH_LIMIT} characters` })
)

export const ServerSection = Schema.Struct({
  host: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
  port: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 }))),
  body_limit: Schema.optional(ByteSizeInput),
  /** Largest upload streamed upstream (multipart endpoints, `POST /v1/files`); larger gets 413. */
  upload_limit: Schema.optional(ByteSizeInput),
  /** Most bytes of a streamed upload kept to send it again on a retry or failover. */
  upload_replay_limit: Schema.optional(ByteSizeInput),
  shutdown_timeout: Schema.optional(DurationInput),
  // ---- bounds (README "Limits and bounds"): nothing a client or an upstream sends is unbounded ----
  /** Request line and headers together; larger gets 431. */
  header_limit: Schema.optional(ByteSizeInput),
  /** Time a client has to send the request line and headers (slowloris). */
  header_timeout: Schema.optional(DurationInput),
  /** An idle keep-alive connection (no request in progress) is closed after this. */
  idle_timeout: Schema.optional(DurationInput),
  /** A client that stops reading a streamed answer this long is cut off; the upstream is cancelled. */
  stall_timeout: Schema.optional(DurationInput),
  /** Longest identifier a request may carry (`model`, …), in characters; longer gets 400. */
  identifier_limit: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65_536 }))),
  /** Deepest JSON nesting a request body may have; deeper gets 400. */
  json_depth_limit: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10_000 }))),
  /** Largest upstream answer the gateway buffers (a non-streamed body); larger is a 502. */
  upstream_body_limit: Schema.optional(ByteSizeInput),
  /** Longest single SSE line the gateway parses in an upstream stream. */
  sse_line_limit: Schema.optional(ByteSizeInput),
  /** Most bytes of a stream held back before its first content (the rest of the time bound is `timeout.request`). */
  preamble_limit: Schema.optional(ByteSizeInput),
  /** Most distinct model names served through pattern models (`claude-*`) with their own routing state; least recently used go first. */
  pattern_target_limit: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65_536 }))),
  /** A token bucket per client IP on the proxy and admin endpoints (limits/IpRateLimit.ts). */
  ip_rate_limit: Schema.optional(
    Schema.Struct({
      /** Requests per second refilled into each IP's bucket. */
      rps: Schema.Number.check(Schema.isFinite(), Schema.isGreaterThan(0)),
      /** The bucket's capacity; default ceil(rps). */
      burst: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
      /** Peers whose `X-Forwarded-For` is believed (CIDRs, IPv4 or IPv6; a bare address is a /32 or /128). */
      trusted_proxies: Schema.optional(Schema.Array(Schema.String))
    })
  )
})

export const ProviderTimeout = Schema.Struct({
  connect: Schema.optional(DurationInput),
  request: Schema.optional(DurationInput),
  idle: Schema.optional(DurationInput)
})

export const ProviderAuth = Schema.Union([
  Schema.Struct({ type: Schema.Literal("bearer"), token: Schema.String }),
  Schema.Struct({ type: Schema.Literal("basic"), username: Schema.String, password: Schema.String }),
  Schema.Struct({
    type: Schema.Literal("header"),
    name: Schema.String.check(Schema.isMinLength(1)),
    value: Schema.String
  }),
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

/**
 * TLS toward a provider's upstream: `verify: false` accepts any certificate; `ca_file` is a PEM
 * bundle added to the trusted roots (a path, relative to the working directory; read at config load).
 */
export const ProviderTls = Schema.Struct({
  verify: Schema.optional(Schema.Boolean),
  ca_file: Schema.optional(Schema.String.check(Schema.isMinLength(1)))
})

export const ProviderKind = Schema.Literals(KIND_NAMES)
export type ProviderKind = typeof ProviderKind.Type

export const ProviderSection = Schema.Struct({
  name: Name,
  kind: ProviderKind,
  base_url: Schema.optional(Schema.String),
  api_key: Schema.optional(Schema.String),
  /** Each kind's own fields (`api_version`, `anthropic_version`, `mock`): providers/<kind>/Kind.ts. */
  ...KIND_FIELDS,
  auth: Schema.optional(ProviderAuth),
  headers: Schema.optional(Schema.Union([Schema.Record(Schema.String, Schema.String), Schema.Array(HeaderOperation)])),
  timeout: Schema.optional(ProviderTimeout),
  breaker: Schema.optional(BreakerSection),
  // ---- connection settings (not for kind mock) ----
  /**
   * The outbound HTTP(S) proxy: an http(s) URL (`http://host:port`, credentials allowed), or `none`
   * (direct, even when the environment names a proxy). Absent: `HTTPS_PROXY`/`HTTP_PROXY` unless
   * `NO_PROXY` names the host (config/ProxyEnvironment.ts).
   */
  proxy: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
  tls: Schema.optional(ProviderTls),
  /** The `User-Agent` sent upstream (default `llmgate/<version>`). */
  user_agent: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
  /** Keep connections open between requests (default true); false: a new connection per request. */
  keep_alive: Schema.optional(Schema.Boolean)
})

export const TargetSection = Schema.Struct({
  provider: Schema.String,
  model: Schema.optional(ModelName),
  weight: Schema.optional(Schema.Number.check(Schema.isGreaterThan(0))),
  max_concurrency: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  queue: Schema.optional(
    Schema.Struct({
      size: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
      timeout: Schema.optional(DurationInput)
    })
  )
})

export const RetrySection = Schema.Struct({
  attempts: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 10 }))),
  backoff: Schema.optional(DurationInput),
  max_backoff: Schema.optional(DurationInput)
})

/** Most USD per million tokens a price may name (a sanity bound: the dearest models cost a few hundred). */
export const PRICE_LIMIT_USD = 100_000

/** USD per million tokens; at most six decimals count (finer is rounded when costs are computed). */
const UsdPerMillion = Schema.Number.check(
  Schema.isFinite(),
  Schema.isBetween(
    { minimum: 0, maximum: PRICE_LIMIT_USD },
    { message: `expected USD per million tokens, from 0 to ${PRICE_LIMIT_USD}` }
  )
)

/**
 * What a model costs, in USD per million tokens of each kind of the normalized usage
 * (domain/Usage.ts). `input` and `output` are required; an absent `cache_read` or `cache_write` is
 * billed at the `input` price and an absent `reasoning` at the `output` price (no discount or
 * premium is assumed that the operator did not write).
 */
export const PricingSection = Schema.Struct({
  input: UsdPerMillion,
  output: UsdPerMillion,
  cache_read: Schema.optional(UsdPerMillion),
  cache_write: Schema.optional(UsdPerMillion),
  reasoning: Schema.optional(UsdPerMillion)
})
export type PricingSection = typeof PricingSection.Type

/** Most completion tokens a configured default reservation may name (a sanity bound). */
export const DEFAULT_MAX_TOKENS_LIMIT = 10_000_000

/**
 * Completion tokens reserved for a request that sets neither `max_completion_tokens` nor
 * `max_tokens` (limits/TokenEstimate.ts): against `tokens_per_minute` and, at the model's output
 * price, against budgets. 0 reserves the prompt alone.
 */
const DefaultMaxTokens = Schema.Int.check(
  Schema.isBetween(
    { minimum: 0, maximum: DEFAULT_MAX_TOKENS_LIMIT },
    { message: `expected a whole number of tokens from 0 to ${DEFAULT_MAX_TOKENS_LIMIT}` }
  )
)

export const ModelSection = Schema.Struct({
  name: ModelName,
  strategy: Schema.optional(StrategyName),
  targets: Schema.Array(TargetSection).check(Schema.isMinLength(1)),
  retry: Schema.optional(RetrySection),
  fallbacks: Schema.optional(Schema.Array(ModelName)),
  /** The price of this public model, whichever target serves it (wins over the top-level `pricing`). */
  pricing: Schema.optional(PricingSection),
  /** Completion tokens a request to this model reserves when it sets no `max_tokens` (wins over `limits.default_max_tokens`). */
  default_max_tokens: Schema.optional(DefaultMaxTokens)
})

export const RouteSection = Schema.Struct({
  path: ModelName.check(Schema.isPattern(/^\//, { message: "expected a path starting with /" })),
  model: ModelName
})

// ---- tenancy: projects, users, virtual keys --------------------------------------------------

const TenancyId = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, {
    message: "expected an id of up to 128 letters, digits and . _ : -"
  })
)
const DisplayName = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200))
const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
/** Free-form annotations (team, cost centre, ...); stored and shown, never interpreted. */
const Metadata = Schema.Record(Schema.String, Schema.Unknown)

/** A virtual key's stored form: `sha256(key)` as 64 lowercase hex characters. */
export const KeyHash = Schema.String.check(
  Schema.isPattern(/^[0-9a-f]{64}$/, { message: "expected 64 lowercase hex characters (the SHA-256 of the key)" })
)

/**
 * Rate limits of a key or a project (enforced by limits/RateLimiter.ts). Per minute: a 60 s window
 * anchored at the first request after the previous window ended. `requests_per_second` with `burst`
 * is a token bucket (capacity `burst`, default ceil(requests_per_second); `burst` needs
 * `requests_per_second`). `max_parallel` caps the requests in flight.
 */
export const LimitsSection = Schema.Struct({
  requests_per_minute: Schema.optional(PositiveInt),
  tokens_per_minute: Schema.optional(PositiveInt),
  requests_per_second: Schema.optional(Schema.Number.check(Schema.isFinite(), Schema.isGreaterThan(0))),
  burst: Schema.optional(PositiveInt),
  max_parallel: Schema.optional(PositiveInt)
})

export const BudgetPeriod = Schema.Literals(["daily", "weekly", "monthly", "total"])
export type BudgetPeriod = typeof BudgetPeriod.Type

/**
 * A spending cap of a key or a project (enforced by limits/Budgets.ts): once the period's spend
 * reaches `amount_usd`, requests are refused (429 `budget_exceeded`) until the period resets
 * (UTC: daily at midnight, weekly on Monday 00:00, monthly on the 1st; `total` never resets).
 */
export const BudgetSection = Schema.Struct({
  amount_usd: Schema.Number.check(Schema.isFinite(), Schema.isGreaterThan(0)),
  period: BudgetPeriod
})

export const ProjectSection = Schema.Struct({
  id: TenancyId,
  name: DisplayName,
  /** Default limits of the project's keys (a key's own limits win, field by field). */
  limits: Schema.optional(LimitsSection),
  /** What the project's keys may spend together. */
  budget: Schema.optional(BudgetSection),
  metadata: Schema.optional(Metadata),
  created_at: Schema.optional(TimestampInput)
})

export const UserRole = Schema.Literals(["admin", "member"])
export type UserRole = typeof UserRole.Type

export const UserSection = Schema.Struct({
  id: TenancyId,
  name: DisplayName,
  email: Schema.optional(
    Schema.String.check(Schema.isPattern(/^[^\s@]+@[^\s@]+$/, { message: "expected an email address" }))
  ),
  role: UserRole,
  /** Ids of the projects the user belongs to. */
  projects: Schema.Array(Schema.String),
  metadata: Schema.optional(Metadata),
  created_at: Schema.optional(TimestampInput)
})

export const KeySection = Schema.Struct({
  id: TenancyId,
  name: DisplayName,
  /** The key's visible start (`sk-lg-` + 6 characters for generated keys), shown in lists and logs. */
  prefix: Schema.String.check(
    Schema.isPattern(/^\S{1,32}$/, { message: "expected the key's visible start: 1 to 32 characters without spaces" })
  ),
  hash: KeyHash,
  project_id: Schema.String,
  user_id: Schema.optional(Schema.String),
  /** Allowed public model names: exact, glob (`gpt-*`) or `/regex/`. Absent: every model; `[]`: none. */
  models: Schema.optional(Schema.Array(ModelName)),
  enabled: Schema.optional(Schema.Boolean),
  /** When the key stops working; absent or null: never. */
  expires_at: Schema.optional(Schema.NullOr(TimestampInput)),
  limits: Schema.optional(LimitsSection),
  budget: Schema.optional(BudgetSection),
  metadata: Schema.optional(Metadata),
  created_at: Schema.optional(TimestampInput),
  /** After a rotation: the old key's hash, accepted until `previous_expires_at`. */
  previous_hash: Schema.optional(KeyHash),
  previous_expires_at: Schema.optional(TimestampInput)
})

/** Where providers, models and routes live when not in this file: `store: { postgres: { url } }`. */
export const StoreSection = Schema.Struct({
  postgres: Schema.optional(
    Schema.Struct({
      url: Schema.String.check(Schema.isMinLength(1)),
      /** Safety-net re-read of the database besides LISTEN/NOTIFY (default 30s). */
      reload_interval: Schema.optional(DurationInput)
    })
  )
})

/** What happens to a limited request when Redis cannot be reached: admitted (no limits) or refused (503). */
export const RedisOnError = Schema.Literals(["fail_open", "fail_closed"])
export type RedisOnError = typeof RedisOnError.Type

/**
 * The top-level `limits` section: `default_max_tokens`, the completion tokens a request reserves
 * when it sets no `max_tokens` (per model: `models[].default_max_tokens`; reloadable), and rate
 * limits across replicas, `redis: { url, on_error, key_prefix }` (the url may be left out when
 * `REDIS_URL` is set; applies at start: a running gateway keeps its connection).
 */
export const LimitsSettingsSection = Schema.Struct({
  default_max_tokens: Schema.optional(DefaultMaxTokens),
  redis: Schema.optional(
    Schema.Struct({
      url: Schema.optional(Schema.String),
      on_error: Schema.optional(RedisOnError),
      /** Prepended to every key the gateway writes (default `llmgate:`), so gateways can share a Redis. */
      key_prefix: Schema.optional(Schema.String.check(Schema.isMaxLength(256)))
    })
  )
})

/**
 * Where usage records are stored and how the owner's writer batches them (they apply at start).
 * In file mode the store is SQLite at `sqlite_path` (relative to the config file's folder; default
 * `<config file>.usage.sqlite`); in Postgres mode it is the catalog's database.
 */
export const UsageSection = Schema.Struct({
  /** Record and store usage (default true; the embedded default config sets false: it has no file to keep them in). */
  enabled: Schema.optional(Schema.Boolean),
  sqlite_path: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
  /** Most records the writer holds while the database is slow or down; more are dropped and counted. */
  buffer_limit: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10_000_000 }))),
  /** How often buffered records are written (default 1s); a full batch is written at once. */
  flush_interval: Schema.optional(DurationInput),
  /** Most records per write. */
  batch_size: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10_000 })))
})

/**
 * The Prometheus endpoint (metrics/GatewayMetrics.ts): on by default at `/metrics` on the main port,
 * without a key. `enabled` applies at start; `path` and `require_key` follow reloads.
 */
export const MetricsSection = Schema.Struct({
  enabled: Schema.optional(Schema.Boolean),
  path: Schema.optional(
    Schema.String.check(
      Schema.isPattern(/^\/(?!(v1|admin|health|docs)(\/|$)|openapi\.json$)[A-Za-z0-9._~/-]{1,255}$/, {
        message:
          "expected a path starting with / (letters, digits and . _ ~ / -, at most 256 characters) outside /v1, /admin, /health, /docs and /openapi.json"
      })
    )
  ),
  /** Ask for the master key or an admin key (`Authorization: Bearer …`), as the admin API does. */
  require_key: Schema.optional(Schema.Boolean)
})

/**
 * The gateway's log lines (logging/Logging.ts): their least level (`--debug` forces `debug`, which
 * also logs one line per request) and their format, text or one JSON object per line. Both apply
 * at start.
 */
export const LoggingSection = Schema.Struct({
  level: Schema.optional(Schema.Literals(["debug", "info", "warning", "error"])),
  format: Schema.optional(Schema.Literals(["text", "json"]))
})

/** How traces are sent: OTLP over HTTP, as protobuf (the OpenTelemetry default) or JSON. */
export const OtlpProtocol = Schema.Literals(["http/protobuf", "http/json"])
export type OtlpProtocol = typeof OtlpProtocol.Type

/**
 * Tracing (tracing/Tracing.ts): OTLP export of a span per request and per upstream attempt, with
 * the OpenTelemetry GenAI attributes. Off unless an endpoint is set here or in
 * `OTEL_EXPORTER_OTLP_ENDPOINT`; applies at start. Header values are secret fields.
 */
export const TracingSection = Schema.Struct({
  otlp: Schema.optional(
    Schema.Struct({
      /** The collector's base URL (`http://collector:4318`): traces go to `<endpoint>/v1/traces`. */
      endpoint: Schema.optional(Schema.String),
      headers: Schema.optional(Schema.Record(Schema.String, Schema.String)),
      protocol: Schema.optional(OtlpProtocol)
    })
  ),
  /**
   * Langfuse, through its OTLP endpoint (`<host>/api/public/otel/v1/traces`, Basic auth with the
   * keys); `secret_key` is a secret field. Also `LANGFUSE_PUBLIC_KEY`, `LANGFUSE_SECRET_KEY`,
   * `LANGFUSE_HOST`, `LANGFUSE_SAMPLE_RATE`, `LANGFUSE_FLUSH_INTERVAL` (milliseconds).
   */
  langfuse: Schema.optional(
    Schema.Struct({
      public_key: Schema.optional(Schema.String),
      secret_key: Schema.optional(Schema.String),
      /** Default `https://cloud.langfuse.com`. */
      host: Schema.optional(Schema.String),
      sample_rate: Schema.optional(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
      /** How often spans are sent (default 1s). */
      flush_interval: Schema.optional(DurationInput)
    })
  ),
  /** The fraction of new traces kept (0..1, default 1); a request continuing a trace follows its parent's decision. */
  sample_rate: Schema.optional(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
  /** Put prompts and completions on the spans (default false). */
  capture_content: Schema.optional(Schema.Boolean),
  /** `service.name` of the spans (default `OTEL_SERVICE_NAME`, else `llmgate`). */
  service_name: Schema.optional(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(256)))
})

/**
 * Environment variables that `${VAR}` references in secret fields may read besides `LLMGATE_*`
 * (config/interpolate.ts): `env: [OPENAI_API_KEY, DATABASE_URL]`.
 */
export const EnvSection = Schema.Array(
  Schema.String.check(
    Schema.isPattern(/^[A-Za-z_][A-Za-z0-9_]*$/, {
      message: "expected an environment variable name (letters, digits and _)"
    })
  )
)

export const ConfigFile = Schema.Struct({
  env: Schema.optional(EnvSection),
  server: Schema.optional(ServerSection),
  usage: Schema.optional(UsageSection),
  metrics: Schema.optional(MetricsSection),
  tracing: Schema.optional(TracingSection),
  logging: Schema.optional(LoggingSection),
  master_key: Schema.optional(Schema.String),
  providers: Schema.Array(ProviderSection),
  models: Schema.Array(ModelSection),
  routes: Schema.optional(Schema.Array(RouteSection)),
  projects: Schema.optional(Schema.Array(ProjectSection)),
  users: Schema.optional(Schema.Array(UserSection)),
  keys: Schema.optional(Schema.Array(KeySection)),
  store: Schema.optional(StoreSection),
  limits: Schema.optional(LimitsSettingsSection),
  /** Prices by upstream model name (`gpt-4o`, `claude-sonnet-4-20250514`), over the built-in defaults. */
  pricing: Schema.optional(Schema.Record(ModelName, PricingSection))
})
export type ConfigFile = typeof ConfigFile.Type

// ---- resolved form -------------------------------------------------------------------------

export const DEFAULT_HOST = "127.0.0.1"
export const DEFAULT_PORT = 4000
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024
/** OpenAI's own largest upload (a file for batches or fine-tuning). */
export const DEFAULT_UPLOAD_LIMIT = 512 * 1024 * 1024
export const DEFAULT_UPLOAD_REPLAY_LIMIT = 1024 * 1024
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000
export const DEFAULT_HEADER_LIMIT = 16 * 1024
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000
export const DEFAULT_CONNECTION_IDLE_TIMEOUT_MS = 65_000
export const DEFAULT_STALL_TIMEOUT_MS = 30_000
export const DEFAULT_IDENTIFIER_LIMIT = 256
export const DEFAULT_JSON_DEPTH_LIMIT = 64
export const DEFAULT_UPSTREAM_BODY_LIMIT = 64 * 1024 * 1024
export const DEFAULT_SSE_LINE_LIMIT = 1024 * 1024
export const DEFAULT_PREAMBLE_LIMIT = 1024 * 1024
export const DEFAULT_PATTERN_TARGET_LIMIT = 1024
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
/** The `User-Agent` a provider sends unless `user_agent` says otherwise. */
export const DEFAULT_USER_AGENT = `llmgate/${VERSION}`
export const DEFAULT_QUEUE_TIMEOUT_MS = 30_000
export const DEFAULT_RETRY_BACKOFF_MS = 200
export const DEFAULT_RETRY_MAX_BACKOFF_MS = 5_000
/** Completion tokens reserved for a request that sets no `max_tokens`, unless configured (`limits.default_max_tokens`). */
export const DEFAULT_MAX_TOKENS = 1024

/**
 * A provider's `proxy` as configured: a URL, `none`, or (absent) the environment's proxy
 * variables, which are read where connections are made (the upstream clients of each runtime).
 */
export type ProxySetting =
  | { readonly _tag: "Environment" }
  | { readonly _tag: "None" }
  | { readonly _tag: "Url"; readonly url: string }

/** How a provider's connections are made (the upstream clients pool them per distinct value). */
export interface ResolvedConnection {
  readonly proxy: ProxySetting
  /** false: any certificate is accepted. */
  readonly verify: boolean
  /** A PEM bundle added to the trusted roots (`tls.ca_file` as written; checked readable at load). */
  readonly caFile: string | undefined
  /** Whether connections are kept open between requests. */
  readonly keepAlive: boolean
}

/** The connection of a provider that configures none. */
export const DEFAULT_CONNECTION: ResolvedConnection = {
  proxy: { _tag: "Environment" },
  verify: true,
  caFile: undefined,
  keepAlive: true
}

/** A provider as the gateway runs it; its kind's own settings (`apiVersion`, `mock`, …) are present for that kind only. */
export interface ResolvedProvider extends KindSettings {
  readonly name: string
  readonly kind: ProviderKind
  /** Base URL without a trailing slash (`openai`, `azure`, `anthropic` kinds). */
  readonly baseUrl: string
  /** The credential header sent upstream (`authorization` for bearer/basic), if any. */
  readonly auth: { readonly header: string; readonly value: Redacted.Redacted<string> } | undefined
  /** Header operations applied, in order, to the headers the gateway sends upstream (names lower-cased). */
  readonly headerOps: ReadonlyArray<{
    readonly op: "insert" | "replace" | "remove"
    readonly key: string
    readonly value: string
  }>
  readonly connectTimeoutMs: number
  /** Proxy, TLS and keep-alive (`openai`, `azure`, `anthropic` kinds; the defaults for `mock`). */
  readonly connection: ResolvedConnection
  /** The `User-Agent` header sent upstream. */
  readonly userAgent: string
  readonly requestTimeoutMs: number
  readonly idleTimeoutMs: number
  readonly breaker: BreakerSettings
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

/** How a model name matches requested names (config/ModelPattern.ts); both matchers run in linear time. */
export type ModelPattern =
  | { readonly _tag: "Exact" }
  | { readonly _tag: "Glob"; readonly matches: (name: string) => boolean }
  | { readonly _tag: "Regex"; readonly matches: (name: string) => boolean }

export interface ResolvedModel {
  /** The name as configured: an exact name, a glob (`claude-*`) or a regex written `/.../`. */
  readonly name: string
  readonly pattern: ModelPattern
  readonly strategy: StrategyName
  readonly targets: ReadonlyArray<ResolvedTarget>
  readonly retry: { readonly attempts: number; readonly backoffMs: number; readonly maxBackoffMs: number }
  /** Other models' names, tried in order when every target of this one failed. */
  readonly fallbacks: ReadonlyArray<string>
  /** The model's own price (`models[].pricing`); undefined: priced by the upstream model's name. */
  readonly pricing: ResolvedPricing | undefined
  /**
   * Completion tokens a request to this model reserves when it sets no `max_completion_tokens` /
   * `max_tokens`: `models[].default_max_tokens`, else `limits.default_max_tokens`, else 1024.
   */
  readonly defaultMaxTokens: number
}

/** USD per million tokens of each kind, every kind filled in (see PricingSection for the defaults). */
export interface ResolvedPricing {
  readonly input: number
  readonly cache_read: number
  readonly cache_write: number
  readonly reasoning: number
  readonly output: number
}

export interface ResolvedRoute {
  readonly path: string
  /** Whether a request path matches `path` (a glob). */
  readonly matches: (path: string) => boolean
  readonly model: string
}

export interface ResolvedLimits {
  readonly requestsPerMinute: number | undefined
  readonly tokensPerMinute: number | undefined
  readonly requestsPerSecond: number | undefined
  /** The bucket's capacity: as configured, else ceil(requestsPerSecond); undefined without requestsPerSecond. */
  readonly burst: number | undefined
  readonly maxParallel: number | undefined
}

/** `limits.redis` resolved (the url may still come from `REDIS_URL` at start). */
export interface ResolvedRedis {
  readonly url: Redacted.Redacted<string> | undefined
  readonly onError: RedisOnError
  readonly keyPrefix: string
}

export const DEFAULT_REDIS_KEY_PREFIX = "llmgate:"

/** `server.ip_rate_limit` resolved: a token bucket per client IP. */
export interface ResolvedIpRateLimit {
  readonly rps: number
  readonly burst: number
  /** The trusted proxies as configured (addresses and CIDR ranges). */
  readonly trustedProxies: ReadonlyArray<string>
  /** Whether a peer address is a trusted proxy (its `X-Forwarded-For` is believed). */
  readonly trusted: (address: string) => boolean
}

export interface ResolvedBudget {
  readonly amountUsd: number
  readonly period: BudgetPeriod
}

export interface ResolvedProject {
  readonly id: string
  readonly name: string
  readonly limits: ResolvedLimits | undefined
  readonly budget: ResolvedBudget | undefined
  readonly metadata: Readonly<Record<string, unknown>>
  readonly createdAt: string | undefined
}

export interface ResolvedUser {
  readonly id: string
  readonly name: string
  readonly email: string | undefined
  readonly role: UserRole
  readonly projects: ReadonlyArray<string>
  readonly metadata: Readonly<Record<string, unknown>>
  readonly createdAt: string | undefined
}

export interface ResolvedKey {
  readonly id: string
  readonly name: string
  readonly prefix: string
  readonly hash: string
  readonly projectId: string
  readonly userId: string | undefined
  /** The role of the key's user; undefined for a key without a user. */
  readonly role: UserRole | undefined
  /** The allowed model names and patterns as configured; undefined means every model. */
  readonly models: ReadonlyArray<string> | undefined
  /** Whether the key may use a requested public model name (compiled once from `models`). */
  readonly allows: (model: string) => boolean
  readonly enabled: boolean
  /** Configured expiry (ISO 8601) or null for never. */
  readonly expiresAt: string | null
  /** `expiresAt` in epoch ms; Infinity for never. */
  readonly expiresAtMs: number
  /** The key's limits, each field falling back to its project's default. */
  readonly limits: ResolvedLimits
  readonly budget: ResolvedBudget | undefined
  readonly metadata: Readonly<Record<string, unknown>>
  readonly createdAt: string | undefined
  readonly previousHash: string | undefined
  /** When the previous hash stops working, in epoch ms (never after `expiresAtMs`); undefined without one. */
  readonly previousExpiresAtMs: number | undefined
}

export interface ResolvedTenancy {
  readonly projects: ReadonlyMap<string, ResolvedProject>
  readonly users: ReadonlyMap<string, ResolvedUser>
  /** Keys by id. */
  readonly keys: ReadonlyMap<string, ResolvedKey>
  /** Keys by hash: each key under its `hash` and, while rotated, under its `previous_hash` too. */
  readonly keysByHash: ReadonlyMap<string, ResolvedKey>
}

/** Every bound on what clients and upstreams send (README "Limits and bounds"). */
export interface ResolvedBounds {
  /** Request line plus headers, bytes (431 past it). Applies at start. */
  readonly headerLimit: number
  /** Time to receive the request head. Applies at start. */
  readonly headerTimeoutMs: number
  /** Idle keep-alive connection lifetime. Applies at start. */
  readonly idleTimeoutMs: number
  /** A streamed answer the client does not read for this long is cut off. Applies at start. */
  readonly stallTimeoutMs: number
  readonly identifierLimit: number
  readonly jsonDepthLimit: number
  readonly upstreamBodyLimit: number
  readonly sseLineLimit: number
  readonly preambleLimit: number
  readonly patternTargetLimit: number
  /** Largest streamed upload (multipart endpoints, `POST /v1/files`), declared or counted (413 past it). */
  readonly uploadLimit: number
  /** Most bytes of a streamed upload kept for a retry; an attempt that pulled more is final. */
  readonly uploadReplayLimit: number
}

export const DEFAULT_USAGE_BUFFER_LIMIT = 100_000
export const DEFAULT_USAGE_FLUSH_INTERVAL_MS = 1_000
export const DEFAULT_USAGE_BATCH_SIZE = 500

/** The `usage` section resolved (applied at start). */
export interface ResolvedUsage {
  readonly enabled: boolean
  /** As configured (relative to the config file's folder); undefined: `<config file>.usage.sqlite`. */
  readonly sqlitePath: string | undefined
  readonly bufferLimit: number
  readonly flushIntervalMs: number
  readonly batchSize: number
}

/** The `metrics` section resolved. */
export interface ResolvedMetrics {
  /** Applied at start. */
  readonly enabled: boolean
  readonly path: string
  readonly requireKey: boolean
}

/** The `tracing` section as written (the environment fills in the rest at start: startup/StartSettings.ts). */
export interface ResolvedTracing {
  readonly langfuse:
    | {
        readonly publicKey: string | undefined
        readonly secretKey: Redacted.Redacted<string> | undefined
        readonly host: string | undefined
        readonly sampleRate: number | undefined
        readonly flushIntervalMs: number | undefined
      }
    | undefined
  readonly endpoint: string | undefined
  readonly headers: Readonly<Record<string, Redacted.Redacted<string>>> | undefined
  readonly protocol: OtlpProtocol | undefined
  readonly sampleRate: number | undefined
  readonly captureContent: boolean
  readonly serviceName: string | undefined
}

export interface ResolvedConfig {
  readonly server: {
    readonly host: string
    readonly port: number
    readonly bodyLimit: number
    /** How long shutdown waits for in-flight requests and streams. */
    readonly shutdownTimeoutMs: number
    readonly bounds: ResolvedBounds
    /** Per client IP; undefined when not configured. */
    readonly ipRateLimit: ResolvedIpRateLimit | undefined
  }
  /** Absent when the file configures none; the startup then generates one. */
  readonly masterKey: Redacted.Redacted<string> | undefined
  readonly providers: ReadonlyMap<string, ResolvedProvider>
  /** The usage store and its writer (applied at start). */
  readonly usage: ResolvedUsage
  readonly metrics: ResolvedMetrics
  readonly tracing: ResolvedTracing
  readonly logging: {
    readonly level: "debug" | "info" | "warning" | "error"
    readonly format: "text" | "json"
  }
  /** Every model by its configured name (exact names and patterns). */
  readonly models: ReadonlyMap<string, ResolvedModel>
  /** Configured model names, in config order (patterns included). */
  readonly modelNames: ReadonlyArray<string>
  readonly routes: ReadonlyArray<ResolvedRoute>
  /** Projects, users and virtual keys (empty maps when the file has none). */
  readonly tenancy: ResolvedTenancy
  /** The top-level `pricing` map: prices by upstream model name (empty when the file has none). */
  readonly pricing: ReadonlyMap<string, ResolvedPricing>
  readonly limits: {
    /** Where key and project limits are counted: Redis when `limits.redis` is set, else shared memory. */
    readonly redis: ResolvedRedis | undefined
    /** `limits.default_max_tokens`, else 1024 (each model's own is `ResolvedModel.defaultMaxTokens`). */
    readonly defaultMaxTokens: number
  }
}

/**
 * A config as a source loaded it: the compiled form, and the validated document it was compiled
 * from (plain data, `${VAR}` already filled in, secrets opened), which the owner sends to the
 * worker threads so each compiles the same snapshot.
 */
export interface LoadedConfig {
  readonly config: ResolvedConfig
  readonly document: Readonly<Record<string, unknown>>
  /** Where it came from, for messages: a path, `embedded default`, or the Postgres catalog. */
  readonly source: string
}
