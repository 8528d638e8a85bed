/**
 * The running config as `GET /admin/v1/config` shows it: the resolved snapshot (after defaults,
 * limits as they apply, prices as configured — the built-in table is not repeated here —
 * from the file or Postgres) with every secret masked (`maskSecret`; header values unless the
 * header is known to carry none, SecretFields.ts; a proxy URL's credentials) and no key hashes.
 * The same in both store modes.
 */
import * as Redacted from "effect/Redacted"
import { MASK, maskSecret } from "../auth/KeyMaterial.ts"
import type {
  ProxySetting,
  ResolvedBudget,
  ResolvedConfig,
  ResolvedLimits,
  ResolvedProvider
} from "../config/Config.ts"
import { isSecretHeader } from "../config/SecretFields.ts"
import { KINDS } from "../providers/Kinds.ts"

/**
 * `Bearer ****abcd`: the scheme stays readable, the credential is masked. A Basic credential shows
 * nothing: its last characters would encode the end of the password.
 */
export const maskCredential = (value: string): string => {
  const m = /^(Bearer|Basic) (.*)$/.exec(value)
  if (m === null) return maskSecret(value)
  return m[1] === "Basic" ? `Basic ${MASK}` : `${m[1]} ${maskSecret(m[2] ?? "")}`
}

/**
 * A proxy URL with its credentials masked (the password, or a user name that stands alone, as a
 * token does): `http://user:****@proxy:3128`.
 */
export const maskProxyUrl = (url: string): string => {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return MASK
  }
  if (u.username === "" && u.password === "") return url
  const user = u.password === "" ? maskSecret(decodeURIComponent(u.username)) : u.username
  const password = u.password === "" ? "" : `:${maskSecret(decodeURIComponent(u.password))}`
  return `${u.protocol}//${user}${password}@${u.host}`
}

/** `proxy` as it applies: `environment` (the proxy variables, read where connections are made), `none`, or the URL. */
const proxyShown = (proxy: ProxySetting): string =>
  proxy._tag === "Url" ? maskProxyUrl(proxy.url) : proxy._tag === "None" ? "none" : "environment"

/** The connection settings of a provider that connects somewhere (not `mock`). */
const connectionShown = (p: ResolvedProvider) => ({
  proxy: proxyShown(p.connection.proxy),
  tls: { verify: p.connection.verify, ca_file: p.connection.caFile ?? null },
  user_agent: p.userAgent,
  keep_alive: p.connection.keepAlive
})

const limits = (l: ResolvedLimits | undefined) =>
  l === undefined
    ? null
    : {
        requests_per_minute: l.requestsPerMinute ?? null,
        tokens_per_minute: l.tokensPerMinute ?? null,
        requests_per_second: l.requestsPerSecond ?? null,
        burst: l.burst ?? null,
        max_parallel: l.maxParallel ?? null
      }

const budget = (b: ResolvedBudget | undefined) =>
  b === undefined ? null : { amount_usd: b.amountUsd, period: b.period }

