/**
 * OTLP traces as protobuf (`http/protobuf`), written straight into one growable byte buffer: the
 * same bytes, field for field and in the same order, as `effect/observability`'s own encoder
 * (`OtlpSerialization.layerProtobuf`), which builds and concatenates a small array for every field
 * and every nesting level and runs each varint through a BigInt; the test compares the two byte for
 * byte. It takes the request Effect's serializer takes: the OTLP JSON shape
 * (`{ resourceSpans: [{ resource, scopeSpans: [{ scope, spans }] }] }`).
 *
 * How: a nested message reserves the bytes its length will likely need (one for a key/value, two
 * for a span, three for a batch), is written in place, then gets its length written in front; when
 * the length needs another number of bytes the body moves (`copyWithin`), so every length is the
 * shortest varint, as Effect writes it. ASCII strings are copied a character at a time (the common
 * case: attribute keys and values); any other goes through `TextEncoder.encodeInto`, which writes
 * a lone surrogate as U+FFFD as Effect's `TextEncoder.encode` does. Ids go from hex straight into the
 * buffer; the decimal nanosecond times are split into two 32-bit halves without a BigInt. Odd
 * inputs (a non-digit time, a non-hex id, an integer outside the safe range, a negative varint)
 * take the path Effect takes (`BigInt`, `parseInt`), so they come out the same too.
 */
import type * as OtlpResource from "effect/observability/OtlpResource"
import * as OtlpResourceValues from "effect/observability/OtlpResource"
import type * as OtlpTracer from "effect/observability/OtlpTracer"

type ScopeSpans = OtlpTracer.ScopeSpan
type Span = ScopeSpans["spans"][number]
type Event = Span["events"][number]
type Link = Span["links"][number]

/** Fields Effect's encoder writes when present, which its input types leave out. */
interface Scope {
  readonly name: string
  readonly version?: string | undefined
  readonly attributes?: ReadonlyArray<OtlpResource.KeyValue> | undefined
  readonly droppedAttributesCount?: number | undefined
}
interface SpanExtra {
  readonly traceState?: string | undefined
  readonly flags?: number | undefined
}

/** The request: Effect's `TraceData` (what `OtlpSerialization`'s `traces` takes). */
export interface ExportTraceServiceRequest {
  readonly resourceSpans: ReadonlyArray<{
    readonly resource: OtlpResource.Resource
    readonly scopeSpans: ReadonlyArray<{
      readonly scope: Scope
      readonly spans: ReadonlyArray<Span & SpanExtra>
      readonly schemaUrl?: string | undefined
    }>
    readonly schemaUrl?: string | undefined
  }>
}

/** The buffer's first size: 64 KiB, or a power of two above 1 KiB a span (a gateway span is ~0.7 KiB). */
const INITIAL_SIZE = 64 * 1024
const SPAN_SIZE = 1024
/** Strings at least this long go to `TextEncoder.encodeInto` at once, ASCII or not (faster past ~40 characters). */
const NATIVE_STRING_LENGTH = 48
const TWO_32 = 0x1_0000_0000

const encoder = new TextEncoder()

/** How many bytes the varint of `n` (0 ≤ n < 2^32) takes. */
const varintSize = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x20_0000 ? 3 : n < 0x1000_0000 ? 4 : 5)

/** The value of a hex digit's character code, or -1. */
const hexValue = (c: number): number => {
  if (c >= 48 && c <= 57) return c - 48
  const l = c | 0x20
  return l >= 97 && l <= 102 ? l - 87 : -1
}

/** A byte buffer written front to back, doubled when full. */
class Writer {
  buf: Uint8Array<ArrayBuffer>
  view: DataView
  pos = 0

