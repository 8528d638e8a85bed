/**
 * The AdminStore on the YAML config file: the admin API (and `llmgate keys create`) edit the file
 * itself. Every write takes an exclusive lock across processes (`<file>.lock`, below), re-reads the
 * file inside it (so a concurrent writer's change is never lost), applies the change to the parsed
 * YAML Document (comments and layout kept; `${VAR}` references are shielded while parsing and put
 * back as written), validates the whole resulting config, interpolated, with `decodeConfig` (a
 * change the gateway would reject is refused with 422 naming the field, 409 for a duplicate;
 * problems the file already had do not block unrelated writes), writes it durably, audits it to
 * `<file>.audit.jsonl` (who, what, when, the fields changed; never a value of a secret), releases
 * the lock and reloads this gateway; every other worker or gateway on the file sees the rename
 * through its watcher.
 *
 * Values are data. Every string a request sends is written escaped (`escapeLiteral`: `${` → `$${`),
 * so the gateway reads it back literally and no request can make the file read the environment. A
 * `${VAR}` reference the file already has is kept where a request sends it back unchanged at the
 * same place (as GET showed it); a request never creates one. Objects are shown as the gateway
 * reads them (`$${` as `${`), references as written, provider secrets (config/SecretFields.ts)
 * masked; a mask sent back is refused with 422 instead of being stored.
 *
 * Writes are durable and audited (DurableFile.ts: the lock, the journal, the fsyncs, crash recovery):
 * a failure or crash before the file is replaced leaves it as it was and writes no audit line, and
 * the audit log has exactly one line per write that landed.
 *
 * The semantics are the Postgres store's: objects by name (providers, models) or generated id
 * (projects, users, keys), an `etag` per object (a hash of the entry as shown), `If-Match` (412),
 * 409 for what still has dependants. A key's plaintext exists only in the answer to its creation
 * or rotation: the file holds its SHA-256 (`hash`) and `prefix`. Provider secrets are written as
 * given (the file is not encrypted; `${VAR}` references written into the file by its operator are
 * the way to keep secrets out of it).
 */
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Result from "effect/Result"
import { type Document, isMap, isSeq, parseDocument } from "yaml"
import { generateKey, maskSecret, newId } from "../auth/KeyMaterial.ts"
import type { ConfigIssue } from "../config/ConfigError.ts"
import { type Env, escapeLiteral, hasReference, literalValue, shieldReferences } from "../config/interpolate.ts"
import { decodeConfig, parseConfigDocument } from "../config/loadConfig.ts"
import { providerSecretPaths, valueAt, withValueAt } from "../config/SecretFields.ts"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import {
  etagMatches, fieldProblem, hashOf, KEY_FIELD, maskedSecretProblem, notFound, pageOf, preconditionFailed, PUBLIC_FIELDS, refusal,
  unprocessable
} from "./AdminRules.ts"
import type { Actor, AdminObject, AdminStoreShape, ListQuery, Page, Resource } from "./AdminStore.ts"
import { SINGULAR } from "./AdminStore.ts"
import * as DurableFile from "./DurableFile.ts"
import type { ProcessInfo } from "./DurableFile.ts"

export type { ProcessInfo } from "./DurableFile.ts"

export interface FileAdminStoreOptions {
  /** The config file. */
  readonly path: string
  /** The environment `${VAR}` references are validated against. */
  readonly env: Env
  /** Re-reads the config on this gateway after a write (others see the file change). */
  readonly reload: Effect.Effect<void, GatewayError>
  /** Timestamps written into the file and the audit log (lock ages use the Clock). */
  readonly now?: () => number
  /** A lock file older than this is a crashed or stalled writer's and is taken over (default 10 s). */
  readonly lockStaleMs?: number
  /** How long a write waits for the lock (default 15 s). */
  readonly lockTimeoutMs?: number
  /** This process, when the runtime can tell: a lock whose holder is gone is then stale at once. */
  readonly process?: ProcessInfo | undefined
}

