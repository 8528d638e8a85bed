/**
 * Micro-benchmark of the OTLP http/protobuf traces body: `effect/observability`'s own encoder
 * (`OtlpSerialization.layerProtobuf`) against ours (`src/tracing/OtlpProtobuf.ts`, wrapped in the
 * same `HttpBody` as SpanExport.ts does), on batches of 512 spans shaped like the gateway's: a
 * server span with 24 attributes and a client span with 10 under it, per request. No HTTP; checks
 * the two write the same bytes first:
 *
 *   node test/bench/otlpEncode.ts                          # 10 rounds of ≥ 0.5 s each, after a warm-up
 *   node test/bench/otlpEncode.ts --rounds 20 --round-ms 1000 --spans 128
 *   node test/bench/otlpEncode.ts --module /tmp/Other.ts   # another module exporting encodeTraces (A/B)
 *   bun test/bench/otlpEncode.ts
 *
 * Prints µs per span: best, median and worst round. The VM is noisy: compare best and median over
 * several runs, alternating the variants, never one round.
 */
import * as Effect from "effect/Effect"
import * as HttpBody from "effect/http/HttpBody"
import * as OtlpResource from "effect/observability/OtlpResource"
import * as OtlpSerialization from "effect/observability/OtlpSerialization"
import type * as OtlpTracer from "effect/observability/OtlpTracer"

const arg = (name: string): string | undefined => {
  const args = typeof process === "undefined" ? [] : process.argv
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

const ROUNDS = Number(arg("--rounds") ?? 10)
const ROUND_MS = Number(arg("--round-ms") ?? 500)
const SPANS = Number(arg("--spans") ?? 512)
const modulePath = arg("--module")

const { encodeTraces } = (await import(
  modulePath === undefined ? "../../src/tracing/OtlpProtobuf.ts" : new URL(modulePath, `file://${process.cwd()}/`).href
)) as { readonly encodeTraces: (request: OtlpTracer.TraceData) => Uint8Array }

type Span = OtlpTracer.ScopeSpan["spans"][number]

const hex = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => "0123456789abcdef".charAt((seed * 7 + i * 13 + ((seed * i) % 5)) % 16)).join("")

const attributes = (record: Record<string, unknown>) => OtlpResource.entriesToAttributes(Object.entries(record))

/** A request's server span (24 attributes) or its upstream attempt's client span (10). */
const span = (i: number): Span => {
  const request = i >> 1
  const traceId = hex(32, request)
  const start = 1_760_000_000_000_000_000n + BigInt(request) * 3_100_000n
  const server = i % 2 === 0
  const model = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5"][request % 3]!
  return {
    traceId,
    spanId: hex(16, i + 1),
    parentSpanId: server ? undefined : hex(16, i),
    name: server ? "POST /v1/chat/completions" : `chat ${model}`,
    kind: server ? 2 : 3,
    startTimeUnixNano: String(start + (server ? 0n : 150_000n)),
    endTimeUnixNano: String(start + 2_450_000_000n + BigInt(i % 97) * 1_000n),
    attributes: server
      ? attributes({
          "http.request.method": "POST",
          "http.route": "/v1/chat/completions",
          "url.path": "/v1/chat/completions",
          "url.scheme": "http",
          "server.address": "llmgate.internal",
          "server.port": 8080,
          "client.address": `10.0.${request % 250}.${(request * 7) % 250}`,
          "user_agent.original": "OpenAI/Python 1.55.0",
          "http.response.status_code": 200,
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "openai",
          "gen_ai.system": "openai",
          "gen_ai.request.model": model,
          "gen_ai.request.max_tokens": 1024,
          "gen_ai.request.temperature": 0.7,
          "gen_ai.request.top_p": 1,
          "gen_ai.response.model": `${model}-2024-08-06`,
          "gen_ai.response.id": `chatcmpl-${hex(29, request)}`,
          "gen_ai.response.finish_reasons": ["stop"],
          "gen_ai.usage.input_tokens": 1200 + (request % 400),
          "gen_ai.usage.output_tokens": 180 + (request % 90),
          "llmgate.stream": request % 2 === 0,
          "llmgate.key.prefix": "sk-llmgate-ab12",
          "llmgate.overhead_ms": 0.41 + (request % 10) / 100
        })
      : attributes({
          "http.request.method": "POST",
          "server.address": "api.openai.com",
          "server.port": 443,
          "url.full": "https://api.openai.com/v1/chat/completions",
          "http.response.status_code": 200,
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "openai",
          "gen_ai.request.model": model,
          "llmgate.provider": "openai-primary",
          "llmgate.attempt": 1
        }),
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    status: { code: 1 },
    links: [],
    droppedLinksCount: 0
  }
}

