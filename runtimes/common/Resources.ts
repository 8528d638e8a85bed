/**
 * The process's memory and CPU use for the metrics (`process_*`), through node:process, which
 * Node, Bun and Deno all provide without extra permissions.
 */
import process from "node:process"
import type { ProcessResources } from "../../src/index.ts"

/** When this process started, Unix seconds (read once: now less its uptime). */
const startedAt = (): number => Date.now() / 1000 - process.uptime()

export const processResources = (): (() => ProcessResources) => {
  const startTimeSeconds = startedAt()
  return () => {
    const memory = process.memoryUsage()
    const cpu = process.cpuUsage()
    return {
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      startTimeSeconds
    }
  }
}
