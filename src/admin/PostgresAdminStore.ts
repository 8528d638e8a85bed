/**
 * The AdminStore on the Postgres config store. Reads take the whole catalog in one statement (the
 * catalog is what every replica loads anyway) and page it in memory. Every write is one
 * transaction, serialized by `pg_advisory_xact_lock`: read the catalog, check `If-Match`, apply the
 * change to the rows in memory, validate the whole resulting catalog with `decodeCatalog` (the
 * replicas' own checks, so a change they would reject is refused here with 422 naming the field;
 * problems the catalog already had do not block unrelated writes), write the rows, add an
 * `audit_log` row (actor, action, resource, id, the fields changed, never a value of a secret),
 * commit, then reload this gateway (so the write answers once every worker serves the change). The
 * tables' triggers notify `llmgate_config`, and every other replica reloads.
 *
 * Provider secrets (config/SecretFields.ts: `api_key`, `auth`, header values) are sealed with
 * ProviderSecrets before they are validated or stored, and shown masked; a mask sent back (a client
 * writing what it read) is refused with 422 rather than stored. Catalog values are data: nothing
 * read from the tables is ever interpolated (`${VAR}` there is literal text). A key's plaintext exists only in the answer to its creation or rotation: the table
 * holds its SHA-256 and prefix. `models` of a key is stored as JSON `null` for "every model".
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type postgres from "postgres"
import { generateKey, maskSecret, newId } from "../auth/KeyMaterial.ts"
import type { ConfigError, ConfigIssue } from "../config/ConfigError.ts"
import { timestampMillis } from "../config/units.ts"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import { CONFIG_CHANNEL, type CatalogRows, decodeCatalog, readCatalogRows, type SpecRow, type TenancyRow } from "../store/postgres/Catalog.ts"
import { describeCause } from "../store/postgres/Migrations.ts"
import { providerSecretPaths, valueAt, withValueAt } from "../config/SecretFields.ts"
import type { ProviderSecrets } from "../store/postgres/ProviderSecrets.ts"
import {
  etagMatches, fieldProblem, hashOf, KEY_FIELD, maskedSecretProblem, notFound, pageOf, preconditionFailed, PUBLIC_FIELDS, refusal,
  unprocessable
} from "./AdminRules.ts"
import type { Actor, AdminObject, AdminStoreShape, ListQuery, Page, Resource } from "./AdminStore.ts"
import { SINGULAR } from "./AdminStore.ts"

export interface PostgresAdminStoreOptions {
  /** The file's settings (`server`, `master_key`, `store`), as the replicas combine them with the catalog. */
  readonly settings: Effect.Effect<Readonly<Record<string, unknown>>, ConfigError>
  readonly secrets: ProviderSecrets
  /** Re-reads the config on this gateway, answering once every worker serves it (the other replicas hear the notification). */
  readonly reload: Effect.Effect<void, GatewayError>
  readonly now?: () => number
}

/** Advisory lock key serializing admin writes ("llmgate" + 1, next to the migration lock's key). */
export const ADMIN_LOCK_KEY = "30510560968258662"

type Row = Readonly<Record<string, unknown>>

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value)

/** The etag of a stored row: a hash of its canonical JSON (keys sorted). */
export const etagOf = (resource: Resource, row: Row): string =>
  hashOf(resource === "providers" || resource === "models" ? { name: row["name"], spec: row["spec"] } : row)

const idOf = (resource: Resource, row: Row): string => String(row[KEY_FIELD[resource]])

const tableOf = (rows: CatalogRows, resource: Resource): ReadonlyArray<Row> => rows[resource] as ReadonlyArray<Row>

const withTable = (rows: CatalogRows, resource: Resource, list: ReadonlyArray<Row>): CatalogRows => ({ ...rows, [resource]: list })

const replaceRow = (rows: CatalogRows, resource: Resource, id: string, next: Row | undefined): CatalogRows =>
  withTable(
    rows,
    resource,
    next === undefined
      ? tableOf(rows, resource).filter((r) => idOf(resource, r) !== id)
      : tableOf(rows, resource).map((r) => (idOf(resource, r) === id ? next : r))
  )

/** Fields that `null` clears (to SQL null; for a key's `models`, JSON null: every model). */
const NULLABLE = new Set(["limits", "email", "user_id", "models", "expires_at", "budget"])
/** What a PATCH may set to `null`: `metadata: null` empties it. */
const NULLABLE_OR_METADATA: ReadonlySet<string> = new Set([...NULLABLE, "metadata"])

