// The other `/v1` endpoints an OpenAI-kind provider serves, relayed by the gateway: image generation
// and edits, speech, transcriptions and translations, moderations, rerank, files and batches. Each is
// routed by its `model` (a multipart upload's `model` form field; files and batches by the `routes`
// entry for their path), the `model` sent upstream is the target's, and everything else goes as the
// client sent it: a multipart transcription and a file upload arrive byte-exact (but for the model
// field's value). Answers come back as the upstream gave them: JSON relayed, speech audio and file
// content relayed as bytes with their content-type. The Azure mock checks deployment and resource
// URLs, `api-version` and `api-key`. A model of another provider kind is a 400 naming the provider,
// an unknown one a 404, a body over `server.body_limit` a 413, files, batches and stored responses
// (`/v1/responses/{id}`, responses-passthrough.contract.test.ts) without a route a 400.
import { http, HttpResponse, type RequestHandler } from "msw"
import OpenAI, { APIError } from "openai"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanupTempDirs, freePort, launchGateway, type GatewayProcess } from "./gateway.ts"
import { expectOpenAIError, httpClient, MASTER_KEY, runtime } from "./harness.ts"
import { startUpstream, type Upstream } from "./upstream/server.ts"

const AZURE_KEY = "azure-endpoints-key-0123456789"
const OPENAI_KEY = "sk-openai-endpoints-0123456789"
const API_VERSION = "2024-10-21"

interface Seen {
  readonly kind: "openai" | "azure"
  readonly path: string
  readonly search: string
  readonly headers: Headers
  readonly body: Record<string, unknown>
}

const seen: Array<Seen> = []
const enc = new TextEncoder()

/** Multipart uploads as the upstream received them: the bytes and their content-type. */
interface Upload {
  readonly path: string
  readonly contentType: string
  readonly bytes: Uint8Array
  readonly form: FormData
}

const uploads: Array<Upload> = []

/** Files and batches calls as the upstream received them. */
interface Call {
  readonly method: string
  readonly path: string
  readonly search: string
  readonly headers: Headers
  readonly body: string
}

const calls: Array<Call> = []

const FILE = {
  id: "file-abc123",
  object: "file",
  bytes: 2048,
  created_at: 1_700_000_000,
  filename: "requests.jsonl",
  purpose: "batch",
  status: "processed"
}
const BATCH = {
  id: "batch_abc123",
  object: "batch",
  endpoint: "/v1/chat/completions",
  input_file_id: "file-abc123",
  completion_window: "24h",
  status: "validating",
  created_at: 1_700_000_000
}
const CONTENT = '{"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{}}\n'

/** Speech "audio": every byte value, several times, so any text decoding on the way would show. */
const AUDIO = (() => {
  const bytes = new Uint8Array(256 * 40)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff
  return bytes
})()

/** A body sent in `size`-byte pieces. */
const pieces = (bytes: Uint8Array, size: number, contentType: string): Response => {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size))
      controller.close()
    }
  })
  return new HttpResponse(body, { status: 200, headers: { "content-type": contentType } })
}

const IMAGE_ANSWER = { created: 1_700_000_000, data: [{ url: "https://images.example/cat.png" }] }
const MODERATION_ANSWER = {
  id: "modr-1",
  model: "omni-moderation-latest",
  results: [{ flagged: false, categories: { violence: false }, category_scores: { violence: 0.001 } }]
}
const RERANK_ANSWER = {
  id: "rerank-1",
  results: [
    { index: 1, relevance_score: 0.9 },
    { index: 0, relevance_score: 0.1 }
  ]
}

const record = async (kind: Seen["kind"], request: Request): Promise<Record<string, unknown>> => {
  const url = new URL(request.url)
  const body = (await request.json()) as Record<string, unknown>
  seen.push({ kind, path: url.pathname, search: url.search, headers: request.headers, body })
  return body
}

const recordUpload = async (request: Request): Promise<Upload> => {
  const bytes = new Uint8Array(await request.arrayBuffer())
  const contentType = request.headers.get("content-type") ?? ""
  const form = await new Response(bytes, { headers: { "content-type": contentType } }).formData()
  const upload = { path: new URL(request.url).pathname, contentType, bytes, form }
  uploads.push(upload)
  return upload
}

