import { describe, expect, it } from "vitest"
import { boundaryOf, findField, indexOfBytes, replaceField } from "../../../src/domain/MultipartField.ts"

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
