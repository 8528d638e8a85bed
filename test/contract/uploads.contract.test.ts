// Uploads stream through the gateway: a multipart upload (transcriptions, translations, image edits)
// is routed by its `model` part and sent upstream as it arrives, the model rewritten in place, and a
// file upload (`POST /v1/files`) goes untouched the same way. The upstream here reads request bodies
// as streams (`streamBodies`), so it can see an upload arrive while the client is still sending it.
// Also: a file upload over twice `server.upload_replay_limit` byte-exact; a second `model` part after
// the file a 400 naming `model`, the upstream request aborted; over `server.upload_limit` a 413; a
// client gone mid-upload aborts the upstream request and the gateway serves on; a connect failure of
// the first target fails over with the whole upload; an upload past the replay bound that the
// upstream answered 503 is not sent again; an upstream that answers while it still reads the upload
// gets all of it (the upload is let go with the answer's end, not its start); the provider's
// `timeout.request` still bounds an upload in progress; an upstream that dies mid-upload ends the
// client's request with a 502 (one attempt: the upload is past the replay bound).
import { request as httpRequest } from "node:http"
import { http, HttpResponse, type RequestHandler } from "msw"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanupTempDirs, freePort, launchGateway, type GatewayProcess } from "./gateway.ts"
import { MASTER_KEY, runtime } from "./harness.ts"
import { startUpstream, type Upstream } from "./upstream/server.ts"

