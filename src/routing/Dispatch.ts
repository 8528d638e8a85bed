/**
 * The dispatcher: serves one request from a model group, with load balancing, circuit breakers,
 * concurrency caps, retries with failover, and fallbacks to other models.
 *
 * Per attempt: the strategy picks among targets whose breaker admits traffic (preferring ones with
 * free capacity, else ones with queue room), the breaker and the limiter are acquired, and the
 * provider is called. A retryable failure (unreachable, timeout, 429, 500, 502, 503, 504, or a
 * stream that broke before its first content) is recorded against the target and retried: on a
 * different available target at once when there is one, otherwise on the same target after an
 * exponential backoff with jitter (or the upstream's Retry-After when it fits within
 * `max_backoff`). When the group is exhausted the model's fallbacks are tried in order. Streams are
 * held back until their first content (streaming/HoldBack.ts), so a failure before content is just
 * another failed attempt; the client sees one clean stream. The hold-back is bounded by the
 * server's `preamble_limit` and `sse_line_limit`, and by the provider's `timeout.request` counted
 * from the call: the same budget as a non-streamed answer has for arriving whole.
 *
 * A streamed upload (domain/Upload.ts) is sent again only while it can be sent whole (Envoy's
 * rule: nothing the upstream took is gone past `server.upload_replay_limit`); otherwise the last
 * attempt's outcome is final, fallbacks included. An upload that failed on the client's side (too
 * large, malformed, cut off) ends the request with that error, not counted against the target.
 */
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Random from "effect/Random"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { ResolvedBounds } from "../config/Config.ts"
import { gatewayError, type GatewayErrorReason } from "../domain/GatewayError.ts"
import type { Endpoint } from "../domain/Endpoint.ts"
import type { Upload } from "../domain/Upload.ts"
import type { Attempt, AttemptOutcome } from "../domain/Observed.ts"
import { GEN_AI, operationName, type RequestSpan, traceparentOf } from "../domain/GenAi.ts"
import { KINDS } from "../providers/Kinds.ts"
import type { ProviderResponse } from "../providers/Provider.ts"
import type { UpstreamMethod } from "../providers/UpstreamClients.ts"
import { holdUntilContent } from "../streaming/HoldBack.ts"
import type { BreakerTransition } from "./CircuitBreaker.ts"
import type { ModelGroup, Router, TargetEntry } from "./Router.ts"
import type { TargetView } from "./Strategy.ts"
import type { HealthRegistry, TargetHealth } from "./TargetHealth.ts"

export interface DispatchRequest {
  readonly endpoint: Endpoint
  /** The model the client asked for (or the one a route pinned the path to). */
  readonly model: string
  readonly body: Readonly<Record<string, unknown>>
  readonly rawBody: Uint8Array
  /** A multipart upload's content-type (providers/Provider.ts `ProviderRequest.contentType`). */
  readonly contentType?: string | undefined
  /**
   * An upload streamed upstream (domain/Upload.ts): another attempt is made only while it can be
   * sent again whole; a failure that is the client's (the upload too large, malformed, cut off)
   * ends the request with that error, not counted against the target.
   */
  readonly upload?: Upload | undefined
  /** Files and batches (providers/Provider.ts `ProviderRequest`). */
  readonly method?: UpstreamMethod | undefined
  readonly subpath?: string | undefined
  readonly query?: string | undefined
  readonly stream: boolean
  readonly requestId: string
  /** The request's server span (tracing on): each attempt is a client span under it, sent upstream as `traceparent`. */
  readonly span?: RequestSpan | undefined
  /** Without a span: a trace context to pass upstream as it is (a request tracing did not sample). */
  readonly traceparent?: string | undefined
}

/** What every outcome tells: the attempts made, and the time spent waiting on providers in them. */
interface Attempted {
  readonly attempts: number
  readonly tries: ReadonlyArray<Attempt>
  /** The sum of the attempts' `ms`: the request's time waiting on providers. */
  readonly upstreamMs: number
}

export type DispatchOutcome =
  /** A provider answered: success, a non-retryable error, or the last retryable failure relayed as it is. */
  | (Attempted & {
      readonly _tag: "Served"
      readonly provider: string
      /** The model name sent upstream: the target's `model`, or the requested name for a pattern model. */
      readonly upstreamModel: string
      readonly response: ProviderResponse
    })
  /** No provider answer to relay: every target unavailable, queues full, unreachable, timed out. */
  | (Attempted & { readonly _tag: "Failed"; readonly reason: GatewayErrorReason })

