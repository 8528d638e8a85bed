/**
 * StreamUsage: what one event stream tells about its usage, event by event (the `data` of each SSE
 * event, as streaming/SseScanner.ts yields them). Two formats, told apart by where their events
 * keep the usage and the text (`StreamEvents`): OpenAI's chat chunks (`CHAT_CHUNKS`, the format the
 * gateway relays to chat and completions clients) and the Responses API's events
 * (`RESPONSES_EVENTS`, a `/v1/responses` stream passed through). Either way the tracker finds:
 *
 * - the usage the upstream reported: the `usage` of the last chunk that carries one (normally the
 *   final chunk with `choices: []`, sent when the request asked `stream_options.include_usage`),
 *   or the `response.usage` of a Responses stream's terminal event (`response.completed`,
 *   `response.incomplete`, `response.failed`);
 * - whether an event is the usage-only chunk (`choices: []` and a `usage`), so the relay can drop
 *   it when the client did not ask for it (a Responses stream has none);
 * - the text generated so far (content, refusals, reasoning, tool-call names and arguments, legacy
 *   completions' `text`; a Responses event's text `delta`), from which a stream cancelled or
 *   broken before its usage is estimated (usage/Estimate.ts).
 *
 * The usage object's convention is the provider's: the caller passes its mapper (the `openai`
 * kind's is providers/openai/OpenAIUsage.ts, the Responses API's ResponsesUsage.ts), so this
 * module knows no provider. The generated text
 * kept is bounded (`textLimit` characters); beyond it only its length is counted, and the estimate
 * adds a token per 4 characters for it. Never throws: an event that is not a JSON chunk is "other".
 */
import type { Endpoint } from "../domain/Endpoint.ts"
import type { TokenUsage } from "../domain/Usage.ts"

/** What one event is, for the relay. */
export type StreamEventRole =
  /** The chunk that only carries the usage (`choices: []`): dropped when the client did not ask for it. */
  | "usage"
  /** Anything else: relayed. */
  | "other"

export interface StreamUsageTracker {
  /** Looks at the `data` of one event. */
  readonly observe: (data: string) => StreamEventRole
  /** The usage the upstream reported, if it has so far. */
  readonly reported: () => TokenUsage | undefined
  /** The generated text seen so far (at most `textLimit` characters of it). */
  readonly text: () => string
  /** Characters generated past `textLimit` (or in events not kept), counted but not kept. */
  readonly overflowChars: () => number
  /** Events kept whole for a recount (usage/Recount.ts), and the characters of generated text they hold. */
  readonly keptEvents: () => KeptEvents
}

export interface KeptEvents {
  /** The events' `data`, in order (at most the tracker's limit in characters). */
  readonly data: ReadonlyArray<string>
  /** Characters of generated text in them (not in `overflowChars`). */
  readonly chars: number
}

const NO_EVENTS: KeptEvents = { data: [], chars: 0 }

/** Default bound on the generated text kept for an estimate (characters). */
export const DEFAULT_TEXT_LIMIT = 4 * 1024 * 1024

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  value !== null && typeof value === "object" && !Array.isArray(value)

/**
 * The generated strings of one choice, of a stream chunk (`delta`) or of a whole answer
 * (`message`), in the order a client would see them.
 */
export const choiceTexts = (choice: unknown, out: Array<string>): void => {
  if (!isObject(choice)) return
  const text = choice["text"]
  if (typeof text === "string") out.push(text)
  const delta = isObject(choice["delta"]) ? choice["delta"] : choice["message"]
  if (!isObject(delta)) return
  for (const key of ["reasoning_content", "reasoning", "content", "refusal"]) {
    const value = delta[key]
    if (typeof value === "string") out.push(value)
  }
  const calls = delta["tool_calls"]
  if (Array.isArray(calls)) {
    for (const call of calls) {
      const fn = isObject(call) ? call["function"] : undefined
      if (!isObject(fn)) continue
      if (typeof fn["name"] === "string") out.push(fn["name"])
      if (typeof fn["arguments"] === "string") out.push(fn["arguments"])
    }
  }
  const legacy = delta["function_call"]
  if (isObject(legacy)) {
    if (typeof legacy["name"] === "string") out.push(legacy["name"])
    if (typeof legacy["arguments"] === "string") out.push(legacy["arguments"])
  }
}

