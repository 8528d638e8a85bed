// Misbehaving upstream answers for the upstream fuzzer, as data: what the upstream sends (payload or
// SSE events, content type, where the bytes are split, how the answer ends) and, from that alone,
// which answers the gateway's client may get. A scenario renders to a `Plan` for the fuzz upstream
// (test/contract/upstream/fuzz.ts). Garbage goes mainly before (or instead of) the first content
// event: after it, the gateway relays bytes without parsing by design, so there the client is only
// promised a stream that ends with `[DONE]` (after a terminal error event when the upstream broke).
import * as fc from "fast-check"
import type { Ending, Plan } from "../../contract/upstream/fuzz.ts"

/** The upstream-side bounds the fuzz config sets (small, so they are crossed quickly). */
export interface UpstreamBounds {
  readonly upstreamBodyLimit: number
  readonly sseLineLimit: number
  readonly preambleLimit: number
}

export type JsonEndpoint = "chat" | "completions" | "embeddings"
export type StreamEndpoint = "chat" | "completions"

/** What a non-streaming request is answered with (status 200 throughout). */
export type Payload =
  | { readonly kind: "valid" }
  | { readonly kind: "truncated"; readonly permille: number }
  | { readonly kind: "html" }
  | { readonly kind: "garbage"; readonly text: string }
  | { readonly kind: "empty" }
  | { readonly kind: "json-scalar"; readonly json: string }
  /** A valid answer `times` the upstream body bound in size. */
  | { readonly kind: "huge"; readonly times: number }
  | { readonly kind: "invalid-utf8" }
  /** An SSE stream, as if the request had asked for one. */
  | { readonly kind: "sse" }

export type BodyEnding = "end" | "reset" | "silence"

/**
 * Where the bytes are split: at `cuts` (per mille of the length), each part after `delayMs`; and,
 * with `fine`, into `count` pieces of `size` bytes from `at` (per mille) or `fromEnd` bytes before the
 * end, a few milliseconds apart, so that an event or the final `[DONE]` arrives in many small reads.
 */
export interface Split {
  readonly cuts: ReadonlyArray<number>
  readonly delayMs: number
  readonly fine:
    | { readonly at: number; readonly fromEnd: boolean; readonly size: number; readonly count: number }
    | undefined
}

export interface JsonScenario {
  readonly request: "json"
  readonly endpoint: JsonEndpoint
  readonly contentType: string | undefined
  readonly payload: Payload
  readonly split: Split
  readonly ending: BodyEnding
}

/** SSE lines and events that carry no content (what precedes the first token). */
export type Preamble = "role" | "empty-delta" | "comment" | "retry" | "id" | "event-line" | "blank"

/** What goes wrong before the first content event (or "none": content comes). */
export type Fault =
  | { readonly kind: "none" }
  | { readonly kind: "garbage-event"; readonly text: string }
  | { readonly kind: "error-event" }
  | { readonly kind: "json-array" }
  /** One line `times` the SSE line bound long: a data event or a comment. */
  | { readonly kind: "long-line"; readonly as: "data" | "comment"; readonly times: number }
  /** Preamble events adding up to `times` the preamble bound, then content. */
  | { readonly kind: "preamble-flood"; readonly times: number }
  /** Keep-alive comments every `everyMs`, forever. */
  | { readonly kind: "endless-preamble"; readonly everyMs: number }
  | { readonly kind: "end" }
  | { readonly kind: "reset" }
  | { readonly kind: "silence" }
  /** A normal JSON answer (the upstream ignored `stream: true`). */
  | { readonly kind: "json-answer" }
  /** An HTML error page. */
  | { readonly kind: "html" }

/** How the stream goes on after its first content event. */
export type After =
  | "done"
  | "garbage-then-done"
  | "garbage-then-end"
  | "garbage-then-reset"
  | "end"
  | "reset"
  | "silence"
  | "long-line-then-done"

