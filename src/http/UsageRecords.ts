/**
 * The usage record of every proxied request (domain/Usage.ts `UsageRecord`), built when the request
 * ends, however it ends, and handed to the worker's `UsageSink` (synchronous, never waiting; the
 * owner writes records in batches). One record per request:
 *
 * - **Answered with bytes** (JSON, a relayed error, a refusal, or nothing served): recorded by the
 *   proxy handler's exit. A successful buffered answer is measured from its reported usage, else
 *   estimated (usage/Measure.ts); an error answer, or a request nothing served, has no usage.
 * - **Answered with a stream**: recorded by the stream's own end hook (`recordedStream`), which runs
 *   when the stream completes, fails midway or is cancelled by the client: the usage the upstream
 *   reported (the gateway asked for it: usage/StreamUsageRequest.ts; a passed-through Responses
 *   stream reports it in its terminal event), else an estimate of what was generated (billed for
 *   what was sent). The usage-only chunk the client did not ask for is taken
 *   out on the way (usage/UsageRelay.ts). `ttft_ms` is the time to the stream's first byte, which
 *   after hold-back (streaming/HoldBack.ts) carries the first content.
 *
 * `latency_ms` runs from the request's arrival to its answer (a stream's: to its end). A request the
 * client left before it was answered is `cancelled` with status 499 (nothing was answered).
 */
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import type { Principal } from "../auth/Auth.ts"
import type { ClientApi } from "../domain/Endpoint.ts"
import { describe, type GatewayError } from "../domain/GatewayError.ts"
import type { Attempt, Observed } from "../domain/Observed.ts"
import { NO_USAGE, totalTokens, type UsageOutcome } from "../domain/Usage.ts"
import { openAIUsage } from "../providers/openai/OpenAIUsage.ts"
import { usageReaderOf } from "../providers/openai/ResponsesUsage.ts"
import { type Measured, type MeasuredRequest, measureResponse, measureStream } from "../usage/Measure.ts"
import { costOf } from "../usage/Cost.ts"
import type { PriceBook } from "../usage/PriceBook.ts"
import { RECOUNT_TEXT_LIMIT, type RecountableRecord } from "../usage/Recount.ts"
import {
  DEFAULT_TEXT_LIMIT,
  makeStreamUsageTracker,
  makeUsageChunkTracker,
  streamEventsOf
} from "../usage/StreamUsage.ts"
import { makeUsageRelay } from "../usage/UsageRelay.ts"
import type { UsageSinkShape } from "../usage/UsageSink.ts"
import type { WorkerMetricsShape } from "../metrics/WorkerMetrics.ts"
import type { RequestTracingShape } from "../tracing/Tracing.ts"
import { annotateEnding } from "./RequestSpans.ts"
import type { RequestSpan } from "../domain/GenAi.ts"

/**
 * What the proxy needs to record usage: the worker's sink, its own metrics (none: not counted) and
 * its tracing (none: off).
 */
export interface UsageServices {
  readonly sink: UsageSinkShape
  readonly metrics?: WorkerMetricsShape | undefined
  readonly tracing?: RequestTracingShape | undefined
}

/** The status recorded for a request the client left before it was answered (nginx's convention). */
export const CLIENT_CLOSED = 499

/** What is known of a request when it arrives. */
export interface Arrival {
  readonly requestId: string
  /** Epoch milliseconds. */
  readonly atMs: number
  readonly principal: Principal | undefined
  /** The API the client called (recorded), which a translated one's endpoint is not. */
  readonly endpoint: ClientApi
}

/** How a request ended, for its record. */
export interface Ending {
  /** The public (or pinned) model name; empty when the body named none. */
  readonly model: string
  readonly provider: string | null
  readonly upstreamModel: string | null
  readonly measured: Measured
  readonly status: number
  readonly outcome: UsageOutcome
  readonly attempts: number
  readonly latencyMs: number
  readonly ttftMs: number | null
  readonly stream: boolean
  readonly observed: Observed
}

const NOTHING: Measured = { tokens: NO_USAGE, estimated: false }

/** The record of one request (an estimated one with its recount, at the price it was served at). Pure. */
export const buildRecord = (arrival: Arrival, ending: Ending, prices: PriceBook): RecountableRecord => {
  const key = arrival.principal?._tag === "VirtualKey" ? arrival.principal.key : undefined
  const { recount } = ending.measured
  const price = prices.lookup(ending.model, ending.upstreamModel)?.price
  const record = {
    request_id: arrival.requestId,
    at_ms: arrival.atMs,
    key_id: key?.id ?? null,
    project_id: key?.projectId ?? null,
    user_id: key?.userId ?? null,
    endpoint: arrival.endpoint,
    model: ending.model,
    provider: ending.provider,
    upstream_model: ending.upstreamModel,
    tokens: ending.measured.tokens,
    estimated: ending.measured.estimated,
    cost_usd: price === undefined ? null : costOf(ending.measured.tokens, price).usd,
    status: ending.status,
    outcome: ending.outcome,
    attempts: ending.attempts,
    latency_ms: ending.latencyMs,
    ttft_ms: ending.ttftMs,
    stream: ending.stream
  }
  const observed = ending.observed
  return recount === undefined
    ? { ...record, observed }
    : { ...record, observed, recount: { ...recount, price: price ?? null } }
}

