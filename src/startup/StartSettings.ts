/**
 * What every config snapshot takes from the start rather than from the config: the listen address
 * (flags and environment beat the file; a running server cannot move anyway), the master key
 * when the config sets none (generated once for the run) and the Redis that counts rate limits
 * (`limits.redis`, its url else `REDIS_URL`: each worker connects once, at its start). Plain data:
 * the owner sends it to every worker, and owner and workers apply it the same way.
 */
import * as Redacted from "effect/Redacted"
import { DEFAULT_REDIS_KEY_PREFIX, type RedisOnError, type ResolvedConfig } from "../config/Config.ts"
import type { Env } from "../config/interpolate.ts"

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
