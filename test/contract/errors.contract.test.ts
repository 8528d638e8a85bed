// Error mapping: client errors (400/404/413), upstream failures (502/504, 4xx/5xx pass-through), and
// the process staying healthy afterwards. Every gateway-made error is in OpenAI shape.
import { connect } from "node:net"
import { describe, expect, it } from "vitest"
import { UPSTREAM_ERRORS } from "./upstream/handlers.ts"
import { withMarker } from "./upstream/recorder.ts"
import {
  BODY_LIMIT_BYTES,
  expectOpenAIError,
  itLeaksNoSecrets,
  marker,
  MASTER_KEY,
  MODELS,
  runtime,
  useContract
} from "./harness.ts"

const user = (content: string) => [{ role: "user", content }]

/** Sends raw bytes on a fresh connection and parses the one HTTP/1.1 answer. */
const rawExchange = (port: number, request: string) =>
  new Promise<{ readonly status: number; readonly headers: Record<string, string>; readonly body: string }>(
    (resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => socket.write(request))
      let text = ""
      socket.setEncoding("utf8")
      socket.on("data", (d: string) => (text += d))
      socket.on("error", reject)
      socket.on("close", () => {
        const [head = "", body = ""] = text.split("\r\n\r\n")
        const [statusLine = "", ...lines] = head.split("\r\n")
        const headers = Object.fromEntries(
          lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()])
        )
        resolve({ status: Number(statusLine.split(" ")[1]), headers, body })
      })
    }
  )

