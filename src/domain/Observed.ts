/**
 * What a request's record carries to the owner besides the stored usage fields: the configured
 * model it matched, its attempts, and where its time went. The owner's metrics read it
 * (metrics/GatewayMetrics.ts); the usage stores never store it.
 */

/**
 * How one upstream attempt ended, as metrics label it: answered (`ok`, or `client_error` for a 4xx
 * that is the request's own fault), a retryable answer (`rate_limited`, `server_error`), no answer
 * (`timeout`, `unreachable`), or a stream that failed before its first content and anything else
 * (`error`).
 */
export type AttemptOutcome =
  | "ok"
  | "client_error"
  | "rate_limited"
  | "server_error"
  | "timeout"
  | "unreachable"
  | "error"

/** One attempt of a request: which provider, how it ended, and how long the provider took. */
export interface Attempt {
  readonly provider: string
  readonly outcome: AttemptOutcome
  /** From the call to the answer (a buffered answer: its whole body; a stream: its first content), ms. */
  readonly ms: number
}

export interface Observed {
  /**
   * The configured model the request matched: its name, or a pattern model's pattern (`claude-*`);
   * "" when it matched none. Never the client's own string, so metric labels stay bounded.
   */
  readonly model: string
  readonly tries: ReadonlyArray<Attempt>
  /** Time waiting on providers: the sum of the attempts' `ms`. */
  readonly upstreamMs: number
  /**
   * The time the gateway itself added: from the request's arrival to its answer (a stream's: to its
   * headers) minus `upstreamMs`. Auth, parsing, routing, limits, queueing and retry backoff count here.
   */
  readonly overheadMs: number
}
