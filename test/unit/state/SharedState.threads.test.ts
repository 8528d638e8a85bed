/**
 * The shared routing state driven from several worker threads at once, against sequential models
 * (fast-check picks the threads, the operations, the caps and the weights). Every run lays out its
 * slots with a fresh owner-side allocator and sends the pages to 2–4 threads of one pool; each
 * thread makes its own SlotSpace as its worker holder id, as gateway workers do, and the threads
 * start together at a barrier.
 *
 * - round_robin and weighted picks are atomic across threads: the global order of picks (taken
 *   under the strategy state's lock) is exactly the one-thread sequence.
 * - a ConcurrencyLimiter's cap holds across threads, every acquire resolves, and nothing leaks.
 * - a half-open breaker lets exactly one probe through across threads; only its verdict counts.
 * - in-flight counts stay exact under concurrent begin/end, and a thread that dies holding
 *   requests, permits, queue places, the probe or a lock is repaired from the live threads'
 *   holdings by the owner.
 */
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { BreakerSettings } from "../../../src/domain/BreakerSettings.ts"
import * as CircuitBreaker from "../../../src/routing/CircuitBreaker.ts"
import { configureLimiter, makeConcurrencyLimiter, repairLimiter } from "../../../src/routing/ConcurrencyLimiter.ts"
import { targetSlotSpec } from "../../../src/routing/RoutingState.ts"
import { slotsForCells } from "../../../src/routing/StrategyState.ts"
import { makeTargetHealth } from "../../../src/routing/TargetHealth.ts"
import { holderOf } from "../../../src/state/SharedLock.ts"
import { makeSlotAllocator, type SlotAllocator, type SlotSpec } from "../../../src/state/SlotAllocator.ts"
import { HOLD_IN_FLIGHT, HOLD_PERMITS, HOLD_PROBE, HOLD_WAITING, LOCK, type SlotRef } from "../../../src/state/Slots.ts"
import { usePool } from "./fixtures/pool.ts"
import {
  type Hold,
  rendezvous,
  type StateCommand,
  type StateReplies,
  type Step,
  type StrategyKind
} from "./fixtures/protocol.ts"
import { holdingsOf, pagesFor, slotsAs } from "./fixtures/slots.ts"

const SCRIPT = new URL("./fixtures/stateWorker.ts", import.meta.url)
const THREADS = 4

const SETTINGS: BreakerSettings = { failureRate: 0.5, minRequests: 1, windowMs: 10_000, cooldownMs: 1_000 }
const PROVIDER = { name: "p", breaker: SETTINGS }
const nothing = () => undefined

const pool = usePool<StateCommand, StateReplies>(SCRIPT, THREADS)

const threads = fc.integer({ min: 2, max: THREADS })
const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const sum = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0)

/** A fresh allocator (room for every pool thread's holdings) with `specs` as snapshot 1. */
const layout = (specs: ReadonlyArray<SlotSpec>) => {
  const allocator = makeSlotAllocator(THREADS)
  const refs = new Map(allocator.assign(specs, 1, () => false).map((a) => [a.key, a.refs]))
  const refsOf = (key: string): ReadonlyArray<SlotRef> => refs.get(key)!
  return { allocator, refsOf }
}

/** Every worker's holdings of `ref`'s slot, as [in flight, permits, probe, waiting] each. */
const allHoldings = (allocator: SlotAllocator, ref: SlotRef) =>
  range(THREADS).map((w) => [...holdingsOf(allocator, w, ref.slot)])

const idle = range(THREADS).map(() => [0, 0, 0, 0])

/** Resolves once `word[at]` satisfies `ready` (re-checked whenever it changes; no fixed sleeps). */
const until = async (word: Int32Array, at: number, ready: (value: number) => boolean): Promise<void> => {
  for (;;) {
    const seen = Atomics.load(word, at)
    if (ready(seen)) return
    const w = Atomics.waitAsync(word, at, seen, 20)
    if (w.async) await w.value
  }
}