export interface StreamScenario {
  readonly request: "stream"
  readonly endpoint: StreamEndpoint
  readonly contentType: string | undefined
  readonly eol: "\n" | "\r\n" | "\r"
  readonly preamble: ReadonlyArray<Preamble>
  readonly fault: Fault
  readonly after: After
  readonly split: Split
}

export type Scenario = JsonScenario | StreamScenario

// ---------------------------------------------------------------------------------------------------
// Arbitraries

const printableText = fc.string({
  unit: fc.constantFrom(...'abcxyz{}[]":,<>/\\ 0123456789'.split("")),
  minLength: 1,
  maxLength: 30
})

const payload: fc.Arbitrary<Payload> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: "valid" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("truncated" as const), permille: fc.integer({ min: 0, max: 999 }) })
  },
  { weight: 2, arbitrary: fc.constant({ kind: "html" as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("garbage" as const), text: printableText }) },
  { weight: 1, arbitrary: fc.constant({ kind: "empty" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("json-scalar" as const),
      json: fc.constantFrom("null", "1", '"ok"', "[]", "true")
    })
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("huge" as const), times: fc.integer({ min: 2, max: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "invalid-utf8" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "sse" as const }) }
)

const JSON_TYPES = ["application/json", "application/json; charset=utf-8"]
const WRONG_TYPES = ["text/html", "text/plain", "application/octet-stream", "text/event-stream"]

const split: fc.Arbitrary<Split> = fc.record({
  cuts: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 6 }),
  delayMs: fc.integer({ min: 0, max: 20 }),
  fine: fc.option(
    fc.oneof(
      fc.record({
        at: fc.integer({ min: 0, max: 1000 }),
        fromEnd: fc.constant(false),
        size: fc.integer({ min: 1, max: 8 }),
        count: fc.integer({ min: 1, max: 30 })
      }),
      // the tail, where the end of the stream is recognised
      fc.record({
        at: fc.integer({ min: 1, max: 120 }),
        fromEnd: fc.constant(true),
        size: fc.integer({ min: 1, max: 4 }),
        count: fc.integer({ min: 1, max: 30 })
      })
    ),
    { nil: undefined }
  )
})

export const jsonScenario: fc.Arbitrary<JsonScenario> = fc.record({
  request: fc.constant("json" as const),
  endpoint: fc.constantFrom<JsonEndpoint>("chat", "completions", "embeddings"),
  contentType: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...JSON_TYPES) },
    { weight: 1, arbitrary: fc.constantFrom<string | undefined>(...WRONG_TYPES, undefined) }
  ),
  payload,
  split,
  ending: fc.oneof(
    { weight: 6, arbitrary: fc.constant<BodyEnding>("end") },
    { weight: 1, arbitrary: fc.constantFrom<BodyEnding>("reset", "silence") }
  )
})

const fault: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: "none" as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("garbage-event" as const), text: printableText }) },
  { weight: 1, arbitrary: fc.constant({ kind: "error-event" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "json-array" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("long-line" as const),
      as: fc.constantFrom("data" as const, "comment" as const),
      times: fc.integer({ min: 2, max: 8 })
    })
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("preamble-flood" as const), times: fc.integer({ min: 2, max: 6 }) })
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("endless-preamble" as const), everyMs: fc.integer({ min: 20, max: 200 }) })
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom({ kind: "end" as const }, { kind: "reset" as const }, { kind: "silence" as const })
  },
  { weight: 1, arbitrary: fc.constantFrom({ kind: "json-answer" as const }, { kind: "html" as const }) }
)

