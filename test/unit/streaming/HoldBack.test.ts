import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope, Stream } from "effect"
import { TestClock } from "effect/testing"
import { gatewayError, type GatewayError } from "../../../src/domain/GatewayError.ts"
import { classifyOpenAIEvent } from "../../../src/providers/openai/events.ts"
import { type HoldOptions, holdUntilContent } from "../../../src/streaming/HoldBack.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const bytes = (s: string) => encoder.encode(s)
const text = (chunks: ReadonlyArray<Uint8Array>) => chunks.map((c) => decoder.decode(c)).join("")

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
const ROLE = chunk({ role: "assistant", content: "" })
const EMPTY = chunk({ content: "" })
const KEEPALIVE = ": keep-alive\n\n"
const HELLO = chunk({ content: "Hello" })
const WORLD = chunk({ content: " world" })
const STOP = chunk({}, "stop")
const DONE = "data: [DONE]\n\n"

/**
 * An upstream that produces `parts` one pull at a time (never ahead of demand), recording which
 * parts were pulled, then ends (or continues with `tail`).
 */
const upstream = (parts: ReadonlyArray<string>, tail: Stream.Stream<Uint8Array, GatewayError> = Stream.empty) => {
  const pulled: Array<number> = []
  const stream = parts
    .map((p, i) =>
      Stream.fromEffect(
        Effect.sync(() => {
          pulled.push(i)
          return bytes(p)
        })
      )
    )
    .reduce<Stream.Stream<Uint8Array, GatewayError>>((acc, s) => Stream.concat(acc, s), Stream.empty)
    .pipe(Stream.concat(tail))
  return { stream, pulled }
}

const unreachable = gatewayError({ _tag: "UpstreamUnreachable", provider: "p" })

const timedOut = gatewayError({ _tag: "UpstreamTimeout", provider: "p", after_ms: 300_000 })

const OPTIONS: HoldOptions = {
  classify: classifyOpenAIEvent,
  terminator: "[DONE]",
  provider: "p",
  preambleLimit: 1024 * 1024,
  lineLimit: 64 * 1024,
  timeoutMs: 300_000,
  onTimeout: () => timedOut
}

/** Runs the hold-back in a fresh scope; returns the exit and the scope (closed by the caller or the test's end). */
const hold = (stream: Stream.Stream<Uint8Array, GatewayError>, options: Partial<HoldOptions> = {}) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    const exit = yield* Effect.exit(holdUntilContent(stream, { ...OPTIONS, ...options }, scope))
    return { exit, scope }
  })

const failureOf = <A>(exit: Exit.Exit<A, GatewayError>): GatewayError => {
  if (Exit.isSuccess(exit)) throw new Error("expected the hold-back to fail")
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (reason?._tag !== "Fail") throw new Error("expected a typed failure")
  return reason.error
}