const unavailable = (what: string) => (cause: unknown): GatewayError =>
  gatewayError({ _tag: "Unavailable", message: `The config store could not ${what}: ${cause instanceof Error ? describeCause(cause) : String(cause)}` })

const jsonText = (value: unknown): string | null => value === undefined || value === null ? null : JSON.stringify(value)
/** A validated timestamp as an explicit UTC instant (a date alone means 00:00 UTC, not the server's zone). */
const instant = (value: unknown): string | null => {
  if (typeof value !== "string") return null
  const ms = timestampMillis(value)
  return ms === undefined ? null : new Date(ms).toISOString()
}

/** Whether a row passes a list filter. */
const matches = (resource: Resource, row: Row, field: string, value: string): boolean => {
  const spec = isRecord(row["spec"]) ? row["spec"] : {}
  switch (resource) {
    case "providers":
      return spec[field] === value
    case "models":
      return Array.isArray(spec["targets"]) && spec["targets"].some((t) => isRecord(t) && t["provider"] === value)
    case "users":
      return field === "project_id" ? Array.isArray(row["projects"]) && row["projects"].includes(value) : row[field] === value
    default:
      return String(row[field]) === value
  }
}

/** Carries a failed body's exit out of `sql.begin`'s callback, which must reject to roll back. */
class RolledBack extends Error {
  readonly exit: Exit.Exit<unknown, GatewayError>
  constructor(exit: Exit.Exit<unknown, GatewayError>) {
    super("rolled back")
    this.exit = exit
  }
}

/** A planned write: the catalog after it, how to write it, what to audit. */
interface Plan {
  readonly id: string
  readonly next: CatalogRows
  readonly write: (conn: postgres.TransactionSql) => Promise<unknown>
  readonly detail: Readonly<Record<string, unknown>>
  /** Added to the answer (a key's plaintext, once). */
  readonly extra?: Readonly<Record<string, unknown>>
}

