// The Redis limiter store against the real Redis (test/support/redis.ts; skipped when unreachable,
// failed under CI=true), through the runtimes' ioredis port: the memory store's scenarios where
// they apply (windows shortened with the store's test-only `windowMs`), key + project all or
// nothing, settle, max_parallel leases (released, and expired when their holder is gone), exact
// admission under concurrent load from several connections, and on_error with Redis cut off
// behind a TCP proxy, then recovery.
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as Scope from "effect/Scope"
import { connect, createServer, type Socket } from "node:net"
import { describe, expect, it, type TestContext } from "vitest"
import * as RedisClientsIoredis from "../../../runtimes/common/RedisClientsIoredis.ts"
import type { ResolvedBudget, ResolvedLimits } from "../../../src/config/Config.ts"
import type { Admission, LimiterStore, LimitSubject, Reservation } from "../../../src/limits/RateLimiter.ts"
import { periodAt } from "../../../src/limits/Budgets.ts"
import { NO_LIMITS } from "../../../src/limits/RateLimits.ts"
import { makeRedisStore, type RedisStoreOptions } from "../../../src/limits/RedisLimiterStore.ts"
import { RedisClients } from "../../../src/limits/RedisScripts.ts"
import { withTestRedis } from "../../support/redis.ts"
import { startTcpProxy } from "../../support/tcpProxy.ts"

const limits = (l: Partial<ResolvedLimits>): ResolvedLimits => ({ ...NO_LIMITS, ...l })
const key = (l: Partial<ResolvedLimits>, id = "k1"): LimitSubject => ({ scope: "key", id, limits: limits(l) })
const project = (l: Partial<ResolvedLimits>, id = "p1"): LimitSubject => ({ scope: "project", id, limits: limits(l) })
const one = (...subjects: ReadonlyArray<LimitSubject>): Reservation => ({ subjects, tokens: 0 })

interface Harness {
  readonly store: LimiterStore
  readonly admit: (r: Reservation) => Promise<Admission>
  /** Ends the store (its lease refresher) and closes its connection, as a replica that dies. */
  readonly close: () => Promise<void>
}

/** A store on its own connection to `url`, closed when the test finishes. */
const open = async (ctx: TestContext, url: string, options: RedisStoreOptions): Promise<Harness> => {
  const scope = Effect.runSync(Scope.make())
  const store = await Effect.runPromise(
    Effect.gen(function* () {
      const clients = yield* RedisClients
      const redis = yield* clients.connect({ url, commandTimeoutMs: 500 })
      return yield* makeRedisStore(redis, options)
    }).pipe(Scope.provide(scope), Effect.provide(RedisClientsIoredis.layer))
  )
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
  ctx.onTestFinished(close)
  return { store, admit: (r) => Effect.runPromise(store.admit(r)), close }
}

const setup = async (ctx: TestContext, options: Partial<RedisStoreOptions> = {}) => {
  const redis = await withTestRedis(ctx)
  const h = await open(ctx, redis.url, { keyPrefix: redis.prefix, onError: "fail_open", ...options })
  return { ...h, redis }
}

