/**
 * The config catalog in Postgres: the `providers`, `models` and `routes` tables hold the same entries
 * as the YAML file's sections (`spec` is an entry as written in YAML, ordered by `position`), and
 * `projects`, `users` (+ `user_projects`) and `virtual_keys` the tenancy sections. Reading turns the
 * rows back into those sections (secrets opened) and validates them with `decodeConfig`, so the
 * rules and messages are the file's; writing (`importCatalog`) seeds an empty catalog in one
 * transaction with the secrets sealed and an audit-log row, and `writeCatalogRow` writes the one
 * row an admin change makes (PostgresAdminStore.ts).
 */
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type postgres from "postgres"
import type { LoadedConfig } from "../../config/Config.ts"
import { ConfigError, type ConfigIssue } from "../../config/ConfigError.ts"
import { decodeConfig } from "../../config/loadConfig.ts"
import { providerSecretPaths, valueAt } from "../../config/SecretFields.ts"
import { isSealed, type SecretBoxError } from "../../crypto/SecretBox.ts"
import { type StoreError, storeError } from "../../domain/StoreError.ts"
import { timestampMillis } from "../../domain/units.ts"
import { describeCause } from "./Migrations.ts"
import type { ProviderSecrets } from "./ProviderSecrets.ts"

/** How a catalog read from Postgres is named in errors. */
export const CATALOG_SOURCE = "postgres (providers/models/routes)"

/** The notification channel the tables' triggers signal on every change. */
export const CONFIG_CHANNEL = "llmgate_config"

/** A `providers` or `models` row. */
export const SpecRow = Schema.Struct({
  name: Schema.String,
  position: Schema.optional(Schema.Number),
  spec: Schema.Unknown
})
export type SpecRow = typeof SpecRow.Type

/**
 * A tenancy row (`projects`, `users` with its `projects` from `user_projects`, `virtual_keys`) as
 * `to_json` renders it: the table's columns by name. Values are unknown: the admin API puts request
 * fields here before they are validated, exactly like the replicas will validate them.
 */
export const TenancyRow = Schema.StructWithRest(Schema.Struct({ id: Schema.String }), [
  Schema.Record(Schema.String, Schema.Unknown)
])
export type TenancyRow = typeof TenancyRow.Type

/** Every table of the catalog, as `readCatalogRows` decodes them. */
export const CatalogRows = Schema.Struct({
  providers: Schema.Array(SpecRow),
  models: Schema.Array(SpecRow),
  routes: Schema.Array(Schema.Struct({ position: Schema.Number, path: Schema.String, model: Schema.String })),
  projects: Schema.Array(TenancyRow),
  users: Schema.Array(TenancyRow),
  keys: Schema.Array(TenancyRow)
})
export type CatalogRows = typeof CatalogRows.Type

const query =
  (what: string) =>
  (cause: unknown): StoreError =>
    storeError({ _tag: "Query", message: `${what}: ${describeCause(cause)}` })

/** Every config and tenancy table in one statement, so the read is one consistent snapshot. */
export const readCatalogRows = (sql: postgres.Sql | postgres.TransactionSql): Effect.Effect<CatalogRows, StoreError> =>
  Effect.tryPromise({
    try: () =>
      sql<Array<Record<string, unknown>>>`
        select
          coalesce((select json_agg(json_build_object('name', name, 'position', position, 'spec', spec) order by position, name) from providers), '[]'::json) as providers,
          coalesce((select json_agg(json_build_object('name', name, 'position', position, 'spec', spec) order by position, name) from models), '[]'::json) as models,
          coalesce((select json_agg(json_build_object('position', position, 'path', path, 'model', model) order by position) from routes), '[]'::json) as routes,
          coalesce((select json_agg(to_json(p) order by p.created_at, p.id) from projects p), '[]'::json) as projects,
          coalesce((select json_agg(json_build_object(
              'id', u.id, 'name', u.name, 'email', u.email, 'role', u.role, 'metadata', u.metadata,
              'projects', coalesce((select json_agg(up.project_id order by up.project_id) from user_projects up where up.user_id = u.id), '[]'::json),
              'created_at', u.created_at, 'updated_at', u.updated_at) order by u.created_at, u.id) from users u), '[]'::json) as users,
          coalesce((select json_agg(to_json(k) order by k.created_at, k.id) from virtual_keys k), '[]'::json) as keys`,
    catch: query("read the config catalog")
  }).pipe(
    Effect.flatMap(([row]) =>
      Schema.decodeUnknownEffect(CatalogRows)(
        row ?? { providers: [], models: [], routes: [], projects: [], users: [], keys: [] }
      ).pipe(Effect.mapError(query("read the config catalog")))
    )
  )