/** A multipart body built by hand (so its bytes are known), its file every byte value. */
const BOUNDARY = "----llmgate-contract-b0undary"
const multipart = (model: string, file: Uint8Array): Uint8Array<ArrayBuffer> => {
  const head = (headers: string) => enc.encode(`--${BOUNDARY}\r\n${headers}\r\n\r\n`)
  const parts = Buffer.concat([
    head(`Content-Disposition: form-data; name="file"; filename="hello.wav"\r\nContent-Type: audio/wav`),
    file,
    enc.encode("\r\n"),
    head(`Content-Disposition: form-data; name="model"`),
    enc.encode(`${model}\r\n`),
    head(`Content-Disposition: form-data; name="response_format"`),
    enc.encode(`json\r\n--${BOUNDARY}--\r\n`)
  ])
  return new Uint8Array(parts)
}
const call = async (request: Request): Promise<Call> => {
  const url = new URL(request.url)
  const c = { method: request.method, path: url.pathname, search: url.search, headers: request.headers, body: "" }
  const recorded = { ...c, body: request.method === "GET" || request.method === "DELETE" ? "" : await request.text() }
  calls.push(recorded)
  return recorded
}

const handlers = (): Array<RequestHandler> => [
  http.post("*/v1/files", async ({ request }) => {
    const upload = await recordUpload(request)
    return HttpResponse.json({ ...FILE, bytes: upload.bytes.length })
  }),
  http.get("*/v1/files", async ({ request }) => {
    await call(request)
    return HttpResponse.json({ object: "list", data: [FILE], has_more: false })
  }),
  http.get("*/v1/files/:id/content", async ({ request }) => {
    await call(request)
    return pieces(enc.encode(CONTENT), 7, "application/octet-stream")
  }),
  http.get("*/v1/files/:id", async ({ request, params }) => {
    await call(request)
    return params["id"] === FILE.id
      ? HttpResponse.json(FILE)
      : HttpResponse.json(
          { error: { message: "No such File object.", type: "invalid_request_error", param: "id", code: null } },
          { status: 404 }
        )
  }),
  http.delete("*/v1/files/:id", async ({ request }) => {
    await call(request)
    return HttpResponse.json({ id: FILE.id, object: "file", deleted: true })
  }),
  http.post("*/openai/batches", async ({ request }) => {
    await call(request)
    return HttpResponse.json(BATCH)
  }),
  http.get("*/openai/batches/:id", async ({ request }) => {
    await call(request)
    return HttpResponse.json(BATCH)
  }),
  http.post("*/openai/batches/:id/cancel", async ({ request }) => {
    await call(request)
    return HttpResponse.json({ ...BATCH, status: "cancelling" })
  }),
  http.post("*/openai/deployments/:deployment/images/generations", async ({ request }) => {
    await record("azure", request)
    return HttpResponse.json(IMAGE_ANSWER)
  }),
  http.post("*/v1/images/generations", async ({ request }) => {
    await record("openai", request)
    return HttpResponse.json(IMAGE_ANSWER, { headers: { "x-request-id": "up-img-1" } })
  }),
  http.post("*/v1/moderations", async ({ request }) => {
    await record("openai", request)
    return HttpResponse.json(MODERATION_ANSWER)
  }),
  http.post("*/v1/rerank", async ({ request }) => {
    await record("openai", request)
    return HttpResponse.json(RERANK_ANSWER)
  }),
  ...["transcriptions", "translations"].map((what) =>
    http.post(`*/v1/audio/${what}`, async ({ request }) => {
      const upload = await recordUpload(request)
      return HttpResponse.json({ text: `${what} by ${upload.form.get("model")}` })
    })
  ),
  http.post("*/v1/images/edits", async ({ request }) => {
    await recordUpload(request)
    return HttpResponse.json(IMAGE_ANSWER)
  }),
  http.post("*/v1/audio/speech", async ({ request }) => {
    const body = await record("openai", request)
    if (body["voice"] === "missing")
      return HttpResponse.json(
        { error: { message: "Invalid voice.", type: "invalid_request_error", param: "voice", code: null } },
        { status: 400 }
      )
    return pieces(AUDIO, 1000, "audio/mpeg")
  })
]