type Row = Readonly<Record<string, unknown>>

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value)

/** The etag of an entry: a hash of its canonical JSON, as shown. */
export const etagOf = (row: Row): string => hashOf(row)

/** Fields that `null` clears (in the file: the field is removed; for a key's `models`: every model). */
const NULLABLE = new Set(["limits", "email", "user_id", "models", "expires_at", "budget", "metadata"])

/** Whether an entry passes a list filter. */
const matches = (resource: Resource, row: Row, field: string, value: string): boolean => {
  switch (resource) {
    case "models":
      return Array.isArray(row["targets"]) && row["targets"].some((t) => isRecord(t) && t["provider"] === value)
    case "users":
      return field === "project_id" ? Array.isArray(row["projects"]) && row["projects"].includes(value) : row[field] === value
    case "keys":
      return field === "enabled" ? String(row["enabled"] ?? true) === value : String(row[field] ?? null) === value
    default:
      return String(row[field]) === value
  }
}

/** The file, parsed for editing. */
interface Parsed {
  readonly doc: Document
  /** Puts the shielded `${VAR}` references back into text the Document produced. */
  readonly restore: (s: string) => string
  /** The document as the API shows it: strings as the gateway reads them (`$${` as `${`), references as written. */
  readonly raw: Readonly<Record<string, unknown>>
  /** The document as written (escapes and references as in the file). */
  readonly written: Readonly<Record<string, unknown>>
}

const mapStrings = (value: unknown, f: (s: string) => string): unknown =>
  typeof value === "string"
    ? f(value)
    : Array.isArray(value)
    ? value.map((v) => mapStrings(v, f))
    : isRecord(value)
    ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]))
    : value

const restoreDeep = (value: unknown, restore: (s: string) => string): unknown =>
  typeof value === "string"
    ? restore(value)
    : Array.isArray(value)
    ? value.map((v) => restoreDeep(v, restore))
    : isRecord(value)
    ? Object.fromEntries(Object.entries(value).map(([k, v]) => [restore(k), restoreDeep(v, restore)]))
    : value

/**
 * A request's value as written into the file: every string escaped (`escapeLiteral`), so the
 * gateway reads it literally, except a `${VAR}` reference sent back unchanged at the place it
 * stands (`written`: the entry's value there, as in the file), which is kept as it is.
 */
const literal = (value: unknown, written: unknown): unknown =>
  typeof value === "string"
    ? (value === written && hasReference(value) ? value : escapeLiteral(value))
    : Array.isArray(value)
    ? value.map((v, i) => literal(v, Array.isArray(written) ? written[i] : undefined))
    : isRecord(value)
    ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, literal(v, isRecord(written) ? written[k] : undefined)]))
    : value

/** A planned write: the edited Document, what to answer and audit. */
interface Plan {
  readonly id: string
  readonly detail: Readonly<Record<string, unknown>>
  /** Added to the answer (a key's plaintext, once). */
  readonly extra?: Readonly<Record<string, unknown>>
}