/** The outcome label of an answered attempt. */
const answeredOutcome = (status: number): AttemptOutcome =>
  status === 429 ? "rate_limited" : status >= 500 ? "server_error" : status >= 400 ? "client_error" : "ok"

/** The outcome label of an attempt that got no answer to relay. */
const failedOutcome = (reason: GatewayErrorReason): AttemptOutcome =>
  reason._tag === "UpstreamTimeout" ? "timeout" : reason._tag === "UpstreamUnreachable" ? "unreachable" : "error"

/** Statuses that say "this target, now" rather than "this request": worth another attempt. */
export const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504])

/** Retry-After as milliseconds (delta-seconds or an HTTP date); undefined when absent or invalid. */
export const parseRetryAfter = (value: string | undefined, now: number): number | undefined => {
  if (value === undefined || value === "") return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Exponential backoff with equal jitter: half the step fixed, half random. */
export const backoffMs = (retry: number, baseMs: number, maxMs: number, random: number): number => {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1))
  return step / 2 + random * (step / 2)
}

type Failure =
  | {
      readonly _tag: "Response"
      readonly provider: string
      readonly upstreamModel: string
      readonly response: ProviderResponse
      readonly retryAfterMs: number | undefined
    }
  | { readonly _tag: "Error"; readonly reason: GatewayErrorReason }

interface Counter {
  attempts: number
  readonly tries: Array<Attempt>
  upstreamMs: number
  lastResponse: Extract<Failure, { readonly _tag: "Response" }> | undefined
  lastError: GatewayErrorReason | undefined
  /** No further attempt may be made (an upload that cannot be sent again): no fallbacks either. */
  final: boolean
}

type AttemptResult =
  | { readonly _tag: "Done"; readonly response: ProviderResponse }
  | { readonly _tag: "Retry"; readonly failure: Failure }

/** An attempt that failed: retry with its typed error, or an internal one naming `what` for a defect. */
const retryAfter = (
  exit: Exit.Failure<unknown, { readonly reason: GatewayErrorReason }>,
  what: string
): Extract<AttemptResult, { readonly _tag: "Retry" }> => {
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  return {
    _tag: "Retry",
    failure: {
      _tag: "Error",
      reason: error?._tag === "Fail" ? error.error.reason : { _tag: "Internal", message: what }
    }
  }
}

/** What the strategy sees of a target. */
export const view = (entry: TargetEntry, health: TargetHealth): TargetView => ({
  index: entry.index,
  weight: entry.config.weight,
  inFlight: health.inFlight(),
  latencyMs: health.latencyMs(),
  successRate: health.successRate()
})

export interface Dispatcher {
  readonly dispatch: (request: DispatchRequest, group: ModelGroup) => Effect.Effect<DispatchOutcome>
}

const fixedHealth = (entry: TargetEntry): TargetHealth => entry.health!

/** The bounds on a stream's preamble (streaming/HoldBack.ts). */
export type StreamBounds = Pick<ResolvedBounds, "preambleLimit" | "sseLineLimit">

