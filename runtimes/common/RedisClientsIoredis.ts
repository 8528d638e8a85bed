/**
 * The core's Redis port (src/limits/RedisScripts.ts) over ioredis, for every runtime: ioredis runs
 * on Node, and on Bun and Deno through their node:net compatibility.
 *
 * One connection per worker thread, opened when the worker starts and closed with its scope:
 * - the start waits at most `CONNECT_WAIT_MS` for it, then serves anyway (the store's `on_error`
 *   policy applies until Redis answers);
 * - no offline queue and no retry of a command: while disconnected a command fails at once;
 * - every command is bounded by `commandTimeoutMs` (a Redis that hangs cannot hold a request);
 * - ioredis reconnects by itself with a capped backoff, so the first command after Redis is back
 *   succeeds. Connection errors are not logged here: the store logs failures, at most once per
 *   interval.
 * The client is loaded on the first `connect`, so a gateway without Redis never loads it.
 * Scripts go by EVALSHA (their SHA-1 computed once), falling back to EVAL on NOSCRIPT (a restarted
 * or flushed Redis forgets them; EVAL loads them again).
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Redis } from "ioredis"
import { createHash } from "node:crypto"
import {
  RedisClients,
  type RedisConnectOptions,
  RedisError,
  type RedisScript,
  type RedisScripts
} from "../../src/index.ts"

/** How long a worker's start waits for its first connection. */
const CONNECT_WAIT_MS = 1_000
/** A connection attempt that takes longer is abandoned (and retried with backoff). */
const CONNECT_TIMEOUT_MS = 2_000
/** Reconnect backoff: 50 ms more per attempt, at most this. */
const MAX_BACKOFF_MS = 1_000

const errorOf = (e: unknown): RedisError => {
  const message = e instanceof Error ? e.message : String(e)
  if (e instanceof Error && e.name === "ReplyError") return new RedisError({ reason: { _tag: "Reply", message } })
  if (/timed out/i.test(message)) return new RedisError({ reason: { _tag: "Timeout", message } })
  // A command in flight when the connection dropped (ioredis does not retry it: maxRetriesPerRequest 0).
  if (e instanceof Error && e.name === "MaxRetriesPerRequestError") {
    return new RedisError({ reason: { _tag: "Unreachable", message: "the connection was lost" } })
  }
  return new RedisError({ reason: { _tag: "Unreachable", message } })
}

const integers = (reply: unknown): ReadonlyArray<number> | undefined =>
  Array.isArray(reply) && reply.every((n) => typeof n === "number") ? reply : undefined

const scriptsOf = (redis: Redis): RedisScripts => {
  const shas = new Map<string, string>()
  const shaOf = (source: string): string => {
    let sha = shas.get(source)
    if (sha === undefined) {
      sha = createHash("sha1").update(source).digest("hex")
      shas.set(source, sha)
    }
    return sha
  }
  const send = async (
    script: RedisScript,
    keys: ReadonlyArray<string>,
    args: ReadonlyArray<string | number>
  ): Promise<unknown> => {
    try {
      return await redis.evalsha(shaOf(script.source), keys.length, ...keys, ...args)
    } catch (e) {
      if (e instanceof Error && e.message.startsWith("NOSCRIPT"))
        return await redis.eval(script.source, keys.length, ...keys, ...args)
      throw e
    }
  }
  return {
    run: (script, keys, args) =>
      Effect.flatMap(Effect.tryPromise({ try: () => send(script, keys, args), catch: errorOf }), (reply) => {
        const values = integers(reply)
        return values !== undefined
          ? Effect.succeed(values)
          : Effect.fail(
              new RedisError({
                reason: { _tag: "Reply", message: `script ${script.name}: expected an array of integers` }
              })
            )
      })
  }
}

const connect = (options: RedisConnectOptions) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.promise(async () => {
        // Loaded only when limits are counted in Redis: a gateway without it never pays for the client.
        const { Redis } = await import("ioredis")
        const redis = new Redis(options.url, {
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          commandTimeout: options.commandTimeoutMs,
          connectTimeout: CONNECT_TIMEOUT_MS,
          retryStrategy: (times) => Math.min(times * 50, MAX_BACKOFF_MS)
        })
        // Failures reach the store through the commands; without a listener ioredis prints each one.
        redis.on("error", () => undefined)
        let timer: ReturnType<typeof setTimeout> | undefined
        await Promise.race([
          redis.connect().catch(() => undefined),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, CONNECT_WAIT_MS)))
        ])
        clearTimeout(timer)
        return redis
      }),
      (redis) => Effect.sync(() => redis.disconnect(false))
    ),
    scriptsOf
  )

export const layer: Layer.Layer<RedisClients> = Layer.succeed(RedisClients, RedisClients.of({ connect }))
