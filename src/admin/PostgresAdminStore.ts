/**
 * The AdminStore on the Postgres config store. Reads take the whole catalog in one statement (the
 * catalog is what every replica loads anyway) and page it in memory. Every write is one
 * transaction, serialized by `pg_advisory_xact_lock`: read the catalog, decide the change
 * (CatalogEdit.ts: `If-Match`, names, dependants, key material), map it back to rows, validate
 * the whole resulting catalog with `decodeCatalog` (the replicas' own checks, so a change they
 * would reject is refused here with 422 naming the field; problems the catalog already had do not
 * block unrelated writes), write the row, add an `audit_log` row (actor, action, resource, id, the
 * fields changed, never a value of a secret), commit, then reload this gateway (so the write
 * answers once every worker serves the change). The tables' triggers notify `llmgate_config`, and
 * every other replica reloads; what a deletion entails (a user's keys detached, a project's members
 * leaving it) the tables' foreign keys do.
 *
 * Provider secrets (config/SecretFields.ts: `api_key`, `auth`, header values) are sealed with
 * ProviderSecrets before they are validated or stored, and shown masked; a mask sent back is
 * refused with 422. Catalog values are data: nothing read from the tables is ever interpolated.
 * A key's plaintext exists only in the answer to its creation or rotation: the table holds its
 * SHA-256 and prefix. `models` of a key is stored as JSON `null` for "every model".
 */
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import type * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type postgres from "postgres"
import { maskSecret } from "../auth/KeyMaterial.ts"
import type { ConfigError, ConfigIssue } from "../config/ConfigError.ts"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import {
  CONFIG_CHANNEL,
  type CatalogRows,
  decodeCatalog,
  keySection,
  projectSection,
  readCatalogRows,
  type SpecRow,
  type TenancyRow,
  userSection,
  writeCatalogRow
} from "../store/postgres/Catalog.ts"
import { describeCause } from "../store/postgres/Migrations.ts"
import type { ProviderSecrets } from "../store/postgres/ProviderSecrets.ts"
import { lockedTransaction } from "../store/postgres/Transaction.ts"
import { hashOf, KEY_FIELD, notFound, refusal } from "./AdminRules.ts"
import type { Actor, AdminObject, AdminStoreShape, ListQuery, Page, Resource } from "./AdminStore.ts"
import { SINGULAR } from "./AdminStore.ts"
import * as CatalogEdit from "./CatalogEdit.ts"

export interface PostgresAdminStoreOptions {
  /** The file's settings (`FILE_SETTINGS` of store/postgres/Catalog.ts), as the replicas combine them with the catalog. */
  readonly settings: Effect.Effect<Readonly<Record<string, unknown>>, ConfigError>
  readonly secrets: ProviderSecrets
  /** Re-reads the config on this gateway, answering once every worker serves it (the other replicas hear the notification). */
  readonly reload: Effect.Effect<void, GatewayError>
  readonly now?: () => number
}

/** Advisory lock key serializing admin writes ("llmgate" + 1, next to the migration lock's key). */
export const ADMIN_LOCK_KEY = "30510560968258662"

type Row = Readonly<Record<string, unknown>>
type Sql = postgres.Sql | postgres.TransactionSql

/** The etag of a stored row: a hash of its canonical JSON (keys sorted). */
export const etagOf = (resource: Resource, row: Row): string =>
  hashOf(resource === "providers" || resource === "models" ? { name: row["name"], spec: row["spec"] } : row)

const rowOf = (rows: CatalogRows, resource: Resource, id: string): Row | undefined => {
  const table: ReadonlyArray<Row> = rows[resource]
  return table.find((r) => String(r[KEY_FIELD[resource]]) === id)
}

const unavailable =
  (what: string) =>
  (cause: unknown): GatewayError =>
    gatewayError({
      _tag: "Unavailable",
      message: `The config store could not ${what}: ${cause instanceof Error ? describeCause(cause) : String(cause)}`
    })

const specOf = (row: SpecRow): Row => (Predicate.isObject(row.spec) ? row.spec : {})

/** The rows as CatalogEdit's catalog: providers and models as `{ ...spec, name }`, tenancy rows as the file's entries. */
const catalogOf = (rows: CatalogRows) =>
  Schema.decodeUnknownEffect(CatalogEdit.Catalog)({
    providers: rows.providers.map((r) => ({ ...specOf(r), name: r.name })),
    models: rows.models.map((r) => ({ ...specOf(r), name: r.name })),
    routes: rows.routes,
    projects: rows.projects.map(projectSection),
    users: rows.users.map(userSection),
    keys: rows.keys.map(keySection)
  }).pipe(Effect.mapError(unavailable("read the catalog")))

