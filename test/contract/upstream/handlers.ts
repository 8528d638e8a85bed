// The fake OpenAI-compatible upstream, described once as MSW handlers and served over a real port by
// ./server.ts. Behaviour is chosen by the *upstream* model id in the request body, so one gateway
// config covers every contract test:
//   chunks-<N>-<MS>   stream (when stream: true) N content chunks MS ms apart, then a stop chunk and [DONE]
//   fail-500          500 in OpenAI error shape        bad-request-400   400 in OpenAI error shape
//   rate-limited-429  429 with retry-after             hang              never answers until the client aborts
//   no-usage          a normal JSON chat answer without `usage` (the gateway estimates it)
//   anything else     a normal JSON answer (and 3 chunks 10 ms apart when streaming)
// A stream asked with `stream_options.include_usage: true` ends, like OpenAI's, with a usage-only
// chunk (`choices: []`, `streamUsage(N)`) before [DONE]; without it, no chunk carries usage.
// Every request is recorded (method, path, headers, parsed body) and every stream's fate (completed or
// cancelled, chunks sent) is tracked in the Recorder the tests read.
import { http, HttpResponse, type RequestHandler } from "msw"
import { isRecord, type RecordedRequest, type Recorder } from "./recorder.ts"

export const UPSTREAM_CREATED = 1_700_000_000

export interface UpstreamError {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: { readonly error: { message: string; type: string; param: string | null; code: string | null } }
}

/** The canned upstream failures, keyed by upstream model id (tests compare pass-through bodies to these). */
export const UPSTREAM_ERRORS: Readonly<Record<string, UpstreamError>> = {
  "fail-500": {
    status: 500,
    headers: {},
    body: {
      error: { message: "upstream exploded (contract fake)", type: "server_error", param: null, code: "upstream_boom" }
    }
  },
  "bad-request-400": {
    status: 400,
    headers: {},
    body: {
      error: {
        message: "Invalid value for 'temperature' (contract fake)",
        type: "invalid_request_error",
        param: "temperature",
        code: "invalid_value"
      }
    }
  },
  "rate-limited-429": {
    status: 429,
    headers: { "retry-after": "7" },
    body: {
      error: {
        message: "Rate limit reached (contract fake)",
        type: "rate_limit_error",
        param: null,
        code: "rate_limit_exceeded"
      }
    }
  }
}

/** Content of the i-th streamed chunk (tests check order with it). */
export const chunkText = (i: number): string => `tok-${i} `

export const upstreamChatReply = (model: string) => ({
  id: "chatcmpl-upstream-1",
  object: "chat.completion",
  created: UPSTREAM_CREATED,
  model,
  choices: [
    { index: 0, message: { role: "assistant", content: `upstream reply for ${model}` }, finish_reason: "stop" }
  ],
  usage: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 }
})

/** An answer as a provider that reports no usage sends it. */
const withoutUsage = <A extends { readonly usage: unknown }>(reply: A): Omit<A, "usage"> => {
  const { usage: _, ...rest } = reply
  return rest
}

export const upstreamCompletionReply = (model: string) => ({
  id: "cmpl-upstream-1",
  object: "text_completion",
  created: UPSTREAM_CREATED,
  model,
  choices: [{ index: 0, text: `upstream completion for ${model}`, logprobs: null, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }
})

export const upstreamEmbeddingReply = (model: string, inputs: number) => ({
  object: "list",
  model,
  data: Array.from({ length: inputs }, (_, index) => ({ object: "embedding", index, embedding: [index, 0.25, -0.5] })),
  usage: { prompt_tokens: inputs, total_tokens: inputs }
})

/** The usage a stream of `chunks` content chunks reports when asked (`stream_options.include_usage`). */
export const streamUsage = (chunks: number) => ({
  prompt_tokens: 11,
  completion_tokens: chunks,
  total_tokens: 11 + chunks
})

const wantsUsage = (body: Record<string, unknown>): boolean =>
  isRecord(body.stream_options) && body.stream_options.include_usage === true

const streamPlan = (model: string): { chunks: number; intervalMs: number } => {
  const m = /^chunks-(\d+)-(\d+)$/.exec(model)
  return m ? { chunks: Number(m[1]), intervalMs: Number(m[2]) } : { chunks: 3, intervalMs: 10 }
}

const sseChunk = (model: string, delta: Record<string, unknown>, finish: string | null): string =>
  `data: ${JSON.stringify({
    id: "chatcmpl-upstream-stream",
    object: "chat.completion.chunk",
    created: UPSTREAM_CREATED,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }]
  })}\n\n`

const sseResponse = (
  request: Request,
  recorder: Recorder,
  rec: RecordedRequest,
  model: string,
  includeUsage: boolean
): Response => {
  const { chunks, intervalMs } = streamPlan(model)
  const state = recorder.openStream(rec, chunks)
  const enc = new TextEncoder()
  let timer: ReturnType<typeof setTimeout> | undefined
  const cancelled = () => {
    clearTimeout(timer)
    if (state.status === "streaming") {
      state.status = "cancelled"
      state.endedAt = performance.now()
    }
  }
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      request.signal.addEventListener(
        "abort",
        () => {
          cancelled()
          try {
            controller.close()
          } catch {
            // already closed or errored
          }
        },
        { once: true }
      )
      let i = 0
      const tick = () => {
        if (state.status !== "streaming") return
        if (i < chunks) {
          controller.enqueue(
            enc.encode(
              sseChunk(model, i === 0 ? { role: "assistant", content: chunkText(i) } : { content: chunkText(i) }, null)
            )
          )
          state.chunksSent = ++i
          timer = setTimeout(tick, intervalMs)
          return
        }
        controller.enqueue(enc.encode(sseChunk(model, {}, "stop")))
        if (includeUsage) {
          const usage = {
            id: "chatcmpl-upstream-stream",
            object: "chat.completion.chunk",
            created: UPSTREAM_CREATED,
            model,
            choices: [],
            usage: streamUsage(chunks)
          }
          controller.enqueue(enc.encode(`data: ${JSON.stringify(usage)}\n\n`))
        }
        controller.enqueue(enc.encode("data: [DONE]\n\n"))
        state.status = "completed"
        state.endedAt = performance.now()
        controller.close()
      }
      tick()
    },
    cancel() {
      cancelled()
    }
  })
  return new HttpResponse(body, {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-upstream": "contract-fake" }
  })
}

