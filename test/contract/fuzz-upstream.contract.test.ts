// Fuzzing the gateway from the upstream side (issue 10, item 5): a fake upstream (upstream/fuzz.ts)
// answers each request with a generated misbehaviour (test/support/fuzz/upstreamScenarios.ts):
// malformed or truncated JSON, HTML error pages and wrong content types with status 200, bodies past
// the upstream body bound, garbage and partial SSE events split at random byte boundaries, endless
// keep-alive preambles, floods of preamble, SSE lines past the line bound, resets after the headers,
// silence. Small bounds in the config make every bound quick to cross. Properties, for streamed and
// non-streamed requests: the client gets a 502/504 in OpenAI's shape, or a 200 that is what the
// scenario allows (JSON for a JSON answer; once a stream started, a stream ending with `[DONE]`), never
// the upstream's garbage with a 200, and never a hang; afterwards the gateway has let go of every
// upstream answer, and it is up with every worker alive.
import { beforeAll, afterAll, describe, expect, it } from "vitest"
import { openAIErrorProblem, parseJsonBytes, previewBytes, sseProblem } from "../support/fuzz/checks.ts"
import { formatFailures, fuzzInLanes } from "../support/fuzz/lanes.ts"
import { allowed, render, scenario, type Scenario, type UpstreamBounds } from "../support/fuzz/upstreamScenarios.ts"
import {
  expectEveryWorkerAlive,
  itLeaksNoSecrets,
  MASTER_KEY,
  PROVIDER_KEY,
  runtime,
  store,
  useContract
} from "./harness.ts"
import { startFuzzUpstream, type FuzzUpstream } from "./upstream/fuzz.ts"

const SEED = 0x5e_ed0f
const LANES = 6
const RUNS_PER_LANE = 30
const TIME_LIMIT_MS = 15_000

/** The upstream bounds of the fuzz config, small so they are crossed quickly. */
const BOUNDS: UpstreamBounds = { upstreamBodyLimit: 16 * 1024, sseLineLimit: 4 * 1024, preambleLimit: 8 * 1024 }
/**
 * A scenario's own pauses add up to well under a second (parts ≤ 20 ms apart), so a request
 * timeout of 3 s is crossed only by a gateway that is stuck, with room for a loaded machine (at 1 s,
 * a 26-part stream on a busy 2-core machine was once cut as a timeout).
 */
const REQUEST_TIMEOUT_MS = 3_000
const IDLE_TIMEOUT_MS = 500
/** Well above every bound of the gateway: a client still waiting then is a hang. */
const CLIENT_TIMEOUT_MS = 8_000

const MODEL = "fuzz-model"
const PATHS = { chat: "/v1/chat/completions", completions: "/v1/completions", embeddings: "/v1/embeddings" } as const

const requestBody = (s: Scenario, id: string): Record<string, unknown> => {
  const stream = s.request === "stream"
  switch (s.endpoint) {
    case "chat":
      return { model: MODEL, messages: [{ role: "user", content: "fuzz" }], stream, user: id }
    case "completions":
      return { model: MODEL, prompt: "fuzz", stream, user: id }
    case "embeddings":
      return { model: MODEL, input: "fuzz", user: id }
  }
}

const describeAllowed = (s: Scenario): string => {
  const a = allowed(s)
  return [
    a.error ? "a 502/504" : "",
    a.json ? "a 200 JSON answer" : "",
    a.sse ? `a 200 stream ending with [DONE]${a.sse.strict ? " (every event JSON)" : ""}` : ""
  ]
    .filter((x) => x !== "")
    .join(" or ")
}

/** Why the answer (`status`, `contentType`, `body`) is not one `s` allows, or undefined. */
const answerProblem = (s: Scenario, status: number, contentType: string, body: Uint8Array): string | undefined => {
  const a = allowed(s)
  const got = `${status} ${contentType || "(no content-type)"}: ${previewBytes(body, 160)}`
  if (status === 502 || status === 504) {
    if (!a.error) return `${got}; expected ${describeAllowed(s)}`
    const shape = openAIErrorProblem(body, contentType)
    return shape === undefined ? undefined : `${status} without OpenAI's error shape (${shape}): ${got}`
  }
  if (status !== 200) return `${got}; expected ${describeAllowed(s)}`
  // a streamed request's answer is judged as a stream when it says so; a JSON request's by its body
  if (s.request === "stream" && contentType.startsWith("text/event-stream")) {
    if (!a.sse) return `a 200 stream; expected ${describeAllowed(s)}: ${got}`
    const problem = sseProblem(new TextDecoder().decode(body), a.sse.strict)
    return problem === undefined ? undefined : `a 200 stream that is not well-formed (${problem})`
  }
  if (!a.json) return `a 200 answer relayed; expected ${describeAllowed(s)}: ${got}`
  return parseJsonBytes(body) === undefined
    ? `a 200 whose body is not JSON (the upstream's garbage relayed): ${got}`
    : undefined
}