// ---- balancing ---------------------------------------------------------------------------------

/** The one-thread sequence: round-robin by index; smooth weighted round-robin (nginx), first on ties. */
const sequentialPicks = (strategy: StrategyKind, weights: ReadonlyArray<number>, n: number): Array<number> => {
  if (strategy === "round_robin") return range(n).map((i) => i % weights.length)
  const total = sum(weights)
  const current = weights.map(() => 0)
  return range(n).map(() => {
    let chosen = 0
    for (let i = 0; i < weights.length; i++) {
      current[i]! += weights[i]!
      if (current[i]! > current[chosen]!) chosen = i
    }
    current[chosen]! -= total
    return chosen
  })
}

const runPicks = async (strategy: StrategyKind, weights: ReadonlyArray<number>, t: number, picks: number) => {
  const { allocator, refsOf } = layout([{ key: "group", size: slotsForCells(1 + weights.length) }])
  const ring = new SharedArrayBuffer(4 * (1 + t * picks))
  const meet = rendezvous(t)
  await Promise.all(
    range(t).map((i) =>
      pool().run(i, {
        _tag: "Pick",
        pages: pagesFor(allocator, i),
        refs: refsOf("group"),
        strategy,
        weights,
        picks,
        ring,
        rendezvous: meet
      })
    )
  )
  const words = new Int32Array(ring)
  expect(words[0]).toBe(t * picks)
  const sequence = words.subarray(1)
  const counts = weights.map(() => 0)
  for (const x of sequence) counts[x]! += 1
  return { sequence, counts }
}

/** Where `actual` first differs from `expected` (with a little context), or undefined when equal. */
const firstDifference = (actual: Int32Array, expected: ReadonlyArray<number>) => {
  for (let i = 0; i < Math.max(actual.length, expected.length); i++) {
    if (actual[i] !== expected[i]) {
      return {
        at: i,
        actual: [...actual.subarray(Math.max(0, i - 3), i + 4)],
        expected: expected.slice(Math.max(0, i - 3), i + 4)
      }
    }
  }
  return undefined
}

describe("balancing from several threads", () => {
  it("round_robin: the global order of picks is 0, 1, …, k−1, 0, 1, …, and each target gets T·P/k", async () => {
    await fc.assert(
      fc.asyncProperty(
        threads,
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 500, max: 3_000 }),
        async (t, k, rounds) => {
          const picks = k * rounds // k divides T·P
          const weights = range(k).map(() => 1)
          const { sequence, counts } = await runPicks("round_robin", weights, t, picks)
          expect(firstDifference(sequence, sequentialPicks("round_robin", weights, t * picks))).toBeUndefined()
          expect(counts).toEqual(weights.map(() => (t * picks) / k))
        }
      ),
      { numRuns: 8 }
    )
  })

  it("weighted: the global order is the one-thread smooth weighted sequence, and each target gets weight·(T·P/W)", async () => {
    await fc.assert(
      fc.asyncProperty(
        threads,
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 60, max: 300 }),
        async (t, weights, cycles) => {
          const total = sum(weights)
          const picks = total * cycles // T·P is a multiple of W
          const { sequence, counts } = await runPicks("weighted", weights, t, picks)
          expect(firstDifference(sequence, sequentialPicks("weighted", weights, t * picks))).toBeUndefined()
          expect(counts).toEqual(weights.map((w) => w * ((t * picks) / total)))
        }
      ),
      { numRuns: 8 }
    )
  })
})

// ---- concurrency limiter ---------------------------------------------------------------------

const limiterSpec = (key: string, max: number, queueSize: number, timeoutMs: number): SlotSpec => ({
  key,
  size: 1,
  init: (slots) => configureLimiter(slots[0]!, max, queueSize, timeoutMs),
  repair: repairLimiter
})

