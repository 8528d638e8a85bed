/**
 * The admin API's decisions, for both AdminStores: given the catalog as stored (a Schema-typed
 * `Catalog`: the config's sections, entries as written), a request, and the clock and the id and
 * key generators, each operation answers the catalog after the change, the changed entry, what
 * the answer adds (a key's plaintext, once) and the audit detail, or the GatewayError that
 * refuses it: 404, `If-Match` 412, a name taken 409, dependants 409, fields a request may not set
 * 422, a masked secret sent back 422. Pure: time and randomness come in as `EditInputs`.
 *
 * What the stores still decide: how the catalog is read and written, the etag of an entry (a
 * hash of its stored form), and whether the whole resulting config is valid (`refusal`, with the
 * checks every replica applies). Entries hold request values as sent: the catalog is what is
 * validated, not what is already valid, so past their identity they are open records (the
 * config's Schemas in config/Config.ts judge them through `decodeConfig`).
 */
import * as Predicate from "effect/Predicate"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { generateKey, type GeneratedKey, type IdKind, newId } from "../auth/KeyMaterial.ts"
import { type FieldPath, providerSecretPaths, valueAt, withValueAt } from "../config/SecretFields.ts"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import {
  etagMatches,
  fieldProblem,
  KEY_FIELD,
  maskedSecretProblem,
  notFound,
  pageOf,
  preconditionFailed,
  PUBLIC_FIELDS,
  unprocessable
} from "./AdminRules.ts"
import { type ListQuery, type Resource, SINGULAR } from "./AdminStore.ts"

const Fields = Schema.Record(Schema.String, Schema.Unknown)
/** A provider or model: its `name` (as `ProviderSection`/`ModelSection` name it) and the entry as written. */
export const NamedEntry = Schema.StructWithRest(Schema.Struct({ name: Schema.String }), [Fields])
/** A project, user or key: its generated `id` (as `ProjectSection`/`UserSection`/`KeySection`) and the entry as written. */
export const IdEntry = Schema.StructWithRest(Schema.Struct({ id: Schema.String }), [Fields])
export type NamedEntry = typeof NamedEntry.Type
export type IdEntry = typeof IdEntry.Type
/** A route (`RouteSection`), with its place in the store (index in the file, `position` in Postgres), named in messages. */
export const RouteEntry = Schema.Struct({ position: Schema.Number, path: Schema.Unknown, model: Schema.Unknown })

/** The catalog an admin change applies to: the config's sections, entries as stored. */
export const Catalog = Schema.Struct({
  providers: Schema.Array(NamedEntry),
  models: Schema.Array(NamedEntry),
  routes: Schema.Array(RouteEntry),
  projects: Schema.Array(IdEntry),
  users: Schema.Array(IdEntry),
  keys: Schema.Array(IdEntry)
})
export type Catalog = typeof Catalog.Type
export type Entry = Catalog[Resource][number]

/** Time and randomness of a change, passed in. */
export interface EditInputs {
  /** When the change happens (ms since the epoch). */
  readonly now: number
  readonly newId: (kind: IdKind) => string
  readonly generateKey: () => GeneratedKey
  /** The etag of an entry as its store computes it (`If-Match`). */
  readonly etagOf: (resource: Resource, entry: Entry) => string
}

/** Inputs from the real clock and the random generators of KeyMaterial.ts. */
export const liveInputs = (now: number, etagOf: EditInputs["etagOf"]): EditInputs => ({
  now,
  newId,
  generateKey,
  etagOf
})

/** A decided change. */
export interface Change {
  readonly id: string
  /** The catalog after the change, what it entails included (a deleted user's keys detached, ...). */
  readonly next: Catalog
  /** The changed entry after the change; undefined when deleted. */
  readonly entry: Entry | undefined
  /** The audit log's `detail` (field names, never a secret's value). */
  readonly detail: Readonly<Record<string, unknown>>
  /** What the answer adds to the object as stored (a key's plaintext, only here). */
  readonly reveal: Readonly<Record<string, unknown>>
}

/** Fields that `null` clears. */
export const NULLABLE: ReadonlySet<string> = new Set([
  "limits",
  "email",
  "user_id",
  "models",
  "expires_at",
  "budget",
  "metadata"
])

