// Budget spend in the admin API and the completion reserve, over HTTP on a multi-worker gateway:
// a key's and its project's `spend` start at 0 for the current period, move by exactly what the
// answers cost (JSON and streamed, either worker), show what a request in flight reserved (its
// prompt estimate plus its model's `default_max_tokens`) and give it back when it settles; a key
// without a budget shows `spend: null`, lists carry it too, and writes refuse it as read-only. The
// top-level `limits.default_max_tokens` and a model's own show in GET /admin/v1/config and size
// the tokens a request without max_tokens reserves (x-ratelimit-remaining-tokens); a model's,
// changed through the admin API, applies to the next request; an invalid one is refused naming it.
import { describe, expect, it } from "vitest"
import { generateKey } from "../../src/auth/KeyMaterial.ts"
import { runtime, usageOf, useContract } from "./harness.ts"

const KEYS = { spender: generateKey(), slow: generateKey(), free: generateKey(), tokens: generateKey() } as const
const MODEL = "spend-mock"
const SLOW = "spend-slow"
/** USD per million tokens: $0.001 a token, input and output. */
const PRICE = 1000
const TOP_DEFAULT = 300
const SLOW_DEFAULT = 500
const TPM = 1_000_000
const PROMPT = "how much have I spent?"

const key = (name: keyof typeof KEYS, project: string, extra: Record<string, unknown> = {}) => ({
  id: `key_${name}`,
  name,
  prefix: KEYS[name].prefix,
  hash: KEYS[name].hash,
  project_id: project,
  ...extra
})

const chat = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content: PROMPT }],
  ...extra
})

interface Spend {
  readonly spent_usd: number
  readonly reserved_usd: number
  readonly period_start: string | null
  readonly resets_at: string | null
}
interface Budgeted {
  readonly id: string
  readonly budget: { amount_usd: number; period: string } | null
  readonly spend: Spend | null
  readonly etag: string
}

