// The Web handler's connection bounds (Bun and Deno): a request head over the limit is refused
// before the app runs; a streamed answer the client stops taking is cut off after the stall time,
// its stream interrupted (finalizers run: the upstream is cancelled, slots released); the runtime's
// idle timer is held while a request is worked on and released once its answer is handed over.
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as References from "effect/References"
import * as Stream from "effect/Stream"
import { describe, expect, it } from "vitest"
import type { App, OutgoingResponse } from "../../../src/http/Exchange.ts"
import { headSize, toWebHandler, type WebHandlerOptions } from "../../../src/http/WebHandler.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const quiet = Context.make(References.MinimumLogLevel, "None")
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls until `check` holds (or fails the test after `ms`). */
const eventually = async (check: () => boolean, ms = 2_000): Promise<void> => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached")
    await sleep(5)
  }
}

/** The connection hooks, recording what the handler asked of the runtime. */
const recorder = () => {
  const calls: Array<string> = []
  return {
    calls,
    connection: {
      hold: () => void calls.push("hold"),
      release: () => void calls.push("release"),
      cut: () => void calls.push("cut")
    }
  }
}

/** An app that reads the body, then answers `answer`; `ran` tells whether it ran. */
const appAnswering = (answer: () => OutgoingResponse) => {
  const state = { ran: false }
  const app: App = (request) =>
    request.body(1024).pipe(
      Effect.map(() => {
        state.ran = true
        return answer()
      }),
      Effect.orDie
    )
  return { app, state }
}

/** A stream without end whose finalizer records that it ran (an upstream cancelled, slots released). */
const endless = () => {
  const state = { finalized: false }
  const body = Stream.forever(Stream.succeed(encoder.encode("data: x\n\n"))).pipe(
    Stream.ensuring(
      Effect.sync(() => {
        state.finalized = true
      })
    )
  )
  return { body, state }
}

const streamed = (body: Stream.Stream<Uint8Array>): OutgoingResponse => ({
  status: 200,
  headers: { "content-type": "text/event-stream", "x-request-id": "req-1" },
  body
})

const options = (over: Partial<WebHandlerOptions> = {}): WebHandlerOptions => ({
  context: quiet,
  headerLimit: 1024,
  stallTimeoutMs: 50,
  ...over
})

const post = (headers: Record<string, string> = {}) =>
  new Request("http://gateway.test/v1/chat/completions", { method: "POST", headers, body: "{}" })

describe("toWebHandler: request head", () => {
  it("measures the head about as on the wire: request line and header lines with their CRLFs", () => {
    const request = new Request("http://gateway.test/x?y=1", { headers: { ab: "cde" } })
    // "GET /x?y=1 HTTP/1.1\r\n" + "ab: cde\r\n" + "\r\n"
    expect(headSize(request, "/x?y=1")).toBe(21 + 9 + 2)
  })

  it("refuses a head over the limit with 431 in OpenAI's shape, stating the limit, before the app runs", async () => {
    const { app, state } = appAnswering(() => streamed(Stream.empty))
    const handler = toWebHandler(app, options())
    const r = await handler(post({ "x-pad": "a".repeat(1024) }))
    expect(r.status).toBe(431)
    expect(r.headers.get("x-request-id")).toBeTruthy()
    expect(await r.json()).toEqual({
      error: {
        message: "Request line and headers exceed the limit of 1 KiB.",
        type: "invalid_request_error",
        param: null,
        code: "request_header_fields_too_large"
      }
    })
    expect(state.ran).toBe(false)
  })

  it("serves a head under the limit, and measures nothing when the runtime's own limit is the lower one", async () => {
    const ok = () => ({ status: 200, headers: {}, body: encoder.encode("ok") })
    expect((await toWebHandler(appAnswering(ok).app, options())(post({ "x-pad": "a".repeat(900) }))).status).toBe(200)
    const unmeasured = toWebHandler(appAnswering(ok).app, options({ headerLimit: undefined }))
    expect((await unmeasured(post({ "x-pad": "a".repeat(4096) }))).status).toBe(200)
  })
})

describe("toWebHandler: a client that stops reading a stream", () => {
  it("is cut off after the stall time: the stream is interrupted (its finalizers run) and the body errored", async () => {
    const { body, state } = endless()
    const hooks = recorder()
    const handler = toWebHandler(appAnswering(() => streamed(body)).app, options({ connection: hooks.connection }))
    const r = await handler(post())
    const reader = r.body!.getReader()
    expect(decoder.decode((await reader.read()).value)).toBe("data: x\n\n")
    // The client reads no more: a chunk waits, then the watchdog fires.
    await eventually(() => state.finalized)
    await expect(reader.read()).rejects.toBeUndefined()
    expect(hooks.calls).toEqual(["hold", "cut"])
  })

  it("is not cut while it keeps reading, however long the stream", async () => {
    const { body, state } = endless()
    const handler = toWebHandler(appAnswering(() => streamed(body)).app, options({ stallTimeoutMs: 200 }))
    const reader = (await handler(post())).body!.getReader()
    const end = Date.now() + 500
    let chunks = 0
    while (Date.now() < end) {
      await reader.read()
      chunks++
      await sleep(5)
    }
    expect(chunks).toBeGreaterThan(10)
    expect(state.finalized).toBe(false)
    await reader.cancel()
    await eventually(() => state.finalized)
  })

  it("a client that leaves stops the stream, with nothing cut or released", async () => {
    const { body, state } = endless()
    const hooks = recorder()
    const handler = toWebHandler(appAnswering(() => streamed(body)).app, options({ connection: hooks.connection }))
    const reader = (await handler(post())).body!.getReader()
    await reader.read()
    await reader.cancel()
    await eventually(() => state.finalized)
    expect(hooks.calls).toEqual(["hold"])
  })
})

describe("toWebHandler: the runtime's idle timer", () => {
  it("is held once the body is read and released when a stream has ended", async () => {
    const hooks = recorder()
    const body = Stream.make(encoder.encode("a"), encoder.encode("b"))
    const handler = toWebHandler(appAnswering(() => streamed(body)).app, options({ connection: hooks.connection }))
    const r = await handler(post())
    expect(hooks.calls).toEqual(["hold"])
    expect(await r.text()).toBe("ab")
    expect(hooks.calls).toEqual(["hold", "release"])
  })

  it("is released as a buffered answer is handed over", async () => {
    const hooks = recorder()
    const handler = toWebHandler(
      appAnswering(() => ({ status: 200, headers: {}, body: encoder.encode("done") })).app,
      options({ connection: hooks.connection })
    )
    const r = await handler(post())
    expect(hooks.calls).toEqual(["hold", "release"])
    expect(await r.text()).toBe("done")
  })

  it("is left alone for a request whose body is never read", async () => {
    const hooks = recorder()
    const app: App = () => Effect.succeed({ status: 200, headers: {}, body: encoder.encode("ok") })
    const r = await toWebHandler(
      app,
      options({ connection: hooks.connection })
    )(new Request("http://gateway.test/health"))
    expect(await r.text()).toBe("ok")
    expect(hooks.calls).toEqual([])
  })
})
