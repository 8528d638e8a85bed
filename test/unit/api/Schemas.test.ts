// Proves src/api/Schemas.ts agrees with spec/openapi.yaml: (a) each schema's Type equals the
// openapi-typescript type in src/generated/openapi.ts (checked by tsc during `npm run typecheck`), and
// each schema's JSON Schema has the spec's fields, required keys and constraints; (b) sample bodies
// decode, extra fields pass through, invalid bodies fail naming the field; (c) the generated files are
// not stale.
import { Result, Schema, SchemaIssue } from "effect"
import { describe, expect, expectTypeOf, it } from "vitest"
import { check } from "../../../scripts/gen.ts"
import spec from "../../../src/generated/openapi.json" with { type: "json" }
import type { components } from "../../../src/generated/openapi.ts"
import {
  ChatCompletionRequest,
  CompletionRequest,
  EmbeddingRequest,
  ErrorBody,
  HealthResponse,
  Model,
  ModelList
} from "../../../src/api/Schemas.ts"
import { UsageReport } from "../../../src/usage/UsageReport.ts"

type Generated = components["schemas"]

// Schema types are readonly (ReadonlyArray, readonly keys), generated ones are mutable, and an index
// signature (`additionalProperties: true`) is written `{ ... } & { [key: string]: unknown }` on one side
// and inline on the other. Normalize both: drop readonly, split each object into its declared keys
// (keeping `?`) and its index signature (`"[key: string]"`, present only when the type has one).
// Declared keys must be compared apart from the index signature: with `[key: string]: unknown`, a type
// lacking an optional key is still mutually assignable with one that has it.
type Normalize<T> =
  T extends ReadonlyArray<infer Item>
    ? Array<Normalize<Item>>
    : T extends object
      ? {
          -readonly [K in keyof T as string extends K ? never : number extends K ? never : K]: Normalize<T[K]>
        } & (string extends keyof T ? { "[key: string]": Normalize<T[string]> } : unknown)
      : T
type Flatten<T> =
  T extends ReadonlyArray<infer Item> ? Array<Flatten<Item>> : T extends object ? { [K in keyof T]: Flatten<T[K]> } : T
type Canonical<T> = Flatten<Normalize<T>>

// Type identity of the canonical forms (the compiler's own "identical" relation, stricter than mutual
// assignability: it also tells optional keys apart from missing ones). `equivalent<A, B>(true)` fails to
// compile unless A and B agree.
type Identical<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const equivalent = <A, B>(proof: Identical<Canonical<A>, Canonical<B>>): boolean => proof

describe("Schemas match the generated OpenAPI types", () => {
  it("types are equal in both directions (compile-time; tsc fails otherwise)", () => {
    // Strict, deep equality (also distinguishes optional from required and `unknown` from `any`).
    expectTypeOf<Canonical<ChatCompletionRequest>>().branded.toEqualTypeOf<
      Canonical<Generated["ChatCompletionRequest"]>
    >()
    expectTypeOf<Canonical<CompletionRequest>>().branded.toEqualTypeOf<Canonical<Generated["CompletionRequest"]>>()
    expectTypeOf<Canonical<EmbeddingRequest>>().branded.toEqualTypeOf<Canonical<Generated["EmbeddingRequest"]>>()
    expectTypeOf<Canonical<ErrorBody>>().branded.toEqualTypeOf<Canonical<Generated["ErrorBody"]>>()
    expectTypeOf<Canonical<Model>>().branded.toEqualTypeOf<Canonical<Generated["Model"]>>()
    expectTypeOf<Canonical<ModelList>>().branded.toEqualTypeOf<Canonical<Generated["ModelList"]>>()
    expectTypeOf<Canonical<HealthResponse>>().branded.toEqualTypeOf<Canonical<Generated["HealthResponse"]>>()
    // The admin API's usage report, which `llmgate usage` decodes.
    expectTypeOf<Canonical<UsageReport>>().branded.toEqualTypeOf<Canonical<Generated["UsageReport"]>>()

    // The same facts as values, so this test also asserts at run time.
    const proofs = [
      equivalent<ChatCompletionRequest, Generated["ChatCompletionRequest"]>(true),
      equivalent<CompletionRequest, Generated["CompletionRequest"]>(true),
      equivalent<EmbeddingRequest, Generated["EmbeddingRequest"]>(true),
      equivalent<ErrorBody, Generated["ErrorBody"]>(true),
      equivalent<Model, Generated["Model"]>(true),
      equivalent<ModelList, Generated["ModelList"]>(true),
      equivalent<HealthResponse, Generated["HealthResponse"]>(true),
      equivalent<UsageReport, Generated["UsageReport"]>(true)
    ]
    expect(proofs).toEqual([true, true, true, true, true, true, true, true])
  })

  it("the helper really rejects differing types", () => {
    // @ts-expect-error a missing field is not equivalent
    equivalent<{ a: string }, { a: string; b: number }>(true)
    // @ts-expect-error an optional field is not equivalent to a required one
    equivalent<{ a?: string }, { a: string }>(true)
    // @ts-expect-error a wider literal is not equivalent
    equivalent<{ a: "x" | "y" }, { a: "x" }>(true)
    // @ts-expect-error with an index signature, a missing optional key still counts
    equivalent<{ a: string; b?: number; [key: string]: unknown }, { a: string; [key: string]: unknown }>(true)
    // @ts-expect-error an open object is not equivalent to a closed one
    equivalent<{ a: string; [key: string]: unknown }, { a: string }>(true)
    expect(equivalent<{ readonly a: ReadonlyArray<string> }, { a: Array<string> }>(true)).toBe(true)
    expect(
      equivalent<{ readonly [key: string]: unknown; readonly a: string }, { a: string } & { [key: string]: unknown }>(
        true
      )
    ).toBe(true)
  })
})

