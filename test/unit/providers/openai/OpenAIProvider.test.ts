import { assert, it as effectIt } from "@effect/vitest"
import { Effect, Exit, Result, Stream } from "effect"
import { describe, expect, it } from "vitest"
import type { ResolvedProvider } from "../../../../src/config/Config.ts"
import { parseConfig } from "../../../../src/config/loadConfig.ts"
import type { ChunkReader } from "../../../../src/domain/ChunkReader.ts"
import { GatewayError } from "../../../../src/domain/GatewayError.ts"
import { findField } from "../../../../src/domain/MultipartField.ts"
import { makeUpload } from "../../../../src/domain/Upload.ts"
import { bytesReader } from "../../../../src/http/Exchange.ts"
import { VERSION } from "../../../../src/generated/version.ts"
import {
  make,
  parseJsonObject,
  upstreamHeaders,
  upstreamPayload
} from "../../../../src/providers/openai/OpenAIProvider.ts"
import { deploymentUrl, resourceUrl } from "../../../../src/providers/azure/AzureProvider.ts"
import type { ProviderRequest, ProviderResponse } from "../../../../src/providers/Provider.ts"
import { fetchClient, UpstreamClients, type UpstreamRequest } from "../../../../src/providers/UpstreamClients.ts"

/** The resolved `p` provider of a config whose provider entry has the given extra YAML fields. */
const provider = (fields: string): ResolvedProvider => {
  const text = `providers:
  - name: p
    kind: openai
    base_url: http://127.0.0.1:9001/v1
${fields
  .split("\n")
  .map((l) => `    ${l}`)
  .join("\n")}
models: [{ name: m, targets: [{ provider: p }] }]`
  const r = parseConfig(text, {}, "test.yaml")
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  const p = r.success.providers.get("p")
  if (p === undefined) throw new Error("no provider p")
  return p
}

const BASE = {
  "content-type": "application/json",
  "accept-encoding": "identity",
  "user-agent": `llmgate/${VERSION}`
}
const SSE = "text/event-stream"

describe("upstreamHeaders", () => {
  it("sends only the gateway's own headers without auth (never a client Authorization)", () => {
    for (const fields of ["", "auth: { type: none }", 'api_key: ""', 'auth: { type: bearer, token: "" }']) {
      expect(upstreamHeaders(provider(fields), SSE)).toEqual({ ...BASE, accept: SSE })
    }
    expect(upstreamHeaders(provider(""), "application/json")).toEqual({ ...BASE, accept: "application/json" })
  })

  it("bearer: api_key shorthand and auth.type bearer give the same Authorization", () => {
    const expected = { ...BASE, accept: SSE, authorization: "Bearer sk-up" }
    expect(upstreamHeaders(provider("api_key: sk-up"), SSE)).toEqual(expected)
    expect(upstreamHeaders(provider("auth: { type: bearer, token: sk-up }"), SSE)).toEqual(expected)
  })

  it("basic: base64 of username:password (UTF-8)", () => {
    expect(upstreamHeaders(provider("auth: { type: basic, username: user, password: pass }"), SSE).authorization).toBe(
      "Basic dXNlcjpwYXNz"
    )
    expect(upstreamHeaders(provider('auth: { type: basic, username: jörg, password: "p:w" }'), SSE).authorization).toBe(
      `Basic ${Buffer.from("jörg:p:w", "utf8").toString("base64")}`
    )
  })

  it("header: the named header (lower-cased) carries the value, no Authorization", () => {
    const h = upstreamHeaders(provider("auth: { type: header, name: X-Api-Key, value: k-123 }"), SSE)
    expect(h).toEqual({ ...BASE, accept: SSE, "x-api-key": "k-123" })
  })

  it("insert sets a header only when absent (the credential and the gateway's headers win)", () => {
    const h = upstreamHeaders(
      provider(`api_key: sk-up
headers:
  - { op: insert, key: X-Team, value: a }
  - { op: insert, key: X-Team, value: b }
  - { op: insert, key: Authorization, value: Bearer other }
  - { op: insert, key: Accept, value: text/plain }
  - { op: insert, key: Content-Type, value: text/plain }`),
      SSE
    )
    expect(h).toEqual({ ...BASE, accept: SSE, authorization: "Bearer sk-up", "x-team": "a" })
  })

  it("replace sets a header whatever was there, including the credential and the gateway's headers", () => {
    const h = upstreamHeaders(
      provider(`api_key: sk-up
headers:
  - { op: insert, key: X-Team, value: a }
  - { op: replace, key: x-team, value: b }
  - { op: replace, key: Authorization, value: Bearer other }
  - { op: replace, key: Accept-Encoding, value: gzip }`),
      SSE
    )
    expect(h).toEqual({
      "content-type": "application/json",
      "accept-encoding": "gzip",
      accept: SSE,
      "user-agent": `llmgate/${VERSION}`,
      authorization: "Bearer other",
      "x-team": "b"
    })
  })

  it("remove deletes a header; later operations see the result (order matters)", () => {
    const h = upstreamHeaders(
      provider(`auth: { type: header, name: X-Api-Key, value: k }
headers:
  - { op: remove, key: Accept-Encoding }
  - { op: remove, key: X-Api-Key }
  - { op: insert, key: X-Api-Key, value: k2 }
  - { op: replace, key: X-A, value: "1" }
  - { op: remove, key: X-A }
  - { op: remove, key: X-Never-Set }`),
      SSE
    )
    expect(h).toEqual({
      "content-type": "application/json",
      accept: SSE,
      "user-agent": `llmgate/${VERSION}`,
      "x-api-key": "k2"
    })
  })

  it("a headers map means replace for each entry", () => {
    const h = upstreamHeaders(
      provider(`api_key: sk-up
headers: { X-Extra: "1", Authorization: Bearer map }`),
      SSE
    )
    expect(h).toEqual({ ...BASE, accept: SSE, authorization: "Bearer map", "x-extra": "1" })
  })
})

