/**
 * Tracing on a worker, with Effect's own spans and `effect/observability`'s OTLP exporter (no
 * OpenTelemetry SDK; the batches go out through the upstream port, tracing/PortHttpClient.ts), to an
 * OpenTelemetry collector, to Langfuse's OTLP endpoint, or both (tracing/SpanExport.ts). Each worker
 * exports its own spans in batches from fibers of its scope (every second, or at 512 spans; what is
 * left at its drain), never on the request path; an export that fails is retried, then that
 * destination pauses for a minute; failures are counted and logged, and no client sees any of it.
 *
 * Per request (http/App.ts): one server span, continuing an incoming W3C `traceparent` (and
 * following its sampling decision; a new trace is kept with `sample_rate`), ended when the answer
 * ends (a stream's last byte). A request not sampled has no span at all (its incoming
 * `traceparent` goes upstream as it came): with a low `sample_rate`, tracing costs little. The proxy puts the GenAI attributes on it (domain/GenAi.ts); each
 * upstream attempt is a client span under it (routing/Dispatch.ts) whose `traceparent` goes to the
 * provider. Both are started directly (`startSpan`, `RequestSpan.child`) and handed on by the
 * request path, not through the fiber's context (tracing/SpanExport.ts says why). With tracing
 * off nothing here runs: `enabled` is false and no span is made.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type * as Tracer from "effect/Tracer"
import * as Headers from "effect/http/Headers"
import * as HttpTraceContext from "effect/http/HttpTraceContext"
import { VERSION } from "../generated/version.ts"
import type { UpstreamClientsShape } from "../providers/UpstreamClients.ts"
import { portHttpClient } from "./PortHttpClient.ts"
import {
  makeSpanExport,
  type SpanExport,
  type StartSpan,
  startUnexported,
  type TraceDestination
} from "./SpanExport.ts"

export type { TraceDestination } from "./SpanExport.ts"

/** Where and how a worker exports traces (resolved at start: startup/StartSettings.ts). */
export interface TracingSettings {
  /** An OpenTelemetry collector (`otlp`), Langfuse (`langfuse`), or both, each at its own rate. */
  readonly destinations: ReadonlyArray<TraceDestination>
  /** The fraction of new traces with spans: the largest of the destinations' rates. */
  readonly sampleRate: number
  readonly captureContent: boolean
  readonly serviceName: string
}

export interface RequestTracingShape {
  /** False: tracing is off and the request path makes no span. */
  readonly enabled: boolean
  /** Prompts and completions go on the spans (`tracing.capture_content`). */
  readonly captureContent: boolean
  /**
   * The parent and sampling decision of a request's span: an incoming `traceparent` is continued
   * with its own decision; a new trace is kept with probability `sample_rate`.
   */
  readonly parentOf: (traceparent: string | undefined) => {
    readonly parent: Tracer.ExternalSpan | undefined
    readonly sampled: boolean
  }
  /** Starts a sampled request's server span (`parentOf`'s parent, or a new trace) at a clock's time. */
  readonly startSpan: StartSpan
}

export class RequestTracing extends Context.Service<RequestTracing, RequestTracingShape>()("llmgate/RequestTracing") {
  static readonly off: RequestTracingShape = {
    enabled: false,
    captureContent: false,
    parentOf: () => ({ parent: undefined, sampled: false }),
    startSpan: startUnexported
  }
}

/**
 * The request tracing of `settings`, its spans started by `startSpan` (the worker's `SpanExport`);
 * `random` draws the sampling decision of new traces.
 */
export const makeRequestTracing = (
  settings: TracingSettings,
  startSpan: StartSpan,
  random: () => number = Math.random
): RequestTracingShape => ({
  enabled: true,
  captureContent: settings.captureContent,
  startSpan,
  parentOf: (traceparent) => {
    const parent =
      traceparent === undefined
        ? undefined
        : Option.getOrUndefined(HttpTraceContext.w3c(Headers.fromInput({ traceparent })))
    return { parent, sampled: parent !== undefined ? parent.sampled : random() < settings.sampleRate }
  }
})

/**
 * A worker's tracer, exporting to the settings' destinations from fibers of the calling scope;
 * `flush` exports what they hold now (a drain's last step). `onFailure` hears each failed export.
 */
export const makeTracing = (
  settings: TracingSettings,
  worker: number,
  onFailure: (destination: string) => void,
  clients: UpstreamClientsShape
): Effect.Effect<SpanExport, never, Scope.Scope> =>
  makeSpanExport({
    destinations: settings.destinations,
    resource: { serviceName: settings.serviceName, serviceVersion: VERSION, attributes: { "llmgate.worker": worker } },
    onFailure,
    http: portHttpClient(clients)
  })
