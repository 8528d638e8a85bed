#!/usr/bin/env node
/**
 * Node entry. Before anything loads: turns on Node's on-disk compile cache (later starts skip
 * compiling and type-stripping the gateway's and Effect's modules: spawn → first proxied request
 * ≈1,000 → ≈650 ms, idle RSS ≈130 → ≈108 MB on the bench machine; `NODE_COMPILE_CACHE` chooses the
 * directory, default the OS temp dir) and keeps Effect from capturing an async_hooks resource per
 * fiber suspension (runtimes/common/DisableFiberAsyncContext.ts); then starts the gateway (start.ts).
 */
import { enableCompileCache } from "node:module"
import { restore } from "../common/DisableFiberAsyncContext.ts"

enableCompileCache()
const { main } = await import("./start.ts")
restore()
await main()
