/** Deterministic random sources for strategy tests. */

/** A 32-bit linear congruential generator (Numerical Recipes constants), uniform in [0, 1). */
export const lcg = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

/** A random source that returns the given values in order. */
export const scripted = (values: ReadonlyArray<number>) => {
  let i = 0
  return () => {
    const v = values[i++]
    if (v === undefined) throw new Error("scripted random source exhausted")
    return v
  }
}
