/**
 * Micro-benchmark of the usage relay (usage/UsageRelay.ts): the per-event cost of watching a
 * relayed OpenAI chat stream for its usage, as the proxy does on every streamed request. Not a
 * test (no assertion, nothing timed in CI): `node scripts/bench-usage-relay.ts`.
 *
 * Streams of realistic chunks (≈ 230-byte events, 4-character tokens, one event per upstream
 * chunk) end with the usage-only chunk. Each case relays the same bytes through a fresh relay per
 * stream; the figure is wall time divided by the events relayed.
 */
import { makeUsageRelay } from "../src/usage/UsageRelay.ts"
import { makeStreamUsageTracker, makeUsageChunkTracker, type StreamUsageTracker } from "../src/usage/StreamUsage.ts"
import { openAIUsage } from "../src/providers/openai/OpenAIUsage.ts"
import { RECOUNT_TEXT_LIMIT } from "../src/usage/Recount.ts"

const encoder = new TextEncoder()
const EVENTS = 400
const STREAMS = 250

const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
  `data: ${JSON.stringify({
    id: "chatcmpl-9xYzAbCdEfGhIjKlMnOpQrStUv",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: "gpt-4o-mini-2024-07-18",
    system_fingerprint: "fp_0123456789",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    usage: null
  })}\n\n`

const events: Array<Uint8Array> = [encoder.encode(chunk({ role: "assistant", content: "" }, null))]
for (let i = 1; i < EVENTS - 3; i++)
  events.push(encoder.encode(chunk({ content: ` w${String(i % 100).padStart(2, "0")}` }, null)))
events.push(encoder.encode(chunk({}, "stop")))
events.push(
  encoder.encode(
    `data: ${JSON.stringify({
      id: "chatcmpl-9xYzAbCdEfGhIjKlMnOpQrStUv",
      object: "chat.completion.chunk",
      created: 1_700_000_000,
      model: "gpt-4o-mini-2024-07-18",
      choices: [],
      usage: { prompt_tokens: 12, completion_tokens: 397, total_tokens: 409 }
    })}\n\n`
  )
)
events.push(encoder.encode("data: [DONE]\n\n"))

const run = (label: string, tracker: () => StreamUsageTracker, drop: boolean): number => {
  const once = () => {
    const t = tracker()
    const relay = makeUsageRelay({ tracker: t, drop, lineLimit: 1 << 20 })
    let bytes = 0
    for (const e of events) bytes += relay.push(e).length
    bytes += relay.end().length
    if (t.reported() === undefined) throw new Error("usage not seen")
    return bytes
  }
  for (let i = 0; i < 50; i++) once() // warm-up
  // The best of several rounds: the machine is shared, the minimum is the least disturbed.
  let best = Infinity
  for (let round = 0; round < 7; round++) {
    const start = performance.now()
    for (let i = 0; i < STREAMS; i++) once()
    best = Math.min(best, ((performance.now() - start) * 1000) / (STREAMS * events.length))
  }
  console.log(`${label.padEnd(56)} ${best.toFixed(2)} µs/event`)
  return best
}

const baseline = () => {
  // The bytes alone, no watching: the floor the relay adds to.
  let n = 0
  const start = performance.now()
  for (let i = 0; i < STREAMS; i++) for (const e of events) n += e.length
  return n === 0 ? 0 : ((performance.now() - start) * 1000) / (STREAMS * events.length)
}

console.log(`${events.length} events per stream, ${STREAMS} streams; ${process.version}`)
console.log(`${"no relay (loop only)".padEnd(56)} ${baseline().toFixed(3)} µs/event`)
// The SSE scanner alone (finds events and decodes their data): what any watching costs at least.
const NO_REPORT = { input: 0, cache_read: 0, cache_write: 0, reasoning: 0, output: 0 }
const scannerOnly = (): StreamUsageTracker => ({
  observe: () => "other",
  reported: () => NO_REPORT,
  text: () => "",
  overflowChars: () => 0,
  keptEvents: () => ({ data: [], chars: 0 })
})
run("scanner + relay, no tracking (the floor of watching)", scannerOnly, false)
run("full tracker (parse every event), drop", () => makeStreamUsageTracker(openAIUsage), true)
run("full tracker (parse every event), relay all", () => makeStreamUsageTracker(openAIUsage), false)
run('usage-chunk tracker (parse only `"usage":{`), drop', () => makeUsageChunkTracker(openAIUsage), true)
run('usage-chunk tracker (parse only `"usage":{`), relay all', () => makeUsageChunkTracker(openAIUsage), false)
// What the request path runs: the first RECOUNT_TEXT_LIMIT characters of events kept for a recount.
run(
  "usage-chunk tracker keeping events for a recount, drop",
  () => makeUsageChunkTracker(openAIUsage, RECOUNT_TEXT_LIMIT),
  true
)
