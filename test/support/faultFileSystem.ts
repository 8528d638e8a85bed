/**
 * A FileSystem for fault injection: `withHook(fs, hook)` runs `hook` before every operation that
 * changes the disk (opening a file to write, write, fsync, rename, link, remove, writing a whole file,
 * truncate, making a directory), naming it and its path. The hook may fail the operation (a full
 * disk: `enospc`) or end the process there (a crash at that step). Reads pass through untouched.
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as PlatformError from "effect/PlatformError"

export interface Change {
  /** `open`, `write`, `sync`, `rename`, `link`, `remove`, `writeFile`, `truncate`, `makeDirectory`. */
  readonly op: string
  readonly path: string
}

export type Hook = (change: Change) => Effect.Effect<void, PlatformError.PlatformError>

/** The error a full disk gives (Node's ENOSPC, as @effect/platform-node reports it). */
export const enospc = (change: Change): PlatformError.PlatformError =>
  PlatformError.systemError({
    _tag: "Unknown",
    module: "FileSystem",
    method: change.op,
    pathOrDescriptor: change.path,
    syscall: "write",
    cause: Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: "ENOSPC" })
  })

const writes = (flag: FileSystem.OpenFlag | undefined): boolean => flag !== undefined && flag !== "r"

export const withHook = (fs: FileSystem.FileSystem, hook: Hook): FileSystem.FileSystem => {
  const before = <A, E, R>(op: string, path: string, effect: Effect.Effect<A, E, R>) =>
    Effect.andThen(hook({ op, path }), effect)
  const wrapFile = (file: FileSystem.File, path: string): FileSystem.File => ({
    [FileSystem.FileTypeId]: FileSystem.FileTypeId,
    get stat() {
      return file.stat
    },
    seek: (offset, from) => file.seek(offset, from),
    get sync() {
      return before("sync", path, file.sync)
    },
    read: (buffer, options) => file.read(buffer, options),
    readAlloc: (size, options) => file.readAlloc(size, options),
    truncate: (length) => before("truncate", path, file.truncate(length)),
    write: (buffer) => before("write", path, file.write(buffer)),
    writeAll: (buffer) => before("write", path, file.writeAll(buffer))
  })
  return {
    ...fs,
    open: (path, options) =>
      Effect.map(
        writes(options?.flag) ? before("open", path, fs.open(path, options)) : fs.open(path, options),
        (file) => wrapFile(file, path)
      ),
    rename: (from, to) => before("rename", `${from} -> ${to}`, fs.rename(from, to)),
    link: (from, to) => before("link", `${from} -> ${to}`, fs.link(from, to)),
    remove: (path, options) => before("remove", path, fs.remove(path, options)),
    writeFile: (path, data, options) => before("writeFile", path, fs.writeFile(path, data, options)),
    writeFileString: (path, data, options) => before("writeFile", path, fs.writeFileString(path, data, options)),
    truncate: (path, length) => before("truncate", path, fs.truncate(path, length)),
    makeDirectory: (path, options) => before("makeDirectory", path, fs.makeDirectory(path, options))
  }
}
