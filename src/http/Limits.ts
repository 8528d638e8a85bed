/**
 * Rate limits on the proxy path: a limited key's request is admitted against its limits (and its
 * project's) before it is dispatched, its reserved tokens are settled to the usage the answer
 * reports (a stream's when it ends: `Served.streamTokens`), and its share of `max_parallel` is given
 * back when the request ends, however it ends (answered, failed, interrupted by a client that left,
 * or at the end of its relayed stream).
 * Every answer to a limited key, a 429 included, carries OpenAI's `x-ratelimit-*` headers for the
 * tightest limits that apply; a refusal also carries `Retry-After`.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import type { GatewayError } from "../domain/GatewayError.ts"
import { totalTokens } from "../domain/Usage.ts"
import type { LimiterStore, Reservation } from "../limits/RateLimiter.ts"
import type { LimitHeaders } from "../limits/RateLimits.ts"
import { openAIUsageOf } from "../providers/openai/OpenAIUsage.ts"
import type { OutgoingResponse } from "./Exchange.ts"
import { errorResponse } from "./respond.ts"

/** A duration as OpenAI writes its resets: `20ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`. */
export const formatReset = (ms: number): string => {
  const total = Math.max(0, Math.ceil(ms))
  if (total === 0) return "0s"
  if (total < 1000) return `${total}ms`
  const hours = Math.floor(total / 3_600_000)
  const minutes = Math.floor((total % 3_600_000) / 60_000)
  const seconds = `${(total % 60_000) / 1000}s`
  if (hours > 0) return `${hours}h${minutes}m${seconds}`
  if (minutes > 0) return `${minutes}m${seconds}`
  return seconds
}

/** The `x-ratelimit-*` headers for the tightest limits (only the kinds that apply). */
export const rateLimitHeaders = (h: LimitHeaders): Record<string, string> => {
  const out: Record<string, string> = {}
  if (h.requests !== undefined) {
    out["x-ratelimit-limit-requests"] = String(h.requests.limit)
    out["x-ratelimit-remaining-requests"] = String(h.requests.remaining)
    out["x-ratelimit-reset-requests"] = formatReset(h.requests.resetMs)
  }
  if (h.tokens !== undefined) {
    out["x-ratelimit-limit-tokens"] = String(h.tokens.limit)
    out["x-ratelimit-remaining-tokens"] = String(h.tokens.remaining)
    out["x-ratelimit-reset-tokens"] = formatReset(h.tokens.resetMs)
  }
  return out
}

/** What the limited request reports back: the answer, and the total tokens it used when known. */
export interface Served {
  readonly response: OutgoingResponse
  readonly totalTokens: number | undefined
  /**
   * For a streamed answer: the tokens it used, read when its stream has ended (after the stream's
   * own end hooks ran, before its place is given back); undefined leaves the reservation standing.
   */
  readonly streamTokens?: (() => number | undefined) | undefined
}

/**
 * The tokens a buffered answer settles its reservation to: all its usage reports; an error answer
 * without usage used none; otherwise unknown (the reservation stands).
 */
export const settledTokens = (status: number, json: Readonly<Record<string, unknown>>): number | undefined => {
  const usage = openAIUsageOf(json)
  return usage !== undefined ? totalTokens(usage) : status >= 400 ? 0 : undefined
}

/**
 * Runs `serve` when `reservation` is admitted by `store`, else answers the 429. The request's
 * claim is released exactly once: when `serve` fails or is interrupted, when it answers with bytes,
 * or when its streamed body ends (or is cancelled).
 */
export const limited = (
  store: LimiterStore,
  reservation: Reservation,
  serve: Effect.Effect<Served, GatewayError>
): Effect.Effect<OutgoingResponse, GatewayError> =>
  Effect.flatMap(store.admit(reservation), (admission) => {
    if (admission._tag === "Rejected") {
      const refused = errorResponse(admission.reason)
      return Effect.succeed({ ...refused, headers: { ...refused.headers, ...rateLimitHeaders(admission.headers) } })
    }
    const { handle } = admission
    let released = false
    const release = Effect.suspend(() => {
      if (released) return Effect.void
      released = true
      return store.release(handle)
    })
    let streamed = false
    return serve.pipe(
      Effect.tap((served) =>
        served.totalTokens === undefined ? Effect.void : store.settle(handle, served.totalTokens)
      ),
      Effect.map(({ response, streamTokens }) => {
        const headers = { ...response.headers, ...rateLimitHeaders(admission.headers) }
        if (response.body instanceof Uint8Array) return { ...response, headers }
        streamed = true
        const settleAtEnd =
          streamTokens === undefined
            ? release
            : Effect.suspend(() => {
                const tokens = streamTokens()
                return tokens === undefined ? release : Effect.andThen(store.settle(handle, tokens), release)
              })
        return { ...response, headers, body: response.body.pipe(Stream.ensuring(settleAtEnd)) }
      }),
      Effect.onExit((exit) => (Exit.isSuccess(exit) && streamed ? Effect.void : release))
    )
  })
