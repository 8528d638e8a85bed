/**
 * The flags `deno run` needs for llmgate, in one place: `npm run start:deno` (package.json), the
 * Deno Dockerfile, the test harness and the bench use exactly these (a unit test checks the first
 * two against this list). Worker threads inherit the main thread's permissions.
 *
 * - `--unstable-no-legacy-abort`: `request.signal` aborts only when the client goes away.
 * - `--unstable-net`: `Deno.serve({ reusePort })`, so the worker threads share the port.
 * - `--allow-net`: serve the port, call the providers (and Postgres, Redis).
 * - `--allow-env`: `${VAR}` in the config, LLMGATE_* settings, DATABASE_URL, REDIS_URL.
 * - `--allow-read`: the config file, migrations, the docs bundle.
 * - `--allow-write`: the admin API and `llmgate keys create` write the config file back.
 */
export const DENO_RUN_FLAGS: ReadonlyArray<string> = [
  "--unstable-no-legacy-abort",
  "--unstable-net",
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write"
]
