// HTTP requests for the gateway fuzzer, as data that renders to exact wire bytes. A `WireRequest`
// without `corruption` is well-formed HTTP/1.1 that any client could send (odd methods, paths with
// valid and malformed percent escapes and `..`, very long targets, duplicate and huge headers, bodies
// mutated from valid OpenAI requests, Content-Length or chunked framing): it must get exactly one
// answer. With a `corruption` it is broken on the wire (bad request line, bad header syntax, lying or
// conflicting lengths, broken chunks): whatever the server answers before it closes must still be
// well-formed, but it may also just close.
import * as fc from "fast-check"
import { type BodySpec, bodySpec, ENDPOINT_PATHS, renderBody, sometimes } from "./openaiBodies.ts"

export type Auth =
  | "master"
  | "open"
  | "limited"
  | "none"
  | "wrong"
  | "basic"
  | "lowercase-scheme"
  | "double-space"
  | "scheme-only"
  | "huge"
  | "obs-text"

/** How the body is framed on a well-formed request. */
export type Framing =
  | { readonly kind: "length" }
  /** chunked, split at these byte offsets */
  | { readonly kind: "chunked"; readonly cuts: ReadonlyArray<number> }
  /** no framing header and no body bytes */
  | { readonly kind: "none" }

export type Corruption =
  | { readonly kind: "method"; readonly method: string }
  | { readonly kind: "target"; readonly target: string }
  | { readonly kind: "version"; readonly version: string }
  | { readonly kind: "header-line"; readonly line: string }
  | { readonly kind: "no-host" }
  | { readonly kind: "two-hosts" }
  | { readonly kind: "length"; readonly delta: number }
  | { readonly kind: "length-value"; readonly value: string }
  | { readonly kind: "two-lengths"; readonly other: number }
  | { readonly kind: "length-and-chunked" }
  | { readonly kind: "transfer-encoding"; readonly value: string }
  | { readonly kind: "bad-chunk"; readonly text: string }
  | { readonly kind: "bare-lf" }
  | { readonly kind: "upgrade" }
  | { readonly kind: "trailing-garbage"; readonly text: string }

export interface WireRequest {
  readonly method: string
  readonly target: string
  readonly version: "HTTP/1.1" | "HTTP/1.0"
  readonly auth: Auth
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly body: BodySpec
  readonly framing: Framing
  readonly corruption: Corruption | undefined
}

export interface Keys {
  readonly master: string
  readonly open: string
  readonly limited: string
}

/** A string of `n` copies of `unit`. */
const repeated = (units: ReadonlyArray<string>, min: number, max: number): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom(...units), fc.integer({ min, max })).map(([u, n]) => u.repeat(n))

// ---------------------------------------------------------------------------------------------------
// Methods

const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".split("")
const token = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: min, maxLength: max })

const method: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom("GET", "POST") },
  { weight: 4, arbitrary: fc.constantFrom("PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE") },
  { weight: 2, arbitrary: fc.constantFrom("get", "Post", "PROPFIND", "M-SEARCH", "PURGE", "QUERY", "LINK", "BREW") },
  { weight: 1, arbitrary: token(1, 12) }
)

// ---------------------------------------------------------------------------------------------------
// Targets

const PATHS = [
  "/",
  "/v1",
  "/v1/",
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/embeddings",
  "/v1/models",
  "/v1/models/",
  "/v1/models/gpt-4o-mini",
  "/v1/models/mock-fine",
  "/health",
  "/health/",
  "/health/liveness",
  "/health/readiness",
  "/health/detailed",
  "/openapi.json",
  "/docs",
  "/docs/scalar.js",
  "/admin/v1/config",
  "/admin/v1/config/reload",
  "/admin/v1/models",
  "/admin/v1/providers",
  "/admin/v1/keys",
  "/admin/v1/projects",
  "/admin/v1/users",
  "/admin/v1/models/gpt-4o-mini",
  "/admin/v1/keys/key_x/rotate",
  "/admin/v1/",
  "/admin/v1/audit"
] as const

const UNRESERVED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~".split("")
const SUB_DELIMS = "!$&'()*+,;=:@".split("")

