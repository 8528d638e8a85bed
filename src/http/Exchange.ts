/**
 * The server port: what the core needs of an incoming HTTP request and what it hands back, in the
 * smallest shape each runtime can serve without adapting through another framework on every
 * request. Node serves it from `node:http` (runtimes/node/NodeServer.ts), Bun and Deno from a Web
 * `Request` (src/http/WebHandler.ts). Like Hono's adapters: the contract lives in the core, and every
 * runtime implements it in a few lines.
 *
 * The whole exchange runs in one fiber per request: the runtime interrupts it when the client goes
 * away (before or during a streamed answer, or mid-upload), so queue waits, backoffs, upstream calls
 * (an upload being sent included) and relayed streams are all cancelled the same way. A body is
 * read whole (`body`, the JSON endpoints) or, for uploads, as it arrives (`stream`).
 */
import * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { ChunkReader } from "../domain/ChunkReader.ts"
import { gatewayError, GatewayError } from "../domain/GatewayError.ts"
import { UNREADABLE } from "../domain/Upload.ts"

export interface IncomingRequest {
  readonly method: string
  /** The request target as sent: path and query. */
  readonly url: string
  /** A request header by its lower-case name (repeated headers joined with ", "). */
  readonly header: (name: string) => string | undefined
  /** The peer's IP address as the runtime saw the connection (undefined when it cannot tell). */
  readonly remoteAddress?: string | undefined
  /** The whole body; fails with `BodyTooLarge` past `limit` bytes, declared or actual. */
  readonly body: (limit: number) => Effect.Effect<Uint8Array, GatewayError>
  /**
   * The body as it arrives, one chunk per read, with backpressure (the client is read no faster
   * than the reader is pulled): an upload streamed upstream. Fails at once when the declared
   * `content-length` is over `limit`; a read that takes the count past `limit` rejects with the
   * `BodyTooLarge` GatewayError, one of a body that broke (the client gone) with an `unreadable`
   * one (`uploadReader`). Read to its end or cancelled: either way the request is let go.
   */
  readonly stream: (limit: number) => Effect.Effect<ChunkReader, GatewayError>
}

/** `request` with its body already read as `bytes` (a translated or pre-read request handed on). */
export const withBody = (request: IncomingRequest, bytes: Uint8Array): IncomingRequest => ({
  method: request.method,
  url: request.url,
  header: request.header,
  remoteAddress: request.remoteAddress,
  body: () => Effect.succeed(bytes),
  stream: () => Effect.succeed(bytesReader(bytes))
})

/** A reader of `bytes`, in one chunk. */
export const bytesReader = (bytes: Uint8Array): ChunkReader => {
  let done = bytes.length === 0
  return {
    read: () => {
      if (done) return Promise.resolve(undefined)
      done = true
      return Promise.resolve(bytes)
    },
    cancel: () => {
      done = true
    }
  }
}

export { UNREADABLE }

const EMPTY_BODY: ChunkReader = { read: () => Promise.resolve(undefined), cancel: () => {} }

/**
 * A runtime's raw body reader as `IncomingRequest.stream` gives it: refused at once when
 * `declared` (the content-length) is over `limit`, the count checked as chunks pass, a break of
 * the body turned into `UNREADABLE`; `onEnd` runs when the body has been read to its end. `open`
 * makes the raw reader (not called for a body refused or absent).
 */
export const uploadReader = (
  declared: string | undefined,
  limit: number,
  open: (() => ChunkReader) | undefined,
  onEnd?: () => void
): Effect.Effect<ChunkReader, GatewayError> => {
  if (declared !== undefined && Number(declared) > limit)
    return Effect.fail(gatewayError({ _tag: "BodyTooLarge", limit }))
  if (open === undefined) {
    onEnd?.()
    return Effect.succeed(EMPTY_BODY)
  }
  return Effect.sync(() => {
    const raw = open()
    let total = 0
    return {
      read: () =>
        raw.read().then(
          (chunk) => {
            if (chunk === undefined) {
              onEnd?.()
              return undefined
            }
            total += chunk.length
            if (total > limit) {
              raw.cancel()
              return Promise.reject(gatewayError({ _tag: "BodyTooLarge", limit }))
            }
            return chunk
          },
          (cause: unknown) => Promise.reject(cause instanceof GatewayError ? cause : UNREADABLE)
        ),
      cancel: raw.cancel
    }
  })
}

/**
 * A response body: bytes, or a stream relayed as it arrives, with backpressure. A stream never
 * fails: a failure after it started has already become a terminal SSE error event.
 */
export type OutgoingBody = Uint8Array | Stream.Stream<Uint8Array>

export interface OutgoingResponse {
  readonly status: number
  /** Lower-case header names; `content-type` included. Framing headers are the runtime's business. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: OutgoingBody
}

/** The gateway as the runtimes serve it: one effect per request, never failing. */
export type App = (request: IncomingRequest) => Effect.Effect<OutgoingResponse>

export const isBytes = (body: OutgoingBody): body is Uint8Array => body instanceof Uint8Array

/**
 * Watches a client that must keep taking a streamed answer (`server.stall_timeout`): the runtime
 * adapter says when a chunk starts waiting for the client (`waiting`) and when the client took it
 * (`taken`); once one has waited `stallMs`, `onStall` runs (once). Like the upstream idle timer
 * (streaming/ChunkStream.ts), one timer per stream, armed at the first wait and re-armed only when
 * it fires: per chunk this costs a clock read, never a timer. `stallMs` 0 watches nothing.
 */
export interface StallWatchdog {
  /** A chunk waits for the client from now on. */
  readonly waiting: () => void
  /** The client took what waited. */
  readonly taken: () => void
  /** The answer ended (or was cut): stop watching. */
  readonly stop: () => void
}

const IDLE_WATCHDOG: StallWatchdog = { waiting: () => {}, taken: () => {}, stop: () => {} }

export const makeStallWatchdog = (stallMs: number, onStall: () => void): StallWatchdog => {
  if (stallMs <= 0) return IDLE_WATCHDOG
  /** When the chunk now waiting started to wait; 0 when none waits. */
  let since = 0
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const check = () => {
    timer = undefined
    if (stopped || since === 0) return // nothing waits: armed again by the next wait
    const waited = Date.now() - since
    if (waited < stallMs) {
      timer = setTimeout(check, stallMs - waited)
      return
    }
    stopped = true
    onStall()
  }
  return {
    waiting: () => {
      if (stopped) return
      since = Date.now()
      if (timer === undefined) timer = setTimeout(check, stallMs)
    },
    taken: () => {
      since = 0
    },
    stop: () => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    }
  }
}
