-- 0002_usage: usage records and their per-minute rollup.
--
-- The owner's usage writer inserts each batch in one statement: the raw rows into `usage`
-- (`on conflict (request_id) do nothing`, so a batch retried after a timeout adds nothing twice)
-- and only the rows that statement inserted into `usage_minute`, summed per minute per (key,
-- project, user, model, provider). The usage report (hour and day series too) reads
-- `usage_minute` only. An absent key, project, user or provider is '' in the rollup (primary key
-- columns cannot be null) and NULL in `usage`. `bucket_ms` is the minute's start in epoch
-- milliseconds (UTC), the same in the SQLite store of file mode.

create table usage (
  request_id         text primary key,
  at                 timestamptz not null,
  key_id             text,
  project_id         text,
  user_id            text,
  endpoint           text not null,
  model              text not null,
  provider           text,
  upstream_model     text,
  input_tokens       bigint not null,
  cache_read_tokens  bigint not null,
  cache_write_tokens bigint not null,
  reasoning_tokens   bigint not null,
  output_tokens      bigint not null,
  estimated          boolean not null,
  cost_usd           double precision,
  status             integer not null,
  outcome            text not null check (outcome in ('ok', 'error', 'cancelled')),
  attempts           integer not null,
  latency_ms         double precision not null,
  ttft_ms            double precision,
  stream             boolean not null
);

create index usage_at on usage (at);
create index usage_key_at on usage (key_id, at);

create table usage_minute (
  bucket_ms   bigint not null,
  key_id      text not null,
  project_id  text not null,
  user_id     text not null,
  model       text not null,
  provider    text not null,
  requests    bigint not null,
  input       bigint not null,
  cache_read  bigint not null,
  cache_write bigint not null,
  reasoning   bigint not null,
  output      bigint not null,
  cost_usd    double precision not null,
  primary key (bucket_ms, key_id, project_id, user_id, model, provider)
);
