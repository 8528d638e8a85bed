// Budgets over HTTP, on a gateway of two workers: a project with a small monthly budget on a priced
// mock model is cut off within one request of reaching it (never overdrawn), its keys refused
// together with 429 `budget_exceeded` in OpenAI's shape naming the budget and its reset, with
// Retry-After; streamed answers (cost settled at their end) count like JSON ones; concurrent
// requests over both workers never overdraw a project's budget; a key without a budget pays nothing.
import { describe, expect, it } from "vitest"
import { generateKey } from "../../src/auth/KeyMaterial.ts"
import { expectOpenAIError, runtime, type Res, type Usage, usageOf, useContract } from "./harness.ts"
import { pool } from "./routing.ts"

const KEYS = { a: generateKey(), b: generateKey(), burst: generateKey(), free: generateKey() } as const
const MODEL = "budget-mock"
/** USD per million tokens: $0.001 a token, input and output. */
const PRICE = 1000
const BUDGET_USD = 0.5
const MAX_TOKENS = 40

const key = (name: keyof typeof KEYS, project: string) => ({
  id: `key_${name}`,
  name,
  prefix: KEYS[name].prefix,
  hash: KEYS[name].hash,
  project_id: project
})

const chat = (stream = false) => ({
  model: MODEL,
  max_tokens: MAX_TOKENS,
  messages: [{ role: "user", content: "how much does this cost?" }],
  ...(stream ? { stream: true, stream_options: { include_usage: true } } : {})
})

const costOf = (u: Usage) => (u.total_tokens * PRICE) / 1e6

describe(`[${runtime}] budgets`, () => {
  const ctx = useContract({
    configure: (config) => ({
      ...config,
      models: [
        ...config.models,
        { name: MODEL, targets: [{ provider: "mock" }], pricing: { input: PRICE, output: PRICE } }
      ],
      projects: [
        ...config.projects,
        { id: "prj_budget", name: "Budgeted", budget: { amount_usd: BUDGET_USD, period: "monthly" } },
        { id: "prj_burst", name: "Burst", budget: { amount_usd: 0.2, period: "daily" } },
        { id: "prj_nobudget", name: "No budget" }
      ],
      keys: [
        ...config.keys,
        key("a", "prj_budget"),
        key("b", "prj_budget"),
        key("burst", "prj_burst"),
        key("free", "prj_nobudget")
      ]
    })
  })

  it("a project with a $0.50 budget is cut off within one request of reaching it, with the 429 in OpenAI's shape", async () => {
    let spent = 0
    let served = 0
    let refused: Res | undefined
    for (let i = 0; i < 200 && refused === undefined; i++) {
      // Both keys of the project, JSON and streamed answers, served by either worker.
      const r = await ctx.post("/v1/chat/completions", chat(i % 3 === 2), {
        key: i % 2 === 0 ? KEYS.a.key : KEYS.b.key
      })
      if (r.status === 429) refused = r
      else {
        expect(r.status, r.text.slice(0, 300)).toBe(200)
        spent += costOf(usageOf(r))
        served++
      }
    }
    if (refused === undefined) throw new Error("never cut off")
    expect(served).toBeGreaterThan(5)
    // Never overdrawn, and cut off within one request's maximum cost of the budget.
    const maxCost = ((Math.ceil("how much does this cost?".length / 4) + MAX_TOKENS) * PRICE) / 1e6
    expect(spent).toBeLessThanOrEqual(BUDGET_USD + 1e-9)
    expect(BUDGET_USD - spent).toBeLessThan(maxCost)
    const error = expectOpenAIError(refused, 429, { code: "budget_exceeded", type: "insufficient_quota" })
    expect(error.error.message).toContain("monthly budget of $0.50 for this key's project")
    const now = new Date()
    const reset = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString()
    expect(error.error.message).toContain(`It resets at ${reset}`)
    const retryAfter = Number(refused.headers.get("retry-after"))
    expect(retryAfter).toBeGreaterThan(0)
    expect(Math.abs(retryAfter - (Date.parse(reset) - Date.now()) / 1000)).toBeLessThan(120)
    // Both keys of the project stay refused, whichever worker answers.
    for (let i = 0; i < 6; i++) {
      const r = await ctx.post("/v1/chat/completions", chat(i % 2 === 0), {
        key: i % 2 === 0 ? KEYS.a.key : KEYS.b.key
      })
      expectOpenAIError(r, 429, { code: "budget_exceeded" })
    }
    // A key of another project without a budget is untouched.
    expect((await ctx.post("/v1/chat/completions", chat(), { key: KEYS.free.key })).status).toBe(200)
  })

  it("concurrent requests over both workers never overdraw a budget", async () => {
    const results = await pool(16, 60, () => ctx.post("/v1/chat/completions", chat(), { key: KEYS.burst.key }))
    const ok = results.filter((r) => r.status === 200)
    expect(ok.length).toBeGreaterThan(0)
    expect(results.filter((r) => r.status !== 200).every((r) => r.status === 429)).toBe(true)
    const spent = ok.reduce((sum, r) => sum + costOf(usageOf(r)), 0)
    expect(spent).toBeLessThanOrEqual(0.2 + 1e-9)
  })
})
