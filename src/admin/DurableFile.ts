/**
 * A config file written durably, for FileAdminStore: an exclusive lock across processes
 * (`<file>.lock`), and a write that either lands whole, with its audit line, or not at all.
 *
 * Durable writes, in this order, all under the lock:
 *  1. the new text to `<file>.tmp-<random>` (the file's mode kept), fsync;
 *  2. the journal `<file>.journal` (the new text's SHA-256 and its audit line), fsync, fsync of the
 *     directory;
 *  3. a check that the lock is still this writer's; rename of the temp file over the file; fsync of
 *     the directory;
 *  4. the audit line appended to `<file>.audit.jsonl`, fsync; the journal removed.
 * A failure or crash before the rename leaves the file as it was and writes no audit line (a failure
 * answers 503 naming the problem, e.g. a full disk). After the rename the file is the new one and
 * the journal holds its audit line: every locked operation starts by completing a journal left
 * behind (appending the line unless the audit log already ends with it, when the file is the one the
 * journal names; discarding it otherwise). So the audit log has exactly one line per write that
 * landed, once the next write has run; until then `<file>.journal` shows that a line is pending.
 *
 * The lock is created exclusively (`wx`) and names its holder (a random token, and its process id
 * and host where the runtime tells them). It is stale when its holder's process is gone (same host)
 * or it is older than `lockStaleMs`. Only the one process that first hard-links a lock to
 * `<file>.lock.stale-<its identity>` may remove it (the link fails when that name exists, so two
 * takers cannot both win, and a lock created meanwhile has another identity and is left alone); a
 * holder releases its own lock the same way. A holder that stalled past `lockStaleMs` finds its lock
 * gone at step 3 and fails without writing.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import type { PlatformError } from "effect/PlatformError"
import { isObject } from "effect/Predicate"
import { randomBase62 } from "../auth/KeyMaterial.ts"
import { sha256Hex } from "../crypto/Sha256.ts"
import { gatewayError, type GatewayError } from "../domain/GatewayError.ts"

/** What the runtime tells about processes, so a lock whose holder died is taken over at once. */
export interface ProcessInfo {
  /** This process's id, written into the lock. */
  readonly pid: number
  /** This machine's name: process ids are compared only between locks of one host. */
  readonly host: string
  /** Whether a process with this id runs on this host. */
  readonly alive: (pid: number) => boolean
}

export interface DurableFileOptions {
  /** The file. */
  readonly path: string
  /** Timestamps written into the lock (lock ages use the Clock). */
  readonly now: () => number
  /** A lock file older than this is a crashed or stalled writer's and is taken over (default 10 s). */
  readonly lockStaleMs?: number | undefined
  /** How long a write waits for the lock (default 15 s). */
  readonly lockTimeoutMs?: number | undefined
  /** This process, when the runtime can tell: a lock whose holder is gone is then stale at once. */
  readonly process?: ProcessInfo | undefined
}

/** Error codes a write may meet, in words. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exhausted",
  EFBIG: "the file is too large for the file system",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EIO: "an input/output error",
  EMFILE: "too many open files",
  ENFILE: "too many open files"
}

const errnoOf = (e: PlatformError): string | undefined => {
  const cause = e.reason.cause
  return cause !== null && typeof cause === "object" && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined
}

/** A file system failure in words: `no space left on the device (ENOSPC)`. */
export const describeFsError = (e: PlatformError): string => {
  const code = errnoOf(e)
  const known = code === undefined ? undefined : ERRNO_TEXT[code]
  return known === undefined ? e.message : `${known} (${code})`
}

/** Whether `e` says the platform cannot fsync a directory (Windows, some file systems): nothing to do there. */
const cannotSyncDirectory = (e: PlatformError): boolean => {
  const code = errnoOf(e)
  return (
    e.reason._tag === "BadResource" ||
    e.reason._tag === "PermissionDenied" ||
    code === "EINVAL" ||
    code === "ENOTSUP" ||
    code === "EISDIR"
  )
}

