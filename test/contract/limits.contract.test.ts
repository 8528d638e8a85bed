// Rate limits over HTTP, on a gateway of two workers: a key's requests_per_minute is exact across
// workers (60 of 80 concurrent requests succeed), the 429 in OpenAI's shape with a message naming
// the limit and Retry-After, the x-ratelimit-* headers on successes (streamed ones too) and on 429s,
// a key over its project's limit, max_parallel with a slow upstream (released when requests end),
// tokens_per_minute, and server.ip_rate_limit with and without a trusted proxy.
import { describe, expect, it } from "vitest"
import { generateKey } from "../../src/auth/KeyMaterial.ts"
import { type contractConfig, expectOpenAIError, MODELS, runtime, type Res, SSEReader, useContract } from "./harness.ts"
import { pool } from "./routing.ts"

const KEYS = {
  rpm: generateKey(),
  rpm60: generateKey(),
  projectA: generateKey(),
  projectB: generateKey(),
  parallel: generateKey(),
  tokens: generateKey(),
  free: generateKey()
} as const

const SLOW_MODEL = "slow-mock"
const chat = (model: string = MODELS.mockChat.name, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content: "limits" }],
  ...extra
})

const key = (name: keyof typeof KEYS, project: string, limits?: Record<string, unknown>) => ({
  id: `key_${name}`,
  name,
  prefix: KEYS[name].prefix,
  hash: KEYS[name].hash,
  project_id: project,
  ...(limits === undefined ? {} : { limits })
})

const RATE_HEADERS = ["limit-requests", "remaining-requests", "reset-requests"].map((h) => `x-ratelimit-${h}`)
const TOKEN_HEADERS = ["limit-tokens", "remaining-tokens", "reset-tokens"].map((h) => `x-ratelimit-${h}`)
const DURATION = /^(\d+ms|(\d+h)?(\d+m)?\d+(\.\d+)?s)$/

const rateHeaders = (r: Res | Response) => ({
  limit: r.headers.get("x-ratelimit-limit-requests"),
  remaining: r.headers.get("x-ratelimit-remaining-requests"),
  reset: r.headers.get("x-ratelimit-reset-requests")
})

