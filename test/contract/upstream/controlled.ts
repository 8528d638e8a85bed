// A fake upstream whose behaviour the test switches at runtime (the routing & resilience suites).
// Each one listens on its own port, so several providers can point at different upstreams and the
// shared recorder tells them apart (`RecordedRequest.upstream`). Its behaviour is a `Mode`: a
// persistent one (`up.mode = …`) plus one-shot modes queued in front of it (`up.queue(…)`), consumed
// one per request. It can also be killed (port closed, connections reset) and restarted on its port.
import { http, HttpResponse, type RequestHandler } from "msw"
import { isRecord, type RecordedRequest, type Recorder } from "./recorder.ts"
import { startUpstream, type Upstream } from "./server.ts"

/** How a stream breaks: connection reset, clean end without [DONE], silence, a non-JSON event, an `{"error":…}` event. */
export type StreamBreak = "reset" | "end" | "stall" | "garbage" | "error-event"

export type Mode =
  /** Answers normally after `delayMs`; streams send a role-only preamble, `chunks` content chunks `intervalMs` apart, a stop chunk and [DONE]. */
  | { readonly kind: "ok"; readonly delayMs?: number; readonly chunks?: number; readonly intervalMs?: number }
  /** Answers `status` with an OpenAI-shaped error body (and `Retry-After` when given) after `delayMs`. */
  | { readonly kind: "error"; readonly status: number; readonly retryAfter?: string; readonly delayMs?: number }
  /** Never answers (until the gateway gives up and closes the connection). */
  | { readonly kind: "hang" }
  /** Streams the preamble and `afterChunks` content chunks, then breaks the stream `how` (0 = before any content). */
  | {
      readonly kind: "stream-break"
      readonly afterChunks: number
      readonly how: StreamBreak
      readonly intervalMs?: number
    }
  /**
   * A non-streaming answer that dies mid-body: status 200 and the headers, the first `afterBytes`
   * bytes of the JSON answer, then the connection is reset (`reset`), or it stays silent (`stall`,
   * e.g. until the test kills the upstream). A streaming request gets the same JSON bytes.
   */
  | { readonly kind: "body-break"; readonly afterBytes: number; readonly how: "reset" | "stall" }

export const ok: Mode = { kind: "ok" }
export const slow = (delayMs: number): Mode => ({ kind: "ok", delayMs })
export const fail = (status = 500, retryAfter?: string): Mode =>
  retryAfter === undefined ? { kind: "error", status } : { kind: "error", status, retryAfter }
export const throttle = (retryAfter: string): Mode => ({ kind: "error", status: 429, retryAfter })
export const hang: Mode = { kind: "hang" }
export const breakStream = (afterChunks: number, how: StreamBreak): Mode => ({ kind: "stream-break", afterChunks, how })
export const breakBody = (afterBytes: number, how: "reset" | "stall" = "reset"): Mode => ({
  kind: "body-break",
  afterBytes,
  how
})

/** The error body upstream `name` answers with `status` (tests compare relayed bodies to it). */
export const upstreamErrorBody = (name: string, status: number) => ({
  error: {
    message: `${name} failed with ${status} (contract fake)`,
    type: status === 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error",
    param: null,
    code: `fake_${status}_${name}`
  }
})

/** The non-streaming chat answer of upstream `name`. */
export const replyText = (name: string): string => `reply from ${name}`
/** Content of the i-th streamed chunk of upstream `name`. */
export const tokenOf = (name: string, i: number): string => `${name}:tok-${i} `
export const tokensOf = (name: string, n: number): string =>
  Array.from({ length: n }, (_, i) => tokenOf(name, i)).join("")

export const STREAM_CHUNKS = 3
const STREAM_INTERVAL_MS = 10
const HANG_LIMIT_MS = 60_000

export interface ControlledUpstream {
  readonly name: string
  readonly port: number
  /** http://127.0.0.1:PORT/v1 */
  readonly baseUrl: string
  /** The behaviour for every request with no queued one-shot mode. */
  mode: Mode
  /** One-shot modes, used in order by the next requests before `mode` applies again. */
  queue(...modes: ReadonlyArray<Mode>): void
  /** Back to `ok`, queue emptied, in-flight peak reset. */
  reset(): void
  /** Requests being handled right now, and the most at once since the last reset. */
  readonly inFlight: number
  readonly maxInFlight: number
  /** What this upstream received, in order. */
  requests(): Array<RecordedRequest>
  /** Closes the port and resets every open connection. */
  kill(): Promise<void>
  /** Listens again on the same port. */
  restart(): Promise<void>
  readonly alive: boolean
  close(): Promise<void>
}