/** `/a/b/c.yaml` → [`/a/b`, `c.yaml`] (either separator; a bare name is in `.`). */
const splitPath = (path: string): readonly [string, string] => {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"))
  return i < 0 ? [".", path] : [i === 0 ? path.slice(0, 1) : path.slice(0, i), path.slice(i + 1)]
}

/** The lock as this writer holds it. */
interface Held {
  /** Identity of the lock file (its inode and content), for the fence and the release. */
  readonly id: string
}

/** A lock file as seen by `inspect`. */
interface Seen {
  readonly id: string
  readonly text: string
  readonly mtimeMs: number | undefined
}

/** What a journal holds: the SHA-256 of the text being written and its audit line. */
interface Journal {
  readonly sha256: string
  readonly audit: string
}

const parseJournal = (text: string): Journal | undefined => {
  try {
    const value: unknown = JSON.parse(text)
    return isObject(value) && typeof value["sha256"] === "string" && typeof value["audit"] === "string"
      ? { sha256: value["sha256"], audit: value["audit"] }
      : undefined
  } catch {
    return undefined
  }
}

const holderOf = (text: string): { readonly pid: unknown; readonly host: unknown } | undefined => {
  try {
    const value: unknown = JSON.parse(text)
    return isObject(value) ? { pid: value["pid"], host: value["host"] } : undefined
  } catch {
    return undefined
  }
}

const encoder = new TextEncoder()

export interface DurableFile {
  /** The file's text now (503 when it cannot be read). */
  readonly readText: Effect.Effect<string, GatewayError>
  /** Runs `body` holding the lock, after completing what an interrupted write left (uninterruptible). */
  readonly locked: <A>(body: (held: Held) => Effect.Effect<A, GatewayError>) => Effect.Effect<A, GatewayError>
  /** Replaces the file with `nextText` and appends `auditLine` to the audit log, durably (steps 1 to 4). */
  readonly commit: (held: Held, nextText: string, auditLine: string) => Effect.Effect<void, GatewayError>
  /** Appends a line to the audit log (under the lock); a failure is logged, not raised. */
  readonly appendAudit: (line: string) => Effect.Effect<void>
}

