/**
 * The SQLite port (src/usage/SqliteDriver.ts) over Bun's built-in `bun:sqlite`. Statements are
 * prepared once per database and reused (`query` caches them).
 */
import { Database } from "bun:sqlite"
import type { SqliteDatabase, SqliteDriver } from "../../src/index.ts"

const openDatabase = (path: string): SqliteDatabase => {
  const db = new Database(path, { create: true, strict: false })
  return {
    exec: (sql) => {
      db.run(sql)
    },
    run: (sql, params) => ({ changes: db.query(sql).run(...params).changes }),
    all: (sql, params) => db.query<Record<string, unknown>, Array<string | number | null>>(sql).all(...params),
    close: () => db.close()
  }
}

export const bunSqlite: SqliteDriver = { open: openDatabase }
