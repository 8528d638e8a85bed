/**
 * A model's balancing state (round-robin position, smooth-weighted current weights), one per
 * gateway: its cells live in shared slots (state/Slots.ts) and a strategy reads and writes them
 * only inside `locked`, under the lock of the model's first slot, so a pick is atomic across every
 * worker thread (30 requests over 3 targets split 10/10/10 whichever worker serves each). Cell 0 is
 * a strategy's position, cells 1…n its per-target values; a model with many targets spans several
 * slots.
 */
import { FIRST_FLOAT, isCurrent, localSlot, SLOT_FLOATS, type Slot, withSlot } from "../state/Slots.ts"

export interface StrategyCells {
  readonly get: (i: number) => number
  readonly set: (i: number, value: number) => void
}

export interface StrategyState {
  /** Runs `f` with the state locked (across every worker); `f` is short and synchronous. */
  readonly locked: <A, B>(f: (cells: StrategyCells, arg: B) => A, arg: B) => A
}

/** Cells one slot holds. */
export const CELLS_PER_SLOT = SLOT_FLOATS - FIRST_FLOAT

/** Slots needed for `cells` cells. */
export const slotsForCells = (cells: number): number => Math.max(1, Math.ceil(cells / CELLS_PER_SLOT))

/** The state over `slots` (the first one's lock guards them all). */
export const strategyStateOver = (slots: ReadonlyArray<Slot>): StrategyState => {
  const first = slots[0]!
  const { f64, fat } = first
  // Most models have fewer targets than a slot has cells: then the one slot is indexed directly.
  const cells: StrategyCells =
    slots.length === 1
      ? {
          get: (i) => f64[fat + FIRST_FLOAT + i] ?? 0,
          set: (i, value) => {
            f64[fat + FIRST_FLOAT + i] = value
          }
        }
      : {
          get: (i) => {
            const s = slots[Math.floor(i / CELLS_PER_SLOT)]
            return s === undefined ? 0 : s.f64[s.fat + FIRST_FLOAT + (i % CELLS_PER_SLOT)]!
          },
          set: (i, value) => {
            const s = slots[Math.floor(i / CELLS_PER_SLOT)]
            if (s !== undefined) s.f64[s.fat + FIRST_FLOAT + (i % CELLS_PER_SLOT)] = value
          }
        }
  // A handle from an older config whose slots went to another model: picks on scratch cells.
  let scratch: StrategyState | undefined
  const stale = (): StrategyState => (scratch ??= localStrategyState(slots.length * CELLS_PER_SLOT))
  return {
    locked: (f, arg) =>
      withSlot(
        first,
        () => {
          for (let k = 1; k < slots.length; k++) if (!isCurrent(slots[k]!)) return stale().locked(f, arg)
          return f(cells, arg)
        },
        () => stale().locked(f, arg)
      )
  }
}

/** State of its own, shared with nobody (tests, one-off use). */
export const localStrategyState = (cells: number): StrategyState =>
  strategyStateOver(Array.from({ length: slotsForCells(cells) }, localSlot))
