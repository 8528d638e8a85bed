/**
 * The SQLite port (src/usage/SqliteDriver.ts) over `node:sqlite`'s DatabaseSync, built into Node
 * (22.5+) and Deno 2 (which needs only `--allow-read --allow-write` for it). Statements are prepared
 * once per database and reused.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite"
import type { SqliteDatabase, SqliteDriver } from "../../src/index.ts"

const openDatabase = (path: string): SqliteDatabase => {
  const db = new DatabaseSync(path)
  const statements = new Map<string, StatementSync>()
  const prepared = (sql: string): StatementSync => {
    let statement = statements.get(sql)
    if (statement === undefined) {
      statement = db.prepare(sql)
      statements.set(sql, statement)
    }
    return statement
  }
  return {
    exec: (sql) => db.exec(sql),
    run: (sql, params) => ({ changes: Number(prepared(sql).run(...params).changes) }),
    all: (sql, params) => prepared(sql).all(...params),
    close: () => {
      statements.clear()
      db.close()
    }
  }
}

export const nodeSqlite: SqliteDriver = { open: openDatabase }
