// Nothing an upstream sends makes the gateway hoard memory, hang, or relay garbage with a 200: an HTML
// page with status 200, a body over `server.upstream_body_limit`, a stream preamble that never ends
// (bounded by the provider's `timeout.request`) or grows past `server.preamble_limit`, and a single
// SSE line over `server.sse_line_limit` before any content are each a 502/504 in OpenAI's shape, and a
// failure of the attempt (another target serves when there is one). Small limits come from this
// file's config; the misbehaving upstream is a set of MSW handlers keyed by the upstream model id.
import { http, HttpResponse, type RequestHandler } from "msw"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanupTempDirs, freePort, launchGateway, type GatewayProcess } from "./gateway.ts"
import { expectOpenAIError, httpClient, itLeaksNoSecrets, MASTER_KEY, runtime, SSEReader, store } from "./harness.ts"
import { isRecord, type Recorder } from "./upstream/recorder.ts"
import { startUpstream, type Upstream } from "./upstream/server.ts"

const REQUEST_TIMEOUT_MS = 1_000
const BODY_LIMIT = 64 * 1024
const enc = new TextEncoder()

const chatReply = (model: string, pad = "") => ({
  id: "chatcmpl-bounds",
  object: "chat.completion",
  created: 1_700_000_000,
  model,
  choices: [{ index: 0, message: { role: "assistant", content: `reply from ${model}${pad}` }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 }
})

const sseChunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1_700_000_000, model: "x", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
const ROLE = sseChunk({ role: "assistant", content: "" })

/** Streams still open upstream (each endless stream counts itself until the gateway lets it go). */
let openStreams = 0

/** Most an endless body sends (the bridge writes without backpressure): far past every limit here. */
const ENDLESS_CAP = 1024 * 1024

/**
 * An SSE body: `head`, then `next()` every `everyMs` until the gateway lets it go (after
 * ENDLESS_CAP bytes it goes silent, still open: a gateway that kept waiting would hang).
 */
const endless = (request: Request, head: string, next: () => string, everyMs: number): Response => {
  let open = true
  let sent = 0
  let wake: () => void = () => {}
  const close = () => {
    if (open) openStreams--
    open = false
    wake()
  }
  openStreams++
  request.signal.addEventListener("abort", close, { once: true })
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(enc.encode(head))
      },
      async pull(controller) {
        await new Promise<void>((r) => {
          wake = r
          if (sent < ENDLESS_CAP) setTimeout(r, everyMs)
        })
        if (!open) return controller.close()
        const piece = enc.encode(next())
        sent += piece.length
        controller.enqueue(piece)
      },
      cancel: close
    },
    { highWaterMark: 0 }
  )
  return new HttpResponse(body, { status: 200, headers: { "content-type": "text/event-stream" } })
}

const html = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"

const handlers = (_: Recorder): Array<RequestHandler> => [
  http.post("*/v1/chat/completions", async ({ request }) => {
    const parsed: unknown = await request.json().catch(() => undefined)
    const body = isRecord(parsed) ? parsed : {}
    const model = typeof body.model === "string" ? body.model : ""
    switch (model) {
      case "html-200":
        return new HttpResponse(html, { status: 200, headers: { "content-type": "text/html" } })
      case "html-500":
        return new HttpResponse(html, { status: 500, headers: { "content-type": "text/html" } })
      case "truncated":
        return new HttpResponse(JSON.stringify(chatReply(model)).slice(0, 40), {
          status: 200,
          headers: { "content-type": "application/json" }
        })
      case "big":
        // Over the limit; sent chunked (the bridge streams), so the gateway must count.
        return HttpResponse.json(chatReply(model, " ".repeat(BODY_LIMIT + 1024)))
      case "just-under":
        return HttpResponse.json(chatReply(model, " ".repeat(BODY_LIMIT - 1024)))
      case "endless-preamble":
        // A keep-alive comment every 50 ms (well within timeout.idle), never any content.
        return endless(request, ROLE, () => ": keep-alive\n\n", 50)
      case "preamble-flood":
        // Empty deltas as fast as the gateway reads them.
        return endless(request, ROLE, () => sseChunk({ content: "" }), 1)
      case "long-line":
        // One line that never ends.
        return endless(request, `${ROLE}data: {"choices":[{"delta":{"content":"`, () => "x".repeat(1024), 1)
      default:
        if (body.stream === true) {
          return new HttpResponse(
            `${ROLE + sseChunk({ content: `hello from ${model}` }) + sseChunk({}, "stop")}data: [DONE]\n\n`,
            {
              status: 200,
              headers: { "content-type": "text/event-stream" }
            }
          )
        }
        return HttpResponse.json(chatReply(model))
    }
  })
]

const BAD = ["html-200", "html-500", "truncated", "big", "endless-preamble", "preamble-flood", "long-line"] as const

