// The observability stack (docker/compose.stack.yaml) as files, since nothing here runs Docker: the
// YAML and JSON parse, every file a service mounts exists, the gateway sends OTLP to the collector's
// HTTP receiver, the collector routes traces to a service of the compose file, Prometheus scrapes
// the gateway's metrics path, Grafana's data sources are services of the file, and the dashboard's
// queries are Prometheus queries of that data source. (That each query names a metric the gateway
// exports is checked against a live /metrics in test/contract/metrics.contract.test.ts.)
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"

const DOCKER = join(import.meta.dirname, "../../../docker")
// Compose files use YAML merge keys (`<<: *gateway`).
const read = (file: string): unknown => parse(readFileSync(join(DOCKER, file), "utf8"), { merge: true })

interface Service {
  readonly image?: string
  readonly build?: { readonly context: string; readonly dockerfile: string }
  readonly command?: ReadonlyArray<string>
  readonly environment?: Readonly<Record<string, string>>
  readonly volumes?: ReadonlyArray<string>
  readonly ports?: ReadonlyArray<string>
  readonly depends_on?: ReadonlyArray<string> | Readonly<Record<string, { readonly condition: string }>>
}
const compose = read("compose.stack.yaml") as { services: Record<string, Service>; volumes: Record<string, unknown> }
const services = compose.services
/** host:port → the service of that name exposing (inside the network) that port. */
const hostOf = (address: string): string => new URL(address.includes("://") ? address : `tcp://${address}`).hostname

describe("docker/compose.stack.yaml", () => {
  it("has the gateway, Postgres, Redis, the collector, Tempo, Prometheus and Grafana", () => {
    expect(Object.keys(services).sort()).toEqual(
      ["grafana", "llmgate", "llmgate-import", "otel-collector", "postgres", "prometheus", "redis", "tempo"].sort()
    )
  })

  it("every file a service mounts exists; every named volume is declared; dependencies are services", () => {
    for (const [name, s] of Object.entries(services)) {
      for (const volume of s.volumes ?? []) {
        const [source] = volume.split(":")
        if (source!.startsWith("./")) expect(existsSync(join(DOCKER, source!)), `${name}: ${source}`).toBe(true)
        else expect(Object.keys(compose.volumes), `${name}: ${source}`).toContain(source)
      }
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {})
      for (const dep of deps) expect(Object.keys(services), `${name} depends on ${dep}`).toContain(dep)
      if (s.build !== undefined) expect(existsSync(join(DOCKER, s.build.context, s.build.dockerfile))).toBe(true)
    }
  })

  it("the gateway runs in Postgres mode with Redis, and sends OTLP to the collector's HTTP receiver", () => {
    const env = services["llmgate"]!.environment!
    expect(hostOf(env["DATABASE_URL"]!)).toBe("postgres")
    expect(hostOf(env["REDIS_URL"]!)).toBe("redis")
    const otlp = new URL(env["OTEL_EXPORTER_OTLP_ENDPOINT"]!)
    expect(otlp.hostname).toBe("otel-collector")
    const collector = read("stack/otel-collector.yaml") as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } }
      exporters: Record<string, { endpoint?: string }>
      service: { pipelines: { traces: { receivers: Array<string>; exporters: Array<string> } } }
    }
    expect(collector.receivers.otlp.protocols.http.endpoint).toBe(`0.0.0.0:${otlp.port}`)
    expect(collector.service.pipelines.traces.receivers).toContain("otlp")
    // Traces leave the collector for a service of this file (and its receiver listens there).
    const exporters = collector.service.pipelines.traces.exporters.map((e) => collector.exporters[e])
    const remote = exporters.filter((e) => e?.endpoint !== undefined)
    expect(remote.length).toBeGreaterThan(0)
    for (const e of remote) expect(Object.keys(services)).toContain(hostOf(e!.endpoint!))
    const tempo = read("stack/tempo.yaml") as {
      distributor: { receivers: { otlp: { protocols: { grpc: { endpoint: string } } } } }
      server: { http_listen_port: number }
    }
    const tempoExporter = remote.find((e) => hostOf(e!.endpoint!) === "tempo")
    expect(tempoExporter?.endpoint).toBe(
      `tempo:${tempo.distributor.receivers.otlp.protocols.grpc.endpoint.split(":").at(-1)}`
    )
  })

  it("Prometheus scrapes the gateway's /metrics; Grafana's data sources are the file's Prometheus and Tempo", () => {
    const prometheus = read("stack/prometheus.yml") as {
      scrape_configs: Array<{ metrics_path: string; static_configs: Array<{ targets: Array<string> }> }>
    }
    const gateway = read("stack/gateway.yaml") as { server: { port: number } }
    const job = prometheus.scrape_configs[0]!
    expect(job.metrics_path).toBe("/metrics")
    expect(job.static_configs[0]!.targets).toEqual([`llmgate:${gateway.server.port}`])
    const datasources = (
      read("stack/grafana/provisioning/datasources/datasources.yaml") as {
        datasources: Array<{ uid: string; type: string; url: string }>
      }
    ).datasources
    expect(datasources.map((d) => [d.uid, d.type, hostOf(d.url)])).toEqual([
      ["prometheus", "prometheus", "prometheus"],
      ["tempo", "tempo", "tempo"]
    ])
    const tempo = read("stack/tempo.yaml") as { server: { http_listen_port: number } }
    expect(new URL(datasources[1]!.url).port).toBe(String(tempo.server.http_listen_port))
  })

  it("the dashboard is provisioned from the mounted folder, and every panel queries the Prometheus data source", () => {
    const provider = (
      read("stack/grafana/provisioning/dashboards/dashboards.yaml") as {
        providers: Array<{ options: { path: string } }>
      }
    ).providers[0]!
    const mount = services["grafana"]!.volumes!.find((v) => v.startsWith("./stack/grafana/dashboards:"))
    expect(mount?.split(":")[1]).toBe(provider.options.path)
    const dashboard = JSON.parse(readFileSync(join(DOCKER, "stack/grafana/dashboards/llmgate.json"), "utf8")) as {
      panels: Array<{ title: string; datasource: { uid: string }; targets: Array<{ expr: string }> }>
    }
    expect(dashboard.panels.length).toBeGreaterThan(10)
    for (const p of dashboard.panels) {
      expect(p.datasource.uid, p.title).toBe("prometheus")
      expect(p.targets.length, p.title).toBeGreaterThan(0)
    }
  })
})
