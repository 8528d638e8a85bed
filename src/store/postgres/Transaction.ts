/**
 * One postgres.js transaction that runs an Effect, serialized with every other holder of an
 * advisory lock (`pg_advisory_xact_lock`, released at commit or rollback): committed when the
 * Effect succeeds, rolled back when it fails (its failure is the answer). Uninterruptible, so a
 * change is never left half done. postgres.js's own `begin` (its queries go through the pool's
 * queue and fail when their connection closes), not `reserve()`, which a connection reset while
 * it is queued leaves pending forever (porsager/postgres#1195): the caller would hang and hold
 * the lock.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type postgres from "postgres"

export const lockedTransaction = <A, E>(
  sql: postgres.Sql,
  lockKey: string,
  body: (conn: postgres.TransactionSql) => Effect.Effect<A, E>,
  /** The failure of the transaction itself (a lost connection, a failed commit). */
  failure: (cause: unknown) => E
): Effect.Effect<A, E> =>
  Effect.uninterruptible(
    Effect.flatMap(Effect.context<never>(), (context) => {
      const run = Effect.runPromiseExitWith(context)
      /** The body's failure, carried past `sql.begin`, whose callback must reject (with `rolledBack`) to roll back. */
      let failed: Exit.Exit<A, E> | undefined
      const rolledBack = new Error("rolled back")
      return Effect.tryPromise({
        try: () =>
          sql.begin(async (conn) => {
            await conn`select pg_advisory_xact_lock(${lockKey}::bigint)`
            const exit = await run(body(conn))
            // A failure rolls the transaction back: postgres.js does that when the callback rejects.
            if (Exit.isFailure(exit)) {
              failed = exit
              throw rolledBack
            }
            return [exit] as const
          }),
        catch: (cause) => cause
      }).pipe(
        Effect.flatMap(([exit]) => exit),
        Effect.catch((cause) => (cause === rolledBack && failed !== undefined ? failed : Effect.fail(failure(cause))))
      )
    })
  )
