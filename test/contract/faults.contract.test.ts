// Fault injection against a running gateway (issue 10, item 6), on every runtime:
// - an upstream killed (its port closed, every connection to it destroyed) mid-stream after content
//   reached the client: the client gets the content so far, a terminal `data: {"error":…}` event and
//   `data: [DONE]`, promptly; killed before any content (stream or JSON): the request fails over to
//   the next target invisibly;
// - a non-streaming answer cut mid-body (connection reset after part of the JSON, or the upstream
//   killed while it stalls mid-body): the next target's answer, or a 502 in OpenAI's shape when
//   there is none, never a hang and never the partial body;
// - a worker thread crashing under concurrent load: every request succeeds, fails with a clean
//   OpenAI-shaped error or loses its connection; the worker is replaced, every worker serves the
//   same config version afterwards, and `max_concurrency` admits exactly its cap again (what the
//   dead worker held was given back).
// Postgres going away during reloads and admin writes is in faults-pg.contract.test.ts.
import { Agent, request } from "node:http"
import { describe, expect, it } from "vitest"
import { within } from "../support/deadline.ts"
import {
  chunksOf,
  contentOf,
  expectOpenAIError,
  type Health,
  itLeaksNoSecrets,
  MASTER_KEY,
  marker,
  runtime,
  sleep,
  SSEReader,
  store,
  type ChatChunk,
  type ChatCompletion,
  type SSEEvent
} from "./harness.ts"
import { provider, useRouting } from "./routing.ts"
import { breakBody, replyText, slow, tokensOf, type Mode } from "./upstream/controlled.ts"
import { withMarker } from "./upstream/recorder.ts"

const WORKERS = 2
/** Longest a faulty exchange may take before it counts as hung (the providers' timeouts are 10 s). */
const PROMPT_MS = 5_000
const CAP = 3

/** An upstream stream of `chunks` content chunks `intervalMs` apart (its role preamble at once). */
const slowStream = (chunks: number, intervalMs: number): Mode => ({ kind: "ok", chunks, intervalMs })

// ---- a small node:http client for the load (keep-alive agents; connection loss is a result) ----

interface Outcome {
  /** 200 (a whole answer), an error status, or "reset" (the connection was lost). */
  readonly kind: "ok" | "error" | "reset"
  readonly status: number
  readonly text: string
  readonly detail: string
}

const exchange = (
  port: number,
  agent: Agent | false,
  path: string,
  body: unknown,
  key: string | null = MASTER_KEY
): Promise<Outcome> =>
  new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    let settled = false
    const done = (o: Outcome) => {
      if (!settled) {
        settled = true
        resolve(o)
      }
    }
    const lost = (e: unknown) =>
      done({
        kind: "reset",
        status: 0,
        text: "",
        detail: e instanceof Error ? `${(e as NodeJS.ErrnoException).code ?? ""} ${e.message}` : String(e)
      })
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        agent,
        method: payload === undefined ? "GET" : "POST",
        headers: {
          ...(key === null ? {} : { authorization: `Bearer ${key}` }),
          ...(payload === undefined ? {} : { "content-type": "application/json" }),
          ...(agent === false ? { connection: "close" } : {})
        }
      },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (c: string) => (text += c))
        res.on("end", () => {
          const status = res.statusCode ?? 0
          done({ kind: status === 200 ? "ok" : "error", status, text, detail: "" })
        })
        res.on("error", lost)
        res.on("aborted", () => lost(new Error("response aborted")))
      }
    )
    req.on("error", lost)
    req.end(payload)
  })

/** GET /health on fresh connections until every worker answered (or `timeoutMs`); each worker's report. */
const everyWorker = async (port: number, timeoutMs = 15_000): Promise<Map<number, Health>> => {
  const seen = new Map<number, Health>()
  const end = Date.now() + timeoutMs
  while (seen.size < WORKERS && Date.now() < end) {
    const r = await exchange(port, false, "/health", undefined, null)
    if (r.kind === "ok") {
      const h = JSON.parse(r.text) as Health
      seen.set(h.worker.id, h)
    } else {
      await sleep(20)
    }
  }
  return seen
}