  constructor(size: number) {
    this.buf = new Uint8Array(size)
    this.view = new DataView(this.buf.buffer)
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  /** One byte: a tag (every field number below 16), a bool, a varint's byte. */
  byte(t: number): void {
    this.ensure(1)
    this.buf[this.pos++] = t
  }

  /** A varint of 0 ≤ n < 2^32, room already ensured. */
  private uint32(n: number): void {
    const buf = this.buf
    let p = this.pos
    while (n > 0x7f) {
      buf[p++] = (n & 0x7f) | 0x80
      n >>>= 7
    }
    buf[p++] = n
    this.pos = p
  }

  /** A varint of a 64-bit value given as two unsigned 32-bit halves. */
  private uint64(lo: number, hi: number): void {
    this.ensure(10)
    const buf = this.buf
    let p = this.pos
    while (hi !== 0 || lo > 0x7f) {
      buf[p++] = (lo & 0x7f) | 0x80
      lo = ((lo >>> 7) | (hi << 25)) >>> 0
      hi >>>= 7
    }
    buf[p++] = lo
    this.pos = p
  }

  /** A varint the way Effect writes one: `BigInt(value)`, a negative one as its 64-bit two's complement. */
  private bigVarint(value: bigint): void {
    let n = value < 0n ? BigInt.asUintN(64, value) : value
    while (n > 0x7fn) {
      this.byte(Number(n & 0x7fn) | 0x80)
      n >>= 7n
    }
    this.byte(Number(n))
  }

  /** A varint of a number (a kind, a code, a count). */
  varint(n: number): void {
    if (n >>> 0 === n) {
      this.ensure(5)
      this.uint32(n)
    } else if (Number.isSafeInteger(n)) this.uint64(n >>> 0, Math.floor(n / TWO_32) >>> 0)
    else this.bigVarint(BigInt(n))
  }

  /** An `int64` attribute value (a number, or a decimal string for the unsafe ones). */
  int64(value: string | number): void {
    if (typeof value === "number" && Number.isSafeInteger(value)) this.varint(value)
    else this.bigVarint(BigInt(value))
  }

  /** A little-endian fixed32. */
  fixed32(value: number): void {
    this.ensure(4)
    this.view.setUint32(this.pos, value >>> 0, true)
    this.pos += 4
  }

  /** A little-endian double. */
  double(value: number): void {
    this.ensure(8)
    this.view.setFloat64(this.pos, value, true)
    this.pos += 8
  }

  /** A fixed64 of a bigint (nanoseconds since the epoch), modulo 2^64. */
  fixed64Of(value: bigint): void {
    this.ensure(8)
    this.view.setBigUint64(this.pos, value, true)
    this.pos += 8
  }

  /** A fixed64 of a decimal string (nanoseconds since the epoch): as `BigInt(text)` modulo 2^64. */
  fixed64(text: string): void {
    this.ensure(8)
    const n = text.length
    let lo = 0
    let hi = 0
    let digits = n > 0 && n <= 19
    if (digits) {
      const head = n > 15 ? n - 4 : n
      let v = 0
      for (let i = 0; i < head; i++) {
        const d = text.charCodeAt(i) - 48
        if (d < 0 || d > 9) {
          digits = false
          break
        }
        v = v * 10 + d
      }
      lo = v % TWO_32
      hi = (v - lo) / TWO_32
      if (digits && head < n) {
        let tail = 0
        let scale = 1
        for (let i = head; i < n; i++) {
          const d = text.charCodeAt(i) - 48
          if (d < 0 || d > 9) {
            digits = false
            break
          }
          tail = tail * 10 + d
          scale *= 10
        }
        const low = lo * scale + tail
        const carry = Math.floor(low / TWO_32)
        lo = low - carry * TWO_32
        hi = hi * scale + carry
      }
    }
    if (!digits) {
      const v = BigInt.asUintN(64, BigInt(text))
      lo = Number(v & 0xffff_ffffn)
      hi = Number(v >> 32n)
    }
    const view = this.view
    view.setUint32(this.pos, lo, true)
    view.setUint32(this.pos + 4, hi, true)
    this.pos += 8
  }

  /** A string field (tag, length, UTF-8). */
  string(t: number, s: string): void {
    const n = s.length
    this.ensure(n * 3 + 6)
    const buf = this.buf
    buf[this.pos++] = t
    const start = this.pos
    const reserved = varintSize(n)
    const body = start + reserved
    let i = 0
    if (n < NATIVE_STRING_LENGTH) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i)
        if (c >= 0x80) break
        buf[body + i] = c
      }
    }
    let length = n
    if (i < n) {
      length = encoder.encodeInto(s, buf.subarray(body)).written
      const size = varintSize(length)
      if (size !== reserved) buf.copyWithin(start + size, body, body + length)
    }
    this.pos = start
    this.uint32(length)
    this.pos += length
  }

  /** A string field, left out when undefined or empty (Effect's `optionalStringField`). */
  optionalString(t: number, s: string | undefined): void {
    if (s !== undefined && s !== "") this.string(t, s)
  }

  /** A bytes field of the hex `hex` (as Effect's `encodeHexBytes`: two digits a byte, via `parseInt` when not hex). */
  hex(t: number, hex: string): void {
    const n = hex.length >>> 1
    this.ensure(n + 6)
    const buf = this.buf
    buf[this.pos++] = t
    this.uint32(n)
    const p = this.pos
    for (let i = 0; i < n; i++) {
      const high = hexValue(hex.charCodeAt(2 * i))
      const low = hexValue(hex.charCodeAt(2 * i + 1))
      buf[p + i] = (high | low) < 0 ? Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16) : (high << 4) | low
    }
    this.pos = p + n
  }

  /** A bytes field. */
  bytes(t: number, bytes: Uint8Array): void {
    this.ensure(bytes.length + 6)
    this.buf[this.pos++] = t
    this.uint32(bytes.length)
    this.buf.set(bytes, this.pos)
    this.pos += bytes.length
  }

  /** Starts a nested message: its tag, then `reserved` bytes for its length; returns where they are. */
  begin(t: number, reserved: number): number {
    this.ensure(reserved + 1)
    this.buf[this.pos++] = t
    const start = this.pos
    this.pos += reserved
    return start
  }

  /** Ends the nested message `begin` started: its length in front, the body moved if it needs other room. */
  end(start: number, reserved: number): void {
    const body = start + reserved
    const length = this.pos - body
    const size = varintSize(length)
    if (size !== reserved) {
      this.ensure(size - reserved)
      this.buf.copyWithin(start + size, body, this.pos)
    }
    const end = start + size + length
    this.pos = start
    this.uint32(length)
    this.pos = end
  }
}

