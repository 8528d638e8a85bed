/**
 * The limiter store in Redis (`limits.redis`): the keys' and projects' rate limits counted once
 * for every replica sharing the Redis, with the semantics of the memory store (limits/RateLimits.ts:
 * one 60 s window per subject anchored at the first request after the previous ended, shared by
 * requests_per_minute and tokens_per_minute; a token bucket for requests_per_second + burst;
 * max_parallel; tokens reserved, then settled in the window they were reserved in).
 *
 * Each call is one Lua script, atomic in Redis, reading the time from Redis (`TIME`), so replicas
 * whose clocks disagree still share one window:
 * - `admit` reads every subject's counters (the key's, then its project's), decides whether each
 *   has room, and only if all have commits the request to all of them (a refusal counts nothing
 *   anywhere). It answers the counters as they stand (after the commit when admitted), from which
 *   the refusal and the `x-ratelimit-*` headers are derived here with the memory store's functions.
 * - `settle` corrects the reserved tokens, if the window is still the one reserved in.
 * - `release` gives back the request's `max_parallel` place.
 *
 * Keys (`<prefix>` is `limits.redis.key_prefix`, default `llmgate:`):
 * - `<prefix>limit:<key|project>:<id>`, a hash: `ws` window start (Redis ms), `wr` requests and
 *   `wt` tokens in it, `bt` bucket tokens at `ba` (ms). It expires when idle (2 minutes, or the
 *   bucket's refill time if longer), so unused keys vanish and read as fresh.
 * - `<prefix>limit:<key|project>:<id>:parallel`, a sorted set of the requests in flight: member a
 *   random lease id, score its expiry (Redis ms). A replica that dies holding places cannot hold
 *   them forever: an expired lease is dropped by the next admission. A live request keeps its lease
 *   by refreshing it (every LEASE_MS / 3, one script per set for all of this worker's leases), so a
 *   stream longer than the lease keeps its place. A lease, not a counter: a counter decremented by
 *   its holder stays wrong forever once the holder is gone.
 *
 * When Redis cannot be reached (refused, reset, a command past its timeout), `on_error` decides:
 * `fail_open` admits the request uncounted (no rate-limit headers), `fail_closed` refuses it with
 * 503 `service_unavailable` (a status clients retry, unlike a 429 that would blame their own rate).
 * Failed settles and releases never fail the request (a lost release expires with its lease).
 * Failures are logged at most once per LOG_INTERVAL_MS per worker with how many calls failed; the
 * connection reconnects by itself and the first call that succeeds is logged as the recovery.
 */
import * as Hex from "effect/encoding/Hex"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { RedisOnError } from "../config/Config.ts"
import { type GatewayError, gatewayError } from "../domain/GatewayError.ts"
import type { Admission, AdmissionHandle, LimiterStore, LimitSubject, Reservation } from "./RateLimiter.ts"
import { rateLimited } from "./RateLimiter.ts"
import {
  headersOf,
  type LimitHeaders,
  mergeHeaders,
  NO_HEADERS,
  type Refusal,
  refusal,
  type View,
  WINDOW_MS
} from "./RateLimits.ts"
import { RedisClients, type RedisError, type RedisScript, type RedisScripts } from "./RedisScripts.ts"

/** How long a `max_parallel` lease lives without a refresh (a dead replica's places come back after this). */
export const LEASE_MS = 60_000
/** How long an idle subject's counters are kept (at least; longer for a slowly refilling bucket). */
export const IDLE_TTL_MS = 120_000
/** At most one log line about Redis failures per worker in this interval. */
export const LOG_INTERVAL_MS = 30_000
/** How long one Redis command may take. */
export const COMMAND_TIMEOUT_MS = 500

/** Numbers per subject in the admit script's answer. */
const VIEW_WORDS = 5
/** A limit that is not set, in the scripts' arguments. */
const NONE = -1

