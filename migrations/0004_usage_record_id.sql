-- 0004_usage_record_id: usage records are keyed by the writer's own id, not by the request id.
--
-- A client may send the same `x-request-id` with many requests (a fixed header, a retrying
-- proxy); keyed by request id, every such request after the first was skipped as a duplicate and
-- never counted. The owner's usage writer now gives each record an id (a UUIDv7, given once, so a
-- batch retried after a timeout carries the same ids and `on conflict (id) do nothing` still
-- counts it once). Records written before this migration get `v1-` and their request id, unique
-- until now and unable to collide with a UUID. The request id stays, indexed, not unique.

alter table usage add column id text;
update usage set id = 'v1-' || request_id;
alter table usage alter column id set not null;
alter table usage drop constraint usage_pkey;
alter table usage add primary key (id);
create index usage_request_id on usage (request_id);
