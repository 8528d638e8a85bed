// Rate limits across replicas (limits.redis), on the real Redis (test/support/redis.ts: skipped when
// unreachable, failed under CI=true): two gateway processes of two workers each, sharing Redis,
// admit exactly 60 of 100 concurrent requests for a key limited to 60 per minute; with Redis cut
// off behind a TCP proxy, `fail_open` admits uncounted and `fail_closed` answers 503
// service_unavailable, and both recover by themselves once the proxy accepts again. A budgeted
// key's `spend` in the admin API is what both gateways' requests cost, whichever answers, and null
// (the answer still 200) while Redis is cut off. The admin API's config shows the Redis url masked,
// and a reload that changes limits.redis waits for a restart.
import { writeFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { generateKey } from "../../src/auth/KeyMaterial.ts"
import { createTestRedis, redisUnavailable, type TestRedis } from "../support/redis.ts"
import { startTcpProxy, type TcpProxy } from "../support/tcpProxy.ts"
import { cleanupTempDirs, freePort, type GatewayProcess, launchGateway } from "./gateway.ts"
import { expectOpenAIError, httpClient, MASTER_KEY, runtime, type Res, sleep } from "./harness.ts"

const KEYS = { rpm60: generateKey(), open: generateKey(), closed: generateKey(), budget: generateKey() } as const
const MODEL = "mock-chat"
const chat = { model: MODEL, messages: [{ role: "user", content: "redis" }] }
/** Priced at $0.001 a token, input and output. */
const PRICED = "priced-chat"

const config = (port: number, redis: { url: string; on_error: string; key_prefix: string }) => ({
  server: { host: "127.0.0.1", port },
  master_key: MASTER_KEY,
  limits: { redis },
  providers: [{ name: "mock", kind: "mock", mock: { latency: "0ms" } }],
  models: [
    { name: MODEL, targets: [{ provider: "mock" }] },
    { name: PRICED, targets: [{ provider: "mock" }], pricing: { input: 1000, output: 1000 } }
  ],
  projects: [{ id: "prj_redis", name: "Redis" }],
  keys: [
    {
      id: "key_rpm60",
      name: "rpm60",
      prefix: KEYS.rpm60.prefix,
      hash: KEYS.rpm60.hash,
      project_id: "prj_redis",
      limits: { requests_per_minute: 60 }
    },
    {
      id: "key_open",
      name: "open",
      prefix: KEYS.open.prefix,
      hash: KEYS.open.hash,
      project_id: "prj_redis",
      limits: { requests_per_minute: 2 }
    },
    {
      id: "key_closed",
      name: "closed",
      prefix: KEYS.closed.prefix,
      hash: KEYS.closed.hash,
      project_id: "prj_redis",
      limits: { requests_per_minute: 1000 }
    },
    {
      id: "key_budget",
      name: "budget",
      prefix: KEYS.budget.prefix,
      hash: KEYS.budget.hash,
      project_id: "prj_redis",
      budget: { amount_usd: 5, period: "daily" }
    }
  ]
})

/** Polls `attempt` until it answers true, for at most `ms`. */
const eventually = async (ms: number, attempt: () => Promise<boolean>): Promise<boolean> => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await attempt()) return true
    await sleep(100)
  }
  return false
}

// Without Redis (and not in CI) the suite is skipped, saying why; under CI=true it runs and fails.
const unavailable = await redisUnavailable()
if (unavailable !== undefined) console.warn(`skipping the Redis suite: ${unavailable}`)

