import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { makeSseScanner, type SseScanner } from "../../../src/streaming/SseScanner.ts"

const encoder = new TextEncoder()
const bytes = (s: string) => encoder.encode(s)
const LIMIT = 64 * 1024

/** The events of one push (fails the test when the scanner reports a line over its limit). */
const events = (scanner: SseScanner, chunk: Uint8Array): ReadonlyArray<string> => {
  const result = scanner.push(chunk)
  if (result._tag !== "Events") throw new Error(`unexpected: ${JSON.stringify(result)}`)
  return result.data
}

/** Feeds `chunks` to a fresh scanner and returns every event's data, in order. */
const scan = (chunks: ReadonlyArray<Uint8Array | string>, limit = LIMIT): Array<string> => {
  const scanner = makeSseScanner(limit)
  return chunks.flatMap((c) => [...events(scanner, typeof c === "string" ? bytes(c) : c)])
}

/** `data` split into pieces at the given (sorted, in-range) byte positions. */
const splitAt = (data: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  let start = 0
  for (const cut of cuts) {
    out.push(data.slice(start, cut))
    start = cut
  }
  out.push(data.slice(start))
  return out
}

describe("SseScanner", () => {
  it("returns the data of each complete event", () => {
    expect(scan(['data: {"a":1}\n\ndata: [DONE]\n\n'])).toEqual(['{"a":1}', "[DONE]"])
  })

  it("returns nothing for an incomplete event until its blank line arrives", () => {
    const scanner = makeSseScanner(LIMIT)
    expect(events(scanner, bytes("data: one\n"))).toEqual([])
    expect(events(scanner, bytes("\n"))).toEqual(["one"])
    expect(events(scanner, bytes("data: two"))).toEqual([])
    expect(events(scanner, bytes("\n\n"))).toEqual(["two"])
  })

  it("finds the same events at every single split position", () => {
    const text = 'data: {"x":"héllo €"}\r\n\r\n: keep-alive\n\nevent: delta\ndata: a\ndata: b\n\rdata:tail\r\r'
    const expected = ['{"x":"héllo €"}', "a\nb", "tail"]
    const all = bytes(text)
    expect(scan([all])).toEqual(expected)
    for (let i = 0; i <= all.length; i++) expect(scan(splitAt(all, [i]))).toEqual(expected)
    // Byte by byte.
    expect(scan(Array.from(all, (b) => Uint8Array.of(b)))).toEqual(expected)
  })

  it("accepts \\n, \\r\\n and \\r line endings, also mixed", () => {
    expect(scan(["data: a\n\n"])).toEqual(["a"])
    expect(scan(["data: a\r\n\r\n"])).toEqual(["a"])
    expect(scan(["data: a\r\r"])).toEqual(["a"])
    expect(scan(["data: a\r\ndata: b\rdata: c\n\r\n"])).toEqual(["a\nb\nc"])
  })

  it("treats \\r\\n split across chunks as one line end (no spurious blank line)", () => {
    // If the "\n" after a chunk-final "\r" were taken as a second (blank) line, "a" would be
    // dispatched alone and "b" would become a separate event.
    expect(scan(["data: a\r", "\ndata: b\r", "\n\r", "\n"])).toEqual(["a\nb"])
  })

  it("joins multi-line data with \\n", () => {
    expect(scan(["data: line 1\ndata: line 2\ndata:\ndata: line 4\n\n"])).toEqual(["line 1\nline 2\n\nline 4"])
  })

  it("ignores comments and fields other than data", () => {
    expect(scan([": this is a comment\n\n:\n\n"])).toEqual([])
    expect(scan(["event: message\nid: 42\nretry: 1000\ndata: x\n: note\nfoo: bar\n\n"])).toEqual(["x"])
    // An event without any data line is skipped.
    expect(scan(["event: ping\nid: 1\n\ndata: y\n\n"])).toEqual(["y"])
  })

  it("strips exactly one space after the colon, and none when absent", () => {
    expect(scan(["data:x\n\ndata:  two spaces\n\n"])).toEqual(["x", " two spaces"])
  })

  it("ignores fields whose name merely starts with data", () => {
    expect(scan(["datax: 1\ndata_: 2\ndata: v\n\n"])).toEqual(["v"])
  })

  it("decodes UTF-8 sequences split across chunks", () => {
    const text = "data: 𝄞 日本 é\n\n"
    const all = bytes(text)
    // The 4-byte clef starts at byte 6: cut inside it at every position.
    for (const cut of [7, 8, 9]) expect(scan(splitAt(all, [cut]))).toEqual(["𝄞 日本 é"])
    expect(scan(Array.from(all, (b) => Uint8Array.of(b)))).toEqual(["𝄞 日本 é"])
  })

  it("keeps state across pushes: a later push returns only the events it completes", () => {
    const scanner = makeSseScanner(LIMIT)
    expect(events(scanner, bytes("data: 1\n\ndata: 2"))).toEqual(["1"])
    expect(events(scanner, bytes("\n\ndata: 3\n\n"))).toEqual(["2", "3"])
    expect(events(scanner, new Uint8Array())).toEqual([])
  })

  it("property: any split of a valid SSE text yields the same events", () => {
    const lineEnd = fc.constantFrom("\n", "\r\n", "\r")
    // Data values: any well-formed Unicode without line breaks (multi-byte characters included).
    const value = fc.string({ unit: "grapheme", maxLength: 12 }).filter((s) => !/[\r\n]/.test(s))
    const extra = fc.constantFrom(": comment", "event: delta", "id: 7", "retry: 10", "")
    const event = fc.record({
      lines: fc.array(value, { minLength: 1, maxLength: 3 }),
      extra,
      ends: fc.array(lineEnd, { minLength: 6, maxLength: 6 })
    })
    fc.assert(
      fc.property(
        fc.array(event, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (events, rawCuts) => {
          let text = ""
          // "\r" then "\n" would be one CRLF line end, not two: write "\r\n" for the second one.
          const end = (e: string) => {
            text += text.endsWith("\r") && e === "\n" ? "\r\n" : e
          }
          for (const e of events) {
            const endAt = (i: number) => e.ends[i] ?? "\n"
            if (e.extra !== "") {
              text += e.extra
              end(endAt(0))
            }
            e.lines.forEach((l, i) => {
              text += `data: ${l}`
              end(endAt(i + 1))
            })
            end(endAt(5))
          }
          const all = bytes(text)
          const cuts = [...new Set(rawCuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b)
          // An event whose data is empty is not dispatched.
          const expected = events.map((e) => e.lines.join("\n")).filter((d) => d !== "")
          expect(scan(splitAt(all, cuts))).toEqual(expected)
          expect(scan([all])).toEqual(expected)
        }
      ),
      { numRuns: 500 }
    )
  })

  it("ignores a UTF-8 byte order mark before the first line, also split across chunks", () => {
    const all = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes("data: a\n\n")])
    expect(scan([all])).toEqual(["a"])
    expect(scan(splitAt(all, [1, 2]))).toEqual(["a"])
  })

  it("a data value that is not UTF-8 is NotUtf8, from then on; comments and other fields are not decoded", () => {
    const scanner = makeSseScanner(LIMIT)
    const bad = new Uint8Array([...bytes('data: {"a":"'), 0xff, 0xfe, ...bytes('"}\n\n')])
    expect(scanner.push(bytes(": \u00e9\nid: 1\n"))).toEqual({ _tag: "Events", data: [], ends: [] })
    expect(
      scanner.push(new Uint8Array([...bytes(": "), 0xff, 10, ...bytes("event: "), 0xc3, 10, ...bytes("data: ok\n\n")]))
    ).toEqual({ _tag: "Events", data: ["ok"], ends: [34] })
    expect(scanner.push(bad)).toEqual({ _tag: "NotUtf8" })
    expect(scanner.push(bytes("data: fine\n\n"))).toEqual({ _tag: "NotUtf8" })
    // A multi-byte character split across chunks is not a decoding error.
    expect(scan(splitAt(bytes("data: é\n\n"), [7]))).toEqual(["é"])
  })

  it("reports where each event ended as a stream offset, however the chunks split it", () => {
    const text = "data: a\n\n: keep-alive\n\ndata: b\r\n\r\ndata: c\n\n"
    const expected = [9, 33, 43]
    for (const cuts of [[], [1], [8, 9, 10], [30, 31, 32, 33], [42]]) {
      const scanner = makeSseScanner(LIMIT)
      const ends: Array<number> = []
      for (const chunk of splitAt(bytes(text), cuts)) {
        const r = scanner.push(chunk)
        if (r._tag !== "Events") throw new Error(r._tag)
        ends.push(...r.ends)
      }
      expect(ends, `cuts ${cuts.join(",")}`).toEqual(expected)
    }
  })

  describe("line limit", () => {
    it("accepts a line of exactly the limit, in bytes; one byte more is LineTooLong", () => {
      const line = `data: ${"é".repeat(10)}` // 26 bytes, 16 characters
      expect(scan([`${line}\n\n`], 26)).toEqual(["é".repeat(10)])
      const scanner = makeSseScanner(25)
      expect(scanner.push(bytes(`${line}\n\n`))).toEqual({ _tag: "LineTooLong", limit: 25 })
    })

    it("reports a line over the limit as soon as it is, before its end arrives, and stays failed", () => {
      const scanner = makeSseScanner(100)
      expect(scanner.push(bytes("data: ok\n\ndata: "))).toEqual({ _tag: "Events", data: ["ok"], ends: [10] })
      expect(scanner.push(bytes("x".repeat(90)))).toEqual({ _tag: "Events", data: [], ends: [] })
      // 6 + 90 + 5 = 101 bytes and still no line end.
      expect(scanner.push(bytes("xxxxx"))).toEqual({ _tag: "LineTooLong", limit: 100 })
      expect(scanner.push(bytes("\n\ndata: later\n\n"))).toEqual({ _tag: "LineTooLong", limit: 100 })
    })

    it("counts only the line itself: many short lines in one event never reach it", () => {
      const text = `${"data: 0123456789\n".repeat(1000)}\n`
      expect(scan([text], 16)).toEqual([Array(1000).fill("0123456789").join("\n")])
    })

    it("a long line fed in small chunks is scanned in linear time (each byte looked at once)", () => {
      // With a scan that restarts at the line's beginning on every push, this is ~4·10¹⁰ steps
      // (minutes); scanned once, it is 8 MiB of work.
      const size = 8 * 1024 * 1024
      const scanner = makeSseScanner(size + 16)
      const piece = bytes("x".repeat(1024))
      expect(events(scanner, bytes("data: "))).toEqual([])
      for (let n = 0; n < size / 1024; n++) expect(events(scanner, piece)).toHaveLength(0)
      const out = events(scanner, bytes("\n\n"))
      expect(out).toHaveLength(1)
      expect(out[0]?.length).toBe(size)
    })

    it("property: fails exactly when some line (terminated or not) is longer than the limit, at any split", () => {
      const line = fc.oneof(
        fc
          .string({ unit: "grapheme", maxLength: 40 })
          .filter((s) => !/[\r\n]/.test(s))
          .map((s) => `data: ${s}`),
        fc.constantFrom("", ": keep-alive", "event: x")
      )
      const lineEnd = fc.constantFrom("\n", "\r\n", "\r")
      fc.assert(
        fc.property(
          fc.array(fc.tuple(line, lineEnd), { maxLength: 12 }),
          fc.string({ maxLength: 30 }).filter((s) => !/[\r\n]/.test(s)),
          fc.integer({ min: 1, max: 120 }),
          fc.array(fc.nat(), { maxLength: 8 }),
          (lines, tail, limit, rawCuts) => {
            let text = ""
            for (const [l, e] of lines) text += text.endsWith("\r") && l === "" && e === "\n" ? `\r\n` : l + e
            text += tail
            const longest = Math.max(0, ...text.split(/\r\n|\r|\n/).map((l) => bytes(l).length))
            const all = bytes(text)
            const cuts = [...new Set(rawCuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b)
            const scanner = makeSseScanner(limit)
            const results = splitAt(all, cuts).map((c) => scanner.push(c))
            expect(results.some((r) => r._tag === "LineTooLong")).toBe(longest > limit)
            if (longest <= limit)
              expect(results.flatMap((r) => (r._tag === "Events" ? r.data : []))).toEqual(scan([all], limit))
          }
        ),
        { numRuns: 500 }
      )
    })
  })
})
