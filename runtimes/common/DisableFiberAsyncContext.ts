/**
 * Imported first by every entry, before anything loads Effect. Effect's fibers capture
 * a `node:async_hooks` AsyncResource every time they suspend (so AsyncLocalStorage values follow
 * them) when `process.getBuiltinModule("node:async_hooks")` is available. llmgate uses no
 * AsyncLocalStorage. On Deno's and Bun's emulations of async_hooks each capture costs a WeakMap
 * entry and a FinalizationRegistry registration (measured in-process on Deno: ≈50 → ≈30 µs per
 * proxied request); on Node it was ≈2 % of the gateway's CPU under load. Hiding the module from Effect while its runtime module initialises avoids that;
 * `restore()` puts `getBuiltinModule` back once the entry's imports are loaded.
 */
import process from "node:process"

type GetBuiltinModule = typeof process.getBuiltinModule

const original: GetBuiltinModule | undefined = process.getBuiltinModule
if (original !== undefined) {
  const hidden = ((id: string) =>
    id === "node:async_hooks" || id === "async_hooks" ? undefined : original.call(process, id)) as GetBuiltinModule
  process.getBuiltinModule = hidden
}

export const restore = (): void => {
  if (original !== undefined) process.getBuiltinModule = original
}