export const streamScenario: fc.Arbitrary<StreamScenario> = fc.record({
  request: fc.constant("stream" as const),
  endpoint: fc.constantFrom<StreamEndpoint>("chat", "completions"),
  contentType: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom("text/event-stream", "text/event-stream; charset=utf-8") },
    {
      weight: 1,
      arbitrary: fc.constantFrom<string | undefined>("text/html", "text/plain", "application/json", undefined)
    }
  ),
  eol: fc.constantFrom<"\n" | "\r\n" | "\r">("\n", "\n", "\r\n", "\r"),
  preamble: fc.array(
    fc.constantFrom<Preamble>("role", "empty-delta", "comment", "retry", "id", "event-line", "blank"),
    { maxLength: 5 }
  ),
  fault,
  after: fc.oneof(
    { weight: 4, arbitrary: fc.constant<After>("done") },
    {
      weight: 3,
      arbitrary: fc.constantFrom<After>(
        "garbage-then-done",
        "garbage-then-end",
        "garbage-then-reset",
        "end",
        "reset",
        "silence",
        "long-line-then-done"
      )
    }
  ),
  split
})

export const scenario: fc.Arbitrary<Scenario> = fc.oneof(
  { weight: 2, arbitrary: jsonScenario },
  { weight: 3, arbitrary: streamScenario }
)

// ---------------------------------------------------------------------------------------------------
// Rendering

const encoder = new TextEncoder()
const CREATED = 1_700_000_000

const validAnswer = (endpoint: JsonEndpoint, content = "fuzz upstream reply"): string => {
  switch (endpoint) {
    case "chat":
      return JSON.stringify({
        id: "chatcmpl-fuzz",
        object: "chat.completion",
        created: CREATED,
        model: "fuzz-upstream",
        choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }
      })
    case "completions":
      return JSON.stringify({
        id: "cmpl-fuzz",
        object: "text_completion",
        created: CREATED,
        model: "fuzz-upstream",
        choices: [{ index: 0, text: content, logprobs: null, finish_reason: "stop" }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }
      })
    case "embeddings":
      return JSON.stringify({
        object: "list",
        model: "fuzz-upstream",
        data: [{ object: "embedding", index: 0, embedding: [0.5, -0.25], note: content }],
        usage: { prompt_tokens: 1, total_tokens: 1 }
      })
  }
}

const HTML =
  "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>upstream is having a bad day</p></body></html>"

const chunk = (
  endpoint: StreamEndpoint,
  kind: "role" | "empty" | "content" | "stop",
  text = "fuzz"
): Record<string, unknown> => {
  const choice =
    endpoint === "chat"
      ? kind === "role"
        ? { index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }
        : kind === "empty"
          ? { index: 0, delta: {}, finish_reason: null }
          : kind === "content"
            ? { index: 0, delta: { content: text }, finish_reason: null }
            : { index: 0, delta: {}, finish_reason: "stop" }
      : kind === "content"
        ? { index: 0, text, finish_reason: null }
        : kind === "stop"
          ? { index: 0, text: "", finish_reason: "stop" }
          : { index: 0, text: "", finish_reason: null }
  return {
    id: "fuzz-stream",
    object: endpoint === "chat" ? "chat.completion.chunk" : "text_completion",
    created: CREATED,
    model: "fuzz-upstream",
    choices: [choice]
  }
}

