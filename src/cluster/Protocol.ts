/**
 * The owner/worker protocol: the messages between the owner thread (which reads the config, runs
 * admin writes, lays out the shared state and supervises) and each worker thread (which serves the
 * port). Plain data only (structured clone); SharedArrayBuffers travel by reference.
 *
 * A worker starts with `Init` and answers `Ready` once it listens (or `Failed`). Every config
 * change is a `Snapshot` with a version; the worker swaps it in and answers `Ack`, and the owner
 * answers a reload (or an admin write) only once every worker has acknowledged. `Assigned` adds a
 * key to every worker's layout between snapshots (a pattern model's target); `Evicted` removes such
 * keys (the least recently used, when there are too many), and each worker answers `EvictedAck` so
 * the owner knows when their slots are no longer in anyone's layout. Admin calls go to the
 * owner as `Admin` and come back as `AdminReply`; so do usage reports, since only the owner holds
 * the usage store. A worker's token counts (`POST /v1/messages/count_tokens`) go to the owner as
 * `CountTokens` and come back as `TokenCount`: only the owner's tokenizer thread loads a BPE
 * encoding. Usage records go to the owner (their one writer)
 * as `UsageRecords`, batched by the worker and never answered. A scrape of the metrics is an
 * admin call too (`metrics`): the owner sends every worker `MetricsPull`, and each posts its waiting
 * usage records and then its `MetricsReport` (in that order, so the owner has counted every record
 * the report's worker finished). `Drain` asks a worker to stop
 * accepting, finish its requests and streams, post its last usage records, and answer `Drained`.
 */
import type { BudgetSeed } from "../limits/Budgets.ts"
import type { Actor, ListQuery, Resource } from "../admin/AdminStore.ts"
import type { GatewayErrorReason } from "../domain/GatewayError.ts"
import type { WorkerMetricsReport } from "../metrics/WorkerMetrics.ts"
import type * as LogLevel from "effect/LogLevel"
import type { LogFormat } from "../logging/Logging.ts"
import type { ParentLink, ThreadLink } from "../domain/ThreadLink.ts"
import type { StartSettings } from "../startup/StartSettings.ts"
import type { Assignment } from "../state/SlotAllocator.ts"
import type { Encoding } from "../usage/Estimate.ts"
import type { RecountableRecord } from "../usage/Recount.ts"
import type { UsageReportQuery } from "../usage/UsageReport.ts"
import type { ConnectionBounds } from "./ConnectionBounds.ts"

/** A page of shared slots with the receiving worker's holdings page for it. */
export interface PageMessage {
  readonly index: number
  readonly slots: SharedArrayBuffer
  readonly holdings: SharedArrayBuffer
}

/** A config snapshot: the validated document each worker compiles, and where its shared state lives. */
export interface SnapshotMessage {
  readonly version: number
  readonly document: Readonly<Record<string, unknown>>
  readonly source: string
  readonly layout: ReadonlyArray<Assignment>
  /**
   * Budget spend rebuilt from the usage store (limits/BudgetRebuild.ts), for the worker's limiter
   * store to apply where its counters do not hold that period yet, before it serves this snapshot.
   */
  readonly seeds: ReadonlyArray<BudgetSeed>
}

/** What a worker needs to serve, besides the config. */
export interface WorkerSettings {
  readonly index: number
  readonly count: number
  readonly start: StartSettings
  /** Share the port with the other workers (SO_REUSEPORT). */
  readonly reusePort: boolean
  readonly shutdownTimeoutMs: number
  /** The bounds on client connections (like host and port, they apply at start). */
  readonly connection: ConnectionBounds
  readonly debug: boolean
  /** The log lines' format and least level (`logging`, `--debug`), and the secrets they never show. */
  readonly logging: {
    readonly format: LogFormat
    readonly level: LogLevel.LogLevel
    readonly secrets: ReadonlyArray<string>
  }
  /** Where the admin API's writes go, as `GET /admin/v1/config` reports it. */
  readonly adminMode: "postgres" | "file"
  /**
   * Whether the owner takes usage records: to store them (`usage.enabled`) or to count them in the
   * metrics (`metrics.enabled`). When neither, the worker's UsageSink keeps nothing.
   */
  readonly usage: boolean
  /** Whether the metrics are kept (`metrics.enabled`): the worker counts its own events (metrics/WorkerMetrics.ts). */
  readonly metrics: boolean
  /** Every worker's served config version (Int32 per worker), written by each worker. */
  readonly control: SharedArrayBuffer
}

export type AdminCall =
  | { readonly op: "list"; readonly resource: Resource; readonly query: ListQuery }
  | { readonly op: "get"; readonly resource: Resource; readonly id: string }
  | {
      readonly op: "create"
      readonly resource: Resource
      readonly body: Readonly<Record<string, unknown>>
      readonly actor: Actor
    }
  | {
      readonly op: "update"
      readonly resource: Resource
      readonly id: string
      readonly patch: Readonly<Record<string, unknown>>
      readonly ifMatch: string | undefined
      readonly actor: Actor
    }
  | {
      readonly op: "remove"
      readonly resource: Resource
      readonly id: string
      readonly ifMatch: string | undefined
      readonly actor: Actor
    }
  | {
      readonly op: "rotateKey"
      readonly id: string
      readonly gracePeriodMs: number
      readonly ifMatch: string | undefined
      readonly actor: Actor
    }
  | { readonly op: "reload"; readonly actor: Actor }
  /** A usage report, answered by the owner from its usage store (already validated and bounded by the worker). */
  | { readonly op: "usageReport"; readonly query: UsageReportQuery }
  /** The metrics exposition (text), with every worker's report pulled first. */
  | { readonly op: "metrics" }

