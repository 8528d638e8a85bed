// Effect Schemas for the HTTP bodies the gateway validates (requests) or emits itself (errors, models,
// health). They mirror the components of spec/openapi.yaml field for field; the unit test proves their
// types equal the generated ones (src/generated/openapi.ts), so change the spec first, then these.
//
// Request schemas validate only what routing needs and keep every other field: a Struct alone would
// strip unknown keys on decode (ParseOptions.onExcessProperty defaults to "ignore", which drops them),
// so each request is a StructWithRest with a `Record<string, unknown>` rest, the Schema counterpart of
// `additionalProperties: true`.
import * as Schema from "effect/Schema"

/** Any further fields, kept as they are (OpenAPI `additionalProperties: true`). */
const Passthrough = Schema.Record(Schema.String, Schema.Unknown)

const NonEmptyString = Schema.String.check(Schema.isMinLength(1))

/** A public model name as sent by clients. */
const ModelName = NonEmptyString

/** spec: StreamOptions */
const StreamOptions = Schema.StructWithRest(
  Schema.Struct({
    include_usage: Schema.optionalKey(Schema.Boolean)
  }),
  [Passthrough]
)

/** spec: ChatMessage. Only `role` is checked; content, name, tool_calls... pass through. */
const ChatMessage = Schema.StructWithRest(
  Schema.Struct({
    role: Schema.String
  }),
  [Passthrough]
)

/** spec: TextOrTokens. A string, strings, token ids, or arrays of token ids. */
const TextOrTokens = Schema.Union([
  Schema.String,
  Schema.Array(Schema.String),
  Schema.Array(Schema.Int),
  Schema.Array(Schema.Array(Schema.Int))
])

/** The streaming fields chat and text completions share. */
const StreamingFields = {
  stream: Schema.optionalKey(Schema.Boolean),
  stream_options: Schema.optionalKey(StreamOptions)
}

/** A request body: `model` and the given fields, other fields passed through as sent. */
const requestWith = <const Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.StructWithRest(Schema.Struct({ model: ModelName, ...fields }), [Passthrough])

/** spec: ChatCompletionRequest (POST /v1/chat/completions). */
export const ChatCompletionRequest = requestWith({
  messages: Schema.Array(ChatMessage).check(Schema.isMinLength(1)),
  ...StreamingFields
})
export type ChatCompletionRequest = typeof ChatCompletionRequest.Type

/** spec: CompletionRequest (POST /v1/completions). */
export const CompletionRequest = requestWith({ prompt: TextOrTokens, ...StreamingFields })
export type CompletionRequest = typeof CompletionRequest.Type

/** spec: EmbeddingRequest (POST /v1/embeddings). */
export const EmbeddingRequest = requestWith({
  input: TextOrTokens,
  encoding_format: Schema.optionalKey(Schema.Literals(["float", "base64"])),
  dimensions: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)))
})
export type EmbeddingRequest = typeof EmbeddingRequest.Type

/** spec: ErrorBody. The envelope of every error the gateway produces itself. */
export const ErrorBody = Schema.Struct({
  error: Schema.Struct({
    message: Schema.String,
    type: Schema.String,
    /** The offending request field as a path, e.g. `messages.0.role`, or null. */
    param: Schema.NullOr(Schema.String),
    code: Schema.NullOr(Schema.String)
  })
})
export type ErrorBody = typeof ErrorBody.Type

/** spec: Model. One entry of GET /v1/models, also the body of GET /v1/models/{model}. */
export const Model = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("model"),
  /** Unix seconds. */
  created: Schema.Int,
  owned_by: Schema.String
})
export type Model = typeof Model.Type

/** spec: ModelList (GET /v1/models). */
export const ModelList = Schema.Struct({
  object: Schema.Literal("list"),
  data: Schema.Array(Model)
})
export type ModelList = typeof ModelList.Type

/** spec: HealthResponse (GET /health). */
export const HealthResponse = Schema.Struct({
  status: Schema.Literal("ok"),
  version: Schema.String,
  runtime: Schema.Struct({
    name: Schema.Literals(["node", "bun", "deno"]),
    version: Schema.String
  }),
  models: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  worker: Schema.Struct({
    id: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
    count: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
  }),
  config_version: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  workers: Schema.Array(
    Schema.Struct({
      id: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
      config_version: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
    })
  )
})
export type HealthResponse = typeof HealthResponse.Type
