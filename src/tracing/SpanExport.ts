/**
 * A worker's tracer that exports its ended spans to every destination (an OpenTelemetry collector,
 * Langfuse's OTLP endpoint), each through `effect/observability`'s OTLP exporter: batched (at an
 * interval or 512 spans), retried, paused for a minute after it keeps failing, and flushed when the
 * scope closes. The spans are Effect's own (`Tracer.NativeSpan`), written as OTLP once per span and
 * pushed to each destination; a batch goes as OTLP JSON (Effect's serializer) or protobuf
 * (tracing/OtlpProtobuf.ts: Effect's bytes, without its per-field allocations). A failed export
 * (no answer, or a status of 400 or more) is reported to `onFailure` (the worker counts it for the
 * metrics and logs it); no client ever sees it.
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpBody from "effect/http/HttpBody"
import * as HttpClient from "effect/http/HttpClient"
import * as OtlpExporter from "effect/observability/OtlpExporter"
import * as OtlpResource from "effect/observability/OtlpResource"
import * as OtlpSerialization from "effect/observability/OtlpSerialization"
import type { RequestSpan } from "../domain/GenAi.ts"
import { type Attributes, type EndedSpan, SpanArena } from "./OtlpProtobuf.ts"

/** A span's attributes `Map` (Effect's own spans) as key and value arrays. */
const mapAttributes = (map: ReadonlyMap<string, unknown> | undefined): Attributes => {
  const keys: Array<string> = []
  const values: Array<unknown> = []
  map?.forEach((value, key) => {
    keys.push(key)
    values.push(value)
  })
  return { keys, values }
}

/** One place spans go. */
export interface TraceDestination {
  /** `otlp` or `langfuse`: the metrics' label and the log's name for it. */
  readonly name: string
  /** The OTLP traces URL. */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly protocol: "http/protobuf" | "http/json"
  readonly exportIntervalMs: number
  /** The fraction of new traces this destination gets (0..1). */
  readonly sampleRate: number
}

/** Where a trace id falls in [0, 1): its last 8 hex digits, so every span of a trace falls alike. */
export const traceIdRatio = (traceId: string): number => Number.parseInt(traceId.slice(-8), 16) / 0x1_0000_0000

/**
 * Whether a destination gets a sampled trace: traces are sampled at the largest destination rate
 * (`sampledAt`), and a destination with a lower rate gets that share of them, chosen by trace id,
 * so each destination gets its own rate of all traces and a trace goes whole or not at all.
 */
export const destinationKeeps = (destinationRate: number, sampledAt: number, traceId: string): boolean =>
  destinationRate >= sampledAt || traceIdRatio(traceId) < destinationRate / sampledAt

const KIND: Readonly<Record<Tracer.SpanKind, number>> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 }

/** How a span ended, as OTLP says it (the same as `effect/observability`'s own tracer). */
export const endedSpan = (
  span: Tracer.NativeSpan,
  endTime: bigint,
  exit: Exit.Exit<unknown, unknown>,
  attributes: Attributes = mapAttributes(span._attributes)
): EndedSpan => {
  let status: EndedSpan["status"]
  let extraAttributes: EndedSpan["extraAttributes"] = []
  if (exit._tag === "Success") status = { code: 1 }
  else if (Cause.hasInterruptsOnly(exit.cause)) {
    status = { code: 0 }
    extraAttributes = [["effect.fiber.interrupted", true]]
  } else status = { code: 2, message: Cause.pretty(exit.cause).split("\n")[0] ?? "" }
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: Option.isSome(span.parent) ? span.parent.value.spanId : undefined,
    name: span.name,
    kind: KIND[span.kind],
    startTime: span.startTime,
    endTime,
    attributes,
    extraAttributes,
    events: span._events ?? [],
    links: span.links.map((l) => ({ traceId: l.span.traceId, spanId: l.span.spanId, attributes: l.attributes })),
    status
  }
}

