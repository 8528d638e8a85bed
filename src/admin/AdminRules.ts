/**
 * The rules both AdminStores (Postgres and the config file) apply the same way: how objects are
 * addressed (`KEY_FIELD`), which fields a request may set and an object shows (as the spec names
 * them), etags (a hash of the stored form) and `If-Match`, list cursors, and how the problems a
 * change would add to the config become the API's answer (422 naming the field, 409 for a
 * duplicate), and that a masked secret sent back is refused (422). Pure.
 */
import * as Base64Url from "effect/encoding/Base64Url"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Predicate from "effect/Predicate"
import { isMaskedSecret } from "../auth/KeyMaterial.ts"
import type { ConfigIssue } from "../config/ConfigError.ts"
import { formatFieldPath, providerSecretPaths, valueAt } from "../config/SecretFields.ts"
import { sha256Hex } from "../crypto/Sha256.ts"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import type { components } from "../generated/openapi.ts"
import { type ListQuery, type Resource, SINGULAR } from "./AdminStore.ts"

type Row = Readonly<Record<string, unknown>>

const sortKeys = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(sortKeys)
    : Predicate.isObject(value)
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((k) => [k, sortKeys(value[k])])
        )
      : value

/** A hash of a value's canonical JSON (keys sorted): 32 hex characters. */
export const hashOf = (value: unknown): string => sha256Hex(JSON.stringify(sortKeys(value))).slice(0, 32)

