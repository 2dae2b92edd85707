/**
 * The agent's GET /metrics (issue 11) on its own listener: each application's state, mode and restarts, its
 * health probes, every VIP action with its duration, the gratuitous ARPs, the controller link; the
 * exposition passes `promtool check metrics`. A real agent supervising a simulated SIP Server, driven by a
 * real controller (a failover moves its VIP), in this process.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runController, type ControllerHandle } from "@/lib/controller";
import { freePort, killGroup } from "./helpers";
import { quietLog, startLabPair, waitFor, waitHealthy, waitOperationDone, type LabPair } from "../controller/lab";

const PROMTOOL = spawnSync("promtool", ["--version"]).status === 0;
let lab: LabPair;
let controller: ControllerHandle;
const ports: number[] = [];

beforeAll(async () => {
  ports.push(await freePort(), await freePort());
  lab = await startLabPair({
    agentConfig: (i, config) => {
      (config as Record<string, unknown>).metrics = { listen: { host: "127.0.0.1", port: ports[i] } };
    },
  });
  controller = runController({ log: quietLog, databaseUrl: process.env.DATABASE_URL! });
  await waitFor("leadership", async () => controller.epoch !== null);
}, 60_000);

afterAll(async () => {
  await controller?.stop();
  await lab?.cleanup();
});

const scrape = async (i: 0 | 1) => {
  const r = await fetch(`http://127.0.0.1:${ports[i]}/metrics`);
  expect(r.status).toBe(200);
  return r.text();
};
function value(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split("\n")) {
    const m = /^([a-z_:]+)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[3] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[4]);
  }
  return null;
}

describe("agent metrics", () => {
  it("follow a failover on both hosts: state, mode, restarts, VIP actions, the controller link (the ARPs: linux-driver.test.ts)", async () => {
    const v0 = await waitHealthy(lab, 0);
    const before = await scrape(0);
    expect(value(before, "switchyard_agent_app_state", { app: "sip", state: "running" })).toBe(1);
    expect(value(before, "switchyard_agent_app_primary", { app: "sip" })).toBe(1);
    expect(value(before, "switchyard_agent_vip_enabled", { vip: "vip", address: lab.vip })).toBe(1);
    expect(value(before, "switchyard_agent_controller_connected")).toBe(1);
    expect(value(before, "switchyard_agent_epoch")).toBe(controller.epoch);

    killGroup(v0.servers[0].pid, "SIGKILL");
    await waitOperationDone(lab.pairId, "failover");
    await waitHealthy(lab, 1);
    const h1 = await waitFor("host 1 counted its restart", async () => {
      const t = await scrape(0);
      return value(t, "switchyard_agent_app_restarts_total", { app: "sip" }) === 1 ? t : null;
    });
    expect(value(h1, "switchyard_agent_app_primary", { app: "sip" })).toBe(0);
    expect(value(h1, "switchyard_agent_vip_enabled", { vip: "vip", address: lab.vip })).toBe(0);
    expect(value(h1, "switchyard_agent_vip_actions_total", { vip: "vip", action: "disable", result: "ok" })).toBeGreaterThanOrEqual(1);
    const h2 = await scrape(1);
    expect(value(h2, "switchyard_agent_vip_actions_total", { vip: "vip", action: "enable", result: "ok" })).toBeGreaterThanOrEqual(1);
    expect(value(h2, "switchyard_agent_vip_action_duration_seconds_count", { vip: "vip", action: "enable" })).toBeGreaterThanOrEqual(1);
    expect(value(h2, "switchyard_agent_app_primary", { app: "sip" })).toBe(1);
    expect(value(h2, "switchyard_agent_app_restarts_total", { app: "sip" })).toBe(0);
  });

  it("the exposition passes promtool check metrics; nothing but /metrics on that listener", async ({ skip }) => {
    expect((await fetch(`http://127.0.0.1:${ports[0]}/`)).status).toBe(404);
    if (!PROMTOOL) skip("promtool is not installed (Debian package prometheus; .ci/run installs it)");
    const r = spawnSync("promtool", ["check", "metrics"], { input: await scrape(1), encoding: "utf8" });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe("");
    expect(r.status).toBe(0);
  });
});