const writeAnyValue = (w: Writer, value: OtlpResource.AnyValue): void => {
  if (value.stringValue !== undefined && value.stringValue !== null) w.string(0x0a, value.stringValue)
  else if (value.boolValue !== undefined && value.boolValue !== null) {
    w.byte(0x10)
    w.byte(value.boolValue ? 1 : 0)
  } else if (value.intValue !== undefined && value.intValue !== null) {
    w.byte(0x18)
    w.int64(value.intValue)
  } else if (value.doubleValue !== undefined && value.doubleValue !== null) {
    w.byte(0x21)
    w.double(value.doubleValue)
  } else if (value.arrayValue !== undefined) {
    const start = w.begin(0x2a, 1)
    for (const item of value.arrayValue.values) {
      const itemStart = w.begin(0x0a, 1)
      writeAnyValue(w, item)
      w.end(itemStart, 1)
    }
    w.end(start, 1)
  } else if (value.kvlistValue !== undefined) {
    const start = w.begin(0x32, 1)
    writeKeyValues(w, 0x0a, value.kvlistValue.values)
    w.end(start, 1)
  } else if (value.bytesValue !== undefined) w.bytes(0x3a, value.bytesValue)
}

/** Repeated `KeyValue`s under tag `t`. */
const writeKeyValues = (w: Writer, t: number, attributes: ReadonlyArray<OtlpResource.KeyValue>): void => {
  for (let i = 0; i < attributes.length; i++) {
    const kv = attributes[i]!
    const start = w.begin(t, 1)
    w.string(0x0a, kv.key)
    const valueStart = w.begin(0x12, 1)
    writeAnyValue(w, kv.value)
    w.end(valueStart, 1)
    w.end(start, 1)
  }
}

const writeEvent = (w: Writer, event: Event): void => {
  w.byte(0x09)
  w.fixed64(event.timeUnixNano)
  w.string(0x12, event.name)
  writeKeyValues(w, 0x1a, event.attributes)
  if (event.droppedAttributesCount > 0) {
    w.byte(0x20)
    w.varint(event.droppedAttributesCount)
  }
}

