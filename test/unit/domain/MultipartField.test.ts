import { describe, expect, it } from "vitest"
import * as fc from "fast-check"
import {
  boundaryOf,
  type FieldSearch,
  findField,
  indexOfBytes,
  makeFieldScanner,
  replaceField
} from "../../../src/domain/MultipartField.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const B = "----llmgate7MA4YWxkTrZu0gW"

/** A multipart body of `parts` (headers, content), with optional preamble and epilogue. */
const form = (parts: ReadonlyArray<readonly [string, string]>, preamble = "", epilogue = ""): string =>
  `${preamble}${parts.map(([headers, content]) => `--${B}\r\n${headers}\r\n\r\n${content}\r\n`).join("")}--${B}--\r\n${epilogue}`

const field = (name: string) => `Content-Disposition: form-data; name="${name}"`
const file = (name: string, filename: string) =>
  `Content-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: audio/wav`

describe("boundaryOf", () => {
  it("reads the boundary of multipart/form-data, quoted or not, any case", () => {
    expect(boundaryOf(`multipart/form-data; boundary=${B}`)).toBe(B)
    expect(boundaryOf(`Multipart/Form-Data; charset=utf-8; BOUNDARY="a b:c"`)).toBe("a b:c")
  })

  it("refuses other types, a missing or overlong boundary", () => {
    expect(boundaryOf("application/json")).toBeUndefined()
    expect(boundaryOf("multipart/mixed; boundary=x")).toBeUndefined()
    expect(boundaryOf("multipart/form-data")).toBeUndefined()
    expect(boundaryOf(`multipart/form-data; boundary=${"x".repeat(71)}`)).toBeUndefined()
    expect(boundaryOf(undefined)).toBeUndefined()
  })
})

describe("indexOfBytes", () => {
  it("finds a sequence at every offset, and only whole", () => {
    const hay = encoder.encode("ab-abc-abcd")
    expect(indexOfBytes(hay, encoder.encode("abc"), 0)).toBe(3)
    expect(indexOfBytes(hay, encoder.encode("abc"), 4)).toBe(7)
    expect(indexOfBytes(hay, encoder.encode("abcde"), 0)).toBe(-1)
    expect(indexOfBytes(hay, encoder.encode("d"), 0)).toBe(10)
  })
})

describe("findField / replaceField", () => {
  const body = form([
    [file("file", "model.wav"), 'RIFF\u0000\r\n--not-the-boundary\r\nname="model"'],
    [field("model"), "gpt-4o-transcribe"],
    [field("language"), "en"]
  ])

  it("finds the field's value after a file part whose content looks like headers", () => {
    const bytes = encoder.encode(body)
    const found = findField(bytes, B, "model")
    expect(found).toMatchObject({ _tag: "Found", value: "gpt-4o-transcribe" })
    if (found._tag !== "Found") return
    const out = decoder.decode(replaceField(bytes, found.start, found.end, "whisper-1"))
    expect(out).toBe(body.replace("\r\n\r\ngpt-4o-transcribe\r\n", "\r\n\r\nwhisper-1\r\n"))
  })

  it("finds it first, last, with a preamble and epilogue, and empty", () => {
    const first = form(
      [
        [field("model"), "m1"],
        [file("file", "a.wav"), "xyz"]
      ],
      "preamble\r\n",
      "epilogue"
    )
    expect(findField(encoder.encode(first), B, "model")).toMatchObject({ _tag: "Found", value: "m1" })
    const last = form([
      [file("file", "a.wav"), "xyz"],
      [field("model"), "m2"]
    ])
    expect(findField(encoder.encode(last), B, "model")).toMatchObject({ _tag: "Found", value: "m2" })
    const empty = form([[field("model"), ""]])
    const found = findField(encoder.encode(empty), B, "model")
    expect(found).toMatchObject({ _tag: "Found", value: "" })
    if (found._tag !== "Found") return
    expect(decoder.decode(replaceField(encoder.encode(empty), found.start, found.end, "up"))).toBe(
      form([[field("model"), "up"]])
    )
  })

  it("is not fooled by a filename= or another field named like it", () => {
    const body = form([
      [`Content-Disposition: form-data; filename="model"; name="file"`, "x"],
      [field("model_name"), "no"],
      [`content-disposition: form-data; name=model`, "yes"]
    ])
    expect(findField(encoder.encode(body), B, "model")).toMatchObject({ _tag: "Found", value: "yes" })
  })

  it("says Missing, Repeated or Malformed", () => {
    expect(findField(encoder.encode(form([[field("language"), "en"]])), B, "model")._tag).toBe("Missing")
    expect(
      findField(
        encoder.encode(
          form([
            [field("model"), "a"],
            [field("model"), "b"]
          ])
        ),
        B,
        "model"
      )._tag
    ).toBe("Repeated")
    expect(findField(encoder.encode(`--${B}\r\n${field("model")}\r\n\r\nm`), B, "model")._tag).toBe("Malformed")
    expect(findField(encoder.encode("no delimiters here"), B, "model")._tag).toBe("Malformed")
    expect(findField(encoder.encode(form([[field("model"), "m"]])), "other", "model")._tag).toBe("Malformed")
    const notUtf8 = new Uint8Array([
      ...encoder.encode(`--${B}\r\n${field("model")}\r\n\r\n`),
      0xff,
      ...encoder.encode(`\r\n--${B}--`)
    ])
    expect(findField(notUtf8, B, "model")._tag).toBe("Malformed")
  })

  it("cut at every byte: never a wrong range, and Found only once the body has closed", () => {
    const bytes = encoder.encode(body)
    const whole = findField(bytes, B, "model")
    if (whole._tag !== "Found") return expect.fail("expected the field")
    const closed = bytes.length - 2 // before the close delimiter's trailing CRLF
    for (let cut = 0; cut <= bytes.length; cut++) {
      const found = findField(bytes.subarray(0, cut), B, "model")
      if (cut >= closed) expect(found).toEqual(whole)
      else expect(found._tag).not.toBe("Found")
    }
  })
})

