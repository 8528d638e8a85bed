/**
 * Circuit breaker for one target (provider + upstream model). Closed → open when the failure rate
 * over a sliding time window reaches the threshold with at least `minRequests` samples; an open
 * target gets no traffic; once the cooldown has elapsed it is half-open and lets exactly one probe
 * through; the probe's success closes it (fresh window), its failure reopens it (fresh cooldown).
 *
 * The state lives in a shared slot (state/Slots.ts) so that every worker thread sees one breaker per
 * target: one failure window, one cooldown, exactly one half-open probe across all of them (the
 * probe is taken under the slot's lock, and the worker holding it is recorded in its holdings so
 * the probe is freed if that worker dies). Only the worker that took the probe decides it. A
 * closed breaker is checked without the lock (one atomic read); recording an outcome takes the
 * lock for a few writes and allocates nothing.
 *
 * The caller passes `now` in ms (read from Effect's `Clock`, so tests drive it with `TestClock`).
 * Transitions are reported through the `onTransition` callback (for events and metrics), after the
 * lock is released, so the callback may read `snapshot` safely.
 */
import type { BreakerSettings } from "../domain/BreakerSettings.ts"
import { FIRST_FLOAT, HOLD_PROBE, isCurrent, localSlot, type Slot, withSlot } from "../state/Slots.ts"
import type { Holdings } from "../state/SlotAllocator.ts"

/**
 * The window is this many time buckets of `windowMs / WINDOW_BUCKETS` each. A sample therefore
 * counts for between `windowMs - windowMs / WINDOW_BUCKETS` and `windowMs` after it was recorded.
 */
export const WINDOW_BUCKETS = 10

export type BreakerState = "closed" | "open" | "half_open"

/** A request let through while closed, as the half-open probe, or refused. */
export type Admission = "pass" | "probe" | "refuse"

export interface BreakerTransition {
  readonly target: string
  readonly from: BreakerState
  readonly to: BreakerState
  /** When the state changed, ms. For open → half_open this is the moment the cooldown elapsed. */
  readonly at: number
  /** The window's failure rate right after the transition (the tripping rate when it opens). */
  readonly failureRate: number
}

export interface BreakerSnapshot {
  readonly state: BreakerState
  /** Failures / samples over the window; 0 without samples. */
  readonly failureRate: number
  /** Outcomes in the window. */
  readonly samples: number
  /** When the breaker last opened; undefined while closed. */
  readonly openedAt: number | undefined
}

export interface CircuitBreaker {
  /** Whether a request may be sent now, without reserving anything (used to filter candidates). */
  readonly isAvailable: (now: number) => boolean
  /**
   * Reserves the right to send one request: closed → true; open and cooldown elapsed → becomes
   * half_open and lets exactly ONE probe through (true); half_open with the probe outstanding →
   * false; open within cooldown → false.
   */
  readonly tryAcquire: (now: number) => boolean
  /** As `tryAcquire`, saying whether the request is the half-open probe (whose verdict decides the breaker). */
  readonly admit: (now: number) => Admission
  readonly onSuccess: (now: number) => void
  readonly onFailure: (now: number) => void
  /** A request that was acquired but ended without a verdict (client cancelled): frees a half-open probe slot without counting. */
  readonly onCancel: (now: number) => void
  readonly snapshot: (now: number) => BreakerSnapshot
  /** The state now (a closed breaker is read without the lock). */
  readonly state: (now: number) => BreakerState
}

// ---- the breaker's words in a target slot (TargetHealth.ts owns the rest of the slot) ----------
/** Int32 words: the state (0 closed, 1 open, 2 half-open) and whether the half-open probe is out. */
const STATE = 2
const PROBE = 3
/** Float64 words: when it last opened, the newest bucket's number, the window's totals, its buckets. */
const OPENED_AT = FIRST_FLOAT + 3
const HEAD = OPENED_AT + 1
const TOTAL_SUCCESSES = HEAD + 1
const TOTAL_FAILURES = TOTAL_SUCCESSES + 1
const SUCCESSES = TOTAL_FAILURES + 1
const FAILURES = SUCCESSES + WINDOW_BUCKETS
/** The last Float64 word the breaker uses (a slot has 32). */
export const BREAKER_LAST_FLOAT = FAILURES + WINDOW_BUCKETS - 1

const CLOSED = 0
const OPEN = 1
const HALF_OPEN = 2
const STATES: ReadonlyArray<BreakerState> = ["closed", "open", "half_open"]

