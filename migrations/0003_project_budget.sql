-- 0003_project_budget: a project's spending cap, `{ "amount_usd": number, "period": "daily" |
-- "weekly" | "monthly" | "total" }` as in the YAML file (keys have had `budget` since 0001).

alter table projects add column budget jsonb;
