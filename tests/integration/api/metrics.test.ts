/**
 * Prometheus metrics (issue 11): GET /metrics on the panel's port to a viewer's API token, and without a
 * token on METRICS_LISTEN; the exposition passes `promtool check metrics` (Debian's prometheus package);
 * the series follow what happens: the leader, each server's role, the VIP holder, the agent links, an
 * operation's counter and histograms, the alarms. The example alert rules and scrape config pass promtool.
 * A real server (its controller in its thread) with real agents and simulated SIP Servers.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../agent/helpers";
import { startLabPair, type LabPair } from "../controller/lab";
import { ensureNextBuild, startServer, type StartedServer } from "../helpers/server";
import { resetDatabase } from "../helpers/db";

const PROMTOOL = spawnSync("promtool", ["--version"]).status === 0;
let srv: StartedServer;
let lab: LabPair;
let metricsPort = 0;

beforeAll(async () => {
  ensureNextBuild();
  await resetDatabase();
  metricsPort = await freePort();
  // The run's database (the lab pair below is written there) rather than a fresh one.
  srv = await startServer({ databaseUrl: process.env.DATABASE_URL!, env: { METRICS_LISTEN: `127.0.0.1:${metricsPort}` } });
  lab = await startLabPair();
}, 240_000);

afterAll(async () => {
  await lab?.cleanup();
  await srv?.stop();
});

const scrape = async () => {
  const r = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${srv.adminToken}` } });
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.text();
};
/** The value of one series, or null. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_:]+)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[3] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[4]);
  }
  return null;
}
async function until(what: string, pred: (text: string) => boolean, ms = 20_000): Promise<string> {
  const end = Date.now() + ms;
  let text = "";
  while (Date.now() < end) {
    text = await scrape();
    if (pred(text)) return text;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not seen in the metrics within ${ms} ms; last scrape:\n${text.split("\n").filter((l) => l.startsWith("switchyard_")).join("\n")}`);
}

describe("metrics", () => {
  it("follow the pair through a switchover: roles, VIP holder, agent links, the operation's counter and histograms", async () => {
    const [h1, h2] = lab.hosts.map((h) => h.name);
    const before = await until("the pair healthy with sip-1 primary", (t) => value(t, "switchyard_pair_status", { pair: lab.name, status: "healthy" }) === 1 && value(t, "switchyard_server_primary", { pair: lab.name, server: "sip-1" }) === 1);
    expect(value(before, "switchyard_leader")).toBe(1);
    expect(value(before, "switchyard_controller_epoch")).toBeGreaterThan(0);
    expect(value(before, "switchyard_pair_status", { pair: lab.name, status: "not_serving" })).toBe(0);
    expect(value(before, "switchyard_vip_holders", { pair: lab.name, vip: lab.vip })).toBe(1);
    expect(value(before, "switchyard_vip_holder", { pair: lab.name, host: h1 })).toBe(1);
    expect(value(before, "switchyard_server_state", { pair: lab.name, server: "sip-2", host: h2, state: "running" })).toBe(1);
    expect(value(before, "switchyard_agent_up", { host: h1 })).toBe(1);
    expect(value(before, "switchyard_agent_rtt_seconds", { host: h2 })).toBeGreaterThanOrEqual(0);
    expect(value(before, "switchyard_database_up")).toBe(1);
    expect(value(before, "process_resident_memory_bytes")).toBeGreaterThan(0);

    const r = await fetch(`${srv.url}/api/pairs/${lab.pairId}/switchover`, { method: "POST", headers: { authorization: `Bearer ${srv.adminToken}`, "content-type": "application/json" }, body: "{}" });
    expect(r.status).toBe(202);
    const after = await until("the switchover counted", (t) => value(t, "switchyard_operations_total", { kind: "manual_switchover", result: "succeeded" }) === 1 && value(t, "switchyard_server_primary", { pair: lab.name, server: "sip-2" }) === 1);
    expect(value(after, "switchyard_vip_holder", { pair: lab.name, host: h2 })).toBe(1);
    expect(value(after, "switchyard_operation_duration_seconds_count", { kind: "manual_switchover" })).toBe(1);
    expect(value(after, "switchyard_vip_move_seconds_count", { kind: "manual_switchover" })).toBe(1);
    expect(value(after, "switchyard_vip_move_seconds_sum", { kind: "manual_switchover" })).toBeGreaterThan(0);
    expect(value(after, "switchyard_controller_event_loop_lag_seconds")).toBeGreaterThanOrEqual(0);
  });

  it("counts alarms by severity: present, and waiting for a person", async () => {
    const [a] = lab.hosts;
    await a.agent.stop("SIGKILL"); // host 1 cut off: host_disconnected (major)
    const t = await until("the alarm counted", (x) => (value(x, "switchyard_alarms_active", { severity: "major" }) ?? 0) >= 1);
    expect(value(t, "switchyard_alarms_unacknowledged", { severity: "major" })).toBeGreaterThanOrEqual(1);
    expect(value(t, "switchyard_agent_up", { host: a.name })).toBe(0);
    await lab.restartAgent(0);
  });

  it("the exposition passes promtool check metrics", async ({ skip }) => {
    if (!PROMTOOL) skip("promtool is not installed (Debian package prometheus; .ci/run installs it)");
    const text = await scrape();
    const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe("");
    expect(r.status).toBe(0);
  });

  it("is refused without a token on the panel's port; served without one on METRICS_LISTEN, and nothing else there", async () => {
    expect((await fetch(`${srv.url}/metrics`)).status).toBe(401);
    const open = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(open.status).toBe(200);
    expect(value(await open.text(), "switchyard_leader")).toBe(1);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/api/pairs`)).status).toBe(404);
  });

  it("the example alert rules and scrape configuration pass promtool", ({ skip }) => {
    if (!PROMTOOL) skip("promtool is not installed (Debian package prometheus; .ci/run installs it)");
    const rules = spawnSync("promtool", ["check", "rules", "deploy/prometheus/alerts.yml"], { encoding: "utf8" });
    expect(rules.status, rules.stdout + rules.stderr).toBe(0);
    const cfg = spawnSync("promtool", ["check", "config", "--syntax-only", "deploy/prometheus/prometheus.yml"], { encoding: "utf8" });
    expect(cfg.status, cfg.stdout + cfg.stderr).toBe(0);
  });
});