export const makeDispatcher = (
  router: Router,
  registry: HealthRegistry,
  onTransitions: (transitions: ReadonlyArray<BreakerTransition>) => Effect.Effect<void>,
  bounds: StreamBounds
): Dispatcher => {
  const flushTransitions = Effect.suspend(() => {
    const transitions = registry.takeTransitions()
    return transitions.length === 0 ? Effect.void : onTransitions(transitions)
  })
  /** Transitions are rare: only yield to publish them when there are some. */
  const flushIfAny = (): Effect.Effect<void> => (registry.hasTransitions() ? flushTransitions : Effect.void)

  /**
   * The health of each target of `group` for `model`: a fixed upstream model's was looked up with
   * the snapshot; a pattern target's depends on the requested name (its slot is asked for once).
   */
  const healthsOf = (group: ModelGroup, model: string): Effect.Effect<(entry: TargetEntry) => TargetHealth> => {
    if (!group.patternTargets) return Effect.succeed(fixedHealth)
    return Effect.map(
      Effect.forEach(group.targets, (entry) =>
        entry.health === undefined ? registry.ensure(entry.provider.config, model) : Effect.succeed(entry.health)
      ),
      (healths) =>
        (entry: TargetEntry): TargetHealth =>
          healths[group.targets.indexOf(entry)]!
    )
  }

  /** One call to one target; settles breaker, stats, in-flight count and limiter permit. */
  const attempt = Effect.fnUntraced(function* (
    request: DispatchRequest,
    entry: TargetEntry,
    health: TargetHealth,
    wasProbe: boolean,
    clock: Clock.Clock,
    counter: Counter
  ) {
    const provider = entry.provider
    const upstreamModel = entry.config.model ?? request.model
    const start = clock.currentTimeMillisUnsafe()
    // Sub-millisecond, for Server-Timing and the overhead metric (the breaker keeps the clock's ms).
    const started = performance.now()
    // The attempt's client span (tracing on), ended with its outcome.
    const span = request.span?.child(
      `${operationName(request.endpoint)} ${upstreamModel}`,
      "client",
      clock.currentTimeNanosUnsafe(),
      {
        [GEN_AI.operationName]: operationName(request.endpoint),
        [GEN_AI.providerName]: KINDS[provider.config.kind].genAiName,
        [GEN_AI.system]: KINDS[provider.config.kind].genAiName,
        [GEN_AI.requestModel]: upstreamModel,
        "llmgate.provider": provider.config.name,
        "llmgate.attempt": counter.attempts,
        "llmgate.breaker.probe": wasProbe
      }
    )
    let spanOpen = span !== undefined
    const tried = (outcome: AttemptOutcome, status?: number) => {
      const ms = performance.now() - started
      counter.tries.push({ provider: provider.config.name, outcome, ms })
      counter.upstreamMs += ms
      if (span !== undefined && spanOpen) {
        spanOpen = false
        span.attribute("llmgate.outcome", outcome)
        if (status !== undefined) span.attribute("http.response.status_code", status)
        if (outcome !== "ok" && outcome !== "client_error") span.attribute("error.type", outcome)
        span.end(
          clock.currentTimeNanosUnsafe(),
          outcome === "ok" || outcome === "client_error" ? Exit.void : Exit.fail(outcome)
        )
      }
    }
    health.begin()
    let settled = false
    /** Whether the request still counts as in flight on the target (`end` may come with the verdict). */
    let inFlight = true
    const release = () => {
      if (settled) return
      settled = true
      if (inFlight) health.end()
      inFlight = false
      entry.limiter?.release()
    }
    // A breaker verdict counts when this was the probe, or while the breaker is closed: a late
    // answer to a request sent before the breaker opened must not decide a half-open probe.
    // With `end` (nothing more will flow), the in-flight count ends in the same critical section.
    const verdict = (ok: boolean, now: number, end: boolean) => {
      health.settle(ok, now - start, now, wasProbe, end && inFlight)
      if (end) inFlight = false
    }
    const succeed = (now: number, end = false) => verdict(true, now, end)
    const fail = (now: number, end = false) => verdict(false, now, end)
    /** A stream's upstream lives in this scope until the relayed stream ends; made only for streams. */
    let scope: Scope.Closeable | undefined
    const result = yield* Effect.gen(function* (): Effect.fn.Return<AttemptResult> {
      const exit = yield* Effect.exit(
        provider.call({
          endpoint: request.endpoint,
          body: request.body,
          rawBody: request.rawBody,
          contentType: request.contentType,
          upload: request.upload,
          method: request.method,
          subpath: request.subpath,
          query: request.query,
          upstreamModel,
          stream: request.stream,
          requestId: request.requestId,
          traceparent: span === undefined ? request.traceparent : traceparentOf(span)
        })
      )
      const now = clock.currentTimeMillisUnsafe()
      // The upload failed on the client's side (too large, malformed, cut off): the target is not
      // to blame, and the request ends with the client's error (no other attempt: it cannot be sent again).
      const fault = request.upload?.failure()
      if (Exit.isFailure(exit) && fault !== undefined) {
        succeed(now, true)
        tried("client_error")
        counter.lastResponse = undefined
        return { _tag: "Retry", failure: { _tag: "Error", reason: fault.reason } }
      }
      if (Exit.isFailure(exit)) {
        fail(now, true)
        const retry = retryAfter(exit, "The provider call failed.")
        tried(retry.failure._tag === "Error" ? failedOutcome(retry.failure.reason) : "error")
        return retry
      }
      const response = exit.value
      if (response.body._tag !== "Stream" || response.status >= 300 || RETRYABLE_STATUS.has(response.status)) {
        tried(answeredOutcome(response.status), response.status)
      }
      if (RETRYABLE_STATUS.has(response.status)) {
        fail(now, true)
        return {
          _tag: "Retry",
          failure: {
            _tag: "Response",
            provider: provider.config.name,
            upstreamModel,
            response,
            retryAfterMs: parseRetryAfter(response.headers["retry-after"], now)
          }
        }
      }
      if (response.body._tag !== "Stream" || response.status >= 300) {
        // Success, or the request's own fault (400, 401, 404, 422, …): the target is healthy.
        succeed(now, true)
        return { _tag: "Done", response }
      }
      const streamScope = yield* Scope.make()
      scope = streamScope
      // The first content must come within the provider's request timeout, counted from the call.
      const { requestTimeoutMs } = provider.config
      const held = yield* Effect.exit(
        holdUntilContent(
          response.body.stream,
          {
            classify: provider.classifyEvent,
            terminator: provider.streamTerminator,
            provider: provider.config.name,
            preambleLimit: bounds.preambleLimit,
            lineLimit: bounds.sseLineLimit,
            timeoutMs: start + requestTimeoutMs - now,
            onTimeout: () =>
              gatewayError({ _tag: "UpstreamTimeout", provider: provider.config.name, after_ms: requestTimeoutMs })
          },
          streamScope
        )
      )
      const afterHold = clock.currentTimeMillisUnsafe()
      if (Exit.isFailure(held)) {
        fail(afterHold, true)
        const retry = retryAfter(held, "The stream failed.")
        tried(retry.failure._tag === "Error" ? failedOutcome(retry.failure.reason) : "error")
        return retry
      }
      tried("ok", response.status)
      succeed(afterHold)
      const stream = held.value.stream.pipe(
        Stream.tapError(() => Effect.sync(() => fail(clock.currentTimeMillisUnsafe()))),
        Stream.ensuring(Effect.andThen(Effect.sync(release), Scope.close(streamScope, Exit.void)))
      )
      return { _tag: "Done", response: { ...response, body: { _tag: "Stream", stream } } }
    }).pipe(
      Effect.onExit((exit) => {
        // Interrupted before an outcome (the client left): the span ends as interrupted.
        if (spanOpen) {
          spanOpen = false
          span?.end(clock.currentTimeNanosUnsafe(), Exit.interrupt())
        }
        const keepOpen =
          Exit.isSuccess(exit) && exit.value._tag === "Done" && exit.value.response.body._tag === "Stream"
        if (keepOpen) return Effect.void
        if (Exit.isFailure(exit) && wasProbe && !settled) health.breaker.onCancel(clock.currentTimeMillisUnsafe())
        release()
        return scope === undefined ? Effect.void : Scope.close(scope, Exit.void)
      })
    )
    yield* flushIfAny()
    return result
  })

  /** Attempts within one model group until success, a final answer, or the group is exhausted. */
  const runGroup = Effect.fnUntraced(function* (
    request: DispatchRequest,
    group: ModelGroup,
    counter: Counter,
    clock: Clock.Clock
  ) {
    const { retry } = group.model
    const healthOf = yield* healthsOf(group, request.model)
    /** Targets that failed in this request → the Retry-After of their last failure, if any. */
    const failedAt = new Map<number, number | undefined>()
    let retries = 0
    /** Targets found available but taken by another request's probe before this one could take them. */
    let raced = 0
    for (let n = 0; n <= retry.attempts; n++) {
      // An upload that can no longer be sent whole: the last attempt's outcome is final.
      if (counter.attempts > 0 && request.upload?.replayable() === false) {
        counter.final = true
        return undefined
      }
      const now = clock.currentTimeMillisUnsafe()
      const open = group.targets.filter((e) => healthOf(e).breaker.isAvailable(now))
      yield* flushIfAny()
      if (open.length === 0) {
        request.span?.event("llmgate.breaker.open", clock.currentTimeNanosUnsafe(), {
          "llmgate.model": group.model.name
        })
        counter.lastError ??= {
          _tag: "Unavailable",
          message: `Every target of model \`${group.model.name}\` is unavailable (circuit open); try again later.`
        }
        return undefined
      }
      // A target that asked to be left alone for longer than the backoff budget is not retried.
      const available =
        failedAt.size === 0 ? open : open.filter((e) => (failedAt.get(e.index) ?? 0) <= retry.maxBackoffMs)
      if (available.length === 0) return undefined
      const fresh = failedAt.size === 0 ? available : available.filter((e) => !failedAt.has(e.index))
      const pool = fresh.length > 0 ? fresh : available
      const withRoom = pool.filter((e) => e.limiter === undefined || e.limiter.hasCapacity())
      const candidates = withRoom.length > 0 ? withRoom : pool.filter((e) => e.limiter?.canQueue() ?? true)
      if (candidates.length === 0) {
        counter.lastError = {
          _tag: "Overloaded",
          message: `Every target of model \`${group.model.name}\` is at its concurrency limit and its queue is full.`
        }
        return undefined
      }
      const views = candidates.map((e) => view(e, healthOf(e)))
      const chosen = group.strategy.pick(views)
      const entry = candidates[views.indexOf(chosen)] ?? candidates[0]!
      const health = healthOf(entry)

      if (failedAt.has(entry.index)) {
        // The same target again: wait its Retry-After (known to fit the budget) or the backoff.
        retries++
        const wait =
          failedAt.get(entry.index) ?? backoffMs(retries, retry.backoffMs, retry.maxBackoffMs, yield* Random.next)
        if (wait > 0) {
          request.span?.event("llmgate.retry.backoff", clock.currentTimeNanosUnsafe(), {
            "llmgate.provider": entry.provider.config.name,
            "llmgate.wait_ms": wait
          })
          yield* Effect.sleep(wait)
        }
      }
      const admission = health.breaker.admit(clock.currentTimeMillisUnsafe())
      if (admission === "refuse") {
        // Another request (on this worker or another) took the half-open probe since the target was
        // found available: look at the targets again, without spending an attempt on it.
        counter.lastError ??= {
          _tag: "Unavailable",
          message: `Every target of model \`${group.model.name}\` is unavailable (circuit open); try again later.`
        }
        if (raced++ < group.targets.length) n--
        continue
      }
      const wasProbe = admission === "probe"
      if (entry.limiter !== undefined) {
        const cancelProbe = Effect.sync(() => {
          if (wasProbe) health.breaker.onCancel(clock.currentTimeMillisUnsafe())
        })
        const queued = request.span !== undefined && !entry.limiter.hasCapacity()
        const queuedAt = queued ? clock.currentTimeNanosUnsafe() : 0n
        const permit = yield* entry.limiter.acquire.pipe(Effect.onInterrupt(() => cancelProbe))
        if (queued)
          request.span?.event("llmgate.queue", queuedAt, {
            "llmgate.provider": entry.provider.config.name,
            "llmgate.wait_ms": Number(clock.currentTimeNanosUnsafe() - queuedAt) / 1e6,
            "llmgate.permit": permit
          })
        if (!permit) {
          yield* cancelProbe
          failedAt.set(entry.index, failedAt.get(entry.index))
          counter.lastError = {
            _tag: "Overloaded",
            message: `Target \`${entry.provider.config.name}\` of model \`${group.model.name}\` stayed at its concurrency limit for the whole queue timeout.`
          }
          continue
        }
      }
      counter.attempts++
      const result = yield* attempt(request, entry, health, wasProbe, clock, counter)
      if (result._tag === "Done") {
        return {
          provider: entry.provider.config.name,
          upstreamModel: entry.config.model ?? request.model,
          response: result.response
        }
      }
      const failure = result.failure
      if (failure._tag === "Response") {
        counter.lastResponse = failure
        failedAt.set(entry.index, failure.retryAfterMs)
      } else {
        counter.lastError = failure.reason
        failedAt.set(entry.index, undefined)
      }
    }
    return undefined
  })

  const dispatchWith = Effect.fnUntraced(function* (request: DispatchRequest, group: ModelGroup, clock: Clock.Clock) {
    const counter: Counter = {
      attempts: 0,
      tries: [],
      upstreamMs: 0,
      lastResponse: undefined,
      lastError: undefined,
      final: false
    }
    const served = yield* runGroup(request, group, counter, clock)
    const attempted = () => ({ attempts: counter.attempts, tries: counter.tries, upstreamMs: counter.upstreamMs })
    if (served !== undefined) return { _tag: "Served", ...served, ...attempted() } satisfies DispatchOutcome
    for (const name of group.model.fallbacks) {
      if (counter.final) break
      const fallback = router.byName(name)
      if (fallback === undefined) continue
      const served = yield* runGroup(request, fallback, counter, clock)
      if (served !== undefined) return { _tag: "Served", ...served, ...attempted() } satisfies DispatchOutcome
    }
    // A provider's own error answer says more than the gateway's: relay the last one there was.
    if (counter.lastResponse !== undefined) {
      const { provider, upstreamModel, response } = counter.lastResponse
      return { _tag: "Served", provider, upstreamModel, response, ...attempted() } satisfies DispatchOutcome
    }
    return {
      _tag: "Failed",
      ...attempted(),
      reason: counter.lastError ?? { _tag: "Internal", message: "No target could be tried." }
    } satisfies DispatchOutcome
  })

  /** The clock is read once per request and then used synchronously (TestClock included). */
  const dispatch = (request: DispatchRequest, group: ModelGroup): Effect.Effect<DispatchOutcome> =>
    Effect.clockWith((clock) => dispatchWith(request, group, clock))

  return { dispatch }
}
