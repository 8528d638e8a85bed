-- 0001_config_store: the Postgres config store.
--
-- Config (providers, models, routes) mirrors the sections of the YAML file; tenancy (projects,
-- users, virtual keys) exists only here. Every change to a config or tenancy table notifies the
-- `llmgate_config` channel (payload: the table name) once per statement, after commit, so running
-- gateways reload. The migrator runs this file inside one transaction: no BEGIN/COMMIT here.
-- Migrations are append-only: change the schema in 0002_..., never by editing this file.

-- Config ---------------------------------------------------------------------------------------

-- One provider per row; `spec` is the provider's section of the YAML file (secret fields
-- encrypted by the application). `position` keeps the file's order.
create table providers (
  name       text primary key,
  position   integer not null,
  spec       jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- One public model per row (its name may be a pattern such as `claude-*`); `spec` as in the file.
create table models (
  name       text primary key,
  position   integer not null,
  spec       jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Path → model overrides, in order.
create table routes (
  position integer primary key,
  path     text not null,
  model    text not null
);

-- Tenancy --------------------------------------------------------------------------------------

create table projects (
  id         text primary key,
  name       text not null unique,
  limits     jsonb,
  metadata   jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table users (
  id         text primary key,
  name       text not null,
  email      text unique,
  role       text not null check (role in ('admin', 'member')),
  metadata   jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Which projects a user belongs to.
create table user_projects (
  user_id    text references users (id) on delete cascade,
  project_id text references projects (id) on delete cascade,
  primary key (user_id, project_id)
);
create index user_projects_project_id on user_projects (project_id);

-- Virtual keys: only a hash of the key is stored; `prefix` is its visible start. A rotated key
-- keeps working until `previous_expires_at` through `previous_hash`. A project with keys cannot
-- be deleted; deleting a user detaches their keys.
create table virtual_keys (
  id                  text primary key,
  name                text not null,
  key_hash            text not null unique,
  prefix              text not null,
  project_id          text not null references projects (id) on delete restrict,
  user_id             text references users (id) on delete set null,
  models              jsonb not null default '[]',
  enabled             boolean not null default true,
  expires_at          timestamptz,
  limits              jsonb,
  budget              jsonb,
  metadata            jsonb not null default '{}',
  previous_hash       text unique,
  previous_expires_at timestamptz,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now()
);
create index virtual_keys_project_id on virtual_keys (project_id);
create index virtual_keys_user_id on virtual_keys (user_id);

-- Audit ----------------------------------------------------------------------------------------

-- Who changed what, append-only; not watched by the reload trigger.
create table audit_log (
  id          bigserial primary key,
  at          timestamptz not null default now(),
  actor       text not null,
  action      text not null,
  resource    text not null,
  resource_id text,
  detail      jsonb not null default '{}'
);
create index audit_log_at on audit_log (at);

-- Hot reload -----------------------------------------------------------------------------------

-- Notifies `llmgate_config` with the changed table's name (on TRUNCATE too, so a replace-all that
-- truncates still reloads). Postgres delivers notifications on commit and folds identical ones
-- within a transaction, so a bulk change is one notice per table.
create function llmgate_config_changed() returns trigger
language plpgsql as $$
begin
  perform pg_notify('llmgate_config', TG_TABLE_NAME);
  return null;
end
$$;

create trigger llmgate_config_changed after insert or update or delete or truncate on providers
  for each statement execute function llmgate_config_changed();
create trigger llmgate_config_changed after insert or update or delete or truncate on models
  for each statement execute function llmgate_config_changed();
create trigger llmgate_config_changed after insert or update or delete or truncate on routes
  for each statement execute function llmgate_config_changed();
create trigger llmgate_config_changed after insert or update or delete or truncate on projects
  for each statement execute function llmgate_config_changed();
create trigger llmgate_config_changed after insert or update or delete or truncate on users
  for each statement execute function llmgate_config_changed();
create trigger llmgate_config_changed after insert or update or delete or truncate on user_projects
  for each statement execute function llmgate_config_changed();
create trigger llmgate_config_changed after insert or update or delete or truncate on virtual_keys
  for each statement execute function llmgate_config_changed();
