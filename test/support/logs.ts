/**
 * The log lines an Effect writes, captured: provide `loggers` as `Logger.CurrentLoggers` and read
 * `logs` (each line's message parts joined by spaces).
 */
import * as Logger from "effect/Logger"

export const captureLogs = () => {
  const logs: Array<string> = []
  const logger = Logger.make(({ message }) => {
    logs.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
  })
  return { logs, loggers: new Set([logger]) }
}
