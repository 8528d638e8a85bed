/**
 * The config file as FileAdminStore reads and edits it: a YAML Document changed in place, so
 * comments and layout stay (`${VAR}` references are shielded while parsing and put back as
 * written). `catalogOf` is the file's catalog for CatalogEdit; `apply` writes a decided change
 * into the Document, entry by entry and field by field.
 *
 * Values are data. Every string a request sends is written escaped (`escapeLiteral`: `${` → `$${`),
 * so the gateway reads it back literally and no request can make the file read the environment. A
 * `${VAR}` reference the file already has is kept where a request sends it back unchanged at the
 * same place (as GET showed it); a request never creates one. Objects are shown as the gateway
 * reads them (`$${` as `${`), references as written, provider secrets masked.
 */
import * as Predicate from "effect/Predicate"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { type Document, isMap, isSeq, parseDocument } from "yaml"
import { maskSecret } from "../auth/KeyMaterial.ts"
import type { ConfigIssue } from "../config/ConfigError.ts"
import { type Env, escapeLiteral, hasReference, literalValue, shieldReferences } from "../config/interpolate.ts"
import { decodeConfig, parseConfigDocument } from "../config/loadConfig.ts"
import { valueAt } from "../config/SecretFields.ts"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import { hashOf, KEY_FIELD } from "./AdminRules.ts"
import { type AdminObject, type Resource, RESOURCES } from "./AdminStore.ts"
import { type Catalog, type Entry, IdEntry, idOf, maskedProvider, NamedEntry, tenancyView } from "./CatalogEdit.ts"

type Row = Readonly<Record<string, unknown>>

/** The file, parsed for editing. */
export interface Parsed {
  readonly doc: Document
  /** Puts the shielded `${VAR}` references back into text the Document produced. */
  readonly restore: (s: string) => string
  /** The document as the API shows it: strings as the gateway reads them (`$${` as `${`), references as written. */
  readonly raw: Row
  /** The document as written (escapes and references as in the file). */
  readonly written: Row
}

const mapDeep = (value: unknown, f: (s: string) => string, keys: (s: string) => string): unknown =>
  typeof value === "string"
    ? f(value)
    : Array.isArray(value)
      ? value.map((v) => mapDeep(v, f, keys))
      : Predicate.isObject(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [keys(k), mapDeep(v, f, keys)]))
        : value

const same = (s: string) => s

/**
 * A request's value as written into the file: every string escaped (`escapeLiteral`), so the
 * gateway reads it literally, except a `${VAR}` reference sent back unchanged at the place it
 * stands (`written`: the entry's value there, as in the file), which is kept as it is.
 */
const literal = (value: unknown, written: unknown): unknown =>
  typeof value === "string"
    ? value === written && hasReference(value)
      ? value
      : escapeLiteral(value)
    : Array.isArray(value)
      ? value.map((v, i) => literal(v, Array.isArray(written) ? written[i] : undefined))
      : Predicate.isObject(value)
        ? Object.fromEntries(
            Object.entries(value).map(([k, v]) => [k, literal(v, Predicate.isObject(written) ? written[k] : undefined)])
          )
        : value

export const parse = (text: string, path: string): Result.Result<Parsed, GatewayError> => {
  const shielded = shieldReferences(text)
  const doc = parseDocument(shielded.text, { uniqueKeys: true, prettyErrors: false })
  if (doc.errors.length > 0) {
    return Result.fail(
      gatewayError({
        _tag: "Unavailable",
        message: `The config file ${path} is not valid YAML (${doc.errors[0]?.message.split("\n")[0] ?? "parse error"}); fix it first.`
      })
    )
  }
  const written = mapDeep(doc.toJS(), shielded.restore, shielded.restore)
  const raw = mapDeep(written, literalValue, same)
  return Result.succeed({
    doc,
    restore: shielded.restore,
    raw: Predicate.isObject(raw) ? raw : {},
    written: Predicate.isObject(written) ? written : {}
  })
}

const items = (raw: Row, key: string): ReadonlyArray<unknown> => {
  const list = raw[key]
  return Array.isArray(list) ? list : []
}

/** The file's catalog: the entries that have their name or id (others cannot be addressed), routes with their index. */
export const catalogOf = (raw: Row): Catalog => ({
  providers: items(raw, "providers").filter(Schema.is(NamedEntry)),
  models: items(raw, "models").filter(Schema.is(NamedEntry)),
  routes: items(raw, "routes").flatMap((r, position) =>
    Predicate.isObject(r) ? [{ position, path: r["path"], model: r["model"] }] : []
  ),
  projects: items(raw, "projects").filter(Schema.is(IdEntry)),
  users: items(raw, "users").filter(Schema.is(IdEntry)),
  keys: items(raw, "keys").filter(Schema.is(IdEntry))
})

/** The entry's index in the section as the Document holds it (non-mapping items counted too). */
const indexOf = (raw: Row, resource: Resource, id: string): number =>
  items(raw, resource).findIndex((r) => Predicate.isObject(r) && idOf(resource, r) === id)

