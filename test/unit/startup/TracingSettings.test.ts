// Where traces go, decided once at start: the `tracing` section, field by field over the standard
// OTEL_* variables; no endpoint anywhere: no tracing. A variable that cannot be used stops the start
// with a message naming it; the config's own mistakes are config errors naming the field.
import * as Result from "effect/Result"
import { describe, expect, it } from "vitest"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { tracingSettings } from "../../../src/startup/StartSettings.ts"
import { destinationKeeps, traceIdRatio } from "../../../src/tracing/SpanExport.ts"
import { startUnexported } from "../../../src/tracing/SpanExport.ts"
import { makeRequestTracing } from "../../../src/tracing/Tracing.ts"

const BASE = "providers: [{ name: m, kind: mock }]\nmodels: [{ name: chat, targets: [{ provider: m }] }]\n"
const parse = (text = "") => parseConfig(BASE + text, {}, "test.yaml")
const config = (text = "") => {
  const r = parse(text)
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

describe("tracingSettings", () => {
  it("is off without an endpoint in the config or OTEL_EXPORTER_OTLP_ENDPOINT", () => {
    expect(tracingSettings(config(), {})).toBeUndefined()
    expect(
      tracingSettings(config("tracing: { sample_rate: 0.5 }"), { OTEL_EXPORTER_OTLP_ENDPOINT: " " })
    ).toBeUndefined()
  })

  it("takes the standard variables: endpoint (+ /v1/traces), headers, protocol, service name, sampler argument", () => {
    expect(
      tracingSettings(config(), {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/",
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc,x-tenant = t1",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "gw-eu",
        OTEL_TRACES_SAMPLER_ARG: "0.25"
      })
    ).toEqual({
      destinations: [
        {
          name: "otlp",
          url: "http://collector:4318/v1/traces",
          headers: { authorization: "Bearer abc", "x-tenant": "t1" },
          protocol: "http/json",
          exportIntervalMs: 1000,
          sampleRate: 0.25
        }
      ],
      sampleRate: 0.25,
      captureContent: false,
      serviceName: "gw-eu"
    })
  })

  it("defaults: protobuf, every trace kept, no content, service llmgate; a traces path is kept as it is", () => {
    expect(tracingSettings(config("tracing: { otlp: { endpoint: 'https://otel.example/v1/traces' } }"), {})).toEqual({
      destinations: [
        {
          name: "otlp",
          url: "https://otel.example/v1/traces",
          headers: {},
          protocol: "http/protobuf",
          exportIntervalMs: 1000,
          sampleRate: 1
        }
      ],
      sampleRate: 1,
      captureContent: false,
      serviceName: "llmgate"
    })
  })

  it("the config wins field by field over the variables", () => {
    const settings = tracingSettings(
      config(
        "tracing: { otlp: { endpoint: 'http://a:4318', headers: { x-key: k1 }, protocol: http/json }, sample_rate: 0, capture_content: true, service_name: mine }"
      ),
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://b:4318",
        OTEL_EXPORTER_OTLP_HEADERS: "x-key=k2",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
        OTEL_SERVICE_NAME: "theirs",
        OTEL_TRACES_SAMPLER_ARG: "1"
      }
    )
    expect(settings).toEqual({
      destinations: [
        {
          name: "otlp",
          url: "http://a:4318/v1/traces",
          headers: { "x-key": "k1" },
          protocol: "http/json",
          exportIntervalMs: 1000,
          sampleRate: 0
        }
      ],
      sampleRate: 0,
      captureContent: true,
      serviceName: "mine"
    })
  })

  it("names the variable that cannot be used", () => {
    const start = (env: Record<string, string>) =>
      tracingSettings(config(), { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", ...env })
    expect(start({ OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://c" })).toMatch(
      /^OTEL_EXPORTER_OTLP_ENDPOINT: expected an http\(s\) URL/
    )
    expect(start({ OTEL_EXPORTER_OTLP_HEADERS: "novalue" })).toMatch(/^OTEL_EXPORTER_OTLP_HEADERS: expected name=value/)
    expect(start({ OTEL_EXPORTER_OTLP_HEADERS: "a=%E0%A4%A" })).toMatch(/^OTEL_EXPORTER_OTLP_HEADERS: the value of a/)
    expect(start({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toMatch(/^OTEL_EXPORTER_OTLP_PROTOCOL: expected/)
    expect(start({ OTEL_TRACES_SAMPLER_ARG: "2" })).toMatch(/^OTEL_TRACES_SAMPLER_ARG: expected a number from 0 to 1/)
    expect(start({ OTEL_TRACES_SAMPLER_ARG: "half" })).toMatch(/^OTEL_TRACES_SAMPLER_ARG/)
  })

  it("config mistakes are config errors naming the field; header values may reference the environment", () => {
    for (const [text, path] of [
      ["tracing: { otlp: { endpoint: 'not a url' } }\n", "tracing.otlp.endpoint"],
      ["tracing: { otlp: { protocol: grpc } }\n", "tracing.otlp.protocol"],
      ["tracing: { sample_rate: 1.5 }\n", "tracing.sample_rate"],
      ["tracing: { otlp: { headers: { 'bad header': x } } }\n", "tracing.otlp.headers"],
      ["tracing: { exporter: otlp }\n", "tracing"]
    ] as const) {
      const r = parse(text)
      expect(Result.isFailure(r), text).toBe(true)
      if (Result.isFailure(r)) expect(r.failure.issues.map((i) => i.path).join(" "), text).toContain(path)
    }
    const r = parseConfig(
      `${BASE}tracing: { otlp: { endpoint: 'http://a:4318', headers: { authorization: '\${LLMGATE_OTLP_TOKEN}' } } }\n`,
      { LLMGATE_OTLP_TOKEN: "Bearer s3cret" },
      "test.yaml"
    )
    expect(Result.isSuccess(r)).toBe(true)
    if (Result.isSuccess(r))
      expect(tracingSettings(r.success, {})).toMatchObject({
        destinations: [{ headers: { authorization: "Bearer s3cret" } }]
      })
  })
})

describe("tracingSettings: Langfuse", () => {
  const basic = (pk: string, sk: string) => `Basic ${Buffer.from(`${pk}:${sk}`).toString("base64")}`
  it("from LANGFUSE_* alone: its OTLP endpoint with Basic auth and the ingestion version, JSON", () => {
    expect(
      tracingSettings(config(), {
        LANGFUSE_PUBLIC_KEY: "pk-lf-1",
        LANGFUSE_SECRET_KEY: "sk-lf-2",
        LANGFUSE_HOST: "https://langfuse.internal/",
        LANGFUSE_SAMPLE_RATE: "0.5",
        LANGFUSE_FLUSH_INTERVAL: "250"
      })
    ).toEqual({
      destinations: [
        {
          name: "langfuse",
          url: "https://langfuse.internal/api/public/otel/v1/traces",
          headers: { authorization: basic("pk-lf-1", "sk-lf-2"), "x-langfuse-ingestion-version": "4" },
          protocol: "http/json",
          exportIntervalMs: 250,
          sampleRate: 0.5
        }
      ],
      sampleRate: 0.5,
      captureContent: false,
      serviceName: "llmgate"
    })
  })

  it("with a collector too: both destinations, the larger rate; the cloud host by default; the config wins", () => {
    const settings = tracingSettings(
      config(
        "tracing: { otlp: { endpoint: 'http://c:4318' }, sample_rate: 0.1, langfuse: { public_key: pk, secret_key: sk, sample_rate: 0.4, flush_interval: 2s } }"
      ),
      { LANGFUSE_PUBLIC_KEY: "other", LANGFUSE_HOST: "https://from-env.example" }
    )
    expect(settings).toMatchObject({
      destinations: [
        { name: "otlp", url: "http://c:4318/v1/traces" },
        {
          name: "langfuse",
          url: "https://from-env.example/api/public/otel/v1/traces",
          headers: { authorization: basic("pk", "sk") },
          exportIntervalMs: 2000,
          sampleRate: 0.4
        }
      ],
      sampleRate: 0.4
    })
    expect(settings).toMatchObject({ destinations: [{ sampleRate: 0.1 }, {}] })
    expect(tracingSettings(config("tracing: { langfuse: { public_key: pk, secret_key: sk } }"), {})).toMatchObject({
      destinations: [{ url: "https://cloud.langfuse.com/api/public/otel/v1/traces" }],
      sampleRate: 1
    })
  })

  it("names what is missing or unusable", () => {
    const lf = { LANGFUSE_PUBLIC_KEY: "pk", LANGFUSE_SECRET_KEY: "sk" }
    expect(tracingSettings(config(), { LANGFUSE_PUBLIC_KEY: "pk" })).toMatch(/secret_key is missing/)
    expect(tracingSettings(config("tracing: { langfuse: { secret_key: sk } }"), {})).toMatch(/public_key is missing/)
    expect(tracingSettings(config(), { ...lf, LANGFUSE_HOST: "nope" })).toMatch(/^LANGFUSE_HOST/)
    expect(tracingSettings(config(), { ...lf, LANGFUSE_SAMPLE_RATE: "3" })).toMatch(/^LANGFUSE_SAMPLE_RATE/)
    expect(tracingSettings(config(), { ...lf, LANGFUSE_FLUSH_INTERVAL: "1s" })).toMatch(/^LANGFUSE_FLUSH_INTERVAL/)
    const r = parse("tracing: { langfuse: { host: 'not a url' } }\n")
    expect(Result.isFailure(r) && r.failure.issues.map((i) => i.path).join(" ")).toContain("tracing.langfuse.host")
  })
})

describe("destinationKeeps", () => {
  it("a destination at the sampling rate gets every sampled trace; one at a lower rate its share, whole traces by id", () => {
    expect(destinationKeeps(0.5, 0.5, "ffffffffffffffffffffffffffffffff")).toBe(true)
    expect(traceIdRatio("00000000000000000000000000000000")).toBe(0)
    expect(traceIdRatio("0000000000000000000000000000ffff")).toBeCloseTo(65535 / 2 ** 32, 12)
    // Rate 0.25 of traces sampled at 0.5: half of them, by the trace id's last 8 hex digits.
    expect(destinationKeeps(0.25, 0.5, "000000000000000000000000" + "7fffffff")).toBe(true)
    expect(destinationKeeps(0.25, 0.5, "000000000000000000000000" + "80000000")).toBe(false)
    let kept = 0
    for (let i = 0; i < 10_000; i++) {
      const id = (Math.floor(Math.random() * 0x1_0000_0000) >>> 0).toString(16).padStart(32, "0")
      if (destinationKeeps(0.1, 0.4, id)) kept++
    }
    expect(kept / 10_000).toBeGreaterThan(0.2)
    expect(kept / 10_000).toBeLessThan(0.3)
  })
})

describe("makeRequestTracing", () => {
  const settings = {
    destinations: [],
    sampleRate: 0.3,
    captureContent: false,
    serviceName: "s"
  }
  it("continues a valid traceparent with its own sampling decision; a new trace is kept with the sample rate", () => {
    const t = makeRequestTracing(settings, startUnexported, () => 0.5)
    expect(t.parentOf(undefined)).toEqual({ parent: undefined, sampled: false })
    expect(makeRequestTracing(settings, startUnexported, () => 0.1).parentOf(undefined).sampled).toBe(true)
    const kept = t.parentOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    expect([kept.parent?.traceId, kept.parent?.spanId, kept.sampled]).toEqual([
      "4bf92f3577b34da6a3ce929d0e0e4736",
      "00f067aa0ba902b7",
      true
    ])
    expect(t.parentOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").sampled).toBe(false)
    // Malformed: a new trace.
    expect(t.parentOf("garbage").parent).toBeUndefined()
    expect(t.parentOf("00-00000000000000000000000000000000-00f067aa0ba902b7-01").parent).toBeUndefined()
  })
})
