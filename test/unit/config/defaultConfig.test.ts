// The embedded default config under the issue-10 reference rules: OPENAI_API_KEY is read through the
// `env:` list; OPENAI_BASE_URL (not a secret field) is written in as a literal, never referenced.
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import { describe, expect, it } from "vitest"
import { defaultConfigText } from "../../../src/config/defaultConfig.ts"
import { parseConfig } from "../../../src/config/loadConfig.ts"

const load = (env: Record<string, string>) => {
  const r = parseConfig(defaultConfigText(env), env, "embedded default")
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

describe("defaultConfigText", () => {
  it("mock models only without OPENAI_API_KEY; the master key from LLMGATE_MASTER_KEY", () => {
    const c = load({ LLMGATE_MASTER_KEY: "mk" })
    expect(c.modelNames).toEqual(["mock-chat", "mock-embed"])
    expect(c.masterKey && Redacted.value(c.masterKey)).toBe("mk")
  })

  it("records no usage: without a file there is nowhere to keep records but memory (a config file records by default)", () => {
    expect(load({}).usage.enabled).toBe(false)
  })

  it("OpenAI's models with OPENAI_API_KEY; OPENAI_BASE_URL taken as it is, even with ${…} in it", () => {
    const c = load({
      OPENAI_API_KEY: "sk-openai",
      OPENAI_BASE_URL: "http://127.0.0.1:9/v1?x=${LLMGATE_MASTER_KEY}",
      LLMGATE_MASTER_KEY: "mk"
    })
    const openai = c.providers.get("openai")
    expect(openai?.baseUrl).toBe("http://127.0.0.1:9/v1?x=${LLMGATE_MASTER_KEY}")
    expect(openai?.auth && Redacted.value(openai.auth.value)).toBe("Bearer sk-openai")
    expect(load({ OPENAI_API_KEY: "sk-openai", OPENAI_BASE_URL: "" }).providers.get("openai")?.baseUrl).toBe(
      "https://api.openai.com/v1"
    )
  })
})
