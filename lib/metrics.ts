/**
 * GET /metrics (Prometheus text): this process's own metrics — the Node runtime's (prom-client's default
 * collectors: process_*, nodejs_*), the build, the database's reachability and the alarms by severity
 * (read from the database at scrape time) — followed by its controller's (lib/controller/metrics.ts, from
 * the controller's thread over the channel). Served by app/metrics/route.ts to a viewer's API token, and by
 * server.ts on METRICS_LISTEN without authentication. docs/metrics.md lists every series.
 */
import { Gauge, Registry } from "prom-client";
import { collectRuntimeMetrics } from "@/lib/runtime-metrics";
import pkg from "@/package.json" with { type: "json" };
import { localControllerMetrics } from "@/lib/controller/client";
import { alarmCounts } from "@/lib/queries/alarms";

const SEVERITIES = ["critical", "major", "minor", "warning"] as const;

interface Panel {
  registry: Registry;
  /** Reads the alarms (one query) into their gauges; the database's reachability into switchyard_database_up. */
  refresh(): Promise<void>;
}

let panel: Panel | null = null;

function build(): Panel {
  const r = new Registry();
  collectRuntimeMetrics(r);
  new Gauge({
    name: "switchyard_build_info",
    help: "The panel's version (value 1)",
    labelNames: ["version"],
    registers: [r],
    collect() {
      this.set({ version: pkg.version }, 1);
    },
  });
  const up = new Gauge({ name: "switchyard_database_up", help: "1 when the panel's database answered this scrape's alarm query, else 0", registers: [r] });
  const active = new Gauge({ name: "switchyard_alarms_active", help: "Alarms whose condition is present, by severity", labelNames: ["severity"], registers: [r] });
  const waiting = new Gauge({
    name: "switchyard_alarms_unacknowledged",
    help: "Alarms waiting for a person, by severity: present and not acknowledged, or critical/major cleared and not acknowledged",
    labelNames: ["severity"],
    registers: [r],
  });
  return {
    registry: r,
    async refresh() {
      try {
        const rows = await alarmCounts();
        for (const s of SEVERITIES) {
          const row = rows.find((x) => x.severity === s);
          active.set({ severity: s }, row?.active ?? 0);
          waiting.set({ severity: s }, row?.unacknowledged ?? 0);
        }
        up.set(1);
      } catch {
        up.set(0); // the alarm gauges keep their last values; failover does not depend on the database
      }
    },
  };
}

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** This process's metrics and its controller's, as one exposition. */
export async function metricsText(): Promise<string> {
  panel ??= build();
  const [, controller] = await Promise.all([panel.refresh(), localControllerMetrics().catch(() => null)]);
  const own = await panel.registry.metrics();
  return controller ? `${own.trimEnd()}\n${controller}` : own;
}
