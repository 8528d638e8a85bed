/**
 * The owner's usage writer: the gateway's one writer of usage records. Workers hand their records
 * to the owner (UsageSink.ts, the `UsageRecords` message); `offer` gives each its id (a UUIDv7:
 * `StoredUsageRecord`), puts them in a bounded buffer and returns at once, and a fiber writes the buffer to the UsageStore in batches of `batchSize`,
 * every `flushIntervalMs` or as soon as a full batch waits.
 *
 * - **Outages.** A batch that fails stays at the head of the buffer and is retried with backoff
 *   (from the flush interval, doubling, at most 30 s); records keep arriving behind it. The store
 *   is idempotent by record id, so a batch whose first try did commit (a timeout after the commit)
 *   is not counted twice.
 * - **Bounds.** At most `bufferLimit` records are held; records offered beyond it are dropped and
 *   counted (`stats().dropped`), never blocking a worker.
 * - **Recounts.** An estimated record may carry its recount (usage/Recount.ts): the texts its
 *   estimate counted by characters. Given a token counter (the tokenizer thread,
 *   usage/TokenizerThread.ts), such records wait in a queue of their own until a second fiber has
 *   them counted with the BPE encoding, a batch at a time (at most `RECOUNT_BATCH` records and
 *   `RECOUNT_BATCH_CHARS` characters), and repriced, and then join the buffer. The texts waiting are
 *   bounded too (`recountLimitChars`): a record that would exceed it keeps its character estimate
 *   at once. A batch the counter fails (the thread cannot start, fails or times out) keeps its
 *   character estimates: still `estimated`, never lost. Recounted records count in `bufferLimit`.
 * - **Shutdown.** Closing the scope stops the fibers, recounts what waits for at most
 *   `RECOUNT_SHUTDOWN_MS` (the rest keeps its character estimates), and writes what is buffered,
 *   retrying for at most `shutdownTimeoutMs`; whatever still cannot be written is logged as lost.
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import { v7 as uuidv7 } from "uuid"
import type { StoredUsageRecord } from "../domain/Usage.ts"
import { storable, type UsageStoreShape } from "../domain/UsageSeries.ts"
import { type Recount, type RecountableRecord, recounted, recountSize } from "./Recount.ts"
import type { TokenCounterShape } from "./TokenizerThread.ts"
import { UsageStore } from "./UsageStore.ts"

/** The longest wait between two tries while the store is failing. */
export const MAX_RETRY_BACKOFF_MS = 30_000
/** Most records, and characters of text, recounted in one batch. */
export const RECOUNT_BATCH = 256
export const RECOUNT_BATCH_CHARS = 1024 * 1024
/** Most characters of text waiting for a recount, by default (about 32 MB of UTF-16 at most). */
export const RECOUNT_LIMIT_CHARS = 16 * 1024 * 1024
/** How long closing still recounts what waits (at most half the shutdown timeout). */
export const RECOUNT_SHUTDOWN_MS = 5_000

export interface UsageWriterSettings {
  /** Most records held; more are dropped and counted. */
  readonly bufferLimit: number
  /** How often buffered records are written (a full batch is written at once). */
  readonly flushIntervalMs: number
  /** Most records per write. */
  readonly batchSize: number
  /** How long closing keeps trying to write what is buffered. */
  readonly shutdownTimeoutMs: number
  /** Most characters of text waiting for a recount (default `RECOUNT_LIMIT_CHARS`). */
  readonly recountLimitChars?: number
}

/** The writer's counters (for metrics). */
export interface UsageWriterStats {
  /** Records waiting to be written. */
  readonly buffered: number
  /** Records the store took (new ones). */
  readonly written: number
  /** Records the store already had (a retried batch, a request id sent twice): skipped, not counted again. */
  readonly duplicates: number
  /** Records refused because the buffer was full. */
  readonly dropped: number
  /** Failed writes (each retried). */
  readonly failures: number
  /** Estimated records waiting for their recount (also in `buffered`). */
  readonly recounting: number
  /** Estimated records counted again with the BPE tokenizer. */
  readonly recounted: number
  /** Estimated records that kept their character estimate (the tokenizer failed, or too much text waited). */
  readonly uncounted: number
}

