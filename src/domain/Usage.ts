/**
 * Usage: what one request consumed, in one normalized form whatever the provider, and the record
 * kept of every request. Providers count differently (OpenAI's `prompt_tokens` include the cached
 * ones and `completion_tokens` the reasoning ones; Anthropic's `input_tokens` exclude the cache
 * reads and writes), so each adapter maps its own counting into these five disjoint kinds, and
 * pricing, limits and reports never see a provider's convention: nothing is billed twice or missed.
 */
import * as Schema from "effect/Schema"

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** Tokens by kind; the kinds are disjoint, so their sum is every token the request consumed. */
export const TokenUsage = Schema.Struct({
  /** Input tokens read neither from nor into a prompt cache. */
  input: Count,
  /** Input tokens read from the provider's prompt cache. */
  cache_read: Count,
  /** Input tokens written into the provider's prompt cache. */
  cache_write: Count,
  /** Output tokens spent on reasoning (not shown as content). */
  reasoning: Count,
  /** Output tokens other than reasoning. */
  output: Count
})
export type TokenUsage = typeof TokenUsage.Type

export const NO_USAGE: TokenUsage = { input: 0, cache_read: 0, cache_write: 0, reasoning: 0, output: 0 }

/** All input tokens (what OpenAI calls `prompt_tokens`). */
export const inputTokens = (u: TokenUsage): number => u.input + u.cache_read + u.cache_write
/** All output tokens (what OpenAI calls `completion_tokens`). */
export const outputTokens = (u: TokenUsage): number => u.reasoning + u.output
export const totalTokens = (u: TokenUsage): number => inputTokens(u) + outputTokens(u)

/** How a request ended, as far as the record is concerned. */
export const UsageOutcome = Schema.Literals(["ok", "error", "cancelled"])
export type UsageOutcome = typeof UsageOutcome.Type

/**
 * The record of one request, written by one writer (the owner) in batches, never on the request
 * path. Ids name the tenancy objects (`key_id` absent for the master key); `model` is the public
 * name the client asked for, `provider`/`upstream_model` what served it (absent when nothing did).
 */
export const UsageRecord = Schema.Struct({
  request_id: Schema.String,
  /** Epoch milliseconds when the request arrived. */
  at_ms: Schema.Number,
  key_id: Schema.NullOr(Schema.String),
  project_id: Schema.NullOr(Schema.String),
  user_id: Schema.NullOr(Schema.String),
  endpoint: Schema.String,
  model: Schema.String,
  provider: Schema.NullOr(Schema.String),
  upstream_model: Schema.NullOr(Schema.String),
  tokens: TokenUsage,
  /** True when the tokens were counted locally (the provider reported none). */
  estimated: Schema.Boolean,
  /** Cost in US dollars; null when the model has no price. */
  cost_usd: Schema.NullOr(Schema.Number),
  /** HTTP status answered to the client. */
  status: Schema.Int,
  outcome: UsageOutcome,
  attempts: Schema.Int,
  latency_ms: Schema.Number,
  /** Time to the first content byte of a stream; null for JSON answers. */
  ttft_ms: Schema.NullOr(Schema.Number),
  stream: Schema.Boolean
})
export type UsageRecord = typeof UsageRecord.Type

/**
 * A record as the usage store keeps it: with the writer's own `id` (a UUIDv7, so ids sort by the
 * time the writer took the record and a store's index on them grows at one end). The id, not the
 * request id, makes a write idempotent: a client may send the same `x-request-id` with every
 * request, and each of those requests is counted; a batch retried after a timeout carries the same
 * ids and is counted once.
 */
export interface StoredUsageRecord extends UsageRecord {
  readonly id: string
}
