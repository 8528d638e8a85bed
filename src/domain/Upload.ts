/**
 * Upload: a request body streamed upstream as it arrives instead of being held whole (multipart
 * uploads, `POST /v1/files`). The bytes read before routing (a multipart form's parts up to and
 * including its `model`) are its `head`; the rest is pulled from the client only as fast as the
 * upstream takes it.
 *
 * Each attempt opens the body afresh (`open`), its head first (with the target's model written in
 * by the provider). Retries and failover follow Envoy's rule: the bytes pulled past the head are
 * also kept, up to `server.upload_replay_limit`; another attempt may send the body again while
 * everything pulled so far is kept (an attempt whose connection failed before the body was pulled,
 * or a whole body within the bound), never once a byte it would need is gone: that attempt's
 * outcome is then final. A `watch` sees every byte once, as it is pulled (the multipart scan
 * looking for a second `model` or broken framing): a problem it finds, or a client read that
 * fails (too large, the client gone), fails the upload, and every reader of it rejects with that
 * error, which aborts the upstream request.
 */
import type { ChunkReader } from "./ChunkReader.ts"
import { GatewayError, gatewayError } from "./GatewayError.ts"

/** A request body for one upstream request: read chunk by chunk, `length` bytes when known (else chunked). */
export interface StreamedBody {
  readonly reader: ChunkReader
  readonly length: number | undefined
}

/** What sees the body's bytes as they pass, once each: a problem found fails the upload. */
export interface UploadWatch {
  readonly push: (chunk: Uint8Array) => GatewayError | undefined
  readonly end: () => GatewayError | undefined
}

export interface Upload {
  /** The bytes read before routing. */
  readonly head: Uint8Array
  /** Where in `head` the multipart `model` value lies, when there is one to rewrite. */
  readonly field: { readonly start: number; readonly end: number } | undefined
  /**
   * The body for one attempt, `head` (as the provider rewrote it) first, then the rest; the reader
   * of an earlier attempt is let go. The error when the body cannot be sent (again).
   */
  readonly open: (head: Uint8Array) => StreamedBody | GatewayError
  /** Whether another attempt could send the body whole. */
  readonly replayable: () => boolean
  /** The client's fault that ended the upload (too large, malformed, the client gone), if any. */
  readonly failure: () => GatewayError | undefined
  /** Stops reading the client and lets the kept bytes go (the request is over). */
  readonly close: () => void
}

export interface UploadOptions {
  /** The client's body past `head`. */
  readonly client: ChunkReader
  readonly head: Uint8Array
  readonly field?: { readonly start: number; readonly end: number } | undefined
  /** The whole body's declared length (head included), when declared. */
  readonly length: number | undefined
  /** Most bytes past the head kept for another attempt (`server.upload_replay_limit`). */
  readonly replayLimit: number
  readonly watch?: UploadWatch | undefined
}

/** A body that could not be read (a client gone mid-upload, a broken chunked encoding). */
export const UNREADABLE = gatewayError({
  _tag: "InvalidRequest",
  param: null,
  message: "The request body could not be read: the client stopped sending it, or its framing is broken."
})

const SUPERSEDED = gatewayError({ _tag: "Internal", message: "The upload was opened again by another attempt." })
const NOT_REPLAYABLE = gatewayError({
  _tag: "Internal",
  message: "The upload cannot be sent again: more of it was sent than server.upload_replay_limit keeps."
})
const CLOSED = gatewayError({ _tag: "Internal", message: "The upload is over." })

export const makeUpload = (options: UploadOptions): Upload => {
  const { client, head, replayLimit, watch } = options
  /** The chunks pulled past the head, in order from its end, while they all fit the replay bound. */
  let kept: Array<Uint8Array> = []
  let keptBytes = 0
  /** Some pulled bytes are no longer kept: no attempt can start over. */
  let overflowed = false
  /** The newest chunk pulled, and its offset past the head: the one a reader at the live edge takes. */
  let last: Uint8Array | undefined
  let lastStart = 0
  /** Bytes pulled from the client past the head. */
  let pulled = 0
  let ended = false
  let failed: GatewayError | undefined
  let closed = false
  /** The client read in flight, shared by whoever waits for the next chunk. */
  let pending: Promise<void> | undefined
  /** The attempt whose reader is live. */
  let generation = 0

  const fail = (error: GatewayError): void => {
    if (failed !== undefined) return
    failed = error
    kept = []
    client.cancel()
  }

  const pull = (): Promise<void> => {
    pending ??= client.read().then(
      (chunk) => {
        pending = undefined
        if (chunk === undefined) {
          const problem = watch?.end()
          if (problem !== undefined) fail(problem)
          else ended = true
          return
        }
        const problem = watch?.push(chunk)
        if (problem !== undefined) return fail(problem)
        last = chunk
        lastStart = pulled
        pulled += chunk.length
        if (overflowed) return
        if (keptBytes + chunk.length <= replayLimit) {
          kept.push(chunk)
          keptBytes += chunk.length
        } else {
          overflowed = true
          kept = []
        }
      },
      (cause: unknown) => {
        pending = undefined
        fail(cause instanceof GatewayError ? cause : UNREADABLE)
      }
    )
    return pending
  }

  const open = (first: Uint8Array): StreamedBody | GatewayError => {
    if (failed !== undefined) return failed
    if (closed) return CLOSED
    if (overflowed) return NOT_REPLAYABLE
    const own = ++generation
    let headSent = first.length === 0
    /** Offset past the head of the next byte this reader gives; `index`: its next kept chunk. */
    let position = 0
    let index = 0
    const reader: ChunkReader = {
      read: async () => {
        if (own !== generation) throw SUPERSEDED
        if (!headSent) {
          headSent = true
          return first
        }
        for (;;) {
          if (failed !== undefined) throw failed
          if (!overflowed && index < kept.length) {
            const chunk = kept[index++]!
            position += chunk.length
            return chunk
          }
          if (position < pulled) {
            // Only the newest chunk is still at hand once the bound was passed.
            if (last === undefined || position !== lastStart) throw NOT_REPLAYABLE
            position += last.length
            return last
          }
          if (ended) return undefined
          if (closed) throw CLOSED
          await pull()
          if (own !== generation) throw SUPERSEDED
        }
      },
      // The attempt is over; the client's body stays for another one (or `close`).
      cancel: () => {}
    }
    const length = options.length === undefined ? undefined : options.length - head.length + first.length
    return { reader, length }
  }

  return {
    head,
    field: options.field,
    open,
    replayable: () => failed === undefined && !closed && !overflowed,
    failure: () => failed,
    close: () => {
      if (closed) return
      closed = true
      kept = []
      last = undefined
      if (!ended && failed === undefined) client.cancel()
    }
  }
}