export interface UsageWriterShape {
  /** Buffers the records (those beyond the buffer's limit are dropped and counted); never blocks, never fails. */
  readonly offer: (records: ReadonlyArray<RecountableRecord>) => void
  readonly stats: () => UsageWriterStats
  /** Recounts what waits, then writes everything buffered now, once (a failed batch stays buffered). */
  readonly flush: Effect.Effect<void>
}

/** The retry wait after `failures` failures in a row. */
export const retryBackoffMs = (flushIntervalMs: number, failures: number): number =>
  Math.min(MAX_RETRY_BACKOFF_MS, Math.max(100, flushIntervalMs) * 2 ** Math.max(0, failures - 1))

interface Waiting {
  readonly record: StoredUsageRecord
  readonly recount: Recount
  readonly size: number
}

/**
 * A source of record ids: UUIDv7s (time first, so a store's index on them grows at one end) whose
 * random bits come from a pool refilled 256 ids at a time, not from one `getRandomValues` call per id.
 */
export const recordIds = (): (() => string) => {
  const pool = new Uint8Array(16 * 256)
  let at = pool.length
  const rng = (): Uint8Array => {
    if (at === pool.length) {
      crypto.getRandomValues(pool)
      at = 0
    }
    const bytes = pool.subarray(at, at + 16)
    at += 16
    return bytes
  }
  return () => uuidv7({ rng })
}

/**
 * The writer over `store`. With `counter`, estimated records are counted again before they are
 * written; without, they are written with their character estimates.
 */