/** A changed provider or model as its row: the spec keeps `name` only where it had it. */
const specRow = (resource: "providers" | "models", name: string, entry: Row, rows: CatalogRows): SpecRow => {
  const original = rows[resource].find((r) => r.name === name)
  const { name: _name, ...spec } = entry
  const position = original?.position ?? Math.max(-1, ...rows[resource].map((r) => r.position ?? 0)) + 1
  return { name, position, spec: original === undefined || "name" in specOf(original) ? entry : spec }
}

/** A changed project, user or key as its row (a key's `hash` is `key_hash`). */
const tenancyRow = (resource: "projects" | "users" | "keys", id: string, entry: Row): TenancyRow =>
  resource === "keys" ? { ...entry, id, key_hash: entry["hash"] } : { ...entry, id }

/** Rows after a change: an entry the change kept keeps its row, another is `map`ped. */
const kept = <E, R>(
  before: ReadonlyArray<E>,
  after: ReadonlyArray<E>,
  rows: ReadonlyArray<R>,
  map: (e: E) => R
): ReadonlyArray<R> => after.map((e) => rows[before.indexOf(e)] ?? map(e))

type Decide = (
  catalog: CatalogEdit.Catalog,
  inputs: CatalogEdit.EditInputs
) => Result.Result<CatalogEdit.Change, GatewayError>

