/**
 * ConnectionBounds: the bounds on client connections, from `config.server.bounds` (README "Limits
 * and bounds"). The owner sends them to every worker (Protocol.ts) and each runtime's server
 * enforces what it lets it (RuntimePort.ts; its port says what it cannot); a duration of 0 turns
 * that timeout off.
 */
export interface ConnectionBounds {
  /** Request line plus headers, bytes: larger gets 431. */
  readonly headerLimit: number
  /** Time to receive the request line and headers (slowloris). */
  readonly headerTimeoutMs: number
  /** An idle keep-alive connection (no request in progress) is closed after this. */
  readonly idleTimeoutMs: number
  /** A client that takes no data of a streamed answer this long is cut off, the stream cancelled. */
  readonly stallTimeoutMs: number
}

/** The connection bounds out of the resolved `server` bounds. */
export const connectionBounds = (bounds: ConnectionBounds): ConnectionBounds => ({
  headerLimit: bounds.headerLimit,
  headerTimeoutMs: bounds.headerTimeoutMs,
  idleTimeoutMs: bounds.idleTimeoutMs,
  stallTimeoutMs: bounds.stallTimeoutMs
})