const slotOf = (abs: number): number => ((abs % WINDOW_BUCKETS) + WINDOW_BUCKETS) % WINDOW_BUCKETS

/**
 * After a worker died: frees a probe only it held, and recomputes the window's totals from its
 * buckets (the worker may have died between updating one and the other). Runs with the slot locked.
 */
export const repairBreaker = (s: Slot, held: Holdings): void => {
  if (held.probe === 0) Atomics.store(s.i32, s.at + PROBE, 0)
  let successes = 0
  let failures = 0
  for (let i = 0; i < WINDOW_BUCKETS; i++) {
    successes += s.f64[s.fat + SUCCESSES + i]!
    failures += s.f64[s.fat + FAILURES + i]!
  }
  s.f64[s.fat + TOTAL_SUCCESSES] = successes
  s.f64[s.fat + TOTAL_FAILURES] = failures
}

/**
 * A breaker over `slot` (a fresh slot of its own by default). A zeroed slot is a closed breaker
 * with an empty window.
 */
export const make = (
  target: string,
  settings: BreakerSettings,
  onTransition?: (t: BreakerTransition) => void,
  slot: Slot = localSlot()
): CircuitBreaker => makeWithVerdict(target, settings, onTransition, slot).breaker

/** What a slot's other user (TargetHealth) needs to give a verdict within its own critical section. */
export interface BreakerInternals {
  readonly breaker: CircuitBreaker
  /**
   * Gives the verdict of an answer at `now`, with the slot already locked: it counts when it is
   * the probe's (`probe`), or while the breaker is closed (a late answer to a request sent before
   * the breaker opened decides nothing). Transitions are reported by `report`, after unlocking.
   */
  readonly verdictLocked: (now: number, failed: boolean, probe: boolean) => void
  readonly report: () => void
}

