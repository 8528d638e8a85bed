/**
 * A Prometheus text exposition read with a real parser (parse-prometheus-text-format), and the
 * lookups the metrics tests make: a series' value by name and labels (0 when the series is absent,
 * as Prometheus treats a counter not yet created), a histogram's count and sum.
 *
 * The parser folds a histogram's series into one and drops their labels, so the text is read twice:
 * as it is (every line checked, each family's TYPE and HELP), and without its TYPE lines, where each
 * sample name (`x_bucket`, `x_sum`, `x_count`) keeps its own labels.
 */
import parse, { type PromFamily, type PromSample } from "parse-prometheus-text-format"

export interface Exposition {
  readonly families: ReadonlyMap<string, PromFamily>
  /** Every sample of the sample name `name` (a histogram's `x_count`, not `x`). */
  readonly samples: (name: string) => ReadonlyArray<PromSample>
  /** A counter's or gauge's value (exactly one series must match `labels`); 0 when none does. */
  readonly value: (name: string, labels?: Readonly<Record<string, string>>) => number
  /** A histogram's observation count; 0 when no series matches. */
  readonly count: (name: string, labels?: Readonly<Record<string, string>>) => number
  readonly sum: (name: string, labels?: Readonly<Record<string, string>>) => number
}

const matches = (sample: PromSample, labels: Readonly<Record<string, string>>): boolean =>
  Object.entries(labels).every(([k, v]) => sample.labels?.[k] === v)

export const readExposition = (text: string): Exposition => {
  const families = new Map(parse(text).map((f) => [f.name, f]))
  const bySample = new Map<string, Array<PromSample>>()
  const untyped = text
    .split("\n")
    .filter((line) => !line.startsWith("# TYPE "))
    .join("\n")
  for (const f of parse(untyped)) bySample.set(f.name, [...(bySample.get(f.name) ?? []), ...f.metrics])
  const samples = (name: string) => bySample.get(name) ?? []
  const value = (name: string, labels: Readonly<Record<string, string>> = {}) => {
    const found = samples(name).filter((s) => matches(s, labels))
    if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} series match`)
    return Number(found[0]?.value ?? 0)
  }
  return {
    families,
    samples,
    value,
    count: (name, labels) => value(`${name}_count`, labels),
    sum: (name, labels) => value(`${name}_sum`, labels)
  }
}
