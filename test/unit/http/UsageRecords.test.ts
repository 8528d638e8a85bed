// Usage records of proxied requests: the record built for every way a request ends (answered with
// JSON, an error answer, a handler error, a client that left, a defect; a stream completed, failed
// midway or cancelled), priced by the snapshot's price book, handed to the sink once.
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { describe, expect, it } from "vitest"
import { MASTER, type Principal } from "../../../src/auth/Auth.ts"
import type { ResolvedKey } from "../../../src/config/Config.ts"
import { gatewayError, type GatewayError } from "../../../src/domain/GatewayError.ts"
import { NO_USAGE, type UsageRecord } from "../../../src/domain/Usage.ts"
import type { OutgoingResponse } from "../../../src/http/Exchange.ts"
import {
  type Arrival,
  buildRecord,
  CLIENT_CLOSED,
  type Progress,
  recordedStream,
  recordHandlerExit,
  startProgress,
  type StreamRecording,
  type UsageServices
} from "../../../src/http/UsageRecords.ts"
import { makePriceBook } from "../../../src/usage/PriceBook.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const prices = makePriceBook(
  {
    models: new Map(),
    pricing: new Map([["up-model", { input: 1, cache_read: 0.5, cache_write: 0, reasoning: 4, output: 4 }]])
  },
  new Map()
)

const setup = () => {
  const records: Array<UsageRecord> = []
  const usage: UsageServices = {
    sink: {
      enabled: true,
      begin: () => {},
      record: (r) => {
        records.push(r)
      }
    }
  }
  return { records, usage }
}

const key = { id: "k1", projectId: "p1", userId: "u1" } as unknown as ResolvedKey
const virtual: Principal = { _tag: "VirtualKey", key }
const arrival = (principal: Principal = virtual): Arrival => ({
  requestId: "r1",
  atMs: 1_000,
  principal,
  endpoint: "chat"
})
const served = (): Progress => ({
  ...startProgress(0),
  model: "public",
  attempts: 2,
  provider: "p",
  upstreamModel: "up-model"
})
const BODY = { model: "public", messages: [{ role: "user", content: "12345678" }] }
const json = (status: number, body: unknown): OutgoingResponse => ({
  status,
  headers: {},
  body: encoder.encode(JSON.stringify(body))
})

describe("buildRecord", () => {
  it("names the key, project and user; null for the master key; prices the tokens", () => {
    const ending = {
      model: "public",
      provider: "p",
      upstreamModel: "up-model",
      measured: {
        tokens: { input: 1_000_000, cache_read: 0, cache_write: 0, reasoning: 0, output: 500_000 },
        estimated: false
      },
      status: 200,
      outcome: "ok" as const,
      attempts: 1,
      latencyMs: 5,
      ttftMs: null,
      stream: false,
      observed: {
        model: "public",
        tries: [{ provider: "p", outcome: "ok" as const, ms: 4.5 }],
        upstreamMs: 4.5,
        overheadMs: 0.5
      }
    }
    expect(buildRecord(arrival(), ending, prices)).toEqual({
      request_id: "r1",
      at_ms: 1_000,
      key_id: "k1",
      project_id: "p1",
      user_id: "u1",
      endpoint: "chat",
      model: "public",
      provider: "p",
      upstream_model: "up-model",
      tokens: ending.measured.tokens,
      estimated: false,
      cost_usd: 3,
      status: 200,
      outcome: "ok",
      attempts: 1,
      latency_ms: 5,
      ttft_ms: null,
      stream: false,
      observed: ending.observed
    })
    const master = buildRecord(arrival(MASTER), { ...ending, upstreamModel: null, provider: null }, prices)
    expect([master.key_id, master.project_id, master.user_id, master.cost_usd]).toEqual([null, null, null, null])
  })
})

