/**
 * The usage store in SQLite, for file mode: one database file beside the config file, opened
 * through the runtime's SQLite port (SqliteDriver.ts) in WAL mode, written only by the owner's
 * writer. The same schema idea as Postgres (migrations/0002_usage.sql): the raw records in `usage`
 * and `usage_minute`, a rollup per minute per (key, project,
 * user, model, provider), both changed in one transaction. A record is inserted with `insert or
 * ignore` keyed by the writer's id (a UUIDv7: the table, clustered on it, is in time order and
 * grows at its end) and added to the rollup only when it was new, so a retried batch never counts
 * twice. Reports read the rollup only, so the raw table has no other index: each one costs the
 * writer on every record (measured: a (key, time) index about 6 µs of CPU per record, a time index
 * about 2 µs, the version-1 key on random request ids 30–60 µs and growing with the table, against
 * 6–10 µs for the insert itself). A question about one key's raw records scans; Postgres, for larger
 * deployments, keeps the indexes (its server pays for them, not the gateway). The schema is created on open (`create … if not exists`); `user_version` numbers
 * it, and a version-1 database (keyed by request id) is converted in place on open.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type StoreError, storeError } from "../domain/StoreError.ts"
import type { StoredUsageRecord } from "../domain/Usage.ts"
import {
  minuteBucket,
  NONE,
  seriesPoint,
  seriesSql,
  type SpendScope,
  spendOf,
  spendSql,
  uniqueById,
  type UsageSeriesQuery,
  type UsageStoreShape
} from "../domain/UsageSeries.ts"
import type { SqliteDatabase, SqliteDriver, SqliteValue } from "./SqliteDriver.ts"
import { queryError } from "./UsageStore.ts"

/** The schema version this module creates (`pragma user_version`). */
export const SQLITE_USAGE_SCHEMA_VERSION = 2

const SCHEMA = `
create table if not exists usage (
  id                 text primary key,
  request_id         text not null,
  at_ms              real not null,
  key_id             text,
  project_id         text,
  user_id            text,
  endpoint           text not null,
  model              text not null,
  provider           text,
  upstream_model     text,
  input_tokens       integer not null,
  cache_read_tokens  integer not null,
  cache_write_tokens integer not null,
  reasoning_tokens   integer not null,
  output_tokens      integer not null,
  estimated          integer not null,
  cost_usd           real,
  status             integer not null,
  outcome            text not null,
  attempts           integer not null,
  latency_ms         real not null,
  ttft_ms            real,
  stream             integer not null
) without rowid;
create table if not exists usage_minute (
  bucket_ms   integer not null,
  key_id      text not null,
  project_id  text not null,
  user_id     text not null,
  model       text not null,
  provider    text not null,
  requests    integer not null,
  input       integer not null,
  cache_read  integer not null,
  cache_write integer not null,
  reasoning   integer not null,
  output      integer not null,
  cost_usd    real not null,
  primary key (bucket_ms, key_id, project_id, user_id, model, provider)
) without rowid;
`

/**
 * Version 1 keyed the records by request id: its rows move to the version-2 table with ids that
 * cannot collide with a UUIDv7 (`v1-` and the request id, unique in version 1).
 */
const FROM_VERSION_1 = `
alter table usage rename to usage_v1;
drop index if exists usage_at;
drop index if exists usage_key_at;
${SCHEMA}
insert into usage select 'v1-' || request_id, * from usage_v1;
drop table usage_v1;
`