type Row = Readonly<Record<string, unknown>>

export const idOf = (resource: Resource, entry: Row): string => String(entry[KEY_FIELD[resource]])

export const find = (catalog: Catalog, resource: Resource, id: string): Entry | undefined =>
  Result.getOrUndefined(lookup(catalog, resource, id))

const providersOf = (model: Row): ReadonlyArray<unknown> =>
  Array.isArray(model["targets"])
    ? model["targets"].map((t) => (Predicate.isObject(t) ? t["provider"] : undefined))
    : []

const listed = (value: unknown, item: string): boolean => Array.isArray(value) && value.includes(item)

/** Whether an entry passes a list filter (`FILTERS`). */
export const matches = (resource: Resource, entry: Row, field: string, value: string): boolean => {
  switch (resource) {
    case "models":
      return providersOf(entry).includes(value)
    case "users":
      return field === "project_id" ? listed(entry["projects"], value) : entry[field] === value
    case "keys":
      return field === "enabled" ? String(entry["enabled"] ?? true) === value : String(entry[field] ?? null) === value
    default:
      return String(entry[field]) === value
  }
}

/** One page of a list: filtered, ordered by id, after the cursor. */
export const page = (catalog: Catalog, resource: Resource, query: ListQuery) =>
  pageOf<Entry>(
    catalog[resource],
    query,
    (e) => idOf(resource, e),
    (e, f, v) => matches(resource, e, f, v)
  )

/**
 * The object a project, user or key shows (the spec's fields, absent ones null), before its etag.
 * A key's or project's `spend` is null here: it is no part of the stored form; the worker that
 * answers fills it in from its limiter store (admin/BudgetSpend.ts).
 */
export const tenancyView = (resource: "projects" | "users" | "keys", entry: Row): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const f of PUBLIC_FIELDS[resource]) out[f] = entry[f] ?? null
  if (resource === "users") out["projects"] = entry["projects"] ?? []
  if (resource === "keys") out["enabled"] = entry["enabled"] ?? true
  return out
}

const lookupIn = <E extends Entry>(
  section: ReadonlyArray<E>,
  resource: Resource,
  id: string
): Result.Result<E, GatewayError> => {
  const entry = section.find((e) => idOf(resource, e) === id)
  return entry === undefined ? Result.fail(notFound(resource, id)) : Result.succeed(entry)
}

/** A provider as shown: each secret field (`providerSecretPaths` of the entry as stored) replaced by `mask(path, its value in entry)`. */
export const maskedProvider = (entry: Row, stored: Row, mask: (path: FieldPath, value: unknown) => unknown): Row => {
  let out: unknown = entry
  for (const path of providerSecretPaths(stored, "secret"))
    out = withValueAt(out, path, mask(path, valueAt(entry, path)))
  return Predicate.isObject(out) ? out : entry
}

/** The entry `id` (404 when absent). */
export const lookup = (catalog: Catalog, resource: Resource, id: string): Result.Result<Entry, GatewayError> =>
  lookupIn<Entry>(catalog[resource], resource, id)

/** The entry `id` of a section, unless absent (404) or changed since the `If-Match` etag (412). */
const existing = <E extends Entry>(
  section: ReadonlyArray<E>,
  resource: Resource,
  id: string,
  ifMatch: string | undefined,
  inputs: EditInputs
) =>
  Result.flatMap(lookupIn(section, resource, id), (entry) => {
    const etag = inputs.etagOf(resource, entry)
    return ifMatch !== undefined && !etagMatches(ifMatch, etag)
      ? Result.fail(preconditionFailed(resource, id, ifMatch, etag))
      : Result.succeed(entry)
  })

const check = (problem: GatewayError | undefined): Result.Result<void, GatewayError> =>
  problem === undefined ? Result.void : Result.fail(problem)

const isTenancy = (resource: Resource): resource is "projects" | "users" | "keys" =>
  resource !== "providers" && resource !== "models"

const isNamed = (e: Row): e is NamedEntry => typeof e["name"] === "string"
const isIdentified = (e: Row): e is IdEntry => typeof e["id"] === "string"

