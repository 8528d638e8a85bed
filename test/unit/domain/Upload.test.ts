import { describe, expect, it } from "vitest"
import type { ChunkReader } from "../../../src/domain/ChunkReader.ts"
import { GatewayError, gatewayError } from "../../../src/domain/GatewayError.ts"
import { makeUpload, type StreamedBody } from "../../../src/domain/Upload.ts"

const enc = new TextEncoder()
const dec = new TextDecoder()

/** A client body of `chunks`, counting reads and whether it was cancelled. */
const clientOf = (chunks: ReadonlyArray<string>, failWith?: unknown) => {
  const state = { reads: 0, cancelled: false }
  let i = 0
  const reader: ChunkReader = {
    read: () => {
      state.reads++
      if (i < chunks.length) return Promise.resolve(enc.encode(chunks[i++]!))
      return failWith === undefined ? Promise.resolve(undefined) : Promise.reject(failWith)
    },
    cancel: () => {
      state.cancelled = true
    }
  }
  return { reader, state }
}

const opened = (body: StreamedBody | GatewayError): StreamedBody => {
  if (body instanceof GatewayError) throw new Error(`not opened: ${JSON.stringify(body.reason)}`)
  return body
}

const readAll = async (reader: ChunkReader): Promise<string> => {
  let out = ""
  for (let c = await reader.read(); c !== undefined; c = await reader.read()) out += dec.decode(c)
  return out
}

describe("makeUpload", () => {
  it("an attempt gets its head, then the rest as the client sends it; the length follows the head", async () => {
    const { reader, state } = clientOf(["bb", "cc"])
    const upload = makeUpload({ client: reader, head: enc.encode("aa"), length: 6, replayLimit: 100 })
    const body = opened(upload.open(enc.encode("AAAA")))
    expect(body.length).toBe(8)
    expect(state.reads).toBe(0)
    expect(dec.decode(await body.reader.read())).toBe("AAAA")
    expect(state.reads).toBe(0) // the head goes without touching the client
    expect(await readAll(body.reader)).toBe("bbcc")
  })

  it("within the replay bound: every attempt sends the same bytes, the client read once", async () => {
    const { reader, state } = clientOf(["bb", "cc", "dd"])
    const upload = makeUpload({ client: reader, head: enc.encode("aa"), length: undefined, replayLimit: 6 })
    expect(await readAll(opened(upload.open(upload.head)).reader)).toBe("aabbccdd")
    expect(upload.replayable()).toBe(true)
    expect(await readAll(opened(upload.open(upload.head)).reader)).toBe("aabbccdd")
    expect(state.reads).toBe(4)
  })

  it("a retry after a partial read replays what was kept, then goes on with the client", async () => {
    const { reader } = clientOf(["bb", "cc", "dd"])
    const upload = makeUpload({ client: reader, head: enc.encode("aa"), length: undefined, replayLimit: 6 })
    const first = opened(upload.open(upload.head)).reader
    await first.read()
    await first.read() // "bb" pulled, then the attempt fails
    const second = opened(upload.open(upload.head)).reader
    await expect(first.read()).rejects.toBeInstanceOf(GatewayError) // superseded
    expect(await readAll(second)).toBe("aabbccdd")
  })

  it("once more was pulled than the bound keeps: no replay, the live attempt still gets every byte", async () => {
    const { reader } = clientOf(["bbbb", "cccc", "dd"])
    const upload = makeUpload({ client: reader, head: enc.encode("aa"), length: undefined, replayLimit: 6 })
    const body = opened(upload.open(upload.head))
    expect(await readAll(body.reader)).toBe("aabbbbccccdd")
    expect(upload.replayable()).toBe(false)
    const again = upload.open(upload.head)
    expect(again).toBeInstanceOf(GatewayError)
  })

  it("never pulled (a connect failure): always replayable, whatever the size", async () => {
    const { reader } = clientOf(["b".repeat(100)])
    const upload = makeUpload({ client: reader, head: enc.encode("aa"), length: undefined, replayLimit: 1 })
    const first = opened(upload.open(upload.head)).reader
    await first.read() // the head only
    expect(upload.replayable()).toBe(true)
    expect(await readAll(opened(upload.open(upload.head)).reader)).toBe(`aa${"b".repeat(100)}`)
  })

  it("a problem the watch finds fails the upload: readers reject with it, the client is let go", async () => {
    const { reader, state } = clientOf(["ok", "bad", "more"])
    const problem = gatewayError({ _tag: "InvalidRequest", param: "model", message: "twice" })
    const upload = makeUpload({
      client: reader,
      head: new Uint8Array(0),
      length: undefined,
      replayLimit: 100,
      watch: { push: (c) => (dec.decode(c) === "bad" ? problem : undefined), end: () => undefined }
    })
    const body = opened(upload.open(upload.head)).reader
    expect(dec.decode(await body.read())).toBe("ok")
    await expect(body.read()).rejects.toBe(problem)
    expect(upload.failure()).toBe(problem)
    expect(upload.replayable()).toBe(false)
    expect(state.cancelled).toBe(true)
    expect(upload.open(upload.head)).toBe(problem)
  })

  it("the watch's verdict at the end fails it too; a client read that breaks fails it with its error", async () => {
    const late = gatewayError({ _tag: "InvalidRequest", param: null, message: "no close" })
    const ended = makeUpload({
      client: clientOf(["x"]).reader,
      head: new Uint8Array(0),
      length: undefined,
      replayLimit: 100,
      watch: { push: () => undefined, end: () => late }
    })
    await expect(readAll(opened(ended.open(ended.head)).reader)).rejects.toBe(late)
    const tooLarge = gatewayError({ _tag: "BodyTooLarge", limit: 1 })
    const broken = makeUpload({
      client: clientOf(["x"], tooLarge).reader,
      head: new Uint8Array(0),
      length: undefined,
      replayLimit: 100
    })
    await expect(readAll(opened(broken.open(broken.head)).reader)).rejects.toBe(tooLarge)
    expect(broken.failure()).toBe(tooLarge)
  })

  it("close lets the client go (once), and no attempt opens after it", async () => {
    const { reader, state } = clientOf(["bb"])
    const upload = makeUpload({ client: reader, head: enc.encode("aa"), length: undefined, replayLimit: 100 })
    upload.close()
    expect(state.cancelled).toBe(true)
    expect(upload.open(upload.head)).toBeInstanceOf(GatewayError)
    expect(upload.replayable()).toBe(false)
  })
})