const ADMIT: RedisScript = {
  name: "admit",
  source: `
-- KEYS: per subject its counter hash and its lease set. ARGV: window ms, tokens, lease ms, lease id,
-- idle ttl ms, then per subject rpm, tpm, rps, burst, max_parallel (-1: not set).
-- Answers {admitted, now, per subject: window start, requests, tokens, bucket (milli-tokens, -1
-- without rps), in flight}, after the commit when admitted, before it otherwise.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, tokens, leaseMs, lease, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local n = #KEYS / 2
local views, room = {}, true
-- 1. Each subject as it stands now (an ended window reads as fresh, the bucket refilled), and
--    whether it has room for one more request reserving \`tokens\`.
for i = 1, n do
  local a = 5 + (i - 1) * 5
  local v = { rpm = tonumber(ARGV[a + 1]), tpm = tonumber(ARGV[a + 2]), rps = tonumber(ARGV[a + 3]),
              burst = tonumber(ARGV[a + 4]), par = tonumber(ARGV[a + 5]) }
  local c = redis.call('HMGET', KEYS[2 * i - 1], 'ws', 'wr', 'wt', 'bt', 'ba')
  local ws = tonumber(c[1]) or 0
  if ws == 0 or now >= ws + window or now < ws then
    v.ws, v.wr, v.wt = now, 0, 0
  else
    v.ws, v.wr, v.wt = ws, tonumber(c[2]) or 0, tonumber(c[3]) or 0
  end
  v.bucket = -1
  if v.rps >= 0 then
    local ba = tonumber(c[5]) or 0
    if ba == 0 then v.bucket = v.burst
    else v.bucket = math.min(v.burst, (tonumber(c[4]) or 0) + math.max(0, now - ba) * v.rps / 1000) end
    if v.bucket < 1 then room = false end
  end
  v.inflight = 0
  if v.par >= 0 then
    -- leases past their expiry belong to requests whose replica died: their places come back
    redis.call('ZREMRANGEBYSCORE', KEYS[2 * i], '-inf', now)
    v.inflight = redis.call('ZCARD', KEYS[2 * i])
    if v.inflight >= v.par then room = false end
  end
  if v.rpm >= 0 and v.wr + 1 > v.rpm then room = false end
  if v.tpm >= 0 and v.wt + tokens > v.tpm then room = false end
  views[i] = v
end
-- 2. All or nothing: commit to every subject only when every one has room.
if room then
  for i = 1, n do
    local v, h, z = views[i], KEYS[2 * i - 1], KEYS[2 * i]
    v.wr, v.wt = v.wr + 1, v.wt + tokens
    redis.call('HSET', h, 'ws', v.ws, 'wr', v.wr, 'wt', v.wt)
    local keep = ttl
    if v.rps >= 0 then
      v.bucket = v.bucket - 1
      redis.call('HSET', h, 'bt', v.bucket, 'ba', now)
      keep = math.max(ttl, math.ceil(v.burst * 1000 / v.rps))
    end
    redis.call('PEXPIRE', h, keep)
    if v.par >= 0 then
      redis.call('ZADD', z, now + leaseMs, lease)
      redis.call('PEXPIRE', z, 2 * leaseMs)
      v.inflight = v.inflight + 1
    end
  end
end
local out = { room and 1 or 0, now }
for i = 1, n do
  local v = views[i]
  local bucket = -1
  if v.bucket >= 0 then bucket = math.floor(v.bucket * 1000) end
  table.insert(out, v.ws); table.insert(out, v.wr); table.insert(out, v.wt)
  table.insert(out, bucket); table.insert(out, v.inflight)
end
return out
`
}

const SETTLE: RedisScript = {
  name: "settle",
  source: `
-- KEYS: counter hashes. ARGV: reserved, actual, then per hash the window start reserved in.
-- The window's tokens move by (actual - reserved) if the window is still that one.
for i = 1, #KEYS do
  local c = redis.call('HMGET', KEYS[i], 'ws', 'wt')
  if tonumber(c[1]) == tonumber(ARGV[2 + i]) then
    redis.call('HSET', KEYS[i], 'wt', math.max(0, (tonumber(c[2]) or 0) + tonumber(ARGV[2]) - tonumber(ARGV[1])))
  end
end
return {}
`
}

const RELEASE: RedisScript = {
  name: "release",
  source: `
-- KEYS: lease sets. ARGV: the lease id. The request's max_parallel places are given back.
for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return {}
`
}

const REFRESH: RedisScript = {
  name: "refresh",
  source: `
-- KEYS: one lease set. ARGV: lease ms, then lease ids still in flight: their expiry moves on
-- (XX: a lease already released or expired is not brought back).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local leaseMs = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + leaseMs, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], 2 * leaseMs)
return {}
`
}