export const make = (
  store: UsageStoreShape,
  settings: UsageWriterSettings,
  counter?: TokenCounterShape
): Effect.Effect<UsageWriterShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    const batchSize = Math.max(1, settings.batchSize)
    // The buffer: records from `head` on wait; the written prefix is cut off now and then.
    let buffer: Array<StoredUsageRecord> = []
    let head = 0
    let written = 0
    let duplicates = 0
    let dropped = 0
    /** Dropped since the last warning about it. */
    let droppedUnlogged = 0
    let failures = 0
    /** Failures since the last successful write. */
    let failing = 0
    /** Completed once a full batch waits (the fiber then writes before its interval ends). */
    let full = Deferred.makeUnsafe<void>()
    // Records waiting for their recount, and the characters of text they hold.
    let waiting: Array<Waiting> = []
    let waitingChars = 0
    const recountLimit = settings.recountLimitChars ?? RECOUNT_LIMIT_CHARS
    let recountedCount = 0
    let uncounted = 0
    /** Kept their estimate because too much text waited, since the last warning about it. */
    let overLimitUnlogged = 0
    /** Completed once a record waits for its recount. */
    let toRecount = Deferred.makeUnsafe<void>()

    const size = () => buffer.length - head
    const newId = recordIds()

    const offer = (records: ReadonlyArray<RecountableRecord>): void => {
      const room = Math.max(0, settings.bufferLimit - size() - waiting.length)
      const taken = records.length <= room ? records : records.slice(0, room)
      dropped += records.length - taken.length
      droppedUnlogged += records.length - taken.length
      for (const r of taken) {
        // The id is given once, here: a batch retried after a timeout carries the same ids. What
        // travels only for the metrics (`observed`) is not kept.
        const { recount } = r
        const record = storable(r, newId())
        if (recount === undefined) {
          buffer.push(record)
          continue
        }
        if (counter === undefined) {
          buffer.push(record)
          continue
        }
        const chars = recountSize(recount)
        if (waitingChars + chars > recountLimit) {
          buffer.push(record)
          uncounted++
          overLimitUnlogged++
          continue
        }
        waiting.push({ record, recount, size: chars })
        waitingChars += chars
        Deferred.doneUnsafe(toRecount, Effect.void)
      }
      if (size() >= batchSize) Deferred.doneUnsafe(full, Effect.void)
    }

    /** Moves the first `n` waiting records to the buffer: recounted with `counts`, else as estimated. */
    const settle = (n: number, counts: ReadonlyArray<readonly [number, number]> | undefined) => {
      const done = waiting.slice(0, n)
      waiting = waiting.slice(n)
      for (const [i, w] of done.entries()) {
        waitingChars -= w.size
        const c = counts?.[i]
        if (c === undefined) {
          buffer.push(w.record)
          uncounted++
        } else {
          buffer.push({ ...recounted(w.record, w.recount, c[0], c[1]), id: w.record.id })
          recountedCount++
        }
      }
      if (size() >= batchSize) Deferred.doneUnsafe(full, Effect.void)
    }

    /** Recounts the head batch of the waiting records (a failure: they keep their estimates). */
    const recountOne = (tokens: TokenCounterShape): Effect.Effect<void> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.suspend(() => {
          let n = 0
          let chars = 0
          while (
            n < waiting.length &&
            n < RECOUNT_BATCH &&
            (n === 0 || chars + waiting[n]!.size <= RECOUNT_BATCH_CHARS)
          )
            chars += waiting[n++]!.size
          const batch = waiting.slice(0, n).map((w) => w.recount)
          return restore(tokens.count(batch)).pipe(
            Effect.exit,
            Effect.flatMap((exit) =>
              // Interrupted while counting (the scope closes): the batch stays waiting, untouched.
              Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
                ? Effect.interrupt
                : Effect.sync(() => settle(n, Exit.isSuccess(exit) && exit.value.length === n ? exit.value : undefined))
            )
          )
        })
      )

    /** Recounts while records wait. */
    const recountAll = (tokens: TokenCounterShape): Effect.Effect<void> =>
      Effect.whileLoop({ while: () => waiting.length > 0, body: () => recountOne(tokens), step: () => {} })

    /** Says how many records kept their estimate because too much text waited (offer cannot log). */
    const reportOverLimit = Effect.suspend(() => {
      if (overLimitUnlogged === 0) return Effect.void
      const n = overLimitUnlogged
      overLimitUnlogged = 0
      return Effect.logWarning(
        `usage: ${n} estimated records kept their character counts: ${recountLimit} characters of text were already waiting for the tokenizer`
      )
    })

    const remove = (n: number) => {
      head += n
      if (head === buffer.length) {
        buffer = []
        head = 0
      } else if (head > 4096 && head * 2 > buffer.length) {
        buffer = buffer.slice(head)
        head = 0
      }
    }

    // One write at a time (the fiber's and `flush`'s): a batch is removed only by the write that took it.
    const writing = yield* Semaphore.make(1)
    /** Writes the head batch; answers whether it was written (a failure leaves it buffered). */
    const writeOne: Effect.Effect<boolean> = Semaphore.withPermit(
      writing,
      Effect.suspend(() => {
        const batch = buffer.slice(head, head + batchSize)
        return Effect.exit(store.writeBatch(batch)).pipe(
          Effect.flatMap((exit) => {
            if (Exit.isSuccess(exit)) {
              remove(batch.length)
              written += exit.value
              duplicates += batch.length - exit.value
              if (failing > 0) {
                failing = 0
                return Effect.as(
                  Effect.logInfo(`usage: writing to ${store.description} again; ${size()} records buffered`),
                  true
                )
              }
              return Effect.succeed(true)
            }
            failures++
            failing++
            const reason = exit.cause.reasons.find(Cause.isFailReason)
            const message = reason !== undefined ? reason.error.message : Cause.pretty(exit.cause)
            // Logged at the first failure of an outage, then every 10th, not on every retry.
            const log =
              failing === 1 || failing % 10 === 0
                ? Effect.logWarning(
                    `usage: cannot write to ${store.description} (${message}); ${size()} records buffered, retrying in ${retryBackoffMs(
                      settings.flushIntervalMs,
                      failing
                    )} ms`
                  )
                : Effect.void
            return Effect.as(log, false)
          })
        )
      })
    )

    /** Says how many records overflowed the buffer since it last said so (offer cannot log). */
    const reportDropped = Effect.suspend(() => {
      if (droppedUnlogged === 0) return Effect.void
      const n = droppedUnlogged
      droppedUnlogged = 0
      return Effect.logWarning(
        `usage: the buffer is full (${settings.bufferLimit} records waiting for ${store.description}): ${n} records dropped (${dropped} since start)`
      )
    })

    /** Writes batches while any are buffered; on a failure waits the backoff and tries again. */
    const drain: Effect.Effect<void> = Effect.gen(function* () {
      while (size() > 0) {
        const ok = yield* writeOne
        if (!ok) {
          yield* reportDropped
          yield* Effect.sleep(retryBackoffMs(settings.flushIntervalMs, failing))
        }
      }
    })

    const waitForWork = Effect.suspend(() => {
      full = Deferred.makeUnsafe<void>()
      if (size() >= batchSize) return Effect.void
      return Effect.raceFirst(Effect.sleep(settings.flushIntervalMs), Deferred.await(full))
    })

    /** At shutdown: what waits recounted for a little while, what is buffered retried for at most the shutdown timeout; the rest is reported lost. */
    const finalFlush = Effect.gen(function* () {
      yield* reportDropped
      yield* reportOverLimit
      if (counter !== undefined && waiting.length > 0) {
        yield* recountAll(counter).pipe(
          Effect.timeoutOption(Math.min(RECOUNT_SHUTDOWN_MS, settings.shutdownTimeoutMs / 2))
        )
      }
      settle(waiting.length, undefined)
      if (size() === 0) return
      const done = yield* drain.pipe(Effect.timeoutOption(settings.shutdownTimeoutMs))
      if (done._tag === "None" || size() > 0) {
        yield* Effect.logError(
          `usage: ${size()} usage records could not be written to ${store.description} within the shutdown timeout; they are lost`
        )
      }
    })

    // Added before the fiber is forked, so it runs after the fiber is interrupted.
    yield* Effect.addFinalizer(() => finalFlush)
    yield* Effect.forkScoped(
      Effect.forever(
        waitForWork.pipe(Effect.andThen(reportDropped), Effect.andThen(reportOverLimit), Effect.andThen(drain))
      )
    )
    if (counter !== undefined) {
      const waitForRecount = Effect.suspend(() => {
        toRecount = Deferred.makeUnsafe<void>()
        return waiting.length > 0 ? Effect.void : Deferred.await(toRecount)
      })
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(waitForRecount, recountAll(counter))))
    }

    return {
      offer,
      stats: () => ({
        buffered: size() + waiting.length,
        written,
        duplicates,
        dropped,
        failures,
        recounting: waiting.length,
        recounted: recountedCount,
        uncounted
      }),
      flush: Effect.gen(function* () {
        if (counter !== undefined) yield* recountAll(counter)
        while (size() > 0) {
          if (!(yield* writeOne)) return
        }
      })
    }
  })

export class UsageWriter extends Context.Service<UsageWriter, UsageWriterShape>()("llmgate/UsageWriter") {
  /** The writer over the UsageStore in context; its scope's end flushes it. */
  static readonly layer = (settings: UsageWriterSettings): Layer.Layer<UsageWriter, never, UsageStore> =>
    Layer.effect(
      UsageWriter,
      Effect.flatMap(Effect.service(UsageStore), (store) => make(store, settings))
    )
}