describe(`[${runtime}] rate limits on keys and projects`, () => {
  const ctx = useContract({
    configure: (config) => ({
      ...config,
      providers: [...config.providers, { name: "mock-slow", kind: "mock", mock: { latency: "700ms" } }],
      models: [...config.models, { name: SLOW_MODEL, targets: [{ provider: "mock-slow" }] }],
      projects: [
        ...config.projects,
        { id: "prj_limited", name: "Limited", limits: { requests_per_minute: 3 } },
        { id: "prj_free", name: "Free" }
      ],
      keys: [
        ...config.keys,
        key("rpm", "prj_free", { requests_per_minute: 5 }),
        key("rpm60", "prj_free", { requests_per_minute: 60 }),
        key("projectA", "prj_limited", { requests_per_minute: 100 }),
        key("projectB", "prj_limited", { requests_per_minute: 100 }),
        key("parallel", "prj_free", { max_parallel: 2 }),
        key("tokens", "prj_free", { tokens_per_minute: 2000 }),
        key("free", "prj_free")
      ]
    })
  })

  it("a key limited to 60 requests per minute gets exactly 60 of 80 concurrent requests on a gateway of two workers", async () => {
    const results = await pool(16, 80, () => ctx.post("/v1/chat/completions", chat(), { key: KEYS.rpm60.key }))
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(60)
    expect(statuses.filter((s) => s === 429)).toHaveLength(20)
    const remaining = results
      .filter((r) => r.status === 200)
      .map((r) => Number(r.headers.get("x-ratelimit-remaining-requests")))
    // Every admission saw its own count: remaining 59 … 0, each once.
    expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i))
  })

  it("requests_per_minute 5: five successes with the x-ratelimit headers, then 429 rate_limit_exceeded naming the limit", async () => {
    const k = KEYS.rpm.key
    for (let i = 0; i < 5; i++) {
      const r = await ctx.post("/v1/chat/completions", chat(), { key: k })
      expect(r.status, r.text).toBe(200)
      const h = rateHeaders(r)
      expect(h.limit).toBe("5")
      expect(h.remaining).toBe(String(4 - i))
      expect(h.reset).toMatch(DURATION)
      for (const name of TOKEN_HEADERS) expect(r.headers.get(name), name).toBeNull()
    }
    const refused = await ctx.post("/v1/chat/completions", chat(), { key: k })
    const body = expectOpenAIError(refused, 429, { type: "requests", code: "rate_limit_exceeded", param: null })
    expect(body.error.message).toContain("requests_per_minute limit of 5 reached for this key")
    const retryAfter = Number(refused.headers.get("retry-after"))
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`).toBe(true)
    expect(rateHeaders(refused)).toMatchObject({ limit: "5", remaining: "0" })
    expect(refused.headers.get("x-request-id")).toBeTruthy()
  })

  it("a streamed answer to a limited key carries the headers too", async () => {
    const res = await ctx.postStream("/v1/chat/completions", chat(MODELS.mockChat.name, { stream: true }), {
      key: KEYS.tokens.key
    })
    expect(res.status).toBe(200)
    expect(res.headers.get("x-ratelimit-limit-tokens")).toBe("2000")
    expect(Number(res.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThan(2000)
    expect(res.headers.get("x-ratelimit-reset-tokens")).toMatch(DURATION)
    const events = await new SSEReader(res).all()
    ctx.noteBody(events.map((e) => e.data).join("\n"))
    expect(events.at(-1)?.data).toBe("[DONE]")
  })

  it("tokens_per_minute: a request reserving more than is left is refused with type tokens", async () => {
    const r = await ctx.post("/v1/chat/completions", chat(MODELS.mockChat.name, { max_tokens: 5000 }), {
      key: KEYS.tokens.key
    })
    const body = expectOpenAIError(r, 429, { type: "tokens", code: "rate_limit_exceeded" })
    expect(body.error.message).toContain("tokens_per_minute limit of 2000 reached for this key")
    expect(r.headers.get("x-ratelimit-limit-tokens")).toBe("2000")
    // A small one fits, and the answer's real usage settles its reservation.
    const small = await ctx.post("/v1/chat/completions", chat(MODELS.mockChat.name, { max_tokens: 50 }), {
      key: KEYS.tokens.key
    })
    expect(small.status, small.text).toBe(200)
  })

  it("a key over its project's limit: refused for the project, whichever key asks", async () => {
    const a = KEYS.projectA.key
    const b = KEYS.projectB.key
    expect((await ctx.post("/v1/chat/completions", chat(), { key: a })).status).toBe(200)
    expect((await ctx.post("/v1/chat/completions", chat(), { key: b })).status).toBe(200)
    const third = await ctx.post("/v1/chat/completions", chat(), { key: a })
    expect(third.status).toBe(200)
    // The tightest limit that applies is the project's: 3, none left.
    expect(rateHeaders(third)).toMatchObject({ limit: "3", remaining: "0" })
    for (const k of [a, b]) {
      const refused = await ctx.post("/v1/chat/completions", chat(), { key: k })
      const body = expectOpenAIError(refused, 429, { code: "rate_limit_exceeded" })
      expect(body.error.message).toContain("requests_per_minute limit of 3 reached for this key's project")
    }
  })

  /** Two at once on the parallel key, retried while a place is still being given back (asynchronously after an end). */
  const twoAtOnce = async (model: string): Promise<ReadonlyArray<number>> => {
    let statuses: ReadonlyArray<number> = []
    for (let i = 0; i < 20; i++) {
      const both = await Promise.all(
        [0, 1].map(() => ctx.post("/v1/chat/completions", chat(model), { key: KEYS.parallel.key }))
      )
      statuses = both.map((r) => r.status)
      if (statuses.every((s) => s === 200)) break
      await new Promise((r) => setTimeout(r, 100))
    }
    return statuses
  }

  it("max_parallel 2: with two streams in flight the third request is refused at once; places come back when streams end or are cancelled", async () => {
    const k = KEYS.parallel.key
    // A streamed answer's headers arrive with its first content: both are admitted and in flight.
    const streams = await Promise.all(
      [0, 1].map(() =>
        ctx.postStream("/v1/chat/completions", chat(MODELS.streamFast.name, { stream: true }), { key: k })
      )
    )
    expect(streams.map((r) => r.status)).toEqual([200, 200])
    const t0 = performance.now()
    const refused = await ctx.post("/v1/chat/completions", chat(), { key: k })
    expect(performance.now() - t0, "refused without waiting").toBeLessThan(500)
    const body = expectOpenAIError(refused, 429, { type: "requests", code: "rate_limit_exceeded" })
    expect(body.error.message).toContain("max_parallel limit of 2 reached for this key")
    expect(refused.headers.get("retry-after")).toBe("1")
    // One stream read to its end, the other cancelled by the client midway.
    const first = new SSEReader(streams[0]!)
    const events = await first.all()
    ctx.noteBody(events.map((e) => e.data).join("\n"))
    expect(events.at(-1)?.data).toBe("[DONE]")
    await new SSEReader(streams[1]!).cancel()
    expect(await twoAtOnce(MODELS.mockChat.name)).toEqual([200, 200])
  })

  it("max_parallel 2 with a slow upstream: two requests run side by side, a third in between is refused", async () => {
    const k = KEYS.parallel.key
    const running = [0, 1].map(() => ctx.post("/v1/chat/completions", chat(SLOW_MODEL), { key: k }))
    const third = ctx.post("/v1/chat/completions", chat(SLOW_MODEL), { key: k })
    const statuses = (await Promise.all([...running, third])).map((r) => r.status).sort()
    // Three at once against two places: exactly one is refused, whichever arrived last.
    expect(statuses).toEqual([200, 200, 429])
    expect(await twoAtOnce(SLOW_MODEL)).toEqual([200, 200])
  })

  it("a client that leaves gives its max_parallel place back", async () => {
    const k = KEYS.parallel.key
    const controllers = [new AbortController(), new AbortController()]
    const leaving = controllers.map((c) =>
      ctx.post("/v1/chat/completions", chat(SLOW_MODEL), { key: k, signal: c.signal }).catch(() => undefined)
    )
    await new Promise((r) => setTimeout(r, 200))
    for (const c of controllers) c.abort()
    await Promise.all(leaving)
    // The gateway sees the disconnects asynchronously: within a few tries, both places are back.
    expect(await twoAtOnce(SLOW_MODEL)).toEqual([200, 200])
  })

  it("the master key and a key without limits are not limited and get no x-ratelimit headers", async () => {
    for (const k of [undefined, KEYS.free.key]) {
      const r = await ctx.post("/v1/chat/completions", chat(), k === undefined ? {} : { key: k })
      expect(r.status, r.text).toBe(200)
      for (const name of [...RATE_HEADERS, ...TOKEN_HEADERS]) expect(r.headers.get(name), name).toBeNull()
    }
  })
})

const ipConfig = (trusted: ReadonlyArray<string>) => ({
  configure: (config: ReturnType<typeof contractConfig>) => ({
    ...config,
    server: { ...config.server, ip_rate_limit: { rps: 0.2, burst: 3, trusted_proxies: trusted } }
  })
})

const fromIp = (ctx: ReturnType<typeof useContract>, forwardedFor?: string) =>
  ctx.post(
    "/v1/chat/completions",
    chat(),
    forwardedFor === undefined ? {} : { headers: { "x-forwarded-for": forwardedFor } }
  )

describe(`[${runtime}] server.ip_rate_limit behind a trusted proxy`, () => {
  const ctx = useContract(ipConfig(["127.0.0.1/32", "::1", "10.0.0.0/8"]))

  it("each client named by X-Forwarded-For has its own bucket: burst, then 429 for this IP", async () => {
    for (let i = 0; i < 3; i++) expect((await fromIp(ctx, "203.0.113.7")).status).toBe(200)
    const refused = await fromIp(ctx, "203.0.113.7")
    const body = expectOpenAIError(refused, 429, { type: "requests", code: "rate_limit_exceeded" })
    expect(body.error.message).toContain("requests_per_second limit of 0.2 reached for this IP")
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
    // Another client is unaffected; the right-most untrusted hop is the client (a trusted hop after it is skipped).
    expect((await fromIp(ctx, "203.0.113.8")).status).toBe(200)
    expect((await fromIp(ctx, "198.51.100.1, 203.0.113.7, 10.1.2.3")).status).toBe(429)
  })
})

describe(`[${runtime}] server.ip_rate_limit without a trusted proxy`, () => {
  const ctx = useContract(ipConfig(["10.0.0.0/8"]))

  it("X-Forwarded-For from an untrusted peer is ignored: every request counts against the peer's address", async () => {
    const statuses: Array<number> = []
    for (let i = 0; i < 4; i++) statuses.push((await fromIp(ctx, `203.0.113.${i}`)).status)
    expect(statuses).toEqual([200, 200, 200, 429])
    expect((await fromIp(ctx)).status).toBe(429)
  })
})