const jsonOrNull = (value: unknown): string | null =>
  value === undefined || value === null ? null : JSON.stringify(value)
/** A validated timestamp as an explicit UTC instant (a date alone means 00:00 UTC, not the server's zone). */
const utcInstant = (value: unknown): string | null => {
  const ms = typeof value === "string" ? timestampMillis(value) : undefined
  return ms === undefined ? null : new Date(ms).toISOString()
}

/**
 * Writes one catalog row as the admin API changes it: `row` inserted (`insert`) or updated, or
 * the row `id` deleted when undefined (the foreign keys do the rest: a deleted user's keys are
 * detached, a deleted project leaves `user_projects`). `row` holds the columns by name (`spec`
 * for providers and models, a key's `key_hash`, a user's `projects`); a key's `models` absent is
 * JSON `null`, every model.
 */
export const writeCatalogRow = async (
  conn: postgres.TransactionSql,
  resource: "providers" | "models" | "projects" | "users" | "keys",
  id: string,
  row: Readonly<Record<string, unknown>> | undefined,
  insert: boolean
) => {
  const table = resource === "keys" ? "virtual_keys" : resource
  if (row === undefined)
    return conn`delete from ${conn(table)} where ${conn(resource === "providers" || resource === "models" ? "name" : "id")} = ${id}`
  const text = (f: string) => (row[f] === undefined || row[f] === null ? null : String(row[f]))
  const json = (f: string) => jsonOrNull(row[f])
  if (resource === "providers" || resource === "models") {
    return insert
      ? conn`insert into ${conn(table)} (name, position, spec) values (${id}, ${Number(row["position"] ?? 0)}, ${json("spec")}::text::jsonb)`
      : conn`update ${conn(table)} set spec = ${json("spec")}::text::jsonb, updated_at = now() where name = ${id}`
  }
  const metadata = JSON.stringify(row["metadata"] ?? {})
  if (resource === "projects") {
    return insert
      ? conn`insert into projects (id, name, limits, budget, metadata) values (${id}, ${text("name")}, ${json("limits")}::text::jsonb, ${json("budget")}::text::jsonb, ${metadata}::text::jsonb)`
      : conn`update projects set name = ${text("name")}, limits = ${json("limits")}::text::jsonb, budget = ${json("budget")}::text::jsonb, metadata = ${metadata}::text::jsonb, updated_at = now() where id = ${id}`
  }
  if (resource === "users") {
    if (insert)
      await conn`insert into users (id, name, email, role, metadata) values (${id}, ${text("name")}, ${text("email")}, ${text("role")}, ${metadata}::text::jsonb)`
    else {
      await conn`update users set name = ${text("name")}, email = ${text("email")}, role = ${text("role")}, metadata = ${metadata}::text::jsonb,
                 updated_at = now() where id = ${id}`
      await conn`delete from user_projects where user_id = ${id}`
    }
    for (const p of Array.isArray(row["projects"]) ? row["projects"].map(String) : [])
      await conn`insert into user_projects (user_id, project_id) values (${id}, ${p})`
    return
  }
  const [models, enabled, expires] = [
    JSON.stringify(row["models"] ?? null),
    row["enabled"] !== false,
    utcInstant(row["expires_at"])
  ]
  if (insert) {
    return conn`insert into virtual_keys (id, name, key_hash, prefix, project_id, user_id, models, enabled, expires_at, limits, budget, metadata)
      values (${id}, ${text("name")}, ${text("key_hash")}, ${text("prefix")}, ${text("project_id")}, ${text("user_id")}, ${models}::text::jsonb,
              ${enabled}, ${expires}::timestamptz, ${json("limits")}::text::jsonb, ${json("budget")}::text::jsonb, ${metadata}::text::jsonb)`
  }
  return conn`update virtual_keys set name = ${text("name")}, key_hash = ${text("key_hash")}, prefix = ${text("prefix")},
      project_id = ${text("project_id")}, user_id = ${text("user_id")}, models = ${models}::text::jsonb, enabled = ${enabled},
      expires_at = ${expires}::timestamptz, limits = ${json("limits")}::text::jsonb, budget = ${json("budget")}::text::jsonb,
      metadata = ${metadata}::text::jsonb, previous_hash = ${text("previous_hash")},
      previous_expires_at = ${utcInstant(row["previous_expires_at"])}::timestamptz, updated_at = now() where id = ${id}`
}

