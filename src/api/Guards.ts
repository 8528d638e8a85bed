/**
 * Fast guards for the request bodies the proxy validates on every request: plain checks of exactly
 * the constraints of the request Schemas (src/api/Schemas.ts), so a well-formed body costs a few
 * property reads instead of a Schema decode. A guard answers only "certainly valid"; anything else
 * goes through the Schema, which names the offending field. The unit test proves, over generated
 * bodies, that a guard never accepts what its Schema rejects.
 */
import { isObject } from "effect/Predicate"
import type { TypedEndpoint } from "../domain/Endpoint.ts"

type Body = Readonly<Record<string, unknown>>

const nonEmptyString = (v: unknown): boolean => typeof v === "string" && v.length > 0

const optionalBoolean = (v: unknown): boolean => v === undefined || typeof v === "boolean"

const optionalStreamOptions = (body: Body): boolean => {
  if (!("stream_options" in body)) return true
  const v = body["stream_options"]
  if (!isObject(v)) return false
  return !("include_usage" in v) || typeof v["include_usage"] === "boolean"
}

/** `"key" in body` with an undefined value is not the same as absent for the Schema: reject it here. */
const optionalKey = (body: Body, key: string, check: (v: unknown) => boolean): boolean =>
  !(key in body) || (body[key] !== undefined && check(body[key]))

const isInt = (v: unknown): boolean => Number.isSafeInteger(v)

const textOrTokens = (v: unknown): boolean => {
  if (typeof v === "string") return true
  if (!Array.isArray(v)) return false
  if (v.length === 0) return true
  const first: unknown = v[0]
  if (typeof first === "string") return v.every((x) => typeof x === "string")
  if (typeof first === "number") return v.every(isInt)
  if (Array.isArray(first)) return v.every((x) => Array.isArray(x) && x.every(isInt))
  return false
}

const chat = (body: Body): boolean => {
  if (!nonEmptyString(body["model"])) return false
  const messages = body["messages"]
  if (!Array.isArray(messages) || messages.length === 0) return false
  for (const m of messages) if (!isObject(m) || typeof m["role"] !== "string") return false
  return optionalKey(body, "stream", optionalBoolean) && optionalStreamOptions(body)
}

const completions = (body: Body): boolean =>
  nonEmptyString(body["model"]) &&
  textOrTokens(body["prompt"]) &&
  optionalKey(body, "stream", optionalBoolean) &&
  optionalStreamOptions(body)

const embeddings = (body: Body): boolean =>
  nonEmptyString(body["model"]) &&
  textOrTokens(body["input"]) &&
  optionalKey(body, "encoding_format", (v) => v === "float" || v === "base64") &&
  optionalKey(body, "dimensions", (v) => isInt(v) && (v as number) >= 1)

/** Whether `body` is certainly a valid request for `endpoint` (false: ask the Schema). */
export const GUARDS: Readonly<Record<TypedEndpoint, (body: Body) => boolean>> = { chat, completions, embeddings }