// ---- constraints: the spec's JSON Schema vs. the JSON Schema Effect derives from each Schema --------

type JsonObject = { readonly [key: string]: unknown }

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const specSchemas: JsonObject = (() => {
  const components: unknown = spec.components
  const schemas = isObject(components) ? components["schemas"] : undefined
  if (!isObject(schemas)) throw new Error("spec has no components.schemas")
  return schemas
})()

const byJson = (a: unknown, b: unknown): number => JSON.stringify(a).localeCompare(JSON.stringify(b))

/**
 * Reduces a JSON Schema to what the gateway validates: types, properties, required keys, items,
 * enums/consts and the minLength/minItems/minimum constraints. Descriptions, examples and
 * additionalProperties are dropped (openness is already covered by the type-level proof, where
 * `additionalProperties: true` is an index signature); `$ref`s resolve against the spec's
 * components; `type: [a, "null"]`, `oneOf` and `anyOf` all become a sorted `anyOf`; the ±2^53 bounds
 * Effect adds to every safe integer are dropped.
 */
const normalize = (schema: unknown): unknown => {
  if (!isObject(schema)) return schema
  const ref = schema["$ref"]
  if (typeof ref === "string") return normalize(specSchemas[ref.replace("#/components/schemas/", "")])
  const type = schema["type"]
  if (Array.isArray(type)) {
    return normalize({ ...schema, type: null, anyOf: type.map((t: unknown) => ({ ...schema, type: t })) })
  }
  const members = schema["anyOf"] ?? schema["oneOf"]
  if (Array.isArray(members)) {
    const flat = members.map(normalize).flatMap((m): ReadonlyArray<unknown> => {
      const inner = isObject(m) ? m["anyOf"] : undefined
      return Array.isArray(inner) ? inner : [m]
    })
    return { anyOf: flat.sort(byJson) }
  }
  const out: Record<string, unknown> = {}
  if (typeof type === "string") out["type"] = type
  const constant = schema["const"]
  if (constant !== undefined) out["enum"] = [constant]
  const enumeration = schema["enum"]
  if (Array.isArray(enumeration)) out["enum"] = [...enumeration].sort(byJson)
  for (const key of ["minLength", "maxLength", "minItems", "maxItems"]) {
    const value = schema[key]
    if (value !== undefined) out[key] = value
  }
  const minimum = schema["minimum"]
  if (typeof minimum === "number" && minimum !== Number.MIN_SAFE_INTEGER) out["minimum"] = minimum
  const maximum = schema["maximum"]
  if (typeof maximum === "number" && maximum !== Number.MAX_SAFE_INTEGER) out["maximum"] = maximum
  // Effect expresses a struct's rest record as `allOf: [{ additionalProperties }]`: nothing to keep.
  const properties = schema["properties"]
  if (isObject(properties)) {
    out["properties"] = Object.fromEntries(
      Object.keys(properties)
        .sort()
        .map((key) => [key, normalize(properties[key])])
    )
    const required = schema["required"]
    out["required"] = Array.isArray(required) ? [...required].sort(byJson) : []
  }
  const items = schema["items"]
  if (items !== undefined) out["items"] = normalize(items)
  return out
}

const effectJsonSchema = (schema: Schema.Top): unknown => {
  const document = Schema.toJsonSchemaDocument(schema)
  expect(Object.keys(document.definitions)).toEqual([])
  return JSON.parse(JSON.stringify(document.schema))
}

