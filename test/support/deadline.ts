/**
 * `within(ms, what, promise)`: the promise's outcome, or a rejection naming `what` once `ms` have
 * passed. Fault tests use it so that a hang is reported as the failure it is (what hung, for how
 * long), not as the test runner's timeout.
 */
export const within = <A>(ms: number, what: string, promise: Promise<A>): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no end within ${ms} ms (hung)`)), ms)
    promise.then(
      (a) => {
        clearTimeout(timer)
        resolve(a)
      },
      (e: unknown) => {
        clearTimeout(timer)
        reject(e instanceof Error ? e : new Error(String(e)))
      }
    )
  })