describe(`[${runtime}] other /v1 endpoints: images, audio, moderations, rerank, files, batches`, () => {
  let upstream: Upstream | undefined
  let gateway: GatewayProcess | undefined
  const bodies: Array<string> = []
  const client = httpClient(() => gateway?.baseUrl ?? "", bodies)
  const sdk = () =>
    new OpenAI({ baseURL: `${gateway?.baseUrl}/v1`, apiKey: MASTER_KEY, maxRetries: 0, timeout: 10_000 })

  beforeAll(async () => {
    upstream = await startUpstream(handlers)
    const port = await freePort()
    const base = upstream.baseUrl.replace(/\/v1$/, "")
    gateway = await launchGateway({
      runtime,
      port,
      config: {
        server: { host: "127.0.0.1", port, body_limit: "32KiB" },
        master_key: MASTER_KEY,
        providers: [
          { name: "oai", kind: "openai", base_url: `${base}/v1`, api_key: OPENAI_KEY },
          { name: "az", kind: "azure", base_url: base, api_version: API_VERSION, api_key: AZURE_KEY },
          { name: "claude", kind: "anthropic", base_url: base, api_key: "sk-ant-endpoints-0123456789" }
        ],
        models: [
          { name: "painter", targets: [{ provider: "oai", model: "gpt-image-1" }] },
          { name: "painter-azure", targets: [{ provider: "az", model: "dep-image" }] },
          { name: "moderator", targets: [{ provider: "oai", model: "omni-moderation-latest" }] },
          { name: "ranker", targets: [{ provider: "oai", model: "rerank-v3" }] },
          { name: "voice", targets: [{ provider: "oai", model: "gpt-4o-mini-tts" }] },
          { name: "scribe", targets: [{ provider: "oai", model: "gpt-4o-transcribe" }] },
          { name: "via-claude", targets: [{ provider: "claude", model: "claude-3-5-haiku-latest" }] }
        ],
        routes: [
          { path: "/v1/moderations", model: "moderator" },
          { path: "/v1/files", model: "painter" },
          { path: "/v1/batches", model: "painter-azure" }
        ]
      }
    })
  })

  afterAll(async () => {
    await gateway?.stop("SIGTERM", 10_000)
    await upstream?.close()
    cleanupTempDirs()
  })

  it("images.generate: routed by model, the target's model sent upstream, the answer relayed", async () => {
    seen.length = 0
    const image = await sdk().images.generate({ model: "painter", prompt: "a cat", size: "1024x1024" })
    expect(image).toMatchObject(IMAGE_ANSWER)
    expect(seen).toHaveLength(1)
    expect(seen[0]?.path).toBe("/v1/images/generations")
    expect(seen[0]?.body).toEqual({ model: "gpt-image-1", prompt: "a cat", size: "1024x1024" })
    expect(seen[0]?.headers.get("authorization")).toBe(`Bearer ${OPENAI_KEY}`)
    const raw = await client.post("/v1/images/generations", { model: "painter", prompt: "a dog" })
    expect(raw.status).toBe(200)
    expect(raw.headers.get("x-llmgate-provider")).toBe("oai")
    expect(raw.headers.get("x-upstream-request-id")).toBe("up-img-1")
  })

  it("azure: images go to the deployment URL with api-version and the api-key header", async () => {
    seen.length = 0
    const image = await sdk().images.generate({ model: "painter-azure", prompt: "a cat" })
    expect(image).toMatchObject(IMAGE_ANSWER)
    const call = seen.find((s) => s.kind === "azure")
    expect(call?.path).toBe("/openai/deployments/dep-image/images/generations")
    expect(new URLSearchParams(call?.search).get("api-version")).toBe(API_VERSION)
    expect(call?.headers.get("api-key")).toBe(AZURE_KEY)
    expect(call?.headers.get("authorization")).toBeNull()
    expect(call?.body["model"]).toBe("dep-image")
  })

  it("moderations.create: without a model, the route for the path chooses it", async () => {
    seen.length = 0
    const moderation = await sdk().moderations.create({ input: "I like cats." })
    expect(moderation).toMatchObject(MODERATION_ANSWER)
    expect(seen[0]?.path).toBe("/v1/moderations")
    expect(seen[0]?.body).toEqual({ input: "I like cats.", model: "omni-moderation-latest" })
  })

  it("rerank: routed by model and relayed; without a model (and no route) a 400 naming model", async () => {
    seen.length = 0
    const documents = ["Paris is in France.", "Cats purr."]
    const res = await client.post("/v1/rerank", { model: "ranker", query: "cats", documents })
    expect(res.status).toBe(200)
    expect(res.json()).toEqual(RERANK_ANSWER)
    expect(seen[0]?.body).toEqual({ model: "rerank-v3", query: "cats", documents })
    const missing = expectOpenAIError(await client.post("/v1/rerank", { query: "cats", documents }), 400, {
      param: "model"
    })
    expect(missing.error.message).toMatch(/model/)
    expectOpenAIError(await client.post("/v1/rerank", { model: 42, query: "cats", documents }), 400, {
      param: "model"
    })
  })

  it("audio.speech.create: the audio relayed byte for byte with its content-type", async () => {
    seen.length = 0
    const speech = await sdk().audio.speech.create({ model: "voice", voice: "alloy", input: "Hello there." })
    expect(speech.headers.get("content-type")).toBe("audio/mpeg")
    expect(speech.headers.get("x-llmgate-provider")).toBe("oai")
    const bytes = new Uint8Array(await speech.arrayBuffer())
    expect(bytes.length).toBe(AUDIO.length)
    expect(Buffer.from(bytes).equals(Buffer.from(AUDIO))).toBe(true)
    expect(seen[0]?.path).toBe("/v1/audio/speech")
    expect(seen[0]?.body).toEqual({ model: "gpt-4o-mini-tts", voice: "alloy", input: "Hello there." })
  })

  it("audio.speech.create: an upstream error is relayed as JSON with its status", async () => {
    const error = await sdk()
      .audio.speech.create({ model: "voice", voice: "missing" as "alloy", input: "Hello." })
      .then(
        () => undefined,
        (e: unknown) => e
      )
    expect(error).toBeInstanceOf(APIError)
    expect((error as APIError).status).toBe(400)
    expect((error as APIError).param).toBe("voice")
  })

  it("audio.transcriptions.create: the upload routed by its model field, the model rewritten", async () => {
    uploads.length = 0
    const file = new File([AUDIO.subarray(0, 3000)], "hello.wav", { type: "audio/wav" })
    const t = await sdk().audio.transcriptions.create({ model: "scribe", file, language: "en" })
    expect(t.text).toBe("transcriptions by gpt-4o-transcribe")
    expect(uploads[0]?.path).toBe("/v1/audio/transcriptions")
    expect(uploads[0]?.form.get("language")).toBe("en")
    const sent = uploads[0]?.form.get("file")
    expect(sent).toBeInstanceOf(File)
    expect(Buffer.from(await (sent as File).arrayBuffer()).equals(Buffer.from(AUDIO.subarray(0, 3000)))).toBe(true)
    const tr = await sdk().audio.translations.create({ model: "scribe", file })
    expect(tr.text).toBe("translations by gpt-4o-transcribe")
  })

  it("a multipart transcription passes through byte-exact but for the model field's value", async () => {
    uploads.length = 0
    const res = await fetch(`${gateway?.baseUrl}/v1/audio/transcriptions`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
      body: multipart("scribe", AUDIO)
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ text: "transcriptions by gpt-4o-transcribe" })
    expect(uploads[0]?.contentType).toBe(`multipart/form-data; boundary=${BOUNDARY}`)
    const expected = multipart("gpt-4o-transcribe", AUDIO)
    expect(uploads[0]?.bytes.length).toBe(expected.length)
    expect(Buffer.from(uploads[0]?.bytes ?? []).equals(Buffer.from(expected))).toBe(true)
    // The model part must end within server.body_limit (it is held to route the upload).
    const late = await fetch(`${gateway?.baseUrl}/v1/audio/transcriptions`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
      body: multipart("scribe", new Uint8Array(40 * 1024))
    })
    expect(late.status).toBe(400)
    const error = (await late.json()) as { error: { param: string; message: string } }
    expect(error.error.param).toBe("model")
    expect(error.error.message).toMatch(/body_limit/)
    expect(uploads).toHaveLength(1)
  })

  it("images.edit: a multipart upload routed by model; a form without model (or named twice) a 400", async () => {
    uploads.length = 0
    const image = new File([AUDIO.subarray(0, 500)], "cat.png", { type: "image/png" })
    const edited = await sdk().images.edit({ model: "painter", image, prompt: "add a hat" })
    expect(edited).toMatchObject(IMAGE_ANSWER)
    expect(uploads[0]?.path).toBe("/v1/images/edits")
    expect(uploads[0]?.form.get("model")).toBe("gpt-image-1")
    expect(uploads[0]?.form.get("prompt")).toBe("add a hat")
    const post = (form: FormData) =>
      fetch(`${gateway?.baseUrl}/v1/images/edits`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER_KEY}` },
        body: form
      })
    const noModel = new FormData()
    noModel.set("prompt", "add a hat")
    noModel.set("image", image)
    const missing = await post(noModel)
    expect(missing.status).toBe(400)
    expect(((await missing.json()) as { error: { param: string } }).error.param).toBe("model")
    const twice = new FormData()
    twice.append("model", "painter")
    twice.append("model", "painter-azure")
    twice.set("image", image)
    const repeated = await post(twice)
    expect(repeated.status).toBe(400)
    expect(((await repeated.json()) as { error: { param: string } }).error.param).toBe("model")
    const json = await client.post("/v1/images/edits", { model: "painter", prompt: "x" })
    expectOpenAIError(json, 400)
  })

  it("files.create: the upload passes through byte-exact to the provider the route for /v1/files names", async () => {
    uploads.length = 0
    const head = (headers: string) => `--${BOUNDARY}\r\n${headers}\r\n\r\n`
    const body = new Uint8Array(
      Buffer.concat([
        enc.encode(`${head(`Content-Disposition: form-data; name="purpose"`)}batch\r\n`),
        enc.encode(head(`Content-Disposition: form-data; name="file"; filename="requests.jsonl"`)),
        AUDIO,
        enc.encode(`\r\n--${BOUNDARY}--\r\n`)
      ])
    )
    const res = await fetch(`${gateway?.baseUrl}/v1/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
      body
    })
    expect(res.status).toBe(200)
    expect(res.headers.get("x-llmgate-provider")).toBe("oai")
    expect(((await res.json()) as { bytes: number }).bytes).toBe(body.length)
    expect(uploads[0]?.path).toBe("/v1/files")
    expect(uploads[0]?.contentType).toBe(`multipart/form-data; boundary=${BOUNDARY}`)
    expect(Buffer.from(uploads[0]?.bytes ?? []).equals(Buffer.from(body))).toBe(true)
    const file = new File([enc.encode(CONTENT)], "requests.jsonl", { type: "application/jsonl" })
    const created = await sdk().files.create({ file, purpose: "batch" })
    expect(created.id).toBe(FILE.id)
    expect(uploads[1]?.form.get("purpose")).toBe("batch")
  })

  it("files.list/retrieve/content/delete: methods, ids and the query relayed", async () => {
    calls.length = 0
    const list = await sdk().files.list({ limit: 2, purpose: "batch" })
    expect(list.data.map((f) => f.id)).toEqual([FILE.id])
    expect(calls[0]).toMatchObject({ method: "GET", path: "/v1/files" })
    expect(new URLSearchParams(calls[0]?.search).get("limit")).toBe("2")
    expect(new URLSearchParams(calls[0]?.search).get("purpose")).toBe("batch")
    expect(calls[0]?.headers.get("authorization")).toBe(`Bearer ${OPENAI_KEY}`)
    expect(await sdk().files.retrieve(FILE.id)).toMatchObject(FILE)
    const content = await sdk().files.content(FILE.id)
    expect(content.headers.get("content-type")).toBe("application/octet-stream")
    expect(await content.text()).toBe(CONTENT)
    expect(await sdk().files.delete(FILE.id)).toEqual({ id: FILE.id, object: "file", deleted: true })
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /v1/files",
      `GET /v1/files/${FILE.id}`,
      `GET /v1/files/${FILE.id}/content`,
      `DELETE /v1/files/${FILE.id}`
    ])
    // The upstream's 404 relayed; a path that is no file route is the gateway's own 404.
    const missing = await client.get("/v1/files/file-nope")
    expect(missing.status).toBe(404)
    expect(missing.json<{ error: { param: string } }>().error.param).toBe("id")
    expect((await client.get("/v1/files/..%2F..%2Fadmin")).status).toBe(404)
    expect((await client.get("/v1/files/file-abc123/other")).status).toBe(404)
    expect((await client.request("PATCH", "/v1/files/file-abc123")).status).toBe(405)
  })

  it("batches.create/retrieve/cancel: to the azure resource the route for /v1/batches names", async () => {
    calls.length = 0
    const batch = await sdk().batches.create({
      input_file_id: FILE.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h"
    })
    expect(batch).toMatchObject(BATCH)
    expect(await sdk().batches.retrieve(BATCH.id)).toMatchObject(BATCH)
    expect((await sdk().batches.cancel(BATCH.id)).status).toBe("cancelling")
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "POST /openai/batches",
      `GET /openai/batches/${BATCH.id}`,
      `POST /openai/batches/${BATCH.id}/cancel`
    ])
    for (const c of calls) {
      expect(new URLSearchParams(c.search).get("api-version")).toBe(API_VERSION)
      expect(c.headers.get("api-key")).toBe(AZURE_KEY)
    }
    // The body exactly as sent: no model added.
    expect(JSON.parse(calls[0]?.body ?? "")).toEqual({
      input_file_id: FILE.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h"
    })
  })

  it("errors: an unknown model 404, another provider kind's model 400, a body over the limit 413", async () => {
    const unknown = expectOpenAIError(
      await client.post("/v1/images/generations", { model: "no-such-model", prompt: "a cat" }),
      404,
      { code: "model_not_found" }
    )
    expect(unknown.error.message).toMatch(/no-such-model/)
    const anthropic = expectOpenAIError(
      await client.post("/v1/audio/speech", { model: "via-claude", voice: "alloy", input: "Hi." }),
      400
    )
    expect(anthropic.error.message).toMatch(/claude/)
    expect(anthropic.error.message).toMatch(/audio_speech/)
    const big = "x".repeat(40 * 1024)
    expectOpenAIError(await client.post("/v1/images/generations", { model: "painter", prompt: big }), 413)
    expectOpenAIError(await client.post("/v1/moderations", { input: "hi" }, { key: "sk-nope" }), 401)
  })
})

