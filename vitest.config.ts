import { defineConfig } from "vitest/config"

// One contract suite, projects that differ only in the runtime the harness spawns, where the config
// lives and how many worker threads serve: the file with two workers on every runtime (the default
// mode, `--workers auto`, on a machine with two or more cores), and Postgres (`contract-node-pg`:
// `llmgate import` of the same config into a fresh database, the gateway started in Postgres mode)
// with one worker, the single-thread path (owner and worker in one thread).
const contract = (runtime: "node" | "bun" | "deno", store: "file" | "postgres" = "file") => ({
  test: {
    name: `contract-${runtime}${store === "postgres" ? "-pg" : ""}`,
    include: ["test/contract/**/*.contract.test.ts"],
    provide: { runtime, store, workers: store === "postgres" ? 1 : 2 },
    testTimeout: 30_000,
    hookTimeout: 60_000
  }
})

export default defineConfig({
  test: {
    // Two files at a time on this 2-core machine (vitest's default is cores − 1): a contract file
    // spends most of its time waiting on a spawned gateway and timers, so two overlap well and keep
    // `npm test` well under 10 minutes.
    maxWorkers: 2,
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      contract("node"),
      contract("bun"),
      contract("deno"),
      contract("node", "postgres")
    ]
  }
})
