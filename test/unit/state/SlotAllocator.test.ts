/**
 * The owner's slot allocator against a sequential model (fast-check, one thread): random sequences
 * of `assign`, `assignDynamic` (with and without a limit on dynamic keys), `acknowledged`,
 * `evictionsAcknowledged` and writes into the slots (as workers would make) keep kept keys' slots
 * and memory, give new keys zeroed slots of a new generation, quarantine dropped slots until the
 * snapshot that dropped them is acknowledged and evicted ones until their eviction is, evict the
 * least recently used dynamic keys (as their spec's `lastUsed` reads them; the oldest of equals)
 * when there are more than the limit, never share a slot between live keys, reuse before growing
 * and grow pages as needed, and apply `init` / `update`.
 * Then `repair`: a dead worker's locks are taken back and the routing counters (targets, limiters,
 * a held probe) are recomputed from the live workers' holdings only.
 */
import { Effect, Result } from "effect"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parseConfig } from "../../../src/config/loadConfig.ts"
import type { ResolvedConfig } from "../../../src/config/Config.ts"
import * as CircuitBreaker from "../../../src/routing/CircuitBreaker.ts"
import { makeConcurrencyLimiter } from "../../../src/routing/ConcurrencyLimiter.ts"
import { memberKey, routingSlotSpecs } from "../../../src/routing/RoutingState.ts"
import { makeTargetHealth, targetKey } from "../../../src/routing/TargetHealth.ts"
import { holderOf, lock, OWNER_HOLDER, workerHolder } from "../../../src/state/SharedLock.ts"
import { type Assignment, makeSlotAllocator, type SlotSpec } from "../../../src/state/SlotAllocator.ts"
import {
  GEN,
  HOLD_IN_FLIGHT,
  HOLD_PERMITS,
  HOLD_PROBE,
  HOLD_WAITING,
  LOCK,
  type Slot,
  SLOT_INTS,
  type SlotRef,
  SLOTS_PER_PAGE
} from "../../../src/state/Slots.ts"
import { holdingsOf, slotsAs } from "./fixtures/slots.ts"

const WORKERS = 3

/** Words of a slot this test uses (after the lock and generation): what init, update and "workers" wrote. */
const INIT_WORD = 2
const UPDATE_WORD = 3
const DATA_WORD = 10
const LAST_WORD = SLOT_INTS - 1

// ---- the model ---------------------------------------------------------------------------------

type Op =
  | {
      readonly _tag: "Assign"
      readonly specs: ReadonlyArray<{ readonly key: string; readonly size: number; readonly hooks: boolean }>
      readonly keep: ReadonlyArray<string>
      readonly limit: number | undefined
    }
  | {
      readonly _tag: "Dynamic"
      readonly key: string
      readonly size: number
      readonly hooks: boolean
      readonly limit: number | undefined
    }
  | { readonly _tag: "Ack"; readonly back: number }
  | { readonly _tag: "EvictAck"; readonly back: number }
  | { readonly _tag: "Write"; readonly pick: number; readonly value: number; readonly worker: number }

interface Live {
  readonly refs: ReadonlyArray<SlotRef>
  readonly dynamic: boolean
  readonly hooks: boolean
  /** The value in DATA_WORD of every slot, and in every HOLD_IN_FLIGHT of worker `heldBy`. */
  data: number
  heldBy: number
  /** The version of the last `update` (0: none since the key got its slots). */
  updated: number
}

const KEYS = Array.from({ length: 8 }, (_, i) => `k${i}`)
const initTag = (key: string) => 1000 + Number(key.slice(1))

/** Mostly small keys, sometimes large ones so that the layout spans several pages. */
const size = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 200 }) }
)

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      _tag: fc.constant("Assign" as const),
      specs: fc.uniqueArray(fc.record({ key: fc.constantFrom(...KEYS), size, hooks: fc.boolean() }), {
        selector: (s) => s.key,
        maxLength: 6
      }),
      keep: fc.subarray(KEYS),
      limit: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined })
    })
  },
  {
    weight: 3,
    arbitrary: fc.record({
      _tag: fc.constant("Dynamic" as const),
      key: fc.constantFrom(...KEYS),
      size,
      hooks: fc.boolean(),
      limit: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined })
    })
  },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("Ack" as const), back: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("EvictAck" as const), back: fc.integer({ min: 0, max: 2 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      _tag: fc.constant("Write" as const),
      pick: fc.nat(),
      value: fc.integer({ min: 1, max: 1_000_000 }),
      worker: fc.integer({ min: 0, max: WORKERS - 1 })
    })
  }
)