/** The entry at `index` of a section as written in the file. */
const writtenAt = (parsed: Parsed, resource: Resource, index: number): unknown => items(parsed.written, resource)[index]

/** The etag of an entry: a hash of its canonical JSON, as shown. */
export const etagOf = (_resource: Resource, entry: Row): string => hashOf(entry)

/** An entry as the API shows it (`parsed`: the file it is from, where references are told apart from literals). */
export const present = (parsed: Parsed, resource: Resource, entry: Entry): AdminObject => {
  const etag = etagOf(resource, entry)
  if (resource === "providers") {
    const written = writtenAt(parsed, resource, indexOf(parsed.raw, resource, idOf(resource, entry)))
    // A `${VAR}` reference is not a secret: shown as written.
    return {
      ...maskedProvider(entry, entry, (p, value) => {
        const was = valueAt(written, p)
        return typeof was === "string" && hasReference(was) ? value : maskSecret(String(value))
      }),
      etag
    }
  }
  if (resource === "models") return { ...entry, etag }
  return { ...tenancyView(resource, entry), etag }
}

/** Sets (or, for `null`/`undefined`, removes) one field of the entry at `index`, its strings escaped but for references kept where they stand. */
const setField = (parsed: Parsed, resource: Resource, index: number, field: string, value: unknown) => {
  const entry = parsed.doc.getIn([resource, index], true)
  if (!isMap(entry)) return
  if (value === null || value === undefined) entry.delete(field)
  else entry.set(field, parsed.doc.createNode(literal(value, valueAt(writtenAt(parsed, resource, index), [field]))))
}

/** Appends an entry (its strings escaped: data; null fields left out) to a section, creating the section (block style) when absent or empty. */
const append = (doc: Document, resource: Resource, entry: Row) => {
  const node = doc.get(resource, true)
  const value = literal(
    Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== null && v !== undefined)),
    undefined
  )
  if (isSeq(node)) {
    if (node.items.length === 0) node.flow = false
    node.items.push(doc.createNode(value))
  } else {
    doc.set(resource, doc.createNode([value]))
  }
}

/** The indexes of `before`'s items that `after` (a list `before` with items taken out) lacks; undefined when it is another list. */
const takenOut = (before: unknown, after: unknown): ReadonlyArray<number> | undefined => {
  if (!Array.isArray(before) || !Array.isArray(after) || after.length >= before.length) return undefined
  const gone: Array<number> = []
  let j = 0
  before.forEach((item, i) => {
    if (j < after.length && after[j] === item) j++
    else gone.push(i)
  })
  return j === after.length ? gone : undefined
}

/** Writes the change from `before` to `after` (CatalogEdit's answer) into the Document: new entries appended, changed fields set or removed, removed entries deleted. */
export const apply = (parsed: Parsed, before: Catalog, after: Catalog): void => {
  for (const resource of RESOURCES) {
    const old = new Map<string, Row>(before[resource].map((e: Entry) => [idOf(resource, e), e]))
    for (const entry of after[resource]) {
      const id = idOf(resource, entry)
      const prior = old.get(id)
      old.delete(id)
      if (prior === undefined) append(parsed.doc, resource, entry)
      else if (prior !== entry) edit(parsed, resource, indexOf(parsed.raw, resource, id), prior, entry)
    }
    const removed = [...old.keys()].map((id) => indexOf(parsed.raw, resource, id)).sort((a, b) => b - a)
    for (const index of removed) parsed.doc.deleteIn([resource, index])
  }
}

const edit = (parsed: Parsed, resource: Resource, index: number, prior: Row, entry: Row) => {
  for (const [field, value] of Object.entries(entry)) {
    if (value === prior[field]) continue
    const gone = takenOut(prior[field], value)
    if (gone === undefined) setField(parsed, resource, index, field, value)
    else for (const i of [...gone].reverse()) parsed.doc.deleteIn([resource, index, field, i])
  }
  for (const field of Object.keys(prior)) if (!(field in entry)) setField(parsed, resource, index, field, undefined)
}

/** `keys[2].models` → `keys["key_x"].models`: entries are known by name or id, not index. */
const named =
  (raw: Row) =>
  (issue: ConfigIssue): ConfigIssue => {
    const match = /^(providers|models|projects|users|keys)\[(\d+)\]/.exec(issue.path)
    const resource = RESOURCES.find((r) => r === match?.[1])
    if (match === null || resource === undefined) return issue
    const entry = items(raw, resource)[Number(match[2])]
    const id = Predicate.isObject(entry) ? entry[KEY_FIELD[resource]] : undefined
    return typeof id === "string"
      ? { ...issue, path: `${resource}[${JSON.stringify(id)}]${issue.path.slice(match[0].length)}` }
      : issue
  }

/** The problems of a config text (interpolated and decoded as the gateway would), paths by name. */
export const problemsOf = (text: string, raw: Row, env: Env, path: string): ReadonlyArray<ConfigIssue> => {
  const decoded = Result.flatMap(parseConfigDocument(text, env, path), (doc) => decodeConfig(doc, path))
  return Result.isSuccess(decoded) ? [] : decoded.failure.issues.map(named(raw))
}