export const make = (sql: postgres.Sql, options: PostgresAdminStoreOptions): AdminStoreShape => {
  const now = options.now ?? Date.now
  const { secrets } = options
  const query = <A>(what: string, run: () => PromiseLike<A>): Effect.Effect<A, GatewayError> =>
    Effect.tryPromise({ try: () => run(), catch: unavailable(what) })
  const readRows = (conn: Sql) =>
    readCatalogRows(conn).pipe(Effect.mapError((e) => unavailable("read the catalog")(e.message)))

  /** An object as shown: a provider's secrets masked (`****` where one does not open), a tenancy row's public fields. */
  const present = (resource: Resource, row: Row): Effect.Effect<AdminObject> => {
    const etag = etagOf(resource, row)
    const spec = Predicate.isObject(row["spec"]) ? row["spec"] : {}
    const name = String(row["name"])
    if (resource === "providers") {
      return Effect.map(secrets.open(name, spec, `providers[${JSON.stringify(name)}]`, []), (opened) => ({
        ...CatalogEdit.maskedProvider(opened, spec, (_, value) =>
          typeof value === "string" ? maskSecret(value) : "****"
        ),
        name,
        etag
      }))
    }
    return Effect.succeed(
      resource === "models" ? { ...spec, name: row["name"], etag } : { ...CatalogEdit.tenancyView(resource, row), etag }
    )
  }

  const issuesOf = (settings: Row, rows: CatalogRows): Effect.Effect<ReadonlyArray<ConfigIssue>> =>
    decodeCatalog(settings, rows, secrets).pipe(Effect.match({ onSuccess: () => [], onFailure: (e) => e.issues }))

  /** Fails with 422 (409 for a duplicate) naming the field when `after` has problems `before` had not. */
  const validate = (before: CatalogRows, after: CatalogRows, resource: Resource, id: string) =>
    Effect.gen(function* () {
      const settings = yield* options.settings.pipe(
        Effect.mapError((e) =>
          gatewayError({ _tag: "Unavailable", message: `The gateway's config file is invalid:\n${e.message}` })
        )
      )
      const refused = refusal(resource, id, yield* issuesOf(settings, before), yield* issuesOf(settings, after))
      if (refused !== undefined) return yield* Effect.fail(refused)
    })

  /** After a commit: this gateway serves the change before the write answers (the others hear the notification). */
  const reloadHere = options.reload.pipe(
    Effect.catch((e) => Effect.logWarning(`the change was committed, but reloading it failed: ${e.message}`))
  )

  /** A write: decide it on the current rows, validate the rows after it, write, audit, answer, commit, reload. */
  const write = <A>(
    actor: Actor,
    action: string,
    resource: Resource,
    decide: Decide,
    answer: (conn: Sql, change: CatalogEdit.Change) => Effect.Effect<A, GatewayError>
  ) =>
    Effect.tap(
      lockedTransaction(
        sql,
        ADMIN_LOCK_KEY,
        (conn) =>
          Effect.gen(function* () {
            const rows = yield* readRows(conn)
            const catalog = yield* catalogOf(rows)
            const change = yield* Effect.fromResult(
              decide(
                catalog,
                CatalogEdit.liveInputs(now(), (r, e) => etagOf(r, rowOf(rows, r, CatalogEdit.idOf(r, e)) ?? e))
              )
            )
            const { entry, next, id } = change
            let spec =
              entry !== undefined && (resource === "providers" || resource === "models")
                ? specRow(resource, id, entry, rows)
                : undefined
            if (spec !== undefined && resource === "providers") {
              const sealed = yield* secrets.seal(id, { ...specOf(spec) }).pipe(
                Effect.mapError(() =>
                  gatewayError({
                    _tag: "Internal",
                    message: `The secrets of provider ${JSON.stringify(id)} could not be encrypted.`
                  })
                )
              )
              spec = { ...spec, spec: sealed }
            }
            const specs = (r: "providers" | "models") =>
              kept(catalog[r], next[r], rows[r], (e) =>
                spec !== undefined && e === entry ? spec : specRow(r, e.name, e, rows)
              )
            const tenancy = (r: "projects" | "users" | "keys") =>
              kept(catalog[r], next[r], rows[r], (e) => tenancyRow(r, e.id, e))
            const after = {
              ...rows,
              providers: specs("providers"),
              models: specs("models"),
              projects: tenancy("projects"),
              users: tenancy("users"),
              keys: tenancy("keys")
            }
            yield* validate(rows, after, resource, id)
            const row = entry === undefined ? undefined : (spec ?? rowOf(after, resource, id))
            yield* query(`${action} the ${SINGULAR[resource]}`, () =>
              writeCatalogRow(conn, resource, id, row, action === "create")
            )
            const detail = { ...change.detail, ...(actor.userId === undefined ? {} : { user_id: actor.userId }) }
            yield* query(
              "write the audit log",
              () =>
                conn`insert into audit_log (actor, action, resource, resource_id, detail)
               values (${actor.id}, ${action}, ${SINGULAR[resource]}, ${id}, ${JSON.stringify(detail)}::text::jsonb)`
            )
            return yield* answer(conn, change)
          }),
        (e) => unavailable("run the transaction")(e instanceof Error ? e.message : String(e))
      ),
      () => reloadHere
    )

  /** The changed object as now stored, with what the answer adds (a key's plaintext). */
  const shown = (resource: Resource) => (conn: Sql, change: CatalogEdit.Change) =>
    Effect.gen(function* () {
      const stored = rowOf(yield* readRows(conn), resource, change.id)
      if (stored === undefined) return yield* Effect.fail(notFound(resource, change.id))
      return { ...(yield* present(resource, stored)), ...change.reveal }
    })

  const list = (resource: Resource, q: ListQuery): Effect.Effect<Page, GatewayError> =>
    Effect.gen(function* () {
      const rows = yield* readRows(sql)
      const page = yield* CatalogEdit.page(yield* catalogOf(rows), resource, q)
      const data = yield* Effect.forEach(page.rows, (e) =>
        present(resource, rowOf(rows, resource, CatalogEdit.idOf(resource, e)) ?? e)
      )
      return { data, next_cursor: page.nextCursor }
    })

  const get = (resource: Resource, id: string) =>
    Effect.gen(function* () {
      const row = rowOf(yield* readRows(sql), resource, id)
      if (row === undefined) return yield* Effect.fail(notFound(resource, id))
      return yield* present(resource, row)
    })

  return {
    mode: "postgres",
    list,
    get,
    create: (resource, body, actor) =>
      write(actor, "create", resource, (c, i) => CatalogEdit.create(c, resource, body, i), shown(resource)),
    update: (resource, id, patch, ifMatch, actor) =>
      write(
        actor,
        "update",
        resource,
        (c, i) => CatalogEdit.update(c, resource, id, patch, ifMatch, i),
        shown(resource)
      ),
    remove: (resource, id, ifMatch, actor) =>
      write(
        actor,
        "delete",
        resource,
        (c, i) => CatalogEdit.remove(c, resource, id, ifMatch, i),
        () => Effect.void
      ),
    rotateKey: (id, gracePeriodMs, ifMatch, actor) =>
      write(actor, "rotate", "keys", (c, i) => CatalogEdit.rotate(c, id, gracePeriodMs, ifMatch, i), shown("keys")),
    reload: (actor) =>
      Effect.gen(function* () {
        yield* query("notify the replicas", () => sql`select pg_notify(${CONFIG_CHANNEL}, 'reload')`)
        const detail = JSON.stringify(actor.userId === undefined ? {} : { user_id: actor.userId })
        yield* query(
          "write the audit log",
          () =>
            sql`insert into audit_log (actor, action, resource, detail) values (${actor.id}, 'reload', 'config', ${detail}::text::jsonb)`
        )
        yield* options.reload
      })
  }
}
