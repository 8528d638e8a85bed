/**
 * Tokenizer: the BPE token counters the estimates are counted again with (usage/Estimate.ts), loaded
 * on first use. gpt-tokenizer's encodings are large modules (o200k_base takes ~0.4 s and tens of MB
 * to load on Node, up to 1.2 s on Bun), stalling the thread that loads them, so only the tokenizer
 * thread loads them (usage/TokenizerThread.ts), never a serving thread: each encoding is a dynamic
 * import run once, the first time a recount needs it, and shared afterwards (Effect.cached held by
 * this service, so there is no module-level state). A gateway whose providers report usage never
 * loads one. Works on Node, Bun and Deno (plain ES modules, no WASM, no native code).
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { CountTokens, Encoding } from "./Estimate.ts"

/** An encoding's module could not be loaded (a broken install): estimates are then unavailable. */
export class TokenizerError extends Schema.TaggedError<TokenizerError>()("TokenizerError", {
  encoding: Schema.String,
  message: Schema.String
}) {}

export interface TokenizerShape {
  /** The token counter of `encoding`, loading it the first time. */
  readonly counter: (encoding: Encoding) => Effect.Effect<CountTokens, TokenizerError>
}

interface EncodingModule {
  readonly countTokens: (text: string, options: { disallowedSpecial: Set<string> }) => number
}

const load = (
  encoding: Encoding,
  importer: () => Promise<EncodingModule>
): Effect.Effect<CountTokens, TokenizerError> =>
  Effect.tryPromise({
    try: importer,
    catch: (cause) => new TokenizerError({ encoding, message: cause instanceof Error ? cause.message : String(cause) })
  }).pipe(
    Effect.map((module): CountTokens => {
      // No special token disallowed: `<|endoftext|>` in a prompt counts as plain text instead of throwing.
      const plain = { disallowedSpecial: new Set<string>() }
      return (text) => (text === "" ? 0 : module.countTokens(text, plain))
    }),
    Effect.withSpan("Tokenizer.load", { attributes: { encoding } })
  )

/** One token per 4 characters: the estimate when no BPE encoding is loaded (or none may be). */
export const countByCharacters: CountTokens = (text) => Math.ceil(text.length / 4)

export const make: Effect.Effect<TokenizerShape> = Effect.gen(function* () {
  const o200k = yield* Effect.cached(load("o200k_base", () => import("gpt-tokenizer/encoding/o200k_base")))
  const cl100k = yield* Effect.cached(load("cl100k_base", () => import("gpt-tokenizer/encoding/cl100k_base")))
  return { counter: (encoding) => (encoding === "o200k_base" ? o200k : cl100k) }
})

export class Tokenizer extends Context.Service<Tokenizer, TokenizerShape>()("llmgate/Tokenizer") {
  static readonly layer: Layer.Layer<Tokenizer> = Layer.effect(Tokenizer, make)
}
