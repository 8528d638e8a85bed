/**
 * Micro-benchmark of the per-request key hash: `sha256Hex` of a 50-character ASCII key (what the
 * auth path does with every presented virtual key), with `node:crypto`'s `createHash` beside it as
 * a reference. No HTTP, no Effect; runs on Node, Bun and Deno:
 *
 *   node test/bench/sha256.ts                         # 12 rounds × 500k calls, after a warm-up
 *   node test/bench/sha256.ts --rounds 20 --calls 200000
 *   node test/bench/sha256.ts --module /tmp/Other.ts  # another module exporting sha256Hex (A/B)
 *   bun test/bench/sha256.ts   |   deno run test/bench/sha256.ts
 *
 * Prints µs per call: best, median and worst round. The VM is noisy: compare best and median over
 * several runs, alternating the variants, never one round.
 */
import { createHash } from "node:crypto"

const arg = (name: string): string | undefined => {
  const args = typeof process === "undefined" ? [] : process.argv
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

const ROUNDS = Number(arg("--rounds") ?? 12)
const CALLS = Number(arg("--calls") ?? 500_000)
const modulePath = arg("--module")

const { sha256Hex } = (await import(
  modulePath === undefined ? "../../src/crypto/Sha256.ts" : new URL(modulePath, `file://${process.cwd()}/`).href
)) as { readonly sha256Hex: (text: string) => string }

// 1,024 distinct 50-character ASCII keys, cycled, so no call can be answered from a cache.
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
const KEYS = Array.from({ length: 1024 }, (_, n) =>
  Array.from({ length: 50 }, (_, i) => ALPHABET.charAt((n * 31 + i * 7 + ((n * i) % 13)) % ALPHABET.length)).join("")
)

const nodeHex = (text: string): string => createHash("sha256").update(text).digest("hex")

/** µs per call of one round of `CALLS` calls; the sink keeps the results observable. */
const round = (hash: (text: string) => string): { readonly us: number; readonly sink: number } => {
  let sink = 0
  const start = performance.now()
  for (let i = 0; i < CALLS; i++) sink += hash(KEYS[i & 1023]!).charCodeAt(i & 63)
  return { us: ((performance.now() - start) * 1000) / CALLS, sink }
}

const measure = (name: string, hash: (text: string) => string): string => {
  for (const key of KEYS.slice(0, 4)) {
    if (hash(key) !== nodeHex(key)) throw new Error(`${name}: wrong digest for ${key}`)
  }
  round(hash) // warm-up: optimised code, settled heap
  const times: Array<number> = []
  let sink = 0
  for (let r = 0; r < ROUNDS; r++) {
    const { us, sink: s } = round(hash)
    times.push(us)
    sink += s
  }
  times.sort((a, b) => a - b)
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(3)
  return `${name.padEnd(22)} best ${at(0)} µs   median ${at(0.5)} µs   worst ${at(1)} µs   (sink ${sink % 10})`
}

const runtime =
  typeof Deno !== "undefined"
    ? `Deno ${Deno.version.deno}`
    : typeof Bun !== "undefined"
      ? `Bun ${Bun.version}`
      : `Node ${process.versions.node}`
console.log(
  `sha256Hex of a 50-char ASCII key, ${ROUNDS} rounds × ${CALLS} calls, ${runtime}${modulePath ? `, module ${modulePath}` : ""}`
)
console.log(measure("sha256Hex", sha256Hex))
console.log(measure("node:crypto createHash", nodeHex))