const writeLink = (w: Writer, link: Link & SpanExtra): void => {
  w.hex(0x0a, link.traceId)
  w.hex(0x12, link.spanId)
  w.optionalString(0x1a, link.traceState)
  writeKeyValues(w, 0x22, link.attributes)
  if (link.droppedAttributesCount > 0) {
    w.byte(0x28)
    w.varint(link.droppedAttributesCount)
  }
  if (link.flags !== undefined) {
    w.byte(0x35)
    w.fixed32(link.flags)
  }
}

const writeSpan = (w: Writer, span: Span & SpanExtra): void => {
  w.hex(0x0a, span.traceId)
  w.hex(0x12, span.spanId)
  w.optionalString(0x1a, span.traceState)
  if (span.parentSpanId !== undefined) w.hex(0x22, span.parentSpanId)
  w.string(0x2a, span.name)
  w.byte(0x30)
  w.varint(span.kind)
  w.byte(0x39)
  w.fixed64(span.startTimeUnixNano)
  w.byte(0x41)
  w.fixed64(span.endTimeUnixNano)
  writeKeyValues(w, 0x4a, span.attributes)
  if (span.droppedAttributesCount > 0) {
    w.byte(0x50)
    w.varint(span.droppedAttributesCount)
  }
  for (const event of span.events) {
    const start = w.begin(0x5a, 1)
    writeEvent(w, event)
    w.end(start, 1)
  }
  if (span.droppedEventsCount > 0) {
    w.byte(0x60)
    w.varint(span.droppedEventsCount)
  }
  for (const link of span.links) {
    const start = w.begin(0x6a, 1)
    writeLink(w, link)
    w.end(start, 1)
  }
  if (span.droppedLinksCount > 0) {
    w.byte(0x70)
    w.varint(span.droppedLinksCount)
  }
  const status = w.begin(0x7a, 1)
  w.optionalString(0x12, span.status.message)
  w.byte(0x18)
  w.varint(span.status.code)
  w.end(status, 1)
  if (span.flags !== undefined) {
    w.byte(0x85)
    w.byte(0x01)
    w.fixed32(span.flags)
  }
}

const writeScope = (w: Writer, scope: Scope): void => {
  w.string(0x0a, scope.name)
  w.optionalString(0x12, scope.version)
  if (scope.attributes) writeKeyValues(w, 0x1a, scope.attributes)
  if (scope.droppedAttributesCount) {
    w.byte(0x20)
    w.varint(scope.droppedAttributesCount)
  }
}

/**
 * A JavaScript attribute value as `OtlpResource.unknownToAttributeValue` maps it, written straight
 * into `w` (an `AnyValue` message's fields) without building the OTLP object first.
 */
const INT64_BOUND = 2 ** 63
const writeUnknown = (w: Writer, value: unknown): void => {
  if (Array.isArray(value)) {
    const start = w.begin(0x2a, 1)
    for (const item of value) {
      const itemStart = w.begin(0x0a, 1)
      writeUnknown(w, item)
      w.end(itemStart, 1)
    }
    w.end(start, 1)
    return
  }
  switch (typeof value) {
    case "string":
      w.string(0x0a, value)
      return
    case "number":
      if (Number.isInteger(value) && value >= -INT64_BOUND && value < INT64_BOUND) {
        w.byte(0x18)
        w.int64(Number.isSafeInteger(value) ? value : String(BigInt(value)))
      } else {
        w.byte(0x21)
        w.double(value)
      }
      return
    case "boolean":
      w.byte(0x10)
      w.byte(value ? 1 : 0)
      return
    default:
      // Anything else (bigint, objects) as Effect maps it: rare, so through its own function.
      writeAnyValue(w, OtlpResourceValues.unknownToAttributeValue(value))
  }
}

/** One attribute under tag `t`. */
const writeEntry = (w: Writer, t: number, key: string, value: unknown): void => {
  const start = w.begin(t, 1)
  w.string(0x0a, key)
  const valueStart = w.begin(0x12, 1)
  writeUnknown(w, value)
  w.end(valueStart, 1)
  w.end(start, 1)
}

/** Attributes from key/value entries (an event's or a link's object), under tag `t`. */
const writeEntries = (w: Writer, t: number, entries: ReadonlyArray<readonly [string, unknown]>): void => {
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    writeEntry(w, t, entry[0], entry[1])
  }
}

/** A span's attributes: keys and their values, in the order first set. */
export interface Attributes {
  readonly keys: ReadonlyArray<string>
  readonly values: ReadonlyArray<unknown>
}

