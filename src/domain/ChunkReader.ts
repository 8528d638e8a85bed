/**
 * ChunkReader: a body read one chunk at a time, the smallest contract a runtime's HTTP client can
 * offer. Upstream responses expose their body as one (providers/UpstreamClients.ts) and
 * streaming/ChunkStream.ts turns it into a Stream; an upload is read from the client as one
 * (http/Exchange.ts `stream`) and sent upstream as one (domain/Upload.ts).
 */

export interface ChunkReader {
  /** The next chunk, or undefined at the end; rejects when the body breaks. */
  readonly read: () => Promise<Uint8Array | undefined>
  /** Stops reading and releases the connection; safe to call more than once. */
  readonly cancel: () => void
}