describe("recordHandlerExit", () => {
  const record = (exit: Exit.Exit<OutgoingResponse, GatewayError>, progress: Progress) => {
    const { records, usage } = setup()
    Effect.runSync(recordHandlerExit(exit, arrival(), progress, usage, prices, 1_250))
    return records
  }

  it("a JSON answer: the usage the provider reported, ok, latency from arrival", () => {
    const reply = {
      choices: [{ message: { content: "hi" } }],
      usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 }
    }
    const progress: Progress = {
      ...served(),
      buffered: { json: reply, request: { endpoint: "chat", body: BODY, upstreamModel: "up-model" } }
    }
    const [r, ...more] = record(Exit.succeed(json(200, reply)), progress)
    expect(more).toEqual([])
    expect(r).toMatchObject({
      tokens: { input: 10, cache_read: 0, cache_write: 0, reasoning: 0, output: 4 },
      estimated: false,
      status: 200,
      outcome: "ok",
      attempts: 2,
      provider: "p",
      upstream_model: "up-model",
      latency_ms: 250,
      ttft_ms: null,
      stream: false
    })
  })

  it("a JSON answer without usage is estimated from the request and the answer's text", () => {
    const reply = { choices: [{ message: { content: "abcdefgh" } }] }
    const progress: Progress = {
      ...served(),
      buffered: { json: reply, request: { endpoint: "chat", body: BODY, upstreamModel: "up-model" } }
    }
    const [r] = record(Exit.succeed(json(200, reply)), progress)
    expect(r?.estimated).toBe(true)
    expect(r?.tokens.output).toBe(2)
    expect(r?.tokens.input).toBeGreaterThan(0)
  })

  it("an error answer (relayed or the gateway's): no usage, outcome error, its status", () => {
    const progress: Progress = {
      ...served(),
      buffered: { json: { error: {} }, request: { endpoint: "chat", body: BODY, upstreamModel: "up-model" } }
    }
    expect(record(Exit.succeed(json(500, { error: {} })), progress)).toMatchObject([
      { tokens: NO_USAGE, estimated: false, status: 500, outcome: "error", provider: "p" }
    ])
    expect(record(Exit.succeed(json(429, { error: {} })), { ...startProgress(0), model: "public" })).toMatchObject([
      { tokens: NO_USAGE, status: 429, outcome: "error", provider: null, upstream_model: null, cost_usd: null }
    ])
  })

  it("a handler error: the error's status; a client that left: cancelled, 499; a defect: 500", () => {
    const p = { ...startProgress(0), model: "public" }
    expect(record(Exit.fail(gatewayError({ _tag: "ModelNotFound", model: "public" })), p)).toMatchObject([
      { status: 404, outcome: "error" }
    ])
    expect(record(Exit.interrupt(1), p)).toMatchObject([
      { status: CLIENT_CLOSED, outcome: "cancelled", tokens: NO_USAGE }
    ])
    expect(record(Exit.die(new Error("boom")), p)).toMatchObject([{ status: 500, outcome: "error" }])
  })

  it("a streamed answer is left to its stream", () => {
    const streamed: OutgoingResponse = { status: 200, headers: {}, body: Stream.make(encoder.encode("x")) }
    expect(record(Exit.succeed(streamed), served())).toEqual([])
  })
})