/** Percent escapes, valid and malformed: a stray `%`, bad hex, bytes that are not UTF-8, an encoded slash or NUL. */
const percentEscape: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, "0").toUpperCase()}`)
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "%",
      "%2",
      "%G1",
      "%zz",
      "%%",
      "%E0",
      "%E0%A4",
      "%C3%28",
      "%ED%A0%80",
      "%F4%90%80%80",
      "%C0%AF",
      "%FF",
      "%00",
      "%2F",
      "%2f",
      "%2E%2E",
      "%C3%A9",
      "%E2%82%AC",
      "%F0%9F%98%80",
      "%u0041",
      "%25",
      "%3F",
      "%23"
    )
  }
)

const segmentPiece: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...UNRESERVED) },
  { weight: 1, arbitrary: fc.constantFrom(...SUB_DELIMS) },
  { weight: 2, arbitrary: percentEscape }
)

const segment: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.array(segmentPiece, { maxLength: 12 }).map((p) => p.join("")) },
  { weight: 2, arbitrary: fc.constantFrom("..", ".", "", "%2e%2e", ".%2E", "models", "v1", "admin", "gpt-4o-mini") },
  // longer than a header-size bound (request line included) once in a while
  { weight: 1, arbitrary: repeated(["a", "%41", "%E0", "%C3%A9"], 200, 9_000) }
)

const query: fc.Arbitrary<string> = fc
  .array(
    fc
      .tuple(fc.array(segmentPiece, { maxLength: 8 }), fc.array(segmentPiece, { maxLength: 8 }))
      .map(([k, v]) => `${k.join("")}=${v.join("")}`),
    { maxLength: 4 }
  )
  .map((pairs) => pairs.join("&"))

type PathEdit =
  | { readonly op: "append"; readonly segment: string }
  | { readonly op: "replace-last"; readonly segment: string }
  | { readonly op: "insert"; readonly at: number; readonly text: string }
  | { readonly op: "query"; readonly query: string }
  | { readonly op: "upper" }

const pathEdit: fc.Arbitrary<PathEdit> = fc.oneof(
  fc.record({ op: fc.constant("append" as const), segment }),
  fc.record({ op: fc.constant("replace-last" as const), segment }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat({ max: 40 }),
    text: fc.constantFrom("/..", "/.", "//", "/../..", "/%2e%2e", "%2F", ";x=1")
  }),
  fc.record({ op: fc.constant("query" as const), query }),
  fc.constant({ op: "upper" as const })
)

const applyPathEdit = (path: string, e: PathEdit): string => {
  switch (e.op) {
    case "append":
      return `${path.endsWith("/") ? path : `${path}/`}${e.segment}`
    case "replace-last":
      return path.slice(0, path.lastIndexOf("/") + 1) + e.segment
    case "insert": {
      const at = Math.min(e.at, path.length)
      return path.slice(0, at) + e.text + path.slice(at)
    }
    case "query":
      return `${path}?${e.query}`
    case "upper":
      return path.toUpperCase()
  }
}

/** A request target a client could send: a known path, mostly, edited zero to three times. */
const target: fc.Arbitrary<{ readonly base: string; readonly edits: ReadonlyArray<PathEdit> }> = fc.record({
  base: fc.constantFrom(...PATHS),
  edits: sometimes(2, 5, fc.array(pathEdit, { minLength: 1, maxLength: 3 }))
})

export const renderTarget = (t: { readonly base: string; readonly edits: ReadonlyArray<PathEdit> }): string =>
  t.edits.reduce(applyPathEdit, t.base)

// ---------------------------------------------------------------------------------------------------
// Headers

const VCHAR = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i))
const fieldValue = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.array(fc.constantFrom(...VCHAR, " ", "\t"), { maxLength: 40 }).map((c) => c.join("").trim())
  },
  // obs-text: bytes 0x80–0xFF (latin1 on the wire), which HTTP still allows in field values
  {
    weight: 1,
    arbitrary: fc
      .array(
        fc.integer({ min: 0x80, max: 0xff }).map((b) => String.fromCharCode(b)),
        { minLength: 1, maxLength: 10 }
      )
      .map((c) => `x${c.join("")}`)
  }
)

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "text/plain",
  "text/event-stream",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "application/json; charset=utf-16",
  "",
  "garbage",
  "application/json, text/plain",
  "application/octet-stream",
  "*/*"
]

const header: fc.Arbitrary<readonly [string, string]> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.constantFrom("content-type", "Content-Type", "CONTENT-TYPE"),
      fc.constantFrom(...CONTENT_TYPES)
    )
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constant("x-request-id"), fc.oneof(token(1, 40), fieldValue, repeated(["r"], 129, 4_000)))
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constant("accept"),
      fc.constantFrom("text/event-stream", "*/*", "application/xml", "application/json;q=0")
    )
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constant("accept-encoding"),
      fc.constantFrom("gzip", "br", "identity;q=0", "*", "deflate, gzip")
    )
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constant("content-encoding"), fc.constantFrom("gzip", "br", "identity", "deflate"))
  },
  { weight: 1, arbitrary: fc.tuple(fc.constant("expect"), fc.constant("100-continue")) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constant("connection"), fc.constantFrom("keep-alive", "close", "Keep-Alive, foo"))
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom("authorization", "Authorization"),
      fc.constantFrom("Bearer sk-wrong", "Basic Zm9vOmJhcg==", "", "Bearer")
    )
  },
  { weight: 1, arbitrary: fc.tuple(fc.constant("if-match"), fc.oneof(fieldValue, fc.constant('"*"'))) },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom("range", "if-none-match", "origin", "cookie", "forwarded", "x-forwarded-for"),
      fieldValue
    )
  },
  { weight: 3, arbitrary: fc.tuple(token(1, 30), fieldValue) },
  // huge values: some past the 16 KiB header bound
  { weight: 1, arbitrary: fc.tuple(token(1, 10), repeated(["v", "é", "%"], 1_000, 24_000)) }
)

const headers: fc.Arbitrary<ReadonlyArray<readonly [string, string]>> = fc.oneof(
  { weight: 6, arbitrary: fc.array(header, { maxLength: 6 }) },
  // many headers at once (their count shrinks; odd names and values come from the others)
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0, max: 200 })
      .map((n) => Array.from({ length: n }, (_, i) => [`x-fuzz-${i}`, "v"] as const))
  }
)

const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<Auth>("master", "open") },
  { weight: 1, arbitrary: fc.constantFrom<Auth>("limited", "none", "wrong") },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Auth>("basic", "lowercase-scheme", "double-space", "scheme-only", "huge", "obs-text")
  }
)

const authValue = (a: Auth, keys: Keys): string | undefined => {
  switch (a) {
    case "master":
      return `Bearer ${keys.master}`
    case "open":
      return `Bearer ${keys.open}`
    case "limited":
      return `Bearer ${keys.limited}`
    case "none":
      return undefined
    case "wrong":
      return "Bearer sk-llmgate-not-a-key-0000"
    case "basic":
      return `Basic ${Buffer.from(`user:${keys.master}`).toString("base64")}`
    case "lowercase-scheme":
      return `bearer ${keys.master}`
    case "double-space":
      return `Bearer  ${keys.master}`
    case "scheme-only":
      return "Bearer"
    case "huge":
      return `Bearer ${"k".repeat(12_000)}`
    case "obs-text":
      return `Bearer ${keys.open.slice(0, 10)}\u00e9\u00ff`
  }
}

// ---------------------------------------------------------------------------------------------------
// Corruptions (broken on the wire)

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({
    kind: fc.constant("method" as const),
    method: fc.constantFrom("", "G ET", "GET\t", "G\u00c9T", "(GET)", "GET/", "CONNECT", "PRI", "get\u0000")
  }),
  fc.record({
    kind: fc.constant("target" as const),
    target: fc.constantFrom(
      "",
      "v1/models",
      "/v1/models#frag",
      "/v1/mo dels",
      "/v1/models\u0000",
      "/v1/m\u00e9dels",
      "/v1/\u00ff\u00fe",
      "//evil.example/v1/models",
      "http://127.0.0.1/v1/models",
      "*",
      "/v1/models\t",
      "/v1/\u0001",
      '/v1/models?a="b"',
      "/<script>",
      "/v1/models\\..\\x",
      "/{a}|^`"
    )
  }),
  fc.record({
    kind: fc.constant("version" as const),
    version: fc.constantFrom("HTTP/1.2", "HTTP/2.0", "HTTP/1", "HTTPS/1.1", "http/1.1", "", "HTTP/1.1 x", "HTTP/0.9")
  }),
  fc.record({
    kind: fc.constant("header-line" as const),
    line: fc.constantFrom(
      "no colon here",
      "bad name: x",
      " leading-space: x",
      "x-a : y",
      ": empty-name",
      "x-nul: a\u0000b",
      "x-cr: a\rb",
      "x-lf-only: a\nb: c",
      "x-fold: a\r\n folded",
      "x-\u00e9: v",
      "x-del: a\u007fb",
      "(): x",
      `x-long:${"\t".repeat(20)}`
    )
  }),
  fc.constant({ kind: "no-host" as const }),
  fc.constant({ kind: "two-hosts" as const }),
  fc.constant({ kind: "two-hosts" as const }),
  fc.record({
    kind: fc.constant("length" as const),
    delta: fc.oneof(fc.integer({ min: -40, max: -1 }), fc.integer({ min: 1, max: 40 }))
  }),
  fc.record({
    kind: fc.constant("length-value" as const),
    value: fc.constantFrom("abc", "-1", "1e3", "+5", "0x10", "5, 5", "99999999999999999999", "", "4 2", "١٢")
  }),
  fc.record({ kind: fc.constant("two-lengths" as const), other: fc.nat({ max: 100 }) }),
  fc.constant({ kind: "length-and-chunked" as const }),
  fc.record({
    kind: fc.constant("transfer-encoding" as const),
    value: fc.constantFrom(
      "gzip",
      "chunked, gzip",
      "identity",
      "xchunked",
      "chunked, chunked",
      "Chunked ",
      "chunked\u000b"
    )
  }),
  fc.record({
    kind: fc.constant("bad-chunk" as const),
    text: fc.constantFrom(
      "zz\r\nabc\r\n0\r\n\r\n",
      "5\r\nab\r\n0\r\n\r\n",
      "3\r\nabcdef\r\n",
      "-1\r\n",
      "ffffffffffffffff\r\nx",
      "3\nabc\n0\n\n",
      "0\r\nx-trailer: \u0000\r\n\r\n"
    )
  }),
  fc.constant({ kind: "bare-lf" as const }),
  fc.constant({ kind: "upgrade" as const }),
  fc.record({
    kind: fc.constant("trailing-garbage" as const),
    text: fc.constantFrom(
      "\r\n",
      "GARBAGE\r\n\r\n",
      "\u0000\u0001\u0002",
      "GET / HTTP/1.1\r\n\r\n",
      "HTTP/1.1 200 OK\r\n\r\n"
    )
  })
)