/** What a span needs besides Effect's `NativeSpan` fields: how it ended, as OTLP says it. */
export interface EndedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly kind: number
  readonly startTime: bigint
  readonly endTime: bigint
  readonly attributes: Attributes
  /** Extra attributes after the span's own (e.g. `effect.fiber.interrupted`). */
  readonly extraAttributes: ReadonlyArray<readonly [string, unknown]>
  readonly events: ReadonlyArray<readonly [name: string, time: bigint, attributes: Record<string, unknown> | undefined]>
  readonly links: ReadonlyArray<{
    readonly traceId: string
    readonly spanId: string
    readonly attributes: Record<string, unknown>
  }>
  readonly status: { readonly code: 0 | 1 | 2; readonly message?: string | undefined }
}

/** One span's protobuf `Span` message body (the fields `writeSpan` writes for its OTLP object). */
const writeEndedSpan = (w: Writer, span: EndedSpan): void => {
  w.hex(0x0a, span.traceId.length === 32 ? span.traceId : span.traceId.padStart(32, "0"))
  w.hex(0x12, span.spanId)
  if (span.parentSpanId !== undefined) w.hex(0x22, span.parentSpanId)
  w.string(0x2a, span.name)
  w.byte(0x30)
  w.varint(span.kind)
  w.byte(0x39)
  w.fixed64Of(span.startTime)
  w.byte(0x41)
  w.fixed64Of(span.endTime)
  const { keys, values } = span.attributes
  for (let i = 0; i < keys.length; i++) writeEntry(w, 0x4a, keys[i]!, values[i])
  writeEntries(w, 0x4a, span.extraAttributes)
  for (const [name, time, attributes] of span.events) {
    const start = w.begin(0x5a, 1)
    w.byte(0x09)
    w.fixed64Of(time)
    w.string(0x12, name)
    if (attributes !== undefined) writeEntries(w, 0x1a, Object.entries(attributes))
    w.end(start, 1)
  }
  for (const link of span.links) {
    const start = w.begin(0x6a, 1)
    w.hex(0x0a, link.traceId.padStart(32, "0"))
    w.hex(0x12, link.spanId)
    writeEntries(w, 0x22, Object.entries(link.attributes))
    w.end(start, 1)
  }
  const status = w.begin(0x7a, 1)
  w.optionalString(0x12, span.status.message)
  w.byte(0x18)
  w.varint(span.status.code)
  w.end(status, 1)
}

/**
 * Ended spans waiting for their batch, written at their end as protobuf `spans` fields back to
 * back in one buffer: no allocation per span, and nothing per span for the garbage collector to
 * carry to the old generation while it waits for the export. A span is known by its place
 * (`write` returns it; monotonic, never reused), which is what the exporter holds; `take` writes
 * a batch's request from the places it is given and gives their room back (the rest moves to the
 * front). Spans written but never taken (the exporter dropped them) are skipped and reclaimed
 * with the next batch; past `limit` bytes held, every span held is dropped (a stalled exporter
 * costs at most `limit` of memory), and places from before the drop are skipped.
 */
export class SpanArena {
  private readonly w: Writer
  /** The place of the buffer's first byte. */
  private base = 0
  private readonly limit: number
  constructor(limit: number = 16 * 2 ** 20) {
    this.limit = limit
    this.w = new Writer(INITIAL_SIZE)
  }

  /** The bytes held now. */
  get size(): number {
    return this.w.pos
  }

  /** Writes `span` at the end; returns its place. */
  write(span: EndedSpan): number {
    const w = this.w
    if (w.pos > this.limit) this.dropAll()
    const place = this.base + w.pos
    const start = w.begin(0x12, 2)
    writeEndedSpan(w, span)
    w.end(start, 2)
    return place
  }

  /** Copies the span at `place` of `from` to the end of this one; returns its place here (-1: not held there). */
  copy(from: SpanArena, place: number): number {
    const bytes = from.bytesAt(place)
    if (bytes === undefined) return -1
    const w = this.w
    if (w.pos > this.limit) this.dropAll()
    const here = this.base + w.pos
    w.ensure(bytes.length)
    w.buf.set(bytes, w.pos)
    w.pos += bytes.length
    return here
  }