const resource = OtlpResource.make({
  serviceName: "llmgate",
  serviceVersion: "0.1.0",
  attributes: { "llmgate.worker": 1 }
})
// Eight distinct batches, cycled.
const BATCHES: Array<OtlpTracer.TraceData> = Array.from({ length: 8 }, (_, b) => ({
  resourceSpans: [
    {
      resource,
      scopeSpans: [{ scope: { name: "llmgate" }, spans: Array.from({ length: SPANS }, (_, i) => span(b * SPANS + i)) }]
    }
  ]
}))

const effect = Effect.runSync(
  Effect.service(OtlpSerialization.OtlpSerialization).pipe(Effect.provide(OtlpSerialization.layerProtobuf))
)
const ours = (data: OtlpTracer.TraceData): HttpBody.HttpBody =>
  HttpBody.uint8Array(encodeTraces(data), "application/x-protobuf")

const bytesOf = (body: HttpBody.HttpBody): Uint8Array => {
  if (body._tag !== "Uint8Array") throw new Error(`a ${body._tag} body`)
  return body.body
}

/** µs per span of one round (batches until `ROUND_MS` has passed); the sink keeps the results observable. */
const round = (
  encode: (data: OtlpTracer.TraceData) => HttpBody.HttpBody
): { readonly us: number; readonly sink: number } => {
  let sink = 0
  let batches = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < ROUND_MS) {
    const body = bytesOf(encode(BATCHES[batches & 7]!))
    sink += body[batches % body.length]! + body.length
    batches++
    elapsed = performance.now() - start
  }
  return { us: (elapsed * 1000) / (batches * SPANS), sink }
}

const measure = (name: string, encode: (data: OtlpTracer.TraceData) => HttpBody.HttpBody): string => {
  round(encode) // warm-up: optimised code, settled heap
  const times: Array<number> = []
  let sink = 0
  for (let r = 0; r < ROUNDS; r++) {
    const { us, sink: s } = round(encode)
    times.push(us)
    sink += s
  }
  times.sort((a, b) => a - b)
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(3)
  return `${name.padEnd(10)} best ${at(0)} µs   median ${at(0.5)} µs   worst ${at(1)} µs per span   (sink ${sink % 10})`
}

for (const batch of BATCHES) {
  const a = bytesOf(effect.traces(batch))
  const b = bytesOf(ours(batch))
  if (a.length !== b.length || a.some((byte, i) => byte !== b[i])) throw new Error("the encoders write different bytes")
}

const runtime =
  typeof Deno !== "undefined"
    ? `Deno ${Deno.version.deno}`
    : typeof Bun !== "undefined"
      ? `Bun ${Bun.version}`
      : `Node ${process.versions.node}`
const size = bytesOf(ours(BATCHES[0]!)).length
console.log(
  `OTLP protobuf traces body, batches of ${SPANS} spans (${(size / SPANS).toFixed(0)} bytes a span), ${ROUNDS} rounds of ≥ ${ROUND_MS} ms, ${runtime}${modulePath ? `, module ${modulePath}` : ""}`
)
console.log(measure("effect", effect.traces))
console.log(measure("ours", ours))
