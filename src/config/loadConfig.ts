/**
 * Config text → ResolvedConfig: YAML parse, env interpolation, schema decode (unknown fields are
 * errors), then cross-reference checks and compilation into the maps the request path reads.
 * Pure: the caller reads the file and supplies the environment.
 */
import * as Base64 from "effect/encoding/Base64"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { LineCounter, parseDocument } from "yaml"
import { DEFAULT_BREAKER } from "../domain/BreakerSettings.ts"
import { KIND_NAMES, KINDS } from "../providers/Kinds.ts"
import {
  ConfigFile,
  DEFAULT_BODY_LIMIT,
  DEFAULT_CONNECTION_IDLE_TIMEOUT_MS,
  DEFAULT_HEADER_LIMIT,
  DEFAULT_HEADER_TIMEOUT_MS,
  DEFAULT_IDENTIFIER_LIMIT,
  DEFAULT_JSON_DEPTH_LIMIT,
  DEFAULT_PATTERN_TARGET_LIMIT,
  DEFAULT_PREAMBLE_LIMIT,
  DEFAULT_SSE_LINE_LIMIT,
  DEFAULT_STALL_TIMEOUT_MS,
  DEFAULT_UPLOAD_LIMIT,
  DEFAULT_UPLOAD_REPLAY_LIMIT,
  DEFAULT_UPSTREAM_BODY_LIMIT,
  type ResolvedBounds,
  type ServerSection,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_CONNECTION,
  DEFAULT_USER_AGENT,
  type ProviderSection,
  type ResolvedConnection,
  DEFAULT_QUEUE_TIMEOUT_MS,
  DEFAULT_RETRY_BACKOFF_MS,
  DEFAULT_RETRY_MAX_BACKOFF_MS,
  type HeaderOperation,
  type ModelPattern,
  type ProviderAuth,
  type ResolvedRoute,
  type ResolvedTarget,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_PORT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type ResolvedConfig,
  type ResolvedIpRateLimit,
  type ResolvedModel,
  type ResolvedProvider,
  type PricingSection,
  type ResolvedPricing,
  type ResolvedRedis,
  DEFAULT_REDIS_KEY_PREFIX,
  DEFAULT_MAX_TOKENS
} from "./Config.ts"
import { type Cidr, cidrMatcher, parseCidr } from "./Cidr.ts"
import { schemaIssues } from "../domain/SchemaIssues.ts"
import { ConfigError, type ConfigIssue } from "./ConfigError.ts"
import { type Env, interpolate, shieldReferences } from "./interpolate.ts"
import { compileGlob, compilePattern, isExactName } from "./ModelPattern.ts"
import { resolveTenancy, tenancyReferenceIssues } from "./Tenancy.ts"
import { type ByteSizeInput, byteCount, type DurationInput, durationMillis } from "../domain/units.ts"
import { entries, field } from "./RawValue.ts"
import {
  DEFAULT_USAGE_BATCH_SIZE,
  DEFAULT_USAGE_BUFFER_LIMIT,
  DEFAULT_USAGE_FLUSH_INTERVAL_MS,
  type ResolvedUsage,
  type UsageSection
} from "./Config.ts"

/** Parses and validates a config document. `source` names it in errors (a path or "embedded default"). */
export const parseConfig = (text: string, env: Env, source: string): Result.Result<ResolvedConfig, ConfigError> =>
  Result.flatMap(parseConfigDocument(text, env, source), (value) => decodeConfig(value, source))

/**
 * The first half of `parseConfig`: YAML parse and env interpolation, giving the document as a plain
 * value (not yet validated). Used where the document is combined with another source first.
 */
export const parseConfigDocument = (
  text: string,
  env: Env,
  source: string
): Result.Result<Record<string, unknown>, ConfigError> => {
  const lineCounter = new LineCounter()
  const shielded = shieldReferences(text)
  const doc = parseDocument(shielded.text, { lineCounter, uniqueKeys: true, prettyErrors: false })
  if (doc.errors.length > 0) {
    return Result.fail(
      new ConfigError({
        source,
        issues: doc.errors.map((e) => {
          const pos = lineCounter.linePos(e.pos[0])
          return {
            path: `line ${pos.line}, column ${pos.col}`,
            message: `invalid YAML: ${e.message.split("\n")[0] ?? e.code}`
          }
        })
      })
    )
  }
  const raw: unknown = doc.toJS()
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return Result.fail(
      new ConfigError({
        source,
        issues: [{ path: "", message: "the config must be a YAML mapping with providers and models" }]
      })
    )
  }
  const issues: Array<ConfigIssue> = []
  const interpolated = interpolate(raw, env, issues, shielded.restore)
  if (issues.length > 0) return Result.fail(new ConfigError({ source, issues }))
  return Result.succeed(interpolated as Record<string, unknown>)
}

