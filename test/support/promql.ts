/**
 * The metric names a PromQL query selects, read with Prometheus' own grammar (@prometheus-io/lezer-promql),
 * after Grafana's built-in range variables (`$__rate_interval`, …) are replaced by a duration. A query
 * that does not parse throws, naming the text it stumbled on.
 */
import { parser } from "@prometheus-io/lezer-promql"

const GRAFANA_RANGES = /\$__(rate_interval|interval|range)\b/g

export const metricNames = (query: string): ReadonlyArray<string> => {
  const text = query.replace(GRAFANA_RANGES, "5m")
  const names: Array<string> = []
  parser.parse(text).iterate({
    enter: (node) => {
      if (node.type.isError)
        throw new Error(`PromQL does not parse at ${node.from}: ${text.slice(node.from, node.from + 40)} (in ${text})`)
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector")
        names.push(text.slice(node.from, node.to))
    }
  })
  return names
}
