/**
 * A forking server supervised whole: a real agent (bundled) supervising a real forking program
 * (fixtures/forking-server.mjs: workers with bound UDP sockets that outlive the main process, one that
 * ignores SIGTERM, one that left the session with setsid, one from a double fork). kill -9 of the main
 * process, a stop and `group.cleanup: report`: what is left is ended (or listed) and reported.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { AgentEvent } from "../../../protocol/agent";
import { AgentClient, buildBundles, killGroup, removeTempDirs, startAgent, tempDir, type RunningAgent } from "./helpers";

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/forking-server.mjs");
const agents: RunningAgent[] = [];
const clients: AgentClient[] = [];
const leftovers = new Set<number>();

const alive = (pid: number) => {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, "latin1");
    return !/^\S+ \(.*\) [ZX] /.test(st);
  } catch {
    return false;
  }
};

/** Worker pids written by the fixture into `dir` (one file per worker, named by its pid), with their kind. */
function workers(dir: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const f of readdirSync(dir)) if (/^\d+$/.test(f)) m.set(Number(f), readFileSync(path.join(dir, f), "utf8").split(" ")[0]);
  return m;
}

async function until(pred: () => boolean, timeoutMs: number, what: string) {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function setup(o: { cleanup?: "kill" | "report"; restart?: boolean } = {}) {
  const pidDir = tempDir("forks-");
  const agent = await startAgent({
    config: {
      apps: [
        {
          name: "forker",
          command: process.execPath,
          args: [fixture, "--dir", pidDir, "--workers", "3", "--stubborn", "1", "--setsid", "1", "--double-fork", "1"],
          stopTimeoutMs: 800,
          restart: { policy: o.restart === false ? "never" : "on-failure", backoffMs: 50 },
          group: { cleanup: o.cleanup ?? "kill", scanIntervalMs: 100 },
        },
      ],
    },
  });
  agents.push(agent);
  const c = new AgentClient(agent.url);
  clients.push(c);
  await c.ready();
  const ack = await c.command({ type: "app.start", app: "forker" });
  expect(ack.ok).toBe(true);
  await until(() => workers(pidDir).size === 5 && existsSync(path.join(pidDir, "main")), 10_000, "5 workers bound");
  const mainPid = Number(readFileSync(path.join(pidDir, "main"), "utf8"));
  const w = workers(pidDir);
  for (const p of w.keys()) leftovers.add(p);
  leftovers.add(mainPid);
  await new Promise((r) => setTimeout(r, 400)); // the periodic scan has seen the setsid worker under the main process
  return { agent, c, pidDir, mainPid, w };
}

beforeAll(async () => {
  await buildBundles();
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  for (const a of agents.splice(0)) await a.stop();
  for (const p of leftovers) {
    killGroup(p, "SIGKILL");
    try {
      process.kill(p, "SIGKILL");
    } catch {}
  }
  removeTempDirs();
});

describe("a forking server is supervised whole", () => {
  test("kill -9 of the main process: every worker ended and reported before the restart", async () => {
    const { c, mainPid, w } = await setup();
    expect([...w.values()].sort()).toEqual(["double-fork", "setsid", "stubborn", "worker", "worker"]);
    const since = c.events.length;
    const t0 = performance.now();
    process.kill(mainPid, "SIGKILL");
    const failed = await c.waitEvent((e) => e.type === "app.state" && e.state === "failed", 5000, since);
    const tFailed = c.eventTimes[c.events.indexOf(failed)] - t0;
    const g = (await c.waitEvent((e) => e.type === "app.group", 5000, since)) as Extract<AgentEvent, { type: "app.group" }>;
    const tGroup = c.eventTimes[c.events.indexOf(g)] - t0;
    console.log(`kill -9 → app.state failed ${tFailed.toFixed(1)} ms, → app.group (all ${g.cleanup.count} ended) ${tGroup.toFixed(1)} ms`);
    expect(g.cleanup.pid).toBe(mainPid);
    expect(g.cleanup.trigger).toBe("exit");
    expect(g.cleanup.action).toBe("killed");
    expect(g.cleanup.processes.map((p) => p.pid).sort()).toEqual([...w.keys()].sort());
    expect(g.cleanup.count).toBe(5);
    const via = Object.fromEntries(g.cleanup.processes.map((p) => [w.get(p.pid), p.via]));
    expect(via.setsid).toBe("descendant");
    expect(via["double-fork"]).toBe("group");
    const stubborn = [...w].find(([, k]) => k === "stubborn")![0];
    expect(g.cleanup.sigkilled).toEqual([stubborn]);
    expect(g.cleanup.survivors).toEqual([]);
    for (const p of w.keys()) expect(alive(p), `worker ${p} (${w.get(p)}) survived`).toBe(false);
    // The failure was reported first; the restart came only after the clean-up.
    const iFailed = c.events.indexOf(failed);
    const iGroup = c.events.indexOf(g);
    const iStart = c.events.findIndex((e, i) => i > iFailed && e.type === "app.state" && e.state === "starting");
    expect(iFailed).toBeLessThan(iGroup);
    if (iStart >= 0) expect(iGroup).toBeLessThan(iStart);
    await c.waitEvent((e) => e.type === "app.state" && e.state === "running", 5000, iGroup);
    const snap = await c.command({ type: "state.get" });
    expect(snap.ok && snap.snapshot.apps[0].lastGroup?.count).toBe(5);
    await c.command({ type: "app.stop", app: "forker" });
  });

  test("stop: the group gets SIGTERM, a worker that ignores it gets SIGKILL at the stop timeout", async () => {
    const { c, mainPid, w } = await setup();
    const since = c.events.length;
    const ack = await c.command({ type: "app.stop", app: "forker" });
    expect(ack.ok).toBe(true);
    // The stop is acknowledged once the leftovers are gone too.
    for (const p of w.keys()) expect(alive(p), `worker ${p} (${w.get(p)}) survived`).toBe(false);
    const g = (await c.waitEvent((e) => e.type === "app.group", 1000, since)) as Extract<AgentEvent, { type: "app.group" }>;
    expect(g.cleanup.pid).toBe(mainPid);
    expect(g.cleanup.trigger).toBe("stop");
    expect(g.cleanup.sigkilled.length).toBeGreaterThanOrEqual(1);
    expect(g.cleanup.survivors).toEqual([]);
  });

  test("a stop during the clean-up of a failure: no restart afterwards", async () => {
    const { c, mainPid, w } = await setup();
    const since = c.events.length;
    process.kill(mainPid, "SIGKILL");
    await c.waitEvent((e) => e.type === "app.state" && e.state === "failed", 5000, since);
    const stop = await c.command({ type: "app.stop", app: "forker" }); // answered once the leftovers are gone
    expect(stop.ok).toBe(true);
    for (const p of w.keys()) expect(alive(p)).toBe(false);
    await new Promise((r) => setTimeout(r, 500)); // longer than the restart back-off (50 ms)
    expect(c.events.slice(since).some((e) => e.type === "app.state" && e.state === "starting")).toBe(false);
  });

  test("group.cleanup report: the leftovers are listed, not killed", async () => {
    const { c, agent, mainPid, w } = await setup({ cleanup: "report", restart: false });
    const since = c.events.length;
    process.kill(mainPid, "SIGKILL");
    const g = (await c.waitEvent((e) => e.type === "app.group", 5000, since)) as Extract<AgentEvent, { type: "app.group" }>;
    expect(g.cleanup.action).toBe("reported");
    expect(g.cleanup.count).toBe(5);
    expect(g.cleanup.survivors.sort()).toEqual([...w.keys()].sort());
    for (const p of w.keys()) expect(alive(p)).toBe(true);
    await until(() => agent.logs.some((l) => l.includes("not killed: group.cleanup is report")), 2000, "the log line");
  });
});
