/**
 * The built-in `mock` provider: deterministic chat and text completions (JSON and SSE, with usage),
 * embeddings, and optional latency, chunking and failure rate, so the gateway is useful for
 * development and tests without a provider account. Nothing here touches the network. For fault
 * injection, `crash_rate` makes the worker thread serving a request crash (see `crash`).
 *
 * Bounded like a real provider: what it builds grows at most linearly with the request (itself
 * capped by `server.body_limit`) and its config (`chunks` ≤ 10,000), never with a product of the
 * two; embeddings take at most 2,048 inputs of at most 4,096 dimensions (OpenAI's own limits are
 * lower), and token counting and chunking walk the text without copying it word by word.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Stream from "effect/Stream"
import type { ResolvedProvider } from "../../config/Config.ts"
import { errorBody, type GatewayError, type GatewayErrorReason, gatewayError } from "../../domain/GatewayError.ts"
import { DONE, encodeEvent, SSE_CONTENT_TYPE } from "../../streaming/Sse.ts"
import { classifyOpenAIEvent, OPENAI_STREAM_TERMINATOR } from "../openai/events.ts"
import type { Provider, ProviderRequest, ProviderResponse } from "../Provider.ts"
import { mockKind } from "./Kind.ts"

const encoder = new TextEncoder()
const JSON_HEADERS = { "content-type": "application/json" }
const SSE_HEADERS = { "content-type": SSE_CONTENT_TYPE, "cache-control": "no-cache" }
/** Most inputs of one embeddings request (each one gets a vector of up to 4,096 numbers). */
export const MAX_EMBEDDING_INPUTS = 2048

/** Whether a UTF-16 code unit is white space as `\s` in a regular expression means it. */
const isSpace = (c: number): boolean =>
  c === 32 ||
  (c >= 9 && c <= 13) ||
  c === 0xa0 ||
  c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) ||
  c === 0x2028 ||
  c === 0x2029 ||
  c === 0x202f ||
  c === 0x205f ||
  c === 0x3000 ||
  c === 0xfeff

/** Whitespace-separated words: the mock's deterministic token count (counted, not split out). */
export const countTokens = (text: string): number => {
  let words = 0
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i))
    if (!space && !inWord) words++
    inWord = !space
  }
  return words
}

/** The text of a message's `content`: a string, or the text parts of a content array. */
const contentText = (content: unknown): string => {
  if (typeof content === "string") return content
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        part !== null && typeof part === "object" && "text" in part && typeof part.text === "string" ? part.text : ""
      )
      .filter((t) => t !== "")
      .join(" ")
  }
  return ""
}

/** OpenAI-shaped usage for a prompt and its completion. */
const usageOf = (prompt: string, completion: string): Record<string, number> => {
  const prompt_tokens = countTokens(prompt)
  const completion_tokens = countTokens(completion)
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens }
}

const inputTexts = (input: unknown): ReadonlyArray<string> => {
  if (typeof input === "string") return [input]
  if (Array.isArray(input)) {
    if (input.every((x) => typeof x === "number")) return [input.join(" ")]
    return input.map((x: unknown) => (typeof x === "string" ? x : Array.isArray(x) ? x.join(" ") : String(x)))
  }
  return [""]
}

/**
 * Splits `text` into `n` pieces (fewer only when the text has fewer than `n` characters), as even
 * as possible by code point; concatenated they equal `text`.
 */
export const splitContent = (text: string, n: number): ReadonlyArray<string> => {
  /** Code points in `text`, and the UTF-16 offset after `k` of them (walked forward only once). */
  let length = 0
  for (let i = 0; i < text.length; i++, length++) if (isHighSurrogateAt(text, i)) i++
  const count = Math.max(1, Math.min(n, length))
  const pieces: Array<string> = []
  let offset = 0
  let seen = 0
  const advanceTo = (k: number) => {
    for (; seen < k; seen++) offset += isHighSurrogateAt(text, offset) ? 2 : 1
    return offset
  }
  let from = 0
  for (let i = 0; i < count; i++) {
    const to = advanceTo(Math.floor(((i + 1) * length) / count))
    pieces.push(text.slice(from, to))
    from = to
  }
  return pieces
}

/** A surrogate pair starts at `i`. */
const isHighSurrogateAt = (text: string, i: number): boolean => {
  const c = text.charCodeAt(i)
  if (c < 0xd800 || c > 0xdbff) return false
  const d = text.charCodeAt(i + 1)
  return d >= 0xdc00 && d <= 0xdfff
}

/** A deterministic unit-length vector for a text (FNV-1a seeded xorshift). */
export const embed = (text: string, dimensions: number): ReadonlyArray<number> => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  const out: Array<number> = []
  let s = h || 1
  for (let i = 0; i < dimensions; i++) {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    out.push((s / 0xffffffff) * 2 - 1)
  }
  const norm = Math.sqrt(out.reduce((a, x) => a + x * x, 0)) || 1
  return out.map((x) => Number((x / norm).toFixed(6)))
}

const publicModel = (request: ProviderRequest): string =>
  typeof request.body["model"] === "string" ? request.body["model"] : request.upstreamModel

/**
 * Fault injection (`crash_rate`): an error thrown outside any request, as an escaping defect would
 * be, which ends the worker thread serving the request (the owner restarts it; with one worker the
 * whole gateway ends). The request itself never answers: its connection dies with the worker.
 */
const crash = (provider: string): Effect.Effect<never> =>
  Effect.andThen(
    Effect.sync(() => {
      setTimeout(() => {
        throw new Error(`mock provider ${provider}: injected worker crash (crash_rate)`)
      }, 0)
    }),
    Effect.never
  )

