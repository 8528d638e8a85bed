/**
 * Schema failures as a list of `{ path, message }`, paths written the way users read them
 * (`models[1].targets[0].provider`). Shared by config validation and request validation so both
 * name fields the same way.
 */
import * as SchemaIssue from "effect/SchemaIssue"
import type * as Schema from "effect/Schema"

export interface PathIssue {
  readonly path: string
  readonly message: string
}

/** `["models", 1, "targets", 0, "provider"]` → `models[1].targets[0].provider`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`
    else out += out === "" ? String(key) : `.${String(key)}`
  }
  return out
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const humanize = (message: string): string => {
  if (message === "Expected no excess property") return "unknown field"
  if (message === "Missing key") return "required field is missing"
  const m = message.replace(/ \| undefined$/, "")
  return m.charAt(0).toLowerCase() + m.slice(1)
}

export const schemaIssues = (error: Schema.SchemaError): ReadonlyArray<PathIssue> =>
  formatter(error.issue).issues.map((i) => ({
    path: formatPath((i.path ?? []).map((p) => (typeof p === "object" ? p.key : p))),
    message: humanize(i.message)
  }))
