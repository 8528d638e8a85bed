/**
 * Stream hold-back: pulls an upstream SSE stream until its first event with real content, keeping
 * the preamble (role-only chunk, empty deltas, keep-alives) back. Until then nothing has reached the
 * client, so a failure, a stall past the idle timeout, a malformed event or an early end is a
 * failure of the attempt, and the dispatcher can retry or fail over invisibly. After it, the held
 * bytes and the rest of the stream are relayed as they are, without parsing.
 *
 * The preamble is bounded in bytes (`server.preamble_limit`), in line length (`server.sse_line_limit`)
 * and in time: the first content must arrive within the provider's `timeout.request` of the request
 * being sent. Keep-alive comments reset the idle timer, so without the time bound an upstream that
 * sends only comments would hold the request (and the client) forever.
 */
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Pull from "effect/Pull"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { formatBytes, gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import type { StreamEventKind } from "../domain/StreamEventKind.ts"
import { makeSseScanner } from "./SseScanner.ts"

const decoder = new TextDecoder()

const terminatorPattern = (terminator: string): RegExp =>
  new RegExp(`data: ?${terminator.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[\r\n]*$`)

/** The bytes of the stream's end kept to look for the terminator event (it may arrive in pieces). */
const TAIL = 64

/**
 * What to keep of the stream's end after `chunk`: the chunk itself when it holds TAIL bytes (no
 * copy: most chunks), else the end of `tail` followed by it.
 */
const keepTail = (tail: Uint8Array, chunk: Uint8Array): Uint8Array => {
  if (chunk.length >= TAIL) return chunk
  const keep = Math.min(tail.length, TAIL - chunk.length)
  const out = new Uint8Array(keep + chunk.length)
  out.set(tail.subarray(tail.length - keep), 0)
  out.set(chunk, keep)
  return out
}

export interface HeldStream {
  /** The whole stream for the client: held bytes first, then the rest as it arrives. */
  readonly stream: Stream.Stream<Uint8Array, GatewayError>
}

export interface HoldOptions {
  /** Classifies the `data` of one SSE event of the provider's streams. */
  readonly classify: (data: string) => StreamEventKind
  /** The `data` of the event that ends a complete stream. */
  readonly terminator: string
  /** The provider's name, for errors. */
  readonly provider: string
  /** Most bytes held before the first content (`server.preamble_limit`). */
  readonly preambleLimit: number
  /** Longest SSE line parsed (`server.sse_line_limit`). */
  readonly lineLimit: number
  /** Time left for the first content to arrive (what remains of the provider's `timeout.request`). */
  readonly timeoutMs: number
  /** The failure when it does not. */
  readonly onTimeout: () => GatewayError
}

/**
 * Pulls `upstream` in `scope` until the first content event. The returned stream keeps pulling from
 * the same upstream; closing `scope` cancels it. Fails (leaving `scope` to the caller) when the
 * upstream fails, ends, sends an invalid event, a line over the line limit or more than the
 * preamble limit before any content, or when no content came within `timeoutMs`.
 */
export const holdUntilContent = (
  upstream: Stream.Stream<Uint8Array, GatewayError>,
  options: HoldOptions,
  scope: Scope.Scope
): Effect.Effect<HeldStream, GatewayError> =>
  hold(upstream, options, scope).pipe(
    Effect.timeoutOrElse({ duration: Math.max(0, options.timeoutMs), orElse: () => Effect.fail(options.onTimeout()) })
  )

const hold = Effect.fnUntraced(function* (
  upstream: Stream.Stream<Uint8Array, GatewayError>,
  options: HoldOptions,
  scope: Scope.Scope
) {
  const { classify, provider, preambleLimit } = options
  const pull = yield* Stream.toPull(upstream).pipe(Scope.provide(scope))
  const scanner = makeSseScanner(options.lineLimit)
  const held: Array<Uint8Array> = []
  let heldBytes = 0
  /** Where the last preamble event ended (stream offset). */
  let preambleEnd = 0
  for (;;) {
    const exit = yield* Effect.exit(pull)
    if (Exit.isFailure(exit)) {
      const failure = Pull.filterNoDone(exit.cause)
      if (Result.isFailure(failure)) {
        return yield* gatewayError({
          _tag: "UpstreamProtocol",
          provider,
          message: "the stream ended before any content"
        })
      }
      return yield* Effect.failCause(failure.success)
    }
    let content = false
    for (const chunk of exit.value) {
      held.push(chunk)
      heldBytes += chunk.length
      if (content) continue
      const scanned = scanner.push(chunk)
      if (scanned._tag === "LineTooLong") {
        return yield* gatewayError({
          _tag: "UpstreamProtocol",
          provider,
          message: `the stream sent a line longer than ${formatBytes(scanned.limit)} (server.sse_line_limit) before any content`
        })
      }
      if (scanned._tag === "NotUtf8") {
        return yield* gatewayError({
          _tag: "UpstreamProtocol",
          provider,
          message: "the stream sent an event that is not valid UTF-8 before any content"
        })
      }
      const { data, ends } = scanned
      for (let i = 0; i < data.length; i++) {
        const kind = classify(data[i]!)
        if (kind === "invalid") {
          return yield* gatewayError({
            _tag: "UpstreamProtocol",
            provider,
            message: "the stream sent an invalid event before any content"
          })
        }
        if (kind === "content") {
          content = true
          break
        }
        preambleEnd = ends[i]!
      }
      // The preamble is what came before the first content event, wherever chunks split it.
      if (content ? preambleEnd > preambleLimit : heldBytes > preambleLimit) {
        return yield* gatewayError({
          _tag: "UpstreamProtocol",
          provider,
          message: `the stream sent more than ${formatBytes(preambleLimit)} (server.preamble_limit) before any content`
        })
      }
    }
    if (content) {
      return {
        stream: relay(held as unknown as Arr.NonEmptyReadonlyArray<Uint8Array>, pull, options.terminator, provider)
      } satisfies HeldStream
    }
  }
})

/**
 * The stream after hold-back, in one layer: the held chunks, then the rest of the upstream as it
 * arrives, failing at the end when the terminator never came: a clean upstream end in mid-answer
 * reaches the client as a terminal error event, never as a silent truncation. Only the stream's
 * last 64 bytes are kept (the terminator may arrive in pieces); nothing is parsed on the way.
 */
const relay = (
  held: Arr.NonEmptyReadonlyArray<Uint8Array>,
  pull: Pull.Pull<Arr.NonEmptyReadonlyArray<Uint8Array>, GatewayError>,
  terminator: string,
  provider: string
): Stream.Stream<Uint8Array, GatewayError> =>
  Stream.fromPull(
    Effect.sync(() => {
      const ending = terminatorPattern(terminator)
      let tail: Uint8Array = new Uint8Array(0)
      const track = (chunks: Arr.NonEmptyReadonlyArray<Uint8Array>) => {
        for (const chunk of chunks) tail = keepTail(tail, chunk)
        return chunks
      }
      track(held)
      const atEnd = Effect.suspend(
        (): Effect.Effect<never, GatewayError | Cause.Done> =>
          ending.test(decoder.decode(tail.subarray(-TAIL)))
            ? Cause.done()
            : Effect.fail(
                gatewayError({ _tag: "UpstreamProtocol", provider, message: "the stream ended before its end event" })
              )
      )
      const rest = pull.pipe(
        Effect.map(track),
        Effect.catchCause((cause) => (Pull.isDoneCause(cause) ? atEnd : Effect.failCause(cause)))
      )
      let first: Arr.NonEmptyReadonlyArray<Uint8Array> | undefined = held
      return Effect.suspend(() => {
        if (first === undefined) return rest
        const chunks = first
        first = undefined
        return Effect.succeed(chunks)
      })
    })
  )
