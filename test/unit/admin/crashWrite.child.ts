// The child process of FileAdminStore.durable.test.ts: one admin write (a project named "Crash") on
// the config file at argv[2], through a FileSystem that SIGKILLs this process just before its Nth
// change to the disk (N from LLMGATE_TEST_CRASH_AT; the test-only fault layer reads it, the store
// does not). Prints each change to stderr as it happens, and `{"changes":n}` when the write ends.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import { writeSync } from "node:fs"
import process from "node:process"
import * as FileAdminStore from "../../../src/admin/FileAdminStore.ts"
import { withHook } from "../../support/faultFileSystem.ts"

const path = process.argv[2] ?? ""
const crashAt = Number(process.env["LLMGATE_TEST_CRASH_AT"] ?? "0")
let changes = 0

const program = Effect.gen(function* () {
  const fs = withHook(yield* FileSystem.FileSystem, (change) =>
    Effect.sync(() => {
      changes++
      writeSync(2, `${changes} ${change.op} ${change.path}\n`)
      if (changes === crashAt) process.kill(process.pid, "SIGKILL")
    })
  )
  const store = FileAdminStore.make(fs, {
    path,
    env: {},
    reload: Effect.void,
    process: { pid: process.pid, host: "crash-test", alive: () => true }
  })
  yield* store.create("projects", { name: "Crash" }, { id: "master" })
})

await Effect.runPromise(program.pipe(Effect.provide(NodeFileSystem.layer)))
writeSync(1, JSON.stringify({ changes }))
