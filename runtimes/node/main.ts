#!/usr/bin/env node
/**
 * Node entry. Turns on Node's on-disk compile cache before anything else loads: later starts skip
 * both compiling and type-stripping the gateway's and Effect's modules (spawn → first proxied
 * request ≈1,000 → ≈650 ms, idle RSS ≈130 → ≈108 MB on the bench machine), then starts the
 * gateway (start.ts). `NODE_COMPILE_CACHE` chooses the directory (default: the OS temp dir).
 */
import { enableCompileCache } from "node:module"

enableCompileCache()
await import("./start.ts")
