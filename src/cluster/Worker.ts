/**
 * A worker: one thread serving the port (several share it with SO_REUSEPORT). It never reads the
 * config: it compiles the snapshots the owner sends (swapping each in atomically and acknowledging
 * it, so in-flight requests finish on the snapshot they started with), balances on the routing
 * state every worker shares (the slots the owner laid out), and sends admin calls (and token
 * counts, which only the owner's tokenizer thread makes) to the owner.
 * Usage records of its requests go to the owner in batches (usage/UsageSink.ts). On `Drain` it
 * stops accepting, lets its requests and streams finish (bounded by the shutdown timeout), releases
 * its upstream pools, posts its last usage records and answers `Drained`; the owner then ends the
 * thread.
 *
 * The same code runs in a worker thread (`runWorkerThread`, from each runtime's worker entry) and,
 * in single-worker mode, beside the owner in the main thread. It is the worker's composition root
 * and needs only the abstract platform services its runtime port provides (`port.platform`):
 * FileSystem (the /docs assets), UpstreamClients (the providers' HTTP clients) and RedisClients
 * (when limits are counted in Redis).
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as Tracer from "effect/Tracer"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import { AdminStore } from "../admin/AdminStore.ts"
import type { ResolvedProvider } from "../config/Config.ts"
import { decodeConfig } from "../config/loadConfig.ts"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import { GatewayState, RuntimeInfo } from "../GatewayState.ts"
import { makeApp } from "../http/App.ts"
import { connectRedisStore } from "../limits/RedisLimiterStore.ts"
import { MetricsExposition, makeWorkerMetrics, NO_WORKER_METRICS, WorkerMetrics } from "../metrics/WorkerMetrics.ts"
import { makeRequestTracing, makeTracing, RequestTracing } from "../tracing/Tracing.ts"
import { sharedRoutingState } from "../routing/RoutingState.ts"
import { targetKey } from "../routing/TargetHealth.ts"
import { applyStart } from "../startup/StartSettings.ts"
import { workerHolder } from "../state/SharedLock.ts"
import type { Assignment } from "../state/SlotAllocator.ts"
import { makeSlotSpace, type Slot, type SlotRef } from "../state/Slots.ts"
import { TokenCounts } from "../usage/TokenCounts.ts"
import { UsageReports } from "../usage/UsageReport.ts"
import { makeUsageSender, UsageSink } from "../usage/UsageSink.ts"
import type { AdminCall, OwnerLink, PageMessage, SnapshotMessage, ToWorker, WorkerSettings } from "./Protocol.ts"
import { loggingContext } from "../logging/Logging.ts"
import { makeRemoteAdminStore, makeRemoteMetrics, makeRemoteUsageReports } from "./RemoteAdminStore.ts"
import { makeRemoteTokenCounts } from "./RemoteTokenCounts.ts"
import type { RuntimePort } from "./RuntimePort.ts"
import { UpstreamClients } from "../providers/UpstreamClients.ts"

/** The worker's logger and level (logging/Logging.ts), as the owner's. */
const requestContext = (settings: WorkerSettings): Context.Context<never> =>
  loggingContext(settings.logging.format, settings.logging.level, settings.logging.secrets)

/** Compiles a snapshot the owner validated (it cannot fail unless the two disagree: a defect). */
const compile = (snapshot: SnapshotMessage) =>
  Result.mapError(
    decodeConfig(snapshot.document, snapshot.source),
    (e) => `config version ${snapshot.version} did not compile: ${e.message}`
  )

/** Runs a worker on `owner`'s messages: waits for `Init`, then serves until drained. */
export const runWorker = (port: RuntimePort, owner: OwnerLink): Effect.Effect<void> =>
  Effect.scoped(
    Effect.gen(function* () {
      const inbox = yield* Queue.unbounded<ToWorker>()
      owner.onMessage((message) => {
        Queue.offerUnsafe(inbox, message)
      })
      const init = yield* Queue.take(inbox)
      if (init._tag !== "Init") return yield* Effect.die(new Error(`worker: expected Init, got ${init._tag}`))
      const context = requestContext(init.settings)
      yield* serve(port, owner, inbox, init).pipe(Effect.provideContext(context))
    })
  )