/** `"abc"`, `W/"abc"` and `abc` all name etag `abc`; `*` matches any. */
export const etagMatches = (ifMatch: string, etag: string): boolean =>
  ifMatch
    .split(",")
    .map((t) =>
      t
        .trim()
        .replace(/^W\//, "")
        .replace(/^"(.*)"$/, "$1")
    )
    .some((t) => t === "*" || t === etag)

/** Providers and models are addressed by name, the tenancy resources by generated id. */
export const KEY_FIELD: Readonly<Record<Resource, "name" | "id">> = {
  providers: "name",
  models: "name",
  projects: "id",
  users: "id",
  keys: "id"
}

/** Fields a request may set, per tenancy resource (the rest is generated or derived). */
export const WRITABLE: Readonly<Record<"projects" | "users" | "keys", ReadonlyArray<string>>> = {
  projects: ["name", "limits", "budget", "metadata"] satisfies ReadonlyArray<
    keyof components["schemas"]["AdminProjectCreate"]
  >,
  users: ["name", "email", "role", "projects", "metadata"] satisfies ReadonlyArray<
    keyof components["schemas"]["AdminUserCreate"]
  >,
  keys: [
    "name",
    "project_id",
    "user_id",
    "models",
    "enabled",
    "expires_at",
    "limits",
    "budget",
    "metadata"
  ] satisfies ReadonlyArray<keyof components["schemas"]["AdminKeyCreate"]>
}

type Schemas = components["schemas"]
/** Every field of the spec's schema but `etag`, exactly once (a spec change that adds one fails to compile here). */
type FieldsOf<S> = ReadonlyArray<Exclude<keyof S, "etag">>
const exhaustive =
  <S>() =>
  <const F extends FieldsOf<S>>(fields: F & (Exclude<keyof S, "etag"> extends F[number] ? unknown : never)) =>
    fields

/** The fields an object shows, as `spec/openapi.yaml` names them (`AdminProject`, `AdminUser`, `AdminKey`). */
export const PUBLIC_FIELDS: Readonly<Record<"projects" | "users" | "keys", ReadonlyArray<string>>> = {
  projects: exhaustive<Schemas["AdminProject"]>()([
    "id",
    "name",
    "limits",
    "budget",
    "spend",
    "metadata",
    "created_at",
    "updated_at"
  ]),
  users: exhaustive<Schemas["AdminUser"]>()([
    "id",
    "name",
    "email",
    "role",
    "projects",
    "metadata",
    "created_at",
    "updated_at"
  ]),
  keys: exhaustive<Schemas["AdminKey"]>()([
    "id",
    "name",
    "prefix",
    "project_id",
    "user_id",
    "models",
    "enabled",
    "expires_at",
    "limits",
    "budget",
    "spend",
    "metadata",
    "previous_expires_at",
    "created_at",
    "updated_at"
  ])
}

export const unprocessable = (param: string | null, message: string): GatewayError =>
  gatewayError({ _tag: "Unprocessable", param, message })

export const notFound = (resource: Resource, id: string): GatewayError =>
  gatewayError({
    _tag: "NotFound",
    message: `No ${SINGULAR[resource]} ${KEY_FIELD[resource] === "name" ? "named" : "with id"} ${JSON.stringify(id)}.`
  })

export const preconditionFailed = (resource: Resource, id: string, ifMatch: string, etag: string): GatewayError =>
  gatewayError({
    _tag: "PreconditionFailed",
    message:
      `The ${SINGULAR[resource]} ${JSON.stringify(id)} changed since you read it (If-Match ${ifMatch}, now "${etag}"); ` +
      "read it again and retry."
  })

/** The first field of `body` a request may not set on a tenancy resource, as a 422; undefined when all may be set. */
export const fieldProblem = (
  resource: "projects" | "users" | "keys",
  body: Row,
  patch: boolean,
  nullable: ReadonlySet<string>
): GatewayError | undefined => {
  for (const [field, value] of Object.entries(body)) {
    if (!WRITABLE[resource].includes(field)) {
      return unprocessable(
        field,
        PUBLIC_FIELDS[resource].includes(field) ? `${field}: read-only` : `${field}: unknown field`
      )
    }
    if (patch && value === null && !nullable.has(field)) return unprocessable(field, `${field}: cannot be null`)
  }
  return undefined
}

/**
 * A 422 naming the first secret field of a provider body that holds a mask as the API shows it
 * (`****abcd`), not a secret: a client that sends back what it read must not replace the secret
 * with the mask. Undefined when there is none.
 */
export const maskedSecretProblem = (body: Row): GatewayError | undefined => {
  for (const path of providerSecretPaths(body, "all")) {
    const value = valueAt(body, path)
    if (typeof value !== "string" || !isMaskedSecret(value)) continue
    const field = formatFieldPath(path)
    const hint =
      path[0] === "headers"
        ? "send every header value in full (headers are replaced as a whole)"
        : `send the secret itself, or leave ${path.length === 1 ? "the field" : `\`${String(path[0])}\``} out to keep the stored one`
    return unprocessable(field, `${field}: this is a masked value as the admin API shows it, not a secret; ${hint}`)
  }
  return undefined
}

export const encodeCursor = (id: string): string => Base64Url.encode(id)

/** The id a cursor names; undefined for one that is not base64url of UTF-8. */
export const decodeCursor = (cursor: string): string | undefined => {
  const bytes = Base64Url.decode(cursor)
  if (Result.isFailure(bytes)) return undefined
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes.success)
  } catch {
    return undefined
  }
}

/** One page of a list, for either store: filtered, ordered by id, after the cursor, `limit` long. */
export const pageOf = <Row>(
  rows: ReadonlyArray<Row>,
  query: ListQuery,
  idOf: (row: Row) => string,
  matches: (row: Row, field: string, value: string) => boolean
): Effect.Effect<{ readonly rows: ReadonlyArray<Row>; readonly nextCursor: string | null }, GatewayError> => {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
  if (query.cursor !== undefined && after === undefined) {
    return Effect.fail(
      gatewayError({ _tag: "InvalidRequest", param: "cursor", message: "cursor: not a cursor from a previous page" })
    )
  }
  const all = rows
    .filter((row) => Object.entries(query.filters).every(([f, v]) => matches(row, f, v)))
    .map((row) => ({ id: idOf(row), row }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .filter((r) => after === undefined || r.id > after)
  const page = all.slice(0, query.limit)
  const last = page[page.length - 1]
  return Effect.succeed({
    rows: page.map((r) => r.row),
    nextCursor: all.length > query.limit && last !== undefined ? encodeCursor(last.id) : null
  })
}

/**
 * The answer to a change whose resulting config has problems `before` had not (paths naming
 * entries by name or id: `keys["key_x"].models[0]`): 409 for a duplicate, else 422, `param` the
 * first problem's path within the changed object; undefined when nothing new is wrong.
 */
export const refusal = (
  resource: Resource,
  id: string,
  before: ReadonlyArray<ConfigIssue>,
  after: ReadonlyArray<ConfigIssue>
): GatewayError | undefined => {
  const key = (i: ConfigIssue) => `${i.path}\u0000${i.message}`
  const old = new Set(before.map(key))
  const fresh = after.filter((i) => !old.has(key(i)))
  const first = fresh[0]
  if (first === undefined) return undefined
  const prefix = `${resource}[${JSON.stringify(id)}]`
  const local = (path: string): string | null =>
    path === prefix
      ? null
      : path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`)
        ? path.slice(prefix.length).replace(/^\./, "")
        : path
  const message = fresh.map((i) => `${local(i.path) ?? SINGULAR[resource]}: ${i.message}`).join("; ")
  return first.message.startsWith("duplicate ")
    ? gatewayError({ _tag: "Conflict", param: local(first.path), message })
    : unprocessable(local(first.path), message)
}
