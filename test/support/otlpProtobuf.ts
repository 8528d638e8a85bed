// A minimal OTLP traces protobuf decoder for the test receiver, written from the OTLP .proto files
// (opentelemetry/proto/collector/trace/v1, trace/v1, common/v1, resource/v1) and independent of the
// gateway's encoder: an ExportTraceServiceRequest's bytes → the OTLP JSON shape (hex ids, decimal
// nanosecond strings, AnyValue objects), so the receiver checks both protocols with the same code.

type Json = Record<string, unknown>

class Reader {
  at = 0
  readonly bytes: Uint8Array
  constructor(bytes: Uint8Array) {
    this.bytes = bytes
  }
  done(): boolean {
    return this.at >= this.bytes.length
  }
  varint(): bigint {
    let result = 0n
    let shift = 0n
    for (;;) {
      const b = this.bytes[this.at++]
      if (b === undefined) throw new Error("otlp protobuf: truncated varint")
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return result
      shift += 7n
    }
  }
  fixed64(): bigint {
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.at, 8)
    this.at += 8
    return view.getBigUint64(0, true)
  }
  double(): number {
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.at, 8)
    this.at += 8
    return view.getFloat64(0, true)
  }
  lengthDelimited(): Uint8Array {
    const n = Number(this.varint())
    const out = this.bytes.subarray(this.at, this.at + n)
    if (out.length !== n) throw new Error("otlp protobuf: truncated field")
    this.at += n
    return out
  }
  /** Each field as (number, wire type), the value read by `read`. */
  fields(read: (field: number, wire: number) => void): void {
    while (!this.done()) {
      const tag = Number(this.varint())
      const field = tag >>> 3
      const wire = tag & 7
      const before = this.at
      read(field, wire)
      if (this.at === before) this.skip(wire)
    }
  }
  skip(wire: number): void {
    if (wire === 0) this.varint()
    else if (wire === 1) this.at += 8
    else if (wire === 2) this.lengthDelimited()
    else if (wire === 5) this.at += 4
    else throw new Error(`otlp protobuf: wire type ${wire}`)
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true })
const text = (r: Reader): string => utf8.decode(r.lengthDelimited())
const hex = (r: Reader): string => Buffer.from(r.lengthDelimited()).toString("hex")
const signed64 = (v: bigint): bigint => (v >= 1n << 63n ? v - (1n << 64n) : v)

const anyValue = (bytes: Uint8Array): Json => {
  const r = new Reader(bytes)
  let out: Json = {}
  r.fields((field) => {
    if (field === 1) out = { stringValue: text(r) }
    else if (field === 2) out = { boolValue: r.varint() !== 0n }
    else if (field === 3) out = { intValue: String(signed64(r.varint())) }
    else if (field === 4) out = { doubleValue: r.double() }
    else if (field === 5) {
      const values: Array<Json> = []
      const a = new Reader(r.lengthDelimited())
      a.fields((f) => {
        if (f === 1) values.push(anyValue(a.lengthDelimited()))
      })
      out = { arrayValue: { values } }
    } else if (field === 6) out = { kvlistValue: { values: keyValues(r.lengthDelimited()) } }
  })
  return out
}

/** One KeyValue message's bytes (or a KeyValueList's) → `{ key, value }`s. */
const keyValue = (bytes: Uint8Array): Json => {
  const r = new Reader(bytes)
  const out: Json = { key: "", value: {} }
  r.fields((field) => {
    if (field === 1) out["key"] = text(r)
    else if (field === 2) out["value"] = anyValue(r.lengthDelimited())
  })
  return out
}
const keyValues = (bytes: Uint8Array): Array<Json> => {
  const r = new Reader(bytes)
  const out: Array<Json> = []
  r.fields((f) => {
    if (f === 1) out.push(keyValue(r.lengthDelimited()))
  })
  return out
}

const span = (bytes: Uint8Array): Json => {
  const r = new Reader(bytes)
  const out: Json = { attributes: [], events: [], links: [], parentSpanId: "" }
  const attributes: Array<Json> = []
  const events: Array<Json> = []
  r.fields((field) => {
    if (field === 1) out["traceId"] = hex(r)
    else if (field === 2) out["spanId"] = hex(r)
    else if (field === 4) out["parentSpanId"] = hex(r)
    else if (field === 5) out["name"] = text(r)
    else if (field === 6) out["kind"] = Number(r.varint())
    else if (field === 7) out["startTimeUnixNano"] = String(r.fixed64())
    else if (field === 8) out["endTimeUnixNano"] = String(r.fixed64())
    else if (field === 9) attributes.push(keyValue(r.lengthDelimited()))
    else if (field === 11) {
      const e = new Reader(r.lengthDelimited())
      const event: Json = { attributes: [] as Array<Json> }
      e.fields((f) => {
        if (f === 1) event["timeUnixNano"] = String(e.fixed64())
        else if (f === 2) event["name"] = text(e)
        else if (f === 3) (event["attributes"] as Array<Json>).push(keyValue(e.lengthDelimited()))
      })
      events.push(event)
    } else if (field === 15) {
      const s = new Reader(r.lengthDelimited())
      const status: Json = { code: 0 }
      s.fields((f) => {
        if (f === 2) status["message"] = text(s)
        else if (f === 3) status["code"] = Number(s.varint())
      })
      out["status"] = status
    }
  })
  out["attributes"] = attributes
  out["events"] = events
  return out
}

/** An ExportTraceServiceRequest's bytes → `{ resourceSpans: [{ resource: { attributes }, scopeSpans: [{ scope, spans }] }] }`. */
export const decodeTraces = (bytes: Uint8Array): Json => {
  const r = new Reader(bytes)
  const resourceSpans: Array<Json> = []
  r.fields((field) => {
    if (field !== 1) return
    const rs = new Reader(r.lengthDelimited())
    const entry: Json = { resource: { attributes: [] }, scopeSpans: [] }
    const scopeSpans: Array<Json> = []
    rs.fields((f) => {
      if (f === 1) {
        const res = new Reader(rs.lengthDelimited())
        const attributes: Array<Json> = []
        res.fields((g) => {
          if (g === 1) attributes.push(keyValue(res.lengthDelimited()))
        })
        entry["resource"] = { attributes }
      } else if (f === 2) {
        const ss = new Reader(rs.lengthDelimited())
        const spans: Array<Json> = []
        const scope: Json = {}
        ss.fields((g) => {
          if (g === 1) {
            const sc = new Reader(ss.lengthDelimited())
            sc.fields((h) => {
              if (h === 1) scope["name"] = text(sc)
            })
          } else if (g === 2) spans.push(span(ss.lengthDelimited()))
        })
        scopeSpans.push({ scope, spans })
      }
    })
    entry["scopeSpans"] = scopeSpans
    resourceSpans.push(entry)
  })
  return { resourceSpans }
}