describe.skipIf(unavailable !== undefined)(`[${runtime}] rate limits across replicas in Redis`, () => {
  let redis: TestRedis
  let proxyOpen: TcpProxy
  let proxyClosed: TcpProxy
  const gateways: Array<GatewayProcess> = []
  const bodies: Array<string> = []
  const client = (i: number) => httpClient(() => gateways[i]!.baseUrl, bodies)

  beforeAll(async () => {
    redis = await createTestRedis()
    proxyOpen = await startTcpProxy({ targetHost: redis.host, targetPort: redis.port })
    proxyClosed = await startTcpProxy({ targetHost: redis.host, targetPort: redis.port })
    const direct = { url: redis.url, on_error: "fail_open", key_prefix: redis.prefix }
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()])
    const configs = [
      config(ports[0]!, direct),
      config(ports[1]!, direct),
      config(ports[2]!, { ...direct, url: `redis://127.0.0.1:${proxyOpen.port}` }),
      config(ports[3]!, { ...direct, url: `redis://127.0.0.1:${proxyClosed.port}`, on_error: "fail_closed" })
    ]
    gateways.push(
      ...(await Promise.all(configs.map((c, i) => launchGateway({ runtime, config: c, port: ports[i]!, workers: 2 }))))
    )
  }, 60_000)

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop("SIGTERM", 10_000)))
    await proxyOpen?.close()
    await proxyClosed?.close()
    await redis?.clear()
    cleanupTempDirs()
  })

  it("two gateways of two workers sharing Redis admit exactly 60 of 100 concurrent requests for a key limited to 60 per minute", async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client(i % 2).post("/v1/chat/completions", chat, { key: KEYS.rpm60.key }))
    )
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(60)
    expect(statuses.filter((s) => s === 429)).toHaveLength(40)
    // Both gateways admitted some: the limit is one for the pair, not one each.
    const admittedBy = [0, 1].map((g) => results.filter((r, i) => i % 2 === g && r.status === 200).length)
    expect(admittedBy.every((n) => n > 0)).toBe(true)
    const remaining = results
      .filter((r) => r.status === 200)
      .map((r) => Number(r.headers.get("x-ratelimit-remaining-requests")))
    expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i))
    const refused = results.find((r) => r.status === 429)
    expect(Number(refused?.headers.get("retry-after"))).toBeGreaterThan(0)
    // Counted in Redis under the configured prefix; the owner said so at start (host only).
    expect(await redis.keys()).toContain(`${redis.prefix}limit:key:key_rpm60`)
    expect(gateways[0]!.stdout()).toContain(
      `rate limits: counted in Redis at ${redis.host}:${redis.port} (on_error fail_open)`
    )
  })

  it("Redis cut off with on_error fail_open: requests are admitted uncounted; once it is back they are counted again", async () => {
    const c = client(2)
    const post = () => c.post("/v1/chat/completions", chat, { key: KEYS.open.key })
    expect((await post()).headers.get("x-ratelimit-remaining-requests")).toBe("1")
    proxyOpen.drop()
    await proxyOpen.refuse()
    const during: Array<Res> = []
    for (let i = 0; i < 5; i++) during.push(await post())
    expect(during.map((r) => r.status)).toEqual([200, 200, 200, 200, 200])
    expect(during.every((r) => r.headers.get("x-ratelimit-limit-requests") === null)).toBe(true)
    await proxyOpen.accept()
    // Back: the second request of 2 is admitted (the uncounted ones counted nothing), then 429.
    let last: Res | undefined
    expect(
      await eventually(10_000, async () => {
        last = await post()
        return last.headers.get("x-ratelimit-limit-requests") !== null
      })
    ).toBe(true)
    expect(last?.status).toBe(200)
    expect(last?.headers.get("x-ratelimit-remaining-requests")).toBe("0")
    expect((await post()).status).toBe(429)
    // The worker's log line reaches the process's output after the answer: wait for it.
    const unavailable = /rate limits: Redis unavailable .*on_error fail_open/
    expect(await eventually(5_000, async () => unavailable.test(gateways[2]!.stdout())), gateways[2]!.stdout()).toBe(
      true
    )
  })

  it("Redis cut off with on_error fail_closed: 503 service_unavailable, then recovery by itself", async () => {
    const c = client(3)
    const post = () => c.post("/v1/chat/completions", chat, { key: KEYS.closed.key })
    expect((await post()).status).toBe(200)
    proxyClosed.drop()
    await proxyClosed.refuse()
    for (let i = 0; i < 3; i++) {
      const r = await post()
      expectOpenAIError(r, 503, { type: "api_error", code: "service_unavailable" })
    }
    // Requests without limits never touch Redis.
    expect((await c.post("/v1/chat/completions", chat)).status).toBe(200)
    await proxyClosed.accept()
    expect(await eventually(10_000, async () => (await post()).status === 200)).toBe(true)
    const reachable = /rate limits: Redis reachable again/
    expect(await eventually(5_000, async () => reachable.test(gateways[3]!.stdout())), gateways[3]!.stdout()).toBe(true)
  })

  it("a budgeted key's spend is what both gateways' requests cost, whichever answers; null while Redis is cut off", async () => {
    const spentOn = async (i: number) => {
      const r = await client(i).get("/admin/v1/keys/key_budget")
      expect(r.status, r.text.slice(0, 300)).toBe(200)
      return r.json<{ spend: { spent_usd: number; reserved_usd: number } | null }>().spend
    }
    expect(await spentOn(0)).toMatchObject({ spent_usd: 0, reserved_usd: 0 })
    let cost = 0
    for (let i = 0; i < 6; i++) {
      const r = await client(i % 2).post(
        "/v1/chat/completions",
        { ...chat, model: PRICED, max_tokens: 16 },
        {
          key: KEYS.budget.key
        }
      )
      expect(r.status, r.text.slice(0, 300)).toBe(200)
      cost += r.json<{ usage: { total_tokens: number } }>().usage.total_tokens * 1000
    }
    for (const g of [0, 1, 2]) expect(Math.round((await spentOn(g))!.spent_usd * 1e6), `gateway ${g}`).toBe(cost)
    // Gateway 2 reaches Redis through a proxy: cut off, its answer still comes, without spend.
    proxyOpen.drop()
    await proxyOpen.refuse()
    expect(await spentOn(2)).toBeNull()
    await proxyOpen.accept()
    expect(await eventually(10_000, async () => (await spentOn(2)) !== null)).toBe(true)
  })

  const shownRedis = async () => {
    const r = await client(0).get("/admin/v1/config")
    expect(r.status).toBe(200)
    return r.json<{ limits: { redis: { url: string; on_error: string; key_prefix: string } } }>().limits.redis
  }

  it("GET /admin/v1/config shows limits.redis with the url masked", async () => {
    const shown = await shownRedis()
    expect(shown).toMatchObject({ on_error: "fail_open", key_prefix: redis.prefix })
    expect(shown.url).not.toContain("127.0.0.1:6379")
  })

  it("a reload that changes limits.redis is applied at the next start, and says so", async () => {
    const g = gateways[0]!
    writeFileSync(
      g.configPath,
      JSON.stringify(config(g.port, { url: redis.url, on_error: "fail_closed", key_prefix: redis.prefix }))
    )
    expect(
      await eventually(10_000, async () => g.stdout().includes("limits.redis changed: it applies at the next start"))
    ).toBe(true)
    expect((await shownRedis()).on_error).toBe("fail_open")
  })
})