/** Validates an already-parsed config value (also the entry point for non-YAML sources). */
export const decodeConfig = (value: unknown, source: string): Result.Result<ResolvedConfig, ConfigError> => {
  const decoded = Schema.decodeUnknownExit(ConfigFile)(value, { onExcessProperty: "error", errors: "all" })
  if (Exit.isFailure(decoded)) {
    const issues: Array<ConfigIssue> = []
    for (const reason of decoded.cause.reasons) {
      if (reason._tag === "Fail" && reason.error instanceof Schema.SchemaError) {
        issues.push(...schemaIssues(reason.error))
      } else {
        issues.push({ path: "", message: "the config could not be validated" })
      }
    }
    issues.push(...referenceIssues(value))
    return Result.fail(new ConfigError({ source, issues }))
  }
  return resolve(decoded.value, source)
}

/** Whether `s` is an http(s) URL. */
export const validHttpUrl = (s: string): boolean => {
  try {
    const u = new URL(s)
    return u.protocol === "http:" || u.protocol === "https:"
  } catch {
    return false
  }
}

/**
 * Names and references: duplicate provider and model names, targets naming an unknown provider,
 * and the tenancy sections' ids, names, references and hashes.
 * Reads the value tolerantly so these are reported alongside schema problems, not after them.
 */
export const referenceIssues = (value: unknown): ReadonlyArray<ConfigIssue> => {
  const issues: Array<ConfigIssue> = []
  const providers = new Set<unknown>()
  entries(value, "providers").forEach((p, i) => {
    const name = field(p, "name")
    if (typeof name !== "string") return
    if (providers.has(name)) issues.push({ path: `providers[${i}].name`, message: `duplicate provider name "${name}"` })
    providers.add(name)
  })
  const models = new Set<unknown>()
  entries(value, "models").forEach((m, i) => {
    const name = field(m, "name")
    if (typeof name === "string") {
      if (models.has(name)) issues.push({ path: `models[${i}].name`, message: `duplicate model name "${name}"` })
      models.add(name)
    }
    entries(m, "targets").forEach((t, j) => {
      const provider = field(t, "provider")
      if (typeof provider === "string" && !providers.has(provider)) {
        issues.push({ path: `models[${i}].targets[${j}].provider`, message: `unknown provider "${provider}"` })
      }
    })
  })
  issues.push(...tenancyReferenceIssues(value))
  return issues
}

