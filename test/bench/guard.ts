/**
 * Orphan guard: the bench spawns this first and tells it, one line each on stdin, the process groups
 * it starts (`+<pgid>`) and stops (`-<pgid>`). When stdin ends (the bench exited, however it died) it
 * SIGKILLs every group still listed, so no gateway, proxy or upstream outlives a run, and removes the
 * run's temporary directory (`--rm DIR`).
 */
import { rmSync } from "node:fs"

const rmIndex = process.argv.indexOf("--rm")
const tempDir = rmIndex > 0 ? process.argv[rmIndex + 1] : undefined
const groups = new Set<number>()
let pending = ""
const killAll = (): never => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL")
    } catch {
      // already gone
    }
  }
  if (tempDir?.includes("llmgate-bench-")) rmSync(tempDir, { recursive: true, force: true })
  process.exit(0)
}
process.stdin.setEncoding("utf8")
process.stdin.on("data", (data: string) => {
  pending += data
  const lines = pending.split("\n")
  pending = lines.pop() ?? ""
  for (const line of lines) {
    const pgid = Number(line.slice(1))
    if (!Number.isInteger(pgid) || pgid <= 1) continue
    if (line.startsWith("+")) groups.add(pgid)
    else groups.delete(pgid)
  }
})
process.stdin.on("end", killAll)
process.stdin.on("error", killAll)
process.on("SIGTERM", killAll)
process.on("SIGINT", () => {
  // Ctrl-C reaches the whole foreground group; the bench handles it and then closes our stdin.
})
