/**
 * The owner: the thread you start. It is the gateway's one reader of the config (the watched file,
 * or Postgres), its one writer of admin changes, the one that lays out the shared state, and the
 * supervisor of the workers that serve the port.
 *
 * - **One config.** Every change (a file edit, a Postgres notification, SIGHUP, an admin write) is
 *   loaded and validated here, then sent to every worker as a versioned snapshot; a reload answers
 *   only once every worker has acknowledged it, so an admin write is served by every worker when
 *   its answer arrives, and workers never serve different versions for longer than one reload.
 *   Reloads are serialized, and signals arriving during one fold into one more.
 * - **One routing state.** For each snapshot the owner lays out the shared slots (targets, models'
 *   positions, capped targets' permits, keys' and projects' counters), keeping the slots of
 *   whatever did not change. A pattern model's targets are added when a worker first asks for one,
 *   at most `server.pattern_target_limit` of them: the least recently used is evicted (every
 *   worker drops it, and its slot is reused only once all have said so).
 * - **Budgets rebuilt.** Before the workers start, each budget's spend in its current period is
 *   summed from the usage store (and again for budgets a reload adds or moves to another period);
 *   the seeds travel with every snapshot and each worker's limiter store applies them where its
 *   counters do not hold that period yet.
 * - **One usage writer.** Workers post their requests' usage records here; the usage writer
 *   buffers them (bounded), has estimated ones counted again with the BPE tokenizer in the
 *   tokenizer thread (started on the first), and writes them in batches to the usage store (SQLite
 *   beside the config file, or Postgres), retrying while it is down, and flushes them when the
 *   gateway stops. The same thread counts the tokens workers ask for (`CountTokens`, for
 *   `POST /v1/messages/count_tokens`), so no serving thread loads an encoding.
 * - **One set of metrics.** The owner counts every request from the usage records the workers post
 *   (with metrics on, they post them even when usage is not stored) and, at each scrape, pulls
 *   every worker's own counts (metrics/GatewayMetrics.ts): one exposition for the whole gateway.
 * - **Lifecycle.** A worker that dies (a defect, its heap) has its locks and holdings taken back,
 *   and is restarted with backoff while the others keep serving; one that keeps dying at startup
 *   stops the gateway. SIGTERM/SIGINT drain every worker (bounded by `server.shutdown_timeout`),
 *   then the owner exits 0.
 *
 * With one worker, the worker runs in this thread, through the same protocol.
 */
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Semaphore from "effect/Semaphore"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { LoadedConfig } from "../config/Config.ts"
import { type ConfigError, formatIssue } from "../config/ConfigError.ts"
import { ConfigSource } from "../config/ConfigSource.ts"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"
import { type BudgetSubject, budgetSubjects, changedBudgets, rebuildSeeds } from "../limits/BudgetRebuild.ts"
import type { BudgetSeed } from "../limits/Budgets.ts"
import { counterSlotSpecs } from "../limits/CounterSlots.ts"
import { dynamicTargetSlotSpec, keepsTarget, routingSlotSpecs } from "../routing/RoutingState.ts"
import { banner } from "../startup/Banner.ts"
import { makeAdminStore, openUsageStore, sourceLayer } from "../startup/Boot.ts"
import type { Prepared } from "../startup/Prepare.ts"
import {
  applyStart,
  redisHost,
  redisSettings,
  type StartedConfig,
  type StartSettings,
  tracingSettings
} from "../startup/StartSettings.ts"
import { makeSlotAllocator } from "../state/SlotAllocator.ts"
import { PLAINTEXT_WARNING } from "../store/postgres/ProviderSecrets.ts"
import type { StoreError } from "../domain/StoreError.ts"
import { makeTokenCounter } from "../usage/TokenizerThread.ts"
import { fromCounter } from "../usage/TokenCounts.ts"
import { makeUsageReports } from "../usage/UsageReport.ts"
import * as UsageWriter from "../usage/UsageWriter.ts"
import { makeGatewayMetrics, type ReloadSource } from "../metrics/GatewayMetrics.ts"
import { configSecrets, minimumLevel, requestFields } from "../logging/Logging.ts"
import type { WorkerMetricsReport } from "../metrics/WorkerMetrics.ts"
import { type FromWorker, inProcessLink, type PageMessage, type SnapshotMessage, type WorkerLink } from "./Protocol.ts"
import { serveAdminCall } from "./RemoteAdminStore.ts"
import { serveCountTokens } from "./RemoteTokenCounts.ts"
import { connectionBounds } from "./ConnectionBounds.ts"
import type { RuntimePort } from "./RuntimePort.ts"

