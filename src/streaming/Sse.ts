/**
 * SSE framing shared by providers and the relay: encoding events, the `[DONE]` sentinel, and
 * ending a stream with a well-formed terminal error event instead of a silent truncation.
 */
import * as Stream from "effect/Stream"
import { errorBody, type GatewayErrorReason } from "../domain/GatewayError.ts"

const encoder = new TextEncoder()

export const SSE_CONTENT_TYPE = "text/event-stream"

/** Whether an answer's (lower-case) headers say it is an event stream. */
export const isEventStream = (headers: Readonly<Record<string, string>>): boolean =>
  (headers["content-type"] ?? "").startsWith(SSE_CONTENT_TYPE)

export const DONE: Uint8Array = encoder.encode("data: [DONE]\n\n")

/** One `data:` event carrying a JSON value. */
export const encodeEvent = (value: unknown): Uint8Array => encoder.encode(`data: ${JSON.stringify(value)}\n\n`)

/** The terminal error event (`data: {"error":…}`) followed by `data: [DONE]`. */
export const errorEvents = (reason: GatewayErrorReason): Uint8Array => {
  const event = encoder.encode(`data: ${JSON.stringify(errorBody(reason))}\n\ndata: [DONE]\n\n`)
  return event
}

/** Ends `stream` with a terminal error event when it fails or stays silent longer than `idleMs`. */
export const guardStream = <E>(
  stream: Stream.Stream<Uint8Array, E>,
  options: {
    readonly idleMs: number
    readonly onIdle: () => GatewayErrorReason
    readonly onError: (error: E) => GatewayErrorReason
  }
): Stream.Stream<Uint8Array> =>
  stream.pipe(
    Stream.timeoutOrElse({
      duration: options.idleMs,
      orElse: () => Stream.succeed(errorEvents(options.onIdle()))
    }),
    Stream.catch((error: E) => Stream.succeed(errorEvents(options.onError(error))))
  )
