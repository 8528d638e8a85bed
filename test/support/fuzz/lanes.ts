// Runs one fast-check property in parallel "lanes": each lane is its own `fc.check` with its own seed
// (base seed + lane index) and its own resource (a keep-alive connection, say), so a run is
// deterministic per lane while 4–8 requests are in flight at once, and each lane shrinks its own
// failure to a minimal counterexample. A time limit bounds the whole thing, shrinking included.
import * as fc from "fast-check"

export interface LaneFailure<T> {
  readonly lane: number
  readonly seed: number
  /** Replays the failure with fast-check's `path` option (same seed). */
  readonly path: string | null
  readonly counterexample: T
  readonly error: string
  readonly shrinks: number
}

export interface FuzzSummary<T> {
  /** Runs completed over all lanes (up to and including a failing one). */
  readonly runs: number
  /** Whether a lane hit the time limit (its remaining runs, or its shrinking, were cut short). */
  readonly interrupted: boolean
  readonly failures: ReadonlyArray<LaneFailure<T>>
}

export interface LaneOptions<T, L> {
  readonly lanes: number
  readonly runsPerLane: number
  readonly seed: number
  /** Per lane, shrinking included; the best counterexample so far is kept when it runs out. */
  readonly timeLimitMs: number
  readonly arbitrary: fc.Arbitrary<T>
  readonly openLane: (index: number) => L
  readonly closeLane?: (lane: L) => void
  /** Resolves when `value` satisfies the property; throws (an Error saying why) when not. */
  readonly property: (lane: L, value: T) => Promise<void>
}

const messageOf = (e: unknown): string => {
  if (e instanceof Error) return e.message
  return String(e)
}

export const fuzzInLanes = async <T, L>(o: LaneOptions<T, L>): Promise<FuzzSummary<T>> => {
  const results = await Promise.all(
    Array.from({ length: o.lanes }, async (_, index) => {
      const lane = o.openLane(index)
      try {
        const seed = o.seed + index
        // The last failing value is the shrunk counterexample (shrinking only ever moves to a failing
        // candidate); kept here, typed, with its error.
        let last: { readonly value: T; readonly error: string } | undefined
        // A run the time limit interrupts goes on in the background: it is awaited before the lane ends,
        // so nothing of it overlaps what the test does next.
        const running = new Set<Promise<void>>()
        const details = await fc.check(
          fc.asyncProperty(o.arbitrary, (value) => {
            const run = o.property(lane, value).catch((e: unknown) => {
              last = { value, error: messageOf(e) }
              throw e
            })
            const settled = run.then(
              () => {},
              () => {}
            )
            running.add(settled)
            void settled.then(() => running.delete(settled))
            return run
          }),
          { seed, numRuns: o.runsPerLane, plugins: [fc.interruptAfterTimeLimit(o.timeLimitMs)] }
        )
        const shrunk = last
        await Promise.all(running)
        const failure: LaneFailure<T> | undefined =
          details.failed && shrunk !== undefined
            ? {
                lane: index,
                seed,
                path: details.counterexamplePath,
                counterexample: shrunk.value,
                error: shrunk.error,
                shrinks: details.numShrinks
              }
            : undefined
        return { runs: details.numRuns, interrupted: details.interrupted, failure }
      } finally {
        o.closeLane?.(lane)
      }
    })
  )
  return {
    runs: results.reduce((n, r) => n + r.runs, 0),
    interrupted: results.some((r) => r.interrupted),
    failures: results.flatMap((r) => (r.failure === undefined ? [] : [r.failure]))
  }
}

/** The failures as a readable list: why, then the shrunk input as `show` prints it, and how to replay it. */
export const formatFailures = <T>(failures: ReadonlyArray<LaneFailure<T>>, show: (value: T) => string): string =>
  failures
    .map(
      (f) =>
        `- lane ${f.lane} (seed ${f.seed}, path "${f.path ?? ""}", ${f.shrinks} shrinks): ${f.error}\n  input: ${show(f.counterexample)}`
    )
    .join("\n")
