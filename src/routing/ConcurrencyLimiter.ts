/**
 * Per-target concurrency cap (`max_concurrency`) with a bounded queue (`queue: { size, timeout }`),
 * one per gateway: the counters live in a shared slot (state/Slots.ts), so the cap holds across
 * every worker thread. A permit is taken under the slot's lock (active < max); a request that finds
 * none takes a queue place (waiting + granted < size) and waits. A released permit passes to a
 * waiter (active unchanged, `granted` + 1): first to this worker's own longest waiter, otherwise the
 * other workers are woken through the slot's wake word (`Atomics.waitAsync`, one pending wait per
 * worker and limiter) and the first to look claims it for its longest waiter. A waiter that times
 * out or is interrupted leaves the queue; one that was granted a permit meanwhile gives it back, so
 * permits never leak. Every worker's share (permits held, places queued) is in its holdings, from
 * which the owner recomputes the counters when a worker dies.
 *
 * Invariants outside the lock: waiting + granted = Σ workers' queued places, and
 * active = Σ workers' permits + granted ≤ max (unless max was lowered by a reload).
 */
import * as Effect from "effect/Effect"
import type { Holdings } from "../state/SlotAllocator.ts"
import { HOLD_PERMITS, HOLD_WAITING, isCurrent, localSlot, type Slot, withSlot } from "../state/Slots.ts"

export interface ConcurrencyLimiter {
  readonly max: number
  readonly queueSize: number
  /** Permits held or granted, across every worker. */
  readonly active: () => number
  /** Requests queued for a permit, across every worker. */
  readonly waiting: () => number
  readonly hasCapacity: () => boolean
  readonly canQueue: () => boolean
  /** A permit at once, or after waiting in the queue; false when the queue is full or the wait timed out. */
  readonly acquire: Effect.Effect<boolean>
  readonly release: () => void
}

// Int32 words of a limiter slot.
const MAX = 2
const QUEUE_SIZE = 3
const QUEUE_TIMEOUT_MS = 4
const ACTIVE = 5
const WAITING = 6
const GRANTED = 7
/** Bumped whenever permits are granted to waiters, which sleep on it. */
const WAKE = 8

/** Longest sleep on the wake word before looking again (a safety net; grants normally wake at once). */
const RECHECK_MS = 1_000

/** Grants free permits to queued waiters; true when it granted some (the wake word was bumped). Locked. */
const pump = (s: Slot): boolean => {
  const { i32, at } = s
  let granted = 0
  while (i32[at + ACTIVE]! < i32[at + MAX]! && i32[at + WAITING]! > 0) {
    i32[at + WAITING] = i32[at + WAITING]! - 1
    i32[at + GRANTED] = i32[at + GRANTED]! + 1
    i32[at + ACTIVE] = i32[at + ACTIVE]! + 1
    granted++
  }
  if (granted > 0) Atomics.add(i32, at + WAKE, 1)
  return granted > 0
}

/** Wakes every worker sleeping on the slot's wake word (after the lock is released). */
const wakeAll = (s: Slot): void => {
  Atomics.notify(s.i32, s.at + WAKE)
}

/** Sets a limiter slot's settings (a fresh one, or a kept one whose cap or queue changed); locked. */
export const configureLimiter = (s: Slot, max: number, queueSize: number, queueTimeoutMs: number): void => {
  s.i32[s.at + MAX] = max
  s.i32[s.at + QUEUE_SIZE] = queueSize
  s.i32[s.at + QUEUE_TIMEOUT_MS] = Math.min(2 ** 31 - 1, queueTimeoutMs)
  if (pump(s)) wakeAll(s)
}

/**
 * After a worker died: permits and queue places are what the live workers hold (grants made for
 * the dead worker's waiters go back), then free permits go to the live waiters. Locked.
 */
export const repairLimiter = (s: Slot, held: Holdings): void => {
  const { i32, at } = s
  const granted = Math.min(i32[at + GRANTED]!, held.waiting)
  i32[at + GRANTED] = granted
  i32[at + WAITING] = held.waiting - granted
  i32[at + ACTIVE] = held.permits + granted
  pump(s)
  Atomics.add(i32, at + WAKE, 1)
  wakeAll(s)
}