/** Identifies a catalog's content: equal rows, equal fingerprints (used to skip no-op re-reads). */
export const fingerprint = (rows: CatalogRows): string => JSON.stringify(rows)

/**
 * `providers[2].base_url` → `providers["up-a"].base_url`, `keys[0].models` → `keys["key_ci"].models`:
 * rows are known by name or id, not index.
 */
const nameIssue =
  (rows: CatalogRows) =>
  (issue: ConfigIssue): ConfigIssue => {
    const match = /^(providers|models|projects|users|keys)\[(\d+)\]/.exec(issue.path)
    if (match === null) return issue
    const table = match[1] as "providers" | "models" | "projects" | "users" | "keys"
    const index = Number(match[2])
    const name = table === "providers" || table === "models" ? rows[table][index]?.name : rows[table][index]?.id
    return name === undefined
      ? issue
      : { ...issue, path: `${table}[${JSON.stringify(name)}]${issue.path.slice(match[0].length)}` }
  }

const present = (value: unknown): boolean => value !== undefined && value !== null

/** Copies `row[from]` to `out[to]` when it is neither null nor absent (absent and null mean the same in the file). */
const copy = (out: Record<string, unknown>, row: Readonly<Record<string, unknown>>, from: string, to = from) => {
  if (present(row[from])) out[to] = row[from]
}

/** A `projects` row as the file's `projects` entry. */
export const projectSection = (row: TenancyRow): Record<string, unknown> => {
  const out: Record<string, unknown> = { id: row.id, name: row["name"] }
  for (const f of ["limits", "budget", "metadata", "created_at"]) copy(out, row, f)
  return out
}

/** A `users` row (with its `projects`) as the file's `users` entry. */
export const userSection = (row: TenancyRow): Record<string, unknown> => {
  const out: Record<string, unknown> = {
    id: row.id,
    name: row["name"],
    role: row["role"],
    projects: row["projects"] ?? []
  }
  for (const f of ["email", "metadata", "created_at"]) copy(out, row, f)
  return out
}

/**
 * A `virtual_keys` row as the file's `keys` entry. `models` holds JSON `null` for "every model"
 * (the file's absent `models`) and an array otherwise (`[]`: none).
 */
export const keySection = (row: TenancyRow): Record<string, unknown> => {
  const out: Record<string, unknown> = {
    id: row.id,
    name: row["name"],
    prefix: row["prefix"],
    hash: row["key_hash"],
    project_id: row["project_id"]
  }
  for (const f of [
    "user_id",
    "models",
    "enabled",
    "expires_at",
    "limits",
    "budget",
    "metadata",
    "created_at",
    "previous_hash",
    "previous_expires_at"
  ]) {
    copy(out, row, f)
  }
  return out
}

/** A row's spec as a section entry: an object whose `name` is the row's (filled in when absent). */
const entry = (
  table: "providers" | "models",
  row: { readonly name: string; readonly spec: unknown },
  issues: Array<ConfigIssue>
) => {
  const at = `${table}[${JSON.stringify(row.name)}]`
  if (!Predicate.isObject(row.spec)) {
    issues.push({ path: at, message: "spec must be a JSON object (the entry as written in the YAML file)" })
    return undefined
  }
  const name = row.spec["name"]
  if (name !== undefined && name !== row.name) {
    issues.push({ path: `${at}.name`, message: `${JSON.stringify(name)} differs from the row's name` })
  }
  return { ...row.spec, name: row.name }
}

/**
 * The catalog rows as config sections, provider secrets opened; every problem (unusable specs,
 * secrets that do not open) is added to `issues`, naming the row.
 */
