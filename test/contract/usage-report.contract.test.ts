// Usage reports (issue 12, item 7): traffic sent through the gateway (two workers on the file projects, so a
// report asked of a worker thread is answered by the owner's store; one on contract-node-pg, the in-thread
// channel), then read back from GET /admin/v1/usage (every group_by, filters, limit, bounds), the SVG chart
// (parsed: one series per group), the page /admin/ui/usage in headless Chromium (it shows the traffic), and
// `llmgate usage` against the running gateway.
import { beforeAll, describe, expect, it } from "vitest"
import { chromiumSkipReason, requireChromium, useBrowser } from "../support/chromium.ts"
import { byClass, parseSvg, textOf } from "../support/svg.ts"
import {
  expectOpenAIError,
  itLeaksNoSecrets,
  MASTER_KEY,
  MODELS,
  runCli,
  runtime,
  sleep,
  TENANCY,
  useContract,
  VIRTUAL_KEYS,
  type ChatCompletion
} from "./harness.ts"

/** USD per million tokens of the upstream model the chat model routes to: the open key's requests cost something. */
const PRICE = { input: 1, output: 2 }

interface Tokens {
  input: number
  cache_read: number
  cache_write: number
  reasoning: number
  output: number
  total: number
}
interface Amounts {
  requests: number
  tokens: Tokens
  cost_usd: number
}
interface Series {
  group: string | null
  label: string
  totals: Amounts
  points: Array<{ bucket: string } & Amounts>
}
interface Report {
  object: string
  group_by: string
  interval: string
  from: string
  to: string
  buckets: number
  limit: number
  filters: Record<string, string>
  recording: boolean
  series: Array<Series>
  other: { groups: number; label: string; totals: Amounts; points: Array<unknown> } | null
  totals: Amounts
}