/** How long a reload waits for every worker's acknowledgement before going on without the missing ones. */
const ACK_TIMEOUT_MS = 10_000
/** How long a scrape waits for the workers' reports before rendering without the missing ones. */
const PULL_TIMEOUT_MS = 2_000
/** Restarts within this long of a worker's start count as failing at startup. */
const EARLY_EXIT_MS = 5_000
/** Workers failing at startup this many times in a row stop the gateway. */
const MAX_EARLY_EXITS = 5

/** A failed reload as the admin API answers it: 422 naming the first problem, 503 when the store is unreachable. */
const reloadError = (e: ConfigError | StoreError): GatewayError =>
  e._tag === "ConfigError"
    ? gatewayError({
        _tag: "Unprocessable",
        param: e.issues[0]?.path ?? null,
        message: `The config was not reloaded (the running config stays): ${e.issues.map(formatIssue).join("; ")}`
      })
    : gatewayError({ _tag: "Unavailable", message: `The config store could not be read: ${e.message}` })

const startupMessage = (e: ConfigError | StoreError): string =>
  e._tag === "ConfigError"
    ? `llmgate: invalid config (${e.source}):\n${e.message}`
    : `llmgate: config store: ${e.message}`

interface Member {
  readonly index: number
  readonly link: WorkerLink
  readonly startedAt: number
  state: "starting" | "ready" | "gone"
  /** The newest version it serves (its Init's until it acknowledges a later one). */
  acked: number
  /** The newest eviction ticket it acknowledged (its Init's layout already lacks every key evicted before it started). */
  evictedAcked: number
  readonly ready: Deferred.Deferred<number, string>
  readonly drained: Deferred.Deferred<void>
  readonly exited: Deferred.Deferred<void>
}

interface Current {
  readonly loaded: LoadedConfig
  readonly config: StartedConfig
}

