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
 * - **Shutdown.** Closing the scope stops the fiber and writes what is buffered, retrying for at
 *   most `shutdownTimeoutMs`; whatever still cannot be written is logged as lost.
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
import type { StoredUsageRecord, UsageRecord } from "../domain/Usage.ts"
import type { UsageStoreShape } from "../domain/UsageSeries.ts"
import { UsageStore } from "./UsageStore.ts"

/** The longest wait between two tries while the store is failing. */
export const MAX_RETRY_BACKOFF_MS = 30_000

export interface UsageWriterSettings {
  /** Most records held; more are dropped and counted. */
  readonly bufferLimit: number
  /** How often buffered records are written (a full batch is written at once). */
  readonly flushIntervalMs: number
  /** Most records per write. */
  readonly batchSize: number
  /** How long closing keeps trying to write what is buffered. */
  readonly shutdownTimeoutMs: number
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
}

export interface UsageWriterShape {
  /** Buffers the records (those beyond the buffer's limit are dropped and counted); never blocks, never fails. */
  readonly offer: (records: ReadonlyArray<UsageRecord>) => void
  readonly stats: () => UsageWriterStats
  /** Writes everything buffered now, once (a failed batch stays buffered). */
  readonly flush: Effect.Effect<void>
}

/** The retry wait after `failures` failures in a row. */
export const retryBackoffMs = (flushIntervalMs: number, failures: number): number =>
  Math.min(MAX_RETRY_BACKOFF_MS, Math.max(100, flushIntervalMs) * 2 ** Math.max(0, failures - 1))

export const make = (
  store: UsageStoreShape,
  settings: UsageWriterSettings
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

    const size = () => buffer.length - head

    const offer = (records: ReadonlyArray<UsageRecord>): void => {
      const room = Math.max(0, settings.bufferLimit - size())
      const taken = records.length <= room ? records : records.slice(0, room)
      dropped += records.length - taken.length
      droppedUnlogged += records.length - taken.length
      // The id is given once, here: a batch retried after a timeout carries the same ids.
      for (const r of taken) buffer.push({ ...r, id: uuidv7() })
      if (size() >= batchSize) Deferred.doneUnsafe(full, Effect.void)
    }

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

    /** At shutdown: what is buffered, retried for at most the shutdown timeout; the rest is reported lost. */
    const finalFlush = Effect.gen(function* () {
      yield* reportDropped
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
    yield* Effect.forkScoped(Effect.forever(waitForWork.pipe(Effect.andThen(reportDropped), Effect.andThen(drain))))

    return {
      offer,
      stats: () => ({ buffered: size(), written, duplicates, dropped, failures }),
      flush: Effect.gen(function* () {
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