/** What the proxy handler learnt before it answered (filled in as the request goes). */
export interface Progress {
  /** When the request arrived, `performance.now()` ms (for the overhead figure). */
  readonly receivedAt: number
  /** The request's server span (tracing on), told how the request ended with its record. */
  readonly span: RequestSpan | undefined
  model: string
  /** The configured model it matched (domain/Observed.ts); "" until routed. */
  configured: string
  stream: boolean
  attempts: number
  provider: string | null
  upstreamModel: string | null
  tries: ReadonlyArray<Attempt>
  /** Time waiting on providers, ms. */
  upstreamMs: number
  /** The gateway's own time, set when the answer (a stream's headers) is given. */
  overheadMs: number | undefined
  /** A buffered answer from a provider, to measure (success only). */
  buffered: { readonly json: Readonly<Record<string, unknown>>; readonly request: MeasuredRequest } | undefined
}

export const startProgress = (receivedAt: number, span?: RequestSpan): Progress => ({
  receivedAt,
  span,
  model: "",
  configured: "",
  stream: false,
  attempts: 0,
  provider: null,
  upstreamModel: null,
  tries: [],
  upstreamMs: 0,
  overheadMs: undefined,
  buffered: undefined
})

/** The gateway's own time so far: since the request arrived, less the time waiting on providers. */
export const overheadSoFar = (progress: Progress): number =>
  Math.max(0, performance.now() - progress.receivedAt - progress.upstreamMs)

/** `Server-Timing` of an answer: the gateway's own time and the providers', ms. */
export const serverTiming = (overheadMs: number, upstreamMs: number): string =>
  `gateway;dur=${overheadMs.toFixed(3)}, upstream;dur=${upstreamMs.toFixed(3)}`

/** The status and outcome of a handler that did not answer: its error's status, or the client left. */
const failedEnding = (
  cause: Cause.Cause<GatewayError>
): { readonly status: number; readonly outcome: UsageOutcome } => {
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) return { status: describe(failure.error.reason).status, outcome: "error" }
  return Cause.hasInterruptsOnly(cause)
    ? { status: CLIENT_CLOSED, outcome: "cancelled" }
    : { status: 500, outcome: "error" }
}

/**
 * Records a request answered with bytes (or not answered at all) from the handler's exit. A
 * streamed answer is left to its stream's end hook (`recordedStream`).
 */
export const recordHandlerExit = <A extends { readonly status: number; readonly body: unknown }>(
  exit: Exit.Exit<A, GatewayError>,
  arrival: Arrival,
  progress: Progress,
  usage: UsageServices,
  prices: PriceBook,
  now: number
): Effect.Effect<void> => {
  if (Exit.isSuccess(exit) && !(exit.value.body instanceof Uint8Array)) return Effect.void
  const { status, outcome } = Exit.isSuccess(exit)
    ? { status: exit.value.status, outcome: exit.value.status < 400 ? ("ok" as const) : ("error" as const) }
    : failedEnding(exit.cause)
  const buffered = progress.buffered
  return Effect.sync(() => {
    const measured =
      buffered === undefined || outcome !== "ok"
        ? NOTHING
        : measureResponse(usageReaderOf(buffered.request.endpoint), buffered.json, buffered.request)
    const ending = endingOf(progress, measured, status, outcome, now - arrival.atMs, null, progress.stream)
    const record = buildRecord(arrival, ending, prices)
    usage.sink.record(record)
    if (progress.span !== undefined)
      annotateEnding(progress.span, record, buffered?.json, usage.tracing?.captureContent === true)
  })
}

/** How a request ended: what the handler learnt of its serving, and the rest. */
const endingOf = (
  progress: Progress,
  measured: Measured,
  status: number,
  outcome: UsageOutcome,
  latencyMs: number,
  ttftMs: number | null,
  stream: boolean
): Ending => ({
  model: progress.model,
  provider: progress.provider,
  upstreamModel: progress.upstreamModel,
  measured,
  status,
  outcome,
  attempts: progress.attempts,
  latencyMs,
  ttftMs,
  stream,
  observed: {
    model: progress.configured,
    tries: progress.tries,
    upstreamMs: progress.upstreamMs,
    overheadMs: progress.overheadMs ?? overheadSoFar(progress)
  }
})

