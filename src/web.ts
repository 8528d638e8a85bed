/**
 * The core's entry for runtimes that serve through a Web `fetch` handler (Bun.serve, Deno.serve):
 * the App as a `(Request) => Response` handler, and the answers their servers' hooks give. Node
 * serves from node:http (runtimes/node/NodeServer.ts) and never loads it.
 */
export { hookResponse, toWebHandler } from "./http/WebHandler.ts"