export const make = (config: ResolvedProvider): Provider => {
  // Resolved for every mock provider; the defaults otherwise.
  const { latencyMs, chunks, chunkIntervalMs, failureRate, crashRate } = config.mock ?? mockKind.resolve({}).mock
  const json = (value: Readonly<Record<string, unknown>>, status = 200): ProviderResponse => ({
    status,
    headers: JSON_HEADERS,
    body: { _tag: "Buffered", bytes: encoder.encode(JSON.stringify(value)), json: value }
  })
  const errorResponse = (status: number, reason: GatewayErrorReason): ProviderResponse =>
    json(errorBody(reason), status)

  const reply = (request: ProviderRequest, prompt: string): string =>
    `Mock reply from ${request.upstreamModel}: ${prompt}`

  const streamed = (
    content: string,
    usage: Record<string, number>,
    frame: (delta: string | null, first: boolean, finish: boolean) => unknown
  ): ProviderResponse => {
    const pieces = splitContent(content, chunks)
    const head = encodeEvent(frame(null, true, false))
    const last = encodeEvent({ ...(frame(null, false, true) as Record<string, unknown>), usage })
    const body = Stream.fromIterable(pieces).pipe(
      Stream.mapEffect((piece) => Effect.as(Effect.sleep(chunkIntervalMs), encodeEvent(frame(piece, false, false)))),
      Stream.prepend([head]),
      Stream.concat(Stream.fromIterable([last, DONE]))
    )
    return { status: 200, headers: SSE_HEADERS, body: { _tag: "Stream", stream: body } }
  }

  const chat = (request: ProviderRequest, id: string, created: number): ProviderResponse => {
    const messages = Array.isArray(request.body["messages"]) ? request.body["messages"] : []
    const prompt = messages
      .map((m: unknown) => (m !== null && typeof m === "object" && "content" in m ? contentText(m.content) : ""))
      .join(" ")
    const lastMessage: unknown = messages.at(-1)
    const lastText =
      lastMessage !== null && typeof lastMessage === "object" && lastMessage !== undefined && "content" in lastMessage
        ? contentText(lastMessage.content)
        : ""
    const content = reply(request, lastText)
    const usage = usageOf(prompt, content)
    const model = publicModel(request)
    if (!request.stream) {
      return json({
        id,
        object: "chat.completion",
        created,
        model,
        system_fingerprint: "llmgate-mock",
        choices: [
          { index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" }
        ],
        usage
      })
    }
    return streamed(content, usage, (delta, first, finish) => ({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      system_fingerprint: "llmgate-mock",
      choices: [
        {
          index: 0,
          delta: first ? { role: "assistant", content: "" } : finish ? {} : { content: delta },
          logprobs: null,
          finish_reason: finish ? "stop" : null
        }
      ]
    }))
  }

  const completion = (request: ProviderRequest, id: string, created: number): ProviderResponse => {
    const prompt = inputTexts(request.body["prompt"]).join(" ")
    const content = reply(request, prompt)
    const usage = usageOf(prompt, content)
    const model = publicModel(request)
    if (!request.stream) {
      return json({
        id,
        object: "text_completion",
        created,
        model,
        choices: [{ index: 0, text: content, logprobs: null, finish_reason: "stop" }],
        usage
      })
    }
    return streamed(content, usage, (delta, first, finish) => ({
      id,
      object: "text_completion",
      created,
      model,
      choices: [{ index: 0, text: first || finish ? "" : delta, logprobs: null, finish_reason: finish ? "stop" : null }]
    }))
  }

  const embeddings = (request: ProviderRequest): ProviderResponse => {
    const input = request.body["input"]
    if (Array.isArray(input) && input.length > MAX_EMBEDDING_INPUTS && !input.every((x) => typeof x === "number")) {
      return errorResponse(400, {
        _tag: "InvalidRequest",
        param: "input",
        message: `The mock provider takes at most ${MAX_EMBEDDING_INPUTS} inputs per request.`
      })
    }
    const texts = inputTexts(input)
    const requested = request.body["dimensions"]
    const dimensions =
      typeof requested === "number" && Number.isInteger(requested) && requested > 0 ? Math.min(requested, 4096) : 8
    const tokens = texts.reduce((n, t) => n + countTokens(t), 0)
    return json({
      object: "list",
      model: publicModel(request),
      data: texts.map((t, index) => ({ object: "embedding", index, embedding: embed(t, dimensions) })),
      usage: { prompt_tokens: tokens, total_tokens: tokens }
    })
  }

  const failure = errorResponse(500, {
    _tag: "ProviderFailure",
    provider: config.name,
    status: 500,
    message: "Mock provider failure (failure_rate)."
  })

  const call = (request: ProviderRequest): Effect.Effect<ProviderResponse, GatewayError> =>
    Effect.gen(function* () {
      if (latencyMs > 0) yield* Effect.sleep(latencyMs)
      if (crashRate > 0 && (yield* Random.next) < crashRate) return yield* crash(config.name)
      if (failureRate > 0 && (yield* Random.next) < failureRate) return failure
      const created = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      const id = `${request.endpoint === "chat" ? "chatcmpl" : "cmpl"}-mock-${request.requestId}`
      switch (request.endpoint) {
        case "chat":
          return chat(request, id, created)
        case "completions":
          return completion(request, id, created)
        case "embeddings":
          return embeddings(request)
        default:
          return yield* Effect.fail(
            gatewayError({
              _tag: "InvalidRequest",
              param: "model",
              message: `Provider \`${config.name}\` (kind mock) serves chat, completions and embeddings only, not ${request.endpoint}.`
            })
          )
      }
    })
  return { config, call, classifyEvent: classifyOpenAIEvent, streamTerminator: OPENAI_STREAM_TERMINATOR }
}
