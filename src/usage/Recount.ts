/**
 * Recount: what an estimated usage record carries so that its tokens can be counted again, off the
 * serving threads, with the model's BPE encoding (usage/TokenizerThread.ts), and the repricing of
 * the record once they are.
 *
 * The request path estimates with one token per 4 characters (the limiter and budgets settle to
 * that at once). It runs the estimate's own rules (usage/Estimate.ts) with a counter that also
 * keeps the texts it is asked to count, up to `RECOUNT_TEXT_LIMIT` characters per part: since every
 * estimate is a constant plus the sum of its texts' counts, `fixed` (the estimate minus the kept
 * texts' character counts: the overheads and whatever did not fit) plus the BPE count of each kept
 * text is exactly the estimate a BPE counter would have given, with only the texts past the limit
 * counted by characters. A stream's output may instead carry the raw `data` of its events
 * (usage/StreamUsage.ts keeps them, bounded, without parsing them); the tokenizer thread extracts
 * their generated text.
 *
 * The record also carries the price it was served at (its snapshot's PriceBook), so the owner
 * reprices it exactly, whatever config it holds by then.
 */
import type { Observed } from "../domain/Observed.ts"
import type { UsageRecord } from "../domain/Usage.ts"
import { costOf, type TokenPrice } from "./Cost.ts"
import { type CountTokens, type Encoding, estimatedUsage } from "./Estimate.ts"
import { countByCharacters } from "./Tokenizer.ts"

/** Most characters of text (or stream event data) kept per part (input, output) of one record. */
export const RECOUNT_TEXT_LIMIT = 128 * 1024

/** Tokens of one part: `fixed` plus the BPE count of each text plus that of the events' generated text. */
export interface RecountPart {
  readonly fixed: number
  readonly texts: ReadonlyArray<string>
  /** The `data` of stream events (OpenAI chunks) whose generated text is counted as one text. */
  readonly events: ReadonlyArray<string>
}

export interface Recount {
  readonly encoding: Encoding
  readonly input: RecountPart
  readonly output: RecountPart
  /** The price the request was served at; null when its model has no price. */
  readonly price: TokenPrice | null
}

/** A record on its way to the writer: an estimated one may carry its recount. */
export interface RecountableRecord extends UsageRecord {
  readonly recount?: Recount
  /** For the owner's metrics, never stored (domain/Observed.ts); absent on records made elsewhere (tests). */
  readonly observed?: Observed
}

/** The characters a recount holds (what bounds the writer's and the sender's buffers). */
export const recountSize = (recount: Recount): number => partSize(recount.input) + partSize(recount.output)

const partSize = (part: RecountPart): number => {
  let n = 0
  for (const t of part.texts) n += t.length
  for (const e of part.events) n += e.length
  return n
}

/** A counter by characters that keeps the texts it counts, up to `limit` characters in all. */
export interface TextRecorder {
  readonly count: CountTokens
  /** The part of an estimate of `total` tokens counted with this recorder (plus `events`, not in `total`). */
  readonly part: (total: number, events?: ReadonlyArray<string>) => RecountPart
}

export const recordTexts = (limit: number = RECOUNT_TEXT_LIMIT): TextRecorder => {
  const texts: Array<string> = []
  let kept = 0
  let keptTokens = 0
  return {
    count: (text) => {
      const n = countByCharacters(text)
      if (text.length > 0 && kept + text.length <= limit) {
        texts.push(text)
        kept += text.length
        keptTokens += n
      }
      return n
    },
    part: (total, events = []) => ({ fixed: total - keptTokens, texts, events })
  }
}

/** The record with its tokens counted again (`input`, `output`: the BPE counts of each part's texts), repriced. */
export const recounted = (record: UsageRecord, recount: Recount, input: number, output: number): UsageRecord => {
  const tokens = estimatedUsage(recount.input.fixed + input, recount.output.fixed + output)
  return {
    ...record,
    tokens,
    estimated: true,
    cost_usd: recount.price === null ? null : costOf(tokens, recount.price).usd
  }
}
