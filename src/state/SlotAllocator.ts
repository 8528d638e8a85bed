/**
 * The owner's side of the shared slots: which key (a target, a model's balancing state, a target's
 * permits, a virtual key's counters) lives in which slots, laid out anew for every config snapshot.
 * A key that stays keeps its slots and their state across reloads; a new key gets fresh slots (the
 * generation bumped, the memory and every worker's holdings zeroed, then the spec's `init`); a
 * dropped key's slots are quarantined until every worker has acknowledged the snapshot that
 * dropped them, then reused oldest first. Keys can also be added between snapshots (`assignDynamic`:
 * a pattern model's target, known only once a request names it). Those are keyed by what clients
 * send, so at most a given number live at once: one more evicts the least recently used (as its
 * spec's `lastUsed` reads it from its slots), whose slots are quarantined until every worker has
 * acknowledged the eviction (its ticket), as a snapshot's dropped slots are until its version.
 *
 * When a worker dies, `repair` takes back every lock it held and lets each slot's spec recompute its
 * counters from the live workers' holdings, so nothing the dead worker held stays taken.
 */
import { holderOf, lockOrTakeOver, OWNER_HOLDER, workerHolder } from "./SharedLock.ts"
import {
  GEN,
  HOLD_IN_FLIGHT,
  HOLD_INTS,
  HOLD_PERMITS,
  HOLD_PROBE,
  HOLD_WAITING,
  LOCK,
  makeSlotSpace,
  newPage,
  type PageBuffers,
  SLOT_INTS,
  type Slot,
  type SlotRef,
  SLOTS_PER_PAGE,
  unlockSlot
} from "./Slots.ts"

/** What the live workers hold in one slot, summed. */
export interface Holdings {
  readonly inFlight: number
  readonly permits: number
  readonly probe: number
  readonly waiting: number
}

/** How a key's slots are made, kept and repaired. */
export interface SlotSpec {
  readonly key: string
  /** Slots the key needs. */
  readonly size: number
  /** Fills fresh (zeroed) slots; every slot of the key is locked. */
  readonly init?: (slots: ReadonlyArray<Slot>) => void
  /** Applies settings that may change while the key keeps its slots (a cap, a queue size); locked. */
  readonly update?: (slots: ReadonlyArray<Slot>) => void
  /** Recomputes a slot's counters from what the live workers hold, after a worker died; locked. */
  readonly repair?: (slot: Slot, held: Holdings) => void
  /** When the key was last used (ms), read without the lock: the least recently used dynamic key is evicted first. */
  readonly lastUsed?: (slots: ReadonlyArray<Slot>) => number
}

/** A key and its slots, as sent to the workers. */
export interface Assignment {
  readonly key: string
  readonly refs: ReadonlyArray<SlotRef>
}

/** Dynamic keys evicted to make room, under the ticket every worker must acknowledge before their slots are reused. */
export interface Eviction {
  readonly ticket: number
  readonly keys: ReadonlyArray<string>
}

interface Entry {
  readonly refs: ReadonlyArray<SlotRef>
  spec: SlotSpec
  /** Added between snapshots and not (or no longer) in a snapshot's specs. */
  dynamic: boolean
}

export interface SlotAllocator {
  readonly workers: number
  /** Every page so far, with every worker's holdings. */
  readonly pages: () => ReadonlyArray<PageBuffers>
  /**
   * Makes `specs` the layout of snapshot `version`: kept keys keep their slots (and get `update`),
   * new ones get fresh slots, others are quarantined, except dynamic keys for which `keepDynamic`
   * says yes (at most `dynamicLimit` of them: the most recently used). Answers every assignment
   * (dynamic ones included).
   */
  readonly assign: (
    specs: ReadonlyArray<SlotSpec>,
    version: number,
    keepDynamic: (key: string) => boolean,
    dynamicLimit?: number
  ) => ReadonlyArray<Assignment>
  /**
   * The slots of a key added between snapshots; the same ones when it exists already. A new key
   * beyond `limit` dynamic keys evicts the least recently used first (`evicted`).
   */
  readonly assignDynamic: (spec: SlotSpec, limit?: number) => Assignment & { readonly evicted: Eviction | undefined }
  /** Every worker acknowledged `version`: slots dropped up to it may be reused. */
  readonly acknowledged: (version: number) => void
  /** Every worker acknowledged the evictions up to `ticket`: their slots may be reused. */
  readonly evictionsAcknowledged: (ticket: number) => void
  /** The newest eviction's ticket (0: none yet); a worker that starts now knows of every eviction up to it. */
  readonly ticket: () => number
  /** Every key and its slots now (a snapshot's and the dynamic ones added since). */
  readonly layout: () => ReadonlyArray<Assignment>
  /** Worker `index` died: its locks are taken back, counters recomputed, its holdings cleared. */
  readonly repair: (index: number) => void
  /** Slots in use and free, for tests and /health. */
  readonly stats: () => {
    readonly used: number
    readonly free: number
    readonly quarantined: number
    readonly capacity: number
  }
}