describe("ConcurrencyLimiter from several threads", () => {
  it("never has more than max permits out, resolves every acquire, and ends with nothing held or queued", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          t: threads,
          max: fc.integer({ min: 1, max: 3 }),
          queueSize: fc.integer({ min: 0, max: 10 }),
          // Short: waits time out, racing with grants; long: a refusal can only mean a full queue.
          timeoutMs: fc.constantFrom(2, 60_000),
          fibers: fc.integer({ min: 1, max: 4 }),
          ops: fc.integer({ min: 2, max: 30 }),
          holds: fc.array(fc.constantFrom<Hold>("yield", "sleep", "busy"), { minLength: 1, maxLength: 4 })
        }),
        async ({ t, max, queueSize, timeoutMs, fibers, ops, holds }) => {
          const { allocator, refsOf } = layout([limiterSpec("limiter", max, queueSize, timeoutMs)])
          const ref = refsOf("limiter")[0]!
          const occupancy = new SharedArrayBuffer(8)
          const meet = rendezvous(t)
          const replies = await Promise.all(
            range(t).map((i) =>
              pool().run(i, {
                _tag: "Limit",
                pages: pagesFor(allocator, i),
                ref,
                fibers,
                ops,
                holds,
                occupancy,
                rendezvous: meet
              })
            )
          )
          const occ = new Int32Array(occupancy)
          const granted = sum(replies.map((r) => r.granted))
          const refused = sum(replies.map((r) => r.refused))
          expect(granted + refused).toBe(t * fibers * ops)
          expect(granted).toBeGreaterThan(0)
          expect(occ[1]).toBeLessThanOrEqual(max)
          expect(Math.max(...replies.map((r) => r.maxSeen))).toBeLessThanOrEqual(max)
          expect(occ[0]).toBe(0)
          // With room in the queue for every other requester and no timeouts, nobody is refused.
          if (timeoutMs > 1_000 && queueSize >= t * fibers) expect(refused).toBe(0)
          const owner = makeConcurrencyLimiter(max, queueSize, timeoutMs, slotsAs(allocator)(ref))
          expect({ active: owner.active(), waiting: owner.waiting() }).toEqual({ active: 0, waiting: 0 })
          expect(allHoldings(allocator, ref)).toEqual(idle)
        }
      ),
      { numRuns: 8 }
    )
  })

  /** Thread `holder` takes every permit; thread `waiter` queues one acquire (see the Queue command). */
  const handoff = async (max: number, timeoutMs: number, stuckMs: number, holder: number, waiter: number) => {
    const { allocator, refsOf } = layout([limiterSpec("limiter", max, 4, timeoutMs)])
    const ref = refsOf("limiter")[0]!
    const owner = makeConcurrencyLimiter(max, 4, timeoutMs, slotsAs(allocator)(ref))
    const apply = (i: number, steps: ReadonlyArray<Step>) =>
      pool().run(i, { _tag: "Apply", pages: pagesFor(allocator, i), steps })
    expect((await apply(holder, [{ _tag: "Acquire", ref, count: max }])).acquired).toEqual(range(max).map(() => true))
    const signal = new Int32Array(new SharedArrayBuffer(8))
    const queued = pool().run(waiter, {
      _tag: "Queue",
      pages: pagesFor(allocator, waiter),
      ref,
      signal: signal.buffer,
      stuckMs
    })
    await until(signal, 0, (v) => v === 1)
    expect({ active: owner.active(), waiting: owner.waiting() }).toEqual({ active: max, waiting: 1 })
    await apply(holder, [{ _tag: "Release", ref, count: 1 }]) // granted to the waiter's place
    Atomics.store(signal, 1, 1)
    Atomics.notify(signal, 1)
    const result = await queued
    await apply(holder, [{ _tag: "Release", ref, count: max - 1 }])
    // Whichever came first for the waiter (its permit or its timeout), nothing is left taken.
    expect({ active: owner.active(), waiting: owner.waiting() }).toEqual({ active: 0, waiting: 0 })
    expect(allHoldings(allocator, ref)).toEqual(idle)
    expect((await apply(holder, [{ _tag: "Acquire", ref, count: max }])).acquired).toEqual(range(max).map(() => true))
    expect(owner.hasCapacity()).toBe(false)
    await apply(holder, [{ _tag: "Release", ref, count: max }])
    return result
  }

  it("a permit released in one thread wakes a waiter in another at once (not at its 1 s re-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: THREADS - 1 }),
        fc.integer({ min: 1, max: THREADS - 1 }),
        async (max, holder, offset) => {
          const result = await handoff(max, 60_000, 0, holder, (holder + offset) % THREADS)
          expect(result.granted).toBe(true)
          expect(result.waitedMs).toBeLessThan(500)
        }
      ),
      { numRuns: 6 }
    )
  })

  it("a waiter whose wait times out while its granted permit is on its way gives the permit back", async () => {
    const outcomes: Array<boolean> = []
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: THREADS - 1 }),
        fc.integer({ min: 1, max: THREADS - 1 }),
        async (max, holder, offset) => {
          // The waiter's thread is stuck past its 2 ms timeout while the grant is made: both are due at once.
          const result = await handoff(max, 2, 10, holder, (holder + offset) % THREADS)
          outcomes.push(result.granted)
        }
      ),
      { numRuns: 6 }
    )
    // The race this is about did happen: the timeout ran first (Node runs due timers before the
    // wake-up task), so the waiter left after its place had been granted.
    expect(outcomes).toContain(false)
  })
})

