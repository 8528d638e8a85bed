/**
 * Per-target concurrency cap (`max_concurrency`) with a bounded FIFO queue
 * (`queue: { size, timeout }`). A released permit passes straight to the longest waiter. A waiter
 * that times out or is interrupted leaves the queue; one interrupted just as it was granted a
 * permit gives it back, so permits never leak.
 */
import * as Effect from "effect/Effect"

export interface ConcurrencyLimiter {
  readonly max: number
  readonly queueSize: number
  readonly active: () => number
  readonly waiting: () => number
  readonly hasCapacity: () => boolean
  readonly canQueue: () => boolean
  /** A permit at once, or after waiting in the queue; false when the queue is full or the wait timed out. */
  readonly acquire: Effect.Effect<boolean>
  readonly release: () => void
}

interface Waiter {
  granted: boolean
  readonly grant: () => void
}

export const makeConcurrencyLimiter = (max: number, queueSize: number, queueTimeoutMs: number): ConcurrencyLimiter => {
  let active = 0
  const queue: Array<Waiter> = []

  const release = () => {
    const next = queue.shift()
    if (next === undefined) active--
    else next.grant() // the permit passes on: `active` is unchanged
  }

  const wait = Effect.callback<boolean>((resume) => {
    const waiter: Waiter = {
      granted: false,
      grant: () => {
        waiter.granted = true
        resume(Effect.succeed(true))
      }
    }
    queue.push(waiter)
    return Effect.sync(() => {
      if (waiter.granted) release()
      else {
        const i = queue.indexOf(waiter)
        if (i !== -1) queue.splice(i, 1)
      }
    })
  }).pipe(Effect.timeoutOrElse({ duration: queueTimeoutMs, orElse: () => Effect.succeed(false) }))

  return {
    max,
    queueSize,
    active: () => active,
    waiting: () => queue.length,
    hasCapacity: () => active < max,
    canQueue: () => active < max || queue.length < queueSize,
    acquire: Effect.suspend(() => {
      if (active < max) {
        active++
        return Effect.succeed(true)
      }
      if (queue.length >= queueSize) return Effect.succeed(false)
      return wait
    }),
    release
  }
}