/** The verdict after feeding `bytes` cut at `cuts`. */
const scanInPieces = (bytes: Uint8Array, cuts: ReadonlyArray<number>) => {
  const scanner = makeFieldScanner(B, "model")
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    scanner.push(bytes.slice(from, cut))
    from = cut
  }
  scanner.end()
  return scanner.result()
}

describe("makeFieldScanner: the same scan, fed in pieces", () => {
  /** Every byte value, so no text decoding can pass unnoticed; it holds a CRLF and dashes too. */
  const binary = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i))
  const bytesOf = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0))
  const bodies: ReadonlyArray<readonly [string, string, FieldSearch["_tag"]]> = [
    [
      "model first",
      form([
        [field("model"), "scribe"],
        [file("file", "a.wav"), binary.repeat(3)],
        [field("language"), "en"]
      ]),
      "Found"
    ],
    [
      "model after the file, with a preamble and epilogue",
      form(
        [
          [file("file", "a.wav"), `${binary}\r\n--${B.slice(0, 10)}`],
          [field("model"), "scribe"]
        ],
        "preamble\r\n",
        "epilogue"
      ),
      "Found"
    ],
    ["model missing", form([[file("file", "a.wav"), binary]]), "Missing"],
    [
      "model repeated after the file",
      form([
        [field("model"), "scribe"],
        [file("file", "a.wav"), binary],
        [field("model"), "other"]
      ]),
      "Repeated"
    ],
    [
      "no close delimiter",
      `--${B}\r\n${field("model")}\r\n\r\nscribe\r\n--${B}\r\n${field("x")}\r\n\r\n${binary}`,
      "Malformed"
    ],
    ["a delimiter not ending its line", `--${B}\r\n${field("model")}\r\n\r\nscribe\r\n--${B}garbage`, "Malformed"],
    ["no delimiter at all", binary, "Malformed"]
  ]

  for (const [name, text, tag] of bodies) {
    it(`${name}: ${tag} at every split into two and three pieces, and byte by byte`, () => {
      const bytes = bytesOf(text)
      const whole = findField(bytes, B, "model")
      expect(whole._tag).toBe(tag)
      for (let cut = 0; cut <= bytes.length; cut++) expect(scanInPieces(bytes, [cut])).toEqual(whole)
      for (let a = 0; a <= bytes.length; a += 7)
        for (let b = a; b <= bytes.length; b += 13) expect(scanInPieces(bytes, [a, b])).toEqual(whole)
      expect(
        scanInPieces(
          bytes,
          Array.from({ length: bytes.length }, (_, i) => i)
        )
      ).toEqual(whole)
    })
  }

  it("says Found as soon as the model part has ended, with the same range as the whole scan", () => {
    const text = bodies[0]![1]
    const bytes = bytesOf(text)
    const whole = findField(bytes, B, "model")
    if (whole._tag !== "Found") return expect.fail("expected the field")
    // The value ends where the next delimiter starts: Found once that delimiter is seen whole.
    const ready = whole.end + `\r\n--${B}`.length
    for (let cut = 0; cut <= bytes.length; cut++) {
      const scanner = makeFieldScanner(B, "model")
      scanner.push(bytes.slice(0, cut))
      const result = scanner.result()
      if (cut >= ready) expect(result).toEqual(whole)
      else expect(result).toBeUndefined()
    }
  })

  it("a repeated model turns a Found into Repeated once the second part's headers arrive", () => {
    const bytes = bytesOf(bodies[3]![1])
    const second = text(bytes).lastIndexOf('name="model"')
    const scanner = makeFieldScanner(B, "model")
    scanner.push(bytes.slice(0, second))
    expect(scanner.result()?._tag).toBe("Found")
    scanner.push(bytes.slice(second))
    expect(scanner.result()?._tag).toBe("Repeated")
  })

  it("refuses part headers past 16 KiB without waiting for their end", () => {
    const scanner = makeFieldScanner(B, "model")
    scanner.push(encoder.encode(`--${B}\r\nX-Long: `))
    for (let i = 0; i < 20; i++) scanner.push(new Uint8Array(1024).fill(0x61))
    expect(scanner.result()).toMatchObject({ _tag: "Malformed", detail: expect.stringMatching(/16 KiB/) })
  })

  it("the rewrite of a value found in pieces is byte-exact", () => {
    const text = bodies[1]![1]
    const bytes = bytesOf(text)
    const found = scanInPieces(bytes, [5, 300, 301])
    if (found?._tag !== "Found") return expect.fail("expected the field")
    const out = replaceField(bytes, found.start, found.end, "whisper-1")
    expect(
      Buffer.from(out).equals(Buffer.from(bytesOf(text.replace("\r\n\r\nscribe\r\n", "\r\n\r\nwhisper-1\r\n"))))
    ).toBe(true)
  })
})

