/**
 * UsageRelay: the bytes of an OpenAI-format SSE stream on their way to the client, watched for
 * usage, with the usage-only chunk taken out when the client did not ask for it (the gateway asked
 * the upstream for it: usage/StreamUsageRequest.ts). Events are found with the project's scanner
 * (streaming/SseScanner.ts) and read by a StreamUsageTracker.
 *
 * When nothing is dropped (`drop: false`), every chunk goes on at once, unchanged. When the usage
 * chunk may have to be dropped, bytes go on event by event: the bytes of an event still arriving are
 * held until it ends (a client cannot use half an event anyway), then relayed, or not when it is the
 * usage-only chunk. Complete comment lines and blank lines between events (keep-alives) are relayed
 * at once, so holding never delays them. A line past the scanner's limit or data that is not UTF-8
 * ends the watching: from there every byte is relayed as it is and the usage is whatever was seen
 * (the caller estimates the rest).
 */
import { concatBytes as concat } from "../domain/BodyCollector.ts"
import { makeSseScanner } from "../streaming/SseScanner.ts"
import type { StreamUsageTracker } from "./StreamUsage.ts"

export interface UsageRelay {
  /** The bytes to relay now for the next upstream chunk (possibly none). */
  readonly push: (chunk: Uint8Array) => Uint8Array
  /** At the stream's end: the bytes still held (an unfinished last event), relayed as they are. */
  readonly end: () => Uint8Array
}

export interface UsageRelayOptions {
  readonly tracker: StreamUsageTracker
  /** Take the usage-only chunk out (the client did not ask for it). */
  readonly drop: boolean
  /** Longest SSE line watched (`server.sse_line_limit`). */
  readonly lineLimit: number
}

const LF = 10
const CR = 13
const COLON = 58
const EMPTY = new Uint8Array(0)

/**
 * How many bytes at the start of `held` (bytes after the last event's end) are complete comment or
 * blank lines, which belong to no event and can go on at once.
 */
const idleLines = (held: Uint8Array): number => {
  let at = 0
  while (at < held.length) {
    const c = held[at]!
    if (c === LF || c === CR) {
      at++
      continue
    }
    if (c !== COLON) break
    let end = at
    while (end < held.length && held[end] !== LF && held[end] !== CR) end++
    if (end === held.length) break
    at = end + 1
  }
  return at
}

export const makeUsageRelay = (options: UsageRelayOptions): UsageRelay => {
  const { tracker, drop } = options
  const scanner = makeSseScanner(options.lineLimit)
  /** Watching stopped (the scanner failed): relay everything as it is. */
  let blind = false
  /** Bytes after the last relayed or dropped byte, not relayed yet (only when dropping). */
  let held: Uint8Array = EMPTY
  /** Stream offset of `held[0]`. */
  let heldAt = 0

  const push = (chunk: Uint8Array): Uint8Array => {
    if (blind) return chunk
    const scanned = scanner.push(chunk)
    if (scanned._tag !== "Events") {
      blind = true
      const out = concat([held, chunk])
      held = EMPTY
      return out
    }
    if (!drop) {
      for (const data of scanned.data) tracker.observe(data)
      return chunk
    }
    const whole = held.length === 0 ? chunk : concat([held, chunk])
    const parts: Array<Uint8Array> = []
    let from = 0
    for (let i = 0; i < scanned.data.length; i++) {
      const end = scanned.ends[i]! - heldAt
      // Blank or comment lines before the event's own lines go on in any case.
      if (tracker.observe(scanned.data[i]!) === "usage") {
        const idle = idleLines(whole.subarray(from, end))
        if (idle > 0) parts.push(whole.subarray(from, from + idle))
      } else parts.push(whole.subarray(from, end))
      from = end
    }
    const idle = idleLines(whole.subarray(from))
    if (idle > 0) parts.push(whole.subarray(from, from + idle))
    from += idle
    held = whole.subarray(from)
    heldAt += from
    return parts.length === 0 ? EMPTY : concat(parts)
  }

  return {
    push,
    end: () => {
      const out = held
      held = EMPTY
      return out
    }
  }
}