describe.skipIf(store === "postgres")(
  `[${runtime}] fuzz: misbehaving upstreams (skipped in the Postgres project: no store involved, run in the file projects)`,
  () => {
    let upstream: FuzzUpstream | undefined
    const fuzz = (): FuzzUpstream => {
      if (upstream === undefined) throw new Error("fuzz upstream not started")
      return upstream
    }
    // before useContract's own hook, so the config below can point at it
    beforeAll(async () => {
      upstream = await startFuzzUpstream()
    })
    afterAll(async () => {
      await upstream?.close()
    })
    const ctx = useContract({
      configure: (base) => ({
        ...base,
        server: {
          ...base.server,
          upstream_body_limit: BOUNDS.upstreamBodyLimit,
          sse_line_limit: BOUNDS.sseLineLimit,
          preamble_limit: BOUNDS.preambleLimit
        },
        providers: [
          ...base.providers,
          {
            name: "fuzz-up",
            kind: "openai",
            base_url: fuzz().baseUrl,
            api_key: PROVIDER_KEY,
            timeout: { request: `${REQUEST_TIMEOUT_MS}ms`, idle: `${IDLE_TIMEOUT_MS}ms` },
            // every answer here is a failure on purpose: the breaker must never open (it would answer 503)
            breaker: { failure_rate: 1, min_requests: 1_000_000 }
          }
        ],
        // one attempt: each request meets exactly the misbehaviour planned for it
        models: [
          ...base.models,
          { name: MODEL, targets: [{ provider: "fuzz-up", model: "fuzz-upstream" }], retry: { attempts: 0 } }
        ]
      })
    })

    let seq = 0
    const outcomes = new Map<string, number>()

    it("every answer is a 502/504 in OpenAI's shape, a 200 the scenario allows, or a stream ending with [DONE]; never a hang", async () => {
      const summary = await fuzzInLanes({
        lanes: LANES,
        runsPerLane: RUNS_PER_LANE,
        seed: SEED,
        timeLimitMs: TIME_LIMIT_MS,
        arbitrary: scenario,
        openLane: () => undefined,
        property: async (_lane, s) => {
          const id = `fuzz-${runtime}-${++seq}`
          fuzz().plan(id, render(s, BOUNDS))
          const started = performance.now()
          let res: Response
          let body: Uint8Array
          try {
            res = await fetch(`${ctx.base}${PATHS[s.endpoint]}`, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${MASTER_KEY}` },
              body: JSON.stringify(requestBody(s, id)),
              signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS)
            })
            body = new Uint8Array(await res.arrayBuffer())
          } catch (e) {
            const ms = Math.round(performance.now() - started)
            throw new Error(
              e instanceof Error && e.name === "TimeoutError"
                ? `no complete answer after ${CLIENT_TIMEOUT_MS} ms (a hang: the gateway's bounds are ${REQUEST_TIMEOUT_MS} ms request, ${IDLE_TIMEOUT_MS} ms idle)`
                : `the request failed after ${ms} ms: ${String(e)}`
            )
          }
          const contentType = res.headers.get("content-type") ?? ""
          const key = `${res.status} ${contentType.split(";")[0]}`
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
          ctx.noteBody(new TextDecoder().decode(body))
          const problem = ctx.gateway.hasExited()
            ? "the gateway process exited"
            : answerProblem(s, res.status, contentType, body)
          if (problem !== undefined) throw new Error(problem)
        }
      })
      expect(
        summary.failures.length,
        `counterexamples:\n${formatFailures(summary.failures, (s) => JSON.stringify(s))}\n`
      ).toBe(0)
      expect(summary.runs).toBeGreaterThanOrEqual(LANES * 10)
      // the scenarios reach every kind of answer
      const kinds = [...outcomes.keys()]
      expect(
        kinds.some((k) => k.startsWith("200 text/event-stream")),
        JSON.stringify([...outcomes])
      ).toBe(true)
      expect(kinds.some((k) => k.startsWith("502"))).toBe(true)
      expect(kinds.some((k) => k.startsWith("504"))).toBe(true)
    }, 120_000)

    it("lets go of every upstream answer it gave up on, and makes no request it was not asked for", async () => {
      const end = Date.now() + 3_000
      while (fuzz().open > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
      expect(fuzz().open, "upstream answers still open").toBe(0)
      expect(fuzz().unplanned, "requests without a plan (a retry?)").toBe(0)
    })

    it("the gateway is up afterwards and every worker is alive (none exited and was restarted)", async () => {
      await expectEveryWorkerAlive(ctx)
    })

    itLeaksNoSecrets(ctx)
  }
)
