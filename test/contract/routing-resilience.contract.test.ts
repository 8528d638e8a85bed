// Resilience: timeouts and unreachable targets failed over, circuit breakers (open, fail fast, one
// half-open probe, close), retries with backoff and Retry-After, non-retryable errors relayed at
// once, fallbacks only when every target failed, x-llmgate-attempts, and GET /health/detailed.
import { describe, expect, it } from "vitest"
import { expectOpenAIError, itLeaksNoSecrets, PROVIDER_KEY, runtime } from "./harness.ts"
import { provider, useRouting, type DetailedTarget, type Sent } from "./routing.ts"
import { fail, hang, ok, replyText, slow, throttle, upstreamErrorBody } from "./upstream/controlled.ts"

const target = (p: string, model: string, extra: Readonly<Record<string, unknown>> = {}) => ({
  provider: p,
  model,
  ...extra
})

const BRK = { failure_rate: 0.5, min_requests: 4, window: "10s", cooldown: "1500ms" }
const SOLO_BRK = { failure_rate: 0.5, min_requests: 2, window: "10s", cooldown: "60s" }

const content = (s: Sent): string | undefined =>
  s.res.json<{ choices: Array<{ message: { content: string } }> }>().choices[0]?.message.content

describe(`[${runtime}] routing: resilience`, () => {
  const ctx = useRouting({
    upstreams: ["a", "b", "c", "fb1", "fb2", "brk", "solo", "ra", "kr"],
    config: ({ url, closedPort }) => ({
      providers: [
        provider("p-a", url("a"), { api_key: PROVIDER_KEY }),
        provider("p-b", url("b"), { api_key: PROVIDER_KEY }),
        provider("p-c", url("c")),
        provider("p-a-short", url("a"), { timeout: { request: "600ms" } }),
        provider("p-down", `http://127.0.0.1:${closedPort}/v1`, { api_key: PROVIDER_KEY }),
        provider("p-fb1", url("fb1")),
        provider("p-fb2", url("fb2")),
        provider("p-brk", url("brk"), { breaker: BRK }),
        provider("p-solo", url("solo"), { breaker: SOLO_BRK }),
        provider("p-solo-probe", url("solo"), { breaker: { ...SOLO_BRK, cooldown: "1s" } }),
        provider("p-win", url("solo"), {
          breaker: { failure_rate: 0.5, min_requests: 3, window: "1s", cooldown: "30s" }
        }),
        provider("p-ra", url("ra")),
        provider("p-kr", url("kr"))
      ],
      models: [
        {
          name: "timeout-fo",
          strategy: "failover",
          targets: [target("p-a-short", "to"), target("p-b", "to")],
          retry: { attempts: 1 }
        },
        { name: "timeout-solo", targets: [target("p-a-short", "to-solo")] },
        { name: "unreach-fo", strategy: "failover", targets: [target("p-down", "ur"), target("p-b", "ur")] },
        { name: "unreach-solo", targets: [target("p-down", "urs")] },
        {
          name: "unreach-both",
          strategy: "failover",
          targets: [target("p-down", "ub1"), target("p-down", "ub2")],
          retry: { attempts: 1 }
        },
        {
          name: "breaker-fo",
          strategy: "failover",
          targets: [target("p-brk", "brk-m"), target("p-b", "brk-backup")],
          retry: { attempts: 1 }
        },
        { name: "breaker-solo", targets: [target("p-solo", "solo-m")] },
        { name: "breaker-solo-probe", targets: [target("p-solo-probe", "probe-m")] },
        { name: "breaker-window", targets: [target("p-win", "win-m")] },
        {
          name: "ra-1s",
          targets: [target("p-ra", "ra-1")],
          retry: { attempts: 1, backoff: "100ms", max_backoff: "2s" }
        },
        {
          name: "ra-503",
          targets: [target("p-ra", "ra-503")],
          retry: { attempts: 1, backoff: "100ms", max_backoff: "2s" }
        },
        {
          name: "ra-date",
          targets: [target("p-ra", "ra-date")],
          retry: { attempts: 1, backoff: "100ms", max_backoff: "3s" }
        },
        {
          name: "ra-too-long",
          targets: [target("p-ra", "ra-long")],
          retry: { attempts: 1, backoff: "100ms", max_backoff: "1s" }
        },
        {
          name: "backoff-solo",
          targets: [target("p-ra", "bo")],
          retry: { attempts: 2, backoff: "300ms", max_backoff: "1s" }
        },
        { name: "no-retry-solo", targets: [target("p-ra", "nrs")] },
        {
          name: "ra-mixed",
          strategy: "failover",
          targets: [target("p-ra", "mix"), target("p-c", "mix")],
          retry: { attempts: 2, backoff: "50ms", max_backoff: "1s" }
        },
        {
          name: "ra-mixed-wait",
          strategy: "failover",
          targets: [target("p-ra", "mixw"), target("p-c", "mixw")],
          retry: { attempts: 2, backoff: "50ms", max_backoff: "3s" }
        },
        {
          name: "nonretry",
          strategy: "failover",
          targets: [target("p-a", "nr"), target("p-b", "nr")],
          retry: { attempts: 2 },
          fallbacks: ["fb-one"]
        },
        {
          name: "fb-primary",
          strategy: "failover",
          targets: [target("p-a", "fbp"), target("p-b", "fbp")],
          retry: { attempts: 1, backoff: "50ms" },
          fallbacks: ["fb-one", "fb-two"]
        },
        { name: "fb-one", targets: [target("p-fb1", "fb1")] },
        { name: "fb-two", targets: [target("p-fb2", "fb2")] },
        {
          name: "kr-fo",
          strategy: "failover",
          targets: [target("p-kr", "kr"), target("p-c", "kr")],
          retry: { attempts: 1 }
        }
      ]
    })
  })

  describe("GET /health/detailed", () => {
    it("answers without a key, with every model, its strategy and each target's live state", async () => {
      const r = await ctx.get("/health/detailed", { key: null })
      expect(r.status, r.text).toBe(200)
      expect(r.headers.get("content-type") ?? "").toMatch(/application\/json/)
      const h = r.json<{
        status: string
        models: Array<{ name: string; strategy: string; targets: Array<DetailedTarget> }>
      }>()
      expect(h.status).toBe("ok")
      expect(h.models.map((m) => m.name)).toEqual([
        "timeout-fo",
        "timeout-solo",
        "unreach-fo",
        "unreach-solo",
        "unreach-both",
        "breaker-fo",
        "breaker-solo",
        "breaker-solo-probe",
        "breaker-window",
        "ra-1s",
        "ra-503",
        "ra-date",
        "ra-too-long",
        "backoff-solo",
        "no-retry-solo",
        "ra-mixed",
        "ra-mixed-wait",
        "nonretry",
        "fb-primary",
        "fb-one",
        "fb-two",
        "kr-fo"
      ])
      const byName = new Map(h.models.map((m) => [m.name, m]))
      expect(byName.get("breaker-fo")?.strategy).toBe("failover")
      expect(byName.get("breaker-solo")?.strategy).toBe("weighted") // the default
      for (const m of h.models) {
        expect(m.targets.length, m.name).toBeGreaterThan(0)
        for (const t of m.targets) {
          expect(t, `${m.name} → ${t.provider}`).toMatchObject({
            provider: expect.any(String),
            model: expect.any(String),
            state: expect.stringMatching(/^(closed|open|half_open)$/),
            failure_rate: expect.any(Number),
            samples: expect.any(Number),
            in_flight: expect.any(Number),
            success_rate: expect.any(Number),
            active: expect.any(Number),
            queued: expect.any(Number)
          })
          expect(t.latency_ms === null || typeof t.latency_ms === "number").toBe(true)
          expect(t.max_concurrency === null || typeof t.max_concurrency === "number").toBe(true)
        }
      }
      expect(byName.get("breaker-fo")?.targets.map((t) => [t.provider, t.model])).toEqual([
        ["p-brk", "brk-m"],
        ["p-b", "brk-backup"]
      ])
      // nothing served yet: closed, no samples, no latency
      expect(byName.get("fb-two")?.targets[0]).toMatchObject({
        state: "closed",
        samples: 0,
        in_flight: 0,
        latency_ms: null,
        failure_rate: 0
      })
      expect(r.text).not.toContain(PROVIDER_KEY)
    })

    it("a served request shows up as a sample with a latency", async () => {
      const s = await ctx.chat("fb-two")
      expect(s.res.status).toBe(200)
      const t = await ctx.target("fb-two", "p-fb2")
      expect(t).toMatchObject({ state: "closed", samples: 1, failure_rate: 0, in_flight: 0 })
      expect(t?.latency_ms).toEqual(expect.any(Number))
    })
  })

  describe("timeouts and unreachable targets", () => {
    it("a hanging target trips its request timeout and the request succeeds on the next target", async () => {
      ctx.up("a").mode = hang
      const s = await ctx.chat("timeout-fo")
      expect(s.res.status, s.res.text).toBe(200)
      expect(s.provider).toBe("p-b")
      expect(s.attempts).toBe(2)
      expect(s.hits()).toEqual(["a", "b"])
      expect(content(s)).toBe(replyText("b"))
      expect(s.ms, "waited for a's 600 ms timeout").toBeGreaterThanOrEqual(550)
      expect(s.ms, "but not much longer").toBeLessThan(3_000)
      // the gateway hung up on the hanging upstream
      const hung = ctx
        .up("a")
        .requests()
        .find((r) => r.rawBody.includes(s.marker))
      await ctx.recorder.waitFor(
        () => (hung !== undefined && ctx.recorder.aborted.has(hung.seq) ? true : undefined),
        3_000,
        "hung request aborted"
      )
    })

    it("a hanging single target → 504 upstream_timeout after its timeout, attempts 1", async () => {
      ctx.up("a").mode = hang
      const s = await ctx.chat("timeout-solo")
      expectOpenAIError(s.res, 504, { code: "upstream_timeout" })
      expect(s.attempts).toBe(1)
      expect(s.ms).toBeGreaterThanOrEqual(550)
      expect(s.ms).toBeLessThan(3_000)
    })

    it("connection refused on the first target fails over to the next (attempts 2)", async () => {
      const s = await ctx.chat("unreach-fo")
      expect(s.res.status, s.res.text).toBe(200)
      expect(s.provider).toBe("p-b")
      expect(s.attempts).toBe(2)
      expect(s.hits()).toEqual(["b"])
    })

    it("a single unreachable target → 502 upstream_unreachable with x-llmgate-attempts 1", async () => {
      const s = await ctx.chat("unreach-solo")
      expectOpenAIError(s.res, 502, { code: "upstream_unreachable" })
      expect(s.attempts).toBe(1)
    })

    it("two unreachable targets → 502 upstream_unreachable with x-llmgate-attempts 2", async () => {
      const s = await ctx.chat("unreach-both")
      expectOpenAIError(s.res, 502, { code: "upstream_unreachable" })
      expect(s.attempts).toBe(2)
    })

    it("an upstream killed mid-life is failed over, and serves again once restarted on its port", async () => {
      const kr = ctx.up("kr")
      const before = await ctx.chat("kr-fo")
      expect(before.provider).toBe("p-kr") // also leaves a pooled keep-alive connection behind
      await kr.kill()
      try {
        for (let i = 0; i < 3; i++) {
          const s = await ctx.chat("kr-fo")
          expect(s.res.status, s.res.text).toBe(200)
          expect(s.provider).toBe("p-c")
          expect(s.attempts).toBe(2)
          expect(s.hits()).toEqual(["c"])
        }
      } finally {
        await kr.restart()
      }
      const after = await ctx.chat("kr-fo")
      expect(after.res.status).toBe(200)
      expect(after.provider).toBe("p-kr")
      expect(after.attempts).toBe(1)
      expect(after.hits()).toEqual(["kr"])
    })
  })

  describe("circuit breaker", () => {
    it("opens after the threshold, serves nothing while open, lets exactly one probe through after cooldown, and closes again", async () => {
      const brk = ctx.up("brk")
      const brkCount = () => brk.requests().length
      brk.mode = fail(500)
      expect(await ctx.target("breaker-fo", "p-brk")).toMatchObject({ state: "closed", samples: 0 })

      // below min_requests (4) the failures do not open it, however bad the rate
      for (let i = 0; i < 3; i++) {
        const s = await ctx.chat("breaker-fo")
        expect(s.res.status, s.res.text).toBe(200)
        expect(s.provider).toBe("p-b")
        expect(s.attempts).toBe(2)
        expect(s.hits()).toEqual(["brk", "b"])
      }
      expect(await ctx.target("breaker-fo", "p-brk")).toMatchObject({ state: "closed", samples: 3, failure_rate: 1 })

      // the 4th failure reaches the threshold: open
      const fourth = await ctx.chat("breaker-fo")
      expect(fourth.hits()).toEqual(["brk", "b"])
      const opened = await ctx.target("breaker-fo", "p-brk")
      expect(opened?.state).toBe("open")
      expect(opened?.failure_rate).toBe(1)

      // open: no traffic at all, the backup serves first time
      const atOpen = brkCount()
      for (let i = 0; i < 5; i++) {
        const s = await ctx.chat("breaker-fo")
        expect(s.res.status).toBe(200)
        expect(s.provider).toBe("p-b")
        expect(s.attempts).toBe(1)
        expect(s.hits()).toEqual(["b"])
      }
      expect(brkCount()).toBe(atOpen)
      expect((await ctx.target("breaker-fo", "p-brk"))?.state).toBe("open")

      // cooldown over: half-open; a probe that fails opens it again (new cooldown)
      await ctx.waitForState("breaker-fo", "p-brk", "half_open")
      const probe1 = await ctx.chat("breaker-fo")
      expect(probe1.res.status).toBe(200)
      expect(probe1.hits()).toEqual(["brk", "b"])
      expect((await ctx.target("breaker-fo", "p-brk"))?.state).toBe("open")
      const afterProbe1 = brkCount()
      for (let i = 0; i < 3; i++) expect((await ctx.chat("breaker-fo")).hits()).toEqual(["b"])
      expect(brkCount()).toBe(afterProbe1)

      // next cooldown over; brk healthy again but slow: of 6 concurrent requests exactly ONE probes it
      await ctx.waitForState("breaker-fo", "p-brk", "half_open")
      brk.mode = slow(500)
      const burst = Array.from({ length: 6 }, () => ctx.chat("breaker-fo"))
      await ctx.recorder.waitFor(() => (brkCount() > afterProbe1 ? true : undefined), 3_000, "the probe")
      expect((await ctx.target("breaker-fo", "p-brk"))?.state, "half-open while the probe is out").toBe("half_open")
      const done = await Promise.all(burst)
      expect(done.map((s) => s.res.status)).toEqual([200, 200, 200, 200, 200, 200])
      expect(brkCount() - afterProbe1, "probes let through").toBe(1)
      expect(done.filter((s) => s.provider === "p-brk")).toHaveLength(1)
      expect(done.filter((s) => s.provider === "p-b")).toHaveLength(5)
      expect(done.every((s) => s.attempts === 1)).toBe(true)

      // probe succeeded: closed with a fresh window, and the first target takes traffic again
      expect(await ctx.target("breaker-fo", "p-brk")).toMatchObject({ state: "closed", samples: 0, failure_rate: 0 })
      brk.mode = ok
      for (let i = 0; i < 3; i++) {
        const s = await ctx.chat("breaker-fo")
        expect(s.provider).toBe("p-brk")
        expect(s.hits()).toEqual(["brk"])
      }
    }, 30_000)

    it("every target's breaker open → 503 service_unavailable at once, no upstream request, attempts 0", async () => {
      const solo = ctx.up("solo")
      solo.mode = fail(500)
      for (let i = 0; i < 2; i++) {
        const s = await ctx.chat("breaker-solo")
        expect(s.res.status).toBe(500)
        expect(s.res.json()).toEqual(upstreamErrorBody("solo", 500))
        expect(s.attempts).toBe(1)
      }
      expect((await ctx.target("breaker-solo", "p-solo"))?.state).toBe("open")
      // were a request sent now, it would hang: the answer must come without one
      solo.mode = hang
      const sent = solo.requests().length
      const s = await ctx.chat("breaker-solo")
      expectOpenAIError(s.res, 503, { code: "service_unavailable" })
      expect(s.attempts).toBe(0)
      expect(s.ms).toBeLessThan(1_000)
      expect(solo.requests()).toHaveLength(sent)
      expect(s.hits()).toEqual([])
    })
    it("only failures inside the sliding window count towards opening", async () => {
      ctx.up("solo").mode = fail(500)
      for (let i = 0; i < 2; i++) expect((await ctx.chat("breaker-window")).res.status).toBe(500)
      expect(await ctx.target("breaker-window", "p-win")).toMatchObject({ state: "closed", samples: 2 })
      // the 1 s window slides past them
      const end = performance.now() + 5_000
      let t = await ctx.target("breaker-window", "p-win")
      while ((t?.samples ?? 0) > 0 && performance.now() < end) {
        await new Promise((r) => setTimeout(r, 50))
        t = await ctx.target("breaker-window", "p-win")
      }
      expect(t).toMatchObject({ state: "closed", samples: 0 })
      // a third failure alone does not reach min_requests (3): still closed
      expect((await ctx.chat("breaker-window")).res.status).toBe(500)
      expect(await ctx.target("breaker-window", "p-win")).toMatchObject({ state: "closed", samples: 1 })
      // three inside the window do
      for (let i = 0; i < 2; i++) expect((await ctx.chat("breaker-window")).res.status).toBe(500)
      expect((await ctx.target("breaker-window", "p-win"))?.state).toBe("open")
    })

    it("half-open with a single target: exactly one probe goes upstream, concurrent others get 503 at once", async () => {
      const solo = ctx.up("solo")
      solo.mode = fail(500)
      for (let i = 0; i < 2; i++) expect((await ctx.chat("breaker-solo-probe")).res.status).toBe(500)
      expect((await ctx.target("breaker-solo-probe", "p-solo-probe"))?.state).toBe("open")
      await ctx.waitForState("breaker-solo-probe", "p-solo-probe", "half_open")
      solo.mode = slow(1_000)
      const sent = solo.requests().length
      const done = await Promise.all(Array.from({ length: 4 }, () => ctx.chat("breaker-solo-probe")))
      expect(solo.requests().length - sent, "probes let through").toBe(1)
      const served = done.filter((s) => s.res.status === 200)
      const refused = done.filter((s) => s.res.status !== 200)
      expect(served).toHaveLength(1)
      expect(served[0]?.provider).toBe("p-solo-probe")
      expect(refused).toHaveLength(3)
      for (const s of refused) {
        expectOpenAIError(s.res, 503, { code: "service_unavailable" })
        expect(s.attempts).toBe(0)
        expect(s.ms, "refused without waiting for the 1 s probe").toBeLessThan(700)
      }
      expect(await ctx.target("breaker-solo-probe", "p-solo-probe")).toMatchObject({ state: "closed", samples: 0 })
    })
  })

  describe("retries and Retry-After", () => {
    it("503 with Retry-After: 1 is honoured like a 429", async () => {
      const ra = ctx.up("ra")
      ra.queue(fail(503, "1"))
      const s = await ctx.chat("ra-503")
      expect(s.res.status, s.res.text).toBe(200)
      expect(s.attempts).toBe(2)
      const seen = ra.requests().filter((r) => r.rawBody.includes(s.marker))
      expect(seen).toHaveLength(2)
      const gap = (seen[1]?.receivedAt ?? 0) - (seen[0]?.receivedAt ?? 0)
      expect(gap).toBeGreaterThanOrEqual(950)
      expect(gap).toBeLessThan(2_000)
    })

    it("429 with Retry-After: 1 on a single target → retried after ≈1 s and succeeds (attempts 2)", async () => {
      const ra = ctx.up("ra")
      ra.queue(throttle("1"))
      const s = await ctx.chat("ra-1s")
      expect(s.res.status, s.res.text).toBe(200)
      expect(s.provider).toBe("p-ra")
      expect(s.attempts).toBe(2)
      const seen = ra.requests().filter((r) => r.rawBody.includes(s.marker))
      expect(seen).toHaveLength(2)
      const gap = (seen[1]?.receivedAt ?? 0) - (seen[0]?.receivedAt ?? 0)
      expect(gap, "waited the Retry-After second").toBeGreaterThanOrEqual(950)
      expect(gap, "and not much more").toBeLessThan(2_000)
    })

    it("Retry-After as an HTTP date is honoured too", async () => {
      const ra = ctx.up("ra")
      ra.queue(throttle(new Date(Date.now() + 2_000).toUTCString()))
      const s = await ctx.chat("ra-date")
      expect(s.res.status, s.res.text).toBe(200)
      expect(s.attempts).toBe(2)
      const seen = ra.requests().filter((r) => r.rawBody.includes(s.marker))
      expect(seen).toHaveLength(2)
      const gap = (seen[1]?.receivedAt ?? 0) - (seen[0]?.receivedAt ?? 0)
      // the date has whole seconds: 1–2 s from now
      expect(gap).toBeGreaterThanOrEqual(900)
      expect(gap).toBeLessThan(3_000)
    })

    it("Retry-After longer than max_backoff → the 429 is relayed at once, not retried", async () => {
      const ra = ctx.up("ra")
      ra.mode = throttle("5")
      const s = await ctx.chat("ra-too-long")
      expect(s.res.status).toBe(429)
      expect(s.res.json()).toEqual(upstreamErrorBody("ra", 429))
      expect(s.res.headers.get("retry-after")).toBe("5")
      expect(s.provider).toBe("p-ra")
      expect(s.attempts).toBe(1)
      expect(s.ms).toBeLessThan(900)
      expect(ra.requests().filter((r) => r.rawBody.includes(s.marker))).toHaveLength(1)
    })

    it("without Retry-After the same target is retried after an exponential backoff", async () => {
      const ra = ctx.up("ra")
      ra.queue(fail(500), fail(503))
      const s = await ctx.chat("backoff-solo")
      expect(s.res.status, s.res.text).toBe(200)
      expect(s.attempts).toBe(3)
      const seen = ra.requests().filter((r) => r.rawBody.includes(s.marker))
      expect(seen).toHaveLength(3)
      const t = seen.map((r) => r.receivedAt)
      // backoff 300 ms with equal jitter: 1st retry after 150–300 ms, 2nd after 300–600 ms
      const gap1 = (t[1] ?? 0) - (t[0] ?? 0)
      const gap2 = (t[2] ?? 0) - (t[1] ?? 0)
      expect(gap1).toBeGreaterThanOrEqual(140)
      expect(gap1).toBeLessThan(1_000)
      expect(gap2).toBeGreaterThanOrEqual(290)
      expect(gap2).toBeLessThan(1_500)
    })

    it("a single target without retry config is tried once (default attempts 0)", async () => {
      const ra = ctx.up("ra")
      ra.mode = fail(500)
      const s = await ctx.chat("no-retry-solo")
      expect(s.res.status).toBe(500)
      expect(s.res.json()).toEqual(upstreamErrorBody("ra", 500))
      expect(s.attempts).toBe(1)
      expect(s.hits()).toEqual(["ra"])
    })

    it("a Retry-After beyond max_backoff ends retries on THAT target even when another target failed after it", async () => {
      // ra: 429 with Retry-After: 10 (> max_backoff 1s), and would answer 200 if asked again; c: 500.
      // Attempt 1 → ra, attempt 2 → c (the other target, at once), attempt 3 may only go to c again.
      const ra = ctx.up("ra")
      ra.queue(throttle("10"))
      ctx.up("c").mode = fail(500)
      const s = await ctx.chat("ra-mixed")
      const hits = s.hits()
      expect(hits.slice(0, 2)).toEqual(["ra", "c"])
      expect(
        hits.filter((h) => h === "ra"),
        `ra was asked again within its Retry-After: hits ${hits.join(",")}`
      ).toHaveLength(1)
      expect(s.provider).toBe("p-c")
      expect(s.res.status).toBe(500)
      expect(s.res.json()).toEqual(upstreamErrorBody("c", 500))
    })

    it("a target retried after another target failed still waits out its own Retry-After", async () => {
      // ra: 429 with Retry-After: 2 (≤ max_backoff 3s), then healthy; c: 500. After ra and c failed, a
      // third attempt may go to c after backoff, or to ra, but then not before ra's 2 seconds are over.
      const ra = ctx.up("ra")
      ra.queue(throttle("2"))
      ctx.up("c").mode = fail(500)
      const s = await ctx.chat("ra-mixed-wait")
      const hits = s.hits()
      expect(hits.slice(0, 2)).toEqual(["ra", "c"])
      const toRa = ra.requests().filter((r) => r.rawBody.includes(s.marker))
      if (toRa.length > 1) {
        const gap = (toRa[1]?.receivedAt ?? 0) - (toRa[0]?.receivedAt ?? 0)
        expect(
          gap,
          `ra retried ${gap.toFixed(0)} ms after its 429 with Retry-After: 2 (hits ${hits.join(",")})`
        ).toBeGreaterThanOrEqual(1_900)
      }
    })

    for (const status of [400, 401, 404, 422]) {
      it(`non-retryable ${status} is relayed at once: one upstream request, no failover, no fallback`, async () => {
        ctx.up("a").mode = fail(status)
        const s = await ctx.chat("nonretry")
        expect(s.res.status).toBe(status)
        expect(s.res.json()).toEqual(upstreamErrorBody("a", status))
        expect(s.provider).toBe("p-a")
        expect(s.attempts).toBe(1)
        expect(s.hits()).toEqual(["a"])
      })
    }
  })

  describe("fallbacks", () => {
    it("a healthy primary serves; fallbacks are not touched", async () => {
      const s = await ctx.chat("fb-primary")
      expect(s.provider).toBe("p-a")
      expect(s.attempts).toBe(1)
      expect(s.hits()).toEqual(["a"])
    })

    it("one failed target is not enough: the primary's other target serves, fallbacks untouched", async () => {
      ctx.up("a").mode = fail(500)
      const s = await ctx.chat("fb-primary")
      expect(s.res.status).toBe(200)
      expect(s.provider).toBe("p-b")
      expect(s.attempts).toBe(2)
      expect(s.hits()).toEqual(["a", "b"])
    })

    it("every primary target failed → the first fallback serves (attempts count across models)", async () => {
      ctx.up("a").mode = fail(500)
      ctx.up("b").mode = fail(503)
      const s = await ctx.chat("fb-primary")
      expect(s.res.status, s.res.text).toBe(200)
      expect(s.provider).toBe("p-fb1")
      expect(s.attempts).toBe(3)
      expect(s.hits()).toEqual(["a", "b", "fb1"])
      expect(content(s)).toBe(replyText("fb1"))
    })

    it("the first fallback failing too → the second, in order", async () => {
      ctx.up("a").mode = fail(500)
      ctx.up("b").mode = fail(500)
      ctx.up("fb1").mode = fail(502)
      const s = await ctx.chat("fb-primary")
      expect(s.res.status, s.res.text).toBe(200)
      expect(s.provider).toBe("p-fb2")
      expect(s.attempts).toBe(4)
      expect(s.hits()).toEqual(["a", "b", "fb1", "fb2"])
    })

    it("everything failing → the last upstream error relayed as it is", async () => {
      ctx.up("a").mode = fail(500)
      ctx.up("b").mode = fail(500)
      ctx.up("fb1").mode = fail(500)
      ctx.up("fb2").mode = fail(503)
      const s = await ctx.chat("fb-primary")
      expect(s.res.status).toBe(503)
      expect(s.res.json()).toEqual(upstreamErrorBody("fb2", 503))
      expect(s.provider).toBe("p-fb2")
      expect(s.attempts).toBe(4)
      expect(s.hits()).toEqual(["a", "b", "fb1", "fb2"])
    })

    it("a non-retryable 4xx from the primary does not engage fallbacks", async () => {
      ctx.up("a").mode = fail(400)
      const s = await ctx.chat("fb-primary")
      expect(s.res.status).toBe(400)
      expect(s.res.json()).toEqual(upstreamErrorBody("a", 400))
      expect(s.attempts).toBe(1)
      expect(s.hits()).toEqual(["a"])
    })
  })

  itLeaksNoSecrets(ctx)
})
