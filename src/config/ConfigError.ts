/**
 * ConfigError: every problem found in a config, each as `path: reason`
 * (`models[1].targets[0].provider: unknown provider "x"`), reported together.
 */
import * as Schema from "effect/Schema"

export const ConfigIssue = Schema.Struct({ path: Schema.String, message: Schema.String })
export type ConfigIssue = typeof ConfigIssue.Type

export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  source: Schema.String,
  issues: Schema.Array(ConfigIssue)
}) {
  override get message(): string {
    return this.issues.map(formatIssue).join("\n")
  }
}

export const formatIssue = (issue: ConfigIssue): string =>
  issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`