const text = (bytes: Uint8Array): string => String.fromCharCode(...bytes)

describe("makeFieldScanner: random forms cut at random places", () => {
  const delimiter = `\r\n--${B}`
  /** Content made of pieces that look like framing (CRLFs, dashes, most of the boundary), never a delimiter. */
  const content = fc
    .array(
      fc.constantFrom("a", "\r\n", "--", "\r\n--", `--${B.slice(0, 12)}`, `\r\n--${B.slice(0, -1)}`, "\u00ff", ""),
      {
        maxLength: 12
      }
    )
    .map((pieces) => pieces.join(""))
    .filter((text) => !`${text}\r\n`.includes(delimiter) && !text.startsWith(`--${B}`))
  const partArb = fc.record({
    name: fc.constantFrom("model", "file", "language", "model_name"),
    value: content,
    filename: fc.boolean()
  })
  const bytesOf = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff)

  it("the verdict the form's parts say, whatever the pieces", () => {
    fc.assert(
      fc.property(fc.array(partArb, { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (parts, cutSeeds) => {
        const text = form(
          parts.map(
            (p) =>
              [
                p.filename
                  ? `Content-Disposition: form-data; name="${p.name}"; filename="f.bin"`
                  : `Content-Disposition: form-data; name="${p.name}"`,
                p.value
              ] as const
          )
        )
        const bytes = bytesOf(text)
        const models = parts.filter((p) => p.name === "model")
        const cuts = [...new Set(cutSeeds.map((n) => n % (bytes.length + 1)))].sort((a, b) => a - b)
        const result = scanInPieces(bytes, cuts)
        expect(result).toEqual(findField(bytes, B, "model"))
        const first = models[0]
        // A first value that is not UTF-8 (latin1 ÿ) is Malformed at once, before any second one.
        if (first === undefined) expect(result?._tag).toBe("Missing")
        else if (first.value.includes("\u00ff")) expect(result?._tag).toBe("Malformed")
        else if (models.length > 1) expect(result?._tag).toBe("Repeated")
        else expect(result).toMatchObject({ _tag: "Found", value: first.value })
      }),
      { numRuns: 500 }
    )
  })
})
