/**
 * Circuit breaker for one target (provider + upstream model). Closed → open when the failure rate
 * over a sliding time window reaches the threshold with at least `minRequests` samples; an open
 * target gets no traffic; once the cooldown has elapsed it is half-open and lets exactly one probe
 * through; the probe's success closes it (fresh window), its failure reopens it (fresh cooldown).
 *
 * A plain synchronous object on the request path: the caller passes `now` in ms (read from Effect's
 * `Clock`, so tests drive it with `TestClock`), and recording an outcome is O(1) with no allocation.
 * Transitions are reported through the `onTransition` callback (for events and metrics); the
 * callback runs after the state has changed, so it may read `snapshot` safely.
 */

export interface BreakerSettings {
  /** Failure rate in (0, 1] at which a closed breaker opens. */
  readonly failureRate: number
  /** Samples the window must hold before the failure rate is trusted. */
  readonly minRequests: number
  /** Length of the sliding window, ms. */
  readonly windowMs: number
  /** Time an open breaker waits before letting a probe through, ms. */
  readonly cooldownMs: number
}

/** `breaker: { failure_rate: 0.5, min_requests: 10, window: 30s, cooldown: 30s }` */
export const DEFAULT_BREAKER: BreakerSettings = {
  failureRate: 0.5,
  minRequests: 10,
  windowMs: 30_000,
  cooldownMs: 30_000
}

/**
 * The window is this many time buckets of `windowMs / WINDOW_BUCKETS` each. A sample therefore
 * counts for between `windowMs - windowMs / WINDOW_BUCKETS` and `windowMs` after it was recorded.
 */
export const WINDOW_BUCKETS = 10

export type BreakerState = "closed" | "open" | "half_open"

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
  readonly onSuccess: (now: number) => void
  readonly onFailure: (now: number) => void
  /** A request that was acquired but ended without a verdict (client cancelled): frees a half-open probe slot without counting. */
  readonly onCancel: (now: number) => void
  readonly snapshot: (now: number) => BreakerSnapshot
}

export const make = (
  target: string,
  settings: BreakerSettings,
  onTransition?: (t: BreakerTransition) => void
): CircuitBreaker => {
  const { cooldownMs, failureRate: threshold } = settings
  const minSamples = Math.max(1, settings.minRequests)
  const bucketMs = Math.max(1, settings.windowMs) / WINDOW_BUCKETS

  // Ring of buckets; `head` is the absolute number (floor(now / bucketMs)) of the newest bucket,
  // slot `abs mod WINDOW_BUCKETS` holds bucket `abs`. Totals are kept in step with the ring.
  const successes = new Float64Array(WINDOW_BUCKETS)
  const failures = new Float64Array(WINDOW_BUCKETS)
  let head = Number.NEGATIVE_INFINITY
  let totalSuccesses = 0
  let totalFailures = 0

  let state: BreakerState = "closed"
  let openedAt: number | undefined = undefined
  let probeOutstanding = false

  const slotOf = (abs: number): number => ((abs % WINDOW_BUCKETS) + WINDOW_BUCKETS) % WINDOW_BUCKETS

  const clearWindow = (): void => {
    successes.fill(0)
    failures.fill(0)
    totalSuccesses = 0
    totalFailures = 0
  }

  /** Slides the window to `now`, dropping buckets that fell out. A clock going backwards stays in the newest bucket. */
  const advance = (now: number): number => {
    const abs = Math.floor(now / bucketMs)
    if (abs <= head) return slotOf(head)
    if (abs - head >= WINDOW_BUCKETS) {
      clearWindow()
    } else {
      for (let k = head + 1; k <= abs; k++) {
        const slot = slotOf(k)
        totalSuccesses -= successes[slot] ?? 0
        totalFailures -= failures[slot] ?? 0
        successes[slot] = 0
        failures[slot] = 0
      }
    }
    head = abs
    return slotOf(abs)
  }

  const currentRate = (): number => {
    const samples = totalSuccesses + totalFailures
    return samples === 0 ? 0 : totalFailures / samples
  }

  const transition = (to: BreakerState, at: number): void => {
    const from = state
    state = to
    if (onTransition !== undefined) onTransition({ target, from, to, at, failureRate: currentRate() })
  }

  /** open → half_open once the cooldown has elapsed (time-driven, so any observation may trigger it). */
  const refresh = (now: number): void => {
    if (state === "open" && openedAt !== undefined && now - openedAt >= cooldownMs) {
      advance(now)
      probeOutstanding = false
      transition("half_open", openedAt + cooldownMs)
    }
  }

  const open = (now: number): void => {
    openedAt = now
    probeOutstanding = false
    transition("open", now)
  }

  const record = (now: number, failed: boolean): void => {
    const slot = advance(now)
    if (failed) {
      failures[slot] = (failures[slot] ?? 0) + 1
      totalFailures++
    } else {
      successes[slot] = (successes[slot] ?? 0) + 1
      totalSuccesses++
    }
  }

  const onOutcome = (now: number, failed: boolean): void => {
    refresh(now)
    switch (state) {
      case "closed": {
        record(now, failed)
        const samples = totalSuccesses + totalFailures
        if (samples >= minSamples && totalFailures / samples >= threshold) open(now)
        return
      }
      case "half_open": {
        // Only the probe's verdict counts; results arriving with no probe out are late answers to
        // requests sent before the breaker opened.
        if (!probeOutstanding) return
        probeOutstanding = false
        if (failed) {
          record(now, true)
          open(now)
        } else {
          clearWindow()
          openedAt = undefined
          transition("closed", now)
        }
        return
      }
      case "open":
        // Late answers to requests sent before the breaker opened: they neither close it nor count.
        return
    }
  }

  return {
    isAvailable: (now) => {
      refresh(now)
      return state === "closed" || (state === "half_open" && !probeOutstanding)
    },
    tryAcquire: (now) => {
      refresh(now)
      if (state === "closed") return true
      if (state === "half_open" && !probeOutstanding) {
        probeOutstanding = true
        return true
      }
      return false
    },
    onSuccess: (now) => onOutcome(now, false),
    onFailure: (now) => onOutcome(now, true),
    onCancel: (now) => {
      refresh(now)
      if (state === "half_open") probeOutstanding = false
    },
    snapshot: (now) => {
      refresh(now)
      advance(now)
      return { state, failureRate: currentRate(), samples: totalSuccesses + totalFailures, openedAt }
    }
  }
}
