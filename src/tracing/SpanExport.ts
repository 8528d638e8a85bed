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
import { type Attributes, type EndedSpan, encodeEncodedSpans, makeSpanEncoder } from "./OtlpProtobuf.ts"

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

/**
 * Effect's span, handed to `ended` once when it ends. Its attributes are kept in two arrays in the
 * order first set (a later value replacing an earlier one) instead of Effect's `Map`: a request's
 * span sets some twenty, which a Map stores by growing and rehashing its table, and which an
 * encoder reads through an entry array each.
 */
class ExportedSpan extends Tracer.NativeSpan {
  readonly ended: (span: ExportedSpan, endTime: bigint, exit: Exit.Exit<unknown, unknown>) => void
  readonly attributeKeys: Array<string> = []
  readonly attributeValues: Array<unknown> = []
  constructor(
    options: ConstructorParameters<typeof Tracer.NativeSpan>[0],
    ended: (span: ExportedSpan, endTime: bigint, exit: Exit.Exit<unknown, unknown>) => void
  ) {
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
}

export interface SpanExport {
  readonly tracer: Tracer.Tracer
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
}): Effect.Effect<SpanExport, never, Scope.Scope> =>
  Effect.gen(function* () {
    const flusher = Context.get(yield* Layer.build(OtlpExporter.layerFlusher), OtlpExporter.Flusher)
    const fetchClient = Context.get(yield* Layer.build(FetchHttpClient.layer), HttpClient.HttpClient)
    const resource = OtlpResource.make(options.resource)
    const scope = { name: "llmgate" }
    const exporters = yield* Effect.forEach(options.destinations, (d) =>
      Effect.gen(function* () {
        // A JSON destination gets OTLP objects; a protobuf one each span's bytes, encoded at its end.
        const json =
          d.protocol === "http/json"
            ? Context.get(yield* Layer.build(OtlpSerialization.layerJson), OtlpSerialization.OtlpSerialization)
            : undefined
        const body = (spans: Array<unknown>): HttpBody.HttpBody =>
          json === undefined
            ? HttpBody.uint8Array(
                encodeEncodedSpans(resource, scope, spans as Array<Uint8Array>),
                "application/x-protobuf"
              )
            : json.traces({
                resourceSpans: [
                  { resource, scopeSpans: [{ scope, spans: spans as Array<ReturnType<typeof toOtlpSpan>> }] }
                ]
              })
        const failed = Effect.sync(() => options.onFailure(d.name))
        const client = fetchClient.pipe(
          HttpClient.tap((response) => (response.status >= 400 ? failed : Effect.void)),
          HttpClient.tapError(() => failed)
        )
        return yield* OtlpExporter.make({
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
      })
    )
    const sampledAt = Math.max(0, ...options.destinations.map((d) => d.sampleRate))
    const encodeSpan = makeSpanEncoder()
    const ended = (span: ExportedSpan, endTime: bigint, exit: Exit.Exit<unknown, unknown>) => {
      if (!span.sampled) return
      let view: EndedSpan | undefined
      let json: ReturnType<typeof toOtlpSpan> | undefined
      let bytes: Uint8Array | undefined
      options.destinations.forEach((d, i) => {
        if (!destinationKeeps(d.sampleRate, sampledAt, span.traceId)) return
        view ??= endedSpan(span, endTime, exit, { keys: span.attributeKeys, values: span.attributeValues })
        if (d.protocol === "http/json") {
          json ??= toOtlpSpan(view)
          exporters[i]!.push(json)
        } else {
          bytes ??= encodeSpan(view)
          exporters[i]!.push(bytes)
        }
      })
    }
    return {
      tracer: Tracer.make({ span: (spanOptions) => new ExportedSpan(spanOptions, ended) }),
      flush: flusher.flush.pipe(Effect.timeoutOption("2 seconds"), Effect.asVoid)
    }
  })