// ---------------------------------------------------------------------------------------------------
// Requests

const requestParts = (routable: ReadonlyArray<string>) =>
  fc
    .record({
      method,
      target,
      proxyTarget: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 2, arbitrary: fc.constant(false) }),
      version: fc.oneof(
        { weight: 12, arbitrary: fc.constant("HTTP/1.1" as const) },
        { weight: 1, arbitrary: fc.constant("HTTP/1.0" as const) }
      ),
      auth,
      headers,
      body: bodySpec(routable),
      framing: fc.oneof(
        { weight: 8, arbitrary: fc.constant<Framing>({ kind: "length" }) },
        {
          weight: 2,
          arbitrary: fc
            .array(fc.nat({ max: 2_000 }), { minLength: 1, maxLength: 4 })
            .map((cuts): Framing => ({ kind: "chunked", cuts }))
        },
        { weight: 1, arbitrary: fc.constant<Framing>({ kind: "none" }) }
      )
    })
    .map(({ method, target, proxyTarget, version, auth, headers, body, framing }) => ({
      // Most bodies go to the endpoint they were made for, so they reach validation and routing.
      method: proxyTarget && body.kind === "openai" ? "POST" : method,
      target: proxyTarget && body.kind === "openai" ? ENDPOINT_PATHS[body.endpoint] : renderTarget(target),
      // HTTP/1.0 has no chunked framing
      version: framing.kind === "chunked" ? ("HTTP/1.1" as const) : version,
      auth,
      headers,
      body,
      framing
    }))