const serve = (
  port: RuntimePort,
  owner: OwnerLink,
  inbox: Queue.Queue<ToWorker>,
  init: Extract<ToWorker, { _tag: "Init" }>
) =>
  Effect.gen(function* () {
    const { settings } = init
    const context = requestContext(settings)

    // ---- the shared slots and this worker's view of the layout -------------------------------
    const space = makeSlotSpace(workerHolder(settings.index))
    const addPages = (pages: ReadonlyArray<PageMessage>) => {
      for (const p of pages) space.addPage(p.index, p.slots, p.holdings)
    }
    let layout = new Map<string, ReadonlyArray<SlotRef>>()
    let handles = new Map<string, ReadonlyArray<Slot>>()
    const install = (assignments: ReadonlyArray<Assignment>) => {
      layout = new Map(assignments.map((a) => [a.key, a.refs]))
      handles = new Map()
    }
    const slotsOf = (key: string): ReadonlyArray<Slot> | undefined => {
      const found = handles.get(key)
      if (found !== undefined) return found
      const refs = layout.get(key)
      if (refs === undefined) return undefined
      const made = refs.map((ref) => space.slot(ref))
      handles.set(key, made)
      return made
    }
    addPages(init.pages)
    install(init.snapshot.layout)

    /** Targets asked of the owner, by key: every request for the same target waits on one answer. */
    let nextId = 0
    const targetRequests = new Map<number, { readonly key: string; readonly done: Deferred.Deferred<void> }>()
    const pendingByKey = new Map<string, Deferred.Deferred<void>>()
    const requestTarget = (provider: ResolvedProvider, model: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        const key = targetKey(provider, model)
        const pending = pendingByKey.get(key)
        if (pending !== undefined) return Deferred.await(pending)
        const done = Deferred.makeUnsafe<void>()
        const id = ++nextId
        targetRequests.set(id, { key, done })
        pendingByKey.set(key, done)
        owner.post({ _tag: "RequestTarget", id, provider: provider.name, model })
        return Deferred.await(done)
      })
    const routing = sharedRoutingState(slotsOf, requestTarget, () => layout.keys())

    /** Admin calls waiting for the owner's answer. */
    const adminCalls = new Map<number, Deferred.Deferred<unknown, GatewayError>>()
    const adminCall = (call: AdminCall): Effect.Effect<unknown, GatewayError> =>
      Effect.suspend(() => {
        const done = Deferred.makeUnsafe<unknown, GatewayError>()
        const id = ++nextId
        adminCalls.set(id, done)
        owner.post({ _tag: "Admin", id, call })
        return Deferred.await(done)
      })

    /** Token counts (`POST /v1/messages/count_tokens`): the owner's tokenizer thread counts them. */
    const tokenCounts = makeRemoteTokenCounts((message) => owner.post(message))

    // ---- the first snapshot, the app, the server ----------------------------------------------
    const control = new Int32Array(settings.control)
    const first = compile(init.snapshot)
    if (Result.isFailure(first)) {
      owner.post({ _tag: "Failed", message: first.failure })
      return
    }
    const platform = yield* Layer.build(port.platform)
    // Limits counted in Redis: this worker's connection, closed after its requests have drained.
    const limitsScope = yield* Scope.make()
    const limiterStore =
      settings.start.redis === undefined
        ? undefined
        : yield* connectRedisStore(settings.start.redis).pipe(
            Effect.provideContext(platform),
            Scope.provide(limitsScope)
          )
    const state = yield* GatewayState.make(
      applyStart(first.success, settings.start),
      init.snapshot.version,
      routing,
      slotsOf,
      limiterStore
    ).pipe(Effect.provideContext(platform))
    // Budget spend rebuilt by the owner, before this worker serves (applied only where not counted yet).
    yield* state.current().limiter.store.seed(init.snapshot.seeds)
    Atomics.store(control, settings.index, init.snapshot.version)
    const runtimeInfo = RuntimeInfo.of({
      name: port.runtime.name,
      version: port.runtime.version,
      worker: { id: settings.index, count: settings.count },
      workers: () =>
        Array.from({ length: settings.count }, (_, id) => ({ id, configVersion: Atomics.load(control, id) }))
    })
    // This worker's own metrics (breaker transitions, refusals, failed span exports); the owner counts the records.
    const metrics = settings.metrics ? makeWorkerMetrics() : NO_WORKER_METRICS
    // A failed span export is counted, and logged at most once a minute per destination.
    const exportWarned = new Map<string, number>()
    const exportFailed = (destination: string) => {
      metrics.exportFailed(destination)
      const now = Date.now()
      if (now - (exportWarned.get(destination) ?? 0) < 60_000) return
      exportWarned.set(destination, now)
      Effect.runFork(
        Effect.logWarning(`tracing: an export to ${destination} failed (it is retried, then paused for a minute)`).pipe(
          Effect.provideContext(context)
        )
      )
    }
    // Spans go to the tracing destinations from this worker, in batches (its drain exports the rest).
    const traces =
      settings.start.tracing === undefined
        ? undefined
        : yield* makeTracing(
            settings.start.tracing,
            settings.index,
            exportFailed,
            Context.get(platform, UpstreamClients)
          )
    const tracing =
      settings.start.tracing === undefined || traces === undefined
        ? RequestTracing.off
        : makeRequestTracing(settings.start.tracing, traces.startSpan)
    // Usage records go to the owner in batches; the scope's end (and the drain) posts the rest.
    const usage = settings.usage
      ? yield* makeUsageSender((records) => owner.post({ _tag: "UsageRecords", records }))
      : { ...UsageSink.discard, flush: () => {}, pending: () => 0 }
    if (settings.metrics) {
      // Subscribed before the port is served: no transition is missed.
      const transitions = yield* PubSub.subscribe(state.events)
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.map(PubSub.take(transitions), (event) => {
            if (event._tag === "BreakerTransition") metrics.transition(event.transition)
          })
        )
      )
    }
    const app = yield* makeApp.pipe(
      Effect.provideContext(
        Context.make(GatewayState, state).pipe(
          Context.add(RuntimeInfo, runtimeInfo),
          Context.add(UsageSink, usage),
          Context.add(WorkerMetrics, metrics),
          Context.add(RequestTracing, tracing),
          Context.add(MetricsExposition, makeRemoteMetrics(adminCall)),
          Context.add(AdminStore, makeRemoteAdminStore(settings.adminMode, adminCall)),
          Context.add(UsageReports, makeRemoteUsageReports(adminCall)),
          Context.add(TokenCounts, tokenCounts),
          Context.merge(platform)
        )
      )
    )
    const serving = yield* Scope.make()
    // Requests run with the OTLP tracer when tracing is on (tracing/Tracing.ts).
    const serveContext = traces === undefined ? context : Context.add(context, Tracer.Tracer, traces.tracer)
    const listening = yield* Effect.exit(
      port
        .serve(app, {
          host: settings.start.host,
          port: settings.start.port,
          reusePort: settings.reusePort,
          shutdownTimeoutMs: settings.shutdownTimeoutMs,
          connection: settings.connection,
          context: serveContext
        })
        .pipe(Scope.provide(serving))
    )
    if (Exit.isFailure(listening)) {
      const failure = listening.cause.reasons.find(Cause.isFailReason)
      owner.post({
        _tag: "Failed",
        message: failure !== undefined ? failure.error.message : Cause.pretty(listening.cause)
      })
      return
    }
    owner.post({ _tag: "Ready", port: listening.value.port })

    // ---- messages from the owner --------------------------------------------------------------
    const drain = Effect.gen(function* () {
      yield* state.startDraining
      yield* Effect.logInfo("shutting down: draining in-flight requests")
      yield* Scope.close(serving, Exit.void)
      // Every request has finished: its usage record reaches the owner before `Drained` does, and
      // its spans the OTLP endpoint.
      usage.flush()
      if (traces !== undefined) yield* traces.flush
      yield* Scope.close(limitsScope, Exit.void)
      owner.post({ _tag: "Drained" })
    })
    for (;;) {
      const message = yield* Queue.take(inbox)
      switch (message._tag) {
        case "Snapshot": {
          addPages(message.pages)
          install(message.snapshot.layout)
          routing.prune()
          const next = compile(message.snapshot)
          if (Result.isFailure(next)) {
            yield* Effect.logError(next.failure)
            owner.post({ _tag: "Ack", version: message.snapshot.version, error: next.failure })
            break
          }
          yield* state
            .swap(applyStart(next.success, settings.start), message.snapshot.version)
            .pipe(Effect.provideContext(platform))
          yield* state.current().limiter.store.seed(message.snapshot.seeds)
          Atomics.store(control, settings.index, message.snapshot.version)
          owner.post({ _tag: "Ack", version: message.snapshot.version, error: undefined })
          break
        }
        case "Assigned": {
          addPages(message.pages)
          if (message.assignment !== undefined) {
            layout.set(message.assignment.key, message.assignment.refs)
            handles.delete(message.assignment.key)
          }
          const request = message.request === undefined ? undefined : targetRequests.get(message.request)
          if (request !== undefined && message.request !== undefined) {
            targetRequests.delete(message.request)
            pendingByKey.delete(request.key)
            Deferred.doneUnsafe(request.done, Effect.void)
          }
          break
        }
        case "Evicted": {
          for (const key of message.keys) {
            layout.delete(key)
            handles.delete(key)
          }
          routing.forget(message.keys)
          owner.post({ _tag: "EvictedAck", ticket: message.ticket })
          break
        }
        case "AdminReply": {
          const done = adminCalls.get(message.id)
          adminCalls.delete(message.id)
          if (done !== undefined) {
            const result = message.result
            Deferred.doneUnsafe(
              done,
              result.ok ? Effect.succeed(result.value) : Effect.fail(gatewayError(result.reason))
            )
          }
          break
        }
        case "TokenCount":
          tokenCounts.answer(message)
          break
        case "MetricsPull":
          // The records finished so far reach the owner before the report that counts them in flight.
          usage.flush()
          owner.post({
            _tag: "MetricsReport",
            ticket: message.ticket,
            report: metrics.report(usage.pending(), state.health.all(), Date.now())
          })
          break
        case "Drain":
          yield* Effect.forkDetach(drain)
          break
        case "Init":
          break
      }
    }
  })

/** The entry of a worker thread: runs the worker until the owner ends the thread. */
export const runWorkerThread = (port: RuntimePort, owner: OwnerLink): void => {
  Effect.runFork(runWorker(port, owner))
}