export interface RedisStoreOptions {
  readonly keyPrefix: string
  readonly onError: RedisOnError
  /** The window of requests_per_minute and tokens_per_minute (tests shorten it). */
  readonly windowMs?: number
  /** How long a max_parallel lease lives unrefreshed (tests shorten it). */
  readonly leaseMs?: number
  /** The worker's clock, for the log interval only (limits use Redis time). */
  readonly now?: () => number
}

const counterKey = (prefix: string, s: LimitSubject) => `${prefix}limit:${s.scope}:${s.id}`
const limitArg = (n: number | undefined) => (n === undefined ? NONE : n)

/** Random lease ids: 128 bits in hex. */
const leaseId = (): string => Hex.encode(crypto.getRandomValues(new Uint8Array(16)))

const OPERATIONS = ["admit", "settle", "release", "refresh"] as const
type Operation = (typeof OPERATIONS)[number]

/**
 * Counts failures and logs them at most once per interval (the first one at once), and the
 * recovery when a call succeeds after failures.
 */
const makeFailureLog = (onError: RedisOnError, now: () => number) => {
  let failed: Record<Operation, number> = { admit: 0, settle: 0, release: 0, refresh: 0 }
  let loggedAt: number | undefined
  let down = false
  const counts = () =>
    OPERATIONS.filter((op) => failed[op] > 0)
      .map(
        (op) =>
          `${failed[op]} ${op}${op === "admit" ? (onError === "fail_open" ? " (admitted uncounted)" : " (refused 503)") : ""}`
      )
      .join(", ")
  return {
    failure: (op: Operation, e: RedisError): Effect.Effect<void> =>
      Effect.suspend(() => {
        failed = { ...failed, [op]: failed[op] + 1 }
        down = true
        const at = now()
        if (loggedAt !== undefined && at - loggedAt < LOG_INTERVAL_MS) return Effect.void
        loggedAt = at
        const message = `rate limits: Redis unavailable (${e.reason._tag}: ${e.reason.message}); on_error ${onError}; failed calls: ${counts()}`
        failed = { admit: 0, settle: 0, release: 0, refresh: 0 }
        return Effect.logWarning(message)
      }),
    success: Effect.suspend(() => {
      if (!down) return Effect.void
      down = false
      loggedAt = undefined
      const left = counts()
      failed = { admit: 0, settle: 0, release: 0, refresh: 0 }
      return Effect.logInfo(
        `rate limits: Redis reachable again${left === "" ? "" : `; failed calls since the last report: ${left}`}`
      )
    })
  }
}

/** The subject's view as the admit script answered it (its words from `at`). */
const viewAt = (reply: ReadonlyArray<number>, at: number): View => ({
  windowStart: reply[at]!,
  requests: reply[at + 1]!,
  tokens: reply[at + 2]!,
  bucket: reply[at + 3]! < 0 ? Infinity : reply[at + 3]! / 1000,
  parallel: reply[at + 4]!
})

/**
 * The Redis store over `redis`. Its lease refresher runs in the scope; the connection's lifetime is
 * the caller's.
 */