/** Keeps the fuzzer from deleting or rewriting the config it runs against: admin writes go out without the master key. */
const withoutAdminWrites = (r: Omit<WireRequest, "corruption">): Omit<WireRequest, "corruption"> =>
  r.target.toLowerCase().startsWith("/admin") &&
  !["GET", "HEAD", "OPTIONS"].includes(r.method) &&
  !(r.method === "POST" && r.target === "/admin/v1/config/reload") &&
  ["master", "lowercase-scheme", "double-space"].includes(r.auth)
    ? { ...r, auth: "open" }
    : r

/** Well-formed HTTP/1.1 requests (no corruption). */
export const wellFormedRequest = (routable: ReadonlyArray<string>): fc.Arbitrary<WireRequest> =>
  requestParts(routable).map((r) => ({ ...withoutAdminWrites(r), corruption: undefined }))

/** Requests broken on the wire in one way. */
export const malformedRequest = (routable: ReadonlyArray<string>): fc.Arbitrary<WireRequest> =>
  fc
    .tuple(requestParts(routable), corruption)
    .map(([r, c]) => ({ ...withoutAdminWrites(r), method: r.method === "HEAD" ? "GET" : r.method, corruption: c }))

const encoder = new TextEncoder()
const latin1 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "latin1"))

const chunked = (body: Uint8Array, cuts: ReadonlyArray<number>): Uint8Array => {
  const points = [...new Set(cuts.map((c) => (body.length === 0 ? 0 : c % body.length)))].sort((a, b) => a - b)
  const parts: Array<Uint8Array> = []
  let start = 0
  for (const p of [...points, body.length]) {
    if (p <= start) continue
    const piece = body.subarray(start, p)
    parts.push(encoder.encode(`${piece.length.toString(16)}\r\n`), piece, encoder.encode("\r\n"))
    start = p
  }
  parts.push(encoder.encode("0\r\n\r\n"))
  return Buffer.concat(parts)
}

