/**
 * The core's public entry for the runtimes (`runtimes/*` import nothing else of `src/`, checked by
 * `npm run check:deps`): what a runtime needs to implement its RuntimePort (serve an App, start a
 * worker thread, upstream clients, signals) and the core's small server and upstream contracts.
 *
 * Four more entries stay apart so each thread loads only what it runs: `launch.ts` (the process's
 * one launch path, the owner; main thread only), `worker.ts` (a worker thread's serving code: the
 * app, routing, providers), `web.ts` (the app as a Web `fetch` handler, for Bun and Deno) and
 * `tokenizer.ts` (the owner's tokenizer thread, counting estimated usage records).
 */

// The runtime port and the owner/worker protocol it carries.
export type { ConnectionBounds } from "./cluster/ConnectionBounds.ts"
export type { FromWorker, ToWorker, WorkerLink } from "./cluster/Protocol.ts"
export type { ThreadLink } from "./domain/ThreadLink.ts"
export { type RuntimePort, ServeError, serveWith } from "./cluster/RuntimePort.ts"
export type { ProcessInfo } from "./admin/FileAdminStore.ts"
export type { ProcessResources } from "./metrics/GatewayMetrics.ts"
export type { SqliteDatabase, SqliteDriver, SqliteValue } from "./usage/SqliteDriver.ts"

// The server port: the App a runtime's server calls, and the answers it gives on its own.
export {
  type App,
  type IncomingRequest,
  isBytes,
  makeStallWatchdog,
  type OutgoingResponse,
  type StallWatchdog,
  UNREADABLE,
  uploadReader
} from "./http/Exchange.ts"
export { hookAnswer, UNEXPECTED, unparsable } from "./http/respond.ts"
export { gatewayError, type GatewayError, type GatewayErrorReason } from "./domain/GatewayError.ts"
export { makeBodyCollector, readAtMost } from "./domain/BodyCollector.ts"
export type { ChunkReader } from "./domain/ChunkReader.ts"

// The upstream port: the client each provider sends its requests with.
export {
  capped,
  chunksOf,
  connectionKey,
  declaredLength,
  fetchClient,
  headersWithLength,
  type FetchConnections,
  type FetchFunction,
  isDefaultConnection,
  type OpenedClient,
  UpstreamBodyTooLarge,
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamClients,
  type UpstreamConnection,
  upstreamConnection,
  UpstreamFailure,
  type UpstreamRequest,
  type UpstreamResponse,
  warnInvalidProxy
} from "./providers/UpstreamClients.ts"

// The Redis port: the Lua scripts the rate limits run when counted in Redis (limits.redis).
export {
  RedisClients,
  type RedisConnectOptions,
  RedisError,
  type RedisScript,
  type RedisScripts
} from "./limits/RedisScripts.ts"