/** Per-field checks that need more than the schema, and compilation. */
export const resolve = (file: ConfigFile, source: string): Result.Result<ResolvedConfig, ConfigError> => {
  const issues: Array<ConfigIssue> = [...referenceIssues(file)]
  const providers = new Map<string, ResolvedProvider>()
  file.providers.forEach((p, i) => {
    const at = `providers[${i}]`
    const rules = KINDS[p.kind]
    let baseUrl = ""
    if (rules.baseUrl._tag !== "Unused") {
      const url = p.base_url ?? (rules.baseUrl._tag === "Default" ? rules.baseUrl.url : undefined)
      if (url === undefined) issues.push({ path: `${at}.base_url`, message: `required for kind "${p.kind}"` })
      else if (!validHttpUrl(url))
        issues.push({ path: `${at}.base_url`, message: `expected an http(s) URL, got "${url}"` })
      else baseUrl = url.replace(/\/+$/, "")
    } else if (p.base_url !== undefined) {
      issues.push({ path: `${at}.base_url`, message: `not used by kind "${p.kind}"` })
    }
    // A kind's own fields are its alone; what else it requires, its rules say.
    for (const other of KIND_NAMES) {
      if (other === p.kind) continue
      for (const field of KINDS[other].fields)
        if (p[field as keyof typeof p] !== undefined)
          issues.push({ path: `${at}.${field}`, message: `only allowed for kind "${other}"` })
    }
    issues.push(...rules.check(p, at))
    if (p.api_key !== undefined && p.auth !== undefined) {
      issues.push({ path: `${at}.auth`, message: "use either api_key or auth, not both" })
    }
    const connection = resolveConnection(p, at, issues)
    const userAgent = p.user_agent ?? DEFAULT_USER_AGENT
    if (/[\r\n\0]/.test(userAgent))
      issues.push({ path: `${at}.user_agent`, message: "header values may not contain line breaks" })
    const timeout = (value: DurationInput | undefined, fallback: number) =>
      value === undefined ? fallback : durationMillis(value)
    providers.set(p.name, {
      name: p.name,
      kind: p.kind,
      baseUrl,
      ...rules.resolve(p),
      auth: resolveAuth(p.auth ?? apiKeyAuth(rules.apiKeyHeader, p.api_key), `${at}.auth`, issues),
      headerOps: resolveHeaderOps(p.headers, `${at}.headers`, issues),
      connectTimeoutMs: timeout(p.timeout?.connect, DEFAULT_CONNECT_TIMEOUT_MS),
      connection,
      userAgent,
      requestTimeoutMs: timeout(p.timeout?.request, DEFAULT_REQUEST_TIMEOUT_MS),
      idleTimeoutMs: timeout(p.timeout?.idle, DEFAULT_IDLE_TIMEOUT_MS),
      breaker: {
        failureRate: p.breaker?.failure_rate ?? DEFAULT_BREAKER.failureRate,
        minRequests: p.breaker?.min_requests ?? DEFAULT_BREAKER.minRequests,
        windowMs: timeout(p.breaker?.window, DEFAULT_BREAKER.windowMs),
        cooldownMs: timeout(p.breaker?.cooldown, DEFAULT_BREAKER.cooldownMs)
      }
    })
  })
  const exactNames = new Set(file.models.map((m) => m.name).filter(isExactName))
  const defaultMaxTokens = file.limits?.default_max_tokens ?? DEFAULT_MAX_TOKENS
  const identifierLimit = file.server?.identifier_limit ?? DEFAULT_IDENTIFIER_LIMIT
  const models = new Map<string, ResolvedModel>()
  file.models.forEach((m, i) => {
    const at = `models[${i}]`
    let pattern: ModelPattern = { _tag: "Exact" }
    const compiled = compilePattern(m.name)
    if (Result.isSuccess(compiled)) pattern = compiled.success
    else issues.push({ path: `${at}.name`, message: compiled.failure })
    if (pattern._tag === "Exact" && m.name.length > identifierLimit) {
      issues.push({
        path: `${at}.name`,
        message: `longer than server.identifier_limit (${identifierLimit}), so no request could name it`
      })
    }
    const targets = m.targets.map((t, j): ResolvedTarget => {
      if (t.queue !== undefined && t.max_concurrency === undefined) {
        issues.push({ path: `${at}.targets[${j}].queue`, message: "needs max_concurrency on the same target" })
      }
      return {
        provider: t.provider,
        model: t.model ?? (pattern._tag === "Exact" ? m.name : undefined),
        weight: t.weight ?? 1,
        maxConcurrency: t.max_concurrency,
        queueSize: t.queue?.size ?? 0,
        queueTimeoutMs: t.queue?.timeout === undefined ? DEFAULT_QUEUE_TIMEOUT_MS : durationMillis(t.queue.timeout)
      }
    })
    ;(m.fallbacks ?? []).forEach((f, j) => {
      if (f === m.name) issues.push({ path: `${at}.fallbacks[${j}]`, message: "a model cannot fall back to itself" })
      else if (!exactNames.has(f))
        issues.push({
          path: `${at}.fallbacks[${j}]`,
          message: `unknown model "${f}" (fallbacks name models by their exact name)`
        })
    })
    const backoffMs = m.retry?.backoff === undefined ? DEFAULT_RETRY_BACKOFF_MS : durationMillis(m.retry.backoff)
    models.set(m.name, {
      name: m.name,
      pattern,
      strategy: m.strategy ?? "weighted",
      targets,
      retry: {
        attempts: m.retry?.attempts ?? (targets.length > 1 ? 1 : 0),
        backoffMs,
        maxBackoffMs: Math.max(
          backoffMs,
          m.retry?.max_backoff === undefined ? DEFAULT_RETRY_MAX_BACKOFF_MS : durationMillis(m.retry.max_backoff)
        )
      },
      fallbacks: m.fallbacks ?? [],
      pricing: m.pricing === undefined ? undefined : resolvePricing(m.pricing),
      defaultMaxTokens: m.default_max_tokens ?? defaultMaxTokens
    })
  })
  const routes = (file.routes ?? []).map((r, i): ResolvedRoute => {
    if (!exactNames.has(r.model))
      issues.push({
        path: `routes[${i}].model`,
        message: `unknown model "${r.model}" (routes name models by their exact name)`
      })
    return { path: r.path, matches: compileGlob(r.path), model: r.model }
  })
  const tenancy = resolveTenancy(file, issues)
  const ipRateLimit = resolveIpRateLimit(file.server?.ip_rate_limit, issues)
  const tracing = resolveTracing(file.tracing, issues)
  if (issues.length > 0) return Result.fail(new ConfigError({ source, issues }))
  return Result.succeed({
    server: {
      host: file.server?.host ?? DEFAULT_HOST,
      port: file.server?.port ?? DEFAULT_PORT,
      bodyLimit: file.server?.body_limit === undefined ? DEFAULT_BODY_LIMIT : byteCount(file.server.body_limit),
      shutdownTimeoutMs:
        file.server?.shutdown_timeout === undefined
          ? DEFAULT_SHUTDOWN_TIMEOUT_MS
          : durationMillis(file.server.shutdown_timeout),
      bounds: resolveBounds(file.server),
      ipRateLimit
    },
    masterKey: file.master_key === undefined || file.master_key === "" ? undefined : Redacted.make(file.master_key),
    providers,
    usage: resolveUsage(file.usage),
    metrics: {
      enabled: file.metrics?.enabled ?? true,
      path: file.metrics?.path ?? "/metrics",
      requireKey: file.metrics?.require_key ?? false
    },
    tracing,
    logging: { level: file.logging?.level ?? "info", format: file.logging?.format ?? "text" },
    models,
    modelNames: [...models.keys()],
    routes,
    tenancy,
    pricing: new Map(Object.entries(file.pricing ?? {}).map(([name, p]) => [name, resolvePricing(p)])),
    limits: { redis: resolveRedis(file.limits?.redis), defaultMaxTokens }
  })
}

