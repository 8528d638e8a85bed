import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { openAIUsage } from "../../../src/providers/openai/OpenAIUsage.ts"
import { measureResponse, measureStream } from "../../../src/usage/Measure.ts"
import { makeStreamUsageTracker } from "../../../src/usage/StreamUsage.ts"
import { Tokenizer, TokenizerError } from "../../../src/usage/Tokenizer.ts"

const run = <A>(effect: Effect.Effect<A, never, Tokenizer>, layer: Layer.Layer<Tokenizer> = Tokenizer.layer) =>
  Effect.runPromise(Effect.provide(effect, layer))

const BROKEN = Layer.succeed(Tokenizer, {
  counter: (encoding) => Effect.fail(new TokenizerError({ encoding, message: "not installed" }))
})

const body = {
  model: "chat",
  stream: true,
  messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", name: "alice", content: "What is the weather in Paris?" }
  ]
}
const request = { endpoint: "chat" as const, body, upstreamModel: "gpt-4o-2024-08-06" }
const delta = (content: string) => JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })

describe("measureStream", () => {
  it("takes the reported usage when the stream sent it", async () => {
    const tracker = makeStreamUsageTracker(openAIUsage)
    tracker.observe(delta("Hi"))
    tracker.observe(JSON.stringify({ choices: [], usage: { prompt_tokens: 30, completion_tokens: 2 } }))
    expect(await run(measureStream(tracker, request))).toEqual({
      tokens: { input: 30, cache_read: 0, cache_write: 0, reasoning: 0, output: 2 },
      estimated: false
    })
  })

  it("estimates a stream cancelled or broken before its usage chunk from the prompt and the text so far", async () => {
    const tracker = makeStreamUsageTracker(openAIUsage)
    tracker.observe(delta("Hello,"))
    tracker.observe(delta(" world!"))
    // The prompt is 26 tokens in o200k_base (gpt-4o's encoding); "Hello, world!" is 4.
    expect(await run(measureStream(tracker, request))).toEqual({
      tokens: { input: 26, cache_read: 0, cache_write: 0, reasoning: 0, output: 4 },
      estimated: true
    })
  })

  it("estimates by characters when no tokenizer loads", async () => {
    const tracker = makeStreamUsageTracker(openAIUsage)
    tracker.observe(delta("Hello, world!"))
    const measured = await run(measureStream(tracker, request), BROKEN)
    expect(measured.estimated).toBe(true)
    expect(measured.tokens.output).toBe(Math.ceil("Hello, world!".length / 4))
  })
})

describe("measureResponse", () => {
  it("takes the reported usage of a buffered answer", async () => {
    const json = {
      choices: [{ index: 0, message: { role: "assistant", content: "Hi" } }],
      usage: { prompt_tokens: 9, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 8 } }
    }
    expect(await run(measureResponse(openAIUsage, json, request))).toEqual({
      tokens: { input: 1, cache_read: 8, cache_write: 0, reasoning: 0, output: 1 },
      estimated: false
    })
  })

  it("estimates an answer without usage (or with a malformed one) from its message", async () => {
    for (const usage of [undefined, null, { prompt_tokens: "x" }]) {
      const json = { choices: [{ index: 0, message: { role: "assistant", content: "Hello, world!" } }], usage }
      expect(await run(measureResponse(openAIUsage, json, request))).toEqual({
        tokens: { input: 26, cache_read: 0, cache_write: 0, reasoning: 0, output: 4 },
        estimated: true
      })
    }
  })

  it("estimates a legacy completion's text with cl100k_base for a GPT-3.5 model", async () => {
    const json = { choices: [{ index: 0, text: "hello world" }] }
    const measured = await run(
      measureResponse(openAIUsage, json, {
        endpoint: "completions",
        body: { prompt: "Hello, world!" },
        upstreamModel: "gpt-3.5-turbo-instruct"
      })
    )
    expect(measured).toEqual({
      tokens: { input: 4, cache_read: 0, cache_write: 0, reasoning: 0, output: 2 },
      estimated: true
    })
  })
})