describe("holdUntilContent", () => {
  it.effect("holds the preamble and returns at the first content, pulling nothing beyond it", () =>
    Effect.gen(function* () {
      const up = upstream([ROLE, KEEPALIVE, EMPTY, HELLO, WORLD, STOP, DONE])
      const { exit } = yield* hold(up.stream)
      assert.isTrue(Exit.isSuccess(exit))
      if (Exit.isFailure(exit)) return
      assert.deepStrictEqual(up.pulled, [0, 1, 2, 3])
      // The rest streams lazily: nothing more is pulled until the client stream is consumed.
      yield* Effect.yieldNow
      assert.deepStrictEqual(up.pulled, [0, 1, 2, 3])
      const out = yield* Stream.runCollect(exit.value.stream)
      assert.strictEqual(text(out), ROLE + KEEPALIVE + EMPTY + HELLO + WORLD + STOP + DONE)
      assert.deepStrictEqual(up.pulled, [0, 1, 2, 3, 4, 5, 6])
    })
  )

  it.effect("releases all held bytes first, in order, byte for byte", () =>
    Effect.gen(function* () {
      // The preamble and the first content arrive split at odd places (CRLF, mid-JSON).
      const raw = ROLE.replace("\n\n", "\r\n\r\n") + KEEPALIVE + HELLO + DONE
      const parts = [raw.slice(0, 7), raw.slice(7, 60), raw.slice(60, ROLE.length + 20), raw.slice(ROLE.length + 20)]
      const up = upstream(parts)
      const { exit } = yield* hold(up.stream)
      if (Exit.isFailure(exit)) return assert.fail("expected content")
      const out = yield* Stream.runCollect(exit.value.stream)
      assert.strictEqual(text(out), raw)
      assert.deepStrictEqual(
        out.map((c) => decoder.decode(c)),
        parts
      )
    })
  )

  it.effect("counts [DONE], a finish_reason or usage as content", () =>
    Effect.gen(function* () {
      for (const first of [DONE, STOP, `data: {"id":"x","choices":[],"usage":{"total_tokens":3}}\n\n`]) {
        const up = upstream([ROLE, first, "data: never pulled\n\n"])
        const { exit } = yield* hold(up.stream)
        assert.isTrue(Exit.isSuccess(exit), first)
        assert.deepStrictEqual(up.pulled, [0, 1])
      }
    })
  )

  it.effect("keeps the whole batch that held the first content, even after it", () =>
    Effect.gen(function* () {
      // One upstream pull delivering three chunks at once; the garbage after the content is not
      // the hold-back's business any more and is relayed as it is.
      const batch = Stream.make(bytes(ROLE), bytes(HELLO), bytes("data: garbage\n\n"), bytes("data: [DONE]\n\n"))
      const { exit } = yield* hold(batch)
      if (Exit.isFailure(exit)) return assert.fail("expected content")
      assert.strictEqual(
        text(yield* Stream.runCollect(exit.value.stream)),
        `${ROLE + HELLO}data: garbage\n\ndata: [DONE]\n\n`
      )
    })
  )

  it.effect("a stream that ends after content without its end event fails: it was cut off", () =>
    Effect.gen(function* () {
      const { exit } = yield* hold(Stream.make(bytes(ROLE), bytes(HELLO)))
      if (Exit.isFailure(exit)) return assert.fail("expected content")
      const rest = yield* Effect.exit(Stream.runCollect(exit.value.stream))
      assert.deepStrictEqual(failureOf(rest).reason, {
        _tag: "UpstreamProtocol",
        provider: "p",
        message: "the stream ended before its end event"
      })
    })
  )

  it.effect("the end event may straddle chunks and use CRLF", () =>
    Effect.gen(function* () {
      const { exit } = yield* hold(Stream.make(bytes(ROLE), bytes(HELLO), bytes("data: [DO"), bytes("NE]\r\n\r\n")))
      if (Exit.isFailure(exit)) return assert.fail("expected content")
      assert.isTrue(text(yield* Stream.runCollect(exit.value.stream)).endsWith("data: [DONE]\r\n\r\n"))
    })
  )

  it.effect("fails with an UpstreamProtocol error on an invalid event before content", () =>
    Effect.gen(function* () {
      for (const bad of ["data: not json\n\n", `data: {"error":{"message":"overloaded"}}\n\n`, "data: [1,2]\n\n"]) {
        const up = upstream([ROLE, bad, HELLO])
        const { exit } = yield* hold(up.stream)
        assert.deepStrictEqual(failureOf(exit).reason, {
          _tag: "UpstreamProtocol",
          provider: "p",
          message: "the stream sent an invalid event before any content"
        })
        assert.deepStrictEqual(up.pulled, [0, 1])
      }
    })
  )

  it.effect("fails with an UpstreamProtocol error when the stream ends before content", () =>
    Effect.gen(function* () {
      for (const parts of [[], [ROLE], [ROLE, KEEPALIVE, EMPTY], [ROLE, 'data: {"choi']]) {
        const { exit } = yield* hold(upstream(parts).stream)
        assert.deepStrictEqual(failureOf(exit).reason, {
          _tag: "UpstreamProtocol",
          provider: "p",
          message: "the stream ended before any content"
        })
      }
    })
  )

  it.effect("fails with the upstream's own error when it fails before content", () =>
    Effect.gen(function* () {
      const { exit } = yield* hold(upstream([ROLE, EMPTY], Stream.fail(unreachable)).stream)
      assert.strictEqual(failureOf(exit), unreachable)
    })
  )

  it.effect("fails when the provider's idle timeout fires before content", () =>
    Effect.gen(function* () {
      const idle = gatewayError({ _tag: "UpstreamTimeout", provider: "p", after_ms: 1000 })
      // What OpenAIProvider does to a stream: fail after 1 s of silence.
      const stalled = upstream([ROLE], Stream.never).stream.pipe(
        Stream.timeoutOrElse({ duration: 1000, orElse: () => Stream.fail(idle) })
      )
      const fiber = yield* Effect.forkChild(hold(stalled))
      yield* Effect.yieldNow
      yield* TestClock.adjust(999)
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust(1)
      const { exit } = yield* Fiber.join(fiber)
      assert.strictEqual(failureOf(exit), idle)
    })
  )

  it.effect("after content, an upstream failure fails the client stream after the held bytes", () =>
    Effect.gen(function* () {
      const { exit } = yield* hold(upstream([ROLE, HELLO, WORLD], Stream.fail(unreachable)).stream)
      if (Exit.isFailure(exit)) return assert.fail("expected content")
      const seen: Array<Uint8Array> = []
      const result = yield* exit.value.stream.pipe(
        Stream.tap((c) => Effect.sync(() => seen.push(c))),
        Stream.runDrain,
        Effect.flip
      )
      assert.strictEqual(result, unreachable)
      assert.strictEqual(text(seen), ROLE + HELLO + WORLD)
    })
  )

  it.effect("closing the scope cancels the upstream", () =>
    Effect.gen(function* () {
      let finalized = false
      const up = upstream([ROLE, HELLO], Stream.never).stream.pipe(
        Stream.ensuring(
          Effect.sync(() => {
            finalized = true
          })
        )
      )
      const { exit, scope } = yield* hold(up)
      assert.isTrue(Exit.isSuccess(exit))
      assert.isFalse(finalized)
      yield* Scope.close(scope, Exit.void)
      assert.isTrue(finalized)
    })
  )

  describe("bounds", () => {
    it.effect("fails once more than preambleLimit bytes came without content, pulling no further", () =>
      Effect.gen(function* () {
        // ROLE then EMPTY chunks: the limit is crossed by the third part.
        const up = upstream([ROLE, EMPTY, EMPTY, EMPTY, HELLO])
        const limit = ROLE.length + EMPTY.length + 1
        const { exit } = yield* hold(up.stream, { preambleLimit: limit })
        assert.deepStrictEqual(failureOf(exit).reason, {
          _tag: "UpstreamProtocol",
          provider: "p",
          message: `the stream sent more than ${limit} bytes (server.preamble_limit) before any content`
        })
        assert.deepStrictEqual(up.pulled, [0, 1, 2])
      })
    )

    it.effect(
      "a preamble of exactly the limit is fine, however chunks split it; one byte less refuses it even in the chunk with content",
      () =>
        Effect.gen(function* () {
          const preamble = ROLE.length + EMPTY.length
          const exact = yield* hold(upstream([ROLE, EMPTY, HELLO]).stream, { preambleLimit: preamble })
          assert.isTrue(Exit.isSuccess(exact.exit))
          // One chunk holding preamble and content, larger than the limit: only the preamble counts.
          const { exit } = yield* hold(upstream([ROLE + EMPTY + HELLO, DONE]).stream, { preambleLimit: preamble })
          if (Exit.isFailure(exit)) return assert.fail("expected content")
          assert.strictEqual(text(yield* Stream.runCollect(exit.value.stream)), ROLE + EMPTY + HELLO + DONE)
          // The same chunk with a limit one byte short: the preamble came before the content in it.
          const short = yield* hold(upstream([ROLE + EMPTY + HELLO, DONE]).stream, { preambleLimit: preamble - 1 })
          assert.strictEqual(failureOf(short.exit).reason._tag, "UpstreamProtocol")
        })
    )

    it.effect("the end event is found however finely the stream's end is split", () =>
      Effect.gen(function* () {
        const pieces = [...DONE].map((c) => c)
        const { exit } = yield* hold(upstream([ROLE, HELLO, ...pieces]).stream)
        if (Exit.isFailure(exit)) return assert.fail("expected content")
        assert.strictEqual(text(yield* Stream.runCollect(exit.value.stream)), ROLE + HELLO + DONE)
      })
    )

    it.effect("counts keep-alive comments too: an endless stream of them ends at the byte limit", () =>
      Effect.gen(function* () {
        const comments = Stream.fromEffectRepeat(Effect.sync(() => bytes(KEEPALIVE)))
        const { exit } = yield* hold(comments, { preambleLimit: 4096 })
        assert.strictEqual(failureOf(exit).reason._tag, "UpstreamProtocol")
      })
    )

    it.effect("fails on a line longer than lineLimit before content, before the line even ends", () =>
      Effect.gen(function* () {
        const up = upstream([
          ROLE,
          `data: {"choices":[{"delta":{"content":"${"x".repeat(200)}`,
          "x".repeat(100),
          "never pulled"
        ])
        const { exit } = yield* hold(up.stream, { lineLimit: 256 })
        assert.deepStrictEqual(failureOf(exit).reason, {
          _tag: "UpstreamProtocol",
          provider: "p",
          message: "the stream sent a line longer than 256 bytes (server.sse_line_limit) before any content"
        })
        assert.deepStrictEqual(up.pulled, [0, 1, 2])
      })
    )

    it.effect("fails on an event that is not UTF-8 before content (it would reach the client as it is)", () =>
      Effect.gen(function* () {
        const notUtf8 = Stream.make(
          bytes(ROLE),
          new Uint8Array([...bytes(`data: {"choices":[{"delta":{"content":"`), 0xff, ...bytes(`"}}]}\n\n`)])
        )
        const { exit } = yield* hold(notUtf8)
        assert.deepStrictEqual(failureOf(exit).reason, {
          _tag: "UpstreamProtocol",
          provider: "p",
          message: "the stream sent an event that is not valid UTF-8 before any content"
        })
      })
    )

    it.effect("lines after the first content are not the hold-back's business (relayed unparsed)", () =>
      Effect.gen(function* () {
        const long = `data: ${"y".repeat(1000)}\n\n`
        const { exit } = yield* hold(upstream([ROLE, HELLO, long, DONE]).stream, { lineLimit: 256 })
        if (Exit.isFailure(exit)) return assert.fail("expected content")
        assert.strictEqual(text(yield* Stream.runCollect(exit.value.stream)), ROLE + HELLO + long + DONE)
      })
    )

    it.effect("an endless preamble of keep-alives (each within the idle timeout) fails after timeoutMs", () =>
      Effect.gen(function* () {
        // A comment every 100 ms: the idle timer never fires, only the whole-preamble bound can.
        const comments = Stream.fromEffectRepeat(Effect.as(Effect.sleep(100), bytes(KEEPALIVE)))
        let cancelled = false
        const up = Stream.concat(upstream([ROLE]).stream, comments).pipe(
          Stream.ensuring(
            Effect.sync(() => {
              cancelled = true
            })
          )
        )
        const fiber = yield* Effect.forkChild(hold(up, { timeoutMs: 5_000 }))
        yield* Effect.yieldNow
        yield* TestClock.adjust(4_999)
        assert.isUndefined(fiber.pollUnsafe())
        yield* TestClock.adjust(1)
        const { exit, scope } = yield* Fiber.join(fiber)
        assert.strictEqual(failureOf(exit), timedOut)
        // The caller closes the scope: the upstream is cancelled.
        yield* Scope.close(scope, Exit.void)
        assert.isTrue(cancelled)
      })
    )

    it.effect("no time left (the call itself used the whole request timeout): fails at once", () =>
      Effect.gen(function* () {
        const { exit } = yield* hold(Stream.never, { timeoutMs: -5 })
        assert.strictEqual(failureOf(exit), timedOut)
      })
    )
  })
})