export const catalogSections = (rows: CatalogRows, secrets: ProviderSecrets, issues: Array<ConfigIssue>) =>
  Effect.gen(function* () {
    const providers: Array<Record<string, unknown>> = []
    for (const row of rows.providers) {
      const spec = entry("providers", row, issues)
      if (spec !== undefined)
        providers.push(yield* secrets.open(row.name, spec, `providers[${JSON.stringify(row.name)}]`, issues))
    }
    const models = rows.models.flatMap((row) => entry("models", row, issues) ?? [])
    const routes = rows.routes.map((r) => ({ path: r.path, model: r.model }))
    const projects = rows.projects.map(projectSection)
    const users = rows.users.map(userSection)
    const keys = rows.keys.map(keySection)
    return { providers, models, routes, projects, users, keys }
  })

/**
 * The sections of the config file that Postgres mode still reads from the file: the gateway
 * instance's own settings and what has no catalog table (yet); everything else comes from the rows.
 */
export const FILE_SETTINGS: ReadonlyArray<string> = ["server", "master_key", "store", "limits", "usage", "pricing"]

/**
 * The running config from the file's settings (`FILE_SETTINGS`) and the catalog
 * rows (providers, models, routes, projects, users, keys), validated like the file (source
 * `postgres (providers/models/routes)`).
 */
export const decodeCatalog = (
  settings: Readonly<Record<string, unknown>>,
  rows: CatalogRows,
  secrets: ProviderSecrets
): Effect.Effect<LoadedConfig, ConfigError> =>
  Effect.gen(function* () {
    const issues: Array<ConfigIssue> = []
    const sections = yield* catalogSections(rows, secrets, issues)
    const value: Record<string, unknown> = { ...sections }
    for (const key of FILE_SETTINGS) if (settings[key] !== undefined) value[key] = settings[key]
    const decoded = decodeConfig(value, CATALOG_SOURCE)
    if (Result.isSuccess(decoded) && issues.length === 0)
      return { config: decoded.success, document: value, source: CATALOG_SOURCE }
    const all = [...issues, ...(Result.isFailure(decoded) ? decoded.failure.issues.map(nameIssue(rows)) : [])]
    return yield* new ConfigError({ source: CATALOG_SOURCE, issues: all })
  })

/** What `importCatalog` wrote. */
export interface ImportSummary {
  readonly providers: number
  readonly models: number
  readonly routes: number
  /** Secret fields written sealed (0 in plaintext mode). */
  readonly sealed: number
  readonly projects: number
  readonly users: number
  readonly keys: number
}

const countSealed = (spec: Record<string, unknown>): number =>
  providerSecretPaths(spec, "all").filter((p) => {
    const v = valueAt(spec, p)
    return typeof v === "string" && isSealed(v)
  }).length

