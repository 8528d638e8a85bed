/**
 * Rate limits and budgets on the proxy path: a limited or budgeted key's request is admitted
 * against its limits and budget (and its project's) before it is dispatched, reserving its tokens
 * and its maximum cost (`maxCost`); both are settled once to what the answer used (a stream's when
 * it ends: `Served.streamTokens`, `Served.streamCost`), and its share of `max_parallel` is given back
 * when the request ends, however it ends (answered, failed, interrupted by a client that left, or
 * at the end of its relayed stream). A request that ends unsettled (interrupted before an answer)
 * gives its budget reservation back, costing nothing, as its usage record says.
 * Every answer to a limited key, a 429 included, carries OpenAI's `x-ratelimit-*` headers for the
 * tightest limits that apply; a refusal also carries `Retry-After` (none for a `total` budget).
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import type { GatewayError } from "../domain/GatewayError.ts"
import { type TokenUsage, totalTokens } from "../domain/Usage.ts"
import { ceilMicros } from "../limits/Budgets.ts"
import type { Admission, AdmissionHandle, ImmediateLimiter, LimiterStore, Reservation } from "../limits/RateLimiter.ts"
import type { LimitHeaders, LimitRefusal, Settlement } from "../limits/RateLimits.ts"
import type { ModelGroup, Router } from "../routing/Router.ts"
import type { TokenPrice } from "../usage/Cost.ts"
import type { PriceBook } from "../usage/PriceBook.ts"
import { openAIUsage } from "../providers/openai/OpenAIUsage.ts"
import type { OutgoingResponse } from "./Exchange.ts"
import { errorResponse } from "./respond.ts"

/** A second's fraction as written after its whole seconds, by milliseconds: "", ".001" … ".5" … ".999". */
const FRACTIONS: ReadonlyArray<string> = Array.from({ length: 1000 }, (_, ms) =>
  ms === 0 ? "" : `.${String(ms).padStart(3, "0").replace(/0+$/, "")}`
)

/**
 * A duration as OpenAI writes its resets: `20ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`. Seconds are
 * written from whole numbers (every answer to a limited key carries two of these; a fraction's
 * float-to-text conversion cost more than the rest of the headers).
 */
export const formatReset = (ms: number): string => {
  const total = Math.max(0, Math.ceil(ms))
  if (total === 0) return "0s"
  if (total < 1000) return `${total}ms`
  const hours = Math.floor(total / 3_600_000)
  const minutes = Math.floor((total % 3_600_000) / 60_000)
  const milliseconds = total % 60_000
  const seconds = `${Math.floor(milliseconds / 1000)}${FRACTIONS[milliseconds % 1000]}s`
  if (hours > 0) return `${hours}h${minutes}m${seconds}`
  if (minutes > 0) return `${minutes}m${seconds}`
  return seconds
}

/**
 * `headers` with the `x-ratelimit-*` headers for the tightest limits (only the kinds that apply):
 * one copy, the headers set on it.
 */
