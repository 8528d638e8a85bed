// Where limits are counted, decided once at start: `limits.redis.url`, else `REDIS_URL` (which alone
// turns Redis on with the defaults), else shared memory; `limits.redis` with no url anywhere is an
// error. The snapshot then shows what the workers connected to, whatever a reload says.
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import { describe, expect, it } from "vitest"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import { applyStart, redisHost, redisSettings } from "../../../src/startup/StartSettings.ts"

const BASE = "providers: [{ name: m, kind: mock }]\nmodels: [{ name: chat, targets: [{ provider: m }] }]\n"
const config = (text = "") => {
  const r = parseConfig(BASE + text, {}, "test.yaml")
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

describe("redisSettings", () => {
  it("uses limits.redis.url before REDIS_URL, REDIS_URL alone with the defaults, and neither: memory", () => {
    expect(
      redisSettings(config("limits: { redis: { url: redis://a:1, on_error: fail_closed } }"), {
        REDIS_URL: "redis://b:2"
      })
    ).toEqual({
      url: "redis://a:1",
      onError: "fail_closed",
      keyPrefix: "llmgate:"
    })
    expect(redisSettings(config(), { REDIS_URL: "redis://b:2" })).toEqual({
      url: "redis://b:2",
      onError: "fail_open",
      keyPrefix: "llmgate:"
    })
    expect(
      redisSettings(config("limits: { redis: { key_prefix: 'x:' } }"), { REDIS_URL: "redis://b:2" })
    ).toMatchObject({ keyPrefix: "x:" })
    expect(redisSettings(config(), {})).toBeUndefined()
    expect(redisSettings(config(), { REDIS_URL: "" })).toBeUndefined()
  })

  it("refuses limits.redis without a url when REDIS_URL is not set either", () => {
    expect(redisSettings(config("limits: { redis: { on_error: fail_closed } }"), {})).toBe(
      "limits.redis: no url (set limits.redis.url or REDIS_URL)"
    )
  })

  it("the snapshot shows the Redis of the start", () => {
    const start = {
      host: "h",
      port: 1,
      masterKey: "k",
      redis: { url: "redis://user:pw@r:6380", onError: "fail_open" as const, keyPrefix: "p:" },
      tracing: undefined
    }
    const applied = applyStart(config(), start).limits.redis
    expect(applied?.url === undefined ? undefined : Redacted.value(applied.url)).toBe("redis://user:pw@r:6380")
    expect(
      applyStart(config("limits: { redis: { url: redis://other } }"), { ...start, redis: undefined }).limits.redis
    ).toBeUndefined()
    expect(redisHost(start.redis.url)).toBe("r:6380")
  })
})

describe("applyStart and the reloadable limits", () => {
  it("keeps limits.default_max_tokens (only limits.redis is fixed at start)", () => {
    const start = { host: "127.0.0.1", port: 4000, masterKey: "m", redis: undefined, tracing: undefined }
    expect(applyStart(config("limits: { default_max_tokens: 77 }"), start).limits.defaultMaxTokens).toBe(77)
  })
})
