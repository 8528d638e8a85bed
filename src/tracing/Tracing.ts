/**
 * Tracing on a worker, with Effect's own tracer: `effect/observability`'s OTLP exporter (no
 * OpenTelemetry SDK; `fetch` for the export, so the same on Node, Bun and Deno). Each worker exports
 * its own spans in batches from a fiber of its scope (every second, or at 512 spans; what is left at
 * its drain), never on the request path; an export that fails is retried, then the exporter pauses
 * for a minute (its failure logged at debug level), and no client sees any of it.
 *
 * Per request (http/App.ts): one server span, continuing an incoming W3C `traceparent` (and
 * following its sampling decision; a new trace is kept with `sample_rate`), ended when the answer
 * ends (a stream's last byte). A request not sampled has no span at all (its incoming
 * `traceparent` goes upstream as it came): with a low `sample_rate`, tracing costs little. The proxy puts the GenAI attributes on it (domain/GenAi.ts); each
 * upstream attempt is a client span under it (routing/Dispatch.ts) whose `traceparent` goes to the
 * provider. With tracing off nothing here runs: `enabled` is false and no span is made.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type * as Tracer from "effect/Tracer"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as Headers from "effect/http/Headers"
import * as HttpTraceContext from "effect/http/HttpTraceContext"
import * as OtlpExporter from "effect/observability/OtlpExporter"
import * as OtlpSerialization from "effect/observability/OtlpSerialization"
import * as OtlpTracer from "effect/observability/OtlpTracer"
import { VERSION } from "../generated/version.ts"

/** Where and how a worker exports traces (resolved at start: startup/StartSettings.ts). */
export interface TracingSettings {
  /** The OTLP traces URL (`<endpoint>/v1/traces`). */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly protocol: "http/protobuf" | "http/json"
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
}

export class RequestTracing extends Context.Service<RequestTracing, RequestTracingShape>()("llmgate/RequestTracing") {
  static readonly off: RequestTracingShape = {
    enabled: false,
    captureContent: false,
    parentOf: () => ({ parent: undefined, sampled: false })
  }
}

/** The request tracing of `settings`; `random` draws the sampling decision of new traces. */
export const makeRequestTracing = (
  settings: TracingSettings,
  random: () => number = Math.random
): RequestTracingShape => ({
  enabled: true,
  captureContent: settings.captureContent,
  parentOf: (traceparent) => {
    const parent =
      traceparent === undefined
        ? undefined
        : Option.getOrUndefined(HttpTraceContext.w3c(Headers.fromInput({ traceparent })))
    return { parent, sampled: parent !== undefined ? parent.sampled : random() < settings.sampleRate }
  }
})

/** A worker's OTLP tracer, and the export of what it holds now (a drain's last step). */
export interface OtlpTracing {
  readonly tracer: Tracer.Tracer
  readonly flush: Effect.Effect<void>
}

/**
 * The OTLP tracer of a worker, exporting from a fiber of the calling scope (whose close, like
 * `flush`, exports what is left, within 2 s).
 */
export const makeOtlpTracer = (
  settings: TracingSettings,
  worker: number
): Effect.Effect<OtlpTracing, never, Scope.Scope> =>
  Effect.gen(function* () {
    const flusher = Context.get(yield* Layer.build(OtlpExporter.layerFlusher), OtlpExporter.Flusher)
    const tracer = yield* OtlpTracer.make({
      url: settings.url,
      headers: settings.headers,
      resource: {
        serviceName: settings.serviceName,
        serviceVersion: VERSION,
        attributes: { "llmgate.worker": worker }
      },
      exportInterval: "1 second",
      maxBatchSize: 512,
      shutdownTimeout: "2 seconds"
    }).pipe(
      Effect.provideService(OtlpExporter.Flusher, flusher),
      Effect.provide(
        Layer.merge(
          FetchHttpClient.layer,
          settings.protocol === "http/json" ? OtlpSerialization.layerJson : OtlpSerialization.layerProtobuf
        )
      )
    )
    return { tracer, flush: flusher.flush.pipe(Effect.timeoutOption("2 seconds"), Effect.asVoid) }
  })