export const make = (fs: FileSystem.FileSystem, options: FileAdminStoreOptions): AdminStoreShape => {
  const { path, env } = options
  const now = options.now ?? Date.now
  const file = DurableFile.make(fs, { path, now, lockStaleMs: options.lockStaleMs, lockTimeoutMs: options.lockTimeoutMs, process: options.process })
  const { readText, locked, commit } = file

  // ---- reading -----------------------------------------------------------------------------

  const parse = (text: string): Effect.Effect<Parsed, GatewayError> => {
    const shielded = shieldReferences(text)
    const doc = parseDocument(shielded.text, { uniqueKeys: true, prettyErrors: false })
    if (doc.errors.length > 0) {
      return Effect.fail(gatewayError({
        _tag: "Unavailable",
        message: `The config file ${path} is not valid YAML (${doc.errors[0]?.message.split("\n")[0] ?? "parse error"}); fix it first.`
      }))
    }
    const written = restoreDeep(doc.toJS(), shielded.restore)
    return Effect.succeed({
      doc,
      restore: shielded.restore,
      raw: isRecord(written) ? mapStrings(written, literalValue) as Row : {},
      written: isRecord(written) ? written : {}
    })
  }

  const read = Effect.flatMap(readText, parse)

  const section = (raw: Row, resource: Resource): ReadonlyArray<Row> => {
    const list = raw[resource]
    return Array.isArray(list) ? list.filter(isRecord) : []
  }
  const idOf = (resource: Resource, row: Row): string => String(row[KEY_FIELD[resource]])
  /** The entry's index in the section as the Document holds it (non-mapping items counted too). */
  const indexOf = (raw: Row, resource: Resource, id: string): number => {
    const list = raw[resource]
    return Array.isArray(list) ? list.findIndex((r) => isRecord(r) && idOf(resource, r) === id) : -1
  }
  const find = (raw: Row, resource: Resource, id: string): Row | undefined => section(raw, resource).find((r) => idOf(resource, r) === id)
  /** The entry at `index` of a section as written in the file. */
  const writtenAt = (parsed: Parsed, resource: Resource, index: number): unknown => {
    const list = parsed.written[resource]
    return Array.isArray(list) ? list[index] : undefined
  }

  // ---- presentation ------------------------------------------------------------------------

  /** An entry as the API shows it (`parsed`: the file it is from, where references are told apart from literals). */
  const present = (parsed: Parsed, resource: Resource, row: Row): AdminObject => {
    const etag = etagOf(row)
    if (resource === "providers") {
      const written = writtenAt(parsed, resource, indexOf(parsed.raw, resource, idOf(resource, row)))
      let out: unknown = row
      for (const p of providerSecretPaths(row, "secret")) {
        const value = valueAt(written, p)
        // A `${VAR}` reference is not a secret: shown as written.
        if (!(typeof value === "string" && hasReference(value))) out = withValueAt(out, p, maskSecret(String(valueAt(row, p))))
      }
      return { ...(out as Row), etag } as AdminObject
    }
    if (resource === "models") return { ...row, etag } as AdminObject
    const out: Record<string, unknown> = {}
    for (const f of PUBLIC_FIELDS[resource]) out[f] = row[f] ?? null
    if (resource === "users") out["projects"] = row["projects"] ?? []
    if (resource === "keys") out["enabled"] = row["enabled"] ?? true
    return { ...out, etag } as AdminObject
  }

  const existing = (raw: Row, resource: Resource, id: string, ifMatch: string | undefined) => {
    const row = find(raw, resource, id)
    if (row === undefined) return Effect.fail(notFound(resource, id))
    if (ifMatch !== undefined && !etagMatches(ifMatch, etagOf(row))) return Effect.fail(preconditionFailed(resource, id, ifMatch, etagOf(row)))
    return Effect.succeed(row)
  }

  // ---- validation --------------------------------------------------------------------------

  /** `keys[2].models` → `keys["key_x"].models`: entries are known by name or id, not index. */
  const named = (raw: Row) => (issue: ConfigIssue): ConfigIssue => {
    const match = /^(providers|models|projects|users|keys)\[(\d+)\]/.exec(issue.path)
    if (match === null) return issue
    const resource = match[1] as Resource
    const list = raw[resource]
    const entry = Array.isArray(list) ? list[Number(match[2])] : undefined
    const id = isRecord(entry) ? entry[KEY_FIELD[resource]] : undefined
    return typeof id === "string" ? { ...issue, path: `${resource}[${JSON.stringify(id)}]${issue.path.slice(match[0].length)}` } : issue
  }

  /** The problems of a config text (interpolated and decoded as the gateway would), paths by name. */
  const issuesOf = (text: string, raw: Row): ReadonlyArray<ConfigIssue> => {
    const decoded = Result.flatMap(parseConfigDocument(text, env, path), (doc) => decodeConfig(doc, path))
    return Result.isSuccess(decoded) ? [] : decoded.failure.issues.map(named(raw))
  }

  /** Fails with 422 (409 for a duplicate) naming the field when `after` has problems `before` had not. */
  const validate = (before: { text: string; raw: Row }, after: { text: string; raw: Row }, resource: Resource, id: string) => {
    const refused = refusal(resource, id, issuesOf(before.text, before.raw), issuesOf(after.text, after.raw))
    return refused === undefined ? Effect.void : Effect.fail(refused)
  }

  const auditLine = (actor: Actor, action: string, resource: string, id: string | undefined, detail: Row): string =>
    JSON.stringify({
      at: new Date(now()).toISOString(),
      actor: actor.id,
      ...(actor.userId === undefined ? {} : { user_id: actor.userId }),
      action,
      resource,
      ...(id === undefined ? {} : { resource_id: id }),
      detail
    })

  const reloadHere = options.reload.pipe(
    Effect.catch((e) => Effect.logWarning(`the config file was written, but reloading it failed: ${e.message}`))
  )

  /**
   * A write: under the lock, plan it on the file as it is now, validate, write durably and audit;
   * then (the lock released) reload this gateway and answer.
   */
  const write = (
    actor: Actor,
    action: string,
    resource: Resource,
    plan: (parsed: Parsed) => Effect.Effect<Plan, GatewayError>
  ): Effect.Effect<AdminObject | undefined, GatewayError> =>
    Effect.tap(
      locked((held) =>
        Effect.gen(function*() {
          const text = yield* readText
          const parsed = yield* parse(text)
          const p = yield* plan(parsed)
          const nextText = parsed.restore(parsed.doc.toString({ lineWidth: 0 }))
          const next = yield* parse(nextText)
          yield* validate({ text, raw: parsed.raw }, { text: nextText, raw: next.raw }, resource, p.id)
          yield* commit(held, nextText, auditLine(actor, action, SINGULAR[resource], p.id, p.detail))
          if (action === "delete") return undefined
          const stored = find(next.raw, resource, p.id)
          if (stored === undefined) return yield* Effect.fail(notFound(resource, p.id))
          return { ...present(next, resource, stored), ...p.extra } as AdminObject
        })
      ),
      () => reloadHere
    )

  // ---- Document edits ----------------------------------------------------------------------

  /** Appends an entry (its strings escaped: data) to a section, creating the section (block style) when absent or empty. */
  const append = (doc: Document, resource: Resource, entry: Row) => {
    const node = doc.get(resource, true)
    const value = literal(entry, undefined)
    if (isSeq(node)) {
      if (node.items.length === 0) node.flow = false
      node.items.push(doc.createNode(value))
    } else {
      doc.set(resource, doc.createNode([value]))
    }
  }

  /**
   * Sets (or, for `null`/`undefined`, removes) one field of the entry at `index`, its strings
   * escaped but for references kept where they stand (`written`: the field as in the file).
   */
  const setField = (doc: Document, resource: Resource, index: number, field: string, value: unknown, written?: unknown) => {
    const entry = doc.getIn([resource, index], true)
    if (!isMap(entry)) return
    if (value === null || value === undefined) entry.delete(field)
    else entry.set(field, doc.createNode(literal(value, written)))
  }

  /** Refuses a provider body holding a mask where a secret goes (422). */
  const checkMasks = (resource: Resource, body: Row) => {
    const problem = resource === "providers" ? maskedSecretProblem(body) : undefined
    return problem === undefined ? Effect.void : Effect.fail(problem)
  }

  /** Rejects fields a request may not set on a tenancy resource, naming the first. */
  const checkFields = (resource: "projects" | "users" | "keys", body: Row, patch: boolean) => {
    const problem = fieldProblem(resource, body, patch, NULLABLE)
    return problem === undefined ? Effect.void : Effect.fail(problem)
  }

  /** Body fields with a value, in the order given (null and undefined left out: absent in the file). */
  const given = (body: Row): Record<string, unknown> =>
    Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null && v !== undefined))

  // ---- operations --------------------------------------------------------------------------

  const list = (resource: Resource, q: ListQuery): Effect.Effect<Page, GatewayError> =>
    Effect.gen(function*() {
      const parsed = yield* read
      const page = yield* pageOf(section(parsed.raw, resource), q, (row) => idOf(resource, row), (row, f, v) => matches(resource, row, f, v))
      return { data: page.rows.map((row) => present(parsed, resource, row)), next_cursor: page.nextCursor }
    })

  const get = (resource: Resource, id: string) =>
    Effect.flatMap(read, (parsed) => {
      const row = find(parsed.raw, resource, id)
      return row === undefined ? Effect.fail(notFound(resource, id)) : Effect.succeed(present(parsed, resource, row))
    })

  const create = (resource: Resource, body: Row, actor: Actor) =>
    write(actor, "create", resource, ({ doc, raw }) =>
      Effect.gen(function*() {
        const detail = { fields: Object.keys(body) }
        if (resource === "providers" || resource === "models") {
          const name = body["name"]
          if (typeof name !== "string" || name === "") return yield* Effect.fail(unprocessable("name", `name: required, the ${SINGULAR[resource]}'s name`))
          if (find(raw, resource, name) !== undefined) {
            return yield* Effect.fail(gatewayError({ _tag: "Conflict", param: "name", message: `A ${SINGULAR[resource]} named ${JSON.stringify(name)} already exists.` }))
          }
          yield* checkMasks(resource, body)
          append(doc, resource, { name, ...given(body) })
          return { id: name, detail } satisfies Plan
        }
        yield* checkFields(resource, body, false)
        const created_at = new Date(now()).toISOString()
        if (resource === "projects") {
          const id = newId("prj")
          append(doc, resource, { id, ...given(body), created_at })
          return { id, detail } satisfies Plan
        }
        if (resource === "users") {
          const id = newId("usr")
          append(doc, resource, { id, ...given(body), projects: body["projects"] ?? [], created_at })
          return { id, detail } satisfies Plan
        }
        const id = newId("key")
        const material = generateKey()
        const { name, project_id, ...rest } = given(body)
        append(doc, resource, { id, name, prefix: material.prefix, hash: material.hash, project_id, ...rest, created_at })
        return { id, detail: { ...detail, prefix: material.prefix, project_id: body["project_id"] }, extra: { key: material.key } } satisfies Plan
      })).pipe(Effect.map((o) => o as AdminObject))

  const update = (resource: Resource, id: string, patch: Row, ifMatch: string | undefined, actor: Actor) =>
    write(actor, "update", resource, (parsed) =>
      Effect.gen(function*() {
        const { doc, raw } = parsed
        yield* existing(raw, resource, id, ifMatch)
        const detail = { fields: Object.keys(patch) }
        const field = KEY_FIELD[resource]
        if (patch[field] !== undefined && patch[field] !== id) {
          return yield* Effect.fail(
            resource === "providers" || resource === "models"
              ? unprocessable("name", "name: cannot be changed; add the entry under the new name and remove this one")
              : unprocessable("id", "id: read-only")
          )
        }
        if (resource !== "providers" && resource !== "models") yield* checkFields(resource, patch, true)
        yield* checkMasks(resource, patch)
        const index = indexOf(raw, resource, id)
        const written = writtenAt(parsed, resource, index)
        for (const [f, value] of Object.entries(patch)) if (f !== field) setField(doc, resource, index, f, value, valueAt(written, [f]))
        return { id, detail } satisfies Plan
      })).pipe(Effect.map((o) => o as AdminObject))

  const remove = (resource: Resource, id: string, ifMatch: string | undefined, actor: Actor) =>
    write(actor, "delete", resource, ({ doc, raw }) =>
      Effect.gen(function*() {
        yield* existing(raw, resource, id, ifMatch)
        const quoted = (l: ReadonlyArray<string>) => l.map((n) => JSON.stringify(n))
        const refuse = (dependants: ReadonlyArray<string>, hint: string) =>
          Effect.fail(gatewayError({
            _tag: "Conflict",
            param: null,
            message: `The ${SINGULAR[resource]} ${JSON.stringify(id)} is used by ${dependants.join(", ")}; ${hint}.`
          }))
        const them = (n: number) => (n === 1 ? "it" : "them")
        if (resource === "providers") {
          const users = section(raw, "models").filter((m) =>
            Array.isArray(m["targets"]) && m["targets"].some((t) => isRecord(t) && t["provider"] === id)
          ).map((m) => String(m["name"]))
          if (users.length > 0) return yield* refuse([`${users.length === 1 ? "model" : "models"} ${quoted(users).join(", ")}`], `change or remove ${them(users.length)} first`)
        } else if (resource === "models") {
          const fallbacks = section(raw, "models").filter((m) => Array.isArray(m["fallbacks"]) && m["fallbacks"].includes(id))
            .map((m) => `models[${JSON.stringify(m["name"])}].fallbacks`)
          const routes = (Array.isArray(raw["routes"]) ? raw["routes"] : []).flatMap((r, i) =>
            isRecord(r) && r["model"] === id ? [`routes[${i}] (${String(r["path"])})`] : []
          )
          const dependants = [...fallbacks, ...routes]
          if (dependants.length > 0) return yield* refuse(dependants, `change or remove ${them(dependants.length)} first`)
        } else if (resource === "projects") {
          const keys = section(raw, "keys").filter((k) => k["project_id"] === id).map((k) => String(k["id"]))
          if (keys.length > 0) return yield* refuse([`${keys.length === 1 ? "key" : "keys"} ${quoted(keys).join(", ")}`], `delete ${them(keys.length)} first`)
          // Members of the project stay users, without it.
          const users = Array.isArray(raw["users"]) ? raw["users"] : []
          users.forEach((u, i) => {
            if (!isRecord(u) || !Array.isArray(u["projects"])) return
            const at = u["projects"].indexOf(id)
            if (at >= 0) doc.deleteIn(["users", i, "projects", at])
          })
        } else if (resource === "users") {
          // As in Postgres: the user's keys stay, detached from the user.
          const keys = Array.isArray(raw["keys"]) ? raw["keys"] : []
          keys.forEach((k, i) => {
            if (isRecord(k) && k["user_id"] === id) doc.deleteIn(["keys", i, "user_id"])
          })
        }
        doc.deleteIn([resource, indexOf(raw, resource, id)])
        return { id, detail: {} } satisfies Plan
      })).pipe(Effect.asVoid)

  const rotateKey = (id: string, gracePeriodMs: number, ifMatch: string | undefined, actor: Actor) =>
    write(actor, "rotate", "keys", ({ doc, raw }) =>
      Effect.gen(function*() {
        const current = yield* existing(raw, "keys", id, ifMatch)
        const material = generateKey()
        const grace = gracePeriodMs > 0
        const index = indexOf(raw, "keys", id)
        setField(doc, "keys", index, "hash", material.hash)
        setField(doc, "keys", index, "prefix", material.prefix)
        setField(doc, "keys", index, "previous_hash", grace ? current["hash"] : null)
        setField(doc, "keys", index, "previous_expires_at", grace ? new Date(now() + gracePeriodMs).toISOString() : null)
        return { id, detail: { prefix: material.prefix, grace_period_ms: gracePeriodMs }, extra: { key: material.key } } satisfies Plan
      })).pipe(Effect.map((o) => o as AdminObject))

  /** Audited under the lock, like a write (the audit log has one writer at a time); a failing audit does not stop the reload. */
  const reload = (actor: Actor) =>
    Effect.andThen(
      locked(() => file.appendAudit(auditLine(actor, "reload", "config", undefined, {}))).pipe(
        Effect.catch((e) => Effect.logWarning(`the reload is not audited: ${e.message}`))
      ),
      options.reload
    )

  return { mode: "file", list, get, create, update, remove, rotateKey, reload }
}