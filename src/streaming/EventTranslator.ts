/**
 * A translator of one SSE event stream into another (a provider's events into chat chunks, chat
 * chunks into Anthropic's or the Responses API's events), bytes to bytes: upstream bytes are cut
 * into events by the SSE scanner (any split), each event's data is handed to the translation, which
 * writes the text of the events it makes, and that text goes on as UTF-8. A scanner failure (a line
 * over `lineLimit`, data that is not UTF-8) is the translation's to report; once it says the
 * stream is over, nothing more is read or written.
 */
import { makeSseScanner, type ScanResult } from "./SseScanner.ts"

export interface StreamTranslator {
  /** The translated bytes owed for these upstream bytes (often none: a chunk may end mid-event). */
  readonly push: (chunk: Uint8Array) => Uint8Array
  /** The translated bytes still owed when the upstream ends. */
  readonly end: () => Uint8Array
}

/** Why the scanner stopped reading the upstream. */
export type ScanFailure = Exclude<ScanResult, { readonly _tag: "Events" }>

export interface EventTranslation {
  /** One upstream event's data: appends the text of the events it makes to `out`. */
  readonly event: (data: string, out: Array<string>) => void
  /** The upstream broke the SSE protocol: appends the text that says so (and ends the stream). */
  readonly broken: (failure: ScanFailure, out: Array<string>) => void
  /** The upstream ended: appends what the stream still owes. */
  readonly end: (out: Array<string>) => void
  /** A terminal event was written: nothing more is. */
  readonly over: () => boolean
}

/** What a scanner failure means, said to the client of a translated stream. */
export const scanFailureMessage = (failure: ScanFailure): string =>
  failure._tag === "LineTooLong"
    ? `The upstream provider sent a stream line longer than ${failure.limit} bytes`
    : "The upstream provider sent stream data that is not UTF-8"

/** A chat completions chunk's `data` as a translator over chat reads it: the end, the chunk, or why it cannot be used. */
export type ChatChunk =
  | { readonly _tag: "Done" }
  | { readonly _tag: "Chunk"; readonly chunk: Readonly<Record<string, unknown>> }
  | { readonly _tag: "Failed"; readonly message: string }

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  value !== null && typeof value === "object" && !Array.isArray(value)

/** Reads one chat chunk event's data: `[DONE]`, a JSON object, or a failure (not JSON, not an object, an `error`). */
export const readChatChunk = (data: string): ChatChunk => {
  if (data === "[DONE]") return { _tag: "Done" }
  let parsed: unknown
  try {
    parsed = JSON.parse(data)
  } catch {
    return { _tag: "Failed", message: "The upstream provider sent a stream chunk that is not JSON" }
  }
  if (!isObject(parsed))
    return { _tag: "Failed", message: "The upstream provider sent a stream chunk that is not a JSON object" }
  const error = parsed["error"]
  if (error !== undefined && error !== null) {
    const text = typeof error === "string" ? error : isObject(error) ? error["message"] : undefined
    return {
      _tag: "Failed",
      message: typeof text === "string" && text !== "" ? text : "The upstream provider reported an error"
    }
  }
  return { _tag: "Chunk", chunk: parsed }
}

const EMPTY = new Uint8Array(0)

export const makeEventTranslator = (lineLimit: number, translation: EventTranslation): StreamTranslator => {
  const encoder = new TextEncoder()
  const scanner = makeSseScanner(lineLimit)
  const encode = (out: ReadonlyArray<string>): Uint8Array => (out.length === 0 ? EMPTY : encoder.encode(out.join("")))
  return {
    push: (chunk) => {
      if (translation.over()) return EMPTY
      const out: Array<string> = []
      const scanned = scanner.push(chunk)
      if (scanned._tag !== "Events") translation.broken(scanned, out)
      else
        for (const data of scanned.data) {
          translation.event(data, out)
          if (translation.over()) break
        }
      return encode(out)
    },
    end: () => {
      if (translation.over()) return EMPTY
      const out: Array<string> = []
      translation.end(out)
      return encode(out)
    }
  }
}