const list = (doc: Readonly<Record<string, unknown>>, key: string): ReadonlyArray<Record<string, unknown>> => {
  const value = doc[key]
  return Array.isArray(value) ? value.filter(Predicate.isObject) : []
}

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`

/** Thrown inside the transaction when the catalog is not empty (rolls it back). */
class NotEmpty {
  readonly counts: { readonly providers: number; readonly models: number; readonly routes: number }
  constructor(counts: NotEmpty["counts"]) {
    this.counts = counts
  }
}

/**
 * Seeds an empty catalog with a validated config document's `providers`, `models` and `routes`
 * (entries as written, secrets sealed) and its tenancy (`projects`, `users` + `user_projects`,
 * `keys` as `virtual_keys` rows, hash and prefix as in the file), plus an audit-log row, all in one
 * transaction. The tables are locked for the check, so two imports at once cannot both write. A catalog that has any row
 * is refused (`Conflict`) and left unchanged.
 */
export const importCatalog = Effect.fn("Catalog.import")(function* (
  sql: postgres.Sql,
  doc: Readonly<Record<string, unknown>>,
  secrets: ProviderSecrets,
  audit: { readonly actor: string; readonly file: string }
) {
  const providers: Array<{ name: string; spec: Record<string, unknown> }> = []
  for (const p of list(doc, "providers")) {
    const name = String(p["name"])
    providers.push({ name, spec: yield* secrets.seal(name, p) })
  }
  const models = list(doc, "models").map((m) => ({ name: String(m["name"]), spec: m }))
  const routes = list(doc, "routes").map((r) => ({ path: String(r["path"]), model: String(r["model"]) }))
  const summary: ImportSummary = {
    providers: providers.length,
    models: models.length,
    routes: routes.length,
    sealed: providers.reduce((n, p) => n + countSealed(p.spec), 0),
    projects: list(doc, "projects").length,
    users: list(doc, "users").length,
    keys: list(doc, "keys").length
  }
  const json = (value: unknown) => sql.json(value as postgres.JSONValue)
  // Tenancy rows in the shapes PostgresAdminStore writes (JSON as text cast to jsonb; key `models`
  // absent → JSON null, "every model").
  const jsonText = (value: unknown): string | null =>
    value === undefined || value === null ? null : JSON.stringify(value)
  const text = (row: Record<string, unknown>, f: string): string | null =>
    row[f] === undefined || row[f] === null ? null : String(row[f])
  const instant = (value: unknown): string | null =>
    value === undefined || value === null ? null : value instanceof Date ? value.toISOString() : String(value)
  yield* Effect.tryPromise({
    try: () =>
      sql.begin(async (tx) => {
        await tx`lock table providers, models, routes in share row exclusive mode`
        const [counts] = await tx<Array<{ providers: number; models: number; routes: number }>>`
          select (select count(*)::int from providers) as providers, (select count(*)::int from models) as models,
                 (select count(*)::int from routes) as routes`
        if (counts !== undefined && counts.providers + counts.models + counts.routes > 0) throw new NotEmpty(counts)
        for (const [i, p] of providers.entries()) {
          await tx`insert into providers (name, position, spec) values (${p.name}, ${i}, ${json(p.spec)})`
        }
        for (const [i, m] of models.entries()) {
          await tx`insert into models (name, position, spec) values (${m.name}, ${i}, ${json(m.spec)})`
        }
        for (const [i, r] of routes.entries()) {
          await tx`insert into routes (position, path, model) values (${i}, ${r.path}, ${r.model})`
        }
        for (const p of list(doc, "projects")) {
          await tx`insert into projects (id, name, limits, budget, metadata, created_at)
                   values (${text(p, "id")}, ${text(p, "name")}, ${jsonText(p["limits"])}::text::jsonb, ${jsonText(p["budget"])}::text::jsonb,
                           ${JSON.stringify(p["metadata"] ?? {})}::text::jsonb, coalesce(${instant(p["created_at"])}::timestamptz, now()))`
        }
        for (const u of list(doc, "users")) {
          await tx`insert into users (id, name, email, role, metadata, created_at)
                   values (${text(u, "id")}, ${text(u, "name")}, ${text(u, "email")}, ${text(u, "role")},
                           ${JSON.stringify(u["metadata"] ?? {})}::text::jsonb, coalesce(${instant(u["created_at"])}::timestamptz, now()))`
          const projects = Array.isArray(u["projects"]) ? u["projects"].map(String) : []
          for (const p of projects)
            await tx`insert into user_projects (user_id, project_id) values (${text(u, "id")}, ${p})`
        }
        for (const k of list(doc, "keys")) {
          await tx`insert into virtual_keys (id, name, key_hash, prefix, project_id, user_id, models, enabled, expires_at, limits, budget,
                                             metadata, previous_hash, previous_expires_at, created_at)
                   values (${text(k, "id")}, ${text(k, "name")}, ${text(k, "hash")}, ${text(k, "prefix")}, ${text(k, "project_id")},
                           ${text(k, "user_id")}, ${JSON.stringify(k["models"] ?? null)}::text::jsonb, ${k["enabled"] !== false},
                           ${instant(k["expires_at"])}::timestamptz, ${jsonText(k["limits"])}::text::jsonb, ${jsonText(k["budget"])}::text::jsonb,
                           ${JSON.stringify(k["metadata"] ?? {})}::text::jsonb, ${text(k, "previous_hash")},
                           ${instant(k["previous_expires_at"])}::timestamptz, coalesce(${instant(k["created_at"])}::timestamptz, now()))`
        }
        await tx`insert into audit_log (actor, action, resource, detail)
                 values (${audit.actor}, 'import', 'config', ${json({ file: audit.file, ...summary })})`
      }),
    catch: (cause): StoreError | SecretBoxError =>
      cause instanceof NotEmpty
        ? storeError({
            _tag: "Conflict",
            message:
              `the database already has a config catalog (${plural(cause.counts.providers, "provider")}, ` +
              `${plural(cause.counts.models, "model")}, ${plural(cause.counts.routes, "route")}); ` +
              "import only seeds an empty one, change it through the admin API"
          })
        : query("import the config catalog")(cause)
  })
  return summary
})
