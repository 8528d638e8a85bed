/**
 * Where the request path hands a usage record: `UsageSink.record(r)`, synchronous, cheap, never
 * failing and never waiting for anyone. A worker's sink (`makeUsageSender`) collects records and
 * posts them to the owner in batches (the `UsageRecords` message): as soon as `batchSize` wait
 * (or estimated records carrying `SENDER_TEXT_LIMIT` characters of text for their recount, so no
 * message grows large), or every `flushIntervalMs`. Closing its scope (a worker's drain, after its requests finished)
 * posts what is left, so a graceful shutdown loses nothing; a worker that crashes loses at most
 * the records of its last interval. The owner's UsageWriter stores them. With one worker, the
 * worker runs in the owner's thread and posts through the same in-process channel: one path.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type RecountableRecord, recountSize } from "./Recount.ts"

export interface UsageSinkShape {
  /** Whether records are kept: when not, the request path builds none (it costs nothing). */
  readonly enabled: boolean
  /** A request that will leave a record started (it counts as in flight until its record comes). */
  readonly begin: () => void
  /** Takes a record (an estimated one with its recount) for storage; returns at once and never fails. */
  readonly record: (record: RecountableRecord) => void
}

export class UsageSink extends Context.Service<UsageSink, UsageSinkShape>()("llmgate/UsageSink") {
  /** A sink that keeps nothing (tests, tools). */
  static readonly discard: UsageSinkShape = { enabled: false, begin: () => {}, record: () => {} }
}

/** A worker's posts to the owner: most records per message, and how long one may wait. */
export const SENDER_BATCH_SIZE = 256
export const SENDER_FLUSH_INTERVAL_MS = 200
/** Characters of recount text (usage/Recount.ts) past which the waiting records are posted at once. */
export const SENDER_TEXT_LIMIT = 1024 * 1024

export interface UsageSenderOptions {
  readonly batchSize?: number
  readonly flushIntervalMs?: number
}

export interface UsageSender extends UsageSinkShape {
  /** Posts what is waiting now (nothing when nothing waits). */
  readonly flush: () => void
  /** Requests begun whose record has not come yet (the metrics' requests in flight). */
  readonly pending: () => number
}

/**
 * A worker's sink: batches records and hands each batch to `post` (which sends it to the owner).
 * A timer in the scope posts partial batches; closing the scope posts the rest.
 */
export const makeUsageSender = (
  post: (records: ReadonlyArray<RecountableRecord>) => void,
  options: UsageSenderOptions = {}
): Effect.Effect<UsageSender, never, Scope.Scope> =>
  Effect.gen(function* () {
    const batchSize = Math.max(1, options.batchSize ?? SENDER_BATCH_SIZE)
    const interval = options.flushIntervalMs ?? SENDER_FLUSH_INTERVAL_MS
    let waiting: Array<RecountableRecord> = []
    let text = 0
    let open = 0
    const flush = () => {
      if (waiting.length === 0) return
      const batch = waiting
      waiting = []
      text = 0
      post(batch)
    }
    const record = (r: RecountableRecord) => {
      if (open > 0) open--
      waiting.push(r)
      if (r.recount !== undefined) text += recountSize(r.recount)
      if (waiting.length >= batchSize || text >= SENDER_TEXT_LIMIT) flush()
    }
    // Added before the timer is forked, so the last flush runs after the timer has stopped.
    yield* Effect.addFinalizer(() => Effect.sync(flush))
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(interval), Effect.sync(flush))))
    return {
      enabled: true,
      begin: () => {
        open++
      },
      record,
      flush,
      pending: () => open
    }
  })
