/**
 * Token counts as a worker asks for them (usage/TokenCounts.ts): each `count` posts `CountTokens`
 * to the owner, which counts the texts in its tokenizer thread (the only thread that loads a BPE
 * encoding) and answers `TokenCount` with the same id; `serveCountTokens` is the owner's end. With
 * one worker, the worker runs in the owner's thread and the two messages travel the in-process
 * channel (no copy, no thread): the same path. A caller that gives up (its timeout, a client gone)
 * leaves nothing waiting; an answer that comes after is dropped.
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type { TokenCountsShape } from "../usage/TokenCounts.ts"
import { TokenCountError } from "../usage/TokenizerThread.ts"
import type { FromWorker, TokenCountResult, ToWorker } from "./Protocol.ts"

export type CountTokensMessage = Extract<FromWorker, { readonly _tag: "CountTokens" }>
export type TokenCountMessage = Extract<ToWorker, { readonly _tag: "TokenCount" }>

export interface RemoteTokenCounts extends TokenCountsShape {
  /** Settles the count waiting for this answer (if its caller still waits). */
  readonly answer: (reply: TokenCountMessage) => void
  /** How many counts wait for the owner's answer. */
  readonly waiting: () => number
}

/** `post` sends a `CountTokens` to the owner; the worker hands each `TokenCount` to `answer`. */
export const makeRemoteTokenCounts = (post: (message: CountTokensMessage) => void): RemoteTokenCounts => {
  let nextId = 0
  const waiting = new Map<number, Deferred.Deferred<ReadonlyArray<number>, TokenCountError>>()
  return {
    count: (encoding, texts) =>
      Effect.suspend(() => {
        const id = ++nextId
        const done = Deferred.makeUnsafe<ReadonlyArray<number>, TokenCountError>()
        waiting.set(id, done)
        post({ _tag: "CountTokens", id, encoding, texts })
        return Deferred.await(done).pipe(Effect.ensuring(Effect.sync(() => waiting.delete(id))))
      }),
    answer: (reply) => {
      const done = waiting.get(reply.id)
      if (done === undefined) return
      waiting.delete(reply.id)
      const { result } = reply
      Deferred.doneUnsafe(
        done,
        result.ok ? Effect.succeed(result.counts) : Effect.fail(new TokenCountError({ message: result.message }))
      )
    },
    waiting: () => waiting.size
  }
}

const UNEXPECTED: TokenCountResult = { ok: false, message: "the token count hit an unexpected error" }

/** The owner's end: counts a worker's texts with `counts` (the owner's tokenizer) and builds the answer. */
export const serveCountTokens = (
  counts: TokenCountsShape,
  message: CountTokensMessage
): Effect.Effect<TokenCountMessage> =>
  counts.count(message.encoding, message.texts).pipe(
    Effect.match({
      onSuccess: (c): TokenCountResult => ({ ok: true, counts: c }),
      onFailure: (e): TokenCountResult => ({ ok: false, message: e.message })
    }),
    Effect.catchDefect((defect) =>
      Effect.as(Effect.logError("token count failed", Cause.pretty(Cause.die(defect))), UNEXPECTED)
    ),
    Effect.map((result): TokenCountMessage => ({ _tag: "TokenCount", id: message.id, result }))
  )