/** The exact bytes of `r` sent to 127.0.0.1:`port`. Header values are latin1 (one byte per char), as on the wire. */
export const toWire = (r: WireRequest, port: number, keys: Keys): Uint8Array => {
  const c = r.corruption
  const body = r.framing.kind === "none" ? new Uint8Array(0) : renderBody(r.body)
  const lines: Array<string> = []
  const m = c?.kind === "method" ? c.method : r.method
  const t = c?.kind === "target" ? c.target : r.target
  const v = c?.kind === "version" ? c.version : r.version
  lines.push([m, t, v].filter((x, i) => i < 2 || x !== "").join(" "))
  if (c?.kind !== "no-host") lines.push(`Host: 127.0.0.1:${port}`)
  if (c?.kind === "two-hosts") lines.push("Host: evil.example")
  const a = authValue(r.auth, keys)
  if (a !== undefined) lines.push(`Authorization: ${a}`)
  for (const [k, val] of r.headers) lines.push(`${k}: ${val}`)
  if (c?.kind === "header-line") lines.push(c.line)
  if (c?.kind === "upgrade")
    lines.push(
      "Connection: Upgrade",
      "Upgrade: websocket",
      "Sec-WebSocket-Version: 13",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
    )
  let payload: Uint8Array = body
  if (c?.kind === "length") {
    lines.push(`Content-Length: ${Math.max(0, body.length + c.delta)}`)
  } else if (c?.kind === "length-value") {
    lines.push(`Content-Length: ${c.value}`)
  } else if (c?.kind === "two-lengths") {
    lines.push(`Content-Length: ${body.length}`, `Content-Length: ${c.other === body.length ? c.other + 1 : c.other}`)
  } else if (c?.kind === "length-and-chunked") {
    lines.push(`Content-Length: ${body.length}`, "Transfer-Encoding: chunked")
    payload = chunked(body, [])
  } else if (c?.kind === "transfer-encoding") {
    lines.push(`Transfer-Encoding: ${c.value}`)
    payload = chunked(body, [])
  } else if (c?.kind === "bad-chunk") {
    lines.push("Transfer-Encoding: chunked")
    payload = latin1(c.text)
  } else if (r.framing.kind === "length") {
    lines.push(`Content-Length: ${body.length}`)
  } else if (r.framing.kind === "chunked") {
    lines.push("Transfer-Encoding: chunked")
    payload = chunked(body, r.framing.cuts)
  }
  const eol = c?.kind === "bare-lf" ? "\n" : "\r\n"
  const head = latin1(lines.join(eol) + eol + eol)
  const tail = c?.kind === "trailing-garbage" ? latin1(c.text) : new Uint8Array(0)
  return Buffer.concat([head, payload, tail])
}

/** Whether `r`'s answer must come back as a well-formed OpenAI-shaped body (everything but HEAD). */
export const expectsBody = (r: WireRequest): boolean => r.method !== "HEAD"

/** A short printable form of wire bytes: a unit of 1–4 characters repeated 12 times or more is folded (`a…×9000`, `%E0…×300`). */
export const printable = (bytes: Uint8Array, max = 1_500): string => {
  const text = Buffer.from(bytes)
    .toString("latin1")
    .replace(/(.{1,4}?)\1{11,}/gs, (run, unit: string) => `${unit}…×${run.length / unit.length}`)
  const json = JSON.stringify(text)
  return json.length > max ? `${json.slice(0, max)}… (${bytes.length} bytes)` : json
}
