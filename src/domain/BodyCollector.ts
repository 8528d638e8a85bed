/**
 * Bodies read whole under a size limit, the one piece of code for it: a client's request body
 * (runtimes/node/NodeServer.ts, http/WebHandler.ts) and an upstream's answer (providers/
 * UpstreamClients.ts). Chunks are kept as they come and copied once at the end (not at all when
 * there is one); reading stops at the first chunk past the limit.
 */

/** Collects a body's chunks while enforcing a size limit. */
export interface BodyCollector {
  /** Adds a chunk; false once the total went past the limit (the chunk is dropped). */
  readonly push: (chunk: Uint8Array) => boolean
  readonly bytes: () => Uint8Array
}

export const makeBodyCollector = (limit: number): BodyCollector => {
  const chunks: Array<Uint8Array> = []
  let size = 0
  return {
    push: (chunk) => {
      size += chunk.length
      if (size > limit) return false
      chunks.push(chunk)
      return true
    },
    bytes: () => concatBytes(chunks, size)
  }
}

/** `parts` as one array (the part itself when there is one); `size` is their total length when known. */
export const concatBytes = (parts: ReadonlyArray<Uint8Array>, size?: number): Uint8Array => {
  if (parts.length === 1) return parts[0]!
  let total = size ?? 0
  if (size === undefined) for (const part of parts) total += part.length
  const out = new Uint8Array(total)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/**
 * Reads chunks with `read` to the end (undefined), or stops as soon as there are more than `limit`
 * bytes: then answers undefined and the caller lets the body go.
 */
export const readAtMost = async (
  read: () => Promise<Uint8Array | undefined>,
  limit: number
): Promise<Uint8Array | undefined> => {
  const collector = makeBodyCollector(limit)
  for (;;) {
    const chunk = await read()
    if (chunk === undefined) return collector.bytes()
    if (!collector.push(chunk)) return undefined
  }
}
