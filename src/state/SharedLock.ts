/**
 * A mutex in one Int32 word of shared memory, for the short synchronous critical sections of the
 * state every worker thread shares (a few reads and writes; never an await inside). The word is 0
 * when free, or the holder's id (≥ 1) while held, with `CONTENDED` set once another thread may be
 * sleeping on it. Keeping the holder's id lets the owner thread take back a lock whose holder died
 * in the middle of a section (a worker thread terminated). Acquiring spins briefly, then sleeps on
 * the word with `Atomics.wait` (futex style: Drepper's "mutex 2" with holder ids); releasing wakes
 * one sleeper only when the word says someone may be sleeping. Sleeps are bounded, so a wake-up
 * that never comes costs a few milliseconds, never a hang.
 */

/** Set in the lock word when a thread may be sleeping on it. */
export const CONTENDED = 1 << 30

/** The owner thread's holder id; worker `i` holds locks as `workerHolder(i)`. */
export const OWNER_HOLDER = 1

export const workerHolder = (index: number): number => index + 2

const SPINS = 64
const SLEEP_MS = 5

const lockSlow = (word: Int32Array, at: number, holder: number): void => {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(word, at) === 0 && Atomics.compareExchange(word, at, 0, holder) === 0) return
  }
  for (;;) {
    let seen = Atomics.load(word, at)
    if (seen === 0) {
      // After having waited, take it marked contended: others may still be asleep.
      if (Atomics.compareExchange(word, at, 0, holder | CONTENDED) === 0) return
      continue
    }
    if ((seen & CONTENDED) === 0) {
      if (Atomics.compareExchange(word, at, seen, seen | CONTENDED) !== seen) continue
      seen |= CONTENDED
    }
    Atomics.wait(word, at, seen, SLEEP_MS)
  }
}

/** Takes the lock at `word[at]` for `holder` (≥ 1, < CONTENDED), waiting while another thread holds it. */
export const lock = (word: Int32Array, at: number, holder: number): void => {
  if (Atomics.compareExchange(word, at, 0, holder) !== 0) lockSlow(word, at, holder)
}

/** Releases the lock at `word[at]`, waking one sleeper when there may be one. */
export const unlock = (word: Int32Array, at: number): void => {
  if ((Atomics.exchange(word, at, 0) & CONTENDED) !== 0) Atomics.notify(word, at, 1)
}

/** The id of the thread holding the lock at `word[at]`, or 0 when it is free. */
export const holderOf = (word: Int32Array, at: number): number => Atomics.load(word, at) & ~CONTENDED

/**
 * Takes the lock for `holder`: at once when it is free or held by `dead` (a thread that will never
 * release it), otherwise by waiting. Returns whether it was taken over from `dead`.
 */
export const lockOrTakeOver = (word: Int32Array, at: number, holder: number, dead: number): boolean => {
  for (;;) {
    const seen = Atomics.load(word, at)
    if ((seen & ~CONTENDED) === dead) {
      if (Atomics.compareExchange(word, at, seen, holder | (seen & CONTENDED)) === seen) return true
      continue
    }
    if (seen === 0 && Atomics.compareExchange(word, at, 0, holder) === 0) return false
    if (seen !== 0) Atomics.wait(word, at, seen, SLEEP_MS)
  }
}
