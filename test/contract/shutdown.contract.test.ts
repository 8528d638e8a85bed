// Graceful shutdown: SIGTERM lets an in-flight stream finish, refuses new connections, exits 0;
// SIGINT on an idle gateway exits 0 promptly.
import { request as httpRequest } from "node:http"
import { describe, expect, it } from "vitest"
import { chunkText } from "./upstream/handlers.ts"
import { withMarker } from "./upstream/recorder.ts"
import { chunksOf, contentOf, findLeaks, marker, MODELS, runtime, sleep, SSEReader, useContract } from "./harness.ts"

/** One GET over a brand-new TCP connection (no keep-alive pool): "refused" or the status. */
const probeNewConnection = (port: number): Promise<"refused" | number> =>
  new Promise((ok) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path: "/health/liveness", agent: false, timeout: 2_000 },
      (res) => {
        res.resume()
        ok(res.statusCode ?? 0)
      }
    )
    req.on("timeout", () => req.destroy(new Error("probe timeout")))
    req.on("error", () => ok("refused"))
    req.end()
  })

describe(`[${runtime}] graceful shutdown`, () => {
  describe("SIGTERM during a stream", () => {
    const ctx = useContract()

    it("the in-flight stream completes with [DONE], new connections are refused, exit code 0", async () => {
      const m = marker("shutdown")
      const res = await ctx.postStream("/v1/chat/completions", {
        model: MODELS.shutdownStream.name,
        stream: true,
        messages: [{ role: "user", content: m }]
      })
      expect(res.status).toBe(200)
      const reader = new SSEReader(res)
      const first = await reader.next()
      expect(first?.data).toContain(chunkText(0))

      const signalledAt = performance.now()
      const exiting = ctx.gateway.stop("SIGTERM", 20_000)
      await sleep(300)
      const probe = await probeNewConnection(ctx.gateway.port)

      const rest = await reader.all()
      const streamEndedAt = performance.now()
      const events = [...(first ? [first] : []), ...rest]
      ctx.noteBody(reader.raw)
      expect(events.at(-1)?.data).toBe("[DONE]")
      expect(contentOf(chunksOf(events))).toBe(Array.from({ length: 12 }, (_, i) => chunkText(i)).join(""))
      const [rec] = ctx.recorder.find(withMarker(m))
      expect(ctx.recorder.streams.find((s) => s.request === rec)?.status).toBe("completed")

      const exit = await exiting
      const exitedAt = performance.now()
      // independent checks: soft, so that one failure does not hide the others
      expect.soft(exit, "exit status after SIGTERM").toEqual({ code: 0, signal: null })
      expect.soft(exitedAt - signalledAt, "bounded drain").toBeLessThan(12_000)
      // nothing is in flight once the stream is done (the client keeps its keep-alive connection open,
      // as HTTP clients do): the process should not sit out the drain bound
      expect.soft(exitedAt - streamEndedAt, "exit delay after the last in-flight stream ended (ms)").toBeLessThan(3_000)
      // best effort: once shutdown started, a new connection is refused (or told 503)
      expect.soft(probe === "refused" || probe === 503, `probe after SIGTERM answered ${probe}`).toBe(true)
      expect.soft(await probeNewConnection(ctx.gateway.port)).toBe("refused")
      expect(findLeaks(ctx.gateway.stdout() + ctx.gateway.stderr())).toEqual([])
    })
  })

  describe("SIGINT while idle", () => {
    const ctx = useContract()

    it("exits 0 promptly", async () => {
      expect((await ctx.get("/health")).status).toBe(200)
      const t0 = performance.now()
      const exit = await ctx.gateway.stop("SIGINT", 10_000)
      expect.soft(exit).toEqual({ code: 0, signal: null })
      expect.soft(performance.now() - t0).toBeLessThan(5_000)
    })
  })

  describe("SIGTERM while idle", () => {
    const ctx = useContract()

    it("exits 0 promptly", async () => {
      expect((await ctx.get("/health")).status).toBe(200)
      const t0 = performance.now()
      const exit = await ctx.gateway.stop("SIGTERM", 10_000)
      expect.soft(exit).toEqual({ code: 0, signal: null })
      expect.soft(performance.now() - t0).toBeLessThan(5_000)
    })
  })
})