const countAdmitted = async (admit: (r: Reservation) => Promise<Admission>, r: Reservation, n: number) => {
  let admitted = 0
  for (let i = 0; i < n; i++) if ((await admit(r))._tag === "Admitted") admitted++
  return admitted
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A TCP relay to Redis whose answers can be held back: the connection stays open and Redis seems to hang. */
const hangingRelay = async (ctx: TestContext, host: string, port: number) => {
  let holding = false
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(port, host)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on("error", () => undefined)
      s.on("close", () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.on("data", (d) => upstream.write(d))
    upstream.on("data", (d) => {
      if (!holding) client.write(d)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  ctx.onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  )
  const address = server.address()
  return {
    port: typeof address === "object" && address !== null ? address.port : 0,
    hold: () => {
      holding = true
    }
  }
}

describe("RedisLimiterStore", () => {
  it("requests_per_minute admits exactly the limit in a window, with headers, then the next window starts at the next request", async (ctx) => {
    const { admit } = await setup(ctx, { windowMs: 400 })
    const r = one(key({ requestsPerMinute: 3 }))
    const first = await admit(r)
    expect(first._tag).toBe("Admitted")
    expect(first.headers.requests).toMatchObject({ limit: 3, remaining: 2 })
    expect(await countAdmitted(admit, r, 5)).toBe(2)
    const refused = await admit(r)
    if (refused._tag !== "Rejected") throw new Error("expected a refusal")
    expect(refused.reason).toMatchObject({ limit: "requests_per_minute", value: 3, scope: "key" })
    expect(refused.reason.retry_after_ms).toBeGreaterThan(0)
    expect(refused.reason.retry_after_ms).toBeLessThanOrEqual(400)
    expect(refused.headers.requests).toMatchObject({ limit: 3, remaining: 0 })
    await sleep(450)
    expect(await countAdmitted(admit, r, 5)).toBe(3)
  })

  it("a refusal by the project counts nothing on the key, and vice versa", async (ctx) => {
    const { admit } = await setup(ctx)
    const k1 = one(key({ requestsPerMinute: 5 }, "k1"), project({ requestsPerMinute: 2 }))
    const k2 = one(key({ requestsPerMinute: 5 }, "k2"), project({ requestsPerMinute: 2 }))
    expect(await countAdmitted(admit, k1, 4)).toBe(2)
    const refused = await admit(k2)
    expect(refused._tag === "Rejected" && refused.reason.scope).toBe("project")
    // k1 was refused twice by the project: its own count is still 2 of 5.
    const alone = await admit(one(key({ requestsPerMinute: 5 }, "k1")))
    expect(alone.headers.requests).toMatchObject({ limit: 5, remaining: 2 })
  })

  it("tokens are reserved at admission and settled to the real usage", async (ctx) => {
    const { admit, store } = await setup(ctx)
    const r = (tokens: number): Reservation => ({ subjects: [key({ tokensPerMinute: 1000 })], tokens })
    const a = await admit(r(700))
    if (a._tag !== "Admitted") throw new Error("expected admission")
    expect(a.headers.tokens).toMatchObject({ limit: 1000, remaining: 300 })
    expect((await admit(r(400)))._tag).toBe("Rejected")
    await Effect.runPromise(store.settle(a.handle, { tokens: 100, costPico: undefined }))
    const b = await admit(r(400))
    expect(b._tag).toBe("Admitted")
    expect(b.headers.tokens).toMatchObject({ remaining: 500 })
  })

  it("requests_per_second + burst is a token bucket", async (ctx) => {
    const { admit } = await setup(ctx)
    const r = one(key({ requestsPerSecond: 2, burst: 3 }))
    expect(await countAdmitted(admit, r, 5)).toBe(3)
    const refused = await admit(r)
    expect(refused._tag === "Rejected" && refused.reason._tag === "RateLimited" && refused.reason.limit).toBe(
      "requests_per_second"
    )
    await sleep(600)
    expect(await countAdmitted(admit, r, 3)).toBe(1)
  })

  it("max_parallel counts requests in flight; release gives the place back", async (ctx) => {
    const { admit, store } = await setup(ctx)
    const r = one(key({ maxParallel: 2 }))
    const a = await admit(r)
    const b = await admit(r)
    const c = await admit(r)
    expect([a._tag, b._tag, c._tag]).toEqual(["Admitted", "Admitted", "Rejected"])
    expect(c._tag === "Rejected" && c.reason._tag === "RateLimited" && c.reason.limit).toBe("max_parallel")
    if (a._tag !== "Admitted") throw new Error("expected admission")
    await Effect.runPromise(store.release(a.handle))
    expect((await admit(r))._tag).toBe("Admitted")
  })

  it("a live lease is refreshed past its lifetime; a dead holder's lease expires", async (ctx) => {
    const redis = await withTestRedis(ctx)
    const options: RedisStoreOptions = { keyPrefix: redis.prefix, onError: "fail_open", leaseMs: 300 }
    const live = await open(ctx, redis.url, options)
    const dying = await open(ctx, redis.url, options)
    const other = await open(ctx, redis.url, options)
    const r = one(key({ maxParallel: 2 }))
    expect((await live.admit(r))._tag).toBe("Admitted")
    expect((await dying.admit(r))._tag).toBe("Admitted")
    await dying.close()
    expect((await other.admit(r))._tag).toBe("Rejected")
    await sleep(700)
    // The dead holder's place came back; the live one is still held (refreshed every 100 ms).
    expect((await other.admit(r))._tag).toBe("Admitted")
    expect((await other.admit(r))._tag).toBe("Rejected")
  })

  it("many concurrent admissions over several connections admit exactly the limit", async (ctx) => {
    const redis = await withTestRedis(ctx)
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => open(ctx, redis.url, { keyPrefix: redis.prefix, onError: "fail_closed" }))
    )
    const r = one(key({ requestsPerMinute: 60, tokensPerMinute: 100_000 }), project({ requestsPerMinute: 1000 }))
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => stores[i % stores.length]!.admit({ ...r, tokens: 10 }))
    )
    expect(results.filter((a) => a._tag === "Admitted")).toHaveLength(60)
    const last = await stores[0]!.admit(one(project({ requestsPerMinute: 1000 })))
    // The project counted only the 60 admitted, plus this one.
    expect(last.headers.requests).toMatchObject({ limit: 1000, remaining: 1000 - 61 })
  })

  it("idle counters expire, and every key the store writes is under its prefix", async (ctx) => {
    const { admit, redis } = await setup(ctx)
    await admit(one(key({ requestsPerMinute: 5, maxParallel: 3 }), project({ requestsPerSecond: 1 })))
    expect(await redis.keys()).toEqual([
      `${redis.prefix}limit:key:k1`,
      `${redis.prefix}limit:key:k1:parallel`,
      `${redis.prefix}limit:project:p1`
    ])
  })

  it("a Redis that stops answering holds no call past the command timeout (500 ms): the policy applies", async (ctx) => {
    const redis = await withTestRedis(ctx)
    const relay = await hangingRelay(ctx, redis.host, redis.port)
    const h = await open(ctx, `redis://127.0.0.1:${relay.port}`, { keyPrefix: redis.prefix, onError: "fail_open" })
    const r = one(key({ requestsPerMinute: 100, maxParallel: 10 }))
    const a = await h.admit(r)
    expect(a._tag === "Admitted" && a.handle._tag).toBe("Redis")
    relay.hold()
    const started = Date.now()
    const b = await h.admit(r)
    expect(b._tag === "Admitted" && b.handle._tag).toBe("Uncounted")
    if (a._tag === "Admitted") {
      await Effect.runPromise(h.store.settle(a.handle, { tokens: 5, costPico: undefined }))
      await Effect.runPromise(h.store.release(a.handle))
    }
    // admit, settle and release each gave up after 500 ms, none failed its caller.
    expect(Date.now() - started).toBeLessThan(3 * 500 + 500)
  })

  it("failures are logged at most once per 30 s per store, with how many calls failed, and the recovery once", async (ctx) => {
    const redis = await withTestRedis(ctx)
    const proxy = await startTcpProxy({ targetHost: redis.host, targetPort: redis.port })
    ctx.onTestFinished(() => proxy.close())
    const clock = { now: 1_000_000 }
    const h = await open(ctx, `redis://127.0.0.1:${proxy.port}`, {
      keyPrefix: redis.prefix,
      onError: "fail_open",
      now: () => clock.now
    })
    const lines: Array<string> = []
    const logger = Logger.make((o) => {
      lines.push(`${o.logLevel} ${Array.isArray(o.message) ? o.message.join(" ") : String(o.message)}`)
    })
    const admit = () =>
      Effect.runPromise(
        h.store.admit(one(key({ requestsPerMinute: 100 }))).pipe(Effect.provide(Logger.layer([logger])))
      )
    await admit()
    proxy.drop()
    await proxy.refuse()
    for (let i = 0; i < 10; i++) await admit()
    clock.now += 29_999
    await admit()
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /^Warn rate limits: Redis unavailable \(Unreachable: .*\); on_error fail_open; failed calls: 1 admit \(admitted uncounted\)$/
    )
    clock.now += 1
    await admit()
    expect(lines).toHaveLength(2)
    expect(lines[1]).toMatch(/failed calls: 11 admit \(admitted uncounted\)$/)
    await proxy.accept()
    const deadline = Date.now() + 5_000
    while (Date.now() < deadline && lines.length < 3) {
      await admit()
      await sleep(50)
    }
    expect(lines[2]).toMatch(/^Info rate limits: Redis reachable again/)
    expect(lines).toHaveLength(3)
  })

  for (const onError of ["fail_open", "fail_closed"] as const) {
    it(`Redis unreachable: ${onError} ${onError === "fail_open" ? "admits uncounted" : "refuses with 503"}, then recovers by itself`, async (ctx) => {
      const redis = await withTestRedis(ctx)
      const proxy = await startTcpProxy({ targetHost: redis.host, targetPort: redis.port })
      ctx.onTestFinished(() => proxy.close())
      const h = await open(ctx, `redis://127.0.0.1:${proxy.port}`, { keyPrefix: redis.prefix, onError })
      const r = one(key({ requestsPerMinute: 2 }))
      expect((await h.admit(r))._tag).toBe("Admitted")
      proxy.drop()
      await proxy.refuse()
      const started = Date.now()
      for (let i = 0; i < 5; i++) {
        const exit = await Effect.runPromiseExit(h.store.admit(r))
        if (onError === "fail_open") {
          expect(Exit.isSuccess(exit) && exit.value._tag === "Admitted" && exit.value.handle._tag).toBe("Uncounted")
        } else {
          const error = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isFailReason)?.error : undefined
          expect(error?.reason._tag).toBe("Unavailable")
        }
      }
      // Failing fast: no command waits for a connection.
      expect(Date.now() - started).toBeLessThan(2_000)
      await proxy.accept()
      const deadline = Date.now() + 5_000
      let back: Admission | undefined
      while (Date.now() < deadline) {
        const exit = await Effect.runPromiseExit(h.store.admit(r))
        if (Exit.isSuccess(exit) && !(exit.value._tag === "Admitted" && exit.value.handle._tag === "Uncounted")) {
          back = exit.value
          break
        }
        await sleep(50)
      }
      // Counted again: the second of 2 (the uncounted ones counted nothing).
      expect(back?._tag).toBe("Admitted")
      expect(back?.headers.requests).toMatchObject({ limit: 2, remaining: 0 })
    })
  }

  describe("budgets", () => {
    const daily = (amountUsd: number): ResolvedBudget => ({ amountUsd, period: "daily" })
    const budgeted = (b: ResolvedBudget, scope: "key" | "project" = "key", id = "k1"): LimitSubject => ({
      scope,
      id,
      limits: NO_LIMITS,
      budget: b
    })
    const spend = (cost: number, ...subjects: ReadonlyArray<LimitSubject>): Reservation => ({
      subjects,
      tokens: 0,
      cost
    })
    const usd = (n: number) => BigInt(Math.round(n * 1e6)) * 1_000_000n
    /** Two stores on one Redis with 300 ms leases: one stays, the other will die. */
    const twoReplicas = async (ctx: TestContext) => {
      const redis = await withTestRedis(ctx)
      const options: RedisStoreOptions = { keyPrefix: redis.prefix, onError: "fail_open", leaseMs: 300 }
      return { redis, live: await open(ctx, redis.url, options), dying: await open(ctx, redis.url, options) }
    }

    it("cut off at the boundary, reservations settled to the real cost, key and project all or nothing", async (ctx) => {
      const { admit, store } = await setup(ctx)
      const k = budgeted(daily(1))
      const p = budgeted(daily(0.5), "project", "p1")
      const a = await admit(spend(400_000, k, p))
      if (a._tag !== "Admitted") throw new Error("expected admission")
      // The project has $0.10 left while a's $0.40 is in flight: refused, and nothing reserved on the key.
      const refused = await admit(spend(200_000, k, p))
      expect(refused).toMatchObject({
        _tag: "Rejected",
        reason: { _tag: "BudgetExceeded", scope: "project", amount_usd: 0.5, reserved_usd: 0.4 }
      })
      await Effect.runPromise(store.settle(a.handle, { tokens: undefined, costPico: usd(0.3) + 123n }))
      // $0.20 left on the project: exactly that fits, then it is spent and even 0 is refused.
      const b = await admit(spend(200_000, k, p))
      if (b._tag !== "Admitted") throw new Error("expected admission")
      await Effect.runPromise(store.settle(b.handle, { tokens: undefined, costPico: usd(0.2) }))
      const spent = await admit(spend(0, k, p))
      expect(spent).toMatchObject({ reason: { _tag: "BudgetExceeded", scope: "project", spent_usd: 0.5 } })
      if (spent._tag === "Rejected" && spent.reason._tag === "BudgetExceeded")
        expect(spent.reason.retry_after_ms).toBeGreaterThan(0)
      // The key alone still has $0.50 of its own.
      expect((await admit(spend(500_000, k)))._tag).toBe("Admitted")
      expect((await admit(spend(1, k)))._tag).toBe("Rejected")
    })

    it("a dead replica's reservation comes back after its lease; a live one's is refreshed", async (ctx) => {
      const { live, dying } = await twoReplicas(ctx)
      const k = budgeted(daily(1))
      expect((await live.admit(spend(400_000, k)))._tag).toBe("Admitted")
      expect((await dying.admit(spend(400_000, k)))._tag).toBe("Admitted")
      await dying.close()
      expect((await live.admit(spend(400_000, k)))._tag).toBe("Rejected")
      await sleep(700)
      expect((await live.admit(spend(400_000, k)))._tag).toBe("Admitted")
      expect((await live.admit(spend(400_000, k)))._tag).toBe("Rejected")
    })

    it("spend reads each period's spend and reservations, leaves a dead replica's out, and changes nothing", async (ctx) => {
      const { redis, live, dying } = await twoReplicas(ctx)
      const k = budgeted(daily(1))
      const p = budgeted({ amountUsd: 5, period: "total" }, "project", "p1")
      const asked = [
        { scope: "key" as const, id: "k1", budget: daily(1) },
        { scope: "project" as const, id: "p1", budget: { amountUsd: 5, period: "total" as const } },
        { scope: "key" as const, id: "never-used", budget: daily(1) }
      ]
      const read = () => Effect.runPromise(live.store.spend(asked))
      const today = periodAt("daily", Date.now())
      expect(await read()).toEqual([
        { period: today, spent: 0, reserved: 0 },
        { period: { start: 0, end: undefined }, spent: 0, reserved: 0 },
        { period: today, spent: 0, reserved: 0 }
      ])
      const a = await live.admit(spend(300_000, k, p))
      if (a._tag !== "Admitted") throw new Error("expected admission")
      expect((await dying.admit(spend(200_000, k)))._tag).toBe("Admitted")
      expect((await read()).map((v) => [v.spent, v.reserved])).toEqual([
        [0, 500_000],
        [0, 300_000],
        [0, 0]
      ])
      await Effect.runPromise(live.store.settle(a.handle, { tokens: undefined, costPico: usd(0.12) + 5n }))
      // The dying replica's reservation, past its lease, is no longer counted as reserved ...
      await dying.close()
      await sleep(700)
      const before = await redis.keys()
      expect((await read()).map((v) => [v.spent, v.reserved])).toEqual([
        [120_000, 0],
        [120_000, 0],
        [0, 0]
      ])
      // ... but reading gave nothing back and created nothing: admission does that.
      expect(await redis.keys()).toEqual(before)
      expect(before.some((k) => k.includes("never-used"))).toBe(false)
      expect((await live.admit(spend(880_000, k)))._tag).toBe("Admitted")
    })

    it("spend fails with Unavailable when Redis cannot be reached", async (ctx) => {
      const redis = await withTestRedis(ctx)
      const proxy = await startTcpProxy({ targetHost: redis.host, targetPort: redis.port })
      ctx.onTestFinished(() => proxy.close())
      const h = await open(ctx, `redis://127.0.0.1:${proxy.port}`, { keyPrefix: redis.prefix, onError: "fail_open" })
      const asked = [{ scope: "key" as const, id: "k1", budget: daily(1) }]
      expect(Exit.isSuccess(await Effect.runPromiseExit(h.store.spend(asked)))).toBe(true)
      proxy.drop()
      await proxy.refuse()
      const exit = await Effect.runPromiseExit(h.store.spend(asked))
      const error = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isFailReason)?.error : undefined
      expect(error?.reason._tag).toBe("Unavailable")
    })

    it("seeds only a period Redis does not hold (Redis is the truth); total budgets never expire", async (ctx) => {
      const { admit, store, redis } = await setup(ctx)
      const now = Date.now()
      const start = periodAt("daily", now).start
      await Effect.runPromise(store.seed([{ scope: "key", id: "k1", period: "daily", start, spent: 900_000 }]))
      expect((await admit(spend(200_000, budgeted(daily(1)))))._tag).toBe("Rejected")
      const a = await admit(spend(100_000, budgeted(daily(1))))
      if (a._tag !== "Admitted") throw new Error("expected admission")
      await Effect.runPromise(store.settle(a.handle, { tokens: undefined, costPico: usd(0.05) }))
      // A restarted replica seeds again with the store's older sum: Redis keeps its own count.
      await Effect.runPromise(store.seed([{ scope: "key", id: "k1", period: "daily", start, spent: 900_000 }]))
      expect((await admit(spend(50_000, budgeted(daily(1)))))._tag).toBe("Admitted")
      expect((await admit(spend(1, budgeted(daily(1)))))._tag).toBe("Rejected")
      const total = { amountUsd: 1, period: "total" as const }
      await Effect.runPromise(store.seed([{ scope: "project", id: "p1", period: "total", start: 0, spent: 10 }]))
      expect((await admit(spend(1, budgeted(total, "project", "p1"))))._tag).toBe("Admitted")
      const keys = await redis.keys()
      expect(keys).toContain(`${redis.prefix}budget:project:p1:total:0`)
      expect(keys).toContain(`${redis.prefix}budget:key:k1:daily:${start}`)
    })
  })
})
