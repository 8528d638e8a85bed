/**
 * The AdminStore on the YAML config file: the admin API (and `llmgate keys create`) edit the file
 * itself. Every write takes an exclusive lock across processes (`<file>.lock`, DurableFile.ts),
 * re-reads the file inside it (so a concurrent writer's change is never lost), decides the change
 * on the file's catalog (CatalogEdit.ts), applies it to the parsed YAML Document (ConfigDocument.ts:
 * comments and layout kept, request values written escaped so they stay data, `${VAR}` references
 * kept where sent back unchanged), validates the whole resulting config, interpolated, with
 * `decodeConfig` (a change the gateway would reject is refused with 422 naming the field, 409 for
 * a duplicate; problems the file already had do not block unrelated writes), writes it durably,
 * audits it to `<file>.audit.jsonl` (who, what, when, the fields changed; never a value of a
 * secret), releases the lock and reloads this gateway; every other worker or gateway on the file
 * sees the rename through its watcher.
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
import type * as Result from "effect/Result"
import type { Env } from "../config/interpolate.ts"
import type { GatewayError } from "../domain/GatewayError.ts"
import { notFound, refusal } from "./AdminRules.ts"
import type { Actor, AdminObject, AdminStoreShape, ListQuery, Page, Resource } from "./AdminStore.ts"
import { SINGULAR } from "./AdminStore.ts"
import * as CatalogEdit from "./CatalogEdit.ts"
import * as ConfigDocument from "./ConfigDocument.ts"
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

type Decide = (
  catalog: CatalogEdit.Catalog,
  inputs: CatalogEdit.EditInputs
) => Result.Result<CatalogEdit.Change, GatewayError>

export const make = (fs: FileSystem.FileSystem, options: FileAdminStoreOptions): AdminStoreShape => {
  const { path, env } = options
  const now = options.now ?? Date.now
  const file = DurableFile.make(fs, {
    path,
    now,
    lockStaleMs: options.lockStaleMs,
    lockTimeoutMs: options.lockTimeoutMs,
    process: options.process
  })

  const parse = (text: string) => Effect.fromResult(ConfigDocument.parse(text, path))
  const read = Effect.flatMap(file.readText, parse)

  /** Fails with 422 (409 for a duplicate) naming the field when `after` has problems `before` had not. */
  const validate = (
    before: { text: string; raw: ConfigDocument.Parsed["raw"] },
    after: typeof before,
    resource: Resource,
    id: string
  ) => {
    const refused = refusal(
      resource,
      id,
      ConfigDocument.problemsOf(before.text, before.raw, env, path),
      ConfigDocument.problemsOf(after.text, after.raw, env, path)
    )
    return refused === undefined ? Effect.void : Effect.fail(refused)
  }

  const auditLine = (
    actor: Actor,
    action: string,
    resource: string,
    id: string | undefined,
    detail: Readonly<Record<string, unknown>>
  ): string =>
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
   * A write: under the lock, decide it on the file as it is now, apply it to the Document,
   * validate, write durably and audit; then (the lock released) reload this gateway.
   */
  const write = (actor: Actor, action: string, resource: Resource, decide: Decide) =>
    Effect.tap(
      file.locked((held) =>
        Effect.gen(function* () {
          const text = yield* file.readText
          const parsed = yield* parse(text)
          const catalog = ConfigDocument.catalogOf(parsed.raw)
          const change = yield* Effect.fromResult(decide(catalog, CatalogEdit.liveInputs(now(), ConfigDocument.etagOf)))
          ConfigDocument.apply(parsed, catalog, change.next)
          const nextText = parsed.restore(parsed.doc.toString({ lineWidth: 0 }))
          const next = yield* parse(nextText)
          yield* validate({ text, raw: parsed.raw }, { text: nextText, raw: next.raw }, resource, change.id)
          yield* file.commit(held, nextText, auditLine(actor, action, SINGULAR[resource], change.id, change.detail))
          return { next, change }
        })
      ),
      () => reloadHere
    )

  /** The changed object as the file now holds it, with what the answer adds (a key's plaintext). */
  const answer =
    (resource: Resource) =>
    ({ next, change }: { next: ConfigDocument.Parsed; change: CatalogEdit.Change }) => {
      const stored = CatalogEdit.find(ConfigDocument.catalogOf(next.raw), resource, change.id)
      return stored === undefined
        ? Effect.fail(notFound(resource, change.id))
        : Effect.succeed<AdminObject>({ ...ConfigDocument.present(next, resource, stored), ...change.reveal })
    }

  const list = (resource: Resource, q: ListQuery): Effect.Effect<Page, GatewayError> =>
    Effect.gen(function* () {
      const parsed = yield* read
      const page = yield* CatalogEdit.page(ConfigDocument.catalogOf(parsed.raw), resource, q)
      return {
        data: page.rows.map((entry) => ConfigDocument.present(parsed, resource, entry)),
        next_cursor: page.nextCursor
      }
    })

  const get = (resource: Resource, id: string) =>
    Effect.flatMap(read, (parsed) =>
      Effect.map(Effect.fromResult(CatalogEdit.lookup(ConfigDocument.catalogOf(parsed.raw), resource, id)), (entry) =>
        ConfigDocument.present(parsed, resource, entry)
      )
    )

  const create = (resource: Resource, body: Readonly<Record<string, unknown>>, actor: Actor) =>
    Effect.flatMap(
      write(actor, "create", resource, (catalog, inputs) => CatalogEdit.create(catalog, resource, body, inputs)),
      answer(resource)
    )

  const update = (
    resource: Resource,
    id: string,
    patch: Readonly<Record<string, unknown>>,
    ifMatch: string | undefined,
    actor: Actor
  ) =>
    Effect.flatMap(
      write(actor, "update", resource, (catalog, inputs) =>
        CatalogEdit.update(catalog, resource, id, patch, ifMatch, inputs)
      ),
      answer(resource)
    )

  const remove = (resource: Resource, id: string, ifMatch: string | undefined, actor: Actor) =>
    Effect.asVoid(
      write(actor, "delete", resource, (catalog, inputs) => CatalogEdit.remove(catalog, resource, id, ifMatch, inputs))
    )

  const rotateKey = (id: string, gracePeriodMs: number, ifMatch: string | undefined, actor: Actor) =>
    Effect.flatMap(
      write(actor, "rotate", "keys", (catalog, inputs) =>
        CatalogEdit.rotate(catalog, id, gracePeriodMs, ifMatch, inputs)
      ),
      answer("keys")
    )

  /** Audited under the lock, like a write (the audit log has one writer at a time); a failing audit does not stop the reload. */
  const reload = (actor: Actor) =>
    Effect.andThen(
      file
        .locked(() => file.appendAudit(auditLine(actor, "reload", "config", undefined, {})))
        .pipe(Effect.catch((e) => Effect.logWarning(`the reload is not audited: ${e.message}`))),
      options.reload
    )

  return { mode: "file", list, get, create, update, remove, rotateKey, reload }
}