const resolveTracing = (tracing: ConfigFile["tracing"], issues: Array<ConfigIssue>): ResolvedConfig["tracing"] => {
  const otlp = tracing?.otlp
  const endpoint = otlp?.endpoint === undefined || otlp.endpoint === "" ? undefined : otlp.endpoint
  if (endpoint !== undefined && !validHttpUrl(endpoint))
    issues.push({ path: "tracing.otlp.endpoint", message: `expected an http(s) URL, got "${endpoint}"` })
  for (const name of Object.keys(otlp?.headers ?? {})) {
    if (!HEADER_NAME.test(name))
      issues.push({ path: `tracing.otlp.headers.${name}`, message: "expected an HTTP header name" })
  }
  const langfuse = tracing?.langfuse
  const host = langfuse?.host === undefined || langfuse.host === "" ? undefined : langfuse.host
  if (host !== undefined && !validHttpUrl(host))
    issues.push({ path: "tracing.langfuse.host", message: `expected an http(s) URL, got "${host}"` })
  const nonEmpty = (v: string | undefined) => (v === undefined || v === "" ? undefined : v)
  return {
    langfuse:
      langfuse === undefined
        ? undefined
        : {
            publicKey: nonEmpty(langfuse.public_key),
            secretKey: nonEmpty(langfuse.secret_key) === undefined ? undefined : Redacted.make(langfuse.secret_key!),
            host,
            sampleRate: langfuse.sample_rate,
            flushIntervalMs: langfuse.flush_interval === undefined ? undefined : durationMillis(langfuse.flush_interval)
          },
    endpoint,
    headers:
      otlp?.headers === undefined
        ? undefined
        : Object.fromEntries(Object.entries(otlp.headers).map(([k, v]) => [k, Redacted.make(v)])),
    protocol: otlp?.protocol,
    sampleRate: tracing?.sample_rate,
    captureContent: tracing?.capture_content ?? false,
    serviceName: tracing?.service_name
  }
}