export const effectiveConfig = (config: ResolvedConfig, store: "postgres" | "file") => ({
  store,
  server: {
    host: config.server.host,
    port: config.server.port,
    body_limit: config.server.bodyLimit,
    shutdown_timeout_ms: config.server.shutdownTimeoutMs,
    header_limit: config.server.bounds.headerLimit,
    header_timeout_ms: config.server.bounds.headerTimeoutMs,
    idle_timeout_ms: config.server.bounds.idleTimeoutMs,
    stall_timeout_ms: config.server.bounds.stallTimeoutMs,
    identifier_limit: config.server.bounds.identifierLimit,
    json_depth_limit: config.server.bounds.jsonDepthLimit,
    upstream_body_limit: config.server.bounds.upstreamBodyLimit,
    sse_line_limit: config.server.bounds.sseLineLimit,
    preamble_limit: config.server.bounds.preambleLimit,
    pattern_target_limit: config.server.bounds.patternTargetLimit,
    upload_limit: config.server.bounds.uploadLimit,
    upload_replay_limit: config.server.bounds.uploadReplayLimit,
    ip_rate_limit:
      config.server.ipRateLimit === undefined
        ? null
        : {
            rps: config.server.ipRateLimit.rps,
            burst: config.server.ipRateLimit.burst,
            trusted_proxies: config.server.ipRateLimit.trustedProxies
          }
  },
  master_key: config.masterKey === undefined ? null : maskSecret(Redacted.value(config.masterKey)),
  limits: {
    default_max_tokens: config.limits.defaultMaxTokens,
    redis:
      config.limits.redis === undefined
        ? null
        : {
            url: config.limits.redis.url === undefined ? null : maskSecret(Redacted.value(config.limits.redis.url)),
            on_error: config.limits.redis.onError,
            key_prefix: config.limits.redis.keyPrefix
          }
  },
  providers: [...config.providers.values()].map((p) => ({
    name: p.name,
    kind: p.kind,
    base_url: p.baseUrl === "" ? null : p.baseUrl,
    ...KINDS[p.kind].shown(p),
    auth: p.auth === undefined ? null : { header: p.auth.header, value: maskCredential(Redacted.value(p.auth.value)) },
    headers: p.headerOps.map((h) => ({
      op: h.op,
      key: h.key,
      value: isSecretHeader(h.key) ? maskSecret(h.value) : h.value
    })),
    timeout: { connect_ms: p.connectTimeoutMs, request_ms: p.requestTimeoutMs, idle_ms: p.idleTimeoutMs },
    ...(KINDS[p.kind].connects ? connectionShown(p) : {}),
    breaker: {
      failure_rate: p.breaker.failureRate,
      min_requests: p.breaker.minRequests,
      window_ms: p.breaker.windowMs,
      cooldown_ms: p.breaker.cooldownMs
    }
  })),
  models: [...config.models.values()].map((m) => ({
    name: m.name,
    strategy: m.strategy,
    targets: m.targets.map((t) => ({
      provider: t.provider,
      model: t.model ?? null,
      weight: t.weight,
      max_concurrency: t.maxConcurrency ?? null,
      queue: { size: t.queueSize, timeout_ms: t.queueTimeoutMs }
    })),
    retry: { attempts: m.retry.attempts, backoff_ms: m.retry.backoffMs, max_backoff_ms: m.retry.maxBackoffMs },
    fallbacks: m.fallbacks,
    pricing: m.pricing ?? null,
    default_max_tokens: m.defaultMaxTokens
  })),
  pricing: Object.fromEntries([...config.pricing].map(([name, price]) => [name, { ...price }])),
  usage: {
    enabled: config.usage.enabled,
    sqlite_path: config.usage.sqlitePath ?? null,
    buffer_limit: config.usage.bufferLimit,
    flush_interval_ms: config.usage.flushIntervalMs,
    batch_size: config.usage.batchSize
  },
  metrics: { enabled: config.metrics.enabled, path: config.metrics.path, require_key: config.metrics.requireKey },
  logging: { level: config.logging.level, format: config.logging.format },
  // As the config writes it; the OTEL_* variables fill in the rest at start.
  tracing: {
    otlp: {
      endpoint: config.tracing.endpoint ?? null,
      protocol: config.tracing.protocol ?? null,
      headers:
        config.tracing.headers === undefined
          ? null
          : Object.fromEntries(
              Object.entries(config.tracing.headers).map(([k, v]) => [k, maskCredential(Redacted.value(v))])
            )
    },
    langfuse:
      config.tracing.langfuse === undefined
        ? null
        : {
            public_key: config.tracing.langfuse.publicKey ?? null,
            secret_key:
              config.tracing.langfuse.secretKey === undefined
                ? null
                : maskSecret(Redacted.value(config.tracing.langfuse.secretKey)),
            host: config.tracing.langfuse.host ?? null,
            sample_rate: config.tracing.langfuse.sampleRate ?? null,
            flush_interval_ms: config.tracing.langfuse.flushIntervalMs ?? null
          },
    sample_rate: config.tracing.sampleRate ?? null,
    capture_content: config.tracing.captureContent,
    service_name: config.tracing.serviceName ?? null
  },
  routes: config.routes.map((r) => ({ path: r.path, model: r.model })),
  projects: [...config.tenancy.projects.values()].map((p) => ({
    id: p.id,
    name: p.name,
    limits: limits(p.limits),
    budget: budget(p.budget),
    metadata: p.metadata,
    created_at: p.createdAt ?? null
  })),
  users: [...config.tenancy.users.values()].map((u) => ({
    id: u.id,
    name: u.name,
    email: u.email ?? null,
    role: u.role,
    projects: u.projects,
    metadata: u.metadata,
    created_at: u.createdAt ?? null
  })),
  keys: [...config.tenancy.keys.values()].map((k) => ({
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    project_id: k.projectId,
    user_id: k.userId ?? null,
    models: k.models ?? null,
    enabled: k.enabled,
    expires_at: k.expiresAt,
    limits: limits(k.limits),
    budget: budget(k.budget),
    metadata: k.metadata,
    created_at: k.createdAt ?? null
  }))
})
