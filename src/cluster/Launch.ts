/**
 * The one launch path of every runtime: argv and the environment are prepared (cli/, startup/);
 * a subcommand or `--help` ends there with its output; otherwise this thread becomes the owner
 * (Owner.ts), starts the workers and runs until a signal stops it. Each runtime's entry supplies
 * its RuntimePort and exits with the code this answers. The owner's composition root: it needs
 * only the FileSystem the port provides (`port.fileSystem`: the config file, the migrations).
 */
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import type { Env } from "../config/interpolate.ts"
import { configSecrets, loggingContext, minimumLevel } from "../logging/Logging.ts"
import { prepare } from "../startup/Prepare.ts"
import { runOwner } from "./Owner.ts"
import type { RuntimePort } from "./RuntimePort.ts"

/** Runs the gateway (or a subcommand) to its end; answers the process's exit code. */
export const launch = (port: RuntimePort, argv: ReadonlyArray<string>, env: Env): Effect.Effect<number> =>
  prepare({ argv, env, runtime: port.runtime }).pipe(
    Effect.matchEffect({
      onFailure: (exit) =>
        Effect.as(exit.code === 0 ? Console.log(exit.output) : Console.error(exit.output), exit.code),
      onSuccess: (prepared) =>
        runOwner(port, prepared).pipe(
          Effect.scoped,
          Effect.provideContext(
            loggingContext(
              prepared.config.logging.format,
              minimumLevel(prepared.config.logging.level, prepared.cli.debug),
              configSecrets(prepared.config)
            )
          )
        )
    }),
    Effect.provide(port.fileSystem),
    Effect.catchCause((cause) => Effect.as(Console.error(`llmgate: failed\n${Cause.pretty(cause)}`), 1))
  )