  /**
   * The protobuf `ExportTraceServiceRequest` of `resource` and `scope` over the spans at `places`
   * (in the order written), the bytes `encodeTraces` writes for the same spans as OTLP objects.
   * Every span up to the last of them is let go.
   */
  take(resource: OtlpResource.Resource, scope: Scope, places: ReadonlyArray<number>): Uint8Array {
    let bytes = 0
    let last = -1
    for (let i = 0; i < places.length; i++) {
      const span = this.bytesAt(places[i]!)
      if (span === undefined) continue
      bytes += span.length
      last = places[i]! + span.length
    }
    let size = 4096
    while (size < bytes + 4096) size *= 2
    const out = new Writer(size)
    const resourceSpansStart = out.begin(0x0a, 3)
    const resourceStart = out.begin(0x0a, 2)
    writeKeyValues(out, 0x0a, resource.attributes)
    if (resource.droppedAttributesCount > 0) {
      out.byte(0x10)
      out.varint(resource.droppedAttributesCount)
    }
    out.end(resourceStart, 2)
    const scopeSpansStart = out.begin(0x12, 3)
    const scopeStart = out.begin(0x0a, 1)
    writeScope(out, scope)
    out.end(scopeStart, 1)
    for (let i = 0; i < places.length; i++) {
      const span = this.bytesAt(places[i]!)
      if (span === undefined) continue
      out.ensure(span.length)
      out.buf.set(span, out.pos)
      out.pos += span.length
    }
    out.end(scopeSpansStart, 3)
    out.end(resourceSpansStart, 3)
    if (last >= 0) this.release(last)
    return out.buf.subarray(0, out.pos)
  }

  /** The `spans` field written at `place`, while it is held. */
  private bytesAt(place: number): Uint8Array | undefined {
    const at = place - this.base
    const w = this.w
    if (at < 0 || at >= w.pos) return undefined
    // A `spans` field: tag 0x12, its length as a varint, its body.
    let length = 0
    let shift = 0
    let p = at + 1
    for (;;) {
      const b = w.buf[p++]!
      length += (b & 0x7f) * 2 ** shift
      if (b < 0x80) break
      shift += 7
    }
    return w.buf.subarray(at, p + length)
  }

  /** Gives back the room of every span before `place` (the rest moves to the front). */
  private release(place: number): void {
    const at = place - this.base
    const w = this.w
    if (at <= 0) return
    w.buf.copyWithin(0, at, w.pos)
    w.pos -= at
    this.base = place
  }

  private dropAll(): void {
    this.base += this.w.pos
    this.w.pos = 0
  }
}

/** The protobuf `ExportTraceServiceRequest` (`TracesData`) of `request`, as Effect's encoder writes it. */
export const encodeTraces = (request: ExportTraceServiceRequest): Uint8Array => {
  let spans = 0
  for (const resourceSpans of request.resourceSpans) {
    for (const scopeSpans of resourceSpans.scopeSpans) spans += scopeSpans.spans.length
  }
  let size = INITIAL_SIZE
  while (size < spans * SPAN_SIZE) size *= 2
  const w = new Writer(size)
  for (const resourceSpans of request.resourceSpans) {
    const resourceSpansStart = w.begin(0x0a, 3)
    const resource = w.begin(0x0a, 2)
    writeKeyValues(w, 0x0a, resourceSpans.resource.attributes)
    if (resourceSpans.resource.droppedAttributesCount > 0) {
      w.byte(0x10)
      w.varint(resourceSpans.resource.droppedAttributesCount)
    }
    w.end(resource, 2)
    for (const scopeSpans of resourceSpans.scopeSpans) {
      const scopeSpansStart = w.begin(0x12, 3)
      const scope = w.begin(0x0a, 1)
      writeScope(w, scopeSpans.scope)
      w.end(scope, 1)
      for (const span of scopeSpans.spans) {
        const start = w.begin(0x12, 2)
        writeSpan(w, span)
        w.end(start, 2)
      }
      w.optionalString(0x1a, scopeSpans.schemaUrl)
      w.end(scopeSpansStart, 3)
    }
    w.optionalString(0x1a, resourceSpans.schemaUrl)
    w.end(resourceSpansStart, 3)
  }
  return w.buf.subarray(0, w.pos)
}
