/**
 * Keeps `npm ci` working where the registry serves only this machine's platform build of a runtime.
 * The `deno` package lists a binary package per platform as optional dependencies; when the registry
 * answers 404 for the other platforms, `npm install` leaves them out of package-lock.json and
 * `npm ci` then refuses the lock as out of sync. This adds lock entries for the missing ones, marked
 * optional with their os/cpu, so npm skips them here and a machine of that platform still knows what
 * they are. Run after `npm install` changes the lock: `node scripts/lock-platforms.ts`.
 */
import { readFileSync, writeFileSync } from "node:fs"

interface LockEntry {
  readonly version?: string
  readonly optionalDependencies?: Readonly<Record<string, string>>
  readonly dev?: boolean
  readonly [key: string]: unknown
}

const path = new URL("../package-lock.json", import.meta.url)
const lock = JSON.parse(readFileSync(path, "utf8")) as { packages: Record<string, LockEntry> }

const CPU: Record<string, string> = { x64: "x64", arm64: "arm64", aarch64: "arm64" }
let added = 0
for (const parent of ["node_modules/deno"]) {
  const entry = lock.packages[parent]
  if (entry?.optionalDependencies === undefined) continue
  for (const [name, version] of Object.entries(entry.optionalDependencies)) {
    const key = `node_modules/${name}`
    if (lock.packages[key] !== undefined) continue
    const m = /^@deno\/(darwin|linux|win32)-(x64|arm64|aarch64)(-glibc)?$/.exec(name)
    if (m === null) throw new Error(`lock-platforms: cannot infer the platform of ${name}`)
    lock.packages[key] = {
      version,
      cpu: [CPU[m[2] ?? ""] ?? m[2]],
      ...(entry.dev === true ? { dev: true } : {}),
      ...(m[3] === undefined ? {} : { libc: ["glibc"] }),
      license: "MIT",
      optional: true,
      os: [m[1]]
    }
    added++
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0))
)
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`)
console.log(`lock-platforms: added ${added} platform entries`)