describe(`[${runtime}] usage reports`, () => {
  const ctx = useContract({
    configure: (c) => ({
      ...c,
      usage: { enabled: true, flush_interval: "100ms" },
      pricing: { [MODELS.chat.upstream]: PRICE }
    })
  })

  /** Where this file's traffic starts: every report below asks from here (the gateway is this file's own). */
  const since = new Date(Date.now() - 60_000).toISOString()
  /** What was sent, by whom, and the usage each answer reported. */
  const sent = { open: 5, master: 3, limited: 2 }
  let mockTokens = 0

  const report = async (query: string, key: string = MASTER_KEY): Promise<Report> => {
    const r = await ctx.get(`/admin/v1/usage?from=${encodeURIComponent(since)}&${query}`, { key })
    expect(r.status, r.text).toBe(200)
    return r.json<Report>()
  }
  const byLabel = (r: Report) =>
    Object.fromEntries(r.series.map((s) => [s.label, [s.group, s.totals.requests, s.totals.tokens.total]]))

  beforeAll(async () => {
    const chat = async (key: string, model: string) => {
      const r = await ctx.post(
        "/v1/chat/completions",
        { model, messages: [{ role: "user", content: "how many tokens is this" }] },
        { key }
      )
      expect(r.status, r.text).toBe(200)
      return r.json<ChatCompletion>().usage.total_tokens
    }
    for (let i = 0; i < sent.open; i++) await chat(VIRTUAL_KEYS.open.key, MODELS.chat.name)
    for (let i = 0; i < sent.master; i++) mockTokens += await chat(MASTER_KEY, MODELS.mockChat.name)
    for (let i = 0; i < sent.limited; i++) mockTokens += await chat(VIRTUAL_KEYS.limited.key, MODELS.mockChat.name)
    // The owner writes records every 100 ms; the report reads what was written.
    const deadline = Date.now() + 15_000
    for (;;) {
      const r = await ctx.get(`/admin/v1/usage?from=${encodeURIComponent(since)}`)
      if (r.status === 200 && r.json<Report>().totals.requests >= 10) break
      if (Date.now() > deadline) throw new Error(`the report did not reach 10 requests within 15 s: ${r.text}`)
      await sleep(100)
    }
  })

  it("counts the traffic by model: requests, tokens by kind and cost, from the rollups", async () => {
    const r = await report("group_by=model&interval=minute")
    expect(r).toMatchObject({
      object: "usage.report",
      group_by: "model",
      interval: "minute",
      recording: true,
      filters: {},
      other: null
    })
    // 11 prompt and 5 completion tokens per upstream answer, priced 1 and 2 USD per million.
    const chat = r.series.find((s) => s.group === MODELS.chat.name)
    expect(chat?.totals).toEqual({
      requests: sent.open,
      tokens: { input: 55, cache_read: 0, cache_write: 0, reasoning: 0, output: 25, total: 80 },
      cost_usd: expect.closeTo((sent.open * (11 * PRICE.input + 5 * PRICE.output)) / 1e6, 12)
    })
    const mock = r.series.find((s) => s.group === MODELS.mockChat.name)
    expect(mock?.totals).toMatchObject({ requests: sent.master + sent.limited, cost_usd: 0 })
    expect(mock?.totals.tokens.total).toBe(mockTokens)
    // The priced model ranks first; the points add up to the totals.
    expect(r.series.map((s) => s.group)).toEqual([MODELS.chat.name, MODELS.mockChat.name])
    for (const s of r.series) {
      expect(s.points.reduce((n, p) => n + p.requests, 0)).toBe(s.totals.requests)
      expect(s.points.every((p) => Date.parse(p.bucket) % 60_000 === 0)).toBe(true)
    }
    expect(r.totals.requests).toBe(10)
    expect(r.from).toBe(new Date(Math.floor(Date.parse(since) / 60_000) * 60_000).toISOString())
  })

  it("groups by key, user, project and provider, with what none means", async () => {
    expect(byLabel(await report("group_by=key"))).toEqual({
      key_open: ["key_open", sent.open, 80],
      "(master key)": [null, sent.master, expect.any(Number)],
      key_limited: ["key_limited", sent.limited, expect.any(Number)]
    })
    expect(byLabel(await report("group_by=user"))).toEqual({
      [TENANCY.admin]: [TENANCY.admin, sent.open, 80],
      "(no user)": [null, sent.master, expect.any(Number)],
      [TENANCY.member]: [TENANCY.member, sent.limited, expect.any(Number)]
    })
    expect(byLabel(await report("group_by=project"))).toMatchObject({
      [TENANCY.project]: [TENANCY.project, sent.open + sent.limited, expect.any(Number)],
      "(no project)": [null, sent.master, expect.any(Number)]
    })
    expect(byLabel(await report("group_by=provider"))).toEqual({
      [MODELS.chat.provider]: [MODELS.chat.provider, sent.open, 80],
      [MODELS.mockChat.provider]: [MODELS.mockChat.provider, sent.master + sent.limited, mockTokens]
    })
  })

  it("filters by key, project, user, model and provider; limit folds the rest into other", async () => {
    const open = await report("group_by=model&key=key_open")
    expect(open.filters).toEqual({ key: "key_open" })
    expect(byLabel(open)).toEqual({ [MODELS.chat.name]: [MODELS.chat.name, sent.open, 80] })
    expect(byLabel(await report(`group_by=key&project=${TENANCY.project}&model=${MODELS.mockChat.name}`))).toEqual({
      key_limited: ["key_limited", sent.limited, expect.any(Number)]
    })
    expect((await report(`user=${TENANCY.member}&provider=mock`)).totals.requests).toBe(sent.limited)
    expect((await report("key=key_nobody")).series).toEqual([])
    const top = await report("group_by=key&limit=1")
    expect(top.series.map((s) => s.group)).toEqual(["key_open"])
    expect(top.other).toMatchObject({ groups: 2, label: "other (2 groups)", totals: { requests: 5 } })
  })

  it("refuses unbounded or invalid queries with a 400 naming the parameter, and non-admins", async () => {
    const ninetyDays = new Date(Date.now() - 90 * 86_400_000).toISOString()
    expectOpenAIError(await ctx.get(`/admin/v1/usage?interval=minute&from=${ninetyDays}`), 400, {
      code: "invalid_request",
      param: "interval"
    })
    expectOpenAIError(await ctx.get("/admin/v1/usage?group_by=team"), 400, {
      code: "invalid_request",
      param: "group_by"
    })
    expectOpenAIError(await ctx.get("/admin/v1/usage?from=yesterday"), 400, { code: "invalid_request", param: "from" })
    expectOpenAIError(await ctx.get("/admin/v1/usage?limit=99"), 400, { code: "invalid_request", param: "limit" })
    expectOpenAIError(await ctx.get("/admin/v1/usage?since=1h"), 400, { code: "invalid_request", param: "since" })
    expectOpenAIError(await ctx.get("/admin/v1/usage/graph?metric=latency"), 400, {
      code: "invalid_request",
      param: "metric"
    })
    expectOpenAIError(await ctx.get("/admin/v1/usage", { key: VIRTUAL_KEYS.limited.key }), 403, {
      code: "forbidden",
      param: null
    })
    expectOpenAIError(await ctx.get("/admin/v1/usage/graph", { key: null }), 401, {
      code: "invalid_api_key",
      param: null
    })
    expect((await ctx.request("POST", "/admin/v1/usage", {})).status).toBe(405)
    expect((await ctx.get("/admin/v1/usage/nope")).status).toBe(404)
    // The admin user's key may read reports.
    expect((await report("group_by=model", VIRTUAL_KEYS.open.key)).totals.requests).toBe(10)
  })

  it("draws the report as an SVG: one series per group, a legend naming each", async () => {
    const r = await ctx.get(`/admin/v1/usage/graph?group_by=key&from=${encodeURIComponent(since)}`)
    expect(r.status, r.text).toBe(200)
    expect(r.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8")
    expect(r.headers.get("content-security-policy")).toContain("default-src 'none'")
    const svg = await parseSvg(r.text)
    const groups = ["key_open", "(master key)", "key_limited"]
    expect(byClass(svg, "path", "series").map((p) => p.attributes["data-group"])).toEqual(groups)
    expect(byClass(svg, "g", "legend-entry").map((g) => textOf(g).trim())).toEqual([
      `key_open (${sent.open})`,
      `(master key) (${sent.master})`,
      `key_limited (${sent.limited})`
    ])
    expect(byClass(svg, "text", "title").map(textOf)).toEqual(["Requests by key, per minute"])
    const cost = await parseSvg(
      (await ctx.get(`/admin/v1/usage/graph?metric=cost&from=${encodeURIComponent(since)}`)).text
    )
    expect(byClass(cost, "g", "legend-entry").map((g) => textOf(g).trim())).toEqual([
      `${MODELS.chat.name} ($0.000105)`,
      `${MODELS.mockChat.name} ($0)`
    ])
  })

  it("llmgate usage prints the traffic as a table, from the config's address and key or from flags", async () => {
    /** Requests per group summed over the table's rows (a minute boundary may split a group in two rows). */
    const rowsOf = (out: string): Record<string, number> => {
      const lines = out.split("\n")
      const header = lines.findIndex((l) => l.startsWith("bucket (UTC)"))
      expect(header, out).toBeGreaterThan(0)
      const sums: Record<string, number> = {}
      for (const line of lines.slice(header + 1)) {
        const cells = line.split(/ {2,}/)
        const [first, group, requests] = cells[0] === "total" ? ["total", "total", cells[1]] : cells
        if (first === undefined || group === undefined || requests === undefined) continue
        sums[group] = (sums[group] ?? 0) + Number(requests.replace(/,/g, ""))
      }
      return sums
    }
    // The config names the gateway's port and its master key.
    // In Postgres mode the file holds only the instance's settings, as the gateway reads it with DATABASE_URL.
    const byKey = await runCli(["usage", "--config", ctx.gateway.configPath, "--since", "1h", "--group-by", "key"], {
      LLMGATE_MASTER_KEY: "",
      ...(ctx.databaseUrl === undefined ? {} : { DATABASE_URL: ctx.databaseUrl })
    })
    expect(byKey.code, byKey.out).toBe(0)
    expect(byKey.out).toMatch(/^usage at http:\/\/127\.0\.0\.1:\d+: by key, per minute, /)
    expect(rowsOf(byKey.out)).toEqual({
      key_open: sent.open,
      "(master key)": sent.master,
      key_limited: sent.limited,
      total: 10
    })
    expect(byKey.out).toMatch(/^total +10 +\d+ +\$0\.000105$/m)

    const oneKey = await runCli(
      ["usage", "--url", ctx.base, "--key", "key_open", "--since", "2h", "--interval", "hour"],
      {
        LLMGATE_MASTER_KEY: MASTER_KEY
      }
    )
    expect(oneKey.code, oneKey.out).toBe(0)
    expect(oneKey.out).toContain("by model, per hour")
    expect(oneKey.out).toContain("; key key_open")
    expect(rowsOf(oneKey.out)).toEqual({ [MODELS.chat.name]: sent.open, total: sent.open })

    const refused = await runCli(["usage", "--url", ctx.base, "--since", "90d", "--interval", "minute"], {
      LLMGATE_MASTER_KEY: MASTER_KEY
    })
    expect(refused.code).toBe(1)
    expect(refused.out).toContain("llmgate usage: the gateway answered 400: interval: minute over 90")
    const wrongKey = await runCli(["usage", "--url", ctx.base, "--master-key", "sk-wrong"], {})
    expect(wrongKey.code).toBe(1)
    expect(wrongKey.out).toContain("the gateway answered 401")
  })

  it("serves the usage page without a key, self-contained, under a strict Content-Security-Policy", async () => {
    const r = await ctx.get("/admin/ui/usage", { key: null })
    expect(r.status).toBe(200)
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8")
    const csp = r.headers.get("content-security-policy") ?? ""
    for (const directive of [
      "default-src 'none'",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'"
    ])
      expect(csp).toContain(directive)
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/)
    expect(csp).not.toContain("unsafe")
    // Nothing is loaded from anywhere: no src or href but the empty data: icon.
    expect(r.text.match(/\b(?:src|href)=/g)).toEqual(["href="])
    expect(r.text).toContain('<link rel="icon" href="data:,">')
  })

  describe.skipIf(chromiumSkipReason !== undefined)(
    `the usage page in headless Chromium${chromiumSkipReason === undefined ? "" : ` (skipped: ${chromiumSkipReason})`}`,
    () => {
      const launch = useBrowser()

      it("asks for the key, then plots the traffic with one line per group; filters change the plot", {
        timeout: 25_000
      }, async () => {
        requireChromium()
        const origin = new URL(ctx.base).origin
        const browser = await launch(15_000)
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
        const requests: Array<{ url: string; authorization: string | undefined }> = []
        const problems: Array<string> = []
        context.on("request", (q) => {
          requests.push({ url: q.url(), authorization: q.headers()["authorization"] })
        })
        context.on("requestfailed", (q) => {
          problems.push(`failed: ${q.url()} ${q.failure()?.errorText ?? ""}`)
        })
        context.on("response", (q) => {
          if (q.status() >= 400) problems.push(`HTTP ${q.status()}: ${q.url()}`)
        })
        await context.route(
          (url) => url.origin !== origin && url.protocol !== "data:",
          (route) => route.abort("blockedbyclient")
        )
        const page = await context.newPage()
        page.on("console", (m) => {
          if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`)
        })
        page.on("pageerror", (e) => {
          problems.push(`page error: ${String(e)}`)
        })

        const nav = await page.goto(`${ctx.base}/admin/ui/usage?group_by=key&range=1h`, { waitUntil: "load" })
        expect(nav?.status()).toBe(200)
        // No key yet: the page asks for one.
        await page.locator("#key").waitFor({ state: "visible", timeout: 5_000 })
        await page.locator("#key").fill(MASTER_KEY)
        await page.locator("#key-form button[type=submit]").click()

        // The key form gives way to the filters.
        await page.locator("#filters").waitFor({ state: "visible", timeout: 5_000 })
        expect(await page.locator("#key-form").isVisible()).toBe(false)
        const lines = page.locator("#chart svg path.series")
        await expect.poll(() => lines.count(), { timeout: 8_000 }).toBe(3)
        expect(await lines.evaluateAll((ps) => ps.map((p) => p.getAttribute("data-group")))).toEqual([
          "key_open",
          "(master key)",
          "key_limited"
        ])
        // The lines are drawn: the open key's rises above the axis somewhere.
        const heights = await lines.evaluateAll((ps) => ps.map((p) => p.getBoundingClientRect().height))
        expect(
          heights.every((h) => h > 0),
          JSON.stringify(heights)
        ).toBe(true)
        const legend = await page.locator("#chart svg g.legend-entry").allTextContents()
        expect(legend.map((t) => t.trim())).toEqual([
          `key_open (${sent.open})`,
          `(master key) (${sent.master})`,
          `key_limited (${sent.limited})`
        ])
        const rows = await page
          .locator("#rows tr")
          .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].slice(0, 2).map((td) => td.textContent)))
        expect(rows).toEqual([
          ["key_open", String(sent.open)],
          ["(master key)", String(sent.master)],
          ["key_limited", String(sent.limited)]
        ])
        expect(await page.locator("#total td").allTextContents()).toEqual(expect.arrayContaining(["total", "10"]))

        // Another group_by: the plot follows, and the page's URL keeps the filters (never the key).
        await page.locator("select[name=group_by]").selectOption("model")
        await expect
          .poll(() => lines.evaluateAll((ps) => ps.map((p) => p.getAttribute("data-group"))), { timeout: 8_000 })
          .toEqual([MODELS.chat.name, MODELS.mockChat.name])
        expect(new URL(page.url()).searchParams.get("group_by")).toBe("model")

        // The key lives in this tab's sessionStorage and travels only as a header.
        expect(await page.evaluate(() => sessionStorage.getItem("llmgate.adminKey"))).toBe(MASTER_KEY)
        expect(page.url()).not.toContain(MASTER_KEY)
        expect(
          requests.filter((q) => q.url.includes(MASTER_KEY) || q.url.includes(encodeURIComponent(MASTER_KEY)))
        ).toEqual([])
        const api = requests.filter((q) => new URL(q.url).pathname.startsWith("/admin/v1/usage"))
        expect(api.map((q) => new URL(q.url).pathname)).toEqual(
          expect.arrayContaining(["/admin/v1/usage", "/admin/v1/usage/graph"])
        )
        expect(api.every((q) => q.authorization === `Bearer ${MASTER_KEY}`)).toBe(true)
        expect(requests.filter((q) => !q.url.startsWith(origin) && !q.url.startsWith("data:"))).toEqual([])

        // Forgetting the key clears it and asks again.
        await page.locator("#forget").click()
        await page.locator("#key").waitFor({ state: "visible", timeout: 5_000 })
        expect(await page.locator("#filters").isVisible()).toBe(false)
        expect(await page.locator("#chart svg").count()).toBe(0)
        expect(await page.evaluate(() => sessionStorage.getItem("llmgate.adminKey"))).toBeNull()
        expect(problems).toEqual([])
      })

      it("drops a refused key and asks again", { timeout: 20_000 }, async () => {
        requireChromium()
        const browser = await launch(15_000)
        const page = await (await browser.newContext()).newPage()
        await page.goto(`${ctx.base}/admin/ui/usage`, { waitUntil: "load" })
        await page.locator("#key").fill(VIRTUAL_KEYS.limited.key)
        await page.locator("#key-form button[type=submit]").click()
        await expect.poll(() => page.locator("#status").textContent(), { timeout: 8_000 }).toContain("admin API needs")
        expect(await page.locator("#key").isVisible()).toBe(true)
        expect(await page.locator("#filters").isVisible()).toBe(false)
        expect(await page.evaluate(() => sessionStorage.getItem("llmgate.adminKey"))).toBeNull()
      })
    }
  )

  itLeaksNoSecrets(ctx)
})