// ---- circuit breaker -------------------------------------------------------------------------

describe("CircuitBreaker from several threads", () => {
  it("lets exactly one half-open probe through across threads; only its verdict counts, and every thread sees it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          t: threads,
          // Each round is a new race for the probe (every round but the last ends in a failed probe).
          rounds: fc.integer({ min: 1, max: 12 }),
          admits: fc.integer({ min: 1, max: 100 }),
          after: fc.integer({ min: 0, max: 20_000 }),
          late: fc.boolean(),
          verdict: fc.constantFrom("success" as const, "failure" as const)
        }),
        async ({ t, rounds, admits, after, late, verdict }) => {
          const spec = targetSlotSpec(PROVIDER, "m")
          const { allocator, refsOf } = layout([spec])
          const ref = refsOf(spec.key)[0]!
          const owner = CircuitBreaker.make("p/m", SETTINGS, undefined, slotsAs(allocator)(ref))
          owner.onFailure(0) // min_requests 1: opens at 0
          expect(owner.state(0)).toBe("open")
          // Round r runs once the cooldown since the previous round's failed probe has elapsed.
          const now = range(rounds).map((r) => (r + 1) * (SETTINGS.cooldownMs + after))
          const meet = rendezvous(t)
          const replies = await Promise.all(
            range(t).map((i) =>
              pool().run(i, {
                _tag: "Probe",
                pages: pagesFor(allocator, i),
                ref,
                settings: SETTINGS,
                now,
                admits,
                late,
                verdict,
                rendezvous: meet
              })
            )
          )
          for (let r = 0; r < rounds; r++) {
            const round = replies.map((rs) => rs[r]!)
            expect(
              round.map((x) => x.probes).filter((n) => n > 0),
              `round ${r}`
            ).toEqual([1])
            expect(sum(round.map((x) => x.passes)), `round ${r}`).toBe(0)
            expect(sum(round.map((x) => x.refusals)), `round ${r}`).toBe(t * admits - 1)
            if (late)
              for (const x of round)
                expect(x.afterLate, `round ${r}`).toEqual({ state: "half_open", admission: "refuse" })
            const closed = r === rounds - 1 && verdict === "success"
            const after = closed ? { state: "closed", admission: "pass" } : { state: "open", admission: "refuse" }
            for (const x of round) expect(x.after, `round ${r}`).toEqual(after)
          }
          expect(owner.state(now[rounds - 1]!)).toBe(verdict === "success" ? "closed" : "open")
          expect(allHoldings(allocator, ref)).toEqual(idle)
        }
      ),
      { numRuns: 8 }
    )
    // Eight rounds of thread rendezvous: room for a loaded 2-core machine (not a speed check).
  }, 30_000)
})

