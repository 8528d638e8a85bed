/**
 * Test support for suites that need a real Postgres: `withTestDatabase(ctx)` creates a fresh,
 * empty database `llmgate_test_<random>` through the maintenance database, returns its URL, and
 * drops it when the test finishes (terminating connections the test left open).
 *
 * The server comes from `LLMGATE_TEST_DATABASE_URL` (default
 * `postgres://postgres@127.0.0.1:5432/postgres`). When it cannot be reached the test is skipped
 * with the reason, except under `CI=true`, where it fails: CI must never skip silently.
 */
import { randomBytes } from "node:crypto"
import postgres from "postgres"
import type { TestContext } from "vitest"

export const DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"

export interface TestDatabase {
  /** Connection URL of the fresh database. */
  readonly url: string
  /** Its name, `llmgate_test_<random>`. */
  readonly name: string
}

/** The maintenance database's URL (from the environment, or the default). */
export const baseUrl = (): string => process.env.LLMGATE_TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL

/** `url` with its database replaced by `database`. */
export const databaseUrl = (url: string, database: string): string => {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** host:port/database of a URL, without credentials, for messages. */
const where = (url: string): string => {
  try {
    const u = new URL(url)
    return `${u.hostname || "localhost"}:${u.port || "5432"}${u.pathname}`
  } catch {
    return "(unparseable LLMGATE_TEST_DATABASE_URL)"
  }
}

const reason = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/** A short-lived single connection to the maintenance database. */
const maintenance = (url: string) => postgres(url, { max: 1, connect_timeout: 5, onnotice: () => undefined })

/** Drops `name`, terminating whatever is still connected to it. */
const drop = async (url: string, name: string): Promise<void> => {
  const sql = maintenance(url)
  try {
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`
    await sql.unsafe(`drop database if exists "${name}" with (force)`)
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/**
 * Creates a fresh database for the current test and drops it when the test finishes. Skips the
 * test (with the reason) when Postgres is unreachable, or fails it when `CI=true`.
 */
export const withTestDatabase = async (ctx: TestContext): Promise<TestDatabase> => {
  const created = await create((message) => {
    if (process.env.CI === "true") throw new Error(`${message}. CI=true: tests needing Postgres fail rather than skip.`)
    ctx.skip(message)
  })
  ctx.onTestFinished(created.drop)
  return { url: created.url, name: created.name }
}

/**
 * The beforeAll/afterAll variant of `withTestDatabase`: creates a fresh database now and returns it
 * with `drop` (call it in afterAll). When Postgres is unreachable it throws, naming the server (under
 * `CI=true` saying that CI fails rather than skips); a suite-wide fixture has no test to skip.
 */
export const createTestDatabase = (): Promise<TestDatabase & { readonly drop: () => Promise<void> }> =>
  create((message) => {
    throw new Error(
      process.env.CI === "true" ? `${message}. CI=true: tests needing Postgres fail rather than skip.` : message
    )
  })

/** Creates `llmgate_test_<random>`; `onUnreachable` decides what an unreachable server means (it must not return normally). */
const create = async (
  onUnreachable: (message: string) => void
): Promise<TestDatabase & { readonly drop: () => Promise<void> }> => {
  const url = baseUrl()
  const name = `llmgate_test_${randomBytes(6).toString("hex")}`
  const sql = maintenance(url)
  try {
    try {
      await sql`select 1`
    } catch (cause) {
      onUnreachable(
        `Postgres is unreachable at ${where(url)} (${reason(cause)}); start it or set LLMGATE_TEST_DATABASE_URL`
      )
    }
    await sql.unsafe(`create database "${name}"`)
  } finally {
    await sql.end({ timeout: 5 })
  }
  return { url: databaseUrl(url, name), name, drop: () => drop(url, name) }
}