/** A payload that must be bytes. */
const bytesOf = (payload: ReturnType<typeof upstreamPayload>): Uint8Array => {
  if (!(payload instanceof Uint8Array)) throw new Error("expected bytes")
  return payload
}

/** Everything a streamed body's reader gives. */
const readAll = async (reader: ChunkReader): Promise<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  for (let c = await reader.read(); c !== undefined; c = await reader.read()) chunks.push(c)
  return new Uint8Array(Buffer.concat(chunks))
}

describe("upstreamPayload", () => {
  const encoder = new TextEncoder()
  const request = (raw: string, upstreamModel: string): ProviderRequest => ({
    endpoint: "chat",
    body: JSON.parse(raw) as Record<string, unknown>,
    rawBody: encoder.encode(raw),
    upstreamModel,
    stream: false,
    requestId: "r"
  })

  it("reuses the client's raw bytes when the model is unchanged", () => {
    // Odd spacing and key order survive only if the bytes are reused as they are.
    const raw = `{ "messages" : [{"role":"user","content":"hi"}],"model":"gpt-4o",  "x_vendor": {"a": 1.0} }`
    const req = request(raw, "gpt-4o")
    expect(upstreamPayload(req)).toBe(req.rawBody)
  })

  it("re-serializes with the upstream model otherwise, keeping every other field", () => {
    const raw = `{"model":"public","messages":[{"role":"user","content":"hi"}],"stream":true,"x_vendor":{"a":[1,2]}}`
    const req = request(raw, "upstream-2024")
    const out = upstreamPayload(req)
    expect(out).not.toBe(req.rawBody)
    const text = new TextDecoder().decode(bytesOf(out))
    expect(JSON.parse(text)).toEqual({
      model: "upstream-2024",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      x_vendor: { a: [1, 2] }
    })
    // The model keeps its place.
    expect(text.startsWith(`{"model":"upstream-2024",`)).toBe(true)
  })

  it("adds the model when the body had none", () => {
    const out = upstreamPayload(request(`{"input":"x"}`, "embed-1"))
    expect(JSON.parse(new TextDecoder().decode(bytesOf(out)))).toEqual({ input: "x", model: "embed-1" })
  })

  it("files and batches: the body as sent, no model added", () => {
    const req = { ...request(`{"input_file_id":"file-1"}`, "up"), endpoint: "batches" as const, body: {} }
    expect(upstreamPayload(req)).toBe(req.rawBody)
  })

  it("a multipart upload: streamed, its head's model value replaced, the rest as it comes, the length adjusted", async () => {
    const form = (model: string) =>
      `--b\r\nContent-Disposition: form-data; name="model"\r\n\r\n${model}\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n\u0000\u00ff\r\n--b--\r\n`
    const whole = encoder.encode(form("public"))
    const field = findField(whole, "b", "model")
    if (field._tag !== "Found") return expect.fail("expected the model field")
    const headLength = field.end + 10
    const upload = makeUpload({
      client: bytesReader(whole.slice(headLength)),
      head: whole.slice(0, headLength),
      field,
      length: whole.length,
      replayLimit: 1024
    })
    const req: ProviderRequest = {
      endpoint: "audio_transcriptions",
      body: { model: "public" },
      rawBody: new Uint8Array(0),
      contentType: "multipart/form-data; boundary=b",
      upload,
      upstreamModel: "whisper-1",
      stream: false,
      requestId: "r"
    }
    const out = upstreamPayload(req)
    if (out instanceof Uint8Array || out instanceof GatewayError) return expect.fail("expected a stream")
    const expected = form("whisper-1")
    expect(out.length).toBe(encoder.encode(expected).length)
    expect(new TextDecoder().decode(await readAll(out.reader))).toBe(expected)
    // Within the replay bound: a second attempt sends the same bytes again.
    const again = upstreamPayload(req)
    if (again instanceof Uint8Array || again instanceof GatewayError) return expect.fail("expected a stream")
    expect(new TextDecoder().decode(await readAll(again.reader))).toBe(expected)
  })
})

