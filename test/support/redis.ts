/**
 * Test support for suites that need a real Redis: `withTestRedis(ctx)` checks the server answers
 * and gives the test a key prefix of its own (`llmgate_test_<random>:`), whose keys are deleted
 * when the test finishes.
 *
 * The server comes from `LLMGATE_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). When it cannot
 * be reached the test is skipped with the reason, except under `CI=true`, where it fails: CI must
 * never skip silently.
 */
import { Redis } from "ioredis"
import { randomBytes } from "node:crypto"
import type { TestContext } from "vitest"

export const DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379"

export const redisUrl = (): string => process.env.LLMGATE_TEST_REDIS_URL ?? DEFAULT_TEST_REDIS_URL

export interface TestRedis {
  readonly url: string
  /** host and port of the server (for a TCP proxy in front of it). */
  readonly host: string
  readonly port: number
  /** Unique to the test: every key the test writes starts with it. */
  readonly prefix: string
  /** The keys under the prefix now (sorted). */
  readonly keys: () => Promise<ReadonlyArray<string>>
  /** Deletes every key under the prefix. */
  readonly clear: () => Promise<void>
}

/** One short-lived connection, never retried; its failures surface through the commands. */
const open = (url: string) => {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    retryStrategy: () => null
  })
  redis.on("error", () => undefined)
  return redis
}

const keysUnder = async (url: string, prefix: string): Promise<Array<string>> => {
  const redis = open(url)
  try {
    await redis.connect()
    const found: Array<string> = []
    let cursor = "0"
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
      cursor = next
      found.push(...batch)
    } while (cursor !== "0")
    return found.sort()
  } finally {
    redis.disconnect()
  }
}

const clear = async (url: string, prefix: string): Promise<void> => {
  const keys = await keysUnder(url, prefix)
  if (keys.length === 0) return
  const redis = open(url)
  try {
    await redis.connect()
    await redis.del(...keys)
  } finally {
    redis.disconnect()
  }
}

/**
 * Why the test Redis cannot be used, or undefined when it answers: for a suite that starts its own
 * processes in beforeAll (`describe.skipIf`). Under CI=true it is always undefined, so the suite
 * runs and fails rather than being skipped.
 */
export const redisUnavailable = async (): Promise<string | undefined> => {
  if (process.env.CI === "true") return undefined
  try {
    await createTestRedis()
    return undefined
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
}

/** A prefix of its own on the test Redis, cleared when the test finishes; skips (or fails under CI=true) when Redis is unreachable. */
export const withTestRedis = async (ctx: TestContext): Promise<TestRedis> => {
  const created = await createTestRedis((message) => {
    if (process.env.CI === "true") throw new Error(`${message}. CI=true: tests needing Redis fail rather than skip.`)
    ctx.skip(message)
  })
  ctx.onTestFinished(created.clear)
  return created
}

/**
 * The beforeAll/afterAll variant: a prefix now (call `clear` in afterAll). When Redis is unreachable
 * `onUnreachable` decides (default: throw, naming the server).
 */
export const createTestRedis = async (
  onUnreachable: (message: string) => void = (message) => {
    throw new Error(
      process.env.CI === "true" ? `${message}. CI=true: tests needing Redis fail rather than skip.` : message
    )
  }
): Promise<TestRedis> => {
  const url = redisUrl()
  const u = new URL(url)
  const redis = open(url)
  try {
    await redis.connect()
    await redis.ping()
  } catch (cause) {
    onUnreachable(
      `Redis is unreachable at ${u.hostname}:${u.port || "6379"} (${cause instanceof Error ? cause.message : String(cause)}); start it or set LLMGATE_TEST_REDIS_URL`
    )
  } finally {
    redis.disconnect()
  }
  const prefix = `llmgate_test_${randomBytes(6).toString("hex")}:`
  return {
    url,
    host: u.hostname,
    port: Number(u.port || "6379"),
    prefix,
    keys: () => keysUnder(url, prefix),
    clear: () => clear(url, prefix)
  }
}