describe("Schemas match the spec's constraints", () => {
  const cases: ReadonlyArray<readonly [string, Schema.Top]> = [
    ["ChatCompletionRequest", ChatCompletionRequest],
    ["CompletionRequest", CompletionRequest],
    ["EmbeddingRequest", EmbeddingRequest],
    ["ErrorBody", ErrorBody],
    ["Model", Model],
    ["ModelList", ModelList],
    ["HealthResponse", HealthResponse],
    ["UsageReport", UsageReport]
  ]
  it.each(cases)("%s", (name, schema) => {
    expect(specSchemas[name]).toBeDefined()
    expect(normalize(effectJsonSchema(schema))).toEqual(normalize(specSchemas[name]))
  })

  it("the normalization keeps what matters", () => {
    const chat = normalize(specSchemas["ChatCompletionRequest"])
    expect(chat).toMatchObject({
      properties: { model: { type: "string", minLength: 1 }, messages: { type: "array", minItems: 1 } },
      required: ["messages", "model"]
    })
  })
})

// ---- runtime behaviour ------------------------------------------------------------------------------

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Decodes and returns either the value or the failing paths, dotted like the gateway's `param`. */
const decode = (schema: Schema.Top & Schema.ConstraintDecoder<unknown>, input: unknown) => {
  const result = Schema.decodeUnknownResult(schema)(input, { errors: "all" })
  if (Result.isSuccess(result)) return { ok: true as const, value: result.success }
  const issues = formatter(result.failure.issue).issues.map((issue) => ({
    path: (issue.path ?? []).map((segment) => String(typeof segment === "object" ? segment.key : segment)).join("."),
    message: issue.message
  }))
  return { ok: false as const, issues, message: result.failure.message }
}

/**
 * Whether an issue path names `field`. A union (prompt, input) reports every member's failure, at the
 * field itself when the value's shape fits no member, or inside it (`prompt.0`) when an array's items do
 * not fit: both name the field.
 */
const namesField = (path: string, field: string): boolean => path === field || path.startsWith(`${field}.`)

const chatBody = {
  model: "gpt-4o-mini",
  messages: [
    { role: "system", content: "Be terse." },
    { role: "user", content: [{ type: "text", text: "Hi" }], name: "ada" }
  ]
}

describe("ChatCompletionRequest", () => {
  it("decodes a minimal and a full body", () => {
    expect(decode(ChatCompletionRequest, chatBody)).toEqual({ ok: true, value: chatBody })
    const full = { ...chatBody, stream: true, stream_options: { include_usage: true } }
    expect(decode(ChatCompletionRequest, full)).toEqual({ ok: true, value: full })
  })

  it("keeps unknown fields, top-level and nested, untouched", () => {
    const body = {
      ...chatBody,
      messages: [{ role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function" }] }],
      tools: [{ type: "function", function: { name: "f", parameters: {} } }],
      response_format: { type: "json_object" },
      logprobs: true,
      temperature: 0.2,
      stream_options: { include_usage: false, vendor_flag: 1 }
    }
    expect(decode(ChatCompletionRequest, body)).toEqual({ ok: true, value: body })
  })

  it.each([
    ["missing model", { messages: chatBody.messages }, "model"],
    ["empty model", { ...chatBody, model: "" }, "model"],
    ["numeric model", { ...chatBody, model: 4 }, "model"],
    ["missing messages", { model: "m" }, "messages"],
    ["empty messages", { ...chatBody, messages: [] }, "messages"],
    ["messages not an array", { ...chatBody, messages: "hi" }, "messages"],
    ["message not an object", { ...chatBody, messages: ["hi"] }, "messages.0"],
    ["message without role", { ...chatBody, messages: [{ content: "hi" }] }, "messages.0.role"],
    ["role not a string", { ...chatBody, messages: [{ role: 1 }] }, "messages.0.role"],
    ["stream not a boolean", { ...chatBody, stream: "yes" }, "stream"],
    ["stream_options not an object", { ...chatBody, stream_options: true }, "stream_options"],
    [
      "include_usage not a boolean",
      { ...chatBody, stream_options: { include_usage: 1 } },
      "stream_options.include_usage"
    ]
  ])("rejects %s", (_name, body, path) => {
    const result = decode(ChatCompletionRequest, body)
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.issues.map((issue) => issue.path)).toEqual([path])
      expect(result.message).toContain(JSON.stringify(path.split(".")[0]))
    }
  })

  it("rejects bodies that are not objects at the root", () => {
    for (const body of [null, [], "text", 1]) {
      const result = decode(ChatCompletionRequest, body)
      expect(result.ok).toBe(false)
      if (!result.ok) expect(result.issues.map((issue) => issue.path)).toEqual([""])
    }
  })

  it("reports every invalid field with errors: all", () => {
    const result = decode(ChatCompletionRequest, { model: "", messages: [], stream: 1 })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.issues.map((issue) => issue.path).sort()).toEqual(["messages", "model", "stream"])
  })
})

