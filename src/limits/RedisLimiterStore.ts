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
 * - Budgets (limits/Budgets.ts) are checked and reserved by the same `admit` script, all or
 *   nothing with the rate limits: `<prefix>budget:<key|project>:<id>:<period>:<start>`, a hash of
 *   the period's spend (`sm` micro-dollars, `sp` pico-dollars below one), what requests in flight
 *   reserve (`rv`, and each one's `r:<lease>`), expiring an hour after its period ends (never for
 *   `total`); beside it `…:reserved`, a sorted set of those reservations by lease, score its expiry,
 *   refreshed with the `max_parallel` leases, so a dead replica's reservations come back within a
 *   lease. The period and its start come from this worker's clock (Budgets.ts `periodAt`; around
 *   a reset, replicas whose clocks disagree may count a request in the neighbouring period). `settle`
 *   gives the reservation back and adds the real cost; `seed` writes spend rebuilt from the usage
 *   store into a period's hash only when Redis has none (Redis is the truth); `spend` reads a
 *   period's spend and reservations (those past their lease left out) and changes nothing.
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
import type { BudgetPeriod, RedisOnError } from "../config/Config.ts"
import { type GatewayError, gatewayError } from "../domain/GatewayError.ts"
import type {
  Admission,
  AdmissionHandle,
  BudgetSubject,
  LimiterStore,
  LimitSubject,
  Reservation
} from "./RateLimiter.ts"
import { rateLimited } from "./RateLimiter.ts"
import {
  type BudgetSeed,
  type BudgetView,
  budgetMicros,
  budgetRefusal,
  type Period,
  periodAt,
  splitPico
} from "./Budgets.ts"
import {
  headersOf,
  type LimitHeaders,
  mergeHeaders,
  NO_HEADERS,
  type Refusal,
  refusal,
  type Settlement,
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
const VIEW_WORDS = 7
/** How long a period's budget hash outlives the period (settles of requests that straddled its end). */
const BUDGET_GRACE_MS = 3_600_000
/** At most this many budget hashes per seed or spend script. */
const SCRIPT_BATCH = 500
/** A limit that is not set, in the scripts' arguments. */
const NONE = -1

const ADMIT: RedisScript = {
  name: "admit",
  source: `
-- KEYS: per subject its counter hash, its lease set, its budget hash and its budget reservations.
-- ARGV: window ms, tokens, lease ms, lease id, idle ttl ms, cost (micro-dollars), then per subject
-- rpm, tpm, rps, burst, max_parallel, budget (micro-dollars), budget expiry (epoch ms) (-1: not set).
-- Answers {admitted, now, per subject: window start, requests, tokens, bucket (milli-tokens, -1
-- without rps), in flight, spent, reserved (-1 without a budget)}, after the commit when admitted,
-- before it otherwise.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, tokens, leaseMs, lease, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local cost = tonumber(ARGV[6])
local n = #KEYS / 4
local views, room = {}, true
-- 1. Each subject as it stands now (an ended window reads as fresh, the bucket refilled, expired
--    reservations given back), and whether it has room for one more request reserving \`tokens\`
--    and \`cost\`.
for i = 1, n do
  local a = 6 + (i - 1) * 7
  local v = { rpm = tonumber(ARGV[a + 1]), tpm = tonumber(ARGV[a + 2]), rps = tonumber(ARGV[a + 3]),
              burst = tonumber(ARGV[a + 4]), par = tonumber(ARGV[a + 5]), bm = tonumber(ARGV[a + 6]),
              bx = tonumber(ARGV[a + 7]) }
  local c = redis.call('HMGET', KEYS[4 * i - 3], 'ws', 'wr', 'wt', 'bt', 'ba')
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
    redis.call('ZREMRANGEBYSCORE', KEYS[4 * i - 2], '-inf', now)
    v.inflight = redis.call('ZCARD', KEYS[4 * i - 2])
    if v.inflight >= v.par then room = false end
  end
  if v.rpm >= 0 and v.wr + 1 > v.rpm then room = false end
  if v.tpm >= 0 and v.wt + tokens > v.tpm then room = false end
  v.spent, v.reserved = -1, -1
  if v.bm >= 0 then
    local bh, bz = KEYS[4 * i - 1], KEYS[4 * i]
    -- reservations past their lease belong to requests whose replica died: given back
    local gone = redis.call('ZRANGEBYSCORE', bz, '-inf', now)
    for _, m in ipairs(gone) do
      local amount = tonumber(redis.call('HGET', bh, 'r:' .. m)) or 0
      redis.call('HDEL', bh, 'r:' .. m)
      redis.call('HINCRBY', bh, 'rv', -amount)
    end
    if #gone > 0 then redis.call('ZREMRANGEBYSCORE', bz, '-inf', now) end
    local b = redis.call('HMGET', bh, 'sm', 'rv')
    v.spent, v.reserved = tonumber(b[1]) or 0, math.max(0, tonumber(b[2]) or 0)
    local used = v.spent + v.reserved
    if used >= v.bm or used + cost > v.bm then room = false end
  end
  views[i] = v
end
-- 2. All or nothing: commit to every subject only when every one has room.
if room then
  for i = 1, n do
    local v, h, z = views[i], KEYS[4 * i - 3], KEYS[4 * i - 2]
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
    if v.bm >= 0 then
      local bh, bz = KEYS[4 * i - 1], KEYS[4 * i]
      redis.call('HINCRBY', bh, 'rv', cost)
      redis.call('HSET', bh, 'r:' .. lease, cost)
      redis.call('ZADD', bz, now + leaseMs, lease)
      if v.bx >= 0 then
        redis.call('PEXPIREAT', bh, v.bx)
        redis.call('PEXPIREAT', bz, v.bx)
      end
      v.reserved = v.reserved + cost
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
  table.insert(out, v.spent); table.insert(out, v.reserved)
end
return out
`
}

const SETTLE: RedisScript = {
  name: "settle",
  source: `
-- KEYS: n counter hashes, then budget hash and reservation set pairs. ARGV: n, reserved tokens,
-- actual tokens (-1: unknown), per counter hash the window start reserved in, then the lease id,
-- the cost's micro-dollars and its pico-dollars below one.
-- A window's tokens move by (actual - reserved) if the window is still that one; each budget's
-- reservation under the lease is given back and the cost added (if its period's hash still exists).
local n, reserved, actual = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if actual >= 0 then
  for i = 1, n do
    local c = redis.call('HMGET', KEYS[i], 'ws', 'wt')
    if tonumber(c[1]) == tonumber(ARGV[3 + i]) then
      redis.call('HSET', KEYS[i], 'wt', math.max(0, (tonumber(c[2]) or 0) + actual - reserved))
    end
  end
end
local lease, micros, pico = ARGV[4 + n], tonumber(ARGV[5 + n]), tonumber(ARGV[6 + n])
for i = n + 1, #KEYS, 2 do
  local bh, bz = KEYS[i], KEYS[i + 1]
  if redis.call('EXISTS', bh) == 1 then
    local amount = tonumber(redis.call('HGET', bh, 'r:' .. lease))
    if amount then
      redis.call('HDEL', bh, 'r:' .. lease)
      redis.call('HINCRBY', bh, 'rv', -amount)
    end
    local p = (tonumber(redis.call('HGET', bh, 'sp')) or 0) + pico
    local carry = 0
    if p >= 1000000 then carry, p = 1, p - 1000000 end
    redis.call('HSET', bh, 'sp', p)
    redis.call('HINCRBY', bh, 'sm', micros + carry)
  end
  redis.call('ZREM', bz, lease)
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
-- KEYS: one lease set. ARGV: lease ms, whether the set keeps its own expiry (1: a budget's
-- reservations, which expire with their period), then lease ids still in flight: their expiry
-- moves on (XX: a lease already released or expired is not brought back).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local leaseMs = tonumber(ARGV[1])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + leaseMs, ARGV[i]) end
if ARGV[2] ~= '1' then redis.call('PEXPIRE', KEYS[1], 2 * leaseMs) end
return {}
`
}

const SEED: RedisScript = {
  name: "seed",
  source: `
-- KEYS: budget hashes of a period each. ARGV: per hash its rebuilt spend (micro-dollars) and expiry
-- (epoch ms, -1: never). A hash that exists already is Redis's own count and is kept.
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('HSET', KEYS[i], 'sm', ARGV[2 * i - 1], 'sp', 0, 'rv', 0)
    local expiry = tonumber(ARGV[2 * i])
    if expiry >= 0 then redis.call('PEXPIREAT', KEYS[i], expiry) end
  end
end
return {}
`
}

const SPEND: RedisScript = {
  name: "spend",
  source: `
-- KEYS: per subject its budget hash and its reservation set. Answers per subject {spent, reserved}
-- (micro-dollars). Read only: reservations past their lease (their replica died) are left out of
-- reserved, as the next admission will give them back, but nothing is changed here.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS, 2 do
  local b = redis.call('HMGET', KEYS[i], 'sm', 'rv')
  local reserved = tonumber(b[2]) or 0
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[i + 1], '-inf', now)) do
    reserved = reserved - (tonumber(redis.call('HGET', KEYS[i], 'r:' .. m)) or 0)
  end
  table.insert(out, tonumber(b[1]) or 0)
  table.insert(out, math.max(0, reserved))
end
return out
`
}

export interface RedisStoreOptions {
  readonly keyPrefix: string
  readonly onError: RedisOnError
  /** The window of requests_per_minute and tokens_per_minute (tests shorten it). */
  readonly windowMs?: number
  /** How long a max_parallel lease lives unrefreshed (tests shorten it). */
  readonly leaseMs?: number
  /** The worker's clock, for the log interval and budget periods (rate limits use Redis time). */
  readonly now?: () => number
}

const counterKey = (prefix: string, s: LimitSubject) => `${prefix}limit:${s.scope}:${s.id}`
/** A budget period's hash (its reservations: `…:reserved`). */
const budgetKey = (prefix: string, scope: string, id: string, period: BudgetPeriod, start: number) =>
  `${prefix}budget:${scope}:${id}:${period}:${start}`
/** When a period's budget hash expires (-1: never, `total`). */
const budgetExpiry = (p: Period): number => (p.end === undefined ? NONE : p.end + BUDGET_GRACE_MS)
const limitArg = (n: number | undefined) => (n === undefined ? NONE : n)

/** Random lease ids: 128 bits in hex. */
const leaseId = (): string => Hex.encode(crypto.getRandomValues(new Uint8Array(16)))

const OPERATIONS = ["admit", "settle", "release", "refresh", "seed", "spend"] as const
type Operation = (typeof OPERATIONS)[number]

/**
 * Counts failures and logs them at most once per interval (the first one at once), and the
 * recovery when a call succeeds after failures.
 */
const makeFailureLog = (onError: RedisOnError, now: () => number) => {
  let failed: Record<Operation, number> = { admit: 0, settle: 0, release: 0, refresh: 0, seed: 0, spend: 0 }
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
        failed = { admit: 0, settle: 0, release: 0, refresh: 0, seed: 0, spend: 0 }
        return Effect.logWarning(message)
      }),
    success: Effect.suspend(() => {
      if (!down) return Effect.void
      down = false
      loggedAt = undefined
      const left = counts()
      failed = { admit: 0, settle: 0, release: 0, refresh: 0, seed: 0, spend: 0 }
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
    const clock = options.now ?? Date.now
    const log = makeFailureLog(options.onError, clock)
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
      const cost = reservation.cost ?? 0
      const lease = leaseId()
      const at = clock()
      const periods = subjects.map((s) => (s.budget === undefined ? undefined : periodAt(s.budget.period, at)))
      const budgetKeys = subjects.map((s, i) => {
        const p = periods[i]
        return p === undefined || s.budget === undefined
          ? `${prefix}budget:${s.scope}:${s.id}:none`
          : budgetKey(prefix, s.scope, s.id, s.budget.period, p.start)
      })
      const keys = subjects.flatMap((s, i) => [
        counterKey(prefix, s),
        `${counterKey(prefix, s)}:parallel`,
        budgetKeys[i]!,
        `${budgetKeys[i]!}:reserved`
      ])
      const args: Array<string | number> = [
        windowMs,
        reservation.tokens,
        leaseMs,
        lease,
        Math.max(IDLE_TTL_MS, 2 * windowMs),
        cost
      ]
      subjects.forEach((s, i) => {
        const l = s.limits
        args.push(limitArg(l.requestsPerMinute), limitArg(l.tokensPerMinute), limitArg(l.requestsPerSecond))
        args.push(
          l.requestsPerSecond === undefined ? NONE : (l.burst ?? Math.ceil(l.requestsPerSecond)),
          limitArg(l.maxParallel)
        )
        const p = periods[i]
        args.push(s.budget === undefined ? NONE : budgetMicros(s.budget), p === undefined ? NONE : budgetExpiry(p))
      })
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
            const budgets = subjects.flatMap((s, i) =>
              s.budget === undefined ? [] : [{ hash: budgetKeys[i]!, reservations: `${budgetKeys[i]!}:reserved` }]
            )
            if (leases.length > 0 || budgets.length > 0)
              live.set(lease, [...leases, ...budgets.map((b) => b.reservations)])
            const counters = subjects.map((s, i) => ({
              key: counterKey(prefix, s),
              windowStart: views[i]!.windowStart
            }))
            return {
              _tag: "Admitted",
              handle: { _tag: "Redis", counters, reserved: reservation.tokens, leases, lease, budgets, cost },
              headers
            }
          }
          for (let i = 0; i < subjects.length; i++) {
            const s = subjects[i]!
            const p = periods[i]
            const at = 2 + i * VIEW_WORDS
            if (s.budget === undefined || p === undefined) continue
            const refused = budgetRefusal(
              { period: p, spent: reply[at + 5]!, reserved: reply[at + 6]! },
              s.budget,
              s.scope,
              cost,
              clock()
            )
            if (refused !== undefined) return { _tag: "Rejected", reason: refused, headers }
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

    const settle = (handle: AdmissionHandle, used: Settlement): Effect.Effect<void> => {
      if (handle._tag !== "Redis") return Effect.void
      const tokens = used.tokens === undefined || used.tokens === handle.reserved ? NONE : used.tokens
      if (tokens === NONE && handle.budgets.length === 0) return Effect.void
      // The cost unknown: the reservation is spent as reserved.
      const cost = splitPico(used.costPico ?? BigInt(handle.cost) * 1_000_000n)
      return Effect.ignore(
        call(
          "settle",
          SETTLE,
          [...handle.counters.map((c) => c.key), ...handle.budgets.flatMap((b) => [b.hash, b.reservations])],
          [
            handle.counters.length,
            handle.reserved,
            tokens,
            ...handle.counters.map((c) => c.windowStart),
            handle.lease,
            cost.micros,
            cost.pico
          ]
        )
      )
    }

    const release = (handle: AdmissionHandle): Effect.Effect<void> => {
      if (handle._tag !== "Redis") return Effect.void
      live.delete(handle.lease)
      if (handle.leases.length === 0) return Effect.void
      return Effect.ignore(call("release", RELEASE, handle.leases, [handle.lease]))
    }

    const seed = (seeds: ReadonlyArray<BudgetSeed>): Effect.Effect<void> => {
      const batches: Array<ReadonlyArray<BudgetSeed>> = []
      for (let i = 0; i < seeds.length; i += SCRIPT_BATCH) batches.push(seeds.slice(i, i + SCRIPT_BATCH))
      return Effect.forEach(
        batches,
        (batch) =>
          Effect.ignore(
            call(
              "seed",
              SEED,
              batch.map((b) => budgetKey(prefix, b.scope, b.id, b.period, b.start)),
              batch.flatMap((b) => [b.spent, budgetExpiry(periodAt(b.period, b.start))])
            )
          ),
        { discard: true }
      )
    }

    /** Budgets' current periods, SCRIPT_BATCH subjects per script. */
    const spend = (subjects: ReadonlyArray<BudgetSubject>): Effect.Effect<ReadonlyArray<BudgetView>, GatewayError> => {
      const at = clock()
      const asked = subjects.map((s) => {
        const period = periodAt(s.budget.period, at)
        return { period, hash: budgetKey(prefix, s.scope, s.id, s.budget.period, period.start) }
      })
      const batches: Array<typeof asked> = []
      for (let i = 0; i < asked.length; i += SCRIPT_BATCH) batches.push(asked.slice(i, i + SCRIPT_BATCH))
      return Effect.forEach(batches, (batch) =>
        call(
          "spend",
          SPEND,
          batch.flatMap((b) => [b.hash, `${b.hash}:reserved`]),
          []
        ).pipe(
          Effect.map((reply) =>
            batch.map((b, i): BudgetView => ({ period: b.period, spent: reply[2 * i]!, reserved: reply[2 * i + 1]! }))
          )
        )
      ).pipe(
        Effect.map((views) => views.flat()),
        Effect.mapError(() =>
          gatewayError({
            _tag: "Unavailable",
            message: "Budget spend cannot be read right now (its store is unreachable)."
          })
        )
      )
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
      return Effect.forEach(
        bySet,
        // A budget's reservations expire with their period, not with their leases.
        ([set, ids]) =>
          Effect.ignore(call("refresh", REFRESH, [set], [leaseMs, set.endsWith(":reserved") ? 1 : 0, ...ids])),
        { discard: true }
      )
    })
    yield* Effect.forkScoped(
      Effect.repeat(Effect.delay(refresh, `${Math.max(1, Math.floor(leaseMs / 3))} millis`), Schedule.forever)
    )

    return { admit, settle, release, seed, spend } satisfies LimiterStore
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