/** Runs the gateway until it is stopped; answers the exit code. */
export const runOwner = (
  port: RuntimePort,
  prepared: Prepared
): Effect.Effect<number, never, Scope.Scope | FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const count = prepared.workers
    const fail = (output: string) => Effect.as(Console.error(output), 1)

    // ---- the config source and the first config ------------------------------------------------
    const sourceBuilt = yield* Effect.exit(Layer.build(sourceLayer(prepared)))
    if (Exit.isFailure(sourceBuilt)) return yield* fail(failureMessage(sourceBuilt.cause))
    const source = Context.get(sourceBuilt.value, ConfigSource)
    const first = yield* Effect.exit(source.load)
    if (Exit.isFailure(first)) return yield* fail(failureMessage(first.cause))
    if (prepared.secrets?.mode === "plaintext") yield* Effect.logWarning(PLAINTEXT_WARNING)

    const redis = redisSettings(first.value.config, prepared.options.env)
    if (typeof redis === "string") return yield* fail(`llmgate: invalid config: ${redis}`)
    if (redis !== undefined)
      yield* Effect.logInfo(`rate limits: counted in Redis at ${redisHost(redis.url)} (on_error ${redis.onError})`)
    const tracing = tracingSettings(first.value.config, prepared.options.env)
    if (typeof tracing === "string") return yield* fail(`llmgate: invalid tracing settings: ${tracing}`)
    if (tracing !== undefined)
      yield* Effect.logInfo(
        `tracing: ${tracing.destinations.map((d) => `${d.name} (${d.protocol}) at ${d.url}`).join(" and ")}, sampling ${tracing.sampleRate}${tracing.captureContent ? ", with content" : ""}`
      )
    const start: StartSettings = {
      host: prepared.config.server.host,
      port: prepared.config.server.port,
      masterKey: Redacted.value(prepared.config.masterKey),
      redis,
      tracing
    }
    const { shutdownTimeoutMs } = prepared.config.server
    const connection = connectionBounds(prepared.config.server.bounds)
    const allocator = makeSlotAllocator(count)
    const specsOf = (config: StartedConfig) => [...routingSlotSpecs(config), ...counterSlotSpecs(config)]
    const firstConfig = applyStart(first.value.config, start)
    let version = 1
    const layOut = (config: StartedConfig) =>
      allocator.assign(specsOf(config), version, keepsTarget(config), config.server.bounds.patternTargetLimit)
    layOut(firstConfig)
    let current: Current = { loaded: first.value, config: firstConfig }
    /** Every worker's served config version, for /health. */
    const control = new SharedArrayBuffer(4 * count)

    const members: Array<Member | undefined> = Array.from({ length: count }, () => undefined)
    const live = () => members.filter((m): m is Member => m !== undefined && m.state !== "gone")
    const pagesFor = (index: number): ReadonlyArray<PageMessage> =>
      allocator.pages().map((p, i) => ({ index: i, slots: p.slots, holdings: p.holdings[index]! }))
    // The layout as it is now: the snapshot's keys and the pattern targets added (and not evicted) since.
    /** Budget spend rebuilt from the usage store, the latest per budget and period (limits/BudgetRebuild.ts). */
    const seeds = new Map<string, BudgetSeed>()
    const snapshotMessage = (): SnapshotMessage => ({
      version,
      document: current.loaded.document,
      source: current.loaded.source,
      layout: allocator.layout(),
      seeds: [...seeds.values()]
    })

    // ---- acknowledgements ----------------------------------------------------------------------
    let ackWaiters: Array<{ readonly version: number; readonly done: Deferred.Deferred<void> }> = []
    /** After every ack or exit: versions every live worker serves are done, their dropped slots freed. */
    const checkAcks = () => {
      const low = Math.min(version, ...live().map((m) => m.acked))
      allocator.acknowledged(low)
      allocator.evictionsAcknowledged(Math.min(allocator.ticket(), ...live().map((m) => m.evictedAcked)))
      const waiting: typeof ackWaiters = []
      for (const w of ackWaiters) {
        if (w.version <= low) Deferred.doneUnsafe(w.done, Effect.void)
        else waiting.push(w)
      }
      ackWaiters = waiting
    }
    const awaitAcks = (v: number) =>
      Effect.suspend(() => {
        const done = Deferred.makeUnsafe<void>()
        ackWaiters.push({ version: v, done })
        checkAcks()
        return Deferred.await(done).pipe(
          Effect.timeoutOption(ACK_TIMEOUT_MS),
          Effect.flatMap((o) =>
            o._tag === "Some"
              ? Effect.void
              : Effect.logWarning(`config version ${v}: not every worker acknowledged it within ${ACK_TIMEOUT_MS} ms`)
          )
        )
      })

    // ---- reload: load, lay out, send, wait for every worker -----------------------------------
    const reloadLock = Semaphore.makeUnsafe(1)
    /** Re-reads the source; answers whether the config changed (and every worker now serves it). */
    const reload: Effect.Effect<boolean, ConfigError | StoreError> = Semaphore.withPermit(
      reloadLock,
      Effect.gen(function* () {
        const loaded = yield* source.load
        if (JSON.stringify(loaded.document) === JSON.stringify(current.loaded.document)) return false
        const config = applyStart(loaded.config, start)
        const redis = redisSettings(loaded.config, prepared.options.env)
        if (JSON.stringify(redis) !== JSON.stringify(start.redis)) {
          yield* Effect.logWarning(
            "limits.redis changed: it applies at the next start (the workers keep their Redis connection)"
          )
        }
        version++
        layOut(config)
        // Budgets this config adds or moves to another period start from the store's spend.
        yield* rebuild(changedBudgets(current.config, config), config)
        current = { loaded, config }
        const snapshot = snapshotMessage()
        for (const m of live()) m.link.post({ _tag: "Snapshot", pages: pagesFor(m.index), snapshot })
        yield* awaitAcks(version)
        return true
      })
    )
    // ---- metrics: the whole gateway's, counted here ------------------------------------------------
    const metrics = prepared.config.metrics.enabled ? makeGatewayMetrics() : undefined
    /** `reload`, counted in the metrics by what started it and how it ended. */
    const counted = (source: ReloadSource): typeof reload =>
      reload.pipe(
        Effect.tap((changed) => Effect.sync(() => metrics?.reloaded(source, changed ? "applied" : "unchanged"))),
        Effect.tapError((e) =>
          Effect.sync(() => metrics?.reloaded(source, e._tag === "ConfigError" ? "rejected" : "failed"))
        )
      )
    const reloadLogged = (why: string, source: ReloadSource) =>
      counted(source).pipe(
        Effect.flatMap((changed) =>
          changed ? Effect.logInfo(`config version ${version} (${why}) served by every worker`) : Effect.void
        ),
        Effect.catch((e) =>
          Effect.logWarning(
            e._tag === "ConfigError"
              ? `config change rejected (${e.source}), keeping the running config:\n${e.message}`
              : `config re-read failed, keeping the running config: ${e.message}`
          )
        )
      )

    // ---- the admin store: writes run here, once for the whole gateway ---------------------------
    const adminStore = yield* Effect.exit(
      makeAdminStore(prepared, counted("admin").pipe(Effect.asVoid, Effect.mapError(reloadError)))
    )
    if (Exit.isFailure(adminStore)) return yield* fail(failureMessage(adminStore.cause))
    const admin = adminStore.value

    // ---- usage: the gateway's one writer of usage records --------------------------------------
    // Built after the stores it writes to, so its last flush (when the scope closes, after the
    // workers drained and posted their last records) runs before they close.
    const usageStore = yield* openUsageStore(prepared, port.sqlite)
    // Estimated records are counted again with the BPE tokenizer in a thread of its own, started
    // on the first one (never on a serving thread: with one worker, this thread serves too). Built
    // before the writer, so the thread ends after the writer's last flush.
    const tokenCounter = yield* makeTokenCounter(port.startTokenizer)
    // Workers' token counts (`POST /v1/messages/count_tokens`) are counted in the same tokenizer thread.
    const tokenCounts = fromCounter(tokenCounter)
    const usage = yield* UsageWriter.make(
      usageStore,
      {
        bufferLimit: prepared.config.usage.bufferLimit,
        flushIntervalMs: prepared.config.usage.flushIntervalMs,
        batchSize: prepared.config.usage.batchSize,
        shutdownTimeoutMs
      },
      tokenCounter
    )
    // Usage reports (the admin API's, asked by workers) read the same store's minute rollups.
    const usageReports = makeUsageReports(usageStore, prepared.config.usage.enabled)

    // ---- budgets: spend rebuilt from the usage store before any worker serves -------------------
    let warnedNoStorage = false
    const rebuild = (subjects: ReadonlyArray<BudgetSubject>, config: StartedConfig) =>
      Effect.gen(function* () {
        if (subjects.length === 0) return
        if (!prepared.config.usage.enabled) {
          if (warnedNoStorage) return
          warnedNoStorage = true
          return yield* Effect.logWarning(
            `budgets: ${budgetSubjects(config).length} budgets are configured but usage storage is off (usage.enabled: false): spend is counted from 0 at every start, and a restart forgets it. Turn usage storage on to keep it.`
          )
        }
        for (const seed of yield* rebuildSeeds(usageStore, subjects, Date.now())) {
          seeds.set(`${seed.scope}:${seed.id}:${seed.period}`, seed)
        }
      })
    yield* rebuild(budgetSubjects(current.config), current.config)

    // ---- scrapes: every worker's report, then the exposition --------------------------------------
    interface Pull {
      readonly waiting: Set<number>
      readonly reports: Array<readonly [number, WorkerMetricsReport]>
      readonly done: Deferred.Deferred<void>
    }
    const pulls = new Map<number, Pull>()
    let nextTicket = 0
    const reported = (index: number, ticket: number, report: WorkerMetricsReport | undefined) => {
      const pull = pulls.get(ticket)
      if (pull === undefined || !pull.waiting.delete(index)) return
      if (report !== undefined) pull.reports.push([index, report])
      if (pull.waiting.size === 0) Deferred.doneUnsafe(pull.done, Effect.void)
    }
    const scrape: Effect.Effect<string, GatewayError> = Effect.suspend(() => {
      if (metrics === undefined) return Effect.fail(gatewayError({ _tag: "Unavailable", message: "Metrics are off." }))
      const ticket = ++nextTicket
      const ready = live().filter((m) => m.state === "ready")
      const pull: Pull = { waiting: new Set(ready.map((m) => m.index)), reports: [], done: Deferred.makeUnsafe() }
      pulls.set(ticket, pull)
      for (const m of ready) m.link.post({ _tag: "MetricsPull", ticket })
      if (pull.waiting.size === 0) Deferred.doneUnsafe(pull.done, Effect.void)
      return Deferred.await(pull.done).pipe(
        Effect.timeoutOption(PULL_TIMEOUT_MS),
        Effect.map(() => {
          pulls.delete(ticket)
          return metrics.render(
            pull.reports,
            prepared.config.usage.enabled ? usage.stats() : undefined,
            port.resources()
          )
        })
      )
    })

    // ---- workers -------------------------------------------------------------------------------
    // What no log line shows: the secrets of the config the gateway started with.
    const logSecrets = [...configSecrets(prepared.config), ...configSecrets(firstConfig)]
    const logRequests = minimumLevel(prepared.config.logging.level, prepared.cli.debug) === "Debug"
    const context = yield* Effect.context<FileSystem.FileSystem>()
    const run = Effect.runForkWith(context)
    const stopped = Deferred.makeUnsafe<number>()
    let stopping = false
    const earlyExits = new Map<number, number>()

    const onMessage = (member: Member, message: FromWorker): void => {
      switch (message._tag) {
        case "Ready":
          member.state = "ready"
          Deferred.doneUnsafe(member.ready, Effect.succeed(message.port))
          return
        case "Failed":
          Deferred.doneUnsafe(member.ready, Effect.fail(message.message))
          member.link.terminate()
          return
        case "Ack":
          member.acked = Math.max(member.acked, message.version)
          if (message.error !== undefined) run(Effect.logError(`worker ${member.index + 1}: ${message.error}`))
          checkAcks()
          return
        case "RequestTarget": {
          const provider = current.config.providers.get(message.provider)
          if (provider === undefined) {
            member.link.post({ _tag: "Assigned", pages: [], assignment: undefined, request: message.id })
            return
          }
          const { key, refs, evicted } = allocator.assignDynamic(
            dynamicTargetSlotSpec(provider, message.model, Date.now()),
            current.config.server.bounds.patternTargetLimit
          )
          for (const m of live()) {
            if (evicted !== undefined) m.link.post({ _tag: "Evicted", ticket: evicted.ticket, keys: evicted.keys })
            m.link.post({
              _tag: "Assigned",
              pages: pagesFor(m.index),
              assignment: { key, refs },
              request: m === member ? message.id : undefined
            })
          }
          return
        }
        case "EvictedAck":
          member.evictedAcked = Math.max(member.evictedAcked, message.ticket)
          checkAcks()
          return
        case "Admin":
          run(
            serveAdminCall(admin, usageReports, scrape, message.call).pipe(
              Effect.match({
                onSuccess: (value) => ({ ok: true as const, value }),
                onFailure: (e) => ({ ok: false as const, reason: e.reason })
              }),
              Effect.catchDefect((defect) =>
                Effect.as(Effect.logError("admin call failed", Cause.pretty(Cause.die(defect))), {
                  ok: false as const,
                  reason: { _tag: "Internal" as const, message: "The admin operation hit an unexpected error." }
                })
              ),
              Effect.map((result) => member.link.post({ _tag: "AdminReply", id: message.id, result }))
            )
          )
          return
        case "CountTokens":
          run(Effect.map(serveCountTokens(tokenCounts, message), (reply) => member.link.post(reply)))
          return
        case "UsageRecords":
          metrics?.observe(message.records)
          // Debug: one line per request, from its record.
          if (logRequests) {
            const keys = current.config.tenancy.keys
            for (const r of message.records)
              run(Effect.logDebug("request").pipe(Effect.annotateLogs(requestFields(r, (id) => keys.get(id)?.prefix))))
          }
          if (prepared.config.usage.enabled) usage.offer(message.records)
          return
        case "MetricsReport":
          reported(member.index, message.ticket, message.report)
          return
        case "Drained":
          Deferred.doneUnsafe(member.drained, Effect.void)
          return
      }
    }

    const onExit = (member: Member, reason: string): void => {
      member.state = "gone"
      Atomics.store(new Int32Array(control), member.index, 0)
      Deferred.doneUnsafe(member.exited, Effect.void)
      Deferred.doneUnsafe(member.ready, Effect.fail(`worker ${member.index + 1} exited before listening (${reason})`))
      // Its locks and holdings are taken back before anyone else waits on them for long.
      allocator.repair(member.index)
      // A scrape waiting for it goes on without it; its counts so far stay in the sums.
      for (const ticket of pulls.keys()) reported(member.index, ticket, undefined)
      metrics?.workerGone(member.index)
      checkAcks()
      if (stopping) return
      const early = Date.now() - member.startedAt < EARLY_EXIT_MS
      const failures = early ? (earlyExits.get(member.index) ?? 0) + 1 : 0
      earlyExits.set(member.index, failures)
      if (failures >= MAX_EARLY_EXITS) {
        run(Effect.logError(`worker ${member.index + 1} keeps failing at startup (${reason}); stopping`))
        Deferred.doneUnsafe(stopped, Effect.succeed(1))
        return
      }
      const wait = Math.min(5_000, 100 * 2 ** failures)
      run(
        Effect.andThen(
          Effect.logWarning(`worker ${member.index + 1} exited (${reason}); restarting it in ${wait} ms`),
          Effect.delay(
            Effect.sync(() => {
              if (!stopping) startMember(member.index)
            }),
            wait
          )
        )
      )
    }

    /** The worker's thread, or with one worker, the worker in this thread. */
    const newLink = (): WorkerLink => {
      if (count > 1) return port.startWorker()
      const { worker, owner } = inProcessLink()
      const fiber = run(
        Effect.flatMap(
          Effect.promise(() => import("./Worker.ts")),
          ({ runWorker }) => runWorker(port, owner)
        )
      )
      fiber.addObserver((exit) => {
        if (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)) {
          run(Effect.logError("the worker failed", Cause.pretty(exit.cause)))
        }
        worker.terminate()
      })
      return { ...worker, terminate: () => fiber.interruptUnsafe() }
    }

    const startMember = (index: number): Member => {
      const member: Member = {
        index,
        link: newLink(),
        startedAt: Date.now(),
        state: "starting",
        acked: version,
        evictedAcked: allocator.ticket(),
        ready: Deferred.makeUnsafe<number, string>(),
        drained: Deferred.makeUnsafe<void>(),
        exited: Deferred.makeUnsafe<void>()
      }
      members[index] = member
      member.link.onMessage((message) => onMessage(member, message))
      member.link.onExit((reason) => onExit(member, reason))
      member.link.post({
        _tag: "Init",
        settings: {
          index,
          count,
          start,
          reusePort: count > 1,
          shutdownTimeoutMs,
          connection,
          debug: prepared.cli.debug,
          logging: {
            format: prepared.config.logging.format,
            level: minimumLevel(prepared.config.logging.level, prepared.cli.debug),
            secrets: logSecrets
          },
          adminMode: admin.mode,
          usage: prepared.config.usage.enabled || prepared.config.metrics.enabled,
          metrics: prepared.config.metrics.enabled,
          control
        },
        pages: pagesFor(index),
        snapshot: snapshotMessage()
      })
      return member
    }

    /** Drains every worker (bounded), then ends their threads. */
    const shutdown = Effect.gen(function* () {
      stopping = true
      const running = live()
      for (const m of running) m.link.post({ _tag: "Drain" })
      yield* Effect.forEach(running, (m) => Effect.raceFirst(Deferred.await(m.drained), Deferred.await(m.exited)), {
        concurrency: "unbounded",
        discard: true
      }).pipe(Effect.timeoutOption(shutdownTimeoutMs + 2_000))
      for (const m of live()) m.link.terminate()
      yield* Effect.forEach(running, (m) => Deferred.await(m.exited), { discard: true }).pipe(
        Effect.timeoutOption(2_000)
      )
    })

    // ---- start ---------------------------------------------------------------------------------
    // Signals first: a stop asked for while the workers start is honoured once they have.
    port.onSignal("SIGHUP", () => run(reloadLogged("SIGHUP", "signal")))
    port.onSignal("SIGTERM", () => Deferred.doneUnsafe(stopped, Effect.succeed(0)))
    port.onSignal("SIGINT", () => Deferred.doneUnsafe(stopped, Effect.succeed(0)))
    const started = Array.from({ length: count }, (_, i) => startMember(i))
    const listening = yield* Effect.exit(
      Effect.forEach(started, (m) => Deferred.await(m.ready), { concurrency: "unbounded" })
    )
    if (Exit.isFailure(listening)) {
      yield* shutdown
      const failure = listening.cause.reasons.find(Cause.isFailReason)
      return yield* fail(`llmgate: ${failure !== undefined ? failure.error : Cause.pretty(listening.cause)}`)
    }
    const shown = banner(prepared, {
      port: listening.value[0]!,
      modelNames: current.config.modelNames,
      source: source.description
    })
    // With JSON logs the banner is one JSON line too (written as it is: a generated master key is
    // shown here, once, and nowhere else).
    yield* Console.log(
      prepared.config.logging.format === "json"
        ? JSON.stringify({
            message: "listening",
            level: "INFO",
            timestamp: new Date().toISOString(),
            banner: shown.split("\n")
          })
        : shown
    )

    // Follow the source: each signalled change is re-read; changes during a reload fold into one more.
    yield* source.changes.pipe(
      Stream.buffer({ capacity: 1, strategy: "dropping" }),
      Stream.runForEach(() => reloadLogged(`changed in ${source.description}`, "watch")),
      Effect.forkScoped
    )

    const code = yield* Deferred.await(stopped)
    yield* shutdown
    return code
  })

const failureMessage = (cause: Cause.Cause<ConfigError | StoreError>): string => {
  const failure = cause.reasons.find(Cause.isFailReason)
  return failure !== undefined ? startupMessage(failure.error) : `llmgate: failed to start\n${Cause.pretty(cause)}`
}