const enc = new TextEncoder()
const BOUNDARY = "----llmgate-upload-b0undary"
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`
const REPLAY_LIMIT = 64 * 1024

/** An upload as the upstream received it, chunk by chunk. */
interface Arrival {
  readonly path: string
  readonly contentType: string
  readonly contentLength: string | null
  readonly transferEncoding: string | null
  readonly chunks: Array<Uint8Array>
  received: number
  ended: boolean
  aborted: boolean
}

const arrivals: Array<Arrival> = []
const bytesOf = (a: Arrival | undefined): Buffer => Buffer.concat(a?.chunks ?? [])

/** Reads the request body as it comes; `answer` once it has all arrived. */
const receive = async (request: Request, answer: (a: Arrival) => Response): Promise<Response> => {
  const arrival: Arrival = {
    path: new URL(request.url).pathname,
    contentType: request.headers.get("content-type") ?? "",
    contentLength: request.headers.get("content-length"),
    transferEncoding: request.headers.get("transfer-encoding"),
    chunks: [],
    received: 0,
    ended: false,
    aborted: false
  }
  arrivals.push(arrival)
  const reader = request.body?.getReader()
  try {
    for (;;) {
      const r = reader === undefined ? { done: true as const } : await reader.read()
      if (r.done) break
      arrival.chunks.push(r.value)
      arrival.received += r.value.length
    }
    arrival.ended = true
  } catch {
    arrival.aborted = true
    return HttpResponse.json({ error: { message: "aborted", type: "server_error" } }, { status: 500 })
  }
  return answer(arrival)
}

/** Uploads a stalled upstream was sent (it reads what comes, and never answers). */
const stalled: Array<{ aborted: boolean }> = []

const handlers = (): Array<RequestHandler> => [
  // Takes some of the upload, then dies: its answer's body breaks, the connection reset.
  http.post("*/broken/v1/audio/transcriptions", async ({ request }) => {
    const reader = request.body?.getReader()
    let got = 0
    while (reader !== undefined && got < 64 * 1024) {
      const r = await reader.read()
      if (r.done) break
      got += r.value.length
    }
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.error(new Error("the upstream died"))
      }
    })
    return new HttpResponse(body, { status: 200, headers: { "content-type": "application/json" } })
  }),
  http.post("*/slow/v1/audio/transcriptions", async ({ request }) => {
    const seen = { aborted: false }
    stalled.push(seen)
    // Read (a peer that reads nothing cannot tell its client has gone), never answer.
    void request.body?.pipeTo(new WritableStream()).catch(() => {})
    await new Promise<void>((resolve) => request.signal.addEventListener("abort", () => resolve(), { once: true }))
    seen.aborted = true
    return HttpResponse.json({ text: "too late" })
  }),
  http.post("*/flaky/v1/audio/transcriptions", ({ request }) =>
    receive(request, () =>
      HttpResponse.json({ error: { message: "overloaded", type: "server_error" } }, { status: 503 })
    )
  ),
  http.post("*/v1/audio/transcriptions", ({ request }) =>
    receive(request, (a) => HttpResponse.json({ text: `heard ${a.received} bytes` }))
  ),
  // Answers at once, as text, and tells what it read only once the upload has all arrived.
  http.post("*/v1/images/edits", ({ request }) => {
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(enc.encode("reading… "))
        const answer = await receive(request, (a) => new Response(`read ${a.received} bytes`))
        controller.enqueue(new Uint8Array(await answer.arrayBuffer()))
        controller.close()
      }
    })
    return new HttpResponse(body, { status: 200, headers: { "content-type": "text/plain" } })
  }),
  http.post("*/v1/files", ({ request }) =>
    receive(request, (a) => HttpResponse.json({ id: "file-up", object: "file", bytes: a.received }))
  )
]

/** A file of `size` bytes, every byte value over and over. */
const fileOf = (size: number): Uint8Array => {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 9)) & 0xff
  return bytes
}

const part = (headers: string): Uint8Array => enc.encode(`--${BOUNDARY}\r\n${headers}\r\n\r\n`)
const field = (name: string, value: string): Uint8Array =>
  Buffer.concat([part(`Content-Disposition: form-data; name="${name}"`), enc.encode(`${value}\r\n`)])
const FILE_HEAD = part(`Content-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav`)
const CLOSE = enc.encode(`--${BOUNDARY}--\r\n`)

/** A transcription form: `model` first, then the file (its bytes end with the part's CRLF), then `extra` parts. */
const form = (model: string, file: Uint8Array, ...extra: ReadonlyArray<Uint8Array>): Uint8Array<ArrayBuffer> =>
  new Uint8Array(Buffer.concat([field("model", model), FILE_HEAD, file, enc.encode("\r\n"), ...extra, CLOSE]))

/** Polls `check` until it holds (or fails the test after `ms`). */
const until = async (what: string, check: () => boolean, ms = 10_000): Promise<void> => {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly body: string
}

/** A POST whose body the test sends piece by piece (chunked, unless `headers` declare a length). */
const post = (baseUrl: string, path: string, headers: Record<string, string> = {}) => {
  const url = new URL(baseUrl)
  const req = httpRequest({
    host: url.hostname,
    port: url.port,
    path,
    method: "POST",
    // A connection of its own: one whose upload was answered early may be closed after it.
    agent: false,
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": CONTENT_TYPE, ...headers }
  })
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on("response", (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (d: string) => {
        body += d
      })
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on("error", reject)
    })
    req.on("error", reject)
  })
  return {
    req,
    answer,
    write: (bytes: Uint8Array) => new Promise<void>((ok, ko) => req.write(bytes, (e) => (e ? ko(e) : ok()))),
    end: (bytes?: Uint8Array) => req.end(bytes)
  }
}

/** A POST of the whole body at once (its length declared). */
const postWhole = (baseUrl: string, path: string, body: Uint8Array<ArrayBuffer>): Promise<Response> =>
  fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": CONTENT_TYPE },
    body
  })

describe(`[${runtime}] uploads stream through the gateway`, () => {
  let upstream: Upstream | undefined
  let gateway: GatewayProcess | undefined
  const base = () => gateway?.baseUrl ?? ""

  beforeAll(async () => {
    upstream = await startUpstream(handlers, { streamBodies: true })
    const port = await freePort()
    const dead = await freePort()
    const origin = upstream.baseUrl.replace(/\/v1$/, "")
    gateway = await launchGateway({
      runtime,
      port,
      config: {
        server: {
          host: "127.0.0.1",
          port,
          body_limit: "32KiB",
          upload_limit: "512KiB",
          upload_replay_limit: "64KiB"
        },
        master_key: MASTER_KEY,
        providers: [
          { name: "oai", kind: "openai", base_url: `${origin}/v1`, api_key: "sk-up" },
          { name: "flaky", kind: "openai", base_url: `${origin}/flaky/v1`, api_key: "sk-up" },
          { name: "dead", kind: "openai", base_url: `http://127.0.0.1:${dead}/v1`, api_key: "sk-up" },
          { name: "broken", kind: "openai", base_url: `${origin}/broken/v1`, api_key: "sk-up" },
          {
            name: "slow",
            kind: "openai",
            base_url: `${origin}/slow/v1`,
            api_key: "sk-up",
            timeout: { request: "500ms" }
          }
        ],
        models: [
          { name: "scribe", targets: [{ provider: "oai", model: "gpt-4o-transcribe" }] },
          { name: "scribe-slow", retry: { attempts: 0 }, targets: [{ provider: "slow", model: "gpt-4o-transcribe" }] },
          { name: "scribe-broken", targets: [{ provider: "broken", model: "gpt-4o-transcribe" }] },
          ...[
            ["scribe-ha", "dead"],
            ["scribe-flaky", "flaky"]
          ].map(([name, first]) => ({
            name,
            strategy: "failover",
            retry: { attempts: 2 },
            targets: [first, "oai"].map((provider) => ({ provider, model: "gpt-4o-transcribe" }))
          }))
        ],
        routes: [{ path: "/v1/files", model: "scribe" }]
      }
    })
  })

  afterAll(async () => {
    await gateway?.stop("SIGTERM", 10_000)
    await upstream?.close()
    cleanupTempDirs()
  })

  it("the upstream sees the model part and the file's first bytes before the client sends the rest", async () => {
    arrivals.length = 0
    const file = fileOf(200 * 1024)
    const sent = form("scribe", file)
    const first = sent.subarray(0, field("model", "scribe").length + FILE_HEAD.length + 4096)
    const upload = post(base(), "/v1/audio/transcriptions")
    await upload.write(first)
    const expected = form("gpt-4o-transcribe", file)
    const firstUpstream = first.length + "gpt-4o-transcribe".length - "scribe".length
    // Nothing more is sent until the upstream has seen these bytes: a gateway that buffered the
    // whole body would never pass this point.
    await until("the upstream to receive the first piece", () => (arrivals[0]?.received ?? 0) >= firstUpstream)
    expect(arrivals[0]?.ended).toBe(false)
    expect(bytesOf(arrivals[0]).equals(expected.subarray(0, arrivals[0]?.received ?? 0))).toBe(true)
    upload.end(sent.subarray(first.length))
    const answer = await upload.answer
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toEqual({ text: `heard ${expected.length} bytes` })
    expect(arrivals).toHaveLength(1)
    expect(arrivals[0]?.contentType).toBe(CONTENT_TYPE)
    expect(bytesOf(arrivals[0]).equals(expected)).toBe(true)
  })

  it("a file upload over twice the replay bound passes byte-exact, with its declared length", async () => {
    arrivals.length = 0
    const body = new Uint8Array(
      Buffer.concat([
        field("purpose", "batch"),
        part(`Content-Disposition: form-data; name="file"; filename="big.jsonl"`),
        fileOf(2 * REPLAY_LIMIT + 12_345),
        enc.encode("\r\n"),
        CLOSE
      ])
    )
    const res = await postWhole(base(), "/v1/files", body)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { bytes: number }).bytes).toBe(body.length)
    expect(arrivals[0]?.path).toBe("/v1/files")
    // Deno's fetch sends a streamed body chunked whatever content-length it is given (README).
    if (runtime === "deno") expect(arrivals[0]?.transferEncoding).toBe("chunked")
    else expect(arrivals[0]?.contentLength).toBe(String(body.length))
    expect(bytesOf(arrivals[0]).equals(body)).toBe(true)
  })

  it("a second model part after the file: 400 naming model, the upstream request aborted", async () => {
    arrivals.length = 0
    const file = fileOf(100 * 1024)
    const sent = form("scribe", file, field("model", "other"))
    const first = sent.subarray(0, 50 * 1024)
    const upload = post(base(), "/v1/audio/transcriptions")
    await upload.write(first)
    await until("the upstream to receive the first piece", () => (arrivals[0]?.received ?? 0) >= 40 * 1024)
    upload.end(sent.subarray(first.length))
    const answer = await upload.answer
    expect(answer.status).toBe(400)
    const error = JSON.parse(answer.body) as { error: { param: string; message: string } }
    expect(error.error.param).toBe("model")
    expect(error.error.message).toMatch(/more than once/)
    await until("the upstream request to be aborted", () => arrivals[0]?.aborted === true)
    expect(arrivals[0]?.ended).toBe(false)
  })

  it("over server.upload_limit: 413, at once when declared, else once counted (the upstream aborted)", async () => {
    arrivals.length = 0
    const sent = form("scribe", fileOf(600 * 1024))
    const declared = await postWhole(base(), "/v1/audio/transcriptions", sent)
    expect(declared.status).toBe(413)
    expect(((await declared.json()) as { error: { code: string } }).error.code).toBe("request_too_large")
    expect(arrivals).toHaveLength(0)
    // Chunked, no length declared: counted as it flows.
    const upload = post(base(), "/v1/audio/transcriptions")
    await upload.write(sent.subarray(0, 64 * 1024))
    await until("the upstream to receive the first piece", () => (arrivals[0]?.received ?? 0) > 0)
    upload.end(sent.subarray(64 * 1024))
    const answer = await upload.answer
    expect(answer.status).toBe(413)
    await until("the upstream request to be aborted", () => arrivals[0]?.aborted === true)
  })

  it("a client gone mid-upload: the upstream request is aborted, and the gateway serves on", async () => {
    arrivals.length = 0
    const sent = form("scribe", fileOf(200 * 1024))
    const upload = post(base(), "/v1/audio/transcriptions")
    upload.answer.catch(() => {})
    await upload.write(sent.subarray(0, 64 * 1024))
    await until("the upstream to receive the first piece", () => (arrivals[0]?.received ?? 0) > 32 * 1024)
    upload.req.destroy()
    await until("the upstream request to be aborted", () => arrivals[0]?.aborted === true)
    expect(arrivals[0]?.ended).toBe(false)
    const small = form("scribe", fileOf(1000))
    const res = await postWhole(base(), "/v1/audio/transcriptions", small)
    expect(res.status).toBe(200)
    expect(bytesOf(arrivals[1]).equals(form("gpt-4o-transcribe", fileOf(1000)))).toBe(true)
  })

  it("an upstream that answers while it still reads the upload gets all of it, the answer relayed whole", async () => {
    arrivals.length = 0
    const sent = form("scribe", fileOf(200 * 1024))
    const upload = post(base(), "/v1/images/edits")
    await upload.write(sent.subarray(0, 8192))
    await until("the upstream to receive the first piece", () => (arrivals[0]?.received ?? 0) > 0)
    // The answer has begun before the rest is sent.
    await new Promise((r) => setTimeout(r, 100))
    upload.end(sent.subarray(8192))
    const answer = await upload.answer
    expect(answer.status).toBe(200)
    const expected = form("gpt-4o-transcribe", fileOf(200 * 1024))
    expect(answer.body).toBe(`reading… read ${expected.length} bytes`)
    expect(bytesOf(arrivals[0]).equals(expected)).toBe(true)
  })

  it("timeout.request bounds an upload still being sent (504), the upstream request let go", async () => {
    stalled.length = 0
    const started = Date.now()
    const sent = form("scribe-slow", fileOf(400 * 1024))
    const upload = post(base(), "/v1/audio/transcriptions")
    await upload.write(sent.subarray(0, 64 * 1024))
    // The rest is held back until the answer: the timeout comes mid-upload.
    const answer = await upload.answer
    upload.end(sent.subarray(64 * 1024))
    expect(answer.status).toBe(504)
    expect((JSON.parse(answer.body) as { error: { code: string } }).error.code).toBe("upstream_timeout")
    expect(Date.now() - started).toBeLessThan(5_000)
    await until("the upstream request to be aborted", () => stalled[0]?.aborted === true)
    expect(stalled).toHaveLength(1)
  })

  it("an upstream that dies mid-upload: the client gets a clear 502, the gateway serves on", async () => {
    const sent = form("scribe-broken", fileOf(400 * 1024))
    const upload = post(base(), "/v1/audio/transcriptions")
    await upload.write(sent.subarray(0, 16 * 1024))
    upload.end(sent.subarray(16 * 1024))
    const answer = await upload.answer
    expect(answer.status).toBe(502)
    expect((JSON.parse(answer.body) as { error: { code: string } }).error.code).toBe("upstream_unreachable")
    expect(answer.headers["x-llmgate-attempts"]).toBe("1")
    const small = await postWhole(base(), "/v1/audio/transcriptions", form("scribe", fileOf(1000)))
    expect(small.status).toBe(200)
  })

  it("a connect failure on the first target fails over, the whole upload sent to the next", async () => {
    arrivals.length = 0
    const file = fileOf(3 * REPLAY_LIMIT)
    const res = await postWhole(base(), "/v1/audio/transcriptions", form("scribe-ha", file))
    expect(res.status).toBe(200)
    expect(res.headers.get("x-llmgate-provider")).toBe("oai")
    expect(res.headers.get("x-llmgate-attempts")).toBe("2")
    expect(arrivals).toHaveLength(1)
    expect(bytesOf(arrivals[0]).equals(form("gpt-4o-transcribe", file))).toBe(true)
  })

  it("an upload past the replay bound answered 503 is final: not sent again, one attempt", async () => {
    arrivals.length = 0
    // Sent in two pieces, so the gateway routes on the first and streams the rest (a runtime may
    // hand over a body that arrived at once as one chunk, all of it held to route it).
    const sent = form("scribe-flaky", fileOf(3 * REPLAY_LIMIT))
    const upload = post(base(), "/v1/audio/transcriptions")
    await upload.write(sent.subarray(0, 4096))
    await until("the upstream to receive the first piece", () => (arrivals[0]?.received ?? 0) > 0)
    upload.end(sent.subarray(4096))
    const answer = await upload.answer
    expect(answer.status).toBe(503)
    expect(answer.headers["x-llmgate-attempts"]).toBe("1")
    expect(arrivals.map((a) => a.path)).toEqual(["/flaky/v1/audio/transcriptions"])
    // Within the bound, the same failure is retried on the next target.
    arrivals.length = 0
    const small = fileOf(1000)
    const retried = await postWhole(base(), "/v1/audio/transcriptions", form("scribe-flaky", small))
    expect(retried.status).toBe(200)
    expect(retried.headers.get("x-llmgate-attempts")).toBe("2")
    expect(bytesOf(arrivals[1]).equals(form("gpt-4o-transcribe", small))).toBe(true)
  })
})