/** Runs `ops` on a fresh allocator and on the model, checking the allocator after every step. */
const check = (ops: ReadonlyArray<Op>): void => {
  const allocator = makeSlotAllocator(WORKERS)
  const owner = slotsAs(allocator)
  const live = new Map<string, Live>()
  /** The dynamic keys among `live`, in the order they became dynamic (the oldest of equals is evicted first). */
  const dynamicOrder: Array<string> = []
  let quarantine: Array<{ readonly version: number; readonly ticket: number; readonly slots: ReadonlyArray<number> }> =
    []
  let ackedVersion = 0
  let ackedTicket = 0
  let tickets = 0
  const free = new Set<number>()
  const gens = new Map<number, number>()
  let highWater = 0
  let version = 0
  /** Hooks seen since the last step: init (fresh slots) and update (kept slots) calls, by key. */
  const inits: Array<string> = []
  const updates: Array<string> = []

  // A key was last used when DATA_WORD (what "workers" wrote) says.
  const lastUsed = (slots: ReadonlyArray<Slot>) => slots[0]!.i32[slots[0]!.at + DATA_WORD]!
  const specOf = (key: string, n: number, hooks: boolean, at: number): SlotSpec => {
    if (!hooks) return { key, size: n, lastUsed }
    const locked = (slots: ReadonlyArray<Slot>) => {
      for (const s of slots) {
        expect(holderOf(s.i32, s.at + LOCK)).toBe(OWNER_HOLDER)
        expect(s.i32[s.at + GEN]).toBe(s.gen)
      }
    }
    return {
      key,
      size: n,
      lastUsed,
      init: (slots) => {
        inits.push(key)
        locked(slots)
        expect(slots).toHaveLength(n)
        for (const s of slots) {
          // Fresh: everything past the generation is zero (holdings are checked after the step).
          expect(s.i32.subarray(s.at + GEN + 1, s.at + SLOT_INTS).every((v) => v === 0)).toBe(true)
          s.i32[s.at + INIT_WORD] = initTag(key)
        }
      },
      update: (slots) => {
        updates.push(key)
        locked(slots)
        for (const s of slots) s.i32[s.at + UPDATE_WORD] = at
      }
    }
  }

  /** The model's side of giving `n` fresh slots to a key: free ones first, then new ones. */
  const allocated = (key: string, refs: ReadonlyArray<SlotRef>, n: number) => {
    expect(refs).toHaveLength(n)
    for (const ref of refs) {
      if (free.has(ref.slot)) {
        free.delete(ref.slot)
      } else {
        // Never a quarantined slot, never a live one: a new one, and only once none is free.
        expect(ref.slot, `${key}: slot ${ref.slot} is neither free nor new (high water ${highWater})`).toBe(highWater)
        expect(free.size, `${key}: grew while ${free.size} slots were free`).toBe(0)
        highWater++
      }
      const gen = (gens.get(ref.slot) ?? 0) + 1
      expect(ref.gen).toBe(gen)
      gens.set(ref.slot, gen)
    }
  }

  const undynamic = (key: string) => {
    const i = dynamicOrder.indexOf(key)
    if (i !== -1) dynamicOrder.splice(i, 1)
  }
  const drop = (key: string, at: number, ticket = 0) => {
    const entry = live.get(key)!
    live.delete(key)
    undynamic(key)
    quarantine.push({ version: at, ticket, slots: entry.refs.map((r) => r.slot) })
  }
  /** The least recently used dynamic key: the lowest data, the oldest of equals. */
  const victim = (): string => {
    let found = dynamicOrder[0]!
    for (const key of dynamicOrder) if (live.get(key)!.data < live.get(found)!.data) found = key
    return found
  }
  const release = () => {
    const waiting: typeof quarantine = []
    for (const q of quarantine) {
      if (q.version <= ackedVersion && q.ticket <= ackedTicket) for (const slot of q.slots) free.add(slot)
      else waiting.push(q)
    }
    quarantine = waiting
  }

  const verify = (answer: ReadonlyArray<Assignment> | undefined) => {
    const expected = new Map([...live].map(([k, e]) => [k, e.refs]))
    if (answer !== undefined) expect(new Map(answer.map((a) => [a.key, a.refs]))).toEqual(expected)
    expect(new Map(allocator.layout().map((a) => [a.key, a.refs]))).toEqual(expected)
    // Plain comparisons, one assertion: thousands of slots are checked per run.
    const problems: Array<string> = []
    const same = (what: string, actual: number | undefined, expected: number) => {
      if (actual !== expected) problems.push(`${what}: ${actual} instead of ${expected}`)
    }
    const owners = new Map<number, string>()
    for (const [key, entry] of live) {
      for (const ref of entry.refs) {
        const other = owners.get(ref.slot)
        if (other !== undefined) problems.push(`slot ${ref.slot} given to ${key} and ${other}`)
        owners.set(ref.slot, key)
        const s = owner(ref)
        const at = `${key} slot ${ref.slot}`
        same(`${at} lock`, s.i32[s.at + LOCK], 0)
        same(`${at} generation`, s.i32[s.at + GEN], ref.gen)
        same(`${at} init word`, s.i32[s.at + INIT_WORD], entry.hooks ? initTag(key) : 0)
        same(`${at} update word`, s.i32[s.at + UPDATE_WORD], entry.updated)
        same(`${at} data word`, s.i32[s.at + DATA_WORD], entry.data)
        same(`${at} last word`, s.i32[s.at + LAST_WORD], entry.data)
        for (let w = 0; w < WORKERS; w++) {
          same(
            `${at} worker ${w} holdings`,
            holdingsOf(allocator, w, ref.slot)[HOLD_IN_FLIGHT],
            w === entry.heldBy ? entry.data : 0
          )
        }
      }
    }
    expect(problems).toEqual([])
    const pages = Math.ceil(highWater / SLOTS_PER_PAGE)
    expect(allocator.pages()).toHaveLength(pages)
    expect(allocator.stats()).toEqual({
      used: [...live.values()].reduce((n, e) => n + e.refs.length, 0),
      free: free.size,
      quarantined: quarantine.reduce((n, q) => n + q.slots.length, 0),
      capacity: pages * SLOTS_PER_PAGE
    })
  }

  for (const o of ops) {
    inits.length = 0
    updates.length = 0
    let answer: ReadonlyArray<Assignment> | undefined
    switch (o._tag) {
      case "Assign": {
        const v = ++version
        const keep = new Set(o.keep)
        const wanted = new Set(o.specs.map((s) => s.key))
        const specs = o.specs.map((s) => specOf(s.key, s.size, s.hooks, v))
        answer = allocator.assign(specs, v, (key) => keep.has(key), o.limit)
        for (const [key, entry] of [...live]) if (!wanted.has(key) && !(entry.dynamic && keep.has(key))) drop(key, v)
        const expectedInits: Array<string> = []
        const expectedUpdates: Array<string> = []
        for (const s of o.specs) {
          const found = live.get(s.key)
          if (found !== undefined && found.refs.length === s.size) {
            if (s.hooks) expectedUpdates.push(s.key)
            // In a snapshot's specs it is no longer dynamic: dropped from a later snapshot, it goes.
            live.set(s.key, { ...found, dynamic: false, updated: s.hooks ? v : found.updated })
            undynamic(s.key)
            continue
          }
          if (found !== undefined) drop(s.key, v)
          const refs = answer.find((a) => a.key === s.key)!.refs
          allocated(s.key, refs, s.size)
          if (s.hooks) expectedInits.push(s.key)
          live.set(s.key, { refs, dynamic: false, hooks: s.hooks, data: 0, heldBy: -1, updated: 0 })
        }
        // Past the limit, the least recently used dynamic keys go with this snapshot.
        while (o.limit !== undefined && dynamicOrder.length > o.limit) drop(victim(), v)
        expect(inits).toEqual(expectedInits)
        expect(updates).toEqual(expectedUpdates)
        // A size-changed key was deleted and set again: put the model's order back in the answer's.
        const order = answer.map((a) => a.key)
        const reordered = new Map(order.map((k) => [k, live.get(k)!]))
        live.clear()
        for (const [k, e] of reordered) live.set(k, e)
        break
      }
      case "Dynamic": {
        const a = allocator.assignDynamic(specOf(o.key, o.size, o.hooks, version), o.limit)
        const found = live.get(o.key)
        if (found !== undefined) {
          expect(a.refs).toEqual(found.refs)
          expect(a.evicted).toBeUndefined()
          expect(inits).toEqual([])
        } else {
          const limit = o.limit ?? Infinity
          if (dynamicOrder.length >= limit) {
            const ticket = ++tickets
            const victims: Array<string> = []
            while (dynamicOrder.length >= limit) {
              const key = victim()
              victims.push(key)
              drop(key, 0, ticket)
            }
            expect(a.evicted).toEqual({ ticket, keys: victims })
          } else {
            expect(a.evicted).toBeUndefined()
          }
          allocated(o.key, a.refs, o.size)
          expect(inits).toEqual(o.hooks ? [o.key] : [])
          live.set(o.key, { refs: a.refs, dynamic: true, hooks: o.hooks, data: 0, heldBy: -1, updated: 0 })
          dynamicOrder.push(o.key)
        }
        expect(allocator.ticket()).toBe(tickets)
        expect(updates).toEqual([])
        break
      }
      case "Ack": {
        const v = Math.max(0, version - o.back)
        allocator.acknowledged(v)
        ackedVersion = Math.max(ackedVersion, v)
        release()
        break
      }
      case "EvictAck": {
        const t = Math.max(0, tickets - o.back)
        allocator.evictionsAcknowledged(t)
        ackedTicket = Math.max(ackedTicket, t)
        release()
        break
      }
      case "Write": {
        // What workers leave in a key's slots: state words and holdings.
        const keys = [...live.keys()]
        if (keys.length === 0) break
        const key = keys[o.pick % keys.length]!
        const entry = live.get(key)!
        for (const ref of entry.refs) {
          const s = owner(ref)
          s.i32[s.at + DATA_WORD] = o.value
          s.i32[s.at + LAST_WORD] = o.value
          if (entry.heldBy >= 0) holdingsOf(allocator, entry.heldBy, ref.slot)[HOLD_IN_FLIGHT] = 0
          holdingsOf(allocator, o.worker, ref.slot)[HOLD_IN_FLIGHT] = o.value
        }
        entry.data = o.value
        entry.heldBy = o.worker
        break
      }
    }
    verify(answer)
  }
}