export const withRateLimitHeaders = (
  headers: Readonly<Record<string, string>>,
  h: LimitHeaders
): Record<string, string> => {
  const out: Record<string, string> = { ...headers }
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

/** What the limited request reports back: the answer, and the total tokens and cost it used when known. */
export interface Served {
  readonly response: OutgoingResponse
  readonly totalTokens: number | undefined
  /** What a buffered answer cost, exact pico-dollars (undefined: not measured, for keys without a budget). */
  readonly costPico?: bigint | undefined
  /**
   * For a streamed answer: the tokens it used, read when its stream has ended (after the stream's
   * own end hooks ran, before its place is given back); undefined leaves the reservation standing.
   */
  readonly streamTokens?: (() => number | undefined) | undefined
  /** For a streamed answer: its cost, read at its end like `streamTokens`. */
  readonly streamCost?: (() => bigint | undefined) | undefined
}

/**
 * The dearest price of each token kind among the targets that may serve `group` (and its
 * fallbacks' targets): what a request's maximum cost is reserved at. Undefined when none is priced.
 */
export const reservePrice = (
  prices: PriceBook,
  router: Router,
  model: string,
  group: ModelGroup
): TokenPrice | undefined => {
  let max: { -readonly [K in keyof TokenPrice]: bigint } | undefined
  const consider = (upstream: string) => {
    const found = prices.lookup(model, upstream)?.price
    if (found === undefined) return
    if (max === undefined) max = { ...found }
    else for (const k of Object.keys(max) as Array<keyof TokenPrice>) if (found[k] > max[k]) max[k] = found[k]
  }
  const groups = [group, ...group.model.fallbacks.flatMap((f) => router.byName(f) ?? [])]
  for (const g of groups) for (const t of g.targets) consider(t.config.model ?? model)
  return max
}

/**
 * The most a request can cost, in pico-dollars: `promptTokens` at the dearer of the input and
 * cache-write prices, `completionTokens` at the dearer of the output and reasoning prices.
 */
export const maxCostPico = (promptTokens: number, completionTokens: number, price: TokenPrice): bigint => {
  const larger = (a: bigint, b: bigint): bigint => (a >= b ? a : b)
  return (
    BigInt(promptTokens) * larger(price.input, price.cache_write) +
    BigInt(completionTokens) * larger(price.output, price.reasoning)
  )
}

/** A request's maximum cost in whole micro-dollars: `prompt` and `completion` tokens at `price` (0 unpriced). */
export const maxCost = (prompt: number, completion: number, price: TokenPrice | undefined): number =>
  price === undefined ? 0 : ceilMicros(maxCostPico(prompt, completion, price))

/**
 * The tokens a buffered answer settles its reservation to: all its usage reports (read by
 * `readUsage`, OpenAI's chat-shaped usage unless told); an error answer without usage used none;
 * otherwise unknown (the reservation stands).
 */
export const settledTokens = (
  status: number,
  json: Readonly<Record<string, unknown>>,
  readUsage: (usage: unknown) => TokenUsage | undefined = openAIUsage
): number | undefined => {
  const usage = readUsage(json["usage"])
  return usage !== undefined ? totalTokens(usage) : status >= 400 ? 0 : undefined
}

/**
 * An admitted request's claim on its counters: settled and released at most once each. A request
 * released unsettled (interrupted before an answer) gives its budget reservation back and leaves
 * its tokens reserved.
 */
interface Claim {
  readonly settle: (used: Settlement) => Effect.Effect<void>
  readonly release: Effect.Effect<void>
  /** Settles at once, without an effect (a store that answers at once); undefined otherwise. */
  readonly settleNow: ((used: Settlement) => void) | undefined
}

const UNSETTLED: Settlement = { tokens: undefined, costPico: 0n }

/** The claim of `handle` in a store that answers at once (the memory store). */
const immediateClaim = (store: ImmediateLimiter, handle: AdmissionHandle): Claim => {
  let settled = false
  let released = false
  const settleNow = (used: Settlement) => {
    if (settled) return
    settled = true
    store.settle(handle, used)
  }
  return {
    settleNow,
    settle: (used) => Effect.sync(() => settleNow(used)),
    release: Effect.sync(() => {
      if (released) return
      released = true
      if (!settled) settleNow(UNSETTLED)
      store.release(handle)
    })
  }
}

/** The claim of `handle` in a store whose calls are effects (Redis). */
const effectClaim = (store: LimiterStore, handle: AdmissionHandle): Claim => {
  let settled = false
  let released = false
  const settle = (used: Settlement) =>
    Effect.suspend(() => {
      if (settled) return Effect.void
      settled = true
      return store.settle(handle, used)
    })
  return {
    settleNow: undefined,
    settle,
    release: Effect.suspend(() => {
      if (released) return Effect.void
      released = true
      return settled ? store.release(handle) : Effect.andThen(settle(UNSETTLED), store.release(handle))
    })
  }
}

/** The 429 of a refused request, with the headers of the limits that apply. */
const refused = (reason: LimitRefusal, headers: LimitHeaders): OutgoingResponse => {
  const response = errorResponse(reason)
  return { ...response, headers: withRateLimitHeaders(response.headers, headers) }
}

/**
 * Runs `serve` for an admitted request: its answer carries `headers`, and `claim` is settled to
 * what it used and released when the request ends, or a stream's at its end (or cancellation).
 */
const serveAdmitted = (
  claim: Claim,
  headers: LimitHeaders,
  serve: Effect.Effect<Served, GatewayError>
): Effect.Effect<OutgoingResponse, GatewayError> => {
  let streamed = false
  /** The answer with its headers; a stream gives its place back (settled, if it can be) at its end. */
  const answer = ({ response, streamTokens, streamCost }: Served): OutgoingResponse => {
    const withHeaders = withRateLimitHeaders(response.headers, headers)
    if (response.body instanceof Uint8Array) return { ...response, headers: withHeaders }
    streamed = true
    const settleAtEnd =
      streamTokens === undefined && streamCost === undefined
        ? claim.release
        : Effect.suspend(() => {
            const used = { tokens: streamTokens?.(), costPico: streamCost?.() }
            return used.tokens === undefined && used.costPico === undefined
              ? claim.release
              : Effect.andThen(claim.settle(used), claim.release)
          })
    return { ...response, headers: withHeaders, body: response.body.pipe(Stream.ensuring(settleAtEnd)) }
  }
  const unmeasured = (served: Served) => served.totalTokens === undefined && served.costPico === undefined
  const { settleNow } = claim
  const answered: Effect.Effect<OutgoingResponse, GatewayError> =
    settleNow !== undefined
      ? Effect.map(serve, (served) => {
          if (!unmeasured(served)) settleNow({ tokens: served.totalTokens, costPico: served.costPico })
          return answer(served)
        })
      : Effect.flatMap(serve, (served) =>
          unmeasured(served)
            ? Effect.succeed(answer(served))
            : Effect.as(claim.settle({ tokens: served.totalTokens, costPico: served.costPico }), answer(served))
        )
  return Effect.onExit(answered, (exit) => (Exit.isSuccess(exit) && streamed ? Effect.void : claim.release))
}

/**
 * Runs `serve` when `reservation` is admitted by `store`, else answers the 429; `onDecision` hears
 * which (undefined: admitted), for the metrics and the request's span. The request's claim is
 * released exactly once: when `serve` fails or is interrupted, when it answers with bytes, or when
 * its streamed body ends (or is cancelled). A store that answers at once (`immediate`) is called
 * directly, without an effect per call.
 */
export const limited = (
  store: LimiterStore,
  reservation: Reservation,
  serve: Effect.Effect<Served, GatewayError>,
  onDecision: (refusal: LimitRefusal | undefined) => void = () => {}
): Effect.Effect<OutgoingResponse, GatewayError> => {
  const decided = (
    admission: Admission,
    claimOf: (handle: AdmissionHandle) => Claim
  ): Effect.Effect<OutgoingResponse, GatewayError> => {
    if (admission._tag === "Rejected") {
      onDecision(admission.reason)
      return Effect.succeed(refused(admission.reason, admission.headers))
    }
    onDecision(undefined)
    return serveAdmitted(claimOf(admission.handle), admission.headers, serve)
  }
  const immediate = store.immediate
  return immediate !== undefined
    ? Effect.suspend(() => decided(immediate.admit(reservation), (handle) => immediateClaim(immediate, handle)))
    : Effect.flatMap(store.admit(reservation), (admission) =>
        decided(admission, (handle) => effectClaim(store, handle))
      )
}
