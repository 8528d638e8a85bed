// The protobuf traces encoder writes, byte for byte, what `effect/observability`'s own encoder
// (`OtlpSerialization.layerProtobuf`) writes for the same request: realistic batches, every
// attribute value kind, the lengths where a varint grows, odd inputs, and random spans.
import * as Effect from "effect/Effect"
import type * as HttpBody from "effect/http/HttpBody"
import * as OtlpResource from "effect/observability/OtlpResource"
import * as OtlpSerialization from "effect/observability/OtlpSerialization"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  type Attributes,
  type EndedSpan,
  type ExportTraceServiceRequest,
  encodeTraces,
  SpanArena
} from "../../../src/tracing/OtlpProtobuf.ts"
import { toOtlpSpan } from "../../../src/tracing/SpanExport.ts"

type Span = ExportTraceServiceRequest["resourceSpans"][number]["scopeSpans"][number]["spans"][number]

const effectSerialization = Effect.runSync(
  Effect.service(OtlpSerialization.OtlpSerialization).pipe(Effect.provide(OtlpSerialization.layerProtobuf))
)

/** Effect's bytes for `request`. */
const effectBytes = (request: ExportTraceServiceRequest): Uint8Array => {
  // Effect's input types are mutable arrays; its encoder only reads them.
  const body: HttpBody.HttpBody = effectSerialization.traces(
    request as Parameters<typeof effectSerialization.traces>[0]
  )
  if (body._tag !== "Uint8Array") throw new Error(`Effect's body is ${body._tag}`)
  expect(body.contentType).toBe("application/x-protobuf")
  return body.body
}

const expectSame = (request: ExportTraceServiceRequest) => {
  const ours = encodeTraces(request)
  const theirs = effectBytes(request)
  expect(ours.length).toBe(theirs.length)
  expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true)
}

const batch = (
  spans: ReadonlyArray<Span>,
  resource = OtlpResource.make({ serviceName: "llmgate", serviceVersion: "0.1.0", attributes: { "llmgate.worker": 1 } })
): ExportTraceServiceRequest => ({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: "llmgate" }, spans }] }] })

const hex = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => "0123456789abcdef".charAt((seed * 7 + i * 13 + ((seed * i) % 5)) % 16)).join("")

const span = (i: number, overrides: Partial<Span> = {}): Span => ({
  traceId: hex(32, i),
  spanId: hex(16, i + 1),
  parentSpanId: i % 2 === 0 ? undefined : hex(16, i + 2),
  name: i % 2 === 0 ? "POST /v1/chat/completions" : "chat gpt-4o",
  kind: i % 2 === 0 ? 2 : 3,
  startTimeUnixNano: String(1_760_000_000_000_000_000n + BigInt(i) * 1_234_567n),
  endTimeUnixNano: String(1_760_000_000_250_000_000n + BigInt(i) * 7_654_321n),
  attributes: OtlpResource.entriesToAttributes(
    Object.entries({
      "http.request.method": "POST",
      "url.path": "/v1/chat/completions",
      "http.response.status_code": 200,
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "gpt-4o",
      "gen_ai.request.temperature": 0.7,
      "gen_ai.request.max_tokens": 1024 + i,
      "gen_ai.response.finish_reasons": ["stop"],
      "gen_ai.usage.input_tokens": 12 * i,
      "llmgate.stream": i % 3 === 0,
      "llmgate.key": ""
    })
  ),
  droppedAttributesCount: 0,
  events: [],
  droppedEventsCount: 0,
  status: { code: 1 },
  links: [],
  droppedLinksCount: 0,
  ...overrides
})

const value = (v: unknown) => OtlpResource.unknownToAttributeValue(v)