// ---- target health and repair ----------------------------------------------------------------

describe("TargetHealth from several threads, and threads that die", () => {
  it("counts begin/end pairs exactly: never below what a thread itself holds, 0 at the end", async () => {
    await fc.assert(
      fc.asyncProperty(
        threads.chain((t) =>
          fc.array(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 300 }), {
            minLength: t,
            maxLength: t
          })
        ),
        async (depths) => {
          const spec = targetSlotSpec(PROVIDER, "m")
          const { allocator, refsOf } = layout([spec])
          const ref = refsOf(spec.key)[0]!
          const meet = rendezvous(depths.length)
          const replies = await Promise.all(
            depths.map((d, i) =>
              pool().run(i, { _tag: "InFlight", pages: pagesFor(allocator, i), ref, depths: d, rendezvous: meet })
            )
          )
          for (const r of replies) {
            expect(r.short).toBe(0)
            expect(r.min).toBeGreaterThanOrEqual(0)
            expect(r.max).toBeLessThanOrEqual(sum(depths.map((d) => Math.max(...d))))
          }
          expect(makeTargetHealth("t", PROVIDER, "m", nothing, slotsAs(allocator)(ref)).inFlight()).toBe(0)
          expect(allHoldings(allocator, ref)).toEqual(idle)
        }
      ),
      { numRuns: 8 }
    )
  })

  it("repairs a thread that died holding requests, permits, queue places, the probe or a lock: counters drop by exactly what it held", async () => {
    const dead = fc.integer({ min: 0, max: THREADS - 1 })
    const liveShare = fc.record({ begins: fc.integer({ min: 0, max: 3 }), permits: fc.integer({ min: 0, max: 2 }) })
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          dying: dead,
          live: fc.array(liveShare, { minLength: 1, maxLength: THREADS - 1 }),
          begins: fc.integer({ min: 0, max: 4 }),
          permits: fc.integer({ min: 0, max: 2 }),
          queued: fc.integer({ min: 0, max: 2 }),
          probe: fc.boolean(),
          lock: fc.constantFrom("none" as const, "target" as const, "limiter" as const, "group" as const),
          releasedAfter: fc.integer({ min: 0, max: 2 })
        }),
        async ({ dying, live: shares, begins, permits, queued, probe, lock, releasedAfter }) => {
          const liveIndexes = range(THREADS)
            .filter((i) => i !== dying)
            .slice(0, shares.length)
          const max = Math.max(1, sum(shares.map((s) => s.permits)) + permits)
          const target = targetSlotSpec(PROVIDER, "m")
          const { allocator, refsOf } = layout([
            target,
            limiterSpec("limiter", max, 8, 60_000),
            { key: "group", size: 1 }
          ])
          const targetRef = refsOf(target.key)[0]!
          const limiterRef = refsOf("limiter")[0]!
          const groupRef = refsOf("group")[0]!
          const owner = slotsAs(allocator)
          const health = makeTargetHealth("t", PROVIDER, "m", nothing, owner(targetRef))
          const limiter = makeConcurrencyLimiter(max, 8, 60_000, owner(limiterRef))
          const apply = (i: number, steps: ReadonlyArray<Step>) =>
            pool().run(i, { _tag: "Apply", pages: pagesFor(allocator, i), steps })
          if (probe) CircuitBreaker.make("p/m", SETTINGS, undefined, owner(targetRef)).onFailure(0)

          try {
            // The live threads' share, then the dying thread's: requests, permits (the cap is
            // reached), waiters in the queue, the probe, a lock; then it exits.
            for (const [n, i] of liveIndexes.entries()) {
              const share = shares[n]!
              const r = await apply(i, [
                { _tag: "Begin", ref: targetRef, count: share.begins },
                { _tag: "Acquire", ref: limiterRef, count: share.permits }
              ])
              expect(r.acquired.every((a) => a)).toBe(true)
            }
            const lockRef = { none: undefined, target: targetRef, limiter: limiterRef, group: groupRef }[lock]
            const exited = pool().exited(dying)
            void apply(dying, [
              { _tag: "Begin", ref: targetRef, count: begins },
              { _tag: "Acquire", ref: limiterRef, count: permits },
              { _tag: "Enqueue", ref: limiterRef, count: queued },
              ...(probe
                ? [{ _tag: "Admit" as const, ref: targetRef, settings: SETTINGS, now: SETTINGS.cooldownMs }]
                : []),
              ...(lockRef === undefined ? [] : [{ _tag: "Lock" as const, ref: lockRef }]),
              { _tag: "Exit" }
            ]).catch(nothing)
            expect(await exited).toBe(0)

            const held = (ref: SlotRef) => holdingsOf(allocator, dying, ref.slot)
            expect(held(targetRef)[HOLD_IN_FLIGHT]).toBe(begins)
            expect(held(targetRef)[HOLD_PROBE]).toBe(probe ? 1 : 0)
            expect(held(limiterRef)[HOLD_PERMITS]! + held(limiterRef)[HOLD_WAITING]!).toBe(permits + queued)
            if (lockRef !== undefined) expect(holderOf(owner(lockRef).i32, owner(lockRef).at + LOCK)).not.toBe(0)
            const liveBegins = sum(shares.map((s) => s.begins))
            expect(health.inFlight()).toBe(liveBegins + begins)

            // A live thread gives permits back after the death: they may be granted to the dead
            // thread's waiters, who will never claim them.
            const first = liveIndexes[0]!
            const released = Math.min(releasedAfter, shares[0]!.permits)
            // (With the limiter locked by the dead thread, that release waits for the repair.)
            if (lock !== "limiter") await apply(first, [{ _tag: "Release", ref: limiterRef, count: released }])
            // A live thread that needs the lock the dead thread held waits for the repair.
            const blocked =
              lock === "target"
                ? apply(first, [{ _tag: "Begin", ref: targetRef, count: 1 }])
                : lock === "limiter"
                  ? apply(first, [{ _tag: "Release", ref: limiterRef, count: released }])
                  : undefined

            allocator.repair(dying)
            if (blocked !== undefined) await blocked

            for (const ref of [targetRef, limiterRef, groupRef]) {
              expect(holderOf(owner(ref).i32, owner(ref).at + LOCK)).toBe(0)
              expect([...held(ref)]).toEqual([0, 0, 0, 0])
            }
            const extra = lock === "target" ? 1 : 0
            expect(health.inFlight()).toBe(liveBegins + extra)
            const livePermits = sum(shares.map((s) => s.permits)) - released
            expect(limiter.active()).toBe(livePermits)
            expect(limiter.waiting()).toBe(0)
            expect(sum(liveIndexes.map((i) => holdingsOf(allocator, i, limiterRef.slot)[HOLD_PERMITS]!))).toBe(
              livePermits
            )
            // The probe only the dead thread held is free again.
            if (probe) {
              const r = await apply(first, [
                { _tag: "Admit", ref: targetRef, settings: SETTINGS, now: SETTINGS.cooldownMs }
              ])
              expect(r.admissions).toEqual(["probe"])
            }

            // The live threads end what they hold; then the whole cap is there to take, and no more.
            for (const [n, i] of liveIndexes.entries()) {
              const share = shares[n]!
              await apply(i, [
                { _tag: "End", ref: targetRef, count: share.begins + (n === 0 ? extra : 0) },
                { _tag: "Release", ref: limiterRef, count: share.permits - (n === 0 ? released : 0) }
              ])
            }
            expect(health.inFlight()).toBe(0)
            expect(limiter.active()).toBe(0)
            const refill = await apply(first, [{ _tag: "Acquire", ref: limiterRef, count: max }])
            expect(refill.acquired).toEqual(range(max).map(() => true))
            expect(limiter.active()).toBe(max)
            expect(limiter.hasCapacity()).toBe(false)
            await apply(first, [{ _tag: "Release", ref: limiterRef, count: max }])
            expect(limiter.active()).toBe(0)
          } finally {
            pool().respawn(dying)
          }
        }
      ),
      { numRuns: 6 }
    )
  })

  it("gives the permits of a thread that died holding them to the live threads' waiters at once, ahead of its own queue places", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          dying: fc.integer({ min: 0, max: THREADS - 1 }),
          offset: fc.integer({ min: 1, max: THREADS - 1 }),
          max: fc.integer({ min: 1, max: 3 }),
          livePermits: fc.nat(),
          // The dead thread's waiters queued first: permits released after its death are granted
          // to their places (and stay there until the repair).
          queued: fc.integer({ min: 0, max: 2 }),
          waiters: fc.nat()
        }),
        async ({ dying, offset, max, livePermits: lp, queued, waiters: w }) => {
          const livePermits = lp % max
          const waiters = w % (max + 1)
          const alive = (dying + offset) % THREADS
          const { allocator, refsOf } = layout([limiterSpec("limiter", max, 8, 60_000)])
          const ref = refsOf("limiter")[0]!
          const limiter = makeConcurrencyLimiter(max, 8, 60_000, slotsAs(allocator)(ref))
          const apply = (i: number, steps: ReadonlyArray<Step>) =>
            pool().run(i, { _tag: "Apply", pages: pagesFor(allocator, i), steps })
          const mine = holdingsOf(allocator, alive, ref.slot)
          try {
            await apply(alive, [{ _tag: "Acquire", ref, count: livePermits }])
            const exited = pool().exited(dying)
            void apply(dying, [
              { _tag: "Acquire", ref, count: max - livePermits },
              { _tag: "Enqueue", ref, count: queued },
              { _tag: "Exit" }
            ]).catch(nothing)
            expect(await exited).toBe(0)
            await apply(alive, [
              { _tag: "Release", ref, count: livePermits },
              { _tag: "Enqueue", ref, count: waiters }
            ])
            // The model: the released permits went to the dead thread's places first (`stuck`);
            // what was left over went at once to the live waiters (`immediate`), the rest queued.
            const stuck = Math.min(livePermits, queued)
            const immediate = Math.min(waiters, livePermits - stuck)
            expect({ active: limiter.active(), waiting: limiter.waiting() }).toEqual({
              active: max - (livePermits - stuck) + immediate,
              waiting: queued + waiters - immediate
            })
            expect([mine[HOLD_PERMITS], mine[HOLD_WAITING]]).toEqual([immediate, waiters - immediate])

            const repairedAt = performance.now()
            allocator.repair(dying)
            // The live thread's waiters are woken and claim their permits (well before the 1 s re-check).
            while (mine[HOLD_PERMITS] !== waiters && performance.now() - repairedAt < 500)
              await new Promise((r) => setTimeout(r, 1))
            expect([mine[HOLD_PERMITS], mine[HOLD_WAITING]]).toEqual([waiters, 0])
            expect({ active: limiter.active(), waiting: limiter.waiting() }).toEqual({ active: waiters, waiting: 0 })

            await apply(alive, [{ _tag: "Release", ref, count: waiters }])
            expect({ active: limiter.active(), waiting: limiter.waiting() }).toEqual({ active: 0, waiting: 0 })
            expect(allHoldings(allocator, ref)).toEqual(idle)
          } finally {
            pool().respawn(dying)
          }
        }
      ),
      { numRuns: 8 }
    )
  })
})
