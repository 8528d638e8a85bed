/**
 * Measure: the tokens a request consumed, for its usage record. The provider's reported usage when
 * there is one; otherwise an estimate (marked `estimated`) from the request body and the text
 * generated: the whole answer of a buffered response, or what a stream sent before it ended, was
 * cancelled by the client or failed midway (billed for what was generated). Estimates count with
 * the model family's encoding (usage/Estimate.ts), loaded on first use (usage/Tokenizer.ts); if
 * the tokenizer cannot be loaded, with one token per 4 characters (still `estimated`).
 */
import * as Effect from "effect/Effect"
import type { Endpoint } from "../domain/Endpoint.ts"
import type { TokenUsage } from "../domain/Usage.ts"
import { completionTokens, encodingFor, estimatedUsage, promptTokens } from "./Estimate.ts"
import { choiceTexts, type StreamUsageTracker } from "./StreamUsage.ts"
import { countByCharacters, Tokenizer } from "./Tokenizer.ts"

export interface Measured {
  readonly tokens: TokenUsage
  /** True when the tokens were counted locally (the provider reported none). */
  readonly estimated: boolean
}

/** What was asked: the endpoint, the client's body and the model sent upstream. */
export interface MeasuredRequest {
  readonly endpoint: Endpoint
  readonly body: Readonly<Record<string, unknown>>
  readonly upstreamModel: string
}

const estimate = (
  request: MeasuredRequest,
  text: string,
  overflowChars: number
): Effect.Effect<Measured, never, Tokenizer> =>
  Effect.gen(function* () {
    const tokenizer = yield* Tokenizer
    const count = yield* tokenizer.counter(encodingFor(request.upstreamModel)).pipe(
      Effect.tapError((error) => Effect.logWarning("usage estimated by characters: no tokenizer", error.message)),
      Effect.orElseSucceed(() => countByCharacters)
    )
    return {
      tokens: estimatedUsage(
        promptTokens(count, request.endpoint, request.body),
        completionTokens(count, text, overflowChars)
      ),
      estimated: true
    }
  })

/** The usage of a stream at its end (complete, cancelled or failed): reported, else estimated from what it generated. */
export const measureStream = (
  tracker: StreamUsageTracker,
  request: MeasuredRequest
): Effect.Effect<Measured, never, Tokenizer> => {
  const reported = tracker.reported()
  return reported !== undefined
    ? Effect.succeed({ tokens: reported, estimated: false })
    : estimate(request, tracker.text(), tracker.overflowChars())
}

/** The usage of a buffered answer (`json`): its reported usage (read by the provider's `readUsage`), else estimated from its choices. */
export const measureResponse = (
  readUsage: (usage: unknown) => TokenUsage | undefined,
  json: Readonly<Record<string, unknown>>,
  request: MeasuredRequest
): Effect.Effect<Measured, never, Tokenizer> => {
  const reported = json["usage"] === undefined || json["usage"] === null ? undefined : readUsage(json["usage"])
  if (reported !== undefined) return Effect.succeed({ tokens: reported, estimated: false })
  const texts: Array<string> = []
  const choices = json["choices"]
  if (Array.isArray(choices)) for (const choice of choices) choiceTexts(choice, texts)
  return estimate(request, texts.join(""), 0)
}