const errorResponse = (e: UpstreamError): Response =>
  HttpResponse.json(e.body, { status: e.status, headers: { ...e.headers, "x-upstream": "contract-fake" } })

/** Resolves after `ms`, or as soon as the request is aborted (then marks the request as aborted). */
const hang = (request: Request, recorder: Recorder, rec: RecordedRequest, ms: number): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms)
    const onAbort = () => {
      clearTimeout(t)
      recorder.aborted.add(rec.seq)
      resolve()
    }
    if (request.signal.aborted) onAbort()
    else request.signal.addEventListener("abort", onAbort, { once: true })
  })

type Resolver = (ctx: {
  request: Request
  rec: RecordedRequest
  body: Record<string, unknown>
  model: string
}) => Promise<Response> | Response

export const makeHandlers = (recorder: Recorder): Array<RequestHandler> => {
  // Records the request, then applies the model-driven failure modes shared by all three endpoints.
  const route =
    (resolve: Resolver) =>
    async ({ request }: { request: Request }): Promise<Response> => {
      const rawBody = await request.text()
      let parsed: unknown
      if (rawBody.length > 0) {
        try {
          parsed = JSON.parse(rawBody)
        } catch {
          parsed = rawBody
        }
      }
      const headers: Record<string, string> = {}
      request.headers.forEach((v, k) => {
        headers[k.toLowerCase()] = v
      })
      const rec = recorder.record({
        method: request.method,
        path: new URL(request.url).pathname,
        headers,
        body: parsed,
        rawBody
      })
      if (!isRecord(parsed)) {
        return errorResponse({
          status: 400,
          headers: {},
          body: {
            error: {
              message: "fake upstream: body is not a JSON object",
              type: "invalid_request_error",
              param: null,
              code: null
            }
          }
        })
      }
      const model = typeof parsed.model === "string" ? parsed.model : ""
      const canned = UPSTREAM_ERRORS[model]
      if (canned) return errorResponse(canned)
      if (model === "hang") {
        await hang(request, recorder, rec, 30_000)
        return HttpResponse.json(upstreamChatReply(model))
      }
      return resolve({ request, rec, body: parsed, model })
    }

  return [
    http.post(
      "*/v1/chat/completions",
      route(({ request, rec, body, model }) =>
        body.stream === true
          ? sseResponse(request, recorder, rec, model, wantsUsage(body))
          : HttpResponse.json(
              model === "no-usage" ? withoutUsage(upstreamChatReply(model)) : upstreamChatReply(model),
              {
                headers: { "x-upstream": "contract-fake" }
              }
            )
      )
    ),
    http.post(
      "*/v1/completions",
      route(({ model }) =>
        HttpResponse.json(upstreamCompletionReply(model), { headers: { "x-upstream": "contract-fake" } })
      )
    ),
    http.post(
      "*/v1/embeddings",
      route(({ body, model }) => {
        const n = Array.isArray(body.input) ? body.input.length : 1
        return HttpResponse.json(upstreamEmbeddingReply(model, n), { headers: { "x-upstream": "contract-fake" } })
      })
    ),
    // Anything else the gateway might call: record it and answer 404 in OpenAI shape.
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
        rawBody
      })
      return errorResponse({
        status: 404,
        headers: {},
        body: {
          error: {
            message: "fake upstream: no such route",
            type: "invalid_request_error",
            param: null,
            code: "not_found"
          }
        }
      })
    })
  ]
}
