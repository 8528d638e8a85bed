/**
 * The tokenizer thread: where estimated usage records are counted again with the model's BPE
 * encoding (usage/Recount.ts), off the serving threads. Loading an encoding stalls the thread that
 * loads it for 0.3–1.2 s and counting takes about 0.15 s per million characters, so neither may
 * happen on a thread that serves, and with one worker the owner's thread serves too: the owner
 * starts this thread (RuntimePort `startTokenizer`, a small entry per runtime), lazily, the first
 * time its usage writer has a record to recount or a worker asks for a token count
 * (`POST /v1/messages/count_tokens`: each text a recount of its own, usage/TokenCounts.ts).
 *
 * - **Thread side** (`runTokenizerThread`): answers each `Count` with the BPE tokens of every
 *   recount's input and output texts (a stream's events reduced to their generated text), or
 *   `Failed` when an encoding cannot be loaded.
 * - **Owner side** (`makeTokenCounter`): `count` posts a batch and waits for its answer at most
 *   `timeoutMs`. The thread failing to start, failing, exiting or timing out (it is then
 *   terminated) fails the batch (the writer keeps the character estimates) and the counter is not
 *   tried again for `retryAfterMs`, so a broken tokenizer costs nothing meanwhile; it is logged
 *   once per outage. Closing the scope terminates the thread.
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { ParentLink, ThreadLink } from "../domain/ThreadLink.ts"
import type { CountTokens } from "./Estimate.ts"
import type { Recount, RecountPart } from "./Recount.ts"
import { makeStreamUsageTracker } from "./StreamUsage.ts"
import { make as makeTokenizer, type TokenizerShape } from "./Tokenizer.ts"

/** The BPE tokens of one recount's texts: input, output. */
export type Counts = readonly [input: number, output: number]

export type ToTokenizer = { readonly _tag: "Count"; readonly id: number; readonly recounts: ReadonlyArray<Recount> }

export type FromTokenizer =
  | { readonly _tag: "Counted"; readonly id: number; readonly counts: ReadonlyArray<Counts> }
  | { readonly _tag: "Failed"; readonly id: number; readonly message: string }

/** The owner's end of the tokenizer thread. */
export type TokenizerLink = ThreadLink<ToTokenizer, FromTokenizer>
/** The tokenizer thread's end. */
export type TokenizerParentLink = ParentLink<FromTokenizer, ToTokenizer>

/** The tokenizer thread could not count a batch (it could not start, failed, ended or took too long). */
export class TokenCountError extends Schema.TaggedError<TokenCountError>()("TokenCountError", {
  message: Schema.String
}) {}

// ---- the thread ---------------------------------------------------------------------------------

/** The generated text of stream events (OpenAI chunks), as a stream tracker keeps it. */
const eventsText = (events: ReadonlyArray<string>): string => {
  const tracker = makeStreamUsageTracker(() => undefined, Number.POSITIVE_INFINITY)
  for (const data of events) tracker.observe(data)
  return tracker.text()
}

const partTokens = (count: CountTokens, part: RecountPart): number => {
  let n = 0
  for (const text of part.texts) n += count(text)
  if (part.events.length > 0) n += count(eventsText(part.events))
  return n
}

/** The BPE counts of a batch of recounts. */
export const countRecounts = (
  tokenizer: TokenizerShape,
  recounts: ReadonlyArray<Recount>
): Effect.Effect<ReadonlyArray<Counts>, TokenCountError> =>
  Effect.forEach(recounts, (recount) =>
    tokenizer.counter(recount.encoding).pipe(
      Effect.mapError((e) => new TokenCountError({ message: `cannot load ${e.encoding}: ${e.message}` })),
      Effect.flatMap((count) =>
        Effect.try({
          try: (): Counts => [partTokens(count, recount.input), partTokens(count, recount.output)],
          catch: (e) => new TokenCountError({ message: e instanceof Error ? e.message : String(e) })
        })
      )
    )
  )

/** The tokenizer thread's body: answers every `Count` from its parent. */
export const runTokenizerThread = (parent: TokenizerParentLink): void => {
  const tokenizer = Effect.runSync(makeTokenizer)
  parent.onMessage((message) => {
    Effect.runFork(
      countRecounts(tokenizer, message.recounts).pipe(
        Effect.match({
          onSuccess: (counts): FromTokenizer => ({ _tag: "Counted", id: message.id, counts }),
          onFailure: (e): FromTokenizer => ({ _tag: "Failed", id: message.id, message: e.message })
        }),
        Effect.map((reply) => parent.post(reply))
      )
    )
  })
}

