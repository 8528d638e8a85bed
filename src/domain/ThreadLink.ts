/**
 * The two ends of a channel to a thread the runtime started (RuntimePort's `startWorker` and
 * `startTokenizer`): plain data both ways (structured clone). The starting thread holds a
 * `ThreadLink`; the started thread's entry hands the core a `ParentLink`.
 */

/** The starting thread's end: sends `Out`, receives `In`. */
export interface ThreadLink<Out, In> {
  readonly post: (message: Out) => void
  /** Registers the handler of the thread's messages (once). */
  readonly onMessage: (handler: (message: In) => void) => void
  /** Registers what to do once the thread no longer runs (it ended, crashed or was terminated), with why. */
  readonly onExit: (handler: (reason: string) => void) => void
  /** Stops the thread now. */
  readonly terminate: () => void
}

/** The started thread's end: sends `Out`, receives `In`. */
export interface ParentLink<Out, In> {
  readonly post: (message: Out) => void
  readonly onMessage: (handler: (message: In) => void) => void
}
