// Per-target concurrency caps: `max_concurrency` requests in flight, then a bounded queue, then 429
// concurrency_limit; a queue wait that times out is a 429 too; a full target is skipped for one with
// room; permits are given back when requests and streams end, or when the client goes away.
import { describe, expect, it } from "vitest"
import { expectOpenAIError, itLeaksNoSecrets, runtime, sleep, SSEReader } from "./harness.ts"
import { provider, useRouting, type DetailedTarget, type Sent } from "./routing.ts"
import { slow } from "./upstream/controlled.ts"

describe(`[${runtime}] routing: concurrency limits`, () => {
  const ctx = useRouting({
    upstreams: ["l1", "l2"],
    config: ({ url }) => ({
      providers: [provider("p-l1", url("l1")), provider("p-l2", url("l2"))],
      models: [
        {
          name: "capped",
          targets: [{ provider: "p-l1", model: "cap", max_concurrency: 2, queue: { size: 2, timeout: "5s" } }]
        },
        {
          name: "capped-qt",
          targets: [{ provider: "p-l1", model: "capqt", max_concurrency: 1, queue: { size: 4, timeout: "300ms" } }]
        },
        { name: "capped-noqueue", targets: [{ provider: "p-l1", model: "capnq", max_concurrency: 1 }] },
        {
          name: "capped-spill",
          strategy: "failover",
          targets: [
            { provider: "p-l1", model: "spill", max_concurrency: 1 },
            { provider: "p-l2", model: "spill" }
          ]
        },
        {
          name: "capped-qt-next",
          strategy: "failover",
          retry: { attempts: 1 },
          targets: [
            { provider: "p-l1", model: "qtn", max_concurrency: 1, queue: { size: 1, timeout: "300ms" } },
            { provider: "p-l2", model: "qtn", max_concurrency: 1, queue: { size: 1, timeout: "300ms" } }
          ]
        }
      ]
    })
  })

  const capTarget = (model: string): Promise<DetailedTarget | undefined> => ctx.target(model, "p-l1")

  it("max_concurrency 2 + queue 2: two run, two wait, the fifth is rejected at once with 429 concurrency_limit", async () => {
    const l1 = ctx.up("l1")
    l1.mode = slow(700)
    const t0 = performance.now()
    const all: Array<Promise<Sent & { readonly doneAt: number }>> = Array.from({ length: 5 }, () =>
      ctx.chat("capped").then((s) => ({ ...s, doneAt: performance.now() - t0 }))
    )
    // while they run: 2 active, 2 queued, visible in /health/detailed
    let seen: DetailedTarget | undefined
    const end = performance.now() + 3_000
    while (performance.now() < end) {
      seen = await capTarget("capped")
      if (seen?.active === 2 && seen.queued === 2) break
      await sleep(20)
    }
    expect(seen, "health while saturated").toMatchObject({ active: 2, queued: 2, max_concurrency: 2 })
    const done = await Promise.all(all)
    const rejected = done.filter((s) => s.res.status !== 200)
    const served = done.filter((s) => s.res.status === 200)
    expect(rejected).toHaveLength(1)
    expect(served).toHaveLength(4)
    const r = rejected[0]
    if (r === undefined) throw new Error("unreachable")
    expectOpenAIError(r.res, 429, { code: "concurrency_limit", type: "rate_limit_error" })
    expect(r.ms, "rejected without waiting").toBeLessThan(500)
    expect(r.attempts, "no attempt reached a provider").toBe(0)
    expect(r.hits()).toEqual([])
    // the upstream never saw more than 2 at once; the queued two ran after the first two
    expect(l1.maxInFlight).toBe(2)
    const finish = served.map((s) => s.doneAt).sort((x, y) => x - y)
    expect(finish[0] ?? 0).toBeGreaterThanOrEqual(650)
    expect(finish[3] ?? 0, "the queued ones waited for a permit").toBeGreaterThanOrEqual(1_300)
    expect(served.every((s) => s.provider === "p-l1" && s.attempts === 1)).toBe(true)
    // every permit was given back
    expect(await capTarget("capped")).toMatchObject({ active: 0, queued: 0, in_flight: 0 })
  })

  it("a queue wait longer than queue.timeout → 429 concurrency_limit after the timeout", async () => {
    const l1 = ctx.up("l1")
    l1.mode = slow(1_500)
    const first = ctx.chat("capped-qt")
    await ctx.recorder.waitFor(() => (l1.inFlight === 1 ? true : undefined), 3_000, "first request upstream")
    const second = await ctx.chat("capped-qt")
    expectOpenAIError(second.res, 429, { code: "concurrency_limit", type: "rate_limit_error" })
    expect(second.ms, "waited in the queue for queue.timeout").toBeGreaterThanOrEqual(250)
    expect(second.ms, "but no longer").toBeLessThan(1_300)
    expect(second.hits()).toEqual([])
    expect(second.attempts).toBe(0)
    const f = await first
    expect(f.res.status).toBe(200)
    expect(l1.maxInFlight).toBe(1)
  })

  it("no queue configured: over the cap is rejected at once", async () => {
    const l1 = ctx.up("l1")
    l1.mode = slow(800)
    const first = ctx.chat("capped-noqueue")
    await ctx.recorder.waitFor(() => (l1.inFlight === 1 ? true : undefined), 3_000, "first request upstream")
    const second = await ctx.chat("capped-noqueue")
    expectOpenAIError(second.res, 429, { code: "concurrency_limit" })
    expect(second.ms).toBeLessThan(500)
    expect((await first).res.status).toBe(200)
  })

  it("a reload keeps the count: with one request in flight at max_concurrency 1, the next is still refused after it", async () => {
    const l1 = ctx.up("l1")
    // Long enough to outlast an admin write and its reload on a loaded machine (it took > 1.5 s once).
    l1.mode = slow(4_000)
    const first = ctx.chat("capped-noqueue")
    await ctx.recorder.waitFor(() => (l1.inFlight === 1 ? true : undefined), 3_000, "first request upstream")
    // A real change (a new provider through the admin API): a new config version on every worker.
    const before = (await ctx.get("/health")).json<{ config_version: number }>().config_version
    const created = await ctx.post("/admin/v1/providers", { name: "p-reload-extra", kind: "mock" })
    expect(created.status, created.text).toBe(201)
    expect((await ctx.get("/health")).json<{ config_version: number }>().config_version).toBeGreaterThan(before)
    expect(await capTarget("capped-noqueue"), "the in-flight request still holds its permit").toMatchObject({
      active: 1
    })
    const second = await ctx.chat("capped-noqueue")
    expectOpenAIError(second.res, 429, { code: "concurrency_limit" })
    expect((await first).res.status).toBe(200)
    expect(await capTarget("capped-noqueue")).toMatchObject({ active: 0, in_flight: 0 })
  })

  it("a target at its cap is skipped for one with room", async () => {
    ctx.up("l1").mode = slow(600)
    ctx.up("l2").mode = slow(600)
    const first = ctx.chat("capped-spill")
    await ctx.recorder.waitFor(() => (ctx.up("l1").inFlight === 1 ? true : undefined), 3_000, "first request upstream")
    const second = await ctx.chat("capped-spill")
    expect(second.res.status).toBe(200)
    expect(second.provider).toBe("p-l2")
    expect(second.attempts).toBe(1)
    const f = await first
    expect(f.provider).toBe("p-l1")
    expect(ctx.up("l1").maxInFlight).toBe(1)
  })

  it("a queue timeout on one target moves on to the next target when the retry budget allows", async () => {
    ctx.up("l1").mode = slow(1_500)
    ctx.up("l2").mode = slow(1_500)
    // occupy both targets' single permit
    const busy = [ctx.chat("capped-qt-next"), ctx.chat("capped-qt-next")]
    await ctx.recorder.waitFor(
      () => (ctx.up("l1").inFlight === 1 && ctx.up("l2").inFlight === 1 ? true : undefined),
      3_000,
      "both busy"
    )
    const third = await ctx.chat("capped-qt-next")
    // it waited in one queue (300 ms), then in the other (300 ms), then gave up: 429
    expectOpenAIError(third.res, 429, { code: "concurrency_limit" })
    expect(third.ms).toBeGreaterThanOrEqual(500)
    expect(third.ms).toBeLessThan(1_400)
    expect(third.hits()).toEqual([])
    expect(third.attempts).toBe(0)
    const done = await Promise.all(busy)
    expect(done.map((s) => s.res.status)).toEqual([200, 200])
  })

  it("a client that gives up while queued leaves the queue at once and its request never goes upstream", async () => {
    // Not spelled out in ROUTING.md; the reading of a demanding user: a waiter whose client is gone must
    // not hold a queue slot until a permit frees, nor then spend that permit on an upstream call.
    const l1 = ctx.up("l1")
    l1.mode = slow(2_000)
    const first = ctx.chat("capped")
    const second = ctx.chat("capped")
    await ctx.recorder.waitFor(() => (l1.inFlight === 2 ? true : undefined), 3_000, "both permits taken")
    const ac = new AbortController()
    const queued = ctx
      .post(
        "/v1/chat/completions",
        { model: "capped", messages: [{ role: "user", content: "queued then gone" }] },
        { signal: ac.signal }
      )
      .catch((e: unknown) => e)
    let t: DetailedTarget | undefined
    const end = performance.now() + 1_000
    while (performance.now() < end) {
      t = await capTarget("capped")
      if (t?.queued === 1) break
      await sleep(20)
    }
    expect(t?.queued, "the third request waits in the queue").toBe(1)
    ac.abort()
    await queued
    // well before the first permit frees (2 s), the abandoned waiter is gone from the queue
    const end2 = performance.now() + 700
    while (performance.now() < end2) {
      t = await capTarget("capped")
      if (t?.queued === 0) break
      await sleep(20)
    }
    const stillRunning = l1.inFlight
    expect(stillRunning, "the first two are still upstream").toBe(2)
    expect(t?.queued, "the abandoned waiter left the queue").toBe(0)
    const done = await Promise.all([first, second])
    expect(done.map((s) => s.res.status)).toEqual([200, 200])
    await sleep(200)
    expect(
      ctx.recorder.find((r) => r.rawBody.includes("queued then gone")),
      "the abandoned request reached the upstream"
    ).toEqual([])
    expect(await capTarget("capped")).toMatchObject({ active: 0, queued: 0 })
  })

  it("a stream holds its permit until it ends, and gives it back when the client goes away", async () => {
    const l1 = ctx.up("l1")
    l1.mode = { kind: "ok", chunks: 40, intervalMs: 25 }
    const ac = new AbortController()
    const res = await ctx.postStream(
      "/v1/chat/completions",
      { model: "capped-noqueue", stream: true, messages: [{ role: "user", content: "long stream" }] },
      { signal: ac.signal }
    )
    expect(res.status).toBe(200)
    const reader = new SSEReader(res)
    await reader.next()
    await reader.next()
    // mid-stream the permit is still taken
    expect(await capTarget("capped-noqueue")).toMatchObject({ active: 1, max_concurrency: 1 })
    const blocked = await ctx.chat("capped-noqueue")
    expectOpenAIError(blocked.res, 429, { code: "concurrency_limit" })
    // the client disconnects: the permit comes back
    ac.abort()
    await reader.cancel()
    let after: DetailedTarget | undefined
    const end = performance.now() + 3_000
    while (performance.now() < end) {
      after = await capTarget("capped-noqueue")
      if (after?.active === 0) break
      await sleep(25)
    }
    expect(after).toMatchObject({ active: 0, queued: 0, in_flight: 0 })
    l1.mode = slow(0)
    const next = await ctx.chat("capped-noqueue")
    expect(next.res.status).toBe(200)
  })

  itLeaksNoSecrets(ctx)
})