/** A span as OTLP JSON writes it (the `http/json` destinations). */
export const toOtlpSpan = (span: EndedSpan) => ({
  traceId: span.traceId.padStart(32, "0"),
  spanId: span.spanId,
  parentSpanId: span.parentSpanId,
  name: span.name,
  kind: span.kind,
  startTimeUnixNano: String(span.startTime),
  endTimeUnixNano: String(span.endTime),
  attributes: OtlpResource.entriesToAttributes([
    ...span.attributes.keys.map((k, i): [string, unknown] => [k, span.attributes.values[i]]),
    ...span.extraAttributes.map(([k, v]): [string, unknown] => [k, v])
  ]),
  droppedAttributesCount: 0,
  events: span.events.map(([name, time, attrs]) => ({
    name,
    timeUnixNano: String(time),
    attributes: attrs === undefined ? [] : OtlpResource.entriesToAttributes(Object.entries(attrs)),
    droppedAttributesCount: 0
  })),
  droppedEventsCount: 0,
  status: span.status,
  links: span.links.map((l) => ({
    traceId: l.traceId.padStart(32, "0"),
    spanId: l.spanId,
    attributes: OtlpResource.entriesToAttributes(Object.entries(l.attributes)),
    droppedAttributesCount: 0
  })),
  droppedLinksCount: 0
})

/** What happens to a span at its end. */
type OnEnded = (span: ExportedSpan, endTime: bigint, exit: Exit.Exit<unknown, unknown>) => void

/**
 * Effect's span, handed to `ended` once when it ends. Its attributes are kept in two arrays in the
 * order first set (a later value replacing an earlier one) instead of Effect's `Map`: a request's
 * span sets some twenty, which a Map stores by growing and rehashing its table, and which an
 * encoder reads through an entry array each. A request's spans are started directly (`startSpan`,
 * `child`), not through a fiber (`Effect.makeSpan` reads the tracer, clock and trace settings from
 * the fiber's context at every span).
 */
class ExportedSpan extends Tracer.NativeSpan implements RequestSpan {
  readonly ended: OnEnded
  readonly attributeKeys: Array<string> = []
  readonly attributeValues: Array<unknown> = []
  constructor(options: ConstructorParameters<typeof Tracer.NativeSpan>[0], ended: OnEnded) {
    super(options)
    this.ended = ended
  }
  /** A copy (the span's own are set through `attribute`, as Effect sets them). */
  override get attributes(): Map<string, unknown> {
    return new Map(this.attributeKeys.map((key, i) => [key, this.attributeValues[i]]))
  }
  override attribute(key: string, value: unknown): void {
    if (this.status._tag === "Ended") return
    const i = this.attributeKeys.indexOf(key)
    if (i < 0) {
      this.attributeKeys.push(key)
      this.attributeValues.push(value)
    } else this.attributeValues[i] = value
  }
  override end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    if (this.status._tag === "Ended") return
    super.end(endTime, exit)
    this.ended(this, endTime, exit)
  }
  child(
    name: string,
    kind: Tracer.SpanKind,
    startTime: bigint,
    attributes: Readonly<Record<string, unknown>>
  ): RequestSpan {
    return startSpan(this.ended, name, kind, Option.some(this), this.sampled, startTime, attributes)
  }
}

const NO_LINKS: Array<Tracer.SpanLink> = []

const startSpan = (
  ended: OnEnded,
  name: string,
  kind: Tracer.SpanKind,
  parent: Option.Option<Tracer.AnySpan>,
  sampled: boolean,
  startTime: bigint,
  attributes: Readonly<Record<string, unknown>>
): ExportedSpan => {
  const span = new ExportedSpan(
    { name, parent, annotations: Context.empty(), links: NO_LINKS, startTime, kind, sampled },
    ended
  )
  for (const key in attributes) {
    span.attributeKeys.push(key)
    span.attributeValues.push(attributes[key])
  }
  return span
}

/** Starts a request's span (sampled) under `parent` (none: a new trace). */
export type StartSpan = (
  name: string,
  kind: Tracer.SpanKind,
  parent: Tracer.AnySpan | undefined,
  startTime: bigint,
  attributes: Readonly<Record<string, unknown>>
) => RequestSpan

/** Spans that go nowhere (tracing off; never started on the request path then). */
export const startUnexported: StartSpan = (name, kind, parent, startTime, attributes) =>
  startSpan(() => {}, name, kind, Option.fromUndefinedOr(parent), true, startTime, attributes)

