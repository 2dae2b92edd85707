/**
 * The Node runtime's metrics (prom-client's default collectors) for a registry of our own: the panel's
 * (lib/metrics.ts) and the agent's (agent/metrics.ts). prom-client names three of its gauges *_total,
 * which Prometheus reserves for counters (promtool check metrics refuses them); their per-type siblings
 * (nodejs_active_handles …) carry the same numbers, so those three are left out.
 */
import { collectDefaultMetrics, type Registry } from "prom-client";

const MISNAMED = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

export function collectRuntimeMetrics(registry: Registry) {
  collectDefaultMetrics({ register: registry });
  for (const n of MISNAMED) registry.removeSingleMetric(n);
}