export const make = (sql: postgres.Sql, options: PostgresAdminStoreOptions): AdminStoreShape => {
  const now = options.now ?? Date.now
  const { secrets } = options

  const query = <A>(what: string, run: () => PromiseLike<A>): Effect.Effect<A, GatewayError> =>
    Effect.tryPromise({ try: () => run(), catch: unavailable(what) })

  const readRows = (conn: postgres.Sql | postgres.TransactionSql) => readCatalogRows(conn).pipe(Effect.mapError((e) => unavailable("read the catalog")(e.message)))

  // ---- presentation ------------------------------------------------------------------------

  /** A provider as shown: its spec with every secret masked (`****` where it does not open). */
  const presentProvider = (row: Row) =>
    Effect.gen(function*() {
      const name = String(row["name"])
      const spec = isRecord(row["spec"]) ? row["spec"] : {}
      const opened = yield* secrets.open(name, spec, `providers[${JSON.stringify(name)}]`, [])
      let out: unknown = opened
      for (const path of providerSecretPaths(spec, "secret")) {
        const value = valueAt(opened, path)
        out = withValueAt(out, path, typeof value === "string" ? maskSecret(value) : "****")
      }
      return { ...(out as Row), name, etag: etagOf("providers", row) } as AdminObject
    })

  const present = (resource: Resource, row: Row): Effect.Effect<AdminObject> => {
    if (resource === "providers") return presentProvider(row)
    if (resource === "models") {
      const spec = isRecord(row["spec"]) ? row["spec"] : {}
      return Effect.succeed({ ...spec, name: row["name"], etag: etagOf(resource, row) })
    }
    const out: Record<string, unknown> = {}
    for (const f of PUBLIC_FIELDS[resource]) out[f] = row[f] ?? null
    if (resource === "keys") out["models"] = row["models"] === undefined ? null : row["models"]
    return Effect.succeed({ ...out, etag: etagOf(resource, row) } as AdminObject)
  }

  const find = (rows: CatalogRows, resource: Resource, id: string): Row | undefined =>
    tableOf(rows, resource).find((r) => idOf(resource, r) === id)

  const existing = (rows: CatalogRows, resource: Resource, id: string, ifMatch: string | undefined) => {
    const row = find(rows, resource, id)
    if (row === undefined) return Effect.fail(notFound(resource, id))
    if (ifMatch !== undefined && !etagMatches(ifMatch, etagOf(resource, row))) {
      return Effect.fail(preconditionFailed(resource, id, ifMatch, etagOf(resource, row)))
    }
    return Effect.succeed(row)
  }

  // ---- validation --------------------------------------------------------------------------

  const issuesOf = (settings: Readonly<Record<string, unknown>>, rows: CatalogRows): Effect.Effect<ReadonlyArray<ConfigIssue>> =>
    decodeCatalog(settings, rows, secrets).pipe(Effect.match({ onSuccess: () => [], onFailure: (e) => e.issues }))

  /** Fails with 422 (409 for a duplicate) naming the field when `after` has problems `before` had not. */
  const validate = (before: CatalogRows, after: CatalogRows, resource: Resource, id: string) =>
    Effect.gen(function*() {
      const settings = yield* options.settings.pipe(
        Effect.mapError((e) => gatewayError({ _tag: "Unavailable", message: `The gateway's config file is invalid:\n${e.message}` }))
      )
      const refused = refusal(resource, id, yield* issuesOf(settings, before), yield* issuesOf(settings, after))
      if (refused !== undefined) return yield* Effect.fail(refused)
    })

  // ---- transactions ------------------------------------------------------------------------

  /**
   * Runs `body` in one transaction under the admin lock; commits on success, rolls back otherwise.
   * Uninterruptible. postgres.js's own `begin` (its queries go through the pool's queue and fail
   * when their connection closes), not `reserve()`, which a connection reset while it is queued
   * leaves pending forever (porsager/postgres#1195): the admin call would hang and hold the lock.
   */
  const transact = <A>(body: (conn: postgres.TransactionSql) => Effect.Effect<A, GatewayError>): Effect.Effect<A, GatewayError> =>
    Effect.uninterruptible(Effect.flatMap(Effect.context<never>(), (context) => {
      const run = Effect.runPromiseExitWith(context)
      return Effect.flatMap(
        Effect.tryPromise({
          try: () =>
            sql.begin(async (conn) => {
              await conn`select pg_advisory_xact_lock(${ADMIN_LOCK_KEY}::bigint)`
              const exit = await run(body(conn))
              // A failure rolls the transaction back: postgres.js does that when the callback rejects.
              if (Exit.isFailure(exit)) throw new RolledBack(exit)
              return [exit] as const
            }),
          catch: (e) => e instanceof RolledBack ? e : unavailable("run the transaction")(e instanceof Error ? e.message : String(e))
        }),
        ([exit]) => exit
      ).pipe(Effect.catch((e) => e instanceof RolledBack ? (e.exit as Exit.Exit<A, GatewayError>) : Effect.fail(e)))
    }))

  /** After a commit: this gateway serves the change before the write answers (the others hear the notification). */
  const reloadHere = options.reload.pipe(
    Effect.catch((e) => Effect.logWarning(`the change was committed, but reloading it failed: ${e.message}`))
  )

  /**
   * A write: plan it on the current rows, validate, write, audit, commit, reload; answers the
   * object as stored after it.
   */
  const write = (
    actor: Actor,
    action: string,
    resource: Resource,
    plan: (rows: CatalogRows) => Effect.Effect<Plan, GatewayError>
  ): Effect.Effect<AdminObject | undefined, GatewayError> =>
    Effect.tap(transact((conn) =>
      Effect.gen(function*() {
        const rows = yield* readRows(conn)
        const p = yield* plan(rows)
        yield* validate(rows, p.next, resource, p.id)
        yield* query(`${action} the ${SINGULAR[resource]}`, () => p.write(conn))
        const detail = { ...p.detail, ...(actor.userId === undefined ? {} : { user_id: actor.userId }) }
        yield* query("write the audit log", () =>
          conn`insert into audit_log (actor, action, resource, resource_id, detail)
               values (${actor.id}, ${action}, ${SINGULAR[resource]}, ${p.id}, ${JSON.stringify(detail)}::text::jsonb)`)
        if (action === "delete") return undefined
        const stored = find(yield* readRows(conn), resource, p.id)
        if (stored === undefined) return yield* Effect.fail(notFound(resource, p.id))
        return { ...(yield* present(resource, stored)), ...p.extra } as AdminObject
      })
    ), () => reloadHere)

  const sealed = (name: string, spec: Record<string, unknown>) =>
    secrets.seal(name, spec).pipe(Effect.mapError(() => gatewayError({ _tag: "Internal", message: `The secrets of provider ${JSON.stringify(name)} could not be encrypted.` })))

  // ---- row writers -------------------------------------------------------------------------

  const writeSpec = (resource: "providers" | "models", row: Row, insert: boolean) => (conn: postgres.TransactionSql) => {
    const spec = JSON.stringify(row["spec"])
    const name = String(row["name"])
    return insert
      ? conn`insert into ${conn(resource)} (name, position, spec) values (${name}, ${Number(row["position"] ?? 0)}, ${spec}::text::jsonb)`
      : conn`update ${conn(resource)} set spec = ${spec}::text::jsonb, updated_at = now() where name = ${name}`
  }

  const writeTenancy = (resource: "projects" | "users" | "keys", row: Row, insert: boolean) => async (conn: postgres.TransactionSql) => {
    const id = row.id as string
    const text = (f: string) => (row[f] === undefined || row[f] === null ? null : String(row[f]))
    const metadata = JSON.stringify(row["metadata"] ?? {})
    if (resource === "projects") {
      const limits = jsonText(row["limits"])
      return insert
        ? conn`insert into projects (id, name, limits, metadata) values (${id}, ${text("name")}, ${limits}::text::jsonb, ${metadata}::text::jsonb)`
        : conn`update projects set name = ${text("name")}, limits = ${limits}::text::jsonb, metadata = ${metadata}::text::jsonb, updated_at = now() where id = ${id}`
    }
    if (resource === "users") {
      if (insert) {
        await conn`insert into users (id, name, email, role, metadata) values (${id}, ${text("name")}, ${text("email")}, ${text("role")}, ${metadata}::text::jsonb)`
      } else {
        await conn`update users set name = ${text("name")}, email = ${text("email")}, role = ${text("role")}, metadata = ${metadata}::text::jsonb,
                   updated_at = now() where id = ${id}`
        await conn`delete from user_projects where user_id = ${id}`
      }
      const projects = Array.isArray(row["projects"]) ? row["projects"].map(String) : []
      for (const p of projects) await conn`insert into user_projects (user_id, project_id) values (${id}, ${p})`
      return
    }
    const models = JSON.stringify(row["models"] ?? null)
    const limits = jsonText(row["limits"])
    const budget = jsonText(row["budget"])
    const enabled = row["enabled"] !== false
    if (insert) {
      return conn`insert into virtual_keys (id, name, key_hash, prefix, project_id, user_id, models, enabled, expires_at, limits, budget, metadata)
        values (${id}, ${text("name")}, ${text("key_hash")}, ${text("prefix")}, ${text("project_id")}, ${text("user_id")}, ${models}::text::jsonb,
                ${enabled}, ${instant(row["expires_at"])}::timestamptz, ${limits}::text::jsonb, ${budget}::text::jsonb, ${metadata}::text::jsonb)`
    }
    return conn`update virtual_keys set name = ${text("name")}, key_hash = ${text("key_hash")}, prefix = ${text("prefix")},
        project_id = ${text("project_id")}, user_id = ${text("user_id")}, models = ${models}::text::jsonb, enabled = ${enabled},
        expires_at = ${instant(row["expires_at"])}::timestamptz, limits = ${limits}::text::jsonb, budget = ${budget}::text::jsonb,
        metadata = ${metadata}::text::jsonb, previous_hash = ${text("previous_hash")},
        previous_expires_at = ${instant(row["previous_expires_at"])}::timestamptz, updated_at = now() where id = ${id}`
  }

  /** Rejects fields a request may not set on a tenancy resource, naming the first. */
  const checkFields = (resource: "projects" | "users" | "keys", body: Row, patch: boolean) => {
    const problem = fieldProblem(resource, body, patch, NULLABLE_OR_METADATA)
    return problem === undefined ? Effect.void : Effect.fail(problem)
  }

  // ---- operations --------------------------------------------------------------------------

  const list = (resource: Resource, q: ListQuery): Effect.Effect<Page, GatewayError> =>
    Effect.gen(function*() {
      const rows = yield* readRows(sql)
      const page = yield* pageOf(tableOf(rows, resource), q, (row) => idOf(resource, row), (row, f, v) => matches(resource, row, f, v))
      return { data: yield* Effect.forEach(page.rows, (row) => present(resource, row)), next_cursor: page.nextCursor }
    })

  const get = (resource: Resource, id: string) =>
    Effect.gen(function*() {
      const row = find(yield* readRows(sql), resource, id)
      if (row === undefined) return yield* Effect.fail(notFound(resource, id))
      return yield* present(resource, row)
    })

  const create = (resource: Resource, body: Row, actor: Actor) =>
    write(actor, "create", resource, (rows) =>
      Effect.gen(function*() {
        const detail = { fields: Object.keys(body) }
        const stamp = new Date(now()).toISOString()
        if (resource === "providers" || resource === "models") {
          const name = body["name"]
          if (typeof name !== "string" || name === "") return yield* Effect.fail(unprocessable("name", `name: required, the ${SINGULAR[resource]}'s name`))
          if (find(rows, resource, name) !== undefined) {
            return yield* Effect.fail(gatewayError({ _tag: "Conflict", param: "name", message: `A ${SINGULAR[resource]} named ${JSON.stringify(name)} already exists.` }))
          }
          const masked = resource === "providers" ? maskedSecretProblem(body) : undefined
          if (masked !== undefined) return yield* Effect.fail(masked)
          const spec = resource === "providers" ? yield* sealed(name, { ...body }) : { ...body }
          const position = Math.max(-1, ...tableOf(rows, resource).map((r) => Number(r["position"] ?? 0))) + 1
          const row: SpecRow = { name, position, spec }
          return { id: name, next: withTable(rows, resource, [...tableOf(rows, resource), row]), write: writeSpec(resource, row, true), detail }
        }
        yield* checkFields(resource, body, false)
        const base = { created_at: stamp, updated_at: stamp, metadata: body["metadata"] ?? {} }
        let row: TenancyRow
        let extra: Record<string, unknown> | undefined
        if (resource === "projects") {
          row = { ...body, ...base, id: newId("prj"), limits: body["limits"] ?? null }
        } else if (resource === "users") {
          row = { ...body, ...base, id: newId("usr"), email: body["email"] ?? null, projects: body["projects"] ?? [] }
        } else {
          const material = generateKey()
          row = {
            ...body,
            ...base,
            id: newId("key"),
            key_hash: material.hash,
            prefix: material.prefix,
            user_id: body["user_id"] ?? null,
            models: body["models"] ?? null,
            enabled: body["enabled"] ?? true,
            expires_at: body["expires_at"] ?? null,
            limits: body["limits"] ?? null,
            budget: body["budget"] ?? null,
            previous_hash: null,
            previous_expires_at: null
          }
          extra = { key: material.key }
        }
        const plan: Plan = {
          id: row.id,
          next: withTable(rows, resource, [...tableOf(rows, resource), row]),
          write: writeTenancy(resource, row, true),
          detail: resource === "keys" ? { ...detail, prefix: row["prefix"], project_id: row["project_id"] } : detail,
          ...(extra === undefined ? {} : { extra })
        }
        return plan
      })).pipe(Effect.map((o) => o as AdminObject))

  const update = (resource: Resource, id: string, patch: Row, ifMatch: string | undefined, actor: Actor) =>
    write(actor, "update", resource, (rows) =>
      Effect.gen(function*() {
        const current = yield* existing(rows, resource, id, ifMatch)
        const detail = { fields: Object.keys(patch) }
        if (resource === "providers" || resource === "models") {
          if (patch["name"] !== undefined && patch["name"] !== id) {
            return yield* Effect.fail(unprocessable("name", "name: cannot be changed; add the entry under the new name and remove this one"))
          }
          const masked = resource === "providers" ? maskedSecretProblem(patch) : undefined
          if (masked !== undefined) return yield* Effect.fail(masked)
          const spec: Record<string, unknown> = { ...(isRecord(current["spec"]) ? current["spec"] : {}) }
          for (const [field, value] of Object.entries(patch)) {
            if (value === null) delete spec[field]
            else spec[field] = value
          }
          const row: SpecRow = { name: id, position: Number(current["position"] ?? 0), spec: resource === "providers" ? yield* sealed(id, spec) : spec }
          return { id, next: replaceRow(rows, resource, id, row), write: writeSpec(resource, row, false), detail }
        }
        yield* checkFields(resource, patch, true)
        const next: Record<string, unknown> = { ...current }
        for (const [field, value] of Object.entries(patch)) next[field] = field === "metadata" && value === null ? {} : value
        const row = next as TenancyRow
        return { id, next: replaceRow(rows, resource, id, row), write: writeTenancy(resource, row, false), detail }
      })).pipe(Effect.map((o) => o as AdminObject))

  const remove = (resource: Resource, id: string, ifMatch: string | undefined, actor: Actor) =>
    write(actor, "delete", resource, (rows) =>
      Effect.gen(function*() {
        yield* existing(rows, resource, id, ifMatch)
        const quoted = (list: ReadonlyArray<string>) => list.map((n) => JSON.stringify(n))
        const refuse = (dependants: ReadonlyArray<string>, hint: string) =>
          Effect.fail(gatewayError({
            _tag: "Conflict",
            param: null,
            message: `The ${SINGULAR[resource]} ${JSON.stringify(id)} is used by ${dependants.join(", ")}; ${hint}.`
          }))
        let next = replaceRow(rows, resource, id, undefined)
        if (resource === "providers") {
          const users = rows.models.filter((m) =>
            isRecord(m.spec) && Array.isArray(m.spec["targets"]) && m.spec["targets"].some((t) => isRecord(t) && t["provider"] === id)
          ).map((m) => m.name)
          if (users.length > 0) return yield* refuse([`${users.length === 1 ? "model" : "models"} ${quoted(users).join(", ")}`], `change or remove ${users.length === 1 ? "it" : "them"} first`)
        } else if (resource === "models") {
          const fallbacks = rows.models.filter((m) => isRecord(m.spec) && Array.isArray(m.spec["fallbacks"]) && m.spec["fallbacks"].includes(id))
            .map((m) => `models[${JSON.stringify(m.name)}].fallbacks`)
          const routes = rows.routes.filter((r) => r.model === id).map((r) => `routes[${r.position}] (${r.path})`)
          const dependants = [...fallbacks, ...routes]
          if (dependants.length > 0) return yield* refuse(dependants, `change or remove ${dependants.length === 1 ? "it" : "them"} first`)
        } else if (resource === "projects") {
          const keys = rows.keys.filter((k) => k["project_id"] === id).map((k) => k.id)
          if (keys.length > 0) return yield* refuse([`${keys.length === 1 ? "key" : "keys"} ${quoted(keys).join(", ")}`], `delete ${keys.length === 1 ? "it" : "them"} first`)
          next = { ...next, users: next.users.map((u) => Array.isArray(u["projects"]) && u["projects"].includes(id) ? { ...u, projects: u["projects"].filter((p) => p !== id) } : u) }
        } else if (resource === "users") {
          // As the table does: the user's keys stay, detached from the user.
          next = { ...next, keys: next.keys.map((k) => (k["user_id"] === id ? { ...k, user_id: null } : k)) }
        }
        const table = resource === "keys" ? "virtual_keys" : resource
        const column = KEY_FIELD[resource]
        return { id, next, write: (conn: postgres.TransactionSql) => conn`delete from ${conn(table)} where ${conn(column)} = ${id}`, detail: {} }
      })).pipe(Effect.asVoid)

  const rotateKey = (id: string, gracePeriodMs: number, ifMatch: string | undefined, actor: Actor) =>
    write(actor, "rotate", "keys", (rows) =>
      Effect.gen(function*() {
        const current = yield* existing(rows, "keys", id, ifMatch)
        const material = generateKey()
        const grace = gracePeriodMs > 0
        const row: TenancyRow = {
          ...current,
          id,
          key_hash: material.hash,
          prefix: material.prefix,
          previous_hash: grace ? current["key_hash"] : null,
          previous_expires_at: grace ? new Date(now() + gracePeriodMs).toISOString() : null
        }
        return {
          id,
          next: replaceRow(rows, "keys", id, row),
          write: writeTenancy("keys", row, false),
          detail: { prefix: material.prefix, grace_period_ms: gracePeriodMs },
          extra: { key: material.key }
        }
      })).pipe(Effect.map((o) => o as AdminObject))

  const reload = (actor: Actor) =>
    Effect.gen(function*() {
      yield* query("notify the replicas", () => sql`select pg_notify(${CONFIG_CHANNEL}, 'reload')`)
      yield* query("write the audit log", () =>
        sql`insert into audit_log (actor, action, resource, detail) values (${actor.id}, 'reload', 'config', ${
          JSON.stringify(actor.userId === undefined ? {} : { user_id: actor.userId })
        }::text::jsonb)`)
      yield* options.reload
    })

  return { mode: "postgres", list, get, create, update, remove, rotateKey, reload }
}