describe("CompletionRequest", () => {
  it.each([
    ["a string", "Once upon a time"],
    ["strings", ["a", "b"]],
    ["token ids", [1, 2, 3]],
    ["token id arrays", [[1, 2], [3]]],
    ["an empty array", []]
  ])("accepts %s as prompt", (_name, prompt) => {
    const body = { model: "m", prompt, stream: false, max_tokens: 5, echo: true }
    expect(decode(CompletionRequest, body)).toEqual({ ok: true, value: body })
  })

  it.each([
    ["missing prompt", { model: "m" }, "prompt"],
    ["numeric prompt", { model: "m", prompt: 1 }, "prompt"],
    ["mixed prompt", { model: "m", prompt: ["a", 1] }, "prompt"],
    ["fractional token", { model: "m", prompt: [1.5] }, "prompt"],
    ["null prompt", { model: "m", prompt: null }, "prompt"],
    ["empty model", { model: "", prompt: "x" }, "model"],
    ["stream not a boolean", { model: "m", prompt: "x", stream: "true" }, "stream"]
  ])("rejects %s", (_name, body, path) => {
    const result = decode(CompletionRequest, body)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.issues.map((issue) => namesField(issue.path, path))).not.toContain(false)
  })
})

describe("EmbeddingRequest", () => {
  it("decodes sample bodies and keeps extra fields", () => {
    for (const body of [
      { model: "e", input: "hello" },
      { model: "e", input: ["a", "b"], encoding_format: "float", dimensions: 8 },
      { model: "e", input: [[1, 2]], encoding_format: "base64", user: "u-1" }
    ])
      expect(decode(EmbeddingRequest, body)).toEqual({ ok: true, value: body })
  })

  it.each([
    ["missing input", { model: "e" }, "input"],
    ["object input", { model: "e", input: { text: "x" } }, "input"],
    ["unknown encoding_format", { model: "e", input: "x", encoding_format: "int8" }, "encoding_format"],
    ["zero dimensions", { model: "e", input: "x", dimensions: 0 }, "dimensions"],
    ["fractional dimensions", { model: "e", input: "x", dimensions: 1.5 }, "dimensions"],
    ["string dimensions", { model: "e", input: "x", dimensions: "8" }, "dimensions"],
    ["missing model", { input: "x" }, "model"]
  ])("rejects %s", (_name, body, path) => {
    const result = decode(EmbeddingRequest, body)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.issues.map((issue) => namesField(issue.path, path))).not.toContain(false)
  })
})

const ONE_WORKER = { worker: { id: 0, count: 1 }, config_version: 1, workers: [{ id: 0, config_version: 1 }] }

describe("response bodies", () => {
  it("decode and encode the gateway's own bodies", () => {
    const error = { error: { message: "Missing key", type: "invalid_request_error", param: "messages", code: null } }
    const model = { id: "gpt-4o-mini", object: "model", created: 1732300000, owned_by: "llmgate" }
    const list = { object: "list", data: [model] }
    const health = {
      status: "ok",
      version: "0.1.0",
      runtime: { name: "deno", version: "2.9.6" },
      models: 2,
      worker: { id: 1, count: 2 },
      config_version: 3,
      workers: [
        { id: 0, config_version: 3 },
        { id: 1, config_version: 3 }
      ]
    }
    expect(decode(ErrorBody, error)).toEqual({ ok: true, value: error })
    expect(decode(Model, model)).toEqual({ ok: true, value: model })
    expect(decode(ModelList, list)).toEqual({ ok: true, value: list })
    expect(decode(HealthResponse, health)).toEqual({ ok: true, value: health })
    expect(Schema.encodeSync(ModelList)(Schema.decodeUnknownSync(ModelList)(list))).toEqual(list)
  })

  it.each([
    ["ErrorBody with undefined param", ErrorBody, { error: { message: "m", type: "t", code: null } }, "error.param"],
    ["Model with the wrong object", Model, { id: "x", object: "list", created: 1, owned_by: "o" }, "object"],
    ["Model with a fractional created", Model, { id: "x", object: "model", created: 1.5, owned_by: "o" }, "created"],
    ["ModelList with a bad entry", ModelList, { object: "list", data: [{ id: "x" }] }, "data.0.object"],
    [
      "HealthResponse with an unknown runtime",
      HealthResponse,
      { status: "ok", version: "1", runtime: { name: "workerd", version: "1" }, models: 0, ...ONE_WORKER },
      "runtime.name"
    ],
    [
      "HealthResponse with negative models",
      HealthResponse,
      { status: "ok", version: "1", runtime: { name: "bun", version: "1" }, models: -1, ...ONE_WORKER },
      "models"
    ]
  ])("rejects %s", (_name, schema, body, path) => {
    const result = decode(schema, body)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.issues.map((issue) => issue.path)).toContain(path)
  })
})

describe("generated files", () => {
  it("are up to date with spec/openapi.yaml and package.json (run `npm run gen` when this fails)", async () => {
    expect(await check()).toEqual([])
  }, 30_000)
})