export type AdminResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: GatewayErrorReason }

/** The BPE tokens of each text of a `CountTokens`, in order, or why the tokenizer could not count them. */
export type TokenCountResult =
  | { readonly ok: true; readonly counts: ReadonlyArray<number> }
  | { readonly ok: false; readonly message: string }

export type ToWorker =
  | {
      readonly _tag: "Init"
      readonly settings: WorkerSettings
      readonly pages: ReadonlyArray<PageMessage>
      readonly snapshot: SnapshotMessage
    }
  | { readonly _tag: "Snapshot"; readonly pages: ReadonlyArray<PageMessage>; readonly snapshot: SnapshotMessage }
  /** A key added to the layout between snapshots; `request` answers that worker's `RequestTarget` (undefined: refused). */
  | {
      readonly _tag: "Assigned"
      readonly pages: ReadonlyArray<PageMessage>
      readonly assignment: Assignment | undefined
      readonly request: number | undefined
    }
  /** Keys evicted from the layout between snapshots (pattern models' targets); answered by `EvictedAck` with the same ticket. */
  | { readonly _tag: "Evicted"; readonly ticket: number; readonly keys: ReadonlyArray<string> }
  | { readonly _tag: "AdminReply"; readonly id: number; readonly result: AdminResult }
  /** The answer to the worker's `CountTokens` with the same id. */
  | { readonly _tag: "TokenCount"; readonly id: number; readonly result: TokenCountResult }
  /** Post the waiting usage records, then answer `MetricsReport` with the same ticket. */
  | { readonly _tag: "MetricsPull"; readonly ticket: number }
  | { readonly _tag: "Drain" }

export type FromWorker =
  | { readonly _tag: "Ready"; readonly port: number }
  | { readonly _tag: "Failed"; readonly message: string }
  /** The snapshot is swapped in (or, with `error`, could not be: the worker keeps its previous one). */
  | { readonly _tag: "Ack"; readonly version: number; readonly error: string | undefined }
  | { readonly _tag: "RequestTarget"; readonly id: number; readonly provider: string; readonly model: string }
  /** The evicted keys are out of this worker's layout: no new request will use their slots. */
  | { readonly _tag: "EvictedAck"; readonly ticket: number }
  | { readonly _tag: "Admin"; readonly id: number; readonly call: AdminCall }
  /** Count the BPE tokens of each text with `encoding` in the owner's tokenizer thread; answered by `TokenCount`. */
  | {
      readonly _tag: "CountTokens"
      readonly id: number
      readonly encoding: Encoding
      readonly texts: ReadonlyArray<string>
    }
  /** Usage records of finished requests, for the owner's usage writer (no answer). */
  | { readonly _tag: "UsageRecords"; readonly records: ReadonlyArray<RecountableRecord> }
  | { readonly _tag: "MetricsReport"; readonly ticket: number; readonly report: WorkerMetricsReport }
  | { readonly _tag: "Drained" }

/** The owner's end of one worker's channel. */
export type WorkerLink = ThreadLink<ToWorker, FromWorker>

/** A worker's end of its channel to the owner. */
export type OwnerLink = ParentLink<FromWorker, ToWorker>

/**
 * Both ends of a channel within one thread: the single-worker mode runs owner and worker in the
 * same thread through exactly the same protocol. Messages are delivered in order on a later
 * microtask, as between threads; those sent before the other end listens wait for it.
 */
export const inProcessLink = (): { readonly worker: WorkerLink; readonly owner: OwnerLink } => {
  let ended = false
  const toWorker = mailbox<ToWorker>(() => ended)
  const toOwner = mailbox<FromWorker>(() => ended)
  let exit: ((reason: string) => void) | undefined
  return {
    worker: {
      post: toWorker.post,
      onMessage: toOwner.listen,
      onExit: (handler) => {
        exit = handler
      },
      terminate: () => {
        if (ended) return
        ended = true
        queueMicrotask(() => exit?.("terminated"))
      }
    },
    owner: { post: toOwner.post, onMessage: toWorker.listen }
  }
}

/** One direction of an in-process channel: messages wait until a listener is set. */
const mailbox = <A>(ended: () => boolean) => {
  const waiting: Array<A> = []
  let listener: ((message: A) => void) | undefined
  const deliver = (message: A) => {
    if (!ended()) listener?.(message)
  }
  return {
    post: (message: A) => {
      if (listener === undefined) waiting.push(message)
      else queueMicrotask(() => deliver(message))
    },
    listen: (handler: (message: A) => void) => {
      listener = handler
      for (const message of waiting.splice(0)) queueMicrotask(() => deliver(message))
    }
  }
}