/** A section with entry `id` replaced by `next` (removed when undefined; appended when new). */
const replaced = <E extends Row>(
  section: ReadonlyArray<E>,
  resource: Resource,
  id: string,
  next: Row | undefined,
  is: (e: Row) => e is E
) => {
  const at = section.findIndex((e) => idOf(resource, e) === id)
  if (next === undefined || !is(next)) return section.filter((_, i) => i !== at)
  return at < 0 ? [...section, next] : section.map((e, i) => (i === at ? next : e))
}

const withEntry = (catalog: Catalog, resource: Resource, id: string, next: Row | undefined): Catalog =>
  resource === "providers" || resource === "models"
    ? { ...catalog, [resource]: replaced(catalog[resource], resource, id, next, isNamed) }
    : { ...catalog, [resource]: replaced(catalog[resource], resource, id, next, isIdentified) }

const without = (list: unknown, item: unknown): ReadonlyArray<unknown> =>
  Array.isArray(list) ? list.filter((x) => x !== item) : []

/** A provider or model from a request body: it must name itself. */
const named = (resource: Resource, body: Row): Result.Result<NamedEntry, GatewayError> => {
  const name = body["name"]
  if (typeof name !== "string" || name === "")
    return Result.fail(unprocessable("name", `name: required, the ${SINGULAR[resource]}'s name`))
  return Result.succeed({ name, ...body })
}

/** A new entry from a request body (the body as sent: a store leaves out what it does not keep). */
export const create = (
  catalog: Catalog,
  resource: Resource,
  body: Row,
  inputs: EditInputs
): Result.Result<Change, GatewayError> =>
  Result.gen(function* () {
    const detail = { fields: Object.keys(body) }
    const done = (entry: Entry, more: Row = {}, reveal: Row = {}): Change => {
      const id = idOf(resource, entry)
      return { id, next: withEntry(catalog, resource, id, entry), entry, detail: { ...detail, ...more }, reveal }
    }
    if (!isTenancy(resource)) {
      const entry = yield* named(resource, body)
      if (find(catalog, resource, entry.name) !== undefined) {
        return yield* Result.fail(
          gatewayError({
            _tag: "Conflict",
            param: "name",
            message: `A ${SINGULAR[resource]} named ${JSON.stringify(entry.name)} already exists.`
          })
        )
      }
      if (resource === "providers") yield* check(maskedSecretProblem(body))
      return done(entry)
    }
    yield* check(fieldProblem(resource, body, false, NULLABLE))
    const created_at = new Date(inputs.now).toISOString()
    if (resource === "projects") return done({ id: inputs.newId("prj"), ...body, created_at })
    if (resource === "users")
      return done({ id: inputs.newId("usr"), ...body, projects: body["projects"] ?? [], created_at })
    const material = inputs.generateKey()
    const { name, project_id, ...rest } = body
    const entry = {
      id: inputs.newId("key"),
      name,
      prefix: material.prefix,
      hash: material.hash,
      project_id,
      ...rest,
      created_at
    }
    return done(entry, { prefix: material.prefix, project_id }, { key: material.key })
  })

/** Sets the fields a patch gives; `null` removes one. */
export const update = (
  catalog: Catalog,
  resource: Resource,
  id: string,
  patch: Row,
  ifMatch: string | undefined,
  inputs: EditInputs
): Result.Result<Change, GatewayError> =>
  Result.gen(function* () {
    const current = yield* existing<Entry>(catalog[resource], resource, id, ifMatch, inputs)
    const key = KEY_FIELD[resource]
    if (patch[key] !== undefined && patch[key] !== id) {
      return yield* Result.fail(
        isTenancy(resource)
          ? unprocessable("id", "id: read-only")
          : unprocessable("name", "name: cannot be changed; add the entry under the new name and remove this one")
      )
    }
    if (isTenancy(resource)) yield* check(fieldProblem(resource, patch, true, NULLABLE))
    if (resource === "providers") yield* check(maskedSecretProblem(patch))
    const next: Record<string, unknown> = { ...current }
    for (const [field, value] of Object.entries(patch)) {
      if (field === key) continue
      if (value === null || value === undefined) delete next[field]
      else next[field] = value
    }
    const entry = isTenancy(resource) ? { ...next, id } : { ...next, name: id }
    return {
      id,
      next: withEntry(catalog, resource, id, entry),
      entry,
      detail: { fields: Object.keys(patch) },
      reveal: {}
    }
  })