export const make = (fs: FileSystem.FileSystem, options: DurableFileOptions): DurableFile => {
  const { path, now } = options
  const [dir, base] = splitPath(path)
  const lockPath = `${path}.lock`
  const auditPath = `${path}.audit.jsonl`
  const journalPath = `${path}.journal`
  const lockStaleMs = options.lockStaleMs ?? 10_000
  const lockTimeoutMs = options.lockTimeoutMs ?? 15_000

  /** 503 naming the problem: `The config file could not be written: no space left on the device (ENOSPC) at …`. */
  const failed =
    (what: string, target: string, after = "") =>
    (e: PlatformError): GatewayError =>
      gatewayError({
        _tag: "Unavailable",
        message: `The config file could not ${what}: ${describeFsError(e)} at ${target}.${after}`
      })
  const unchanged = " Nothing was changed; the running config stays as it was."

  const readText = fs.readFileString(path).pipe(Effect.mapError(failed("be read", path)))

  // ---- durable file operations ---------------------------------------------------------------

  /** Writes `data` to a new file (never over one: `wx`) and fsyncs it. */
  const writeSynced = (target: string, data: string, mode?: number) =>
    Effect.scoped(
      Effect.gen(function* () {
        const file = yield* fs.open(target, { flag: "wx", ...(mode === undefined ? {} : { mode }) })
        yield* file.writeAll(encoder.encode(data))
        yield* file.sync
      })
    )

  /** Appends `data` to a file (created when missing) and fsyncs it. */
  const appendSynced = (target: string, data: string) =>
    Effect.scoped(
      Effect.gen(function* () {
        const file = yield* fs.open(target, { flag: "a" })
        yield* file.writeAll(encoder.encode(data))
        yield* file.sync
      })
    )

  /** fsyncs the file's directory, so a new name or a rename in it survives a power loss (a no-op where the platform cannot). */
  const syncDirectory = Effect.scoped(
    Effect.gen(function* () {
      const handle = yield* fs.open(dir, { flag: "r" })
      yield* handle.sync
    })
  ).pipe(Effect.catch((e) => (cannotSyncDirectory(e) ? Effect.void : Effect.fail(e))))

  const readOptional = (target: string) =>
    fs.readFileString(target).pipe(
      Effect.map(Option.some),
      Effect.catch((e) => (e.reason._tag === "NotFound" ? Effect.succeed(Option.none<string>()) : Effect.fail(e)))
    )

  // ---- the lock ------------------------------------------------------------------------------

  const identityOf = (ino: Option.Option<bigint>, text: string): string =>
    sha256Hex(`${Option.getOrElse(Option.map(ino, String), () => "")}:${text}`).slice(0, 16)

  /** The lock file at `target` now (its identity, content, age), or none. */
  const inspect = (target: string): Effect.Effect<Option.Option<Seen>, PlatformError> =>
    Effect.gen(function* () {
      const info = yield* fs.stat(target)
      const text = yield* fs.readFileString(target)
      return Option.some({
        id: identityOf(info.ino, text),
        text,
        mtimeMs: Option.getOrUndefined(Option.map(info.mtime, (d) => d.getTime()))
      })
    }).pipe(Effect.catch((e) => (e.reason._tag === "NotFound" ? Effect.succeed(Option.none<Seen>()) : Effect.fail(e))))

  /** Creates the lock (exclusively) with this writer's token: its identity, or none when a lock exists. */
  const createLock: Effect.Effect<Option.Option<string>, PlatformError> = Effect.gen(function* () {
    const text = JSON.stringify({
      token: randomBase62(16),
      ...(options.process === undefined ? {} : { pid: options.process.pid, host: options.process.host }),
      at: new Date(now()).toISOString()
    })
    const created = yield* Effect.scoped(
      Effect.gen(function* () {
        const file = yield* fs.open(lockPath, { flag: "wx" })
        // From here the lock is this writer's: when its content cannot be written (a full disk), it is removed again.
        yield* file.writeAll(encoder.encode(text)).pipe(Effect.tapError(() => Effect.ignore(fs.remove(lockPath))))
      })
    ).pipe(
      Effect.as(true),
      Effect.catch((e) => (e.reason._tag === "AlreadyExists" ? Effect.succeed(false) : Effect.fail(e)))
    )
    // Its identity as everyone else sees it (no one else removes a lock this fresh).
    return created ? Option.map(yield* inspect(lockPath), (seen) => seen.id) : Option.none()
  })

  const claimOf = (id: string) => `${lockPath}.stale-${id}`

  /**
   * Removes the lock if it is still the one with identity `id`. Only the process that links it to
   * `claimOf(id)` first may: `claimed` when another holds that name; `gone` when the lock is
   * another one (or none) by now.
   */
  const removeLock = (id: string): Effect.Effect<"removed" | "claimed" | "gone", PlatformError> =>
    Effect.gen(function* () {
      const claim = claimOf(id)
      const linked = yield* fs.link(lockPath, claim).pipe(
        Effect.as("linked" as const),
        Effect.catch((e) =>
          e.reason._tag === "AlreadyExists"
            ? Effect.succeed("claimed" as const)
            : e.reason._tag === "NotFound"
              ? Effect.succeed("gone" as const)
              : // No hard links here (some network and FAT file systems): no claim to take, so the check
                // and the removal below are as close as this file system allows.
                Effect.succeed("unlinkable" as const)
        )
      )
      if (linked === "unlinkable") {
        const same = Option.exists(yield* inspect(lockPath), (seen) => seen.id === id)
        if (same) yield* Effect.ignore(fs.remove(lockPath))
        return same ? "removed" : "gone"
      }
      if (linked !== "linked") return linked
      const same = Option.exists(yield* inspect(claim), (seen) => seen.id === id)
      // The claim keeps the lock from being removed by anyone else, so the lock is still this one here.
      if (same) yield* Effect.ignore(fs.remove(lockPath))
      yield* Effect.ignore(fs.remove(claim))
      return same ? "removed" : "gone"
    })

  /** Why a lock is stale (its holder is gone, or it is too old), or undefined. */
  const staleness = (seen: Seen, nowMs: number): string | undefined => {
    const holder = holderOf(seen.text)
    const self = options.process
    if (
      self !== undefined &&
      holder !== undefined &&
      typeof holder.pid === "number" &&
      holder.host === self.host &&
      !self.alive(holder.pid)
    )
      return `its holder, process ${holder.pid}, is gone`
    if (seen.mtimeMs !== undefined && nowMs - seen.mtimeMs > lockStaleMs) return `it is older than ${lockStaleMs} ms`
    return undefined
  }

  const lockBusy = gatewayError({
    _tag: "Unavailable",
    message: `The config file is being written by another process (lock ${lockPath}); retry in a moment, or remove the lock file if no llmgate is writing.`
  })

  /** Takes `<file>.lock`; takes over a stale one; gives up after `lockTimeoutMs`. */
  const acquireLock: Effect.Effect<Held, GatewayError> = Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    /** When each claim this writer found in its way was first seen (a taker that crashed leaves its claim). */
    const claims = new Map<string, number>()
    for (;;) {
      const created = yield* createLock
      if (Option.isSome(created)) return { id: created.value }
      const seen = yield* inspect(lockPath)
      if (Option.isNone(seen)) continue
      const t = yield* Clock.currentTimeMillis
      const why = staleness(seen.value, t)
      if (why !== undefined) {
        const removed = yield* removeLock(seen.value.id)
        if (removed === "removed") {
          yield* Effect.logWarning(`took over the stale config lock ${lockPath}: ${why}`)
          continue
        }
        if (removed === "gone") continue
        const first = claims.get(seen.value.id) ?? t
        claims.set(seen.value.id, first)
        if (t - first > lockStaleMs) {
          yield* Effect.logWarning(
            `removing ${claimOf(seen.value.id)}, left by a process that crashed taking over the config lock`
          )
          yield* Effect.ignore(fs.remove(claimOf(seen.value.id)))
          claims.delete(seen.value.id)
          continue
        }
      }
      if (t - start > lockTimeoutMs) return yield* Effect.fail(lockBusy)
      yield* Effect.sleep(`${10 + Math.floor(Math.random() * 20)} millis`)
    }
  }).pipe(
    Effect.catchIf(
      (e): e is PlatformError => e._tag === "PlatformError",
      (e) => Effect.fail(failed("be locked", lockPath, unchanged)(e))
    )
  )

  const releaseLock = (held: Held) =>
    removeLock(held.id).pipe(
      Effect.flatMap((r) =>
        r === "removed"
          ? Effect.void
          : Effect.logWarning(`the config lock ${lockPath} was taken over while this write held it`)
      ),
      Effect.catch((e) => Effect.logWarning(`cannot remove the config lock ${lockPath}: ${describeFsError(e)}`))
    )

  /** Fails unless the lock is still `held` (a writer that stalled past `lockStaleMs` may have lost it). */
  const fence = (held: Held) =>
    inspect(lockPath).pipe(
      Effect.mapError(failed("be locked", lockPath, unchanged)),
      Effect.flatMap((seen) =>
        Option.exists(seen, (s) => s.id === held.id)
          ? Effect.void
          : Effect.fail(
              gatewayError({
                _tag: "Unavailable",
                message: `This write held the config lock ${lockPath} for longer than ${lockStaleMs} ms and another writer took it over.${unchanged} Retry.`
              })
            )
      )
    )

  /**
   * Completes what a crashed or failed write left: a journal whose text is the file's gets its
   * audit line appended (unless the audit log already ends with it); any other is discarded. Temp
   * files and claims of earlier locks go too: no one else writes them while the lock is held.
   */
  const recover = (held: Held): Effect.Effect<void, GatewayError> =>
    Effect.gen(function* () {
      const text = yield* readOptional(journalPath)
      if (Option.isSome(text)) {
        const journal = parseJournal(text.value)
        const current = yield* fs.readFileString(path)
        if (journal !== undefined && sha256Hex(current) === journal.sha256) {
          const audit = Option.getOrElse(yield* readOptional(auditPath), () => "")
          if (!audit.endsWith(`${journal.audit}\n`)) {
            yield* appendSynced(auditPath, `${audit === "" || audit.endsWith("\n") ? "" : "\n"}${journal.audit}\n`)
            yield* Effect.logWarning(
              `appended the audit line of a config write that was interrupted after it landed (${journalPath})`
            )
          }
        }
        yield* fs.remove(journalPath)
      }
      const ownClaim = claimOf(held.id)
      // Tidying only: a directory that cannot be listed does not stop the write.
      const names = yield* Effect.orElseSucceed(fs.readDirectory(dir), () => [])
      for (const name of names) {
        const file = dir === "." ? name : dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`
        if (name.startsWith(`${base}.tmp-`) || (name.startsWith(`${base}.lock.stale-`) && file !== ownClaim))
          yield* Effect.ignore(fs.remove(file))
      }
    }).pipe(Effect.mapError(failed("be recovered from an interrupted write", journalPath, unchanged)))

  /** Runs `body` holding the lock (uninterruptible: a write is never left half done by an interruption). */
  const locked = <A>(body: (held: Held) => Effect.Effect<A, GatewayError>): Effect.Effect<A, GatewayError> =>
    Effect.uninterruptible(
      Effect.acquireUseRelease(acquireLock, (held) => Effect.andThen(recover(held), body(held)), releaseLock)
    )

  /** Steps 1 to 4 of a durable write (module comment). */
  const commit = (held: Held, nextText: string, auditLine: string): Effect.Effect<void, GatewayError> => {
    const temp = `${path}.tmp-${randomBase62(10)}`
    const journal = JSON.stringify({ sha256: sha256Hex(nextText), audit: auditLine } satisfies Journal)
    const landed = Effect.gen(function* () {
      const mode = yield* Effect.option(Effect.map(fs.stat(path), (i) => i.mode & 0o777))
      yield* writeSynced(temp, nextText, Option.getOrUndefined(mode)).pipe(
        Effect.mapError(failed("be written", temp, unchanged))
      )
      yield* writeSynced(journalPath, journal).pipe(Effect.mapError(failed("be written", journalPath, unchanged)))
      yield* syncDirectory.pipe(Effect.mapError(failed("be written", dir, unchanged)))
      yield* fence(held)
      yield* fs.rename(temp, path).pipe(Effect.mapError(failed("be written", path, unchanged)))
    }).pipe(
      Effect.tapError(() => Effect.andThen(Effect.ignore(fs.remove(temp)), Effect.ignore(fs.remove(journalPath))))
    )
    // The file is the new one from here: what fails now is logged, and the journal keeps the audit line for the next write.
    const audited = Effect.gen(function* () {
      yield* syncDirectory
      yield* appendSynced(auditPath, `${auditLine}\n`)
      yield* fs.remove(journalPath)
    }).pipe(
      Effect.catch((e) =>
        Effect.logWarning(
          `the config file was written, but finishing it failed (${describeFsError(e)}); its audit line stays in ${journalPath} until the next write appends it`
        )
      )
    )
    return Effect.andThen(landed, audited)
  }

  const appendAudit = (line: string) =>
    appendSynced(auditPath, `${line}\n`).pipe(
      Effect.catch((e) => Effect.logWarning(`cannot append to the audit file ${auditPath}: ${describeFsError(e)}`))
    )

  return { readText, locked, commit, appendAudit }
}
