/**
 * A real Kamailio (examples/kamailio/kamailio.cfg, on 127.0.0.1) under a real agent: the jsonrpc mode hook
 * sets its mode (503 in backup, 200 in primary), and kill -9 of its main process leaves no worker: the
 * agent ends the group, reports it, restarts Kamailio and tells it backup. Skipped without kamailio.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { AgentEvent } from "../../../protocol/agent";
import { sipOptions } from "../../../protocol/sip";
import { AgentClient, buildBundles, freePort, freeUdpPort, killGroup, removeTempDirs, repoRoot, startAgent, tempDir, type RunningAgent } from "./helpers";

const hasKamailio = (() => {
  try {
    execFileSync("kamailio", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Live processes whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, "latin1");
      const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
      if (rest[0] !== "Z" && Number(rest[2]) === pgid) out.push(Number(d));
    } catch {}
  }
  return out;
}

const sip = async (port: number) => (await sipOptions({ host: "127.0.0.1", port, timeoutMs: 500 })).status;

let agent: RunningAgent | undefined;
let c: AgentClient | undefined;
const pids = new Set<number>();

beforeAll(async () => {
  if (hasKamailio) await buildBundles();
});
afterAll(async () => {
  c?.close();
  await agent?.stop();
  for (const p of pids) killGroup(p, "SIGKILL");
  removeTempDirs();
});

describe.skipIf(!hasKamailio)(hasKamailio ? "Kamailio under the agent" : "Kamailio under the agent (skipped: kamailio not installed)", () => {
  test("jsonrpc mode hook, then kill -9 of the main process: no worker survives, restarted as backup", async () => {
    const [sipPort, rpcPort] = [await freeUdpPort(), await freePort()];
    const run = tempDir("kam-run-");
    agent = await startAgent({
      config: {
        apps: [
          {
            name: "kamailio",
            command: "kamailio",
            args: ["-f", `${repoRoot}/examples/kamailio/kamailio.cfg`, "-DD", "-E", "-m", "32", "-M", "8", "-Y", run,
              "-l", `udp:127.0.0.1:${sipPort}`, "-l", `tcp:127.0.0.1:${rpcPort}`, "-A", 'SY_HOST="k1"', "-A", `RPC_PORT=${rpcPort}`],
            stopTimeoutMs: 2000,
            startTimeoutMs: 10000,
            restart: { backoffMs: 100 },
            modeHook: { type: "jsonrpc", url: `http://127.0.0.1:${rpcPort}/RPC`, setMethod: "pv.shvSet", setParams: ["mode", "str", "{mode}"], getMethod: "pv.shvGet", getParams: ["mode"], timeoutMs: 1000 },
            probe: { type: "sip", host: "127.0.0.1", port: sipPort, intervalMs: 200, timeoutMs: 200, failureThreshold: 3 },
          },
        ],
      },
    });
    c = new AgentClient(agent.url);
    await c.ready();
    const start = await c.command({ type: "app.start", app: "kamailio", mode: "backup" });
    expect(start.ok).toBe(true);
    await c.waitEvent((e) => e.type === "app.mode" && e.mode === "backup", 5000);
    expect(await sip(sipPort)).toBe(503);
    const prim = await c.command({ type: "app.setMode", app: "kamailio", mode: "primary" });
    expect(prim.ok).toBe(true);
    const hookRun = prim.runs.find((r) => r.kind === "mode-hook")!;
    expect(hookRun).toMatchObject({ driver: "jsonrpc", action: "set-mode", ok: true });
    console.log(`jsonrpc set-mode primary through the agent: ${hookRun.durationMs} ms`);
    expect(await sip(sipPort)).toBe(200);

    const main = prim.ok ? prim.snapshot.apps[0].pid! : 0;
    pids.add(main);
    const workers = groupMembers(main).filter((p) => p !== main);
    expect(workers.length).toBeGreaterThanOrEqual(4); // Kamailio's children: udp receivers, timers, tcp, ...
    const since = c.events.length;
    const t0 = performance.now();
    process.kill(main, "SIGKILL");
    await c.waitEvent((e) => e.type === "app.state" && e.state === "failed", 5000, since);
    const g = (await c.waitEvent((e) => e.type === "app.group", 5000, since)) as Extract<AgentEvent, { type: "app.group" }>;
    console.log(`kill -9 of Kamailio's main process: ${g.cleanup.count} workers ended in ${(performance.now() - t0).toFixed(0)} ms (sigkilled ${g.cleanup.sigkilled.length})`);
    expect(g.cleanup.processes.map((p) => p.pid).sort()).toEqual(workers.sort());
    expect(g.cleanup.processes.every((p) => p.comm === "kamailio")).toBe(true);
    expect(g.cleanup.survivors).toEqual([]);
    expect(groupMembers(main)).toEqual([]);
    // Restarted (the port is free again) and told backup through the hook.
    const running = await c.waitEvent((e) => e.type === "app.state" && e.state === "running", 10_000, since);
    if (running.type === "app.state" && running.pid) pids.add(running.pid);
    await c.waitEvent((e) => e.type === "app.mode" && e.mode === "backup", 5000, since);
    expect(await sip(sipPort)).toBe(503);
    const stop = await c.command({ type: "app.stop", app: "kamailio" });
    expect(stop.ok).toBe(true);
    if (running.type === "app.state" && running.pid) expect(groupMembers(running.pid)).toEqual([]);
  });
});