describe("encodeTraces", () => {
  it("writes a realistic batch as Effect does", () => {
    expectSame(batch(Array.from({ length: 20 }, (_, i) => span(i))))
  })

  it("writes every attribute value kind, nested, as Effect does", () => {
    const attributes: Array<OtlpResource.KeyValue> = [
      { key: "string", value: { stringValue: "hello" } },
      { key: "empty string", value: { stringValue: "" } },
      { key: "", value: { stringValue: "empty key" } },
      { key: "bool true", value: { boolValue: true } },
      { key: "bool false", value: { boolValue: false } },
      { key: "int", value: { intValue: 42 } },
      { key: "int 0", value: { intValue: 0 } },
      { key: "int negative", value: { intValue: -1 } },
      { key: "int -2^32", value: { intValue: -0x1_0000_0000 } },
      { key: "int 2^32", value: { intValue: 0x1_0000_0000 } },
      { key: "int max safe", value: { intValue: Number.MAX_SAFE_INTEGER } },
      { key: "int min safe", value: { intValue: Number.MIN_SAFE_INTEGER } },
      { key: "int unsafe", value: value(2 ** 60) },
      { key: "int string", value: { intValue: "9223372036854775807" } },
      { key: "int string negative", value: { intValue: "-9223372036854775808" } },
      { key: "bigint", value: value(-123456789012345678n) },
      { key: "double", value: { doubleValue: 3.25 } },
      { key: "double -0", value: { doubleValue: -0 } },
      { key: "double NaN", value: { doubleValue: Number.NaN } },
      { key: "double infinity", value: { doubleValue: Number.NEGATIVE_INFINITY } },
      { key: "double huge", value: value(1e300) },
      { key: "array", value: value(["a", 1, 2.5, true, ["nested", ["deeper", -7]], []]) },
      { key: "array empty", value: { arrayValue: { values: [] } } },
      {
        key: "kvlist",
        value: {
          kvlistValue: {
            values: [
              { key: "inner", value: { stringValue: "v" } },
              { key: "list", value: { kvlistValue: { values: [{ key: "x", value: { intValue: 1 } }] } } },
              { key: "arr", value: value([1, "two"]) }
            ]
          }
        }
      },
      { key: "kvlist empty", value: { kvlistValue: { values: [] } } },
      { key: "bytes", value: { bytesValue: new Uint8Array([0, 1, 2, 255]) } },
      { key: "bytes empty", value: { bytesValue: new Uint8Array(0) } },
      { key: "no value", value: {} },
      { key: "null string falls through", value: { stringValue: null, boolValue: true } },
      { key: "object", value: value({ a: 1 }) },
      { key: "null", value: value(null) },
      { key: "undefined", value: value(undefined) }
    ]
    expectSame(batch([span(0, { attributes }), span(1, { attributes: attributes.slice().reverse() })]))
  })

  it("writes non-ASCII strings, and lengths where a varint gets another byte, as Effect does", () => {
    const strings = [
      "héllo wörld",
      "日本語のテキスト",
      "emoji 🚀🎉 and more",
      "lone surrogate \uD800 here",
      "trailing lone \uDC00",
      "a".repeat(63),
      "a".repeat(64),
      "a".repeat(127),
      "a".repeat(128),
      "a".repeat(300),
      "é".repeat(63),
      "é".repeat(64),
      "€".repeat(42),
      "€".repeat(43),
      "€".repeat(50),
      "🚀".repeat(40),
      `${"x".repeat(120)}é`,
      `${"x".repeat(200)}日本`,
      "€".repeat(5462),
      "€".repeat(5500),
      "y".repeat(16383),
      "y".repeat(16384),
      "z".repeat(3_000_000)
    ]
    const attributes = strings.map((s, i) => ({ key: `${s.slice(0, 10)}${i}`, value: { stringValue: s } }))
    expectSame(
      batch([
        span(0, { attributes, name: "€".repeat(50) }),
        span(1, { name: "", status: { code: 2, message: "Error: bäd thing" } })
      ])
    )
  })

  it("writes events, links, statuses, dropped counts and times as Effect does", () => {
    const attrs = OtlpResource.entriesToAttributes(Object.entries({ "exception.type": "Error", n: 3, ok: false }))
    expectSame(
      batch([
        span(0, {
          events: [
            { name: "first token", timeUnixNano: "1760000000100000000", attributes: [], droppedAttributesCount: 0 },
            { name: "exception", timeUnixNano: "0", attributes: attrs, droppedAttributesCount: 2 },
            {
              name: "big",
              timeUnixNano: "18446744073709551615",
              attributes: [{ key: "long", value: { stringValue: "q".repeat(500) } }],
              droppedAttributesCount: 0
            }
          ],
          links: [
            { traceId: hex(32, 9), spanId: hex(16, 10), attributes: [], droppedAttributesCount: 0 },
            { traceId: hex(32, 11), spanId: hex(16, 12), attributes: attrs, droppedAttributesCount: 1 }
          ],
          droppedAttributesCount: 3,
          droppedEventsCount: 4,
          droppedLinksCount: 5,
          status: { code: 2, message: "Error: upstream answered 502" }
        }),
        span(1, { status: { code: 0 }, startTimeUnixNano: "0", endTimeUnixNano: "1" }),
        span(2, { status: { code: 2, message: "" }, startTimeUnixNano: "4294967295", endTimeUnixNano: "4294967296" }),
        span(3, { startTimeUnixNano: "999999999999999", endTimeUnixNano: "1000000000000000" }),
        span(4, { startTimeUnixNano: "9999999999999999999", endTimeUnixNano: "18446744073709551615" }),
        span(5, { startTimeUnixNano: "0000000000000000001234", endTimeUnixNano: "18446744073709551616" }),
        span(6, { startTimeUnixNano: "0x10", endTimeUnixNano: " 17 " }),
        span(7, { startTimeUnixNano: "", endTimeUnixNano: "-1" })
      ])
    )
  })

  it("writes the fields Effect writes when present (trace state, flags, scope version and attributes, schema URLs)", () => {
    const extra = { traceState: "congo=t61rcWkgMzE", flags: 0x301 }
    const linkWithExtras = {
      traceId: hex(32, 3),
      spanId: hex(16, 4),
      attributes: [],
      droppedAttributesCount: 0,
      traceState: "a=b",
      flags: 1
    }
    const spans: Array<Span> = [span(0, { ...extra, links: [linkWithExtras] }), span(1, { traceState: "", flags: 0 })]
    const resource = { attributes: [], droppedAttributesCount: 7 }
    expectSame({
      resourceSpans: [
        {
          resource,
          scopeSpans: [
            {
              scope: {
                name: "llmgate",
                version: "1.2.3",
                attributes: [{ key: "k", value: { stringValue: "v" } }],
                droppedAttributesCount: 2
              },
              spans,
              schemaUrl: "https://opentelemetry.io/schemas/1.26.0"
            },
            { scope: { name: "", version: "" }, spans: [] }
          ],
          schemaUrl: "https://opentelemetry.io/schemas/1.26.0"
        },
        { resource: { attributes: [], droppedAttributesCount: 0 }, scopeSpans: [] }
      ]
    })
    expectSame({ resourceSpans: [] })
  })

  it("writes ids as Effect does, odd ones too", () => {
    expectSame(
      batch([
        span(0, { traceId: "0123456789ABCDEFabcdef0123456789", spanId: "FFFFFFFFFFFFFFFF", parentSpanId: "" }),
        span(1, { traceId: "xyz", spanId: "1g2h-1+1 1", parentSpanId: "abc" }),
        span(2, { traceId: "", spanId: "0" })
      ])
    )
  })

  it("writes a large batch (past the first buffer's size, lengths of 2 and 3 bytes) as Effect does", () => {
    const attributes = Array.from({ length: 24 }, (_, i) => ({
      key: `llmgate.attribute.${i}`,
      value: i % 3 === 0 ? { intValue: i * 1000 } : { stringValue: `value ${i} ${"v".repeat(i * 3)}` }
    }))
    const spans = Array.from({ length: 800 }, (_, i) => span(i, { attributes }))
    // The first buffer holds 1 KiB a span (a power of two above): these are larger.
    expect(encodeTraces(batch(spans)).length).toBeGreaterThan(1024 * 1024)
    expectSame(batch(spans))
  })

  it("writes spans shorter than 128 bytes as Effect does", () => {
    expectSame(batch([span(0, { attributes: [], name: "s" }), span(1, { attributes: [] })]))
  })

  it("writes random spans as Effect does", () => {
    const text = fc.oneof(
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.string({ unit: "grapheme", maxLength: 80 }),
      fc.string({ maxLength: 200 })
    )
    const { anyValue } = fc.letrec<{ anyValue: OtlpResource.AnyValue; keyValue: OtlpResource.KeyValue }>((tie) => ({
      anyValue: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        text.map((s) => ({ stringValue: s })),
        fc.boolean().map((b) => ({ boolValue: b })),
        fc.maxSafeInteger().map((n) => ({ intValue: n })),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => ({ intValue: String(n) })),
        fc.double().map((d) => ({ doubleValue: d })),
        fc.array(tie("anyValue"), { maxLength: 4 }).map((values) => ({ arrayValue: { values } })),
        fc.array(tie("keyValue"), { maxLength: 4 }).map((values) => ({ kvlistValue: { values } })),
        fc.uint8Array({ maxLength: 20 }).map((b) => ({ bytesValue: b }))
      ),
      keyValue: fc.record({ key: text, value: tie("anyValue") })
    }))
    const attributes = fc.array(fc.record({ key: text, value: anyValue }), { maxLength: 12 })
    const id = (bytes: number) =>
      fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString("hex"))
    const time = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String)
    const count = fc.oneof(fc.constant(0), fc.nat())
    const randomSpan: fc.Arbitrary<Span> = fc.record({
      traceId: id(16),
      spanId: id(8),
      parentSpanId: fc.option(id(8), { nil: undefined }),
      name: text,
      kind: fc.integer({ min: 0, max: 5 }),
      startTimeUnixNano: time,
      endTimeUnixNano: time,
      attributes,
      droppedAttributesCount: count,
      events: fc.array(fc.record({ name: text, timeUnixNano: time, attributes, droppedAttributesCount: count }), {
        maxLength: 3
      }),
      droppedEventsCount: count,
      status: fc.oneof(
        fc.constant({ code: 1 as const }),
        fc.constant({ code: 0 as const }),
        text.map((message) => ({ code: 2 as const, message }))
      ),
      links: fc.array(fc.record({ traceId: id(16), spanId: id(8), attributes, droppedAttributesCount: count }), {
        maxLength: 2
      }),
      droppedLinksCount: count
    })
    fc.assert(
      fc.property(fc.array(randomSpan, { maxLength: 8 }), (spans) => expectSame(batch(spans))),
      { numRuns: 300 }
    )
  })
})

