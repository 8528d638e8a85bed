/**
 * The SQLite port: the little the usage store needs from a runtime's built-in SQLite driver
 * (`node:sqlite` on Node and Deno, `bun:sqlite` on Bun), which the core cannot import. Each
 * runtime provides it on its RuntimePort (`runtimes/common/NodeSqlite.ts`, `runtimes/bun/BunSqlite.ts`).
 *
 * Both drivers are synchronous and throw on failure, so the port is too: the core calls it inside
 * `Effect.try` and turns what it throws into a StoreError. Transactions are `exec("begin immediate")`
 * … `exec("commit")` in the core (SqliteUsageStore.ts), the same on both drivers, so the port has
 * no transaction method of its own.
 */

/** A value bound to a `?` parameter or read from a column (booleans are written as 0 and 1). */
export type SqliteValue = null | number | string

export interface SqliteDatabase {
  /** Runs one or more statements without parameters (DDL, pragmas, begin/commit). */
  readonly exec: (sql: string) => void
  /** Runs one statement with positional `?` parameters; answers how many rows it changed. */
  readonly run: (sql: string, params: ReadonlyArray<SqliteValue>) => { readonly changes: number }
  /** Runs one query with positional `?` parameters; answers its rows as column → value. */
  readonly all: (sql: string, params: ReadonlyArray<SqliteValue>) => ReadonlyArray<Readonly<Record<string, unknown>>>
  readonly close: () => void
}

export interface SqliteDriver {
  /** Opens (creating it if missing) the database file at `path`, or an in-memory one for `:memory:`. */
  readonly open: (path: string) => SqliteDatabase
}