type Event = Readonly<Record<string, unknown>>

/** Where the parsed events of one stream format keep their generated text and their usage. */
export interface StreamEvents {
  /** Adds the generated strings of one event to `out`, in the order a client would see them. */
  readonly texts: (event: Event, out: Array<string>) => void
  /** The usage object an event reports, in the provider's convention (undefined or null: none). */
  readonly usage: (event: Event) => unknown
  /** Whether an event that reports usage carries nothing else (the relay may take it out). */
  readonly usageOnly: (event: Event) => boolean
}

/** OpenAI's chat (and legacy completions) chunks: `choices[].delta`, and `usage` on a chunk of its own. */
export const CHAT_CHUNKS: StreamEvents = {
  texts: (chunk, out) => {
    const choices = chunk["choices"]
    if (Array.isArray(choices)) for (const choice of choices) choiceTexts(choice, out)
  },
  usage: (chunk) => chunk["usage"],
  usageOnly: (chunk) => {
    const choices = chunk["choices"]
    return Array.isArray(choices) && choices.length === 0
  }
}

/** The Responses API's events that end a stream with the whole response, its `usage` included. */
const RESPONSES_TERMINAL: ReadonlySet<unknown> = new Set([
  "response.completed",
  "response.incomplete",
  "response.failed"
])
/** `*.delta` events whose `delta` is not generated text (base64 audio). */
const NOT_TEXT: ReadonlySet<unknown> = new Set(["response.audio.delta", "response.output_audio.delta"])

/**
 * The Responses API's events: text comes in `*.delta` events (output text, refusals, reasoning,
 * function-call arguments, …), once each (the `*.done` events that repeat it are not counted), and
 * the usage in the terminal event's `response.usage`.
 */
export const RESPONSES_EVENTS: StreamEvents = {
  texts: (event, out) => {
    const type = event["type"]
    const delta = event["delta"]
    if (typeof delta === "string" && typeof type === "string" && type.endsWith(".delta") && !NOT_TEXT.has(type))
      out.push(delta)
  },
  usage: (event) => {
    const response = event["response"]
    return RESPONSES_TERMINAL.has(event["type"]) && isObject(response) ? response["usage"] : undefined
  },
  usageOnly: () => false
}

/** The format of an endpoint's event streams: the Responses API's events, else chat chunks. */
export const streamEventsOf = (endpoint: Endpoint): StreamEvents =>
  endpoint === "responses" ? RESPONSES_EVENTS : CHAT_CHUNKS

export const makeStreamUsageTracker = (
  readUsage: (usage: unknown) => TokenUsage | undefined,
  textLimit: number = DEFAULT_TEXT_LIMIT,
  events: StreamEvents = CHAT_CHUNKS
): StreamUsageTracker => {
  let reported: TokenUsage | undefined
  const pieces: Array<string> = []
  let kept = 0
  let overflow = 0
  const keep = (texts: ReadonlyArray<string>) => {
    for (const piece of texts) {
      const room = textLimit - kept
      if (piece.length <= room) {
        pieces.push(piece)
        kept += piece.length
      } else {
        if (room > 0) pieces.push(piece.slice(0, room))
        kept += Math.max(room, 0)
        overflow += piece.length - Math.max(room, 0)
      }
    }
  }
  return {
    observe: (data) => {
      if (data === "[DONE]") return "other"
      let chunk: unknown
      try {
        chunk = JSON.parse(data)
      } catch {
        return "other"
      }
      if (!isObject(chunk)) return "other"
      const texts: Array<string> = []
      events.texts(chunk, texts)
      keep(texts)
      const raw = events.usage(chunk)
      if (raw === null || raw === undefined) return "other"
      const usage = readUsage(raw)
      if (usage !== undefined) reported = usage
      return events.usageOnly(chunk) ? "usage" : "other"
    },
    reported: () => reported,
    text: () => pieces.join(""),
    overflowChars: () => overflow,
    keptEvents: () => NO_EVENTS
  }
}

