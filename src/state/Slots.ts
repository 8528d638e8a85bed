/**
 * The shared state's memory: fixed-size slots in pages of SharedArrayBuffer, seen by every worker
 * thread and the owner. A slot (256 bytes) holds the state of one thing that must be one per
 * gateway: a target's breaker, in-flight count and latency; a model's balancing positions; a
 * target's concurrency permits and queue; a key's counters. Its first two Int32 words are its lock
 * (SharedLock.ts) and its generation: the owner bumps the generation whenever it gives the slot to
 * something else, so a handle taken for the slot's previous use (a request still running on an
 * older config) sees the mismatch under the lock and leaves the new state alone.
 *
 * Beside the slots, every worker has a holdings page of its own per slot page: how many requests,
 * permits, probes and queue places it holds in each slot. Counters such as a target's in-flight
 * count equal the sum of every worker's holdings outside a critical section, so when a worker dies
 * the owner recomputes them from the live workers' holdings (nothing it held stays taken).
 *
 * Pages are never moved or freed; a new page is added (and sent to every thread) when the slots
 * run out, so a slot's address is stable for the life of the process.
 */
import { lock, unlock } from "./SharedLock.ts"

/** Int32 words per slot (256 bytes; 32 Float64 words). */
export const SLOT_INTS = 64
/** Float64 words per slot. */
export const SLOT_FLOATS = SLOT_INTS / 2
export const SLOTS_PER_PAGE = 256
/** Int32 words of holdings per slot per worker. */
export const HOLD_INTS = 4

/** Word offsets within every slot. */
export const LOCK = 0
export const GEN = 1
/** The first Float64 word free for a slot's own use (words 0–1 as Int32 are the lock and generation). */
export const FIRST_FLOAT = 1

/** Holdings offsets: what one worker holds in one slot. */
export const HOLD_IN_FLIGHT = 0
export const HOLD_PERMITS = 1
export const HOLD_PROBE = 2
export const HOLD_WAITING = 3

/** One page: its slots, and every worker's holdings for them (index = worker). */
export interface PageBuffers {
  readonly slots: SharedArrayBuffer
  readonly holdings: ReadonlyArray<SharedArrayBuffer>
}

export const newPage = (workers: number): PageBuffers => ({
  slots: new SharedArrayBuffer(SLOTS_PER_PAGE * SLOT_INTS * 4),
  holdings: Array.from({ length: workers }, () => new SharedArrayBuffer(SLOTS_PER_PAGE * HOLD_INTS * 4))
})

/** A slot as the owner gave it out: its number across pages and the generation it was given at. */
export interface SlotRef {
  readonly slot: number
  readonly gen: number
}

/** A thread's handle on one slot. */
export interface Slot {
  readonly i32: Int32Array
  readonly f64: Float64Array
  /** Int32 index of the slot's first word in `i32`. */
  readonly at: number
  /** Float64 index of the slot's first word in `f64`. */
  readonly fat: number
  /** The generation this handle was made for. */
  readonly gen: number
  /** This thread's holdings page and the slot's first holdings word in it. */
  readonly hold: Int32Array
  readonly hat: number
  /** The lock holder id of this thread. */
  readonly holder: number
}

/** Whether the slot still serves what this handle was made for (read without the lock). */
export const isCurrent = (s: Slot): boolean => Atomics.load(s.i32, s.at + GEN) === s.gen

/**
 * Runs `f` with the slot locked when it still serves this handle's generation; otherwise runs
 * `stale` (without the lock). `f` must be short and synchronous.
 */
export const withSlot = <A>(s: Slot, f: (s: Slot) => A, stale: () => A): A => {
  lock(s.i32, s.at + LOCK, s.holder)
  try {
    if (s.i32[s.at + GEN] !== s.gen) return stale()
    return f(s)
  } finally {
    unlock(s.i32, s.at + LOCK)
  }
}

/** Locks the slot unconditionally (the owner, which also changes generations). */
export const lockSlot = (s: Slot): void => lock(s.i32, s.at + LOCK, s.holder)
export const unlockSlot = (s: Slot): void => unlock(s.i32, s.at + LOCK)

/**
 * The slots as one thread sees them: the pages it has been sent (with its own holdings of each)
 * and handles on slots by reference.
 */
export interface SlotSpace {
  readonly holder: number
  /** Adds a page this thread was sent (idempotent). */
  readonly addPage: (index: number, slots: SharedArrayBuffer, holdings: SharedArrayBuffer) => void
  readonly hasPage: (index: number) => boolean
  /** A handle on a slot; its page must have been added. */
  readonly slot: (ref: SlotRef) => Slot
}

interface PageView {
  readonly i32: Int32Array
  readonly f64: Float64Array
  readonly hold: Int32Array
}

export const makeSlotSpace = (holder: number): SlotSpace => {
  const pages: Array<PageView | undefined> = []
  return {
    holder,
    addPage: (index, slots, holdings) => {
      if (pages[index] !== undefined) return
      pages[index] = { i32: new Int32Array(slots), f64: new Float64Array(slots), hold: new Int32Array(holdings) }
    },
    hasPage: (index) => pages[index] !== undefined,
    slot: (ref) => {
      const page = pages[Math.floor(ref.slot / SLOTS_PER_PAGE)]
      if (page === undefined) throw new Error(`slot ${ref.slot}: its page was never received`)
      const index = ref.slot % SLOTS_PER_PAGE
      return {
        i32: page.i32,
        f64: page.f64,
        at: index * SLOT_INTS,
        fat: index * SLOT_FLOATS,
        gen: ref.gen,
        hold: page.hold,
        hat: index * HOLD_INTS,
        holder
      }
    }
  }
}

/**
 * A slot of its own, shared with nobody: the same code paths over memory no other thread sees
 * (unit tests, and state that exists for one request only).
 */
export const localSlot = (): Slot => {
  const buffer = new SharedArrayBuffer(SLOT_INTS * 4)
  return {
    i32: new Int32Array(buffer),
    f64: new Float64Array(buffer),
    at: 0,
    fat: 0,
    gen: 0,
    hold: new Int32Array(HOLD_INTS),
    hat: 0,
    holder: 1
  }
}