/** The SSE text of a scenario: its events with the scenario's line ending, and how it ends. */
const sseOf = (s: StreamScenario, bounds: UpstreamBounds): { readonly text: string; readonly ending: Ending } => {
  const eol = s.eol
  const event = (data: string) => `data: ${data}${eol}${eol}`
  const json = (v: unknown) => event(JSON.stringify(v))
  const preambleText = s.preamble
    .map((p) => {
      switch (p) {
        case "role":
          return json(chunk(s.endpoint, "role"))
        case "empty-delta":
          return json(chunk(s.endpoint, "empty"))
        case "comment":
          return `: keep-alive${eol}${eol}`
        case "retry":
          return `retry: 1000${eol}${eol}`
        case "id":
          return `id: 7${eol}${eol}`
        case "event-line":
          return `event: ping${eol}${eol}`
        case "blank":
          return eol
        default:
          return ""
      }
    })
    .join("")
  const content = json(chunk(s.endpoint, "content"))
  const done = json(chunk(s.endpoint, "stop")) + event("[DONE]")
  const garbage = event("{not json")
  const f = s.fault
  switch (f.kind) {
    case "garbage-event":
      return { text: preambleText + event(`x${f.text}`) + content + done, ending: { kind: "end" } }
    case "error-event":
      return {
        text:
          preambleText +
          json({ error: { message: "upstream error event (fuzz)", type: "server_error", param: null, code: null } }) +
          content +
          done,
        ending: { kind: "end" }
      }
    case "json-array":
      return { text: preambleText + event("[1,2,3]") + content + done, ending: { kind: "end" } }
    case "long-line": {
      const filler = "x".repeat(f.times * bounds.sseLineLimit)
      const line =
        f.as === "data" ? json({ ...chunk(s.endpoint, "empty"), padding: filler }) : `: ${filler}${eol}${eol}`
      return { text: preambleText + line + content + done, ending: { kind: "end" } }
    }
    case "preamble-flood": {
      const one = json(chunk(s.endpoint, "empty"))
      return {
        text: preambleText + one.repeat(Math.ceil((f.times * bounds.preambleLimit) / one.length)) + content + done,
        ending: { kind: "end" }
      }
    }
    case "endless-preamble":
      return {
        text: preambleText,
        ending: { kind: "drip", bytes: encoder.encode(`: keep-alive${eol}${eol}`), everyMs: f.everyMs }
      }
    case "end":
      return { text: preambleText, ending: { kind: "end" } }
    case "reset":
      return { text: preambleText, ending: { kind: "reset" } }
    case "silence":
      return { text: preambleText, ending: { kind: "silence" } }
    case "json-answer":
      return { text: validAnswer(s.endpoint), ending: { kind: "end" } }
    case "html":
      return { text: HTML, ending: { kind: "end" } }
    case "none":
      break
  }
  const start = preambleText + content
  switch (s.after) {
    case "done":
      return { text: start + done, ending: { kind: "end" } }
    case "garbage-then-done":
      return { text: start + garbage + done, ending: { kind: "end" } }
    case "garbage-then-end":
      return { text: start + garbage, ending: { kind: "end" } }
    case "garbage-then-reset":
      return { text: start + garbage, ending: { kind: "reset" } }
    case "end":
      return { text: start, ending: { kind: "end" } }
    case "reset":
      return { text: start, ending: { kind: "reset" } }
    case "silence":
      return { text: start, ending: { kind: "silence" } }
    case "long-line-then-done":
      return {
        text: start + json(chunk(s.endpoint, "content", "y".repeat(4 * bounds.sseLineLimit))) + done,
        ending: { kind: "end" }
      }
  }
}

const payloadBytes = (s: JsonScenario, bounds: UpstreamBounds): Uint8Array => {
  const p = s.payload
  const valid = validAnswer(s.endpoint)
  switch (p.kind) {
    case "valid":
      return encoder.encode(valid)
    case "truncated":
      return encoder.encode(valid.slice(0, Math.floor((valid.length * p.permille) / 1000)))
    case "html":
      return encoder.encode(HTML)
    case "garbage":
      return encoder.encode(`x${p.text}`)
    case "empty":
      return new Uint8Array(0)
    case "json-scalar":
      return encoder.encode(p.json)
    case "huge":
      return encoder.encode(validAnswer(s.endpoint, "z".repeat(p.times * bounds.upstreamBodyLimit)))
    case "invalid-utf8": {
      // a valid answer whose text holds bytes that are not UTF-8
      const [head, tail] = valid.split("fuzz upstream reply") as [string, string]
      return Uint8Array.from([
        ...encoder.encode(`${head}fuzz `),
        0xff,
        0xc3,
        0x28,
        0xed,
        0xa0,
        0x80,
        ...encoder.encode(` reply${tail}`)
      ])
    }
    case "sse":
      return encoder.encode(`data: ${JSON.stringify(chunk("chat", "content"))}\n\ndata: [DONE]\n\n`)
  }
}