describe.skipIf(store === "postgres")(
  `[${runtime}] upstream bounds (skipped in the Postgres project: no store involved, run in the file projects)`,
  () => {
    let upstream: Upstream
    let gateway: GatewayProcess
    const bodies: Array<string> = []
    const client = httpClient(() => gateway.baseUrl, bodies)

    beforeAll(async () => {
      upstream = await startUpstream(handlers)
      const port = await freePort()
      const provider = {
        name: "up",
        kind: "openai",
        base_url: upstream.baseUrl,
        timeout: { request: `${REQUEST_TIMEOUT_MS}ms`, idle: "10s" }
      }
      const models = [
        ...BAD.map((m) => ({ name: m, targets: [{ provider: "up", model: m }], retry: { attempts: 0 } })),
        { name: "just-under", targets: [{ provider: "up", model: "just-under" }] },
        // A bad target first, a good one second: the bad answer is a failure of the attempt.
        ...BAD.map((m) => ({
          name: `${m}-then-good`,
          strategy: "failover",
          targets: [
            { provider: "up", model: m },
            { provider: "up", model: "good" }
          ],
          retry: { attempts: 1 }
        }))
      ]
      gateway = await launchGateway({
        runtime,
        port,
        config: {
          server: {
            host: "127.0.0.1",
            port,
            upstream_body_limit: "64KiB",
            sse_line_limit: "8KiB",
            preamble_limit: "16KiB"
          },
          master_key: MASTER_KEY,
          providers: [provider],
          models
        }
      })
    })

    afterAll(async () => {
      await gateway?.stop("SIGTERM", 10_000)
      await upstream?.close()
      cleanupTempDirs()
    })

    const chat = (model: string, stream = false) =>
      client.post("/v1/chat/completions", { model, stream, messages: [{ role: "user", content: "hi" }] })

    const protocolError = (res: Awaited<ReturnType<typeof chat>>, says: string) => {
      const body = expectOpenAIError(res, 502, { code: "upstream_protocol_error", type: "api_error" })
      expect(body.error.message).toContain("Provider `up` sent an invalid response")
      expect(body.error.message).toContain(says)
      expect(res.text, "nothing of the upstream's body is relayed").not.toContain("Bad Gateway</h1>")
    }

    describe("answers read whole", () => {
      it("an HTML page with status 200 → 502 upstream_protocol_error, not the page with a 200", async () => {
        protocolError(await chat("html-200"), "it answered 200 with a body that is not JSON (content-type text/html)")
      })

      it("an HTML error page (500) keeps its status with an OpenAI-shaped body of the gateway's own; a truncated JSON body → 502", async () => {
        const res = await chat("html-500")
        const body = expectOpenAIError(res, 500, { code: "provider_error", type: "api_error" })
        expect(body.error.message).toBe(
          "Provider `up` answered 500 with a body that is not JSON (content-type text/html)."
        )
        expect(res.text, "nothing of the upstream's body is relayed").not.toContain("Bad Gateway</h1>")
        protocolError(await chat("truncated"), "it answered 200 with a body that is not JSON")
      })

      it("a non-SSE HTML answer to a stream request → 502 as well", async () => {
        protocolError(await chat("html-200", true), "it answered 200 with a body that is not JSON")
      })

      it("a body over server.upstream_body_limit → 502 naming the limit; just under it is relayed", async () => {
        protocolError(await chat("big"), "the response body is larger than 64 KiB (server.upstream_body_limit)")
        const ok = await chat("just-under")
        expect(ok.status, ok.text.slice(0, 200)).toBe(200)
        expect(ok.json<{ choices: Array<{ message: { content: string } }> }>().choices[0]?.message.content).toMatch(
          /^reply from just-under/
        )
      })
    })

    describe("stream preambles", () => {
      it("an endless preamble of keep-alives → 504 upstream_timeout after timeout.request, and the upstream is let go", async () => {
        const t0 = performance.now()
        const res = await chat("endless-preamble", true)
        const ms = performance.now() - t0
        const body = expectOpenAIError(res, 504, { code: "upstream_timeout" })
        expect(body.error.message).toContain(`within ${REQUEST_TIMEOUT_MS} ms`)
        expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50)
        expect(ms, "bounded by timeout.request, not by the idle timeout (10 s)").toBeLessThan(
          REQUEST_TIMEOUT_MS + 3_000
        )
        await expect.poll(() => openStreams, { timeout: 3_000 }).toBe(0)
      })

      it("a preamble over server.preamble_limit → 502 at once", async () => {
        protocolError(
          await chat("preamble-flood", true),
          "the stream sent more than 16 KiB (server.preamble_limit) before any content"
        )
        await expect.poll(() => openStreams, { timeout: 3_000 }).toBe(0)
      })

      it("a single SSE line over server.sse_line_limit before content → 502", async () => {
        protocolError(
          await chat("long-line", true),
          "the stream sent a line longer than 8 KiB (server.sse_line_limit) before any content"
        )
        await expect.poll(() => openStreams, { timeout: 3_000 }).toBe(0)
      })
    })

    describe("each is a failure of the attempt", () => {
      it.each(BAD)("%s on the first target: the second target serves (attempts 2)", async (bad) => {
        const stream = bad === "endless-preamble" || bad === "preamble-flood" || bad === "long-line"
        if (!stream) {
          const res = await chat(`${bad}-then-good`)
          expect(res.status, res.text.slice(0, 300)).toBe(200)
          expect(res.headers.get("x-llmgate-attempts")).toBe("2")
          expect(res.json<{ choices: Array<{ message: { content: string } }> }>().choices[0]?.message.content).toBe(
            "reply from good"
          )
          return
        }
        const res = await client.postStream("/v1/chat/completions", {
          model: `${bad}-then-good`,
          stream: true,
          messages: [{ role: "user", content: "hi" }]
        })
        expect(res.status).toBe(200)
        expect(res.headers.get("x-llmgate-attempts")).toBe("2")
        const reader = new SSEReader(res)
        const events = await reader.all()
        bodies.push(reader.raw)
        expect(reader.raw).toContain("hello from good")
        expect(reader.raw).not.toContain('"error"')
        expect(events.at(-1)?.data).toBe("[DONE]")
      })
    })

    itLeaksNoSecrets({
      bodies,
      get gateway() {
        return gateway
      }
    })
  }
)