const resolveRedis = (redis: NonNullable<ConfigFile["limits"]>["redis"]): ResolvedRedis | undefined =>
  redis === undefined
    ? undefined
    : {
        url: redis.url === undefined || redis.url === "" ? undefined : Redacted.make(redis.url),
        onError: redis.on_error ?? "fail_open",
        keyPrefix: redis.key_prefix ?? DEFAULT_REDIS_KEY_PREFIX
      }

/** A price with every kind filled in: cache reads and writes at the input price, reasoning at the output price, unless written. */
export const resolvePricing = (p: PricingSection): ResolvedPricing => ({
  input: p.input,
  cache_read: p.cache_read ?? p.input,
  cache_write: p.cache_write ?? p.input,
  reasoning: p.reasoning ?? p.output,
  output: p.output
})

/** `server.ip_rate_limit`: burst defaults to ceil(rps); every trusted proxy must be an address or CIDR range. */
const resolveIpRateLimit = (
  section: (typeof ServerSection.Type)["ip_rate_limit"],
  issues: Array<ConfigIssue>
): ResolvedIpRateLimit | undefined => {
  if (section === undefined) return undefined
  const ranges: Array<Cidr> = []
  ;(section.trusted_proxies ?? []).forEach((text, i) => {
    const cidr = parseCidr(text)
    if (typeof cidr === "string") issues.push({ path: `server.ip_rate_limit.trusted_proxies[${i}]`, message: cidr })
    else ranges.push(cidr)
  })
  return {
    rps: section.rps,
    burst: section.burst ?? Math.ceil(section.rps),
    trustedProxies: section.trusted_proxies ?? [],
    trusted: cidrMatcher(ranges)
  }
}

const millisOr = (input: DurationInput | undefined, fallback: number): number =>
  input === undefined ? fallback : durationMillis(input)
const bytesOr = (input: ByteSizeInput | undefined, fallback: number): number =>
  input === undefined ? fallback : byteCount(input)

/** The `server` section's bounds with their defaults (README "Limits and bounds"). */
export const resolveBounds = (server: typeof ServerSection.Type | undefined): ResolvedBounds => ({
  headerLimit: bytesOr(server?.header_limit, DEFAULT_HEADER_LIMIT),
  headerTimeoutMs: millisOr(server?.header_timeout, DEFAULT_HEADER_TIMEOUT_MS),
  idleTimeoutMs: millisOr(server?.idle_timeout, DEFAULT_CONNECTION_IDLE_TIMEOUT_MS),
  stallTimeoutMs: millisOr(server?.stall_timeout, DEFAULT_STALL_TIMEOUT_MS),
  identifierLimit: server?.identifier_limit ?? DEFAULT_IDENTIFIER_LIMIT,
  jsonDepthLimit: server?.json_depth_limit ?? DEFAULT_JSON_DEPTH_LIMIT,
  upstreamBodyLimit: bytesOr(server?.upstream_body_limit, DEFAULT_UPSTREAM_BODY_LIMIT),
  sseLineLimit: bytesOr(server?.sse_line_limit, DEFAULT_SSE_LINE_LIMIT),
  preambleLimit: bytesOr(server?.preamble_limit, DEFAULT_PREAMBLE_LIMIT),
  patternTargetLimit: server?.pattern_target_limit ?? DEFAULT_PATTERN_TARGET_LIMIT,
  uploadLimit: bytesOr(server?.upload_limit, DEFAULT_UPLOAD_LIMIT),
  uploadReplayLimit: bytesOr(server?.upload_replay_limit, DEFAULT_UPLOAD_REPLAY_LIMIT)
})

/** The `usage` section with its defaults. */
export const resolveUsage = (usage: typeof UsageSection.Type | undefined): ResolvedUsage => ({
  enabled: usage?.enabled ?? true,
  sqlitePath: usage?.sqlite_path,
  bufferLimit: usage?.buffer_limit ?? DEFAULT_USAGE_BUFFER_LIMIT,
  flushIntervalMs: millisOr(usage?.flush_interval, DEFAULT_USAGE_FLUSH_INTERVAL_MS),
  batchSize: usage?.batch_size ?? DEFAULT_USAGE_BATCH_SIZE
})

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** How a provider's `api_key` is sent: in its kind's header, else as a bearer token. */
const apiKeyAuth = (header: string | undefined, key: string | undefined): ProviderAuth | undefined =>
  key === undefined
    ? undefined
    : header === undefined
      ? { type: "bearer", token: key }
      : { type: "header", name: header, value: key }