describe(`[${runtime}] errors`, () => {
  const ctx = useContract()

  describe("400 bad requests", () => {
    it("invalid JSON → 400 invalid_json", async () => {
      const r = await ctx.post("/v1/chat/completions", `{"model": "${MODELS.mockChat.name}", "messages": [`)
      expectOpenAIError(r, 400, { code: "invalid_json" })
    })

    it("an empty body → 400", async () => {
      const r = await ctx.post("/v1/chat/completions", "")
      expectOpenAIError(r, 400)
    })

    it("a JSON body that is not an object → 400", async () => {
      const r = await ctx.post("/v1/chat/completions", "[1,2,3]")
      expectOpenAIError(r, 400, { type: "invalid_request_error" })
    })

    it("missing `messages` → 400 naming the field", async () => {
      const r = await ctx.post("/v1/chat/completions", { model: MODELS.mockChat.name })
      const body = expectOpenAIError(r, 400, { type: "invalid_request_error", param: "messages" })
      expect(body.error.message).toContain("messages")
    })

    it("`messages` not an array → 400 naming the field", async () => {
      const r = await ctx.post("/v1/chat/completions", { model: MODELS.mockChat.name, messages: "hello" })
      const body = expectOpenAIError(r, 400, { type: "invalid_request_error", param: "messages" })
      expect(body.error.message).toContain("messages")
    })

    it("`model` not a string → 400 naming the field", async () => {
      const r = await ctx.post("/v1/chat/completions", { model: 42, messages: user("x") })
      const body = expectOpenAIError(r, 400, { type: "invalid_request_error", param: "model" })
      expect(body.error.message).toContain("model")
    })

    it("missing `model` on embeddings → 400 naming the field", async () => {
      const r = await ctx.post("/v1/embeddings", { input: "x" })
      const body = expectOpenAIError(r, 400, { type: "invalid_request_error", param: "model" })
      expect(body.error.message).toContain("model")
    })

    it("a schema violation never reaches the upstream", async () => {
      const m = marker("schema")
      const r = await ctx.post("/v1/chat/completions", { model: MODELS.chat.name, messages: m })
      expect(r.status).toBe(400)
      expect(ctx.recorder.find(withMarker(m))).toHaveLength(0)
    })
  })

  describe("malformed input never escapes the request (nothing thrown ends a worker)", () => {
    it("a malformed percent escape in GET /v1/models/{model} → 400 naming the model, and the gateway keeps serving", async () => {
      for (const path of ["/v1/models/%E0", "/v1/models/%", "/v1/models/%ZZ", "/v1/models/a%C0%AFb"]) {
        const r = await ctx.get(path)
        expectOpenAIError(r, 400, { code: "invalid_request", param: "model" })
        expect(r.headers.get("x-request-id")).toBeTruthy()
      }
      expect((await ctx.get("/v1/models/mock-chat")).status).toBe(200)
    })

    it("a body that is not UTF-8 → 400 invalid_json saying so (proxy and admin API)", async () => {
      const bytes = new Uint8Array([
        ...new TextEncoder().encode(`{"model":"${MODELS.mockChat.name}","messages":[{"role":"user","content":"`),
        0xff,
        0xfe,
        ...new TextEncoder().encode(`"}]}`)
      ])
      for (const path of ["/v1/chat/completions", "/admin/v1/projects"]) {
        const r = await fetch(`${ctx.base}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
          body: bytes
        })
        const text = await r.text()
        ctx.noteBody(text)
        const body = expectOpenAIError(
          { status: r.status, headers: r.headers, text, json: <T>() => JSON.parse(text) as T },
          400,
          { code: "invalid_json" }
        )
        expect(body.error.message).toContain("UTF-8")
      }
    })

    describe.skipIf(runtime !== "node")(
      "(Node only: Bun and Deno answer unparsable requests themselves, before any hook)",
      () => {
        it("a request node:http cannot parse → 400 in OpenAI's shape with a request id; oversized headers → 431", async () => {
          const garbage = await rawExchange(ctx.gateway.port, "NOT A REQUEST\r\n\r\n")
          expect(garbage.status).toBe(400)
          expect(garbage.headers["x-request-id"]).toBeTruthy()
          expect(JSON.parse(garbage.body)).toMatchObject({
            error: { code: "invalid_request", type: "invalid_request_error" }
          })
          const huge = await rawExchange(
            ctx.gateway.port,
            `GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`
          )
          expect(huge.status).toBe(431)
          expect(JSON.parse(huge.body)).toMatchObject({ error: { code: "request_header_fields_too_large" } })
          expect((await ctx.get("/health")).status).toBe(200)
        })
      }
    )
  })

  describe("404 unknown model", () => {
    for (const [path, body] of [
      ["/v1/chat/completions", { model: "no-such-model-abc", messages: user("x") }],
      ["/v1/chat/completions", { model: "no-such-model-abc", messages: user("x"), stream: true }],
      ["/v1/completions", { model: "no-such-model-abc", prompt: "x" }],
      ["/v1/embeddings", { model: "no-such-model-abc", input: "x" }]
    ] as const) {
      it(`${path}${"stream" in body ? " (stream)" : ""} → 404 model_not_found naming the model`, async () => {
        const r = await ctx.post(path, body)
        const e = expectOpenAIError(r, 404, { code: "model_not_found" })
        expect(e.error.message).toContain("no-such-model-abc")
      })
    }
  })

  describe("413 body limit (server.body_limit: 64KiB)", () => {
    it("a body under the limit is accepted", async () => {
      const r = await ctx.post("/v1/chat/completions", {
        model: MODELS.mockChat.name,
        messages: user("y".repeat(BODY_LIMIT_BYTES / 2))
      })
      expect(r.status, r.text.slice(0, 300)).toBe(200)
    })

    it("a body over the limit → 413 request_too_large", async () => {
      const r = await ctx.post("/v1/chat/completions", {
        model: MODELS.mockChat.name,
        messages: user("x".repeat(BODY_LIMIT_BYTES + 36 * 1024))
      })
      expectOpenAIError(r, 413, { code: "request_too_large" })
    })

    it("a chunked body (no content-length) over the limit → 413 request_too_large", async () => {
      const piece = new TextEncoder().encode("x".repeat(16 * 1024))
      let sent = 0
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent === 0)
            c.enqueue(
              new TextEncoder().encode(`{"model":"${MODELS.mockChat.name}","messages":[{"role":"user","content":"`)
            )
          if (sent >= 8) {
            c.enqueue(new TextEncoder().encode(`"}]}`))
            c.close()
            return
          }
          c.enqueue(piece)
          sent++
        }
      })
      const init: RequestInit & { duplex: "half" } = {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${MASTER_KEY}` },
        body,
        duplex: "half"
      }
      const res = await fetch(`${ctx.base}/v1/chat/completions`, init)
      const text = await res.text()
      ctx.noteBody(text)
      expectOpenAIError({ status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T }, 413, {
        code: "request_too_large"
      })
    })
  })

  describe("upstream failures", () => {
    it("upstream unreachable → 502 upstream_unreachable", async () => {
      const t0 = performance.now()
      const r = await ctx.post("/v1/chat/completions", { model: MODELS.unreachable.name, messages: user("x") })
      expectOpenAIError(r, 502, { code: "upstream_unreachable" })
      expect(performance.now() - t0).toBeLessThan(10_000)
    })

    it("upstream unreachable while streaming → 502 upstream_unreachable", async () => {
      const r = await ctx.post("/v1/chat/completions", {
        model: MODELS.unreachable.name,
        messages: user("x"),
        stream: true
      })
      expectOpenAIError(r, 502, { code: "upstream_unreachable" })
    })

    it("upstream hangs past timeout.request (1s) → 504 upstream_timeout", async () => {
      const m = marker("hang")
      const t0 = performance.now()
      const r = await ctx.post("/v1/chat/completions", { model: MODELS.hang.name, messages: user(m) })
      const elapsed = performance.now() - t0
      expectOpenAIError(r, 504, { code: "upstream_timeout" })
      expect(elapsed).toBeGreaterThanOrEqual(900)
      expect(elapsed).toBeLessThan(5_000)
      expect(ctx.recorder.find(withMarker(m)), "the upstream did receive the request").toHaveLength(1)
    })

    for (const key of ["fail-500", "bad-request-400", "rate-limited"] as const) {
      const model = key === "rate-limited" ? MODELS.rateLimited : key === "fail-500" ? MODELS.fail500 : MODELS.bad400
      const canned = UPSTREAM_ERRORS[model.upstream]
      it(`upstream ${canned?.status} is passed through with its status and body`, async () => {
        const r = await ctx.post("/v1/chat/completions", { model: model.name, messages: user("x") })
        expect(r.status).toBe(canned?.status)
        expect(r.json()).toEqual(canned?.body)
        expect(r.headers.get("x-request-id")).toBeTruthy()
      })
    }

    it("upstream 500 on a streaming request is passed through with status and body", async () => {
      const r = await ctx.post("/v1/chat/completions", {
        model: MODELS.fail500.name,
        messages: user("x"),
        stream: true
      })
      expect(r.status).toBe(500)
      expect(r.json()).toEqual(UPSTREAM_ERRORS["fail-500"]?.body)
    })

    it("upstream 400 on embeddings and completions is passed through", async () => {
      const e = await ctx.post("/v1/embeddings", { model: MODELS.bad400.name, input: "x" })
      expect(e.status).toBe(400)
      expect(e.json()).toEqual(UPSTREAM_ERRORS["bad-request-400"]?.body)
      const c = await ctx.post("/v1/completions", { model: MODELS.bad400.name, prompt: "x" })
      expect(c.status).toBe(400)
      expect(c.json()).toEqual(UPSTREAM_ERRORS["bad-request-400"]?.body)
    })
  })

  it("the process is still alive and serving after all of the above", async () => {
    expect(ctx.gateway.hasExited()).toBe(false)
    const h = await ctx.get("/health")
    expect(h.status).toBe(200)
    const c = await ctx.post("/v1/chat/completions", { model: MODELS.chat.name, messages: user("after errors") })
    expect(c.status).toBe(200)
  })

  itLeaksNoSecrets(ctx)
})