const FINE_DELAY_MS = 2

const splitBytes = (bytes: Uint8Array, sp: Split): Plan["parts"] => {
  const fine = new Set<number>()
  if (sp.fine !== undefined) {
    const start = sp.fine.fromEnd ? bytes.length - sp.fine.at : Math.floor((bytes.length * sp.fine.at) / 1000)
    for (let i = 0; i <= sp.fine.count; i++) fine.add(start + i * sp.fine.size)
  }
  const points = [...new Set([...sp.cuts.map((p) => Math.floor((bytes.length * p) / 1000)), ...fine])]
    .filter((p) => p > 0 && p < bytes.length)
    .sort((a, b) => a - b)
  const parts: Array<{ readonly bytes: Uint8Array; readonly delayMs: number }> = []
  let start = 0
  for (const p of [...points, bytes.length]) {
    if (p <= start) continue
    parts.push({
      bytes: bytes.subarray(start, p),
      delayMs: start === 0 ? 0 : fine.has(start) ? Math.max(sp.delayMs, FINE_DELAY_MS) : sp.delayMs
    })
    start = p
  }
  return parts
}

/** The plan the fuzz upstream serves for `s`. */
export const render = (s: Scenario, bounds: UpstreamBounds): Plan => {
  if (s.request === "json") {
    return {
      status: 200,
      headers: s.contentType === undefined ? {} : { "content-type": s.contentType },
      parts: splitBytes(payloadBytes(s, bounds), s.split),
      ending: { kind: s.ending } as Ending
    }
  }
  const { text, ending } = sseOf(s, bounds)
  const contentType =
    s.fault.kind === "json-answer" ? "application/json" : s.fault.kind === "html" ? "text/html" : s.contentType
  return {
    status: 200,
    headers: contentType === undefined ? {} : { "content-type": contentType },
    parts: splitBytes(encoder.encode(text), s.split),
    ending
  }
}

// ---------------------------------------------------------------------------------------------------
// Expectations

export interface Allowed {
  /** A 502 or 504 in OpenAI's error shape. */
  readonly error: boolean
  /** A 200 whose body is JSON (strict UTF-8). */
  readonly json: boolean
  /** A 200 `text/event-stream` ending with `data: [DONE]`; `strict`: every event before it a JSON object. */
  readonly sse: false | { readonly strict: boolean }
}

const ERROR_ONLY: Allowed = { error: true, json: false, sse: false }

/** The answers the gateway's client may get for `s`. */
export const allowed = (s: Scenario): Allowed => {
  if (s.request === "json") {
    if (s.ending !== "end") return ERROR_ONLY
    switch (s.payload.kind) {
      case "valid":
        return { error: s.contentType === undefined || !JSON_TYPES.includes(s.contentType), json: true, sse: false }
      case "json-scalar":
        return { error: true, json: true, sse: false }
      default:
        return ERROR_ONLY
    }
  }
  if (s.fault.kind === "json-answer") return { error: true, json: true, sse: false }
  if (s.contentType === undefined || !s.contentType.startsWith("text/event-stream")) return ERROR_ONLY
  if (s.fault.kind !== "none") return ERROR_ONLY
  switch (s.after) {
    case "done":
    case "end":
    case "silence":
    case "long-line-then-done":
      return { error: false, json: false, sse: { strict: true } }
    // A reset may overtake the bytes sent just before it (the receiving kernel drops what is unread),
    // so the gateway may never see the content: then it is a failure before content, a 502.
    case "reset":
      return { error: true, json: false, sse: { strict: true } }
    case "garbage-then-reset":
      return { error: true, json: false, sse: { strict: false } }
    case "garbage-then-done":
    case "garbage-then-end":
      return { error: false, json: false, sse: { strict: false } }
  }
}