describe("SlotAllocator against a sequential model", () => {
  it("keeps, zeroes, quarantines, reuses and grows as the model says", () => {
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), check), { numRuns: 200 })
  })

  it("needs a second page for the 257th slot, and the slots of both pages are distinct", () => {
    const allocator = makeSlotAllocator(2)
    const first = allocator.assign([{ key: "a", size: SLOTS_PER_PAGE }], 1, () => false)
    expect(allocator.pages()).toHaveLength(1)
    const second = allocator.assign(
      [
        { key: "a", size: SLOTS_PER_PAGE },
        { key: "b", size: 1 }
      ],
      2,
      () => false
    )
    expect(allocator.pages()).toHaveLength(2)
    expect(second.find((a) => a.key === "a")!.refs).toEqual(first[0]!.refs)
    expect(second.find((a) => a.key === "b")!.refs).toEqual([{ slot: SLOTS_PER_PAGE, gen: 1 }])
    expect(allocator.pages()[1]!.holdings).toHaveLength(2)
  })

  it("does not reuse a dropped key's slots before its version is acknowledged, then reuses them oldest first", () => {
    const allocator = makeSlotAllocator(1)
    const [a] = allocator.assign([{ key: "a", size: 2 }], 1, () => false)
    allocator.assign([], 2, () => false) // a dropped at 2
    allocator.acknowledged(1)
    const [b] = allocator.assign([{ key: "b", size: 2 }], 3, () => false)
    expect(b!.refs.map((r) => r.slot)).toEqual([2, 3])
    allocator.acknowledged(2)
    const c = allocator.assign(
      [
        { key: "b", size: 2 },
        { key: "c", size: 3 }
      ],
      4,
      () => false
    )
    expect(c.find((x) => x.key === "c")!.refs).toEqual([
      { slot: a!.refs[0]!.slot, gen: 2 },
      { slot: a!.refs[1]!.slot, gen: 2 },
      { slot: 4, gen: 1 }
    ])
  })
})

