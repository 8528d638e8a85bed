/**
 * This process as the config file's lock records it (src/admin/FileAdminStore.ts): its id and host,
 * and whether another process of this host still runs, so a lock left by a writer that died is
 * taken over at once. Node and Bun (node:process, node:os); on Deno that needs `--allow-run` and
 * `--allow-sys`, which llmgate does not ask for, so a lock there goes stale by age only.
 */
import { hostname } from "node:os"
import process from "node:process"
import type { ProcessInfo } from "../../src/index.ts"

export const processInfo = (): ProcessInfo => ({
  pid: process.pid,
  host: hostname(),
  alive: (pid) => {
    try {
      process.kill(pid, 0)
      return true
    } catch (e) {
      // EPERM: it runs, as another user.
      return e instanceof Error && "code" in e && e.code === "EPERM"
    }
  }
})
