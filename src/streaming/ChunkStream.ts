/**
 * An upstream body as a Stream in a single layer: chunks read from the runtime's ChunkReader, its
 * failures and an idle timeout turned into the provider's errors, and the reader cancelled when the
 * stream ends early (interrupted, or its scope closed). Per chunk this costs one read and one
 * callback: no per-chunk timer and no stack of operators (mapError, timeout, ensuring), which the
 * relay pays for on every chunk of every stream.
 *
 * The idle timeout is one timer per stream: each read records when it started; when the timer
 * fires, a read pending for `idleMs` fails the stream, otherwise the timer is set again for the
 * time that remains. Time spent while the consumer is not reading (backpressure) never counts.
 */
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { ChunkReader } from "../domain/ChunkReader.ts"

export interface ChunkStreamOptions<E> {
  readonly idleMs: number
  /** The failure when no chunk arrived for `idleMs` while one was awaited. */
  readonly onIdle: () => E
  /** The failure when the body broke. */
  readonly onError: (cause: unknown) => E
}

export const chunkStream = <E>(open: () => ChunkReader, options: ChunkStreamOptions<E>): Stream.Stream<Uint8Array, E> =>
  Stream.fromChannel(
    Channel.fromTransform((_, scope) =>
      Effect.suspend(() => {
        const reader = open()
        const { idleMs } = options
        let finished = false
        /** The resume of the read in progress, if any, and when it started. */
        let waiting: ((effect: Effect.Effect<readonly [Uint8Array], E | Cause.Done>) => void) | undefined
        let readStartedAt = 0
        let timer: ReturnType<typeof setTimeout> | undefined

        const finish = () => {
          finished = true
          waiting = undefined
          if (timer !== undefined) clearTimeout(timer)
          timer = undefined
        }
        const watch = (ms: number) => {
          timer = setTimeout(() => {
            timer = undefined
            if (finished) return
            if (waiting === undefined) return // not reading: re-armed by the next read
            const waited = Date.now() - readStartedAt
            if (waited < idleMs) return watch(idleMs - waited)
            const resume = waiting
            finish()
            reader.cancel()
            resume(Effect.fail(options.onIdle()))
          }, ms)
        }

        const pull = Effect.callback<readonly [Uint8Array], E | Cause.Done>((resume) => {
          if (finished) return resume(Cause.done())
          waiting = resume
          readStartedAt = Date.now()
          if (timer === undefined) watch(idleMs)
          reader.read().then(
            (chunk) => {
              if (waiting !== resume) return // timed out or interrupted meanwhile
              if (chunk === undefined) {
                finish()
                resume(Cause.done())
              } else {
                waiting = undefined
                resume(Effect.succeed([chunk]))
              }
            },
            (error: unknown) => {
              if (waiting !== resume) return
              finish()
              resume(Effect.fail(options.onError(error)))
            }
          )
        })
        const release = Effect.sync(() => {
          if (finished) return
          finish()
          reader.cancel()
        })
        return Effect.as(Scope.addFinalizer(scope, release), pull)
      })
    )
  )