describe.skipIf(store === "postgres")(
  `[${runtime}] fault injection: upstreams killed, worker crashed under load (skipped in the Postgres project: no store involved, run in the file projects)`,
  () => {
    const ctx = useRouting({
      workers: WORKERS,
      upstreams: ["a", "b"],
      config: ({ url }) => ({
        providers: [
          // Long timeouts: every failure here must be noticed from the connection, not from silence.
          provider("p-a", url("a"), { timeout: { request: "10s", idle: "10s" } }),
          provider("p-b", url("b"), { timeout: { request: "10s", idle: "10s" } }),
          { name: "mock-fast", kind: "mock", mock: { latency: "0ms", chunks: 4, chunk_interval: "10ms" } },
          { name: "mock-crash", kind: "mock", mock: { crash_rate: 1 } }
        ],
        models: [
          {
            name: "fo",
            strategy: "failover",
            targets: [
              { provider: "p-a", model: "fo" },
              { provider: "p-b", model: "fo" }
            ],
            retry: { attempts: 1 }
          },
          { name: "solo", targets: [{ provider: "p-a", model: "solo" }] },
          { name: "capped", targets: [{ provider: "p-b", model: "capped", max_concurrency: CAP }] },
          { name: "fast", targets: [{ provider: "mock-fast" }] },
          { name: "crash", targets: [{ provider: "mock-crash", max_concurrency: 1 }] }
        ]
      })
    })

    /** POSTs a stream request for `model`; the response (headers read) and the marker that finds it upstream. */
    const openStream = (model: string) => {
      const m = marker("fault")
      return {
        marker: m,
        response: ctx.postStream("/v1/chat/completions", {
          model,
          stream: true,
          messages: [{ role: "user", content: m }]
        })
      }
    }

    /** Waits until an upstream received the request carrying marker `m` (and `settleMs` more, for what it sends first to leave). */
    const arrived = async (m: string, settleMs = 100) => {
      await ctx.recorder.waitFor(
        () => (ctx.recorder.find(withMarker(m)).length > 0 ? true : undefined),
        PROMPT_MS,
        `request ${m} upstream`
      )
      await sleep(settleMs)
    }

    /** Runs `body`, which kills upstream `name`, and brings it back on its port afterwards whatever happened. */
    const killed = async (name: "a" | "b", body: () => Promise<void>) => {
      try {
        await body()
      } finally {
        await ctx.up(name).restart()
      }
    }

    describe("an upstream killed", () => {
      it("mid-stream after content: the content so far, one terminal error event, [DONE], promptly; no switch to another target", async () => {
        await killed("a", async () => {
          ctx.up("a").mode = slowStream(20, 150)
          const { marker: m, response } = openStream("fo")
          const res = await within(PROMPT_MS, "stream headers", response)
          expect(res.status).toBe(200)
          expect(res.headers.get("x-llmgate-provider")).toBe("p-a")
          const reader = new SSEReader(res)
          const events: Array<SSEEvent> = []
          while (
            contentOf(chunksOf<ChatChunk>(events.filter((e) => !e.data.includes('"error"')))).split(" ").length <= 2
          ) {
            const e = await within(PROMPT_MS, "content chunks", reader.next())
            if (e === undefined) throw new Error(`stream ended early: ${reader.raw}`)
            events.push(e)
          }
          const t0 = performance.now()
          await ctx.up("a").kill()
          events.push(...(await within(PROMPT_MS, "the end of the stream after the kill", reader.all())))
          ctx.noteBody(reader.raw)
          expect(performance.now() - t0, "the end came from the lost connection, not a timeout").toBeLessThan(3_000)
          expect(events.at(-1)?.data, reader.raw).toBe("[DONE]")
          const last = JSON.parse(events.at(-2)?.data ?? "{}") as Record<string, unknown>
          expect(last, reader.raw).toEqual({
            error: { message: expect.any(String), type: expect.any(String), param: null, code: expect.anything() }
          })
          const content = contentOf(
            chunksOf<ChatChunk>(events.filter((e) => e.data !== "[DONE]" && !e.data.includes('"error"')))
          )
          expect(content.startsWith(tokensOf("a", 2)), reader.raw).toBe(true)
          expect(tokensOf("a", 20).startsWith(content), "only a's tokens, in order").toBe(true)
          expect(ctx.recorder.find(withMarker(m)).map((r) => r.upstream)).toEqual(["a"])
        })
      })

      it("before the first content chunk of a stream: one clean stream from the next target", async () => {
        await killed("a", async () => {
          // a sends its role-only preamble at once, then waits: the kill lands before any content
          ctx.up("a").mode = slowStream(3, 3_000)
          const { marker: m, response } = openStream("fo")
          await arrived(m)
          await ctx.up("a").kill()
          const res = await within(PROMPT_MS, "the failover's stream", response)
          const reader = new SSEReader(res)
          const events = await within(PROMPT_MS, "the failover's stream", reader.all())
          ctx.noteBody(reader.raw)
          expect(res.status).toBe(200)
          expect(res.headers.get("x-llmgate-provider")).toBe("p-b")
          expect(res.headers.get("x-llmgate-attempts")).toBe("2")
          expect(reader.raw).not.toContain('"error"')
          expect(events.at(-1)?.data).toBe("[DONE]")
          const chunks = chunksOf<ChatChunk>(events)
          expect(
            chunks.filter((c) => c.choices[0]?.delta.role !== undefined),
            "one role chunk"
          ).toHaveLength(1)
          expect(contentOf(chunks)).toBe(tokensOf("b", 3))
          expect(ctx.recorder.find(withMarker(m)).map((r) => r.upstream)).toEqual(["a", "b"])
        })
      })

      it("before a JSON answer: the next target's answer", async () => {
        await killed("a", async () => {
          ctx.up("a").mode = slow(3_000)
          const sent = ctx.chat("fo")
          await ctx.recorder.waitFor(
            () => (ctx.up("a").inFlight > 0 ? true : undefined),
            PROMPT_MS,
            "a holds the request"
          )
          await ctx.up("a").kill()
          const r = await within(PROMPT_MS, "the failover's answer", sent)
          expect(r.res.status, r.res.text).toBe(200)
          expect(r.res.json<ChatCompletion>().choices[0]?.message.content).toBe(replyText("b"))
          expect(r.attempts).toBe(2)
          expect(r.hits()).toEqual(["a", "b"])
        })
      })

      it("mid-body of a JSON answer (headers and part of the body sent): 502 when there is no other target", async () => {
        await killed("a", async () => {
          ctx.up("a").mode = breakBody(40, "stall")
          const sent = ctx.chat("solo")
          await ctx.recorder.waitFor(
            () => (ctx.up("a").inFlight > 0 ? true : undefined),
            PROMPT_MS,
            "a holds the request"
          )
          await sleep(100)
          const t0 = performance.now()
          await ctx.up("a").kill()
          const r = await within(PROMPT_MS, "the answer after the kill", sent)
          expect(performance.now() - t0).toBeLessThan(3_000)
          expectOpenAIError(r.res, 502)
          expect(r.res.text, "nothing of the partial body").not.toContain("chatcmpl-a")
          expect(r.attempts).toBe(1)
        })
      })
    })

    describe("a connection reset mid-body of a JSON answer", () => {
      it("with another target: that target's answer", async () => {
        ctx.up("a").mode = breakBody(40, "reset")
        const r = await within(PROMPT_MS, "the answer", ctx.chat("fo"))
        expect(r.res.status, r.res.text).toBe(200)
        expect(r.res.json<ChatCompletion>().choices[0]?.message.content).toBe(replyText("b"))
        expect(r.attempts).toBe(2)
        expect(r.hits()).toEqual(["a", "b"])
      })

      it("with no other target: 502 in OpenAI's shape, nothing of the partial body", async () => {
        ctx.up("a").mode = breakBody(40, "reset")
        const r = await within(PROMPT_MS, "the answer", ctx.chat("solo"))
        expectOpenAIError(r.res, 502)
        expect(r.res.text).not.toContain("chatcmpl-a")
        expect(r.attempts).toBe(1)
      })

      it("on a stream request: the next target's clean stream", async () => {
        ctx.up("a").mode = breakBody(40, "reset")
        const { marker: m, response } = openStream("fo")
        const res = await within(PROMPT_MS, "the stream", response)
        const reader = new SSEReader(res)
        const events = await within(PROMPT_MS, "the stream", reader.all())
        ctx.noteBody(reader.raw)
        expect(res.status, reader.raw).toBe(200)
        expect(reader.raw).not.toContain('"error"')
        expect(contentOf(chunksOf<ChatChunk>(events))).toBe(tokensOf("b", 3))
        expect(ctx.recorder.find(withMarker(m)).map((r) => r.upstream)).toEqual(["a", "b"])
      })
    })

    it(`a worker crashing under load (8 clients, 3 s): every request ends cleanly, the worker is replaced, and max_concurrency is exact again`, async () => {
      const port = ctx.gateway.port
      const b = ctx.up("b")
      b.mode = slow(100)
      const before = await everyWorker(port)
      expect(before.size).toBe(WORKERS)
      const version = [...before.values()][0]!.config_version
      const outcomes: Array<Outcome & { readonly what: string }> = []
      const kinds = ["capped", "fast", "fast-stream"] as const
      const deadline = performance.now() + 3_000
      const client = async (i: number) => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 })
        try {
          for (let n = 0; performance.now() < deadline; n++) {
            const what = kinds[(i + n) % kinds.length]!
            const body = {
              model: what === "capped" ? "capped" : "fast",
              messages: [{ role: "user", content: `load ${i} ${n}` }],
              ...(what === "fast-stream" ? { stream: true } : {})
            }
            outcomes.push({
              what,
              ...(await within(10_000, `${what} request`, exchange(port, agent, "/v1/chat/completions", body)))
            })
          }
        } finally {
          agent.destroy()
        }
      }
      const load = Promise.all(Array.from({ length: 8 }, (_, i) => client(i)))
      await sleep(1_000)
      const crashed = await within(
        10_000,
        "the crashing request",
        exchange(port, false, "/v1/chat/completions", { model: "crash", messages: [{ role: "user", content: "x" }] })
      )
      expect(crashed.kind, `the crashing request: ${crashed.status} ${crashed.text}`).toBe("reset")
      await load

      // Every outcome is a whole answer, a clean OpenAI-shaped refusal (never a 500), or a lost connection.
      const ok = outcomes.filter((o) => o.kind === "ok")
      const errors = outcomes.filter((o) => o.kind === "error")
      const resets = outcomes.filter((o) => o.kind === "reset")
      expect(ok.length, "requests answered").toBeGreaterThan(20)
      for (const o of ok) {
        if (o.what === "fast-stream") {
          expect(o.text.trimEnd().endsWith("data: [DONE]"), o.text).toBe(true)
          expect(o.text, "a whole stream has no error event").not.toContain('"error"')
        } else expect((JSON.parse(o.text) as ChatCompletion).object).toBe("chat.completion")
      }
      for (const o of errors) {
        expect(o.status, o.text).not.toBe(500)
        expect(JSON.parse(o.text), o.text).toMatchObject({
          error: { message: expect.any(String), type: expect.any(String) }
        })
        expect(o.what === "capped" && o.status === 429, `${o.what}: ${o.status} ${o.text}`).toBe(true)
      }
      for (const o of resets) expect(o.detail, "a lost connection").toMatch(/ECONNRESET|socket hang up|aborted|EPIPE/)

      // Replaced: both workers answer again, on one config version (the one before the crash).
      const after = await everyWorker(port)
      expect([...after.keys()].sort()).toEqual([0, 1])
      for (const h of after.values()) {
        expect(h.config_version).toBe(version)
        expect(h.workers.map((w) => w.config_version)).toEqual([version, version])
      }
      expect(ctx.gateway.stdout() + ctx.gateway.stderr()).toMatch(/worker \d exited .*restarting/)

      // What the dead worker held is given back: nothing active or queued on either capped target …
      expect(await ctx.target("crash", "mock-crash")).toMatchObject({ active: 0, queued: 0, in_flight: 0 })
      expect(await ctx.target("capped", "p-b")).toMatchObject({ active: 0, queued: 0, in_flight: 0 })
      // … and the cap admits exactly CAP at once again, across both workers.
      b.reset()
      b.mode = slow(800)
      const burst = await Promise.all(
        Array.from({ length: 2 * CAP }, (_, i) =>
          exchange(port, false, "/v1/chat/completions", {
            model: "capped",
            messages: [{ role: "user", content: `exact ${i}` }]
          })
        )
      )
      expect(b.maxInFlight, "requests the upstream had at once").toBe(CAP)
      expect(burst.filter((r) => r.kind === "ok")).toHaveLength(CAP)
      for (const r of burst.filter((r) => r.kind !== "ok"))
        expect(JSON.parse(r.text), r.text).toMatchObject({ error: { code: "concurrency_limit" } })
    }, 40_000)

    itLeaksNoSecrets(ctx)
  }
)