export const makeRedisStore = (
  redis: RedisScripts,
  options: RedisStoreOptions
): Effect.Effect<LimiterStore, never, Scope.Scope> =>
  Effect.gen(function* () {
    const prefix = options.keyPrefix
    const windowMs = options.windowMs ?? WINDOW_MS
    const leaseMs = options.leaseMs ?? LEASE_MS
    const log = makeFailureLog(options.onError, options.now ?? Date.now)
    /** This worker's leases in flight: lease id → its lease sets. */
    const live = new Map<string, ReadonlyArray<string>>()

    const call = (
      op: Operation,
      script: RedisScript,
      keys: ReadonlyArray<string>,
      args: ReadonlyArray<string | number>
    ) =>
      redis.run(script, keys, args).pipe(
        Effect.tap(() => log.success),
        Effect.tapError((e) => log.failure(op, e))
      )

    const admit = (reservation: Reservation): Effect.Effect<Admission, GatewayError> => {
      const subjects = reservation.subjects
      const lease = leaseId()
      const keys = subjects.flatMap((s) => [counterKey(prefix, s), `${counterKey(prefix, s)}:parallel`])
      const args: Array<string | number> = [
        windowMs,
        reservation.tokens,
        leaseMs,
        lease,
        Math.max(IDLE_TTL_MS, 2 * windowMs)
      ]
      for (const s of subjects) {
        const l = s.limits
        args.push(limitArg(l.requestsPerMinute), limitArg(l.tokensPerMinute), limitArg(l.requestsPerSecond))
        args.push(
          l.requestsPerSecond === undefined ? NONE : (l.burst ?? Math.ceil(l.requestsPerSecond)),
          limitArg(l.maxParallel)
        )
      }
      return call("admit", ADMIT, keys, args).pipe(
        Effect.map((reply): Admission => {
          const now = reply[1]!
          const views = subjects.map((_, i) => viewAt(reply, 2 + i * VIEW_WORDS))
          let headers: LimitHeaders = NO_HEADERS
          subjects.forEach((s, i) => {
            headers = mergeHeaders(headers, headersOf(views[i]!, s.limits, now, windowMs))
          })
          if (reply[0] === 1) {
            const leases = subjects
              .filter((s) => s.limits.maxParallel !== undefined)
              .map((s) => `${counterKey(prefix, s)}:parallel`)
            if (leases.length > 0) live.set(lease, leases)
            const counters = subjects.map((s, i) => ({
              key: counterKey(prefix, s),
              windowStart: views[i]!.windowStart
            }))
            return {
              _tag: "Admitted",
              handle: { _tag: "Redis", counters, reserved: reservation.tokens, leases, lease },
              headers
            }
          }
          let worst: Refusal | undefined
          subjects.forEach((s, i) => {
            const r = refusal(views[i]!, s.limits, s.scope, now, reservation.tokens, windowMs)
            if (r !== undefined && (worst === undefined || r.retryAfterMs > worst.retryAfterMs)) worst = r
          })
          // The script refused, so some limit has no room; a bucket read back rounded may hide which.
          const named = worst ?? {
            limit: "requests_per_second",
            value: subjects[0]?.limits.requestsPerSecond ?? 0,
            scope: subjects[0]?.scope ?? "key",
            retryAfterMs: 1000
          }
          return { _tag: "Rejected", reason: rateLimited(named), headers }
        }),
        Effect.catch(
          (): Effect.Effect<Admission, GatewayError> =>
            options.onError === "fail_open"
              ? Effect.succeed({ _tag: "Admitted", handle: { _tag: "Uncounted" }, headers: NO_HEADERS })
              : Effect.fail(
                  gatewayError({
                    _tag: "Unavailable",
                    message: "Rate limits cannot be checked right now (their store is unreachable). Retry shortly."
                  })
                )
        )
      )
    }

    const settle = (handle: AdmissionHandle, actualTokens: number): Effect.Effect<void> => {
      if (handle._tag !== "Redis" || actualTokens === handle.reserved) return Effect.void
      return Effect.ignore(
        call(
          "settle",
          SETTLE,
          handle.counters.map((c) => c.key),
          [handle.reserved, actualTokens, ...handle.counters.map((c) => c.windowStart)]
        )
      )
    }

    const release = (handle: AdmissionHandle): Effect.Effect<void> => {
      if (handle._tag !== "Redis" || handle.leases.length === 0) return Effect.void
      live.delete(handle.lease)
      return Effect.ignore(call("release", RELEASE, handle.leases, [handle.lease]))
    }

    /** Moves every live lease's expiry on, one script per lease set. */
    const refresh = Effect.suspend(() => {
      const bySet = new Map<string, Array<string>>()
      for (const [lease, sets] of live) {
        for (const set of sets) {
          const ids = bySet.get(set)
          if (ids === undefined) bySet.set(set, [lease])
          else ids.push(lease)
        }
      }
      return Effect.forEach(bySet, ([set, ids]) => Effect.ignore(call("refresh", REFRESH, [set], [leaseMs, ...ids])), {
        discard: true
      })
    })
    yield* Effect.forkScoped(
      Effect.repeat(Effect.delay(refresh, `${Math.max(1, Math.floor(leaseMs / 3))} millis`), Schedule.forever)
    )

    return { admit, settle, release } satisfies LimiterStore
  })

/** The store on a connection of its own to `settings.url`, both closed with the scope. */
export const connectRedisStore = (settings: {
  readonly url: string
  readonly onError: RedisOnError
  readonly keyPrefix: string
}): Effect.Effect<LimiterStore, never, RedisClients | Scope.Scope> =>
  Effect.gen(function* () {
    const clients = yield* RedisClients
    const redis = yield* clients.connect({ url: settings.url, commandTimeoutMs: COMMAND_TIMEOUT_MS })
    return yield* makeRedisStore(redis, { keyPrefix: settings.keyPrefix, onError: settings.onError })
  })