const UPSTREAM_CREATED = 1_700_000_000

const chatReply = (name: string, model: string) => ({
  id: `chatcmpl-${name}`,
  object: "chat.completion",
  created: UPSTREAM_CREATED,
  model,
  choices: [{ index: 0, message: { role: "assistant", content: replyText(name) }, finish_reason: "stop" }],
  usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 }
})

const sse = (name: string, model: string, delta: Record<string, unknown>, finish: string | null): string =>
  `data: ${JSON.stringify({
    id: `chatcmpl-${name}-stream`,
    object: "chat.completion.chunk",
    created: UPSTREAM_CREATED,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }]
  })}\n\n`

/** Resolves true after `ms`, or false as soon as the request is aborted. */
const wait = (signal: AbortSignal, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve(false)
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort)
      resolve(true)
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      resolve(false)
    }
    signal.addEventListener("abort", onAbort, { once: true })
  })

export const startControlledUpstream = async (name: string, recorder: Recorder): Promise<ControlledUpstream> => {
  let mode: Mode = ok
  let queued: Array<Mode> = []
  let inFlight = 0
  let maxInFlight = 0
  const enter = () => {
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
  }
  const leave = () => {
    inFlight--
  }

  const streamBody = (request: Request, model: string, m: Mode, done: () => void): ReadableStream<Uint8Array> => {
    const enc = new TextEncoder()
    const chunks = m.kind === "ok" ? (m.chunks ?? STREAM_CHUNKS) : m.kind === "stream-break" ? m.afterChunks : 0
    const interval = (m.kind === "ok" || m.kind === "stream-break" ? m.intervalMs : undefined) ?? STREAM_INTERVAL_MS
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      done()
    }
    return new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (text: string) => controller.enqueue(enc.encode(text))
        const close = () => {
          try {
            controller.close()
          } catch {
            // already closed
          }
        }
        request.signal.addEventListener(
          "abort",
          () => {
            finish()
            close()
          },
          { once: true }
        )
        // the preamble real OpenAI sends first: role only, empty content
        send(sse(name, model, { role: "assistant", content: "" }, null))
        for (let i = 0; i < chunks; i++) {
          if (!(await wait(request.signal, interval))) return
          send(sse(name, model, { content: tokenOf(name, i) }, null))
        }
        if (!(await wait(request.signal, interval))) return
        if (m.kind === "stream-break") {
          switch (m.how) {
            case "reset":
              finish()
              controller.error(new Error(`${name}: fake upstream died mid-stream`))
              return
            case "end":
              finish()
              close()
              return
            case "garbage":
              send("data: {this is not json\n\n")
              break
            case "error-event":
              send(`data: ${JSON.stringify(upstreamErrorBody(name, 500))}\n\n`)
              break
            case "stall":
              break
          }
          // stay silent (connection open) until the gateway goes away
          await wait(request.signal, HANG_LIMIT_MS)
          finish()
          close()
          return
        }
        send(sse(name, model, {}, "stop"))
        send("data: [DONE]\n\n")
        finish()
        close()
      },
      cancel() {
        finish()
      }
    })
  }

  /** The first `afterBytes` bytes of `full`, then a reset (the bridge destroys the socket) or silence. */
  const brokenBody = (
    request: Request,
    full: string,
    m: { readonly afterBytes: number; readonly how: "reset" | "stall" },
    done: () => void
  ) => {
    const bytes = new TextEncoder().encode(full).slice(0, m.afterBytes)
    return new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(bytes)
        // a moment for the part to leave before the connection dies
        if (!(await wait(request.signal, 20))) return done()
        if (m.how === "reset") {
          done()
          controller.error(new Error(`${name}: fake upstream died mid-body`))
          return
        }
        await wait(request.signal, HANG_LIMIT_MS)
        done()
        try {
          controller.close()
        } catch {
          // already closed
        }
      },
      cancel() {
        done()
      }
    })
  }

  const handle = async ({ request }: { request: Request }): Promise<Response> => {
    const rawBody = await request.text()
    let parsed: unknown
    try {
      parsed = rawBody.length > 0 ? JSON.parse(rawBody) : undefined
    } catch {
      parsed = rawBody
    }
    const headers: Record<string, string> = {}
    request.headers.forEach((v, k) => {
      headers[k.toLowerCase()] = v
    })
    const path = new URL(request.url).pathname
    const rec = recorder.record({ method: request.method, path, headers, body: parsed, rawBody, upstream: name })
    const m = queued.shift() ?? mode
    const body = isRecord(parsed) ? parsed : {}
    const model = typeof body.model === "string" ? body.model : ""
    const stream = body.stream === true
    enter()
    let streaming = false
    try {
      switch (m.kind) {
        case "hang": {
          await wait(request.signal, HANG_LIMIT_MS)
          if (request.signal.aborted) recorder.aborted.add(rec.seq)
          return HttpResponse.json(upstreamErrorBody(name, 504), { status: 504 })
        }
        case "error": {
          if (m.delayMs !== undefined && !(await wait(request.signal, m.delayMs))) recorder.aborted.add(rec.seq)
          const extra: Record<string, string> = m.retryAfter === undefined ? {} : { "retry-after": m.retryAfter }
          return HttpResponse.json(upstreamErrorBody(name, m.status), {
            status: m.status,
            headers: { ...extra, "x-upstream": name }
          })
        }
        case "body-break": {
          streaming = true
          let left = false
          const done = () => {
            if (!left) {
              left = true
              leave()
            }
          }
          return new HttpResponse(brokenBody(request, JSON.stringify(chatReply(name, model)), m, done), {
            status: 200,
            headers: { "content-type": "application/json", "x-upstream": name }
          })
        }
        case "ok":
        case "stream-break": {
          if (m.kind === "ok" && m.delayMs !== undefined && !(await wait(request.signal, m.delayMs))) {
            recorder.aborted.add(rec.seq)
            return HttpResponse.json(upstreamErrorBody(name, 499), { status: 499 })
          }
          if (path.endsWith("/chat/completions") && stream) {
            streaming = true
            return new HttpResponse(streamBody(request, model, m, leave), {
              status: 200,
              headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-upstream": name }
            })
          }
          if (m.kind === "stream-break") {
            return HttpResponse.json(upstreamErrorBody(name, 500), { status: 500, headers: { "x-upstream": name } })
          }
          if (path.endsWith("/embeddings")) {
            const n = Array.isArray(body.input) ? body.input.length : 1
            return HttpResponse.json(
              {
                object: "list",
                model,
                data: Array.from({ length: n }, (_, index) => ({
                  object: "embedding",
                  index,
                  embedding: [index, 0.5]
                })),
                usage: { prompt_tokens: n, total_tokens: n }
              },
              { headers: { "x-upstream": name } }
            )
          }
          if (path.endsWith("/completions") && !path.endsWith("/chat/completions")) {
            return HttpResponse.json(
              {
                id: `cmpl-${name}`,
                object: "text_completion",
                created: UPSTREAM_CREATED,
                model,
                choices: [{ index: 0, text: replyText(name), logprobs: null, finish_reason: "stop" }],
                usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 }
              },
              { headers: { "x-upstream": name } }
            )
          }
          return HttpResponse.json(chatReply(name, model), { headers: { "x-upstream": name } })
        }
      }
    } finally {
      if (!streaming) leave()
    }
  }

  const handlers = (): Array<RequestHandler> => [
    http.post("*/v1/chat/completions", handle),
    http.post("*/v1/completions", handle),
    http.post("*/v1/embeddings", handle),
    http.all("*", async ({ request }) => {
      const rawBody = await request.text()
      const headers: Record<string, string> = {}
      request.headers.forEach((v, k) => {
        headers[k.toLowerCase()] = v
      })
      recorder.record({
        method: request.method,
        path: new URL(request.url).pathname,
        headers,
        body: rawBody || undefined,
        rawBody,
        upstream: name
      })
      return HttpResponse.json(upstreamErrorBody(name, 404), { status: 404 })
    })
  ]

  let server: Upstream | undefined = await startUpstream(handlers, { recorder })
  const port = server.port
  return {
    name,
    port,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get mode() {
      return mode
    },
    set mode(m: Mode) {
      mode = m
    },
    queue: (...modes) => {
      queued.push(...modes)
    },
    reset: () => {
      mode = ok
      queued = []
      maxInFlight = inFlight
    },
    get inFlight() {
      return inFlight
    },
    get maxInFlight() {
      return maxInFlight
    },
    requests: () => recorder.requests.filter((r) => r.upstream === name),
    kill: async () => {
      const s = server
      server = undefined
      await s?.close()
    },
    restart: async () => {
      if (server !== undefined) return
      server = await startUpstream(handlers, { recorder, port })
    },
    get alive() {
      return server !== undefined
    },
    close: async () => {
      const s = server
      server = undefined
      await s?.close()
    }
  }
}
