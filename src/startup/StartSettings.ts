/**
 * What every config snapshot takes from the start rather than from the config: the listen address
 * (flags and environment beat the file; a running server cannot move anyway), the master key
 * when the config sets none (generated once for the run), the Redis that counts rate limits
 * (`limits.redis`, its url else `REDIS_URL`: each worker connects once, at its start) and where
 * traces go (`tracing`, else the standard `OTEL_*` variables: each worker exports its own). Plain data:
 * the owner sends it to every worker, and owner and workers apply it the same way.
 */
import * as Redacted from "effect/Redacted"
import {
  DEFAULT_REDIS_KEY_PREFIX,
  type OtlpProtocol,
  type RedisOnError,
  type ResolvedConfig
} from "../config/Config.ts"
import type { Env } from "../config/interpolate.ts"
import { validHttpUrl } from "../config/loadConfig.ts"
import type { TraceDestination, TracingSettings } from "../tracing/Tracing.ts"

/** Where key and project limits are counted across replicas. */
export interface RedisSettings {
  readonly url: string
  readonly onError: RedisOnError
  readonly keyPrefix: string
}

export interface StartSettings {
  readonly host: string
  readonly port: number
  /** The master key used when a config sets none. */
  readonly masterKey: string
  /** Undefined: limits are counted in this gateway's shared memory. */
  readonly redis: RedisSettings | undefined
  /** Undefined: no traces. */
  readonly tracing: TracingSettings | undefined
}

/**
 * `limits.redis` with its url, else `REDIS_URL` (which alone turns Redis on, with the defaults);
 * undefined when neither is set. A string: `limits.redis` without a url and no `REDIS_URL`.
 */
export const redisSettings = (config: ResolvedConfig, env: Env): RedisSettings | undefined | string => {
  const configured = config.limits.redis
  const fromEnv = env["REDIS_URL"]
  const url =
    configured?.url !== undefined
      ? Redacted.value(configured.url)
      : fromEnv !== undefined && fromEnv !== ""
        ? fromEnv
        : undefined
  if (url === undefined)
    return configured === undefined ? undefined : "limits.redis: no url (set limits.redis.url or REDIS_URL)"
  return {
    url,
    onError: configured?.onError ?? "fail_open",
    keyPrefix: configured?.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX
  }
}

