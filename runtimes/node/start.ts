/**
 * The gateway on Node (loaded by main.ts): the core's one launch path over the Node runtime port.
 * Run with `npm start -- [--config PATH] [--port N] [--workers N]`.
 */
import * as Effect from "effect/Effect"
import process from "node:process"
import { launch } from "../../src/launch.ts"
import { nodePort } from "./NodePort.ts"

export const main = async (): Promise<never> => {
  const code = await Effect.runPromise(launch(nodePort, process.argv.slice(2), process.env))
  // Once the gateway has stopped, exit: an idle upstream keep-alive socket must not keep the process alive.
  process.exit(code)
}