const INSERT_RAW = `insert or ignore into usage (id, request_id, at_ms, key_id, project_id, user_id, endpoint, model, provider,
  upstream_model, input_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, output_tokens, estimated,
  cost_usd, status, outcome, attempts, latency_ms, ttft_ms, stream)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const UPSERT_MINUTE = `insert into usage_minute (bucket_ms, key_id, project_id, user_id, model, provider,
  requests, input, cache_read, cache_write, reasoning, output, cost_usd)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  on conflict (bucket_ms, key_id, project_id, user_id, model, provider) do update set
    requests = requests + excluded.requests, input = input + excluded.input,
    cache_read = cache_read + excluded.cache_read, cache_write = cache_write + excluded.cache_write,
    reasoning = reasoning + excluded.reasoning, output = output + excluded.output,
    cost_usd = cost_usd + excluded.cost_usd`

const rawParams = (r: StoredUsageRecord): ReadonlyArray<SqliteValue> => [
  r.id,
  r.request_id,
  r.at_ms,
  r.key_id,
  r.project_id,
  r.user_id,
  r.endpoint,
  r.model,
  r.provider,
  r.upstream_model,
  r.tokens.input,
  r.tokens.cache_read,
  r.tokens.cache_write,
  r.tokens.reasoning,
  r.tokens.output,
  r.estimated ? 1 : 0,
  r.cost_usd,
  r.status,
  r.outcome,
  r.attempts,
  r.latency_ms,
  r.ttft_ms,
  r.stream ? 1 : 0
]

/** One rollup row being summed in memory for a batch. */
interface MinuteSum {
  readonly key: ReadonlyArray<SqliteValue>
  requests: number
  input: number
  cache_read: number
  cache_write: number
  reasoning: number
  output: number
  cost_usd: number
}

/** The new records' sums per rollup row. */
const minuteSums = (records: ReadonlyArray<StoredUsageRecord>): ReadonlyArray<MinuteSum> => {
  const sums = new Map<string, MinuteSum>()
  for (const r of records) {
    const key = [
      minuteBucket(r.at_ms),
      r.key_id ?? NONE,
      r.project_id ?? NONE,
      r.user_id ?? NONE,
      r.model,
      r.provider ?? NONE
    ]
    const id = JSON.stringify(key)
    let sum = sums.get(id)
    if (sum === undefined) {
      sum = { key, requests: 0, input: 0, cache_read: 0, cache_write: 0, reasoning: 0, output: 0, cost_usd: 0 }
      sums.set(id, sum)
    }
    sum.requests++
    sum.input += r.tokens.input
    sum.cache_read += r.tokens.cache_read
    sum.cache_write += r.tokens.cache_write
    sum.reasoning += r.tokens.reasoning
    sum.output += r.tokens.output
    sum.cost_usd += r.cost_usd ?? 0
  }
  return [...sums.values()]
}

/** Runs `body` in one write transaction (rolled back when it throws). */
const transaction = <A>(db: SqliteDatabase, body: () => A): A => {
  db.exec("begin immediate")
  try {
    const result = body()
    db.exec("commit")
    return result
  } catch (e) {
    try {
      db.exec("rollback")
    } catch {
      // the failure that matters is the first one
    }
    throw e
  }
}

/** The store over an open database (its schema created here if missing). */
export const fromDatabase = (db: SqliteDatabase, description: string): Effect.Effect<UsageStoreShape, StoreError> =>
  Effect.try({
    try: () => {
      // WAL: the writer's commits do not block readers (the usage report), and a commit is one
      // append to the log; NORMAL sync is durable against a process crash (see the README).
      db.exec("pragma journal_mode = wal; pragma synchronous = normal; pragma busy_timeout = 5000")
      transaction(db, () => {
        const version = Number(db.all("pragma user_version", [])[0]?.["user_version"] ?? 0)
        if (version > SQLITE_USAGE_SCHEMA_VERSION) {
          throw new Error(
            `its schema is version ${version}, newer than this gateway's ${SQLITE_USAGE_SCHEMA_VERSION}: upgrade the gateway`
          )
        }
        db.exec(version === 1 ? FROM_VERSION_1 : SCHEMA)
        db.exec(`pragma user_version = ${SQLITE_USAGE_SCHEMA_VERSION}`)
      })
    },
    catch: (cause) => queryError(`create the usage schema in ${description}`, cause)
  }).pipe(
    Effect.as<UsageStoreShape>({
      description,
      writeBatch: (records) =>
        Effect.try({
          try: () =>
            transaction(db, () => {
              const inserted: Array<StoredUsageRecord> = []
              for (const r of uniqueById(records)) {
                if (db.run(INSERT_RAW, rawParams(r)).changes > 0) inserted.push(r)
              }
              for (const s of minuteSums(inserted)) {
                db.run(UPSERT_MINUTE, [
                  ...s.key,
                  s.requests,
                  s.input,
                  s.cache_read,
                  s.cache_write,
                  s.reasoning,
                  s.output,
                  s.cost_usd
                ])
              }
              return inserted.length
            }),
          catch: (cause) => queryError(`write ${records.length} usage records to ${description}`, cause)
        }),
      series: (query: UsageSeriesQuery) =>
        Effect.try({
          try: () => {
            const { text, params } = seriesSql(query)
            return db.all(text, params).map(seriesPoint)
          },
          catch: (cause) => queryError(`read the usage series from ${description}`, cause)
        }),
      spend: (scope: SpendScope, from: number) =>
        Effect.try({
          try: () => {
            const { text, params } = spendSql(scope, from)
            return spendOf(db.all(text, params))
          },
          catch: (cause) => queryError(`read the spend from ${description}`, cause)
        })
    })
  )

/** The store at `path` as messages name it. */
export const describe = (path: string): string => (path === ":memory:" ? "sqlite (in memory)" : `sqlite ${path}`)

/**
 * Opens the database at `path` (created if missing; `:memory:` for one that lives as long as the
 * scope) and closes it with the scope.
 */
export const open = (driver: SqliteDriver, path: string): Effect.Effect<UsageStoreShape, StoreError, Scope.Scope> => {
  const description = describe(path)
  return Effect.acquireRelease(
    Effect.try({
      try: () => driver.open(path),
      catch: (cause) =>
        storeError({
          _tag: "Unreachable",
          message: `cannot open ${description}: ${cause instanceof Error ? cause.message : String(cause)}`
        })
    }),
    (db) => Effect.sync(() => db.close())
  ).pipe(Effect.flatMap((db) => fromDatabase(db, description)))
}
