/**
 * The tokenizer's cost on this runtime (`node|bun|deno run test/bench/tokenizer.ts`): the time to
 * load each encoding on first use (the lazy import in src/usage/Tokenizer.ts), the heap it adds,
 * and the time per count for a chat prompt and for a short streamed delta. Prints one JSON line.
 * Also a smoke check that estimation runs on the runtime: known strings must count as expected.
 */
import * as Effect from "effect/Effect"
import { chatPromptTokens } from "../../src/usage/Estimate.ts"
import { Tokenizer } from "../../src/usage/Tokenizer.ts"

declare const Bun: unknown
declare const Deno: unknown
const runtime = typeof Deno !== "undefined" ? "deno" : typeof Bun !== "undefined" ? "bun" : "node"

const heapMb = (): number => {
  const g = globalThis as { process?: { memoryUsage?: () => { heapUsed: number } } }
  return g.process?.memoryUsage ? g.process.memoryUsage().heapUsed / 1048576 : Number.NaN
}

const PROMPT = {
  messages: [
    { role: "system", content: "You are a helpful assistant that answers in English. ".repeat(8) },
    {
      role: "user",
      content: "Summarize the following text in three bullet points: ".concat(
        "The gateway relays requests. ".repeat(30)
      )
    }
  ]
}

const perCallMicros = (fn: () => void, iterations: number): number => {
  for (let i = 0; i < 200; i++) fn()
  const start = performance.now()
  for (let i = 0; i < iterations; i++) fn()
  return ((performance.now() - start) * 1000) / iterations
}

const program = Effect.gen(function* () {
  const tokenizer = yield* Tokenizer
  const heap0 = heapMb()
  let t = performance.now()
  const o200k = yield* tokenizer.counter("o200k_base")
  const loadO200kMs = performance.now() - t
  const heap1 = heapMb()
  t = performance.now()
  const cl100k = yield* tokenizer.counter("cl100k_base")
  const loadCl100kMs = performance.now() - t
  t = performance.now()
  yield* tokenizer.counter("o200k_base")
  const cachedMs = performance.now() - t
  if (o200k("Hello, world!") !== 4 || cl100k("日本語のテキスト") !== 8) throw new Error("unexpected token counts")
  const promptTokens = chatPromptTokens(o200k, PROMPT)
  return {
    runtime,
    load_o200k_ms: Math.round(loadO200kMs),
    load_cl100k_ms: Math.round(loadCl100kMs),
    cached_lookup_ms: Number(cachedMs.toFixed(3)),
    heap_added_by_o200k_mb: Math.round(heap1 - heap0),
    prompt_tokens: promptTokens,
    chat_prompt_count_us: Number(perCallMicros(() => chatPromptTokens(o200k, PROMPT), 2000).toFixed(1)),
    delta_count_us: Number(perCallMicros(() => o200k(" the quick brown"), 20000).toFixed(2))
  }
})

const result = await Effect.runPromise(Effect.provide(program, Tokenizer.layer))
console.log(JSON.stringify(result))
