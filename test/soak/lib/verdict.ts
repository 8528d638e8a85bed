/**
 * The soak's judgement over its samples: after the warm-up, the least-squares slopes (MiB per
 * minute) of the resident memory and, where traced, of the live JS heap must stay under their
 * bounds, and the open file descriptors must never exceed the warm-up's maximum plus a margin (a
 * connection, watcher or file that leaks per request or per reload shows up there first). Also the
 * samples as a markdown table.
 */

export interface Sample {
  /** ms since the traffic started. */
  readonly t: number
  readonly rssMiB: number
  /** Live JS heap of every isolate after its latest full GC (NaN where not traced). */
  readonly heapMiB: number
  readonly fds: number
  readonly threads: number
  /** Exchanges finished so far, and how many of them were unexpected. */
  readonly requests: number
  readonly unexpected: number
}

export interface Bounds {
  /** Largest allowed post-warm-up RSS slope, MiB per minute. */
  readonly rssSlopeMiBPerMin: number
  /** Largest allowed post-warm-up slope of the live heap, MiB per minute (where traced). */
  readonly heapSlopeMiBPerMin: number
  /** Largest allowed excess of open descriptors over the warm-up's maximum. */
  readonly fdMargin: number
}

export interface Judgement {
  readonly pass: boolean
  readonly reasons: ReadonlyArray<string>
  /** Least-squares slope of RSS over the post-warm-up samples, MiB/min (NaN with fewer than 3). */
  readonly slope: number
  /** The same for the live heap (NaN where not traced). */
  readonly heapSlope: number
  readonly fdWarmupMax: number
  readonly fdPostMax: number
  readonly post: number
}

/** Least-squares slope of y over x (NaN with fewer than 3 points). */
export const slopeOf = (xs: ReadonlyArray<number>, ys: ReadonlyArray<number>): number => {
  const n = xs.length
  if (n < 3) return Number.NaN
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my)
    den += (xs[i]! - mx) ** 2
  }
  return den === 0 ? Number.NaN : num / den
}

export const judge = (samples: ReadonlyArray<Sample>, warmupMs: number, bounds: Bounds): Judgement => {
  const warm = samples.filter((s) => s.t < warmupMs)
  const post = samples.filter((s) => s.t >= warmupMs)
  const slope = slopeOf(
    post.map((s) => s.t / 60_000),
    post.map((s) => s.rssMiB)
  )
  const traced = post.filter((s) => Number.isFinite(s.heapMiB))
  const heapSlope = slopeOf(
    traced.map((s) => s.t / 60_000),
    traced.map((s) => s.heapMiB)
  )
  const fdWarmupMax = Math.max(...warm.map((s) => s.fds))
  const fdPostMax = Math.max(...post.map((s) => s.fds))
  const reasons: Array<string> = []
  if (post.length < 3) reasons.push(`only ${post.length} samples after the warm-up (need 3)`)
  if (!(slope <= bounds.rssSlopeMiBPerMin)) {
    reasons.push(`RSS grows ${slope.toFixed(2)} MiB/min after the warm-up (bound ${bounds.rssSlopeMiBPerMin} MiB/min)`)
  }
  if (traced.length >= 3 && !(heapSlope <= bounds.heapSlopeMiBPerMin)) {
    reasons.push(
      `the live heap grows ${heapSlope.toFixed(2)} MiB/min after the warm-up (bound ${bounds.heapSlopeMiBPerMin} MiB/min)`
    )
  }
  if (fdPostMax > fdWarmupMax + bounds.fdMargin) {
    reasons.push(
      `${fdPostMax} open descriptors after the warm-up, above the warm-up's ${fdWarmupMax} + ${bounds.fdMargin}`
    )
  }
  return { pass: reasons.length === 0, reasons, slope, heapSlope, fdWarmupMax, fdPostMax, post: post.length }
}

const fixed = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : "—")

export const sampleTable = (samples: ReadonlyArray<Sample>, warmupMs: number): string =>
  [
    "| t (s) | RSS (MiB) | live heap (MiB) | open fds | threads | requests | unexpected | |",
    "|---:|---:|---:|---:|---:|---:|---:|---|",
    ...samples.map(
      (s) =>
        `| ${fixed(s.t / 1000, 0)} | ${fixed(s.rssMiB)} | ${fixed(s.heapMiB)} | ${s.fds} | ${s.threads} | ${s.requests} | ${s.unexpected} | ${s.t < warmupMs ? "warm-up" : ""} |`
    )
  ].join("\n")
