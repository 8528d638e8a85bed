/**
 * The usage store in Postgres (migrations/0002_usage.sql, 0004_usage_record_id.sql), for Postgres
 * mode: each batch is one statement, so one transaction. The records travel as one JSON parameter
 * (no limit on parameters per batch) and are inserted into `usage` with `on conflict (id) do
 * nothing` (the writer's record id, not the request id a client may repeat); a CTE's
 * `returning` names the rows actually inserted, and only those are summed into `usage_minute`
 * (`insert … on conflict do update`, grouped first so no rollup row is touched twice). A batch
 * retried after a timeout whose first try did commit therefore adds nothing. Series read
 * `usage_minute` only (domain/UsageSeries.ts has the statement, shared with SQLite).
 */
import * as Effect from "effect/Effect"
import type postgres from "postgres"
import type { StoreError } from "../../domain/StoreError.ts"
import { storeError } from "../../domain/StoreError.ts"
import type { StoredUsageRecord } from "../../domain/Usage.ts"
import {
  seriesPoint,
  seriesSql,
  type SpendScope,
  spendOf,
  spendSql,
  uniqueById,
  type UsageSeriesQuery,
  type UsageStoreShape
} from "../../domain/UsageSeries.ts"
import { describeCause } from "./Migrations.ts"

const WRITE = `
with input as (
  select * from jsonb_to_recordset($1::text::jsonb) as r(
    id text, request_id text, at_ms double precision, key_id text, project_id text, user_id text, endpoint text, model text,
    provider text, upstream_model text, input bigint, cache_read bigint, cache_write bigint, reasoning bigint,
    output bigint, estimated boolean, cost_usd double precision, status integer, outcome text, attempts integer,
    latency_ms double precision, ttft_ms double precision, stream boolean)
), inserted as (
  insert into usage (id, request_id, at, key_id, project_id, user_id, endpoint, model, provider, upstream_model,
    input_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, output_tokens, estimated, cost_usd,
    status, outcome, attempts, latency_ms, ttft_ms, stream)
  select id, request_id, to_timestamp(at_ms / 1000.0), key_id, project_id, user_id, endpoint, model, provider,
    upstream_model, input, cache_read, cache_write, reasoning, output, estimated, cost_usd, status, outcome,
    attempts, latency_ms, ttft_ms, stream
  from input
  on conflict (id) do nothing
  returning id
), rolled as (
  insert into usage_minute (bucket_ms, key_id, project_id, user_id, model, provider, requests, input, cache_read,
    cache_write, reasoning, output, cost_usd)
  select (floor(i.at_ms / 60000) * 60000)::bigint, coalesce(i.key_id, ''), coalesce(i.project_id, ''),
    coalesce(i.user_id, ''), i.model, coalesce(i.provider, ''), count(*), sum(i.input), sum(i.cache_read),
    sum(i.cache_write), sum(i.reasoning), sum(i.output), coalesce(sum(i.cost_usd), 0)
  from input i join inserted using (id)
  group by 1, 2, 3, 4, 5, 6
  on conflict (bucket_ms, key_id, project_id, user_id, model, provider) do update set
    requests = usage_minute.requests + excluded.requests, input = usage_minute.input + excluded.input,
    cache_read = usage_minute.cache_read + excluded.cache_read,
    cache_write = usage_minute.cache_write + excluded.cache_write,
    reasoning = usage_minute.reasoning + excluded.reasoning, output = usage_minute.output + excluded.output,
    cost_usd = usage_minute.cost_usd + excluded.cost_usd
)
select count(*)::integer as inserted from inserted`

/** A record as one element of the batch's JSON parameter (the columns of `input` above). */
const row = (r: StoredUsageRecord) => ({
  id: r.id,
  request_id: r.request_id,
  at_ms: r.at_ms,
  key_id: r.key_id,
  project_id: r.project_id,
  user_id: r.user_id,
  endpoint: r.endpoint,
  model: r.model,
  provider: r.provider,
  upstream_model: r.upstream_model,
  ...r.tokens,
  estimated: r.estimated,
  cost_usd: r.cost_usd,
  status: r.status,
  outcome: r.outcome,
  attempts: r.attempts,
  latency_ms: r.latency_ms,
  ttft_ms: r.ttft_ms,
  stream: r.stream
})

/** `?` placeholders (the shared series statement) as Postgres' `$n`. */
const numbered = (text: string): string => {
  let n = 0
  return text.replace(/\?/g, () => `$${++n}`)
}

const failed =
  (what: string) =>
  (cause: unknown): StoreError => {
    const message = `${what}: ${describeCause(cause)}`
    // A refused or broken connection is an outage (the writer keeps the records and retries).
    const code = cause instanceof Error ? Reflect.get(cause, "code") : undefined
    const unreachable =
      typeof code === "string" &&
      (code.startsWith("08") || code.startsWith("57P") || code.startsWith("E") || code.startsWith("CONNECT"))
    return storeError({ _tag: unreachable ? "Unreachable" : "Query", message })
  }

/** The usage store on a pool whose database has migrations 0002 and 0004 applied. */
export const make = (sql: postgres.Sql): UsageStoreShape => ({
  description: "postgres",
  writeBatch: (records) => {
    const unique = uniqueById(records)
    if (unique.length === 0) return Effect.succeed(0)
    return Effect.tryPromise({
      try: () => sql.unsafe<Array<{ inserted: number }>>(WRITE, [JSON.stringify(unique.map(row))]),
      catch: failed(`write ${unique.length} usage records`)
    }).pipe(Effect.map((rows) => rows[0]?.inserted ?? 0))
  },
  series: (query: UsageSeriesQuery) => {
    const { text, params } = seriesSql(query)
    return Effect.tryPromise({
      try: () => sql.unsafe<Array<Record<string, unknown>>>(numbered(text), [...params]),
      catch: failed("read the usage series")
    }).pipe(Effect.map((rows) => rows.map(seriesPoint)))
  },
  spend: (scope: SpendScope, from: number) => {
    const { text, params } = spendSql(scope, from)
    return Effect.tryPromise({
      try: () => sql.unsafe<Array<Record<string, unknown>>>(numbered(text), [...params]),
      catch: failed("read the spend")
    }).pipe(Effect.map(spendOf))
  }
})