export const makeSlotAllocator = (workers: number): SlotAllocator => {
  const pages: Array<PageBuffers> = []
  const space = makeSlotSpace(OWNER_HOLDER)
  const holdings: Array<Array<Int32Array>> = []
  const keys = new Map<string, Entry>()
  /** The dynamic keys among `keys`, oldest first. */
  const dynamic = new Set<string>()
  const free: Array<number> = []
  let freeHead = 0
  /**
   * Dropped slots and what must be acknowledged before they are reused: the snapshot `version`
   * that dropped them (0 for an eviction) and the eviction `ticket` (0 for a snapshot's drop).
   */
  let quarantine: Array<{ readonly version: number; readonly ticket: number; readonly slots: ReadonlyArray<number> }> =
    []
  let ackedVersion = 0
  let ackedTicket = 0
  let tickets = 0
  let next = 0

  const addPage = () => {
    const page = newPage(workers)
    const index = pages.length
    pages.push(page)
    // The owner holds nothing; its handles' holdings page is a scratch page of its own.
    space.addPage(index, page.slots, new SharedArrayBuffer(SLOTS_PER_PAGE * HOLD_INTS * 4))
    holdings.push(page.holdings.map((h) => new Int32Array(h)))
  }

  const handle = (slot: number): Slot => {
    const s = space.slot({ slot, gen: 0 })
    return { ...s, gen: Atomics.load(s.i32, s.at + GEN) }
  }

  const holdingsOf = (slot: number): ReadonlyArray<Int32Array> => holdings[Math.floor(slot / SLOTS_PER_PAGE)] ?? []
  const holdAt = (slot: number): number => (slot % SLOTS_PER_PAGE) * HOLD_INTS

  const take = (): number => {
    if (freeHead < free.length) {
      const slot = free[freeHead++]!
      if (freeHead > 1024 && freeHead * 2 > free.length) {
        free.splice(0, freeHead)
        freeHead = 0
      }
      return slot
    }
    const slot = next++
    if (Math.floor(slot / SLOTS_PER_PAGE) >= pages.length) addPage()
    return slot
  }

  /** Fresh slots: next generation, zeroed memory and holdings, then `init`. */
  const allocate = (spec: SlotSpec): ReadonlyArray<SlotRef> => {
    const slots = Array.from({ length: spec.size }, take)
    const handles = slots.map((slot) => {
      const s = handle(slot)
      lockOrTakeOver(s.i32, s.at + LOCK, OWNER_HOLDER, -1)
      s.i32.fill(0, s.at + GEN + 1, s.at + SLOT_INTS)
      const gen = (s.i32[s.at + GEN]! + 1) | 0
      s.i32[s.at + GEN] = gen
      for (const h of holdingsOf(slot)) h.fill(0, holdAt(slot), holdAt(slot) + HOLD_INTS)
      return { ...s, gen }
    })
    spec.init?.(handles)
    for (const s of handles) unlockSlot(s)
    return handles.map((s, i) => ({ slot: slots[i]!, gen: s.gen }))
  }

  const locked = (refs: ReadonlyArray<SlotRef>, f: (slots: ReadonlyArray<Slot>) => void) => {
    const handles = refs.map((ref) => space.slot(ref))
    for (const s of handles) lockOrTakeOver(s.i32, s.at + LOCK, OWNER_HOLDER, -1)
    try {
      f(handles)
    } finally {
      for (const s of handles) unlockSlot(s)
    }
  }

  const assignments = (): ReadonlyArray<Assignment> => [...keys].map(([key, entry]) => ({ key, refs: entry.refs }))

  const release = () => {
    const waiting: typeof quarantine = []
    for (const q of quarantine) {
      if (q.version <= ackedVersion && q.ticket <= ackedTicket) free.push(...q.slots)
      else waiting.push(q)
    }
    quarantine = waiting
  }

  const drop = (key: string, entry: Entry, version: number, ticket: number) => {
    keys.delete(key)
    dynamic.delete(key)
    quarantine.push({ version, ticket, slots: entry.refs.map((r) => r.slot) })
  }

  /** The least recently used dynamic key (the oldest of equals): one read per dynamic key. */
  const leastRecentlyUsed = (): string | undefined => {
    let victim: string | undefined
    let oldest = Infinity
    for (const key of dynamic) {
      const entry = keys.get(key)!
      const used = entry.spec.lastUsed?.(entry.refs.map((ref) => space.slot(ref))) ?? 0
      if (used < oldest || victim === undefined) {
        victim = key
        oldest = used
      }
    }
    return victim
  }

  return {
    workers,
    pages: () => pages,
    assign: (specs, version, keepDynamic, dynamicLimit = Infinity) => {
      const wanted = new Set(specs.map((s) => s.key))
      for (const [key, entry] of keys) {
        if (wanted.has(key) || (entry.dynamic && keepDynamic(key))) continue
        drop(key, entry, version, 0)
      }
      for (const spec of specs) {
        const found = keys.get(spec.key)
        if (found !== undefined && found.refs.length === spec.size) {
          found.spec = spec
          found.dynamic = false
          dynamic.delete(spec.key)
          if (spec.update !== undefined) locked(found.refs, spec.update)
          continue
        }
        if (found !== undefined) drop(spec.key, found, version, 0)
        keys.set(spec.key, { refs: allocate(spec), spec, dynamic: false })
      }
      // A lower limit than before: the least recently used dynamic keys go with this snapshot.
      while (dynamic.size > dynamicLimit) {
        const victim = leastRecentlyUsed()!
        drop(victim, keys.get(victim)!, version, 0)
      }
      return assignments()
    },
    assignDynamic: (spec, limit = Infinity) => {
      const found = keys.get(spec.key)
      if (found !== undefined) return { key: spec.key, refs: found.refs, evicted: undefined }
      let evicted: Eviction | undefined
      if (dynamic.size >= limit) {
        const ticket = ++tickets
        const victims: Array<string> = []
        while (dynamic.size >= limit && dynamic.size > 0) {
          const victim = leastRecentlyUsed()!
          drop(victim, keys.get(victim)!, 0, ticket)
          victims.push(victim)
        }
        evicted = { ticket, keys: victims }
      }
      const refs = allocate(spec)
      keys.set(spec.key, { refs, spec, dynamic: true })
      dynamic.add(spec.key)
      return { key: spec.key, refs, evicted }
    },
    acknowledged: (version) => {
      ackedVersion = Math.max(ackedVersion, version)
      release()
    },
    evictionsAcknowledged: (ticket) => {
      ackedTicket = Math.max(ackedTicket, ticket)
      release()
    },
    ticket: () => tickets,
    layout: assignments,
    repair: (index) => {
      const dead = workerHolder(index)
      const specOf = new Map<number, SlotSpec>()
      for (const entry of keys.values()) for (const ref of entry.refs) specOf.set(ref.slot, entry.spec)
      for (let slot = 0; slot < next; slot++) {
        const s = handle(slot)
        const page = holdingsOf(slot)
        const at = holdAt(slot)
        const deadHold = page[index]
        const held =
          deadHold !== undefined &&
          (deadHold[at] !== 0 || deadHold[at + 1] !== 0 || deadHold[at + 2] !== 0 || deadHold[at + 3] !== 0)
        if (!held && holderOf(s.i32, s.at + LOCK) !== dead) continue
        lockOrTakeOver(s.i32, s.at + LOCK, OWNER_HOLDER, dead)
        try {
          deadHold?.fill(0, at, at + HOLD_INTS)
          const spec = specOf.get(slot)
          if (spec?.repair !== undefined) {
            let inFlight = 0
            let permits = 0
            let probe = 0
            let waiting = 0
            for (const h of page) {
              inFlight += h[at + HOLD_IN_FLIGHT]!
              permits += h[at + HOLD_PERMITS]!
              probe += h[at + HOLD_PROBE]!
              waiting += h[at + HOLD_WAITING]!
            }
            spec.repair({ ...s, gen: s.i32[s.at + GEN]! }, { inFlight, permits, probe, waiting })
          }
        } finally {
          unlockSlot(s)
        }
      }
    },
    stats: () => {
      const quarantined = quarantine.reduce((n, q) => n + q.slots.length, 0)
      const freeCount = free.length - freeHead
      return {
        used: next - freeCount - quarantined,
        free: freeCount,
        quarantined,
        capacity: pages.length * SLOTS_PER_PAGE
      }
    }
  }
}
