/**
 * The dashboard and the alert rules in deploy/ name only series the panel exposes (a typo in a query is an
 * empty panel or an alert that never fires). The controller's series come from its registry, the web
 * side's from lib/metrics.ts; histograms add _bucket, _sum and _count.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ControllerMetrics } from "@/lib/controller/metrics";

const WEB = ["switchyard_build_info", "switchyard_database_up", "switchyard_alarms_active", "switchyard_alarms_unacknowledged"];

function exposed(): Set<string> {
  const m = new ControllerMetrics();
  const names = new Set(WEB);
  for (const metric of m.registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    names.add(name);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
  }
  m.close();
  return names;
}
const used = (text: string) => new Set([...text.matchAll(/\bswitchyard_[a-z_]+/g)].map((x) => x[0]));

describe("deploy/", () => {
  it("the Grafana dashboard queries only exposed series", () => {
    const dash = JSON.parse(readFileSync("deploy/grafana/switchyard.json", "utf8")) as { panels: { targets: { expr: string }[] }[] };
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr)).join("\n");
    const names = exposed();
    expect([...used(exprs)].filter((n) => !names.has(n))).toEqual([]);
    expect(used(exprs).size).toBeGreaterThan(8);
  });

  it("the alert rules use only exposed series", () => {
    const names = exposed();
    const rules = readFileSync("deploy/prometheus/alerts.yml", "utf8");
    expect([...used(rules)].filter((n) => !names.has(n) && !/^switchyard_[A-Z]/.test(n))).toEqual([]);
  });

  it("docs/metrics.md lists every series the controller exposes", () => {
    const doc = readFileSync("docs/metrics.md", "utf8");
    const m = new ControllerMetrics();
    const missing = m.registry.getMetricsAsArray().map((x) => (x as unknown as { name: string }).name).filter((n) => !doc.includes(`\`${n}\``));
    m.close();
    expect(missing).toEqual([]);
  });
});