// ---- the owner's counter ------------------------------------------------------------------------

export interface TokenCounterShape {
  /** The BPE counts of each recount's texts, from the tokenizer thread (started on first use). */
  readonly count: (recounts: ReadonlyArray<Recount>) => Effect.Effect<ReadonlyArray<Counts>, TokenCountError>
}

export interface TokenCounterOptions {
  /** Longest wait for one batch's answer (the first includes loading the encoding). */
  readonly timeoutMs: number
  /** After a failure, how long batches fail at once before the thread is tried again. */
  readonly retryAfterMs: number
}

export const TOKEN_COUNTER_DEFAULTS: TokenCounterOptions = { timeoutMs: 10_000, retryAfterMs: 60_000 }

export const makeTokenCounter = (
  start: () => TokenizerLink,
  options: TokenCounterOptions = TOKEN_COUNTER_DEFAULTS
): Effect.Effect<TokenCounterShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    let link: TokenizerLink | undefined
    let nextId = 0
    const waiting = new Map<number, Deferred.Deferred<ReadonlyArray<Counts>, TokenCountError>>()
    /** Batches fail at once until then (epoch ms), after a failure. */
    let pausedUntil = 0
    /** In an outage (logged at its start). */
    let failing = false

    const failAll = (message: string) => {
      for (const d of waiting.values()) Deferred.doneUnsafe(d, Effect.fail(new TokenCountError({ message })))
      waiting.clear()
    }
    const stop = () => {
      const running = link
      link = undefined
      running?.terminate()
    }
    const connect = (): TokenizerLink => {
      const started = start()
      started.onMessage((reply) => {
        const done = waiting.get(reply.id)
        if (done === undefined) return // Its caller gave up (timeout, interruption).
        waiting.delete(reply.id)
        Deferred.doneUnsafe(
          done,
          reply._tag === "Counted"
            ? Effect.succeed(reply.counts)
            : Effect.fail(new TokenCountError({ message: reply.message }))
        )
      })
      started.onExit((reason) => {
        if (link !== started) return
        link = undefined
        failAll(`the tokenizer thread ended (${reason})`)
      })
      return started
    }

    /** Posts one batch and waits for its answer. */
    const ask = (recounts: ReadonlyArray<Recount>) =>
      Effect.suspend(() => {
        const id = nextId++
        const done = Deferred.makeUnsafe<ReadonlyArray<Counts>, TokenCountError>()
        waiting.set(id, done)
        try {
          link ??= connect()
          link.post({ _tag: "Count", id, recounts })
        } catch (e) {
          waiting.delete(id)
          stop()
          const message = e instanceof Error ? e.message : String(e)
          return Effect.fail(new TokenCountError({ message: `cannot start the tokenizer thread: ${message}` }))
        }
        return Deferred.await(done).pipe(
          Effect.timeoutOrElse({
            duration: options.timeoutMs,
            orElse: () =>
              Effect.sync(stop).pipe(
                Effect.andThen(
                  Effect.fail(new TokenCountError({ message: `no answer within ${options.timeoutMs} ms` }))
                )
              )
          }),
          Effect.ensuring(Effect.sync(() => waiting.delete(id)))
        )
      })

    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        stop()
        failAll("the gateway is stopping")
      })
    )

    return {
      count: (recounts) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          if (now < pausedUntil) {
            return yield* Effect.fail(new TokenCountError({ message: "the tokenizer thread failed recently" }))
          }
          return yield* ask(recounts).pipe(
            Effect.tap(() =>
              Effect.suspend(() => {
                if (!failing) return Effect.void
                failing = false
                return Effect.logInfo("usage: the tokenizer thread counts estimated records and token counts again")
              })
            ),
            Effect.tapError((e) =>
              Effect.gen(function* () {
                pausedUntil = (yield* Clock.currentTimeMillis) + options.retryAfterMs
                if (failing) return
                failing = true
                yield* Effect.logWarning(
                  `usage: the tokenizer thread failed (${e.message}): estimated records keep their character counts (one token per 4 characters) and token counts (/v1/messages/count_tokens) are answered 503; trying it again in ${options.retryAfterMs} ms`
                )
              })
            )
          )
        })
    }
  })
