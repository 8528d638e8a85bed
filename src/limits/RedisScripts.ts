/**
 * The Redis port: the little the Redis limiter store (limits/RedisLimiterStore.ts) needs from a
 * Redis client, so the core never imports one (a client pulls node:net; src/ compiles with no
 * runtime's types). It runs Lua scripts, nothing else: `run(script, keys, args)` answers the
 * script's array of integers. The one implementation, over ioredis, lives in
 * runtimes/common/RedisClientsIoredis.ts and is provided by every runtime's port (`platform`).
 *
 * An implementation sends EVALSHA and falls back to EVAL when the server does not know the script
 * (NOSCRIPT), bounds every command in time, and fails at once while disconnected (no offline
 * queue) while it reconnects in the background: a Redis that hangs or is gone never holds a request
 * for long, and the first command after it is back succeeds.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

/** A Lua script: a name for messages and its source (the implementation hashes it once for EVALSHA). */
export interface RedisScript {
  readonly name: string
  readonly source: string
}

export const RedisErrorReason = Schema.Union([
  /** Not connected (refused, reset, reconnecting): commands fail at once. */
  Schema.TaggedStruct("Unreachable", { message: Schema.String }),
  /** Sent, but no answer within the command timeout. */
  Schema.TaggedStruct("Timeout", { message: Schema.String }),
  /** Redis answered with an error, or with something a script does not answer. */
  Schema.TaggedStruct("Reply", { message: Schema.String })
])
export type RedisErrorReason = typeof RedisErrorReason.Type

/** Every failure of the port: the one error of this area, its reason saying which. */
export class RedisError extends Schema.TaggedError<RedisError>()("RedisError", {
  reason: RedisErrorReason
}) {
  override get message(): string {
    return `${this.reason._tag}: ${this.reason.message}`
  }
}

/** One connection's script runner. */
export interface RedisScripts {
  /** Runs `script` with `keys` and `args`; its reply is an array of integers. */
  readonly run: (
    script: RedisScript,
    keys: ReadonlyArray<string>,
    args: ReadonlyArray<string | number>
  ) => Effect.Effect<ReadonlyArray<number>, RedisError>
}

export interface RedisConnectOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  readonly url: string
  /** How long one command may take before it fails with `Timeout`. */
  readonly commandTimeoutMs: number
}

/** Opens Redis connections; each is closed with the scope it was opened in. */
export class RedisClients extends Context.Service<
  RedisClients,
  {
    readonly connect: (options: RedisConnectOptions) => Effect.Effect<RedisScripts, never, Scope.Scope>
  }
>()("llmgate/RedisClients") {}
