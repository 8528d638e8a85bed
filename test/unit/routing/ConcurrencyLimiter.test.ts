import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { type ConcurrencyLimiter, makeConcurrencyLimiter } from "../../../src/routing/ConcurrencyLimiter.ts"

/** Forks `limiter.acquire` and lets it run until it has a permit or sits in the queue. */
const forkAcquire = (limiter: ConcurrencyLimiter) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(limiter.acquire)
    yield* Effect.yieldNow
    return fiber
  })

const state = (limiter: ConcurrencyLimiter) => ({ active: limiter.active(), waiting: limiter.waiting() })

describe("ConcurrencyLimiter", () => {
  it.effect("hands out up to max permits at once", () =>
    Effect.gen(function* () {
      const limiter = makeConcurrencyLimiter(2, 0, 1000)
      assert.deepStrictEqual([limiter.max, limiter.queueSize], [2, 0])
      assert.isTrue(limiter.hasCapacity())
      assert.isTrue(yield* limiter.acquire)
      assert.isTrue(limiter.hasCapacity())
      assert.isTrue(yield* limiter.acquire)
      assert.isFalse(limiter.hasCapacity())
      assert.deepStrictEqual(state(limiter), { active: 2, waiting: 0 })
      limiter.release()
      assert.deepStrictEqual(state(limiter), { active: 1, waiting: 0 })
      assert.isTrue(limiter.hasCapacity())
    })
  )

  it.effect("without a queue, refuses at once when full", () =>
    Effect.gen(function* () {
      const limiter = makeConcurrencyLimiter(1, 0, 1000)
      assert.isTrue(yield* limiter.acquire)
      assert.isFalse(limiter.canQueue())
      assert.isFalse(yield* limiter.acquire)
      assert.deepStrictEqual(state(limiter), { active: 1, waiting: 0 })
    })
  )

  it.effect("queues up to queue size, then refuses at once", () =>
    Effect.gen(function* () {
      const limiter = makeConcurrencyLimiter(1, 2, 60_000)
      assert.isTrue(yield* limiter.acquire)
      assert.isTrue(limiter.canQueue())
      const b = yield* forkAcquire(limiter)
      const c = yield* forkAcquire(limiter)
      assert.isUndefined(b.pollUnsafe())
      assert.isUndefined(c.pollUnsafe())
      assert.deepStrictEqual(state(limiter), { active: 1, waiting: 2 })
      assert.isFalse(limiter.canQueue())
      assert.isFalse(yield* limiter.acquire) // no wait: refused without the clock moving
      assert.deepStrictEqual(state(limiter), { active: 1, waiting: 2 })
    })
  )

  it.effect("passes a released permit straight to the longest waiter (FIFO)", () =>
    Effect.gen(function* () {
      const limiter = makeConcurrencyLimiter(1, 3, 60_000)
      const order: Array<string> = []
      assert.isTrue(yield* limiter.acquire)
      const fibers = []
      for (const name of ["b", "c", "d"]) {
        fibers.push(
          yield* Effect.forkChild(Effect.tap(limiter.acquire, (ok) => Effect.sync(() => order.push(`${name}:${ok}`))))
        )
        yield* Effect.yieldNow
      }
      assert.deepStrictEqual(order, [])
      for (const expected of [["b:true"], ["b:true", "c:true"], ["b:true", "c:true", "d:true"]]) {
        limiter.release()
        yield* Effect.yieldNow
        assert.deepStrictEqual(order, expected)
        // The permit moved on: the count of active permits did not change.
        assert.strictEqual(limiter.active(), 1)
      }
      assert.strictEqual(limiter.waiting(), 0)
      limiter.release()
      assert.deepStrictEqual(state(limiter), { active: 0, waiting: 0 })
      for (const f of fibers) assert.isTrue(yield* Fiber.join(f))
    })
  )

  it.effect("a waiter gives up after the queue timeout (TestClock)", () =>
    Effect.gen(function* () {
      const limiter = makeConcurrencyLimiter(1, 1, 5_000)
      assert.isTrue(yield* limiter.acquire)
      const b = yield* forkAcquire(limiter)
      yield* TestClock.adjust(4_999)
      assert.isUndefined(b.pollUnsafe())
      assert.strictEqual(limiter.waiting(), 1)
      yield* TestClock.adjust(1)
      assert.isFalse(yield* Fiber.join(b))
      assert.deepStrictEqual(state(limiter), { active: 1, waiting: 0 })
      // The permit is not handed to the waiter that left: it is simply freed.
      limiter.release()
      assert.deepStrictEqual(state(limiter), { active: 0, waiting: 0 })
    })
  )

  it.effect("the timeout counts from when the waiter joined the queue", () =>
    Effect.gen(function* () {
      const limiter = makeConcurrencyLimiter(1, 2, 1_000)
      assert.isTrue(yield* limiter.acquire)
      const b = yield* forkAcquire(limiter)
      yield* TestClock.adjust(600)
      const c = yield* forkAcquire(limiter)
      yield* TestClock.adjust(400)
      assert.isFalse(yield* Fiber.join(b))
      assert.isUndefined(c.pollUnsafe())
      limiter.release()
      assert.isTrue(yield* Fiber.join(c))
      assert.deepStrictEqual(state(limiter), { active: 1, waiting: 0 })
    })
  )

  it.effect("an interrupted waiter leaves the queue and never receives a permit", () =>
    Effect.gen(function* () {
      const limiter = makeConcurrencyLimiter(1, 2, 60_000)
      assert.isTrue(yield* limiter.acquire)
      const b = yield* forkAcquire(limiter)
      const c = yield* forkAcquire(limiter)
      yield* Fiber.interrupt(b)
      assert.deepStrictEqual(state(limiter), { active: 1, waiting: 1 })
      limiter.release()
      assert.isTrue(yield* Fiber.join(c))
      assert.deepStrictEqual(state(limiter), { active: 1, waiting: 0 })
      limiter.release()
      assert.deepStrictEqual(state(limiter), { active: 0, waiting: 0 })
      // A slot opened by the interruption can be queued into again.
      assert.isTrue(limiter.canQueue())
    })
  )

  it.effect("a waiter interrupted just as it is granted never leaks the permit", () =>
    Effect.gen(function* () {
      for (const interruptFirst of [false, true]) {
        const limiter = makeConcurrencyLimiter(1, 2, 60_000)
        assert.isTrue(yield* limiter.acquire)
        const b = yield* forkAcquire(limiter)
        const c = yield* forkAcquire(limiter)
        // Grant and interruption in the same synchronous step, in both orders.
        yield* Effect.sync(() => {
          if (interruptFirst) b.interruptUnsafe()
          limiter.release()
          if (!interruptFirst) b.interruptUnsafe()
        })
        yield* Effect.yieldNow
        const bExit = yield* Fiber.await(b)
        const bHolds = Exit.isSuccess(bExit) && bExit.value
        const cExit = c.pollUnsafe()
        const cHolds = cExit !== undefined && Exit.isSuccess(cExit) && cExit.value
        // Exactly one permit is out, held by whoever got it: never by nobody.
        assert.strictEqual(Number(bHolds) + Number(cHolds), 1, `interruptFirst=${interruptFirst}`)
        assert.strictEqual(limiter.active(), 1)
        if (!cHolds) {
          limiter.release()
          assert.isTrue(yield* Fiber.join(c))
        }
        limiter.release()
        assert.deepStrictEqual(state(limiter), { active: 0, waiting: 0 })
      }
    })
  )

  it.effect("a release at the very instant the queue timeout fires leaks nothing", () =>
    Effect.gen(function* () {
      for (const releaseFirst of [true, false]) {
        const limiter = makeConcurrencyLimiter(1, 1, 1_000)
        assert.isTrue(yield* limiter.acquire)
        const releaseAt1s = Effect.andThen(
          Effect.sleep(1_000),
          Effect.sync(() => limiter.release())
        )
        if (releaseFirst) yield* Effect.forkChild(releaseAt1s)
        const b = yield* forkAcquire(limiter)
        if (!releaseFirst) yield* Effect.forkChild(releaseAt1s)
        yield* Effect.yieldNow
        yield* TestClock.adjust(1_000)
        const got = yield* Fiber.join(b)
        // Either the waiter got the permit (and holds it), or it timed out and the permit is free.
        assert.strictEqual(limiter.active(), got ? 1 : 0, `releaseFirst=${releaseFirst}`)
        assert.strictEqual(limiter.waiting(), 0)
        if (got) limiter.release()
        assert.strictEqual(limiter.active(), 0)
      }
    })
  )

  it.effect("permits stay consistent under a random mix of acquire, release, timeout and interruption", () =>
    Effect.gen(function* () {
      const limiter = makeConcurrencyLimiter(3, 4, 500)
      const holders: Array<Fiber.Fiber<boolean>> = []
      const pending: Array<Fiber.Fiber<boolean>> = []
      let seed = 42
      const rnd = () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31
        return seed / 2 ** 31
      }
      for (let step = 0; step < 400; step++) {
        const r = rnd()
        if (r < 0.4) pending.push(yield* forkAcquire(limiter))
        else if (r < 0.65 && holders.length > 0) {
          holders.splice(Math.floor(rnd() * holders.length), 1)
          limiter.release()
        } else if (r < 0.8 && pending.length > 0) {
          const [f] = pending.splice(Math.floor(rnd() * pending.length), 1)
          if (f !== undefined) yield* Fiber.interrupt(f)
        } else yield* TestClock.adjust(Math.floor(rnd() * 300))
        yield* Effect.yieldNow
        // Settle: fibers that finished either hold a permit (true) or not (false/interrupted).
        for (let i = pending.length - 1; i >= 0; i--) {
          const f = pending[i]!
          const exit = f.pollUnsafe()
          if (exit === undefined) continue
          pending.splice(i, 1)
          if (Exit.isSuccess(exit) && exit.value) holders.push(f)
        }
        assert.strictEqual(limiter.active(), holders.length, `step ${step}`)
        assert.strictEqual(limiter.waiting(), pending.length, `step ${step}`)
        assert.isAtMost(limiter.active(), 3)
        assert.isAtMost(limiter.waiting(), 4)
      }
    })
  )
})
