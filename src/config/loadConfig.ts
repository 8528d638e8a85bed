/**
 * Config text → ResolvedConfig: YAML parse, env interpolation, schema decode (unknown fields are
 * errors), then cross-reference checks and compilation into the maps the request path reads.
 * Pure: the caller reads the file and supplies the environment.
 */
import { Exit, Redacted, Result, Schema } from "effect"
import { LineCounter, parseDocument } from "yaml"
import {
  ConfigFile, DEFAULT_BODY_LIMIT, DEFAULT_SHUTDOWN_TIMEOUT_MS, DEFAULT_HOST, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_PORT, DEFAULT_REQUEST_TIMEOUT_MS,
  type ResolvedConfig, type ResolvedModel, type ResolvedProvider
} from "./Config.ts"
import { schemaIssues } from "../domain/SchemaIssues.ts"
import { ConfigError, type ConfigIssue } from "./ConfigError.ts"
import { type Env, interpolate } from "./interpolate.ts"
import { byteCount, durationMillis } from "./units.ts"

/** Parses and validates a config document. `source` names it in errors (a path or "embedded default"). */
export const parseConfig = (text: string, env: Env, source: string): Result.Result<ResolvedConfig, ConfigError> => {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false })
  if (doc.errors.length > 0) {
    return Result.fail(new ConfigError({
      source,
      issues: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0])
        return { path: `line ${pos.line}, column ${pos.col}`, message: `invalid YAML: ${e.message.split("\n")[0] ?? e.code}` }
      })
    }))
  }
  const raw: unknown = doc.toJS()
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return Result.fail(new ConfigError({ source, issues: [{ path: "", message: "the config must be a YAML mapping with providers and models" }] }))
  }
  const issues: Array<ConfigIssue> = []
  const interpolated = interpolate(raw, env, issues)
  if (issues.length > 0) return Result.fail(new ConfigError({ source, issues }))
  return decodeConfig(interpolated, source)
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

const validHttpUrl = (s: string): boolean => {
  try {
    const u = new URL(s)
    return u.protocol === "http:" || u.protocol === "https:"
  } catch {
    return false
  }
}

const entries = (value: unknown, key: string): ReadonlyArray<unknown> => {
  if (value === null || typeof value !== "object") return []
  const list: unknown = (value as Record<string, unknown>)[key]
  return Array.isArray(list) ? list : []
}
const field = (value: unknown, key: string): unknown =>
  value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined

/**
 * Names and references: duplicate provider and model names, targets naming an unknown provider.
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
  return issues
}

/** Per-field checks that need more than the schema, and compilation. */
export const resolve = (file: ConfigFile, source: string): Result.Result<ResolvedConfig, ConfigError> => {
  const issues: Array<ConfigIssue> = [...referenceIssues(file)]
  const providers = new Map<string, ResolvedProvider>()
  file.providers.forEach((p, i) => {
    const at = `providers[${i}]`
    let baseUrl = ""
    if (p.kind === "openai") {
      if (p.base_url === undefined) issues.push({ path: `${at}.base_url`, message: `required for kind "openai"` })
      else if (!validHttpUrl(p.base_url)) issues.push({ path: `${at}.base_url`, message: `expected an http(s) URL, got "${p.base_url}"` })
      else baseUrl = p.base_url.replace(/\/+$/, "")
      if (p.mock !== undefined) issues.push({ path: `${at}.mock`, message: `only allowed for kind "mock"` })
    } else if (p.base_url !== undefined) {
      issues.push({ path: `${at}.base_url`, message: `not used by kind "${p.kind}"` })
    }
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(p.headers ?? {})) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) issues.push({ path: `${at}.headers.${k}`, message: "not a valid HTTP header name" })
      else if (/[\r\n\0]/.test(v)) issues.push({ path: `${at}.headers.${k}`, message: "header values may not contain line breaks" })
      else headers[k.toLowerCase()] = v
    }
    providers.set(p.name, {
      name: p.name,
      kind: p.kind,
      baseUrl,
      apiKey: p.api_key === undefined || p.api_key === "" ? undefined : Redacted.make(p.api_key),
      headers,
      requestTimeoutMs: p.timeout?.request === undefined ? DEFAULT_REQUEST_TIMEOUT_MS : durationMillis(p.timeout.request),
      idleTimeoutMs: p.timeout?.idle === undefined ? DEFAULT_IDLE_TIMEOUT_MS : durationMillis(p.timeout.idle),
      mock: {
        latencyMs: p.mock?.latency === undefined ? 0 : durationMillis(p.mock.latency),
        chunks: p.mock?.chunks ?? 4,
        chunkIntervalMs: p.mock?.chunk_interval === undefined ? 20 : durationMillis(p.mock.chunk_interval),
        failureRate: p.mock?.failure_rate ?? 0
      }
    })
  })
  const models = new Map<string, ResolvedModel>()
  file.models.forEach((m) => {
    models.set(m.name, { name: m.name, targets: m.targets.map((t) => ({ provider: t.provider, model: t.model ?? m.name })) })
  })
  if (issues.length > 0) return Result.fail(new ConfigError({ source, issues }))
  return Result.succeed({
    server: {
      host: file.server?.host ?? DEFAULT_HOST,
      port: file.server?.port ?? DEFAULT_PORT,
      bodyLimit: file.server?.body_limit === undefined ? DEFAULT_BODY_LIMIT : byteCount(file.server.body_limit),
      shutdownTimeoutMs: file.server?.shutdown_timeout === undefined ? DEFAULT_SHUTDOWN_TIMEOUT_MS : durationMillis(file.server.shutdown_timeout)
    },
    masterKey: file.master_key === undefined || file.master_key === "" ? undefined : Redacted.make(file.master_key),
    providers,
    models,
    modelNames: [...models.keys()]
  })
}
