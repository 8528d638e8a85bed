// Request bodies for the HTTP fuzzer, derived from valid OpenAI requests by mutation: a field set to
// a value of the wrong type, a huge string, deep nesting, a key deleted, then optionally a mutation of
// the JSON text itself (truncated, a duplicate key, invalid UTF-8 inserted, trailing garbage). Bodies
// are kept as a small description plus the bytes it renders to, so a shrunk counterexample reads as
// what was done to which request.
import * as fc from "fast-check"

export type Endpoint = "chat" | "completions" | "embeddings"

/** A value rendered as `depth` nested arrays (or objects) around `1`: deeper than anything built as a JS value. */
export class Deep {
  readonly depth: number
  readonly kind: "array" | "object"
  constructor(depth: number, kind: "array" | "object") {
    this.depth = depth
    this.kind = kind
  }
  toJSON(): string {
    return `<deep ${this.kind} ×${this.depth}>`
  }
  [fc.toStringMethod](): string {
    return `new Deep(${this.depth}, "${this.kind}")`
  }
}

const render = (value: unknown): string => {
  if (value instanceof Deep) {
    return value.kind === "array"
      ? `${"[".repeat(value.depth)}1${"]".repeat(value.depth)}`
      : `${'{"a":'.repeat(value.depth)}1${"}".repeat(value.depth)}`
  }
  if (Array.isArray(value)) return `[${value.map(render).join(",")}]`
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${render(v)}`)
      .join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

/** A string of `n` copies of `unit` (cheap to generate at any size; shrinks by length). */
const repeated = (units: ReadonlyArray<string>, min: number, max: number): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom(...units), fc.integer({ min, max })).map(([u, n]) => u.repeat(n))

/** Model names: routable ones, unknown ones, and ones longer than any identifier bound. */
export const modelName = (routable: ReadonlyArray<string>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...routable) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "",
        "no-such-model",
        "mock-f*",
        "/^text-/",
        "gpt-4o-mini\u0000",
        "GPT-4O-MINI",
        "é-модель-😀",
        " gpt-4o-mini",
        "../admin"
      )
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    // longer than the identifier bound (256): well past it, so the boundary's exact definition does not matter
    { weight: 2, arbitrary: repeated(["a", "é", "x-", "*", "😀"], 300, 20_000) }
  )

/** Values of every JSON type, some of them large or deep. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      1e308,
      -0,
      2 ** 53 + 1,
      "",
      "x",
      [],
      {},
      [1, "a", null],
      { a: { b: [] } }
    )
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: repeated(["a", "\u0000", "é", "\ud83d\ude00", "\\", '"'], 1_000, 70_000) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: 2, max: 20 }), fc.constantFrom("array" as const, "object" as const))
      .map(([d, k]) => new Deep(d, k))
  },
  // well past the JSON depth bound (64)
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: 100, max: 3_000 }), fc.constantFrom("array" as const, "object" as const))
      .map(([d, k]) => new Deep(d, k))
  }
)

const BASE: Readonly<Record<Endpoint, (model: string, stream: boolean) => Record<string, unknown>>> = {
  chat: (model, stream) => ({
    model,
    messages: [{ role: "user", content: "hi" }],
    ...(stream ? { stream: true } : {})
  }),
  completions: (model, stream) => ({ model, prompt: "hi", max_tokens: 5, ...(stream ? { stream: true } : {}) }),
  embeddings: (model) => ({ model, input: ["hello", "world"] })
}

/** Where a mutation applies: a top-level field, or one inside the first message. */
const FIELDS = [
  "model",
  "messages",
  "stream",
  "temperature",
  "max_tokens",
  "n",
  "stop",
  "user",
  "tools",
  "tool_choice",
  "stream_options",
  "input",
  "prompt",
  "encoding_format",
  "dimensions",
  "response_format",
  "logit_bias",
  "messages.0",
  "messages.0.content",
  "messages.0.role",
  "messages.0.name",
  "__proto__",
  "constructor",
  "x-extra"
] as const

export type FieldMutation =
  | { readonly op: "set"; readonly field: (typeof FIELDS)[number]; readonly value: unknown }
  | { readonly op: "delete"; readonly field: (typeof FIELDS)[number] }

const fieldMutation: fc.Arbitrary<FieldMutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant("set" as const), field: fc.constantFrom(...FIELDS), value: anyValue })
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("delete" as const), field: fc.constantFrom(...FIELDS) }) }
)

const applyField = (body: Record<string, unknown>, m: FieldMutation): void => {
  const path = m.field.split(".")
  let target: unknown = body
  for (const key of path.slice(0, -1)) {
    target = target !== null && typeof target === "object" ? (target as Record<string, unknown>)[key] : undefined
  }
  if (target === null || typeof target !== "object") return
  const last = path[path.length - 1]!
  const holder = target as Record<string, unknown>
  if (m.op === "delete") delete holder[last]
  // defineProperty: `__proto__` becomes an own key, as JSON.parse makes it
  else Object.defineProperty(holder, last, { value: m.value, enumerable: true, writable: true, configurable: true })
}

export type TextMutation =
  | { readonly op: "truncate"; readonly at: number }
  | { readonly op: "duplicate-key"; readonly key: string; readonly value: unknown }
  | { readonly op: "invalid-utf8"; readonly at: number; readonly bytes: ReadonlyArray<number> }
  | { readonly op: "append"; readonly text: string }
  | { readonly op: "prepend"; readonly text: string }
  | { readonly op: "replace-byte"; readonly at: number; readonly byte: number }

const INVALID_UTF8: ReadonlyArray<ReadonlyArray<number>> = [
  [0xff],
  [0xc3, 0x28],
  [0xe0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xc0, 0xaf],
  [0x80],
  [0xf0, 0x9f, 0x98]
]

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat({ max: 10_000 }) }),
  fc.record({
    op: fc.constant("duplicate-key" as const),
    key: fc.constantFrom("model", "messages", "stream", "input"),
    value: anyValue
  }),
  fc.record({
    op: fc.constant("invalid-utf8" as const),
    at: fc.nat({ max: 10_000 }),
    bytes: fc.constantFrom(...INVALID_UTF8)
  }),
  fc.record({
    op: fc.constant("append" as const),
    text: fc.constantFrom("}", "]", ",", " garbage", "\u0000", "{}", '"', "\n\n\n")
  }),
  fc.record({ op: fc.constant("prepend" as const), text: fc.constantFrom("\ufeff", " \n\t", "[", "//c\n", ")]}'\n") }),
  fc.record({
    op: fc.constant("replace-byte" as const),
    at: fc.nat({ max: 10_000 }),
    byte: fc.integer({ min: 0, max: 255 })
  })
)

const encoder = new TextEncoder()

const applyText = (bytes: Uint8Array, m: TextMutation): Uint8Array => {
  const at = bytes.length === 0 ? 0 : "at" in m ? m.at % bytes.length : 0
  switch (m.op) {
    case "truncate":
      return bytes.slice(0, at)
    case "duplicate-key": {
      // `{"model":X,` + the rest: the key twice, the first occurrence the mutated one
      if (bytes[0] !== 0x7b) return bytes
      const extra = encoder.encode(`${JSON.stringify(m.key)}:${render(m.value)},`)
      return Uint8Array.from([0x7b, ...extra, ...bytes.subarray(1)])
    }
    case "invalid-utf8":
      return Uint8Array.from([...bytes.subarray(0, at), ...m.bytes, ...bytes.subarray(at)])
    case "append":
      return Uint8Array.from([...bytes, ...encoder.encode(m.text)])
    case "prepend":
      return Uint8Array.from([...encoder.encode(m.text), ...bytes])
    case "replace-byte": {
      const out = bytes.slice()
      if (out.length > 0) out[at] = m.byte
      return out
    }
  }
}

/**
 * `none` of `outOf` times an empty list, else `list`: shrinking goes towards the empty list (a plain
 * `oneof` cannot shrink from one branch to another).
 */
export const sometimes = <A>(
  none: number,
  outOf: number,
  list: fc.Arbitrary<ReadonlyArray<A>>
): fc.Arbitrary<ReadonlyArray<A>> =>
  fc.tuple(fc.integer({ min: 0, max: outOf - 1 }), list).map(([k, l]) => (k < none ? [] : l))

export type BodySpec =
  | { readonly kind: "none" }
  | {
      readonly kind: "openai"
      readonly endpoint: Endpoint
      readonly model: string
      readonly stream: boolean
      readonly fields: ReadonlyArray<FieldMutation>
      readonly text: ReadonlyArray<TextMutation>
    }
  | { readonly kind: "json"; readonly value: unknown }
  | { readonly kind: "bytes"; readonly bytes: ReadonlyArray<number> }

export const bodySpec = (routable: ReadonlyArray<string>): fc.Arbitrary<BodySpec> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant({ kind: "none" as const }) },
    {
      weight: 12,
      arbitrary: fc.record({
        kind: fc.constant("openai" as const),
        endpoint: fc.constantFrom<Endpoint>("chat", "completions", "embeddings"),
        model: modelName(routable),
        stream: fc.boolean(),
        fields: sometimes(2, 5, fc.array(fieldMutation, { minLength: 1, maxLength: 3 })),
        text: sometimes(3, 4, fc.array(textMutation, { minLength: 1, maxLength: 2 }))
      })
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("json" as const), value: anyValue }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("bytes" as const),
        bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 })
      })
    }
  )

/** The bytes a body description stands for. */
export const renderBody = (spec: BodySpec): Uint8Array => {
  switch (spec.kind) {
    case "none":
      return new Uint8Array(0)
    case "bytes":
      return Uint8Array.from(spec.bytes)
    case "json":
      return encoder.encode(render(spec.value))
    case "openai": {
      const body = BASE[spec.endpoint](spec.model, spec.stream)
      for (const m of spec.fields) applyField(body, m)
      return spec.text.reduce(applyText, encoder.encode(render(body)))
    }
  }
}

/** The proxy path a body was made for. */
export const ENDPOINT_PATHS: Readonly<Record<Endpoint, string>> = {
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embeddings: "/v1/embeddings"
}