export interface SpanExport {
  readonly tracer: Tracer.Tracer
  /** A request's spans, started directly (App's server span; its `child`ren are the attempts). */
  readonly startSpan: StartSpan
  /** Exports what every destination holds now (within 2 s). */
  readonly flush: Effect.Effect<void>
}

/** The tracer exporting to `destinations`, from fibers of the calling scope. */
export const makeSpanExport = (options: {
  readonly destinations: ReadonlyArray<TraceDestination>
  readonly resource: {
    readonly serviceName: string
    readonly serviceVersion: string
    readonly attributes: Record<string, unknown>
  }
  readonly onFailure: (destination: string) => void
  /** The client the batches go out with (tracing/PortHttpClient.ts); the global `fetch` when absent. */
  readonly http?: HttpClient.HttpClient | undefined
}): Effect.Effect<SpanExport, never, Scope.Scope> =>
  Effect.gen(function* () {
    const flusher = Context.get(yield* Layer.build(OtlpExporter.layerFlusher), OtlpExporter.Flusher)
    const http = options.http ?? Context.get(yield* Layer.build(FetchHttpClient.layer), HttpClient.HttpClient)
    const resource = OtlpResource.make(options.resource)
    const scope = { name: "llmgate" }
    const exporters = yield* Effect.forEach(options.destinations, (d) =>
      Effect.gen(function* () {
        // A JSON destination gets OTLP objects; a protobuf one each span's place in its arena, the
        // span encoded there at its end.
        const arena = new SpanArena()
        const json =
          d.protocol === "http/json"
            ? Context.get(yield* Layer.build(OtlpSerialization.layerJson), OtlpSerialization.OtlpSerialization)
            : undefined
        const body = (spans: Array<unknown>): HttpBody.HttpBody =>
          json === undefined
            ? HttpBody.uint8Array(arena.take(resource, scope, spans as Array<number>), "application/x-protobuf")
            : json.traces({
                resourceSpans: [
                  { resource, scopeSpans: [{ scope, spans: spans as Array<ReturnType<typeof toOtlpSpan>> }] }
                ]
              })
        const failed = Effect.sync(() => options.onFailure(d.name))
        const client = http.pipe(
          HttpClient.tap((response) => (response.status >= 400 ? failed : Effect.void)),
          HttpClient.tapError(() => failed)
        )
        const exporter = yield* OtlpExporter.make({
          label: `llmgate-${d.name}`,
          url: d.url,
          headers: d.headers,
          exportInterval: `${d.exportIntervalMs} millis`,
          maxBatchSize: 512,
          body: (spans: Array<unknown>) => [body(spans), Effect.void],
          shutdownTimeout: "2 seconds"
        }).pipe(
          Effect.provideService(OtlpExporter.Flusher, flusher),
          Effect.provideService(HttpClient.HttpClient, client)
        )
        return { exporter, arena }
      })
    )
    const sampledAt = Math.max(0, ...options.destinations.map((d) => d.sampleRate))
    const ended: OnEnded = (span, endTime, exit) => {
      if (!span.sampled) return
      let view: EndedSpan | undefined
      let json: ReturnType<typeof toOtlpSpan> | undefined
      /** The first protobuf destination's arena and the span's place there; the others copy it. */
      let written: { readonly arena: SpanArena; readonly place: number } | undefined
      for (let i = 0; i < options.destinations.length; i++) {
        const d = options.destinations[i]!
        if (!destinationKeeps(d.sampleRate, sampledAt, span.traceId)) continue
        const { exporter, arena } = exporters[i]!
        view ??= endedSpan(span, endTime, exit, { keys: span.attributeKeys, values: span.attributeValues })
        if (d.protocol === "http/json") {
          json ??= toOtlpSpan(view)
          exporter.push(json)
        } else if (written === undefined) {
          written = { arena, place: arena.write(view) }
          exporter.push(written.place)
        } else exporter.push(arena.copy(written.arena, written.place))
      }
    }
    return {
      tracer: Tracer.make({ span: (spanOptions) => new ExportedSpan(spanOptions, ended) }),
      startSpan: (name, kind, parent, startTime, attributes) =>
        startSpan(ended, name, kind, Option.fromUndefinedOr(parent), true, startTime, attributes),
      flush: flusher.flush.pipe(Effect.timeoutOption("2 seconds"), Effect.asVoid)
    }
  })