describe(`[${runtime}] other /v1 endpoints without routes`, () => {
  let upstream: Upstream | undefined
  let gateway: GatewayProcess | undefined
  const bodies: Array<string> = []
  const client = httpClient(() => gateway?.baseUrl ?? "", bodies)

  beforeAll(async () => {
    upstream = await startUpstream(handlers)
    const port = await freePort()
    gateway = await launchGateway({
      runtime,
      port,
      config: {
        server: { host: "127.0.0.1", port },
        master_key: MASTER_KEY,
        providers: [
          { name: "oai", kind: "openai", base_url: upstream.baseUrl, api_key: OPENAI_KEY },
          { name: "fake", kind: "mock" }
        ],
        models: [
          { name: "moderator", targets: [{ provider: "oai", model: "omni-moderation-latest" }] },
          { name: "mocked", targets: [{ provider: "fake", model: "m" }] }
        ]
      }
    })
  })

  afterAll(async () => {
    await gateway?.stop("SIGTERM", 10_000)
    await upstream?.close()
    cleanupTempDirs()
  })

  it("files, batches and stored responses without a route: a 400 saying to configure one", async () => {
    for (const [method, path] of [
      ["GET", "/v1/files"],
      ["GET", "/v1/files/file-abc123/content"],
      ["POST", "/v1/batches"],
      ["GET", "/v1/responses/resp_abc123"],
      ["POST", "/v1/responses/resp_abc123/cancel"]
    ] as const) {
      const error = expectOpenAIError(await client.request(method, path, method === "POST" ? {} : undefined), 400)
      expect(error.error.message).toMatch(/route/)
    }
  })

  it("moderations without a model and no route: a 400 naming model; a mock-kind model: a 400 naming the provider", async () => {
    expectOpenAIError(await client.post("/v1/moderations", { input: "hi" }), 400, { param: "model" })
    const ok = await client.post("/v1/moderations", { model: "moderator", input: "hi" })
    expect(ok.status).toBe(200)
    const mock = expectOpenAIError(await client.post("/v1/moderations", { model: "mocked", input: "hi" }), 400)
    expect(mock.error.message).toMatch(/fake/)
  })
})