describe("recordedStream", () => {
  const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`
  const content = (text: string) =>
    event({ choices: [{ index: 0, delta: { content: text }, finish_reason: null }], usage: null })
  const USAGE = event({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } })
  const DONE = "data: [DONE]\n\n"

  const recording = (usage: UsageServices, options: Partial<StreamRecording> = {}): StreamRecording => {
    let now = 1_000
    return {
      arrival: arrival(),
      progress: { ...served(), stream: true },
      status: 200,
      request: { endpoint: "chat", body: BODY, upstreamModel: "up-model" },
      usageRequested: true,
      clientAsked: false,
      lineLimit: 1 << 16,
      usage,
      prices,
      // Every read of the clock is 10 ms later.
      clock: { currentTimeMillisUnsafe: () => (now += 10) } as StreamRecording["clock"],
      ...options
    }
  }
  const chunks = (...parts: Array<string>) => Stream.fromIterable(parts.map((p) => encoder.encode(p)))
  const text = (bytes: ReadonlyArray<Uint8Array>) => bytes.map((b) => decoder.decode(b)).join("")

  it("completed: the upstream's usage, the usage chunk taken out (the client did not ask), ttft and latency", async () => {
    const { records, usage } = setup()
    const recorded = recordedStream(chunks(content("Hel"), content("lo"), USAGE, DONE), recording(usage))
    const out = await Effect.runPromise(Stream.runCollect(recorded.stream))
    expect(text(out)).toBe(content("Hel") + content("lo") + DONE)
    expect(recorded.totalTokens()).toBe(12)
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({
      tokens: { input: 9, cache_read: 0, cache_write: 0, reasoning: 0, output: 3 },
      estimated: false,
      outcome: "ok",
      status: 200,
      stream: true,
      ttft_ms: 10,
      latency_ms: 20,
      attempts: 2
    })
  })

  it("the client asked for the usage chunk: relayed", async () => {
    const { usage } = setup()
    const recorded = recordedStream(chunks(content("Hi"), USAGE, DONE), recording(usage, { clientAsked: true }))
    expect(text(await Effect.runPromise(Stream.runCollect(recorded.stream)))).toBe(content("Hi") + USAGE + DONE)
  })

  it("failed midway: recorded as an error, billed for what was generated (estimated)", async () => {
    const { records, usage } = setup()
    const broken = Stream.concat(
      chunks(content("abcdefgh")),
      Stream.fail(gatewayError({ _tag: "UpstreamProtocol", provider: "p", message: "cut" }))
    )
    const recorded = recordedStream(broken, recording(usage))
    const exit = await Effect.runPromiseExit(Stream.runDrain(recorded.stream))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(records).toMatchObject([{ outcome: "error", estimated: true, status: 200 }])
    expect(records[0]?.tokens.output).toBe(2)
    expect(recorded.totalTokens()).toBe((records[0]?.tokens.input ?? 0) + 2)
  })

  it("cancelled by the client: recorded as cancelled, estimated", async () => {
    const { records, usage } = setup()
    const recorded = recordedStream(Stream.concat(chunks(content("abcd")), Stream.never), recording(usage))
    const fiber = Effect.runFork(Stream.runDrain(recorded.stream))
    await Effect.runPromise(Effect.yieldNow)
    expect(records).toEqual([])
    await Effect.runPromise(Fiber.interrupt(fiber))
    expect(records).toMatchObject([{ outcome: "cancelled", estimated: true, ttft_ms: 10 }])
    expect(records[0]?.tokens.output).toBe(1)
  })

  it("an error status relayed as a stream: no usage, outcome error", async () => {
    const { records, usage } = setup()
    const recorded = recordedStream(chunks(content("x"), DONE), recording(usage, { status: 400 }))
    await Effect.runPromise(Stream.runDrain(recorded.stream))
    expect(records).toMatchObject([{ outcome: "error", status: 400, tokens: NO_USAGE, estimated: false }])
  })
})

// A `/v1/responses` stream passed through: its bytes go as they came (split anywhere), its usage is
// its terminal event's `response.usage` in the Responses API's names, and a stream cut before that
// event is estimated from its text deltas (not from the `*.done` events that repeat them).
describe("recordedStream of a passed-through Responses stream", () => {
  const event = (value: Record<string, unknown>) =>
    `event: ${String(value["type"])}\ndata: ${JSON.stringify(value)}\n\n`
  const created = event({ type: "response.created", response: { id: "resp_1", status: "in_progress", usage: null } })
  const delta = (text: string) => event({ type: "response.output_text.delta", item_id: "m", delta: text })
  const done = event({ type: "response.output_text.done", item_id: "m", text: "abcdefgh" })
  // 20 in (8 of them cached), 10 out (4 of them reasoning).
  const USAGE = {
    total_tokens: 30,
    input_tokens: 20,
    output_tokens: 10,
    input_tokens_details: { cached_tokens: 8 },
    output_tokens_details: { reasoning_tokens: 4 }
  }
  const terminal = (type: string) => event({ type, response: { id: "resp_1", status: "x", usage: USAGE } })

  const recording = (usage: UsageServices): StreamRecording => ({
    arrival: { ...arrival(), endpoint: "responses" },
    progress: { ...served(), stream: true },
    status: 200,
    request: { endpoint: "responses", body: { model: "m", input: "abcdefghijklmnop" }, upstreamModel: "up-model" },
    usageRequested: false,
    clientAsked: false,
    lineLimit: 1 << 16,
    usage,
    prices,
    clock: { currentTimeMillisUnsafe: () => 1_000 } as StreamRecording["clock"]
  })

  for (const type of ["response.completed", "response.incomplete", "response.failed"]) {
    it(`${type}: its usage (cached and reasoning apart), every byte relayed as it came`, async () => {
      const { records, usage } = setup()
      const sent = created + delta("abcd") + delta("efgh") + done + terminal(type)
      // Cut mid-event, as a network would.
      const pieces = [sent.slice(0, 7), sent.slice(7, 150), sent.slice(150)]
      const recorded = recordedStream(Stream.fromIterable(pieces.map((p) => encoder.encode(p))), recording(usage))
      const out = await Effect.runPromise(Stream.runCollect(recorded.stream))
      expect(out.map((b) => decoder.decode(b))).toEqual(pieces)
      expect(recorded.totalTokens()).toBe(30)
      expect(records).toMatchObject([
        {
          endpoint: "responses",
          tokens: { input: 12, cache_read: 8, cache_write: 0, reasoning: 4, output: 6 },
          estimated: false,
          outcome: "ok",
          stream: true
        }
      ])
      expect(records[0]?.cost_usd).toBeGreaterThan(0)
    })
  }

  it("cut before its terminal event: estimated from its text deltas, once each", async () => {
    const { records, usage } = setup()
    const broken = Stream.concat(
      Stream.fromIterable([created, delta("abcd"), delta("efgh"), done].map((p) => encoder.encode(p))),
      Stream.fail(gatewayError({ _tag: "UpstreamTimeout", provider: "p", after_ms: 1 }))
    )
    const recorded = recordedStream(broken, recording(usage))
    expect(Exit.isFailure(await Effect.runPromiseExit(Stream.runDrain(recorded.stream)))).toBe(true)
    // "abcdefgh": 2 tokens at 4 characters a token; the input's 16 characters: 4.
    expect(records).toMatchObject([{ outcome: "error", estimated: true, tokens: { input: 4, output: 2 } }])
    expect(recorded.totalTokens()).toBe(6)
  })
})