interface Waiter {
  granted: boolean
  resume: ((granted: boolean) => void) | undefined
}

/**
 * A limiter over `slot`, configured by the owner (`configureLimiter`); with no slot, a fresh local
 * one configured with `max`, `queueSize` and `queueTimeoutMs`.
 */
export const makeConcurrencyLimiter = (
  max: number,
  queueSize: number,
  queueTimeoutMs: number,
  shared?: Slot
): ConcurrencyLimiter => {
  const slot = shared ?? localSlot()
  if (shared === undefined)
    withSlot(
      slot,
      (s) => configureLimiter(s, max, queueSize, queueTimeoutMs),
      () => undefined
    )
  const { i32, at } = slot

  /** This worker's waiters, longest first. */
  const queue: Array<Waiter> = []
  let sleeping = false

  /** Gives granted permits to this worker's longest waiters; answers who to resume (after unlocking). Locked. */
  const claim = (s: Slot): Array<Waiter> | undefined => {
    let resumed: Array<Waiter> | undefined
    while (queue.length > 0 && s.i32[s.at + GRANTED]! > 0) {
      s.i32[s.at + GRANTED] = s.i32[s.at + GRANTED]! - 1
      s.hold[s.hat + HOLD_WAITING] = s.hold[s.hat + HOLD_WAITING]! - 1
      s.hold[s.hat + HOLD_PERMITS] = s.hold[s.hat + HOLD_PERMITS]! + 1
      const waiter = queue.shift()!
      waiter.granted = true
      resumed ??= []
      resumed.push(waiter)
    }
    return resumed
  }

  /** The slot went to something else (this limiter's target left the config): let the waiters through. */
  const releaseAllStale = (): Array<Waiter> => {
    const out = queue.splice(0)
    for (const w of out) w.granted = true
    return out
  }

  const resumeAll = (waiters: ReadonlyArray<Waiter> | undefined): void => {
    if (waiters !== undefined) for (const w of waiters) w.resume?.(true)
  }

  /** Sleeps on the wake word while this worker has waiters; `seen` was read under the lock. */
  const sleep = (seen: number): void => {
    if (sleeping || queue.length === 0) return
    sleeping = true
    const result = Atomics.waitAsync(i32, at + WAKE, seen, RECHECK_MS)
    if (result.async) void result.value.then(onWake)
    else queueMicrotask(onWake)
  }

  const onWake = (): void => {
    sleeping = false
    let seen = 0
    const resumed = withSlot(
      slot,
      (s) => {
        seen = s.i32[s.at + WAKE]!
        return claim(s)
      },
      releaseAllStale
    )
    resumeAll(resumed)
    sleep(seen)
  }

  /** Gives a permit back: to this worker's longest waiter, or to the other workers' waiters, or free. Locked. */
  const giveBack = (s: Slot): { readonly resumed: Array<Waiter> | undefined; readonly wake: boolean } => {
    s.hold[s.hat + HOLD_PERMITS] = s.hold[s.hat + HOLD_PERMITS]! - 1
    s.i32[s.at + ACTIVE] = s.i32[s.at + ACTIVE]! - 1
    pump(s)
    const resumed = claim(s)
    return { resumed, wake: s.i32[s.at + GRANTED]! > 0 }
  }

  const afterGiveBack = (r: { readonly resumed: Array<Waiter> | undefined; readonly wake: boolean }): void => {
    if (r.wake) wakeAll(slot)
    resumeAll(r.resumed)
  }

  const release = (): void => {
    const r = withSlot(slot, giveBack, () => undefined)
    if (r !== undefined) afterGiveBack(r)
  }

  /** A waiter leaving the queue without using a permit (timed out, interrupted). */
  const leave = (waiter: Waiter): void => {
    waiter.resume = undefined
    const r = withSlot(
      slot,
      (s) => {
        if (waiter.granted) return giveBack(s)
        const i = queue.indexOf(waiter)
        if (i !== -1) queue.splice(i, 1)
        s.hold[s.hat + HOLD_WAITING] = s.hold[s.hat + HOLD_WAITING]! - 1
        if (s.i32[s.at + WAITING]! > 0) {
          s.i32[s.at + WAITING] = s.i32[s.at + WAITING]! - 1
          return undefined
        }
        // Every queued place has been granted a permit: one of them was meant for this waiter.
        s.i32[s.at + GRANTED] = s.i32[s.at + GRANTED]! - 1
        s.hold[s.hat + HOLD_PERMITS] = s.hold[s.hat + HOLD_PERMITS]! + 1
        return giveBack(s)
      },
      () => {
        const i = queue.indexOf(waiter)
        if (i !== -1) queue.splice(i, 1)
        return undefined
      }
    )
    if (r !== undefined) afterGiveBack(r)
  }

  const wait = (waiter: Waiter, timeoutMs: number): Effect.Effect<boolean> =>
    Effect.callback<boolean>((resume) => {
      if (waiter.granted) return resume(Effect.succeed(true))
      waiter.resume = (granted) => resume(Effect.succeed(granted))
      return Effect.sync(() => leave(waiter))
    }).pipe(Effect.timeoutOrElse({ duration: timeoutMs, orElse: () => Effect.succeed(false) }))

  type Admission =
    | { readonly _tag: "Permit" }
    | { readonly _tag: "Full" }
    | { readonly _tag: "Queued"; readonly waiter: Waiter; readonly seen: number; readonly timeoutMs: number }
  const PERMIT: Admission = { _tag: "Permit" }
  const FULL: Admission = { _tag: "Full" }

  const admit = (s: Slot): Admission => {
    const { i32: w, at: a } = s
    if (w[a + ACTIVE]! < w[a + MAX]! && w[a + WAITING]! === 0) {
      w[a + ACTIVE] = w[a + ACTIVE]! + 1
      s.hold[s.hat + HOLD_PERMITS] = s.hold[s.hat + HOLD_PERMITS]! + 1
      return PERMIT
    }
    if (w[a + WAITING]! + w[a + GRANTED]! >= w[a + QUEUE_SIZE]!) return FULL
    w[a + WAITING] = w[a + WAITING]! + 1
    s.hold[s.hat + HOLD_WAITING] = s.hold[s.hat + HOLD_WAITING]! + 1
    const waiter: Waiter = { granted: false, resume: undefined }
    queue.push(waiter)
    return { _tag: "Queued", waiter, seen: w[a + WAKE]!, timeoutMs: w[a + QUEUE_TIMEOUT_MS]! }
  }

  const acquire = Effect.suspend(() => {
    // A stale slot (its target left the config while this request ran on the old one): no cap.
    const admission = withSlot(slot, admit, () => PERMIT)
    switch (admission._tag) {
      case "Permit":
        return Effect.succeed(true)
      case "Full":
        return Effect.succeed(false)
      case "Queued":
        sleep(admission.seen)
        return wait(admission.waiter, admission.timeoutMs)
    }
  })

  return {
    get max() {
      return Atomics.load(i32, at + MAX)
    },
    get queueSize() {
      return Atomics.load(i32, at + QUEUE_SIZE)
    },
    active: () => Atomics.load(i32, at + ACTIVE),
    waiting: () => Atomics.load(i32, at + WAITING) + Atomics.load(i32, at + GRANTED),
    hasCapacity: () => !isCurrent(slot) || Atomics.load(i32, at + ACTIVE) < Atomics.load(i32, at + MAX),
    canQueue: () =>
      !isCurrent(slot) ||
      Atomics.load(i32, at + ACTIVE) < Atomics.load(i32, at + MAX) ||
      Atomics.load(i32, at + WAITING) + Atomics.load(i32, at + GRANTED) < Atomics.load(i32, at + QUEUE_SIZE),
    acquire,
    release
  }
}
