/**
 * TokenCounts: the BPE token counts of texts, for the request path (`POST
 * /v1/messages/count_tokens`, http/CountTokens.ts). A serving thread never loads an encoding
 * (usage/Tokenizer.ts): the counts come from the tokenizer thread the owner runs
 * (usage/TokenizerThread.ts). The owner counts through `fromCounter` (its TokenCounter, each text
 * as one recount); a worker asks the owner (cluster/RemoteTokenCounts.ts: `CountTokens` answered
 * by `TokenCount`), through the in-process channel too when it runs in the owner's thread.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type { Encoding } from "./Estimate.ts"
import type { Recount } from "./Recount.ts"
import type { TokenCounterShape, TokenCountError } from "./TokenizerThread.ts"

export interface TokenCountsShape {
  /** The BPE tokens of each text with `encoding`, in order (special-token text counts as plain text). */
  readonly count: (
    encoding: Encoding,
    texts: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<number>, TokenCountError>
}

export class TokenCounts extends Context.Service<TokenCounts, TokenCountsShape>()("llmgate/TokenCounts") {}

/** One text as a recount: its input is the text alone, with nothing fixed and no output. */
const textRecount = (encoding: Encoding, text: string): Recount => ({
  encoding,
  input: { fixed: 0, texts: [text], events: [] },
  output: { fixed: 0, texts: [], events: [] },
  price: null
})

/** Counts through the owner's TokenCounter: one batch, each text a recount of its own. */
export const fromCounter = (counter: TokenCounterShape): TokenCountsShape => ({
  count: (encoding, texts) =>
    texts.length === 0
      ? Effect.succeed([])
      : Effect.map(counter.count(texts.map((text) => textRecount(encoding, text))), (counts) =>
          counts.map(([input]) => input)
        )
})
