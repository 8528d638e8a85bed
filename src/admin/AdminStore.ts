/**
 * AdminStore: the operations behind the admin REST API (`/admin/v1`), independent of where the
 * config lives. Providers and models are addressed by name, projects, users and keys by a
 * generated id; every object carries an `etag` (a hash of its stored form) that writes may be
 * conditioned on (`ifMatch`), so a lost update is impossible. Every write is validated as the
 * whole resulting config (the checks every replica applies), audited, and reaches every replica.
 *
 * Two implementations: Postgres (`PostgresAdminStore.ts`, one serialized transaction per write)
 * and the YAML file (`FileAdminStore.ts`, one locked, atomic rewrite of the file per write). With
 * the embedded default config there is no file to write: `makeFile` below answers every resource
 * operation with 501 and only reloads.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"

/** The admin resources. */
export type Resource = "providers" | "models" | "projects" | "users" | "keys"

export const RESOURCES: ReadonlyArray<Resource> = ["providers", "models", "projects", "users", "keys"]

/** Singular names, for messages. */
export const SINGULAR: Readonly<Record<Resource, string>> = {
  providers: "provider",
  models: "model",
  projects: "project",
  users: "user",
  keys: "key"
}

/** Who makes a change, as written to the audit log: `master`, or `key:<id>` for an admin user's key. */
export interface Actor {
  readonly id: string
  /** The admin user behind a virtual key. */
  readonly userId?: string | undefined
}

/** One admin object as the API shows it (secrets masked, key hashes left out), with its `etag`. */
export type AdminObject = Readonly<Record<string, unknown>> & { readonly etag: string }

export interface ListQuery {
  /** 1 to 500. */
  readonly limit: number
  /** `next_cursor` of the previous page. */
  readonly cursor: string | undefined
  /** Equality filters by field (`project_id`, `user_id`, `role`, `provider`, `enabled`). */
  readonly filters: Readonly<Record<string, string>>
}

export interface Page {
  readonly data: ReadonlyArray<AdminObject>
  readonly next_cursor: string | null
}

/** The filters each list accepts. */
export const FILTERS: Readonly<Record<Resource, ReadonlyArray<string>>> = {
  providers: ["kind"],
  models: ["provider"],
  projects: [],
  users: ["project_id", "role"],
  keys: ["project_id", "user_id", "enabled"]
}

export interface AdminStoreShape {
  /** Where the config lives: `postgres` or `file`. */
  readonly mode: "postgres" | "file"
  readonly list: (resource: Resource, query: ListQuery) => Effect.Effect<Page, GatewayError>
  readonly get: (resource: Resource, id: string) => Effect.Effect<AdminObject, GatewayError>
  /** Creates from a request body; a key's answer (only this one) carries its plaintext `key`. */
  readonly create: (
    resource: Resource,
    body: Readonly<Record<string, unknown>>,
    actor: Actor
  ) => Effect.Effect<AdminObject, GatewayError>
  /** Sets the given fields (`null` clears an optional one). */
  readonly update: (
    resource: Resource,
    id: string,
    patch: Readonly<Record<string, unknown>>,
    ifMatch: string | undefined,
    actor: Actor
  ) => Effect.Effect<AdminObject, GatewayError>
  readonly remove: (
    resource: Resource,
    id: string,
    ifMatch: string | undefined,
    actor: Actor
  ) => Effect.Effect<void, GatewayError>
  /**
   * A new key for key `id` (answered in plaintext, once); the old one stops working at once, or
   * after `gracePeriodMs`.
   */
  readonly rotateKey: (
    id: string,
    gracePeriodMs: number,
    ifMatch: string | undefined,
    actor: Actor
  ) => Effect.Effect<AdminObject, GatewayError>
  /** Re-reads the config now (on every replica, where the store can reach them). */
  readonly reload: (actor: Actor) => Effect.Effect<void, GatewayError>
}

export class AdminStore extends Context.Service<AdminStore, AdminStoreShape>()("llmgate/AdminStore") {
  /**
   * The store of a gateway running on the embedded default config: there is no file to write back
   * to. Resource operations answer 501 saying so; `reload` re-reads the config (as SIGHUP).
   */
  static readonly makeFile = (reload: Effect.Effect<void, GatewayError>): AdminStoreShape => {
    const unavailable = Effect.fail(
      gatewayError({
        _tag: "NotImplemented",
        message:
          "The admin API's resource operations need a config file (--config FILE or LLMGATE_CONFIG) " +
          "or the Postgres config store (DATABASE_URL): this gateway runs on the embedded default config, " +
          "which it cannot write back to. GET /admin/v1/config shows the running config."
      })
    )
    return {
      mode: "file",
      list: () => unavailable,
      get: () => unavailable,
      create: () => unavailable,
      update: () => unavailable,
      remove: () => unavailable,
      rotateKey: () => unavailable,
      reload: () => reload
    }
  }

  static readonly layerFile = (reload: Effect.Effect<void, GatewayError>) =>
    Layer.succeed(AdminStore, AdminStore.makeFile(reload))
}