describe("azure URLs", () => {
  it("a deployment's for model endpoints, the resource's for files and batches (the query after api-version)", () => {
    expect(deploymentUrl("https://r.example", "2024-10-21", "audio_speech", "tts dep")).toBe(
      "https://r.example/openai/deployments/tts%20dep/audio/speech?api-version=2024-10-21"
    )
    expect(resourceUrl("https://r.example", "2024-10-21", "files", "/file-1/content", "")).toBe(
      "https://r.example/openai/files/file-1/content?api-version=2024-10-21"
    )
    expect(resourceUrl("https://r.example", "2024-10-21", "batches", "", "?limit=2&after=b1")).toBe(
      "https://r.example/openai/batches?api-version=2024-10-21&limit=2&after=b1"
    )
  })
})

describe("OpenAIProvider.call", () => {
  /** A provider over the fetch client with a fake fetch that records what would go upstream and answers `answer`. */
  const withFakeClient = (config: ResolvedProvider, answer: () => Response, bodyLimit = 64 * 1024) => {
    const sent: Array<Omit<UpstreamRequest, "method"> & { readonly method: string }> = []
    const fakeFetch = (async (url: string, init: RequestInit) => {
      sent.push({
        url,
        method: init.method ?? "GET",
        headers: init.headers as Record<string, string>,
        body: init.body as Uint8Array
      })
      return answer()
    }) as unknown as typeof fetch
    const client = fetchClient(fakeFetch)
    const clients = UpstreamClients.of({
      get: () => Effect.succeed(client),
      retain: () => Effect.void,
      decodesBodies: true,
      enforcesConnectTimeout: false
    })
    return {
      sent,
      provider: make(config, { upstreamBodyLimit: bodyLimit }).pipe(Effect.provideService(UpstreamClients, clients))
    }
  }

  const sentHeaders = (request: Pick<UpstreamRequest, "headers">): Record<string, string> => ({ ...request.headers })

  effectIt.effect("sends exactly upstreamHeaders and upstreamPayload (nothing of the client's request headers)", () =>
    Effect.gen(function* () {
      const config = provider(`api_key: sk-up
headers:
  - { op: insert, key: X-Team, value: a }`)
      const { sent, provider: makeProvider } = withFakeClient(
        config,
        () =>
          new Response(`{"ok":true}`, {
            status: 200,
            headers: { "content-type": "application/json", "x-request-id": "up-1", connection: "keep-alive" }
          })
      )
      const p = yield* makeProvider
      const raw = `{"model":"m","messages":[]}`
      const response = yield* p.call({
        endpoint: "chat",
        body: JSON.parse(raw) as Record<string, unknown>,
        rawBody: new TextEncoder().encode(raw),
        upstreamModel: "m",
        stream: false,
        requestId: "r1"
      })
      assert.strictEqual(sent.length, 1)
      const request = sent[0]!
      assert.strictEqual(request.method, "POST")
      assert.strictEqual(request.url, "http://127.0.0.1:9001/v1/chat/completions")
      const headers = sentHeaders(request)
      assert.deepStrictEqual(headers, upstreamHeaders(config, "application/json"))
      assert.strictEqual(headers["authorization"], "Bearer sk-up")
      assert.strictEqual(new TextDecoder().decode(bytesOf(request.body)), raw)
      assert.strictEqual(response.status, 200)
      // Hop-by-hop dropped, the upstream request id renamed.
      assert.strictEqual(response.headers["connection"], undefined)
      assert.strictEqual(response.headers["x-upstream-request-id"], "up-1")
      if (response.body._tag !== "Buffered") return assert.fail("expected a buffered body")
      assert.strictEqual(new TextDecoder().decode(response.body.bytes), `{"ok":true}`)
    })
  )

  effectIt.effect("streams an SSE answer with the SSE accept header", () =>
    Effect.gen(function* () {
      const config = provider("auth: { type: none }")
      const { sent, provider: makeProvider } = withFakeClient(
        config,
        () => new Response("data: [DONE]\n\n", { status: 200, headers: { "content-type": "text/event-stream" } })
      )
      const p = yield* makeProvider
      const response = yield* p.call({
        endpoint: "completions",
        body: { model: "x" },
        rawBody: new TextEncoder().encode(`{"model":"x"}`),
        upstreamModel: "y",
        stream: true,
        requestId: "r"
      })
      assert.deepStrictEqual(sentHeaders(sent[0]!), upstreamHeaders(config, "text/event-stream"))
      assert.strictEqual(sent[0]!.url, "http://127.0.0.1:9001/v1/completions")
      if (response.body._tag !== "Stream") return assert.fail("expected a stream")
      const out = yield* Stream.runCollect(response.body.stream)
      assert.strictEqual(out.map((c) => new TextDecoder().decode(c)).join(""), "data: [DONE]\n\n")
    })
  )

  /** Calls provider `config` once (chat; a stream request when `stream`), answering with `answer`. */
  const callWith = (answer: () => Response, options: { readonly stream?: boolean; readonly bodyLimit?: number } = {}) =>
    Effect.gen(function* () {
      const { provider: makeProvider } = withFakeClient(provider("auth: { type: none }"), answer, options.bodyLimit)
      const p = yield* makeProvider
      const raw = `{"model":"m","messages":[]}`
      return yield* Effect.exit(
        p.call({
          endpoint: "chat",
          body: JSON.parse(raw) as Record<string, unknown>,
          rawBody: new TextEncoder().encode(raw),
          upstreamModel: "m",
          stream: options.stream === true,
          requestId: "r"
        })
      )
    })

  const protocolMessage = (exit: Exit.Exit<ProviderResponse, GatewayError>): string => {
    if (Exit.isSuccess(exit)) return assert.fail(`expected a failure, got ${exit.value.status}`)
    const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
    if (reason?._tag !== "Fail") return assert.fail("expected a typed failure")
    if (reason.error.reason._tag !== "UpstreamProtocol")
      return assert.fail(`expected UpstreamProtocol, got ${reason.error.reason._tag}`)
    assert.strictEqual(reason.error.reason.provider, "p")
    return reason.error.reason.message
  }

  /** A body that streams `size` bytes in 1 KiB chunks, counting what was pulled and whether it was cancelled. */
  const counted = (size: number) => {
    const state = { pulled: 0, cancelled: false }
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          const n = Math.min(1024, size - state.pulled)
          if (n <= 0) return controller.close()
          controller.enqueue(new Uint8Array(n).fill(0x20))
          state.pulled += n
        },
        cancel() {
          state.cancelled = true
        }
      },
      { highWaterMark: 0 }
    )
    return { stream, state }
  }

  describe("buffered answers", () => {
    const html = "<!doctype html><html><body>502 Bad Gateway</body></html>"

    effectIt.effect("a 2xx answer that is not a JSON object is UpstreamProtocol, never relayed", () =>
      Effect.gen(function* () {
        const cases: Array<[string, BodyInit, string, string]> = [
          [
            "html",
            html,
            "text/html; charset=utf-8",
            "it answered 200 with a body that is not JSON (content-type text/html; charset=utf-8)"
          ],
          [
            "truncated",
            `{"id":"x","choices":[{"mess`,
            "application/json",
            "it answered 200 with a body that is not JSON (content-type application/json)"
          ],
          [
            "array",
            "[1,2]",
            "application/json",
            "it answered 200 with JSON that is not an object (content-type application/json)"
          ],
          [
            "null",
            "null",
            "application/json",
            "it answered 200 with JSON that is not an object (content-type application/json)"
          ],
          ["empty", "", "application/json", "it answered 200 with an empty body (content-type application/json)"],
          [
            "not utf-8",
            new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
            "application/json",
            "it answered 200 with a body that is not valid UTF-8 (content-type application/json)"
          ]
        ]
        for (const [label, body, type, message] of cases) {
          const exit = yield* callWith(() => new Response(body, { status: 200, headers: { "content-type": type } }))
          assert.strictEqual(protocolMessage(exit), message, label)
        }
      })
    )

    effectIt.effect("a JSON object is relayed byte for byte, whatever its content-type, with its parsed value", () =>
      Effect.gen(function* () {
        const text = `{ "id": "x",  "usage": {"total_tokens": 3} }`
        const exit = yield* callWith(
          () => new Response(text, { status: 200, headers: { "content-type": "text/plain" } })
        )
        if (Exit.isFailure(exit)) return assert.fail("expected an answer")
        if (exit.value.body._tag !== "Buffered") return assert.fail("expected a buffered body")
        assert.strictEqual(new TextDecoder().decode(exit.value.body.bytes), text)
        assert.deepStrictEqual(exit.value.body.json, { id: "x", usage: { total_tokens: 3 } })
      })
    )

    effectIt.effect(
      "an error answer keeps its status and Retry-After: relayed when a JSON object, else with a body of the gateway's own",
      () =>
        Effect.gen(function* () {
          const error = { error: { message: "boom", type: "server_error", param: null, code: null } }
          const relayed = yield* callWith(() => Response.json(error, { status: 503, headers: { "retry-after": "2" } }))
          if (Exit.isFailure(relayed)) return assert.fail("expected the error answer")
          assert.strictEqual(relayed.value.status, 503)
          assert.strictEqual(relayed.value.headers["retry-after"], "2")
          if (relayed.value.body._tag !== "Buffered") return assert.fail("expected a buffered body")
          assert.deepStrictEqual(relayed.value.body.json, error)
          for (const status of [400, 404, 429, 500, 502]) {
            const exit = yield* callWith(
              () =>
                new Response(html, {
                  status,
                  headers: { "content-type": "text/html", "content-encoding": "identity", "retry-after": "3" }
                })
            )
            if (Exit.isFailure(exit)) return assert.fail(`expected the ${status} answer`)
            const answer = exit.value
            assert.strictEqual(answer.status, status)
            assert.strictEqual(answer.headers["retry-after"], "3")
            assert.strictEqual(answer.headers["content-type"], "application/json")
            assert.strictEqual(answer.headers["content-encoding"], undefined)
            if (answer.body._tag !== "Buffered") return assert.fail("expected a buffered body")
            const text = new TextDecoder().decode(answer.body.bytes)
            assert.notInclude(text, "Bad Gateway")
            assert.deepStrictEqual(JSON.parse(text), answer.body.json)
            assert.deepStrictEqual(answer.body.json, {
              error: {
                message: `Provider \`p\` answered ${status} with a body that is not JSON (content-type text/html).`,
                type: status >= 500 ? "api_error" : "invalid_request_error",
                param: null,
                code: "provider_error"
              }
            })
          }
        })
    )

    effectIt.effect("a non-SSE answer to a stream request is checked the same way", () =>
      Effect.gen(function* () {
        const exit = yield* callWith(
          () => new Response(html, { status: 200, headers: { "content-type": "text/html" } }),
          { stream: true }
        )
        assert.strictEqual(
          protocolMessage(exit),
          "it answered 200 with a body that is not JSON (content-type text/html)"
        )
        const error = yield* callWith(() => new Response("upstream connect error", { status: 503 }), { stream: true })
        if (Exit.isFailure(error)) return assert.fail("expected the 503 answer")
        assert.strictEqual(error.value.status, 503)
        assert.deepInclude(error.value.body._tag === "Buffered" ? error.value.body.json : {}, {
          error: {
            message: "Provider `p` answered 503 with a body that is not JSON (content-type text/plain;charset=UTF-8).",
            type: "api_error",
            param: null,
            code: "provider_error"
          }
        })
      })
    )

    effectIt.effect("a body over upstream_body_limit fails without being read on, and is let go", () =>
      Effect.gen(function* () {
        const tooLarge = "the response body is larger than 4 KiB (server.upstream_body_limit)"
        // Declared: refused before reading anything.
        const declared = counted(10 * 1024)
        const first = yield* callWith(
          () => new Response(declared.stream, { status: 200, headers: { "content-length": String(10 * 1024) } }),
          { bodyLimit: 4096 }
        )
        assert.strictEqual(protocolMessage(first), tooLarge)
        assert.strictEqual(declared.state.pulled, 0)
        assert.isTrue(declared.state.cancelled)
        // Not declared (chunked): read up to just past the limit, then cancelled.
        const chunked = counted(1024 * 1024)
        const second = yield* callWith(() => new Response(chunked.stream, { status: 200 }), { bodyLimit: 4096 })
        assert.strictEqual(protocolMessage(second), tooLarge)
        assert.isAtMost(chunked.state.pulled, 4096 + 2 * 1024)
        assert.isTrue(chunked.state.cancelled)
        // The same for an error answer.
        const error = counted(10 * 1024)
        const third = yield* callWith(() => new Response(error.stream, { status: 500 }), { bodyLimit: 4096 })
        assert.strictEqual(protocolMessage(third), tooLarge)
      })
    )

    effectIt.effect("a body of exactly upstream_body_limit is fine", () =>
      Effect.gen(function* () {
        const body = `{"pad":"${"x".repeat(4096 - 10)}"}`
        assert.strictEqual(body.length, 4096)
        const exit = yield* callWith(() => new Response(body, { status: 200 }), { bodyLimit: 4096 })
        assert.isTrue(Exit.isSuccess(exit))
      })
    )
  })
})

describe("parseJsonObject", () => {
  it("accepts JSON objects only (with a UTF-8 byte order mark too), and says what else it got", () => {
    const enc = (s: string) => new TextEncoder().encode(s)
    expect(parseJsonObject(enc(`{"a":[1,{"b":null}]}`))).toEqual(Result.succeed({ a: [1, { b: null }] }))
    expect(parseJsonObject(new Uint8Array([0xef, 0xbb, 0xbf, ...enc(`{"a":1}`)]))).toEqual(Result.succeed({ a: 1 }))
    expect(parseJsonObject(enc(""))).toEqual(Result.fail("an empty body"))
    expect(parseJsonObject(enc(`"text"`))).toEqual(Result.fail("JSON that is not an object"))
    expect(parseJsonObject(enc(`{"a":1} trailing`))).toEqual(Result.fail("a body that is not JSON"))
    expect(parseJsonObject(new Uint8Array([0x7b, 0xc3, 0x7d]))).toEqual(Result.fail("a body that is not valid UTF-8"))
  })
})