/** The connection settings a provider may write (none of them for kind `mock`, which connects nowhere). */
const CONNECTION_FIELDS = ["proxy", "tls", "user_agent", "keep_alive"] as const

/**
 * `proxy`, `tls` and `keep_alive`: a proxy is `none` or an http(s) URL with a host and no path (its
 * value is never quoted back: it may hold credentials). `tls.ca_file` is only named here; config
 * loading reads it (config/CaFiles.ts).
 */
const resolveConnection = (
  p: typeof ProviderSection.Type,
  at: string,
  issues: Array<ConfigIssue>
): ResolvedConnection => {
  if (!KINDS[p.kind].connects) {
    for (const name of CONNECTION_FIELDS)
      if (p[name] !== undefined) issues.push({ path: `${at}.${name}`, message: `not used by kind "${p.kind}"` })
    return DEFAULT_CONNECTION
  }
  let proxy: ResolvedConnection["proxy"] = DEFAULT_CONNECTION.proxy
  if (p.proxy === "none") proxy = { _tag: "None" }
  else if (p.proxy !== undefined) {
    if (validProxyUrl(p.proxy)) proxy = { _tag: "Url", url: p.proxy }
    else
      issues.push({
        path: `${at}.proxy`,
        message: 'expected an http(s) URL with a host and no path (http://proxy.internal:3128), or "none"'
      })
  }
  return {
    proxy,
    verify: p.tls?.verify ?? DEFAULT_CONNECTION.verify,
    caFile: p.tls?.ca_file,
    keepAlive: p.keep_alive ?? DEFAULT_CONNECTION.keepAlive
  }
}

/** An http(s) proxy URL: a host, optionally credentials and a port, nothing after them. */
const validProxyUrl = (s: string): boolean => {
  try {
    const u = new URL(s)
    return (
      (u.protocol === "http:" || u.protocol === "https:") &&
      u.hostname !== "" &&
      (u.pathname === "/" || u.pathname === "") &&
      u.search === "" &&
      u.hash === ""
    )
  } catch {
    return false
  }
}

const resolveAuth = (
  auth: ProviderAuth | undefined,
  at: string,
  issues: Array<ConfigIssue>
): ResolvedProvider["auth"] => {
  if (auth === undefined) return undefined
  switch (auth.type) {
    case "none":
      return undefined
    case "bearer":
      return auth.token === "" ? undefined : { header: "authorization", value: Redacted.make(`Bearer ${auth.token}`) }
    case "basic":
      return {
        header: "authorization",
        value: Redacted.make(`Basic ${Base64.encode(`${auth.username}:${auth.password}`)}`)
      }
    case "header":
      if (!HEADER_NAME.test(auth.name)) {
        issues.push({ path: `${at}.name`, message: "not a valid HTTP header name" })
        return undefined
      }
      return { header: auth.name.toLowerCase(), value: Redacted.make(auth.value) }
  }
}

const resolveHeaderOps = (
  headers: ConfigFile["providers"][number]["headers"],
  at: string,
  issues: Array<ConfigIssue>
): ResolvedProvider["headerOps"] => {
  if (headers === undefined) return []
  const ops: Array<HeaderOperation & { readonly path: string }> = Array.isArray(headers)
    ? headers.map((h: HeaderOperation, j: number) => ({ ...h, path: `${at}[${j}]` }))
    : Object.entries(headers).map(([key, value]) => ({ op: "replace" as const, key, value, path: `${at}.${key}` }))
  const out: Array<ResolvedProvider["headerOps"][number]> = []
  for (const h of ops) {
    if (!HEADER_NAME.test(h.key))
      issues.push({ path: Array.isArray(headers) ? `${h.path}.key` : h.path, message: "not a valid HTTP header name" })
    else if (h.op !== "remove" && h.value === undefined)
      issues.push({ path: `${h.path}.value`, message: `required for op "${h.op}"` })
    else if (h.value !== undefined && /[\r\n\0]/.test(h.value))
      issues.push({
        path: Array.isArray(headers) ? `${h.path}.value` : h.path,
        message: "header values may not contain line breaks"
      })
    else out.push({ op: h.op, key: h.key.toLowerCase(), value: h.value ?? "" })
  }
  return out
}

export { compileGlob, compilePattern } from "./ModelPattern.ts"