/** Key and value arrays of entries, as the gateway's spans hold their attributes. */
const attributesOf = (entries: ReadonlyArray<readonly [string, unknown]>): Attributes => ({
  keys: entries.map(([k]) => k),
  values: entries.map(([, v]) => v)
})

describe("spans encoded at their end (makeSpanEncoder, encodeEncodedSpans)", () => {
  const resource = OtlpResource.make({ serviceName: "llmgate", serviceVersion: "0.1.0", attributes: { w: 2 } })
  const scope = { name: "llmgate" }
  /** An ended span: the gateway's attribute mix, events, a link, each status. */
  const ended = (i: number): EndedSpan => ({
    traceId: hex(i % 3 === 0 ? 30 : 32, i),
    spanId: hex(16, i + 1),
    parentSpanId: i % 2 === 0 ? undefined : hex(16, i + 2),
    name: i % 2 === 0 ? "POST /v1/chat/completions" : `chat gpt-4o é${i}`,
    kind: i % 2 === 0 ? 2 : 3,
    startTime: 1_760_000_000_000_000_000n + BigInt(i) * 1_234_567n,
    endTime: 1_760_000_000_250_000_000n + BigInt(i) * 7_654_321n,
    attributes: attributesOf([
      ["http.request.method", "POST"],
      ["gen_ai.request.model", "gpt-4o"],
      ["gen_ai.usage.input_tokens", 5 + i],
      ["llmgate.overhead_ms", 0.25 + i / 7],
      ["gen_ai.response.finish_reasons", ["stop", "length"]],
      ["llmgate.usage.estimated", i % 2 === 0],
      ["big", 2 ** 60 + i],
      ["bigint", BigInt(i) * 10n ** 20n],
      ["object", { nested: [1, "x"] }],
      ["empty", ""],
      ["unicode", "こんにちは 🌍".repeat(i % 4)],
      ["long", "x".repeat(200 * (i % 3))]
    ]),
    extraAttributes: i % 5 === 4 ? [["effect.fiber.interrupted", true]] : [],
    events:
      i % 3 === 1
        ? [
            ["llmgate.ratelimit", 1_760_000_000_100_000_000n, { "llmgate.ratelimit.result": "admitted", n: i }],
            ["plain", 1_760_000_000_200_000_000n, undefined]
          ]
        : [],
    links:
      i % 4 === 2 ? [{ traceId: hex(32, i + 9), spanId: hex(16, i + 10), attributes: { why: "retry", n: 3 } }] : [],
    status: i % 5 === 3 ? { code: 2, message: "HTTP 502" } : i % 5 === 4 ? { code: 0 } : { code: 1 }
  })

  const effectOf = (spans: ReadonlyArray<EndedSpan>): Uint8Array =>
    effectBytes({ resourceSpans: [{ resource, scopeSpans: [{ scope, spans: spans.map(toOtlpSpan) }] }] })
  const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b))

  it("writes what encodeTraces (and so Effect) writes for the same spans as OTLP objects", () => {
    const arena = new SpanArena()
    for (const n of [1, 2, 7, 64, 300]) {
      const spans = Array.from({ length: n }, (_, i) => ended(i))
      const places = spans.map((span) => arena.write(span))
      expect(same(arena.take(resource, scope, places), effectOf(spans)), `${n} spans`).toBe(true)
      // A batch taken gives its room back.
      expect(arena.size).toBe(0)
    }
  })

  it("takes a batch while later spans wait, skips what was written but never taken, and reuses the room", () => {
    const arena = new SpanArena()
    const spans = Array.from({ length: 12 }, (_, i) => ended(i))
    const first = spans.slice(0, 5).map((span) => arena.write(span))
    arena.write(ended(40)) // dropped by the exporter: never taken
    const second = spans.slice(5, 9).map((span) => arena.write(span))
    expect(same(arena.take(resource, scope, first), effectOf(spans.slice(0, 5)))).toBe(true)
    const third = spans.slice(9).map((span) => arena.write(span))
    expect(same(arena.take(resource, scope, second), effectOf(spans.slice(5, 9)))).toBe(true)
    expect(same(arena.take(resource, scope, third), effectOf(spans.slice(9)))).toBe(true)
    expect(arena.size).toBe(0)
    // Places are never reused: one taken already is not held any more.
    expect(same(arena.take(resource, scope, first), effectOf([]))).toBe(true)
  })

  it("copies a span to another arena (a second protobuf destination) as written", () => {
    const [a, b] = [new SpanArena(), new SpanArena()]
    const spans = Array.from({ length: 9 }, (_, i) => ended(i))
    const places = spans.map((span) => b.copy(a, a.write(span)))
    expect(same(b.take(resource, scope, places), effectOf(spans))).toBe(true)
    expect(b.copy(a, -1)).toBe(-1)
  })

  it("holds at most its limit: past it every span held is dropped and their places skipped", () => {
    const limit = 8 * 1024
    const arena = new SpanArena(limit)
    const spans = Array.from({ length: 100 }, (_, i) => ended(i % 3 === 0 ? 0 : 1))
    let heldFrom = 0
    let drops = 0
    const places = spans.map((span, i) => {
      if (arena.size > limit) {
        heldFrom = i
        drops++
      }
      const place = arena.write(span)
      expect(arena.size).toBeLessThan(limit + 4096)
      return place
    })
    expect(drops).toBeGreaterThan(2)
    expect(same(arena.take(resource, scope, places), effectOf(spans.slice(heldFrom)))).toBe(true)
    expect(arena.size).toBe(0)
  })
})
