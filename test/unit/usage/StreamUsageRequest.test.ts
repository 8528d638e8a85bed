import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { prependTopLevelMember } from "../../../src/domain/JsonSplice.ts"
import { requestStreamUsage } from "../../../src/usage/StreamUsageRequest.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const bytes = (s: string) => encoder.encode(s)
const text = (b: Uint8Array) => decoder.decode(b)

const request = (json: string) => {
  const raw = bytes(json)
  return { raw, result: requestStreamUsage("chat", JSON.parse(json) as Record<string, unknown>, raw) }
}

describe("prependTopLevelMember", () => {
  it("adds the member first and leaves every other byte as it was", () => {
    expect(text(prependTopLevelMember(bytes(' \n{ "a" : 1 }'), "k", "[1]") ?? new Uint8Array())).toBe(
      ' \n{"k":[1], "a" : 1 }'
    )
    expect(text(prependTopLevelMember(bytes("{ }"), "k", "true") ?? new Uint8Array())).toBe('{"k":true }')
    expect(text(prependTopLevelMember(bytes("{}"), 'we"ird', "1") ?? new Uint8Array())).toBe('{"we\\"ird":1}')
    expect(prependTopLevelMember(bytes("[1]"), "k", "1")).toBeUndefined()
  })
})

describe("requestStreamUsage", () => {
  it("splices include_usage into a stream request that set no stream_options, without re-serializing", () => {
    const json = '{"model":"gpt-4o",  "stream":true,"messages":[{"role":"user","content":"hi \\u00e9"}]}'
    const { raw, result } = request(json)
    expect(result.usageRequested).toBe(true)
    expect(result.clientAsked).toBe(false)
    expect(text(result.rawBody)).toBe(`{"stream_options":{"include_usage":true},${json.slice(1)}`)
    expect(JSON.parse(text(result.rawBody))).toEqual(result.body)
    expect(result.body["stream_options"]).toEqual({ include_usage: true })
    expect(raw).toEqual(bytes(json))
  })

  it("leaves a client's include_usage: true alone and relays its usage chunk", () => {
    const { raw, result } = request('{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]}')
    expect(result).toMatchObject({ usageRequested: true, clientAsked: true })
    expect(result.rawBody).toBe(raw)
  })

  it("re-serializes stream_options that lack include_usage: true, keeping their other fields", () => {
    for (const options of ['{"include_usage":false,"x":1}', "{}", "null"]) {
      const { result } = request(`{"model":"m","stream":true,"stream_options":${options},"messages":[]}`)
      expect(result).toMatchObject({ usageRequested: true, clientAsked: false })
      const sent = JSON.parse(text(result.rawBody)) as Record<string, unknown>
      expect(sent).toEqual(result.body)
      expect(sent["stream_options"]).toMatchObject({ include_usage: true })
      if (options.includes("x")) expect(sent["stream_options"]).toMatchObject({ x: 1 })
    }
  })

  it("changes nothing for a request that is not streamed, or for embeddings", () => {
    for (const json of [
      '{"model":"m","messages":[]}',
      '{"model":"m","stream":false,"messages":[]}',
      '{"model":"m","stream":"true"}'
    ]) {
      const { raw, result } = request(json)
      expect(result).toMatchObject({ usageRequested: false, clientAsked: false })
      expect(result.rawBody).toBe(raw)
    }
    const raw = bytes('{"model":"m","input":"x","stream":true}')
    expect(requestStreamUsage("embeddings", { model: "m", input: "x", stream: true }, raw).rawBody).toBe(raw)
  })

  it("sends the same body as bytes and parsed, whatever the client's other members", () => {
    const member = fc.dictionary(
      fc.string().filter((k) => k !== "stream" && k !== "stream_options" && k !== "__proto__"),
      fc.jsonValue(),
      { maxKeys: 6 }
    )
    fc.assert(
      fc.property(member, fc.boolean(), (extra, pretty) => {
        const body = { ...extra, stream: true }
        const json = pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body)
        const result = requestStreamUsage("completions", JSON.parse(json) as Record<string, unknown>, bytes(json))
        expect(result.usageRequested).toBe(true)
        const sent = JSON.parse(text(result.rawBody)) as Record<string, unknown>
        expect(sent).toEqual(result.body)
        expect(sent).toEqual({ ...(JSON.parse(json) as object), stream_options: { include_usage: true } })
        // Only the member was added: the client's bytes follow it unchanged.
        expect(text(result.rawBody).endsWith(json.slice(json.indexOf("{") + 1))).toBe(true)
      })
    )
  })
})
