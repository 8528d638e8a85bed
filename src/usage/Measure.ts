/**
 * Measure: the tokens a request consumed, for its usage record. The provider's reported usage when
 * there is one; otherwise an estimate (marked `estimated`) from the request body and the text
 * generated: the whole answer of a buffered response, or what a stream sent before it ended, was
 * cancelled by the client or failed midway (billed for what was generated).
 *
 * On the request path an estimate counts one token per 4 characters, by the estimate's own rules
 * (usage/Estimate.ts): cheap, and what the limiter and budgets settle to. It also carries its
 * recount (usage/Recount.ts): the texts it counted, bounded, and the model's encoding, so the
 * owner's writer counts them again with the BPE tokenizer in a thread of its own
 * (usage/TokenizerThread.ts) before the record is stored. A reported usage carries nothing more.
 */
import type { Endpoint } from "../domain/Endpoint.ts"
import type { TokenUsage } from "../domain/Usage.ts"
import { completionTokens, encodingFor, estimatedUsage, promptTokens } from "./Estimate.ts"
import { type Recount, recordTexts } from "./Recount.ts"
import { choiceTexts, type KeptEvents, type StreamUsageTracker } from "./StreamUsage.ts"

export interface Measured {
  readonly tokens: TokenUsage
  /** True when the tokens were counted locally (the provider reported none). */
  readonly estimated: boolean
  /** An estimate's texts, for the BPE recount (its `price` is the record's to set: null here). */
  readonly recount?: Recount
}

/** What was asked: the endpoint, the client's body and the model sent upstream. */
export interface MeasuredRequest {
  readonly endpoint: Endpoint
  readonly body: Readonly<Record<string, unknown>>
  readonly upstreamModel: string
}

const NO_EVENTS: KeptEvents = { data: [], chars: 0 }

const estimate = (request: MeasuredRequest, text: string, overflowChars: number, events: KeptEvents): Measured => {
  const input = recordTexts()
  const output = recordTexts()
  const prompt = promptTokens(input.count, request.endpoint, request.body)
  const completion = completionTokens(output.count, text, overflowChars)
  return {
    tokens: estimatedUsage(prompt, completion + Math.ceil(events.chars / 4)),
    estimated: true,
    recount: {
      encoding: encodingFor(request.upstreamModel),
      input: input.part(prompt),
      output: output.part(completion, events.data),
      price: null
    }
  }
}

/** The usage of a stream at its end (complete, cancelled or failed): reported, else estimated from what it generated. */
export const measureStream = (tracker: StreamUsageTracker, request: MeasuredRequest): Measured => {
  const reported = tracker.reported()
  return reported !== undefined
    ? { tokens: reported, estimated: false }
    : estimate(request, tracker.text(), tracker.overflowChars(), tracker.keptEvents())
}

/** The usage of a buffered answer (`json`): its reported usage (read by the provider's `readUsage`), else estimated from its choices. */
export const measureResponse = (
  readUsage: (usage: unknown) => TokenUsage | undefined,
  json: Readonly<Record<string, unknown>>,
  request: MeasuredRequest
): Measured => {
  const reported = json["usage"] === undefined || json["usage"] === null ? undefined : readUsage(json["usage"])
  if (reported !== undefined) return { tokens: reported, estimated: false }
  const texts: Array<string> = []
  const choices = json["choices"]
  if (Array.isArray(choices)) for (const choice of choices) choiceTexts(choice, texts)
  return estimate(request, texts.join(""), 0, NO_EVENTS)
}