export const makeWithVerdict = (
  target: string,
  settings: BreakerSettings,
  onTransition: ((t: BreakerTransition) => void) | undefined,
  slot: Slot
): BreakerInternals => {
  const { cooldownMs, failureRate: threshold } = settings
  const minSamples = Math.max(1, settings.minRequests)
  const bucketMs = Math.max(1, settings.windowMs) / WINDOW_BUCKETS
  const { i32, f64, hold } = slot
  const stateAt = slot.at + STATE
  const probeAt = slot.at + PROBE
  const heldProbeAt = slot.hat + HOLD_PROBE
  const f = slot.fat

  /** Transitions made under the lock, reported once it is released. */
  let pending: Array<BreakerTransition> = []
  const report = (): void => {
    if (pending.length === 0) return
    const out = pending
    pending = []
    if (onTransition !== undefined) for (const t of out) onTransition(t)
  }

  const clearWindow = (): void => {
    f64.fill(0, f + SUCCESSES, f + FAILURES + WINDOW_BUCKETS)
    f64[f + TOTAL_SUCCESSES] = 0
    f64[f + TOTAL_FAILURES] = 0
  }

  /** Slides the window to `now`, dropping buckets that fell out. A clock going backwards stays in the newest bucket. */
  const advance = (now: number): number => {
    const abs = Math.floor(now / bucketMs)
    const head = f64[f + HEAD]!
    if (abs <= head) return slotOf(head)
    if (abs - head >= WINDOW_BUCKETS) {
      clearWindow()
    } else {
      for (let k = head + 1; k <= abs; k++) {
        const b = slotOf(k)
        f64[f + TOTAL_SUCCESSES] = f64[f + TOTAL_SUCCESSES]! - f64[f + SUCCESSES + b]!
        f64[f + TOTAL_FAILURES] = f64[f + TOTAL_FAILURES]! - f64[f + FAILURES + b]!
        f64[f + SUCCESSES + b] = 0
        f64[f + FAILURES + b] = 0
      }
    }
    f64[f + HEAD] = abs
    return slotOf(abs)
  }

  const currentRate = (): number => {
    const samples = f64[f + TOTAL_SUCCESSES]! + f64[f + TOTAL_FAILURES]!
    return samples === 0 ? 0 : f64[f + TOTAL_FAILURES]! / samples
  }

  const transition = (to: number, at: number): void => {
    const from = i32[stateAt]!
    Atomics.store(i32, stateAt, to)
    pending.push({ target, from: STATES[from]!, to: STATES[to]!, at, failureRate: currentRate() })
  }

  const setProbe = (out: boolean): void => {
    Atomics.store(i32, probeAt, out ? 1 : 0)
    hold[heldProbeAt] = out ? 1 : 0
  }

  /** open → half_open once the cooldown has elapsed (time-driven, so any observation may trigger it). */
  const refresh = (now: number): void => {
    if (i32[stateAt] === OPEN && now - f64[f + OPENED_AT]! >= cooldownMs) {
      advance(now)
      Atomics.store(i32, probeAt, 0)
      transition(HALF_OPEN, f64[f + OPENED_AT]! + cooldownMs)
    }
  }

  const open = (now: number): void => {
    f64[f + OPENED_AT] = now
    transition(OPEN, now)
  }

  const record = (now: number, failed: boolean): void => {
    const b = advance(now)
    if (failed) {
      f64[f + FAILURES + b] = f64[f + FAILURES + b]! + 1
      f64[f + TOTAL_FAILURES] = f64[f + TOTAL_FAILURES]! + 1
    } else {
      f64[f + SUCCESSES + b] = f64[f + SUCCESSES + b]! + 1
      f64[f + TOTAL_SUCCESSES] = f64[f + TOTAL_SUCCESSES]! + 1
    }
  }

  const onOutcome = (now: number, failed: boolean): void => {
    refresh(now)
    switch (i32[stateAt]) {
      case CLOSED: {
        record(now, failed)
        const samples = f64[f + TOTAL_SUCCESSES]! + f64[f + TOTAL_FAILURES]!
        if (samples >= minSamples && f64[f + TOTAL_FAILURES]! / samples >= threshold) open(now)
        return
      }
      case HALF_OPEN: {
        // Only the probe's verdict counts, and only the worker holding the probe gives it; other
        // results are late answers to requests sent before the breaker opened.
        if (hold[heldProbeAt] !== 1) return
        setProbe(false)
        if (failed) {
          record(now, true)
          open(now)
        } else {
          clearWindow()
          transition(CLOSED, now)
        }
        return
      }
      default:
        // Open: late answers to requests sent before the breaker opened neither close it nor count.
        return
    }
  }

  const outcome = (now: number, failed: boolean): void => {
    withSlot(
      slot,
      () => onOutcome(now, failed),
      () => undefined
    )
    report()
  }

  const locked = <A>(now: number, f: () => A, stale: A): A => {
    const result = withSlot(
      slot,
      () => {
        refresh(now)
        return f()
      },
      () => stale
    )
    report()
    return result
  }

  const acquire = (): Admission => {
    const state = i32[stateAt]
    if (state === CLOSED) return "pass"
    if (state === HALF_OPEN && i32[probeAt] === 0) {
      setProbe(true)
      return "probe"
    }
    return "refuse"
  }
  const admit = (now: number): Admission =>
    Atomics.load(i32, stateAt) === CLOSED && isCurrent(slot) ? "pass" : locked(now, acquire, "pass")
  const available = (): boolean => {
    const state = i32[stateAt]
    return state === CLOSED || (state === HALF_OPEN && i32[probeAt] === 0)
  }
  const stateName = (): BreakerState => STATES[i32[stateAt]!]!

  const verdictLocked = (now: number, failed: boolean, probe: boolean): void => {
    refresh(now)
    if (probe || i32[stateAt] === CLOSED) onOutcome(now, failed)
  }

  const breaker: CircuitBreaker = {
    isAvailable: (now) => {
      if (!isCurrent(slot)) return true
      const state = Atomics.load(i32, stateAt)
      if (state === CLOSED) return true
      if (state === HALF_OPEN) return Atomics.load(i32, probeAt) === 0
      return now - f64[f + OPENED_AT]! >= cooldownMs ? locked(now, available, true) : false
    },
    tryAcquire: (now) => admit(now) !== "refuse",
    admit,
    onSuccess: (now) => outcome(now, false),
    onFailure: (now) => outcome(now, true),
    onCancel: (now) =>
      locked(
        now,
        () => {
          if (i32[stateAt] === HALF_OPEN && hold[heldProbeAt] === 1) setProbe(false)
        },
        undefined
      ),
    snapshot: (now) =>
      locked(
        now,
        (): BreakerSnapshot => {
          advance(now)
          const state = stateName()
          return {
            state,
            failureRate: currentRate(),
            samples: f64[f + TOTAL_SUCCESSES]! + f64[f + TOTAL_FAILURES]!,
            openedAt: state === "closed" ? undefined : f64[f + OPENED_AT]
          }
        },
        { state: "closed", failureRate: 0, samples: 0, openedAt: undefined }
      ),
    state: (now) => (Atomics.load(i32, stateAt) === CLOSED ? "closed" : locked(now, stateName, "closed"))
  }
  return { breaker, verdictLocked, report }
}
