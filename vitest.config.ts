import { defineConfig } from "vitest/config"

// One contract suite, projects that differ only in the runtime the harness spawns and where the
// config lives: the file (every runtime) or Postgres (`contract-node-pg`: `llmgate import` of the
// same config into a fresh database, the gateway started in Postgres mode).
const contract = (runtime: "node" | "bun" | "deno", store: "file" | "postgres" = "file") => ({
  test: {
    name: `contract-${runtime}${store === "postgres" ? "-pg" : ""}`,
    include: ["test/contract/**/*.contract.test.ts"],
    provide: { runtime, store },
    testTimeout: 30_000,
    hookTimeout: 60_000
  }
})

export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      contract("node"),
      contract("bun"),
      contract("deno"),
      contract("node", "postgres")
    ]
  }
})
