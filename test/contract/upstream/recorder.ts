// In-memory log of what the fake upstream received and how its streams ended. The upstream runs in the
// vitest worker process, so tests read this directly to assert what the gateway sent upstream.

export interface RecordedRequest {
  readonly seq: number
  readonly method: string
  readonly path: string
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>
  /** Parsed JSON body, the raw text when it is not JSON, or undefined when empty. */
  readonly body: unknown
  readonly rawBody: string
  readonly receivedAt: number
  /** Which fake upstream received it, when several share one recorder (the routing suites). */
  readonly upstream?: string
}

export interface StreamRecord {
  readonly request: RecordedRequest
  chunksSent: number
  readonly chunksPlanned: number
  status: "streaming" | "completed" | "cancelled"
  /** performance.now() when the stream completed or was cancelled. */
  endedAt: number | undefined
}

export class Recorder {
  readonly requests: Array<RecordedRequest> = []
  readonly streams: Array<StreamRecord> = []
  /** `seq` of non-streaming requests whose client went away before the answer (e.g. the `hang` model). */
  readonly aborted: Set<number> = new Set()
  private seq = 0

  record(input: Omit<RecordedRequest, "seq" | "receivedAt">): RecordedRequest {
    const entry: RecordedRequest = { ...input, seq: ++this.seq, receivedAt: performance.now() }
    this.requests.push(entry)
    return entry
  }

  openStream(request: RecordedRequest, chunksPlanned: number): StreamRecord {
    const s: StreamRecord = { request, chunksSent: 0, chunksPlanned, status: "streaming", endedAt: undefined }
    this.streams.push(s)
    return s
  }

  /** The requests whose JSON body satisfies `pred` (bodies are `unknown`; use the helpers below). */
  find(pred: (r: RecordedRequest) => boolean): Array<RecordedRequest> {
    return this.requests.filter(pred)
  }

  /** Waits (polling) until `pred` yields a value, or throws after `timeoutMs`. */
  async waitFor<A>(pred: () => A | undefined, timeoutMs = 2_000, what = "condition"): Promise<A> {
    const end = performance.now() + timeoutMs
    for (;;) {
      const v = pred()
      if (v !== undefined) return v
      if (performance.now() > end) throw new Error(`recorder: timed out after ${timeoutMs} ms waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
}

export const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** The value of `field` in a recorded JSON body (undefined when the body is not an object). */
export const bodyField = (r: RecordedRequest, field: string): unknown => (isRecord(r.body) ? r.body[field] : undefined)

/** Finds the recorded request carrying a unique marker anywhere in its raw body. */
export const withMarker =
  (marker: string) =>
  (r: RecordedRequest): boolean =>
    r.rawBody.includes(marker)