const QUOTE_USAGE = '"usage"'

const isJsonSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13

/**
 * Whether `data` has `"usage"` followed by `:` and `{` (JSON whitespace allowed between): the only
 * events that can carry a usage object. A search, not a parse: `"usage":null` and events without
 * the word are answered without looking further.
 */
export const mayCarryUsage = (data: string): boolean => {
  let from = 0
  for (;;) {
    const at = data.indexOf(QUOTE_USAGE, from)
    if (at < 0) return false
    let i = at + QUOTE_USAGE.length
    while (i < data.length && isJsonSpace(data.charCodeAt(i))) i++
    if (data.charCodeAt(i) === 58) {
      i++
      while (i < data.length && isJsonSpace(data.charCodeAt(i))) i++
      if (data.charCodeAt(i) === 123) return true
    }
    from = at + QUOTE_USAGE.length
  }
}

/**
 * A tracker for a stream whose upstream was asked for its usage (`stream_options.include_usage`):
 * only events that may carry a usage object (`mayCarryUsage`) are parsed; every other event costs
 * a string search. The generated text is not kept: should the stream end without usage (cancelled,
 * failed midway, or a provider that ignores `include_usage`), its output is estimated from the
 * size of its events' data minus the size of their envelope, the JSON around the text, measured
 * once on the first event with text (events are parsed until then: a role-only preamble has none). `text()` is then empty and `overflowChars()` that
 * character count, which the estimate counts as one token per 4 characters (usage/Estimate.ts).
 * The first `eventLimit` characters of events' data are also kept as they are (a reference each,
 * no parse), so that an estimate can be counted again with the BPE tokenizer off the serving
 * threads (usage/Recount.ts); their text's characters are `keptEvents().chars`, not in
 * `overflowChars()`. They are dropped with the tracker at the stream's end.
 */
export const makeUsageChunkTracker = (
  readUsage: (usage: unknown) => TokenUsage | undefined,
  eventLimit = 0
): StreamUsageTracker => {
  let reported: TokenUsage | undefined
  /** Characters of an event's data that are not generated text; measured on the first event. */
  let envelope: number | undefined
  let chars = 0
  const kept: Array<string> = []
  let keptSize = 0
  let keptChars = 0
  /** Counts `text` characters of generated text in `data`, keeping the event while there is room. */
  const add = (data: string, text: number) => {
    if (keptSize + data.length <= eventLimit) {
      kept.push(data)
      keptSize += data.length
      keptChars += text
    } else chars += text
  }
  const parse = (data: string): Readonly<Record<string, unknown>> | undefined => {
    try {
      const chunk: unknown = JSON.parse(data)
      return isObject(chunk) ? chunk : undefined
    } catch {
      return undefined
    }
  }
  const textLength = (chunk: Readonly<Record<string, unknown>>): number => {
    const texts: Array<string> = []
    CHAT_CHUNKS.texts(chunk, texts)
    let n = 0
    for (const t of texts) n += t.length
    return n
  }
  return {
    observe: (data) => {
      if (data === "[DONE]") return "other"
      if (!mayCarryUsage(data)) {
        if (envelope === undefined) {
          const chunk = parse(data)
          if (chunk === undefined) return "other"
          const text = textLength(chunk)
          // Measured on the first event with text: a role-only preamble's envelope is another size.
          if (text > 0) envelope = data.length - text
          add(data, text)
        } else add(data, Math.max(0, data.length - envelope))
        return "other"
      }
      const chunk = parse(data)
      if (chunk === undefined) return "other"
      add(data, textLength(chunk))
      const usage = readUsage(CHAT_CHUNKS.usage(chunk))
      if (usage !== undefined) reported = usage
      return CHAT_CHUNKS.usageOnly(chunk) ? "usage" : "other"
    },
    reported: () => reported,
    text: () => "",
    overflowChars: () => chars,
    keptEvents: () => ({ data: kept, chars: keptChars })
  }
}