// ---- repair ------------------------------------------------------------------------------------

const CONFIG = `providers:
  - { name: a, kind: mock, breaker: { failure_rate: 0.5, min_requests: 1, window: 10s, cooldown: 1s } }
  - { name: b, kind: mock }
models:
  - name: m
    strategy: round_robin
    targets:
      - { provider: a, max_concurrency: 6, queue: { size: 8, timeout: 5s } }
      - { provider: b }
`

const config = (): ResolvedConfig => {
  const r = parseConfig(CONFIG, {}, "repair.yaml")
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

describe("SlotAllocator.repair", () => {
  it("takes back the dead worker's locks and recomputes the counters from the live workers' holdings", () => {
    const cfg = config()
    const model = cfg.models.get("m")!
    const providerA = cfg.providers.get("a")!
    const settings = providerA.breaker
    const max = model.targets[0]!.maxConcurrency!

    fc.assert(
      fc.property(
        fc.record({
          dead: fc.integer({ min: 0, max: 2 }),
          liveOffset: fc.integer({ min: 1, max: 2 }),
          inFlight: fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
          permits: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
          probe: fc.constantFrom("dead" as const, "live" as const, "none" as const),
          locks: fc.subarray(["target", "member", "group", "other-target"] as const)
        }),
        ({
          dead,
          liveOffset,
          inFlight: [deadInFlight, liveInFlight],
          permits: [deadPermits, livePermits],
          probe,
          locks
        }) => {
          const live = (dead + liveOffset) % 3
          const allocator = makeSlotAllocator(3)
          const layout = new Map(allocator.assign(routingSlotSpecs(cfg), 1, () => false).map((a) => [a.key, a.refs]))
          const targetRef = layout.get(targetKey(providerA, "m"))![0]!
          const memberRef = layout.get(memberKey(model, 0))![0]!
          const groupRef = [...layout].find(([k]) => k.startsWith("group:"))![1][0]!
          const otherRef = layout.get(targetKey(cfg.providers.get("b")!, "m"))![0]!
          const as = (w: number) => slotsAs(allocator, w)

          // Both workers' requests in flight, permits, and (maybe) the half-open probe.
          const health = (w: number) => makeTargetHealth("t", providerA, "m", () => undefined, as(w)(targetRef))
          const limiter = (w: number) => makeConcurrencyLimiter(max, 8, 5000, as(w)(memberRef))
          const breaker = (w: number) => CircuitBreaker.make("a/m", settings, undefined, as(w)(targetRef))
          for (let i = 0; i < deadInFlight; i++) health(dead).begin()
          for (let i = 0; i < liveInFlight; i++) health(live).begin()
          for (let i = 0; i < deadPermits; i++) expect(Effect.runSync(limiter(dead).acquire)).toBe(true)
          for (let i = 0; i < livePermits; i++) expect(Effect.runSync(limiter(live).acquire)).toBe(true)
          if (probe !== "none") {
            breaker(live).onFailure(0) // min_requests 1: open
            expect(breaker(probe === "dead" ? dead : live).admit(settings.cooldownMs)).toBe("probe")
          }
          // The dead worker also died inside critical sections.
          const refs = { target: targetRef, member: memberRef, group: groupRef, "other-target": otherRef }
          for (const which of locks) {
            const s = as(dead)(refs[which])
            lock(s.i32, s.at + LOCK, workerHolder(dead))
          }

          allocator.repair(dead)

          for (const ref of [targetRef, memberRef, groupRef, otherRef]) {
            const s = as(live)(ref)
            expect(holderOf(s.i32, s.at + LOCK)).toBe(0)
            expect([...holdingsOf(allocator, dead, ref.slot)]).toEqual([0, 0, 0, 0])
          }
          expect(health(live).inFlight()).toBe(liveInFlight)
          expect(holdingsOf(allocator, live, targetRef.slot)[HOLD_IN_FLIGHT]).toBe(liveInFlight)
          expect(limiter(live).active()).toBe(livePermits)
          expect(limiter(live).waiting()).toBe(0)
          expect(holdingsOf(allocator, live, memberRef.slot)[HOLD_PERMITS]).toBe(livePermits)
          expect(holdingsOf(allocator, live, memberRef.slot)[HOLD_WAITING]).toBe(0)
          // The permits the dead worker held can be taken again, up to the cap and no further.
          const l = limiter(live)
          for (let i = livePermits; i < max; i++) expect(Effect.runSync(l.acquire)).toBe(true)
          expect(l.active()).toBe(max)
          expect(l.hasCapacity()).toBe(false)
          // A probe only the dead worker held is free again; one a live worker holds stays taken.
          if (probe !== "none") {
            expect(holdingsOf(allocator, live, targetRef.slot)[HOLD_PROBE]).toBe(probe === "live" ? 1 : 0)
            expect(breaker(live).admit(settings.cooldownMs)).toBe(probe === "dead" ? "probe" : "refuse")
          }
        }
      ),
      { numRuns: 100 }
    )
  })

  it("frees a lock the dead worker held on a slot that is no key's any more (quarantined)", () => {
    const allocator = makeSlotAllocator(2)
    const [a] = allocator.assign([{ key: "a", size: 1 }], 1, () => false)
    allocator.assign([], 2, () => false)
    const s = slotsAs(allocator, 1)(a!.refs[0]!)
    lock(s.i32, s.at + LOCK, workerHolder(1))
    holdingsOf(allocator, 1, a!.refs[0]!.slot)[HOLD_IN_FLIGHT] = 3
    allocator.repair(1)
    expect(holderOf(s.i32, s.at + LOCK)).toBe(0)
    expect(holdingsOf(allocator, 1, a!.refs[0]!.slot)[HOLD_IN_FLIGHT]).toBe(0)
  })
})
