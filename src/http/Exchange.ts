/**
 * The server port: what the core needs of an incoming HTTP request and what it hands back, in the
 * smallest shape each runtime can serve without adapting through another framework on every
 * request. Node serves it from `node:http` (runtimes/node/NodeServer.ts), Bun and Deno from a Web
 * `Request` (src/http/WebHandler.ts). Like Hono's adapters: the contract lives in the core, and every
 * runtime implements it in a few lines.
 *
 * The whole exchange runs in one fiber per request: the runtime interrupts it when the client goes
 * away (before or during a streamed answer), so queue waits, backoffs, upstream calls and relayed
 * streams are all cancelled the same way.
 */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { GatewayError } from "../domain/GatewayError.ts"

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
