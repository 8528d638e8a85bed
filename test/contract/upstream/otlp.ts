// An in-process OTLP/HTTP receiver for the tracing tests: `POST /v1/traces` with OTLP JSON
// (`application/json`) or protobuf (`application/x-protobuf`, decoded by test/support/otlpProtobuf.ts,
// written from the .proto files independently of the gateway's encoder), decoded into flat spans (attributes as plain values, the resource's
// attributes beside them). It answers 200 `{}`, or the status a test sets (an outage).
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { decodeTraces } from "../../support/otlpProtobuf.ts"

type AnyValue = {
  readonly stringValue?: string | null
  readonly boolValue?: boolean | null
  readonly intValue?: string | number | null
  readonly doubleValue?: number | null
  readonly arrayValue?: { readonly values: ReadonlyArray<AnyValue> } | null
}
interface KeyValue {
  readonly key: string
  readonly value: AnyValue
}
interface WireSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly kind: number
  readonly startTimeUnixNano: string
  readonly endTimeUnixNano: string
  readonly attributes: ReadonlyArray<KeyValue>
  readonly events?: ReadonlyArray<{ readonly name: string; readonly attributes?: ReadonlyArray<KeyValue> }>
  readonly status?: { readonly code: number; readonly message?: string }
}
interface TraceData {
  readonly resourceSpans: ReadonlyArray<{
    readonly resource: { readonly attributes: ReadonlyArray<KeyValue> }
    readonly scopeSpans: ReadonlyArray<{ readonly spans: ReadonlyArray<WireSpan> }>
  }>
}

export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  /** Empty or absent on a root span. */
  readonly parentSpanId: string | undefined
  readonly name: string
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  readonly kind: number
  readonly startNs: bigint
  readonly endNs: bigint
  readonly attributes: Readonly<Record<string, unknown>>
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: Readonly<Record<string, unknown>> }>
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number
  readonly resource: Readonly<Record<string, unknown>>
}

const plain = (v: AnyValue): unknown => {
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue
  if (v.intValue !== undefined && v.intValue !== null) return Number(v.intValue)
  if (v.doubleValue !== undefined && v.doubleValue !== null) return v.doubleValue
  if (v.arrayValue) return v.arrayValue.values.map(plain)
  return undefined
}
const record = (kvs: ReadonlyArray<KeyValue> | undefined): Record<string, unknown> =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, plain(kv.value)]))

export interface OtlpReceiver {
  /** The base URL to configure as the OTLP endpoint (traces go to `/v1/traces` under it). */
  readonly url: string
  readonly spans: () => ReadonlyArray<ReceivedSpan>
  /** Export requests received (each a batch), with their content types and headers. */
  readonly batches: () => ReadonlyArray<{ readonly contentType: string; readonly headers: Record<string, string> }>
  /** Answer every export with this status (an outage) from now on; 200 again with `undefined`. */
  failWith: number | undefined
  /** Waits until `predicate` holds over the spans received (polling), or fails after `timeoutMs`. */
  readonly waitFor: (
    predicate: (spans: ReadonlyArray<ReceivedSpan>) => boolean,
    timeoutMs?: number
  ) => Promise<ReadonlyArray<ReceivedSpan>>
  readonly close: () => Promise<void>
}

/** A receiver of OTLP/HTTP (JSON or protobuf) at `path` (Langfuse's: `/api/public/otel/v1/traces`). */
export const startOtlpReceiver = async (path = "/v1/traces"): Promise<OtlpReceiver> => {
  const spans: Array<ReceivedSpan> = []
  const batches: Array<{ contentType: string; headers: Record<string, string> }> = []
  const receiver: { failWith: number | undefined } = { failWith: undefined }
  const server: Server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")])
      )
      batches.push({ contentType: headers["content-type"] ?? "", headers })
      if (req.method !== "POST" || req.url !== path) {
        res.writeHead(404).end()
        return
      }
      if (receiver.failWith !== undefined) {
        res.writeHead(receiver.failWith, { "content-type": "application/json" }).end("{}")
        return
      }
      const body = Buffer.concat(chunks)
      const data = (
        (headers["content-type"] ?? "").startsWith("application/x-protobuf")
          ? decodeTraces(new Uint8Array(body))
          : JSON.parse(body.toString("utf8"))
      ) as TraceData
      for (const rs of data.resourceSpans) {
        const resource = record(rs.resource.attributes)
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId === "" ? undefined : s.parentSpanId,
              name: s.name,
              kind: s.kind,
              startNs: BigInt(s.startTimeUnixNano),
              endNs: BigInt(s.endTimeUnixNano),
              attributes: record(s.attributes),
              events: (s.events ?? []).map((e) => ({ name: e.name, attributes: record(e.attributes) })),
              statusCode: s.status?.code ?? 0,
              resource
            })
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => spans,
    batches: () => batches,
    get failWith() {
      return receiver.failWith
    },
    set failWith(status: number | undefined) {
      receiver.failWith = status
    },
    waitFor: async (predicate, timeoutMs = 10_000) => {
      const end = Date.now() + timeoutMs
      while (!predicate(spans)) {
        if (Date.now() > end)
          throw new Error(`OTLP receiver: condition not met within ${timeoutMs} ms (${spans.length} spans)`)
        await new Promise((r) => setTimeout(r, 50))
      }
      return spans
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