/** `OTEL_EXPORTER_OTLP_HEADERS`: `k1=v1,k2=v2`, values percent-encoded; a string names the bad entry. */
const otlpHeaders = (text: string): Record<string, string> | string => {
  const out: Record<string, string> = {}
  for (const entry of text.split(",")) {
    if (entry.trim() === "") continue
    const at = entry.indexOf("=")
    const name = entry.slice(0, at).trim()
    if (at <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      return "OTEL_EXPORTER_OTLP_HEADERS: expected name=value pairs separated by commas"
    try {
      out[name] = decodeURIComponent(entry.slice(at + 1).trim())
    } catch {
      return `OTEL_EXPORTER_OTLP_HEADERS: the value of ${name} has a malformed percent escape`
    }
  }
  return out
}

/** The traces URL of an OTLP endpoint: `<endpoint>/v1/traces`, unless it already names that path. */
const tracesUrl = (endpoint: string): string => {
  const base = endpoint.replace(/\/+$/, "")
  return base.endsWith("/v1/traces") ? base : `${base}/v1/traces`
}

/** The default Langfuse host (its EU cloud). */
export const LANGFUSE_HOST = "https://cloud.langfuse.com"
const DEFAULT_EXPORT_INTERVAL_MS = 1_000

/** A rate from a variable: undefined when unset, a string naming it when it is not in 0..1. */
const rateFrom = (name: string, text: string | undefined): number | undefined | string => {
  if (text === undefined) return undefined
  const rate = Number(text)
  return rate >= 0 && rate <= 1 ? rate : `${name}: expected a number from 0 to 1, got "${text}"`
}

/**
 * Where traces go: `tracing.otlp` with what it leaves out taken from the standard variables
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_PROTOCOL`,
 * `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER_ARG`), and `tracing.langfuse` with `LANGFUSE_*`: the
 * config file wins field by field. Undefined when neither has a destination (no traces); a string
 * names a setting that cannot be used.
 */
export const tracingSettings = (config: ResolvedConfig, env: Env): TracingSettings | undefined | string => {
  const t = config.tracing
  const fromEnv = (name: string): string | undefined => {
    const v = env[name]
    return v === undefined || v.trim() === "" ? undefined : v.trim()
  }
  const destinations: Array<TraceDestination> = []

  // ---- an OpenTelemetry collector
  const endpoint = t.endpoint ?? fromEnv("OTEL_EXPORTER_OTLP_ENDPOINT")
  if (endpoint !== undefined) {
    if (t.endpoint === undefined && !validHttpUrl(endpoint))
      return `OTEL_EXPORTER_OTLP_ENDPOINT: expected an http(s) URL, got "${endpoint}"`
    let headers: Record<string, string> = {}
    if (t.headers !== undefined) {
      headers = Object.fromEntries(Object.entries(t.headers).map(([k, v]) => [k, Redacted.value(v)]))
    } else {
      const text = fromEnv("OTEL_EXPORTER_OTLP_HEADERS")
      if (text !== undefined) {
        const parsed = otlpHeaders(text)
        if (typeof parsed === "string") return parsed
        headers = parsed
      }
    }
    const envProtocol = fromEnv("OTEL_EXPORTER_OTLP_PROTOCOL")
    if (
      t.protocol === undefined &&
      envProtocol !== undefined &&
      envProtocol !== "http/protobuf" &&
      envProtocol !== "http/json"
    )
      return `OTEL_EXPORTER_OTLP_PROTOCOL: expected http/protobuf or http/json, got "${envProtocol}"`
    const rate = t.sampleRate ?? rateFrom("OTEL_TRACES_SAMPLER_ARG", fromEnv("OTEL_TRACES_SAMPLER_ARG"))
    if (typeof rate === "string") return rate
    destinations.push({
      name: "otlp",
      url: tracesUrl(endpoint),
      headers,
      protocol: t.protocol ?? (envProtocol as OtlpProtocol | undefined) ?? "http/protobuf",
      exportIntervalMs: DEFAULT_EXPORT_INTERVAL_MS,
      sampleRate: rate ?? 1
    })
  }

  // ---- Langfuse, through its OTLP endpoint
  const lf = t.langfuse
  const publicKey = lf?.publicKey ?? fromEnv("LANGFUSE_PUBLIC_KEY")
  const secretKey = lf?.secretKey !== undefined ? Redacted.value(lf.secretKey) : fromEnv("LANGFUSE_SECRET_KEY")
  if (publicKey !== undefined || secretKey !== undefined) {
    if (publicKey === undefined) return "tracing.langfuse: public_key is missing (or LANGFUSE_PUBLIC_KEY)"
    if (secretKey === undefined) return "tracing.langfuse: secret_key is missing (or LANGFUSE_SECRET_KEY)"
    const host = lf?.host ?? fromEnv("LANGFUSE_HOST") ?? fromEnv("LANGFUSE_BASEURL") ?? LANGFUSE_HOST
    if (lf?.host === undefined && !validHttpUrl(host)) return `LANGFUSE_HOST: expected an http(s) URL, got "${host}"`
    const rate = lf?.sampleRate ?? rateFrom("LANGFUSE_SAMPLE_RATE", fromEnv("LANGFUSE_SAMPLE_RATE"))
    if (typeof rate === "string") return rate
    const intervalText = fromEnv("LANGFUSE_FLUSH_INTERVAL")
    const interval = lf?.flushIntervalMs ?? (intervalText === undefined ? undefined : Number(intervalText))
    if (interval !== undefined && !(Number.isInteger(interval) && interval > 0))
      return `LANGFUSE_FLUSH_INTERVAL: expected a whole number of milliseconds, got "${intervalText}"`
    destinations.push({
      name: "langfuse",
      url: `${host.replace(/\/+$/, "")}/api/public/otel/v1/traces`,
      headers: {
        authorization: `Basic ${btoa(`${publicKey}:${secretKey}`)}`,
        "x-langfuse-ingestion-version": "4"
      },
      protocol: "http/json",
      exportIntervalMs: interval ?? DEFAULT_EXPORT_INTERVAL_MS,
      sampleRate: rate ?? 1
    })
  }

  if (destinations.length === 0) return undefined
  return {
    destinations,
    sampleRate: Math.max(...destinations.map((d) => d.sampleRate)),
    captureContent: t.captureContent,
    serviceName: t.serviceName ?? fromEnv("OTEL_SERVICE_NAME") ?? "llmgate"
  }
}

export type StartedConfig = ResolvedConfig & { readonly masterKey: Redacted.Redacted<string> }

export const applyStart = (config: ResolvedConfig, start: StartSettings): StartedConfig => ({
  ...config,
  server: { ...config.server, host: start.host, port: start.port },
  masterKey: config.masterKey ?? Redacted.make(start.masterKey),
  // What the workers connected to at start, whatever a reload says (shown by /admin/v1/config).
  limits: {
    ...config.limits,
    redis: start.redis === undefined ? undefined : { ...start.redis, url: Redacted.make(start.redis.url) }
  }
})

/** host:port of a Redis url, for messages (never its credentials). */
export const redisHost = (url: string): string => {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || "6379"}`
  } catch {
    return "(an unparsable url)"
  }
}