export interface StreamRecording {
  readonly arrival: Arrival
  readonly progress: Progress
  readonly status: number
  readonly request: MeasuredRequest
  /** The upstream was asked for the usage chunk (usage/StreamUsageRequest.ts). */
  readonly usageRequested: boolean
  /** The client asked for it too: relay it, else take it out. */
  readonly clientAsked: boolean
  /** `server.sse_line_limit`. */
  readonly lineLimit: number
  readonly usage: UsageServices
  readonly prices: PriceBook
  readonly clock: Clock.Clock
}

export interface RecordedStream {
  readonly stream: Stream.Stream<Uint8Array, GatewayError>
  /** The total tokens measured at the stream's end (undefined until then): the limiter settles to it. */
  readonly totalTokens: () => number | undefined
  /** The usage measured at the stream's end (undefined until then): a budget settles to its cost. */
  readonly measured: () => Measured | undefined
}

/**
 * The relayed stream watched for its usage, with the usage-only chunk taken out when the client did
 * not ask for it; its end (completed, failed, cancelled) measures the usage and records the request.
 */
export const recordedStream = (
  upstream: Stream.Stream<Uint8Array, GatewayError>,
  r: StreamRecording
): RecordedStream => {
  // The chunk tracker keeps the first events whole (references, no parse) for an estimate's recount;
  // a stream whose usage was not asked for (a passed-through Responses stream) is read event by event.
  const { endpoint } = r.request
  const tracker = r.usageRequested
    ? makeUsageChunkTracker(openAIUsage, RECOUNT_TEXT_LIMIT)
    : makeStreamUsageTracker(usageReaderOf(endpoint), DEFAULT_TEXT_LIMIT, streamEventsOf(endpoint))
  const relay = makeUsageRelay({ tracker, drop: r.usageRequested && !r.clientAsked, lineLimit: r.lineLimit })
  let firstAt: number | undefined
  let total: number | undefined
  let measuredAtEnd: Measured | undefined
  const stream = upstream.pipe(
    Stream.map((chunk) => {
      firstAt ??= r.clock.currentTimeMillisUnsafe()
      return relay.push(chunk)
    }),
    Stream.concat(Stream.suspend(() => Stream.succeed(relay.end()))),
    Stream.filter((chunk) => chunk.length > 0),
    Stream.onExit((exit) =>
      Effect.sync(() => {
        // An error status relayed as a stream (not held back: dispatch) used nothing.
        const measured = r.status >= 400 ? NOTHING : measureStream(tracker, r.request)
        total = totalTokens(measured.tokens)
        measuredAtEnd = measured
        const outcome: UsageOutcome =
          r.status >= 400 || (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause))
            ? "error"
            : Exit.isSuccess(exit)
              ? "ok"
              : "cancelled"
        const { arrival } = r
        const latencyMs = r.clock.currentTimeMillisUnsafe() - arrival.atMs
        const ttftMs = firstAt === undefined ? null : firstAt - arrival.atMs
        const ending = endingOf(r.progress, measured, r.status, outcome, latencyMs, ttftMs, true)
        const record = buildRecord(arrival, ending, r.prices)
        r.usage.sink.record(record)
        if (r.progress.span !== undefined) annotateEnding(r.progress.span, record, undefined, false)
      })
    )
  )
  return { stream, totalTokens: () => total, measured: () => measuredAtEnd }
}

/**
 * Relayed bytes (speech audio: domain/Endpoint.ts) recorded at their end, with no usage (nothing in
 * them is read): `ok` when they ended whole, `cancelled` when the client left, else `error`.
 */
export const recordedBytes = (
  upstream: Stream.Stream<Uint8Array, GatewayError>,
  r: Pick<StreamRecording, "arrival" | "progress" | "status" | "usage" | "prices" | "clock">
): Stream.Stream<Uint8Array, GatewayError> => {
  let firstAt: number | undefined
  return upstream.pipe(
    Stream.tap(() =>
      Effect.sync(() => {
        firstAt ??= r.clock.currentTimeMillisUnsafe()
      })
    ),
    Stream.onExit((exit) =>
      Effect.sync(() => {
        const outcome: UsageOutcome = Exit.isSuccess(exit)
          ? "ok"
          : Cause.hasInterruptsOnly(exit.cause)
            ? "cancelled"
            : "error"
        const { arrival } = r
        const latencyMs = r.clock.currentTimeMillisUnsafe() - arrival.atMs
        const ttftMs = firstAt === undefined ? null : firstAt - arrival.atMs
        const ending = endingOf(r.progress, NOTHING, r.status, outcome, latencyMs, ttftMs, false)
        const record = buildRecord(arrival, ending, r.prices)
        r.usage.sink.record(record)
        if (r.progress.span !== undefined) annotateEnding(r.progress.span, record, undefined, false)
      })
    )
  )
}