const micros = (usd: number) => Math.round(usd * 1e6)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe(`[${runtime}] budget spend in the admin API`, () => {
  const ctx = useContract({
    configure: (config) => ({
      ...config,
      limits: { default_max_tokens: TOP_DEFAULT },
      providers: [...config.providers, { name: "mock-slow", kind: "mock", mock: { latency: "1500ms" } }],
      models: [
        ...config.models,
        { name: MODEL, targets: [{ provider: "mock" }], pricing: { input: PRICE, output: PRICE } },
        {
          name: SLOW,
          targets: [{ provider: "mock-slow" }],
          pricing: { input: PRICE, output: PRICE },
          default_max_tokens: SLOW_DEFAULT
        }
      ],
      projects: [
        ...config.projects,
        { id: "prj_spend", name: "Spending", budget: { amount_usd: 100, period: "monthly" } },
        { id: "prj_slow", name: "Slow", budget: { amount_usd: 100, period: "total" } },
        { id: "prj_free", name: "Free" }
      ],
      keys: [
        ...config.keys,
        key("spender", "prj_spend", { budget: { amount_usd: 50, period: "daily" } }),
        key("slow", "prj_slow"),
        key("free", "prj_free"),
        key("tokens", "prj_free", { limits: { tokens_per_minute: TPM } })
      ]
    })
  })

  const read = async (path: string): Promise<Budgeted> => {
    const r = await ctx.get(path)
    expect(r.status, r.text.slice(0, 300)).toBe(200)
    return r.json<Budgeted>()
  }
  /** Reads `path` until `done` holds for its spend (a stream settles just after its last bytes). */
  const readUntil = async (path: string, done: (s: Spend | null) => boolean): Promise<Budgeted> => {
    const deadline = Date.now() + 5_000
    for (;;) {
      const o = await read(path)
      if (done(o.spend) || Date.now() > deadline) return o
      await sleep(25)
    }
  }

  it("spend starts at 0 in the current period and moves by exactly what the answers cost, on every worker", async () => {
    const now = new Date()
    const day = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())
    const before = await read("/admin/v1/keys/key_spender")
    expect(before.budget).toEqual({ amount_usd: 50, period: "daily" })
    expect(before.spend).toEqual({
      spent_usd: 0,
      reserved_usd: 0,
      period_start: new Date(day).toISOString(),
      resets_at: new Date(day + 86_400_000).toISOString()
    })
    const project = await read("/admin/v1/projects/prj_spend")
    expect(project.spend).toMatchObject({
      spent_usd: 0,
      period_start: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString(),
      resets_at: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString()
    })

    let cost = 0
    for (let i = 0; i < 8; i++) {
      const stream = i % 2 === 1
      const r = await ctx.post(
        "/v1/chat/completions",
        chat(MODEL, { max_tokens: 20, ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}) }),
        { key: KEYS.spender.key }
      )
      expect(r.status, r.text.slice(0, 300)).toBe(200)
      cost += micros((usageOf(r).total_tokens * PRICE) / 1e6)
    }
    expect(cost).toBeGreaterThan(0)
    const settled = (s: Spend | null) => s !== null && micros(s.spent_usd) === cost && s.reserved_usd === 0
    const after = await readUntil("/admin/v1/keys/key_spender", settled)
    expect(micros(after.spend?.spent_usd ?? -1)).toBe(cost)
    expect(after.spend?.reserved_usd).toBe(0)
    // Not stored: the etag is the one before the requests.
    expect(after.etag).toBe(before.etag)
    // Whichever worker answers (concurrent reads open several connections), key and project agree.
    const reads = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        read(i % 2 === 0 ? "/admin/v1/keys/key_spender" : "/admin/v1/projects/prj_spend")
      )
    )
    expect(reads.map((o) => micros(o.spend?.spent_usd ?? -1))).toEqual(reads.map(() => cost))
    // Lists carry it as well; a key without a budget shows null.
    const page = (await ctx.get("/admin/v1/keys?project_id=prj_spend")).json<{ data: Array<Budgeted> }>()
    expect(page.data.map((k) => [k.id, micros(k.spend?.spent_usd ?? -1)])).toEqual([["key_spender", cost]])
    expect((await read("/admin/v1/keys/key_free")).spend).toBeNull()
    expect((await read("/admin/v1/projects/prj_free")).spend).toBeNull()
  })

  it("a request in flight shows its reservation (prompt plus its model's default_max_tokens), given back when it settles", async () => {
    const reply = ctx.post("/v1/chat/completions", chat(SLOW), { key: KEYS.slow.key })
    const reserve = Math.ceil(PROMPT.length / 4) + SLOW_DEFAULT
    const project = await readUntil("/admin/v1/projects/prj_slow", (s) => (s?.reserved_usd ?? 0) > 0)
    expect(project.spend).toMatchObject({ spent_usd: 0, period_start: null, resets_at: null })
    expect(micros(project.spend?.reserved_usd ?? -1)).toBe(micros((reserve * PRICE) / 1e6))
    const r = await reply
    expect(r.status, r.text.slice(0, 300)).toBe(200)
    const cost = micros((usageOf(r).total_tokens * PRICE) / 1e6)
    // The key has no budget of its own: nothing to show.
    expect((await read("/admin/v1/keys/key_slow")).spend).toBeNull()
    const done = await readUntil("/admin/v1/projects/prj_slow", (s) => s?.reserved_usd === 0)
    expect(done.spend?.reserved_usd).toBe(0)
    expect(micros(done.spend?.spent_usd ?? -1)).toBe(cost)
  })

  it("writes refuse spend as read-only", async () => {
    const r = await ctx.request("PATCH", "/admin/v1/keys/key_spender", { spend: null })
    expect(r.status).toBe(422)
    expect(r.text).toContain("spend: read-only")
  })

  it("limits.default_max_tokens and the model's own show in the config and size the tokens reserved", async () => {
    const config = (await ctx.get("/admin/v1/config")).json<{
      limits: { default_max_tokens: number }
      models: Array<{ name: string; default_max_tokens: number }>
    }>()
    expect(config.limits.default_max_tokens).toBe(TOP_DEFAULT)
    const shown = Object.fromEntries(config.models.map((m) => [m.name, m.default_max_tokens]))
    expect([shown[MODEL], shown[SLOW]]).toEqual([TOP_DEFAULT, SLOW_DEFAULT])
    // The first request of a fresh key: what the admission left is the limit minus its reservation.
    const r = await ctx.post("/v1/chat/completions", chat(MODEL), { key: KEYS.tokens.key })
    expect(r.status, r.text.slice(0, 300)).toBe(200)
    const prompt = Math.ceil(PROMPT.length / 4)
    expect(Number(r.headers.get("x-ratelimit-remaining-tokens"))).toBe(TPM - (prompt + TOP_DEFAULT))
    // Changed through the admin API: every worker reserves the new default at once.
    const patched = await ctx.request("PATCH", `/admin/v1/models/${MODEL}`, { default_max_tokens: 42 })
    expect(patched.status, patched.text.slice(0, 300)).toBe(200)
    const shownAfter = (await ctx.get("/admin/v1/config")).json<{
      models: Array<{ name: string; default_max_tokens: number }>
    }>()
    expect(shownAfter.models.find((m) => m.name === MODEL)?.default_max_tokens).toBe(42)
    // The first request settled to its usage; the second reserves its prompt plus 42.
    const second = await ctx.post("/v1/chat/completions", chat(MODEL), { key: KEYS.tokens.key })
    expect(second.status, second.text.slice(0, 300)).toBe(200)
    expect(Number(second.headers.get("x-ratelimit-remaining-tokens"))).toBe(
      TPM - usageOf(r).total_tokens - (prompt + 42)
    )
    const invalid = await ctx.request("PATCH", `/admin/v1/models/${MODEL}`, { default_max_tokens: -1 })
    expect(invalid.status).toBe(422)
    expect(invalid.text).toContain("default_max_tokens")
  })
})