const quoted = (list: ReadonlyArray<string>) => list.map((n) => JSON.stringify(n)).join(", ")
const them = (n: number) => (n === 1 ? "it" : "them")

/** What still uses the entry: its description and how to resolve it, or undefined. */
const dependants = (
  catalog: Catalog,
  resource: Resource,
  id: string
): { readonly list: ReadonlyArray<string>; readonly hint: string } | undefined => {
  if (resource === "providers") {
    const users = catalog.models.filter((m) => providersOf(m).includes(id)).map((m) => m.name)
    return users.length === 0
      ? undefined
      : {
          list: [`${users.length === 1 ? "model" : "models"} ${quoted(users)}`],
          hint: `change or remove ${them(users.length)} first`
        }
  }
  if (resource === "models") {
    const fallbacks = catalog.models
      .filter((m) => listed(m["fallbacks"], id))
      .map((m) => `models[${JSON.stringify(m.name)}].fallbacks`)
    const routes = catalog.routes.filter((r) => r.model === id).map((r) => `routes[${r.position}] (${String(r.path)})`)
    const list = [...fallbacks, ...routes]
    return list.length === 0 ? undefined : { list, hint: `change or remove ${them(list.length)} first` }
  }
  if (resource === "projects") {
    const keys = catalog.keys.filter((k) => k["project_id"] === id).map((k) => k.id)
    return keys.length === 0
      ? undefined
      : { list: [`${keys.length === 1 ? "key" : "keys"} ${quoted(keys)}`], hint: `delete ${them(keys.length)} first` }
  }
  return undefined
}

/** Removes an entry nothing depends on. A project leaves its members (users without it); a user leaves its keys (detached). */
export const remove = (
  catalog: Catalog,
  resource: Resource,
  id: string,
  ifMatch: string | undefined,
  inputs: EditInputs
): Result.Result<Change, GatewayError> =>
  Result.gen(function* () {
    yield* existing<Entry>(catalog[resource], resource, id, ifMatch, inputs)
    const used = dependants(catalog, resource, id)
    if (used !== undefined) {
      return yield* Result.fail(
        gatewayError({
          _tag: "Conflict",
          param: null,
          message: `The ${SINGULAR[resource]} ${JSON.stringify(id)} is used by ${used.list.join(", ")}; ${used.hint}.`
        })
      )
    }
    let next = withEntry(catalog, resource, id, undefined)
    if (resource === "projects") {
      next = {
        ...next,
        users: next.users.map((u) => (listed(u["projects"], id) ? { ...u, projects: without(u["projects"], id) } : u))
      }
    } else if (resource === "users") {
      next = {
        ...next,
        keys: next.keys.map((k) => {
          if (k["user_id"] !== id) return k
          const { user_id: _detached, ...detached } = k
          return detached
        })
      }
    }
    return { id, next, entry: undefined, detail: {}, reveal: {} }
  })

/** A new key for key `id`; the old one is accepted for `gracePeriodMs` (not at all when 0). */
export const rotate = (
  catalog: Catalog,
  id: string,
  gracePeriodMs: number,
  ifMatch: string | undefined,
  inputs: EditInputs
): Result.Result<Change, GatewayError> =>
  Result.gen(function* () {
    const current = yield* existing(catalog.keys, "keys", id, ifMatch, inputs)
    const material = inputs.generateKey()
    const rotated = { ...current, hash: material.hash, prefix: material.prefix }
    const rest = ({ previous_hash: _hash, previous_expires_at: _until, ...kept }: IdEntry) => kept
    const entry =
      gracePeriodMs > 0
        ? {
            ...rotated,
            previous_hash: current["hash"],
            previous_expires_at: new Date(inputs.now + gracePeriodMs).toISOString()
          }
        : rest(rotated)
    return {
      id,
      next: withEntry(catalog, "keys", id, entry),
      entry,
      detail: { prefix: material.prefix, grace_period_ms: gracePeriodMs },
      reveal: { key: material.key }
    }
  })
