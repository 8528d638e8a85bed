import { defineConfig } from "vitest/config"

// One contract suite, three projects that differ only in the runtime the harness spawns.
const contract = (runtime: "node" | "bun" | "deno") => ({
  test: {
    name: `contract-${runtime}`,
    include: ["test/contract/**/*.contract.test.ts"],
    provide: { runtime },
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
      contract("deno")
    ]
  }
})
