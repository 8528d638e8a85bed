// Log lines: redacted after they are formatted (credentials, sk- keys, the config's secret values,
// error causes included), in text or JSON, at the least level of the config or --debug.
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Result from "effect/Result"
import { describe, expect, it } from "vitest"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { configSecrets, makeLogger, makeRedactor, minimumLevel, REDACTED } from "../../../src/logging/Logging.ts"

const KEY = "sk-lg-AbCdEfGhIjKlMnOpQrStUvWxYz012345"

describe("makeRedactor", () => {
  const redact = makeRedactor(["upk-provider-s3cret-value", "short"])
  it("hides credentials after a scheme, in credential headers, sk- keys and the known secrets", () => {
    expect(redact("Authorization: Bearer abc.def-123")).toBe(`Authorization: Bearer ${REDACTED}`)
    expect(redact('{"authorization":"Basic dXNlcjpwYXNz"}')).toBe(`{"authorization":"Basic ${REDACTED}"}`)
    expect(redact("x-api-key: k-123456789 next")).toBe(`x-api-key: ${REDACTED} next`)
    expect(redact('{"api-key":"abcdef123456"}')).toBe(`{"api-key":"${REDACTED}"}`)
    expect(redact(`invalid key ${KEY} refused`)).toBe(`invalid key sk-${REDACTED} refused`)
    expect(redact("sk-proj-0123456789abcdefXYZ")).toBe(`sk-${REDACTED}`)
    expect(redact("upstream said: bad key upk-provider-s3cret-value")).toBe(`upstream said: bad key ${REDACTED}`)
  })
  it("leaves a key's visible prefix, short configured values and ordinary text alone", () => {
    expect(redact("key sk-lg-AbCdEf (prefix)")).toBe("key sk-lg-AbCdEf (prefix)")
    expect(redact("a short word")).toBe("a short word")
    expect(redact("config version 3 served by every worker")).toBe("config version 3 served by every worker")
  })
})

describe("makeLogger", () => {
  /** What the gateway's logger of `format` writes to the console while `effect` runs. */
  const lines = (format: "text" | "json", effect: Effect.Effect<void>) => {
    const out: Array<string> = []
    const original = console.log
    console.log = (...args: Array<unknown>) => out.push(args.map(String).join(" "))
    try {
      Effect.runSync(
        effect.pipe(Effect.provideService(Logger.CurrentLoggers, new Set([makeLogger(format, makeRedactor([]))])))
      )
    } finally {
      console.log = original
    }
    return { out }
  }

  it("json: one parseable object per line, annotations and the cause included, redacted", () => {
    const { out } = lines(
      "json",
      Effect.logWarning("request failed", new Error(`upstream refused ${KEY}`)).pipe(
        Effect.annotateLogs({ request_id: "r1", authorization: "Bearer abcdefgh" })
      )
    )
    expect(out).toHaveLength(1)
    const line = JSON.parse(out[0]!) as { message: unknown; level: string; annotations: Record<string, string> }
    expect(line.level).toBe("WARN")
    expect(line.annotations["request_id"]).toBe("r1")
    expect(out[0]).not.toContain(KEY)
    expect(out[0]).not.toContain("abcdefgh")
  })

  it("text: Effect's default line, redacted, the cause too", () => {
    const { out } = lines("text", Effect.logError("boom", new Error(`with ${KEY}`)))
    expect(out[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] ERROR \(#\d+\): boom /)
    expect(out[0]).toContain(`sk-${REDACTED}`)
    expect(out.join("\n")).not.toContain(KEY)
  })
})

describe("minimumLevel and configSecrets", () => {
  it("--debug wins; else the config's level", () => {
    expect(minimumLevel("error", true)).toBe("Debug")
    expect(minimumLevel("info", false)).toBe("Info")
    expect(minimumLevel("warning", false)).toBe("Warn")
    expect(minimumLevel("error", false)).toBe("Error")
    expect(minimumLevel("debug", false)).toBe("Debug")
  })

  it("the master key, provider credentials (and their bare tokens), secret headers and OTLP headers", () => {
    const r = parseConfig(
      `master_key: mk-master-0123456789
providers:
  - name: a
    kind: openai
    base_url: http://x/v1
    api_key: upk-a-0123456789
    headers: [{ op: insert, key: X-Custom-Token, value: hdr-secret-123456 }, { op: insert, key: User-Agent, value: llmgate-ua-visible }]
models: [{ name: m, targets: [{ provider: a }] }]
tracing: { otlp: { endpoint: 'http://c:4318', headers: { authorization: otlp-token-0123456 } } }
logging: { level: warning, format: json }
`,
      {},
      "t.yaml"
    )
    expect(Result.isSuccess(r)).toBe(true)
    if (!Result.isSuccess(r)) return
    const secrets = configSecrets(r.success)
    for (const s of ["mk-master-0123456789", "upk-a-0123456789", "hdr-secret-123456", "otlp-token-0123456"])
      expect(secrets, s).toContain(s)
    expect(secrets).not.toContain("llmgate-ua-visible")
    expect(r.success.logging).toEqual({ level: "warning", format: "json" })
  })
})
