/**
 * StoreError: the one error of the persistent stores (the Postgres config store first). Its
 * `reason` says what went wrong: the database could not be reached, the schema on the database
 * does not match this gateway's migrations, a migration file is malformed, what is stored forbids
 * the operation, or a query failed.
 * Messages never carry a password: connection failures name host, port and database only.
 */
import * as Schema from "effect/Schema"

/** The database could not be reached or refused the connection (host, port, database named). */
export const Unreachable = Schema.TaggedStruct("Unreachable", { message: Schema.String })
/** The database's recorded migrations disagree with this gateway's files (both sides named). */
export const MigrationConflict = Schema.TaggedStruct("MigrationConflict", { message: Schema.String })
/** A migration file is malformed: a bad name in the folder, a duplicate version, an unreadable file. */
export const InvalidMigration = Schema.TaggedStruct("InvalidMigration", { message: Schema.String })
/** What is stored forbids the operation (e.g. importing into a database that already has a catalog). */
export const Conflict = Schema.TaggedStruct("Conflict", { message: Schema.String })
/** A statement failed on a reachable database. */
export const Query = Schema.TaggedStruct("Query", { message: Schema.String })

export const StoreErrorReason = Schema.Union([Unreachable, MigrationConflict, InvalidMigration, Conflict, Query])
export type StoreErrorReason = typeof StoreErrorReason.Type

export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  reason: StoreErrorReason
}) {
  override get message(): string {
    return this.reason.message
  }
}

/** Builds a StoreError from a reason literal: `storeError({ _tag: "Query", message })`. */
export const storeError = (reason: StoreErrorReason): StoreError => new StoreError({ reason })
