/**
 * The host agent with real processes: a real agent (bundled, as shipped) managing a real simulated SIP
 * Server, driven over socket.io. No mocks.
 */
import { readFileSync, writeFileSync, chmodSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { PROTOCOL_VERSION, type AgentEvent } from "../../../protocol/agent";
import { sipOptions } from "../../../protocol/sip";
import {
  AgentClient,
  agentMustFail,
  buildBundles,
  freePort,
  freeUdpPort,
  killGroup,
  rmDir,
  simApp,
  startAgent,
  tempDir,
  TEST_TOKEN,
  type RunningAgent,
} from "./helpers";

const simVip = { name: "vip1", address: "198.18.0.220", prefix: 24, interface: "eth0", driver: "simulated" };

const agents: RunningAgent[] = [];
const clients: AgentClient[] = [];
const pids = new Set<number>();

function track(c: AgentClient) {
  clients.push(c);
  return c;
}
function rememberPids(c: AgentClient) {
  for (const e of c.events) if (e.type === "app.state" && e.pid) pids.add(e.pid);
  for (const a of c.snapshot?.apps ?? []) if (a.pid) pids.add(a.pid);
}

beforeAll(async () => {
  await buildBundles();
});

afterEach(async () => {
  for (const c of clients.splice(0)) {
    rememberPids(c);
    c.close();
  }
});

afterAll(async () => {
  for (const a of agents.splice(0)) await a.stop();
  // Agents leave apps running on purpose (agent restart changes nothing): clean them up here.
  for (const p of pids) {
    killGroup(p, "SIGCONT");
    killGroup(p, "SIGKILL");
  }
});

describe("agent managing a simulated SIP Server", () => {
  let agent: RunningAgent;
  let sipPort: number;
  let client: AgentClient;

  beforeAll(async () => {
    sipPort = await freeUdpPort();
    const app = await simApp({
      sipPort,
      controlPort: await freePort(),
      vip: "vip1",
      // onHung "report" (the default is "restart", tested below): the SIGSTOP test continues the process
      probe: { type: "sip", host: "127.0.0.1", port: sipPort, intervalMs: 100, timeoutMs: 100, failureThreshold: 3, onHung: "report" },
      extra: { restart: { policy: "on-failure", backoffMs: 50, maxBackoffMs: 200, crashLoop: { maxRestarts: 20, windowMs: 60000 } } },
    });
    agent = await startAgent({ config: { vips: [simVip], apps: [app] } });
    agents.push(agent);
  });

  afterEach(() => {
    if (client) rememberPids(client);
  });

  test("start, set primary: OPTIONS answers 200; set backup: 503; the VIP follows", async () => {
    client = track(new AgentClient(agent.url, { epoch: 1 }));
    const snap = await client.ready();
    expect(snap.protocol).toBe(1);
    expect(snap.apps[0]).toMatchObject({ name: "sip", state: "stopped", vip: "vip1" });

    const started = await client.command({ type: "app.start", app: "sip" });
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    expect(started.snapshot.apps[0].state).toBe("running");
    const pid = started.snapshot.apps[0].pid!;
    pids.add(pid);

    const t0 = performance.now();
    const primary = await client.command({ type: "app.setMode", app: "sip", mode: "primary" });
    const ms = performance.now() - t0;
    expect(primary.ok).toBe(true);
    if (!primary.ok) return;
    expect(primary.runs.map((r) => `${r.kind}:${r.action}:${r.ok}`)).toEqual(["mode-hook:set-mode:true", "vip:enable:true"]);
    expect(primary.snapshot.apps[0].mode).toBe("primary");
    expect(primary.snapshot.vips[0]).toMatchObject({ desired: "enabled", observed: "enabled" });
    console.log(`setMode primary acknowledged in ${ms.toFixed(1)} ms (hook ${primary.runs[0].durationMs} ms)`);

    const r200 = await sipOptions({ host: "127.0.0.1", port: sipPort, timeoutMs: 1000 });
    expect(r200.status).toBe(200);
    expect(r200.headers["x-switchyard-role"]).toBe("primary");
    expect(r200.headers["x-switchyard-host"]).toBe("h1");
    expect(r200.headers["server"]).toBe("switchyard-sim");

    const backup = await client.command({ type: "app.setMode", app: "sip", mode: "backup" });
    expect(backup.ok).toBe(true);
    if (!backup.ok) return;
    expect(backup.snapshot.vips[0].observed).toBe("disabled");
    const r503 = await sipOptions({ host: "127.0.0.1", port: sipPort, timeoutMs: 1000 });
    expect(r503.status).toBe(503);
    expect(r503.headers["x-switchyard-role"]).toBe("backup");

    const ev = client.events.filter((e) => e.type === "app.mode").map((e) => (e.type === "app.mode" ? e.mode : ""));
    expect(ev).toContain("primary");
    expect(ev[ev.length - 1]).toBe("backup");
    // seq is strictly increasing
    const seqs = client.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  test("kill -9 of the SIP Server: the exit event reaches the client at once, the VIP goes down, it restarts", async () => {
    client = track(new AgentClient(agent.url, { epoch: 1 }));
    await client.ready();
    const p = await client.command({ type: "app.setMode", app: "sip", mode: "primary" });
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    const pid = p.snapshot.apps[0].pid!;
    const since = client.events.length;
    const t0 = performance.now();
    process.kill(pid, "SIGKILL");
    const failed = await client.waitEvent((e) => e.type === "app.state" && e.state === "failed", 3000, since);
    const delay = performance.now() - t0;
    console.log(`kill -9 -> app.state failed event at the client: ${delay.toFixed(1)} ms`);
    expect(failed.type === "app.state" && failed.exit?.signal).toBe("SIGKILL");
    expect(delay).toBeLessThan(1000);
    await client.waitEvent((e) => e.type === "vip.state" && e.observed === "disabled", 2000, since);
    // the failure is reported before the agent starts its own VIP clean-up (the controller must not wait on it)
    const dis = await client.waitEvent((e) => e.type === "vip.run" && e.run.action === "disable", 2000, since);
    expect(dis.seq).toBeGreaterThan(failed.seq);
    // restart policy on-failure with backoff: running again, as backup (see "the agent restarts a failed server")
    const running = await client.waitEvent((e) => e.type === "app.state" && e.state === "running", 5000, since);
    expect(running.type === "app.state" && running.pid).not.toBe(pid);
    const s = await client.command({ type: "state.get" });
    expect(s.ok && s.snapshot.apps[0].restarts).toBeGreaterThanOrEqual(1);
  });

  test("SIGSTOP with onHung report: reported as hung by the health probe, VIP disabled; SIGCONT: running again", async () => {
    client = track(new AgentClient(agent.url, { epoch: 1 }));
    await client.ready();
    const p = await client.command({ type: "app.setMode", app: "sip", mode: "primary" });
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    const pid = p.snapshot.apps[0].pid!;
    const since = client.events.length;
    const t0 = performance.now();
    process.kill(pid, "SIGSTOP");
    try {
      const hung = await client.waitEvent((e) => e.type === "app.state" && e.state === "hung", 3000, since);
      console.log(`SIGSTOP -> hung after ${(performance.now() - t0).toFixed(0)} ms (probe 100 ms x 3)`);
      expect(hung.type === "app.state" && hung.reason).toMatch(/SIGSTOP/);
      await client.waitEvent((e) => e.type === "vip.state" && e.observed === "disabled", 2000, since);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    const back = await client.waitEvent((e) => e.type === "app.state" && e.state === "running" && e.previous === "hung", 3000, since);
    expect(back.type === "app.state" && back.pid).toBe(pid); // the same process: reported, not restarted
  });

  test("unknown app or VIP refused; malformed frames answered with INVALID; repeated bad frames drop the client", async () => {
    client = track(new AgentClient(agent.url, { epoch: 1 }));
    await client.ready();
    const ua = await client.command({ type: "app.start", app: "nope" });
    expect(ua).toMatchObject({ ok: false, error: { code: "UNKNOWN_APP" } });
    const uv = await client.command({ type: "vip.enable", vip: "nope" });
    expect(uv).toMatchObject({ ok: false, error: { code: "UNKNOWN_VIP" } });
    // A path or a command on the wire is not even representable: extra fields are refused.
    const extra = (await client.raw("command", { type: "app.start", id: "x", epoch: 1, app: "sip", command: "/bin/sh" })) as { ok: boolean; error: { code: string; message: string } };
    expect(extra.ok).toBe(false);
    expect(extra.error.code).toBe("INVALID");
    const bad = (await client.raw("command", { type: "app.setMode", id: "x", epoch: 1, app: "sip", mode: "leader" })) as { error: { code: string; message: string } };
    expect(bad.error.code).toBe("INVALID");
    expect(bad.error.message).toMatch(/mode/);
    const big = (await client.raw("command", { type: "state.get", id: "x".repeat(100_000), epoch: 1 })) as { error: { code: string; message: string } };
    expect(big.error.code).toBe("INVALID");
    expect(big.error.message).toMatch(/exceeds/);
    // 3 bad frames so far; an unknown event (no ack) gets a protocolError; the 5th bad frame drops the link.
    const gone = new Promise<string>((r) => client.socket.once("disconnect", (reason) => r(reason)));
    const refused = new Promise<{ code: string }>((r) => client.socket.once("protocolError", r));
    (client.socket as unknown as { emit: (e: string, x: unknown) => void }).emit("bogus", 1);
    expect((await refused).code).toBe("INVALID"); // the agent answered the 4th bad frame, and kept the link
    expect(client.socket.connected).toBe(true);
    (client.socket as unknown as { emit: (e: string, x: unknown) => void }).emit("bogus", 2);
    expect(await Promise.race([gone, new Promise((r) => setTimeout(() => r("still connected"), 3000))])).toBe("io server disconnect");
    expect(client.protocolErrors.map((e) => e.code)).toContain("INVALID");
  });
});

describe("the agent restarts a failed server, in backup mode (the agent is the one owner of restarts)", () => {
  let agent: RunningAgent;
  let sipPort: number;
  let client: AgentClient;

  beforeAll(async () => {
    sipPort = await freeUdpPort();
    // The sim starts as primary by itself: only the agent's "backup" makes a restarted one answer 503.
    // Default restart policy (on-failure) and default onHung (restart); a short backoff for the test.
    const app = await simApp({ sipPort, controlPort: await freePort(), vip: "vip1", mode: "primary", extra: { restart: { backoffMs: 100 } } });
    agent = await startAgent({ config: { vips: [simVip], apps: [app] } });
    agents.push(agent);
    const c = track(new AgentClient(agent.url, { epoch: 1 }));
    await c.ready();
    const started = await c.command({ type: "app.start", app: "sip" });
    expect(started.ok).toBe(true);
  });

  beforeEach(async () => {
    client = track(new AgentClient(agent.url, { epoch: 1 })); // closed (and its pids remembered) after each test
    await client.ready();
  });

  /** After `since`: the new process's starting and running events, and the backup its mode hook confirmed. */
  async function restartedAsBackup(oldPid: number, since: number) {
    const starting = await client.waitEvent((e) => e.type === "app.state" && e.state === "starting" && e.pid !== oldPid, 8000, since);
    const running = await client.waitEvent((e) => e.type === "app.state" && e.state === "running" && e.seq > starting.seq, 8000, since);
    const told = await client.waitEvent((e) => e.type === "app.mode" && e.seq > running.seq && e.run?.action === "set-mode", 5000, since);
    expect(told.type === "app.mode" && told).toMatchObject({ mode: "backup", run: { kind: "mode-hook", ok: true } });
    // Nothing reports it primary after the restart.
    expect(client.events.slice(since).filter((e) => e.type === "app.mode" && e.seq > starting.seq && e.mode === "primary")).toEqual([]);
    const s = await client.command({ type: "state.get" });
    expect(s.ok && s.snapshot.apps[0]).toMatchObject({ state: "running", mode: "backup" });
    expect(s.ok && s.snapshot.vips[0]).toMatchObject({ desired: "disabled", observed: "disabled" });
    const r = await sipOptions({ host: "127.0.0.1", port: sipPort, timeoutMs: 1000 });
    expect(r.status).toBe(503);
    expect(r.headers["x-switchyard-role"]).toBe("backup");
    return { starting, running };
  }

  /** app.setMode primary (a restarted server is promoted the normal way); returns its pid. */
  async function makePrimary() {
    const p = await client.command({ type: "app.setMode", app: "sip", mode: "primary" });
    expect(p.ok).toBe(true);
    if (!p.ok) throw new Error(p.error.message);
    expect(p.runs.map((r) => `${r.kind}:${r.action}:${r.ok}`)).toEqual(["mode-hook:set-mode:true", "vip:enable:true"]);
    expect((await sipOptions({ host: "127.0.0.1", port: sipPort, timeoutMs: 1000 })).status).toBe(200);
    const pid = p.snapshot.apps[0].pid!;
    pids.add(pid);
    return pid;
  }

  test("kill -9 of the primary: the VIP is removed at once, the agent restarts it and tells it backup", async () => {
    const pid = await makePrimary();
    const since = client.events.length;
    process.kill(pid, "SIGKILL");
    await client.waitEvent((e) => e.type === "app.state" && e.state === "failed", 3000, since);
    const off = await client.waitEvent((e) => e.type === "vip.state" && e.observed === "disabled", 3000, since);
    const { starting } = await restartedAsBackup(pid, since);
    // The VIP went down on the failure itself, not as part of the restart's backup mode.
    expect(off.seq).toBeLessThan(starting.seq);
  });

  test("SIGSTOP with the default onHung: hung, VIP removed, the agent kills and restarts it, back as backup", async () => {
    const pid = await makePrimary(); // the server restarted by the previous test, promoted normally
    const since = client.events.length;
    process.kill(pid, "SIGSTOP");
    try {
      const hung = await client.waitEvent((e) => e.type === "app.state" && e.state === "hung", 3000, since);
      expect(hung.type === "app.state" && hung.reason).toMatch(/SIGSTOP/);
      const off = await client.waitEvent((e) => e.type === "vip.state" && e.observed === "disabled", 3000, since);
      const { starting } = await restartedAsBackup(pid, since);
      expect(off.seq).toBeLessThan(starting.seq);
      expect(client.events.slice(since).some((e) => e.type === "app.state" && e.state === "stopped" && e.pid === pid)).toBe(true);
    } finally {
      killGroup(pid, "SIGCONT");
    }
    expect(() => process.kill(pid, 0)).toThrow(); // the hung process is gone
  });
});

describe("security, fencing, heartbeat, config", () => {
  let agent: RunningAgent;

  beforeAll(async () => {
    agent = await startAgent({ config: { vips: [simVip], heartbeat: { timeoutMs: 400 } } });
    agents.push(agent);
  });

  test("wrong token and malformed handshake are refused", async () => {
    const bad = track(new AgentClient(agent.url, { token: "wrong-token-0123456789abcdef" }));
    await expect(bad.ready()).rejects.toThrow(/UNAUTHORIZED/);
    const short = track(new AgentClient(agent.url, { token: TEST_TOKEN.slice(0, -1) }));
    await expect(short.ready()).rejects.toThrow(/UNAUTHORIZED/);
    const malformed = track(new AgentClient(agent.url, { auth: { token: TEST_TOKEN } }));
    await expect(malformed.ready()).rejects.toThrow(/INVALID/);
    const good = track(new AgentClient(agent.url));
    expect((await good.ready()).vips[0].name).toBe("vip1");
  });

  test("a flood of wrong-token handshakes is logged as counts: 500 refusals, a bounded number of lines", async () => {
    const flooded = await startAgent({ config: { vips: [simVip] } });
    agents.push(flooded);
    const refusalLines = () =>
      flooded.logs
        .map((l) => {
          try {
            return JSON.parse(l) as { msg: string; why?: string; count?: number; byReason?: Record<string, number>; byRemote?: Record<string, number> };
          } catch {
            return null;
          }
        })
        .filter((e) => e !== null && /^handshakes? refused$/.test(e.msg))
        .map((e) => e!);
    const counted = () => refusalLines().reduce((n, e) => n + (e.msg === "handshake refused" ? 1 : e.count!), 0);
    // Every line the agent writes is an event on its stdout: wait on those, not on a clock.
    const allCounted = new Promise<void>((resolve) => {
      const check = () => {
        if (counted() < 500) return;
        flooded.proc.stdout!.off("data", check);
        resolve();
      };
      flooded.proc.stdout!.on("data", check);
    });

    for (let batch = 0; batch < 10; batch++) {
      const errors = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const c = new AgentClient(flooded.url, { token: "wrong-token-0123456789abcdef", pingEveryMs: 0 });
          try {
            return await c.ready().then(() => "connected", (e: Error) => e.message);
          } finally {
            c.close();
          }
        }),
      );
      expect(new Set(errors)).toEqual(new Set(["UNAUTHORIZED: bad token"]));
    }
    await allCounted; // the counts of the interval arrive within REFUSAL_INTERVAL_MS (10 s)

    const lines = refusalLines();
    expect(counted()).toBe(500);
    expect(lines.length).toBeLessThanOrEqual(3); // the first at once, then one line per 10 s
    expect(lines[0]).toMatchObject({ msg: "handshake refused", why: "UNAUTHORIZED", remote: expect.stringContaining("127.0.0.1") });
    for (const summary of lines.slice(1)) {
      expect(summary).toMatchObject({ msg: "handshakes refused", byReason: { UNAUTHORIZED: summary.count } });
      expect(Object.values(summary.byRemote!).reduce((a, b) => a + b, 0)).toBe(summary.count);
    }
  });

  test("stale epoch refused with the highest epoch, also after an agent restart", async () => {
    const c = track(new AgentClient(agent.url, { epoch: 7 }));
    await c.ready();
    expect((await c.command({ type: "vip.enable", vip: "vip1" })).ok).toBe(true);
    c.epoch = 5;
    const stale = await c.command({ type: "vip.disable", vip: "vip1" });
    expect(stale).toMatchObject({ ok: false, error: { code: "STALE_EPOCH" }, highestEpoch: 7 });
    c.close();
    // restart the agent on the same state dir: the epoch survives, and so does the simulated VIP
    await agent.stop();
    const again = await startAgent({ dir: agent.dir, config: { vips: [simVip], heartbeat: { timeoutMs: 400 } } });
    agents.push(again);
    agent = again;
    const c2 = track(new AgentClient(agent.url, { epoch: 6 }));
    const snap = await c2.ready();
    expect(snap.epoch).toBe(7);
    expect(snap.vips[0]).toMatchObject({ desired: "enabled", observed: "enabled" });
    const stale2 = await c2.command({ type: "vip.disable", vip: "vip1" });
    expect(stale2).toMatchObject({ ok: false, error: { code: "STALE_EPOCH" }, highestEpoch: 7 });
  });

  test("epochs above the bound are refused; the agent belongs to the first cluster that connects; --forget-cluster undoes it", async () => {
    const a = await startAgent({ config: { vips: [simVip], heartbeat: { timeoutMs: 2000 } } });
    agents.push(a);
    const A = "6f0c2c0e-2a7e-4b8f-9d3e-0b1a2c3d4e5f";
    const B = "a1b2c3d4-e5f6-4789-8abc-def012345678";
    const forged = track(new AgentClient(a.url, { auth: { token: TEST_TOKEN, protocol: PROTOCOL_VERSION, controllerId: "forged", epoch: 9007199254740991, cluster: A } }));
    await expect(forged.ready()).rejects.toThrow(/INVALID: handshake: epoch: at most 1073741824/);
    const first = track(new AgentClient(a.url, { auth: { token: TEST_TOKEN, protocol: PROTOCOL_VERSION, controllerId: "real", epoch: 3, cluster: A } }));
    expect((await first.ready()).epoch).toBe(3);
    first.epoch = 3;
    const other = track(new AgentClient(a.url, { auth: { token: TEST_TOKEN, protocol: PROTOCOL_VERSION, controllerId: "other-panel", epoch: 50, cluster: B } }));
    await expect(other.ready()).rejects.toThrow(new RegExp(`FOREIGN_CLUSTER: this agent belongs to Switchyard cluster ${A}, not ${B}`));
    // The other cluster's epoch was not taken: the real controller still commands.
    expect((await first.command({ type: "vip.enable", vip: "vip1" })).ok).toBe(true);
    await a.stop();
    const out = await agentMustFail(a.configFile, ["--forget-cluster"]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`cluster binding forgotten (was ${A}, highest epoch 3)`);
    const again = await startAgent({ dir: a.dir, config: { vips: [simVip], heartbeat: { timeoutMs: 2000 } } });
    agents.push(again);
    const moved = track(new AgentClient(again.url, { auth: { token: TEST_TOKEN, protocol: PROTOCOL_VERSION, controllerId: "other-panel", epoch: 1, cluster: B } }));
    expect((await moved.ready()).epoch).toBe(1);
  });

  test("a controller that stops sending pings is disconnected after heartbeat.timeoutMs", async () => {
    const c = track(new AgentClient(agent.url, { pingEveryMs: 0, epoch: 7 }));
    await c.ready();
    const t0 = performance.now();
    const reason = await new Promise<string>((r) => c.socket.once("disconnect", (x) => r(x)));
    const ms = performance.now() - t0;
    expect(reason).toBe("io server disconnect");
    expect(ms).toBeGreaterThan(300);
    expect(ms).toBeLessThan(2000);
    const p = track(new AgentClient(agent.url, { pingEveryMs: 100, epoch: 7 }));
    await p.ready();
    await new Promise((r) => setTimeout(r, 800));
    expect(p.socket.connected).toBe(true);
    const pong = await p.socket.timeout(1000).emitWithAck("ping", { t: 42 });
    expect(pong.t).toBe(42);
  });

  test("a bad config file is refused with a message naming the file and the field", async () => {
    const dir = tempDir("cfg-");
    const f = path.join(dir, "agent.yaml");
    writeFileSync(f, `tokens: [${TEST_TOKEN}]\nstateDir: ./s\napps:\n  - name: sip\n    command: /bin/true\n    stopTimeoutMs: soon\n`);
    const r = await agentMustFail(f);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/agent\.yaml: apps\[0\]\.stopTimeoutMs: .*expected number/i);
    writeFileSync(f, `tokens: [${TEST_TOKEN}]\nvips: [{name: v, address: 198.18.0.230, driver: linux}]\napps: [{name: a, command: x, vip: w}]\n`);
    const r2 = await agentMustFail(f);
    expect(r2.stderr).toMatch(/agent\.yaml: apps\[0\]\.vip: no VIP named w/);
    rmDir(dir);
  });

  test("no token: refused unless --insecure on loopback", async () => {
    const dir = tempDir("cfg-");
    const f = path.join(dir, "agent.json");
    writeFileSync(f, JSON.stringify({ stateDir: path.join(dir, "s"), listen: { host: "0.0.0.0", port: 0 } }));
    expect((await agentMustFail(f)).stderr).toMatch(/no token configured/);
    expect((await agentMustFail(f, ["--insecure"])).stderr).toMatch(/only allowed when listening on loopback/);
    const a = await startAgent({ dir, config: { tokens: [] }, args: ["--insecure"] });
    agents.push(a);
    const c = track(new AgentClient(a.url, { token: "anything" }));
    expect((await c.ready()).apps).toEqual([]);
  });
});

describe("self-fencing: a host cut off from its controller takes its VIP down", () => {
  // The controller's pings say how long to wait (its pair's heartbeat timeout + grace); the agent's own
  // silence deadline is longer here, so what is tested is the fencing, not the dropped link.
  const fenced = (e: AgentEvent) => e.type === "vip.state" && e.observed === "disabled";

  test("no ping for fenceAfterMs: the enabled VIP is disabled; a VIP with fence off is kept", async () => {
    const agent = await startAgent({ config: { vips: [simVip, { ...simVip, name: "vip2", address: "198.18.0.197", fence: false }], heartbeat: { timeoutMs: 5000 } } });
    agents.push(agent);
    const c = track(new AgentClient(agent.url, { epoch: 1, pingEveryMs: 100, fenceAfterMs: 400 }));
    await c.ready();
    for (const vip of ["vip1", "vip2"]) expect((await c.command({ type: "vip.enable", vip })).ok).toBe(true);
    const t0 = performance.now();
    c.stopPinging();
    const e = await c.waitEvent(fenced, 3000);
    const ms = performance.now() - t0;
    expect(e).toMatchObject({ vip: "vip1", observed: "disabled", desired: "disabled" });
    expect(ms).toBeGreaterThan(250);
    const snap = await c.command({ type: "state.get" });
    expect(snap.ok && snap.snapshot.vips.map((v) => [v.name, v.observed])).toEqual([["vip1", "disabled"], ["vip2", "enabled"]]);
    expect(agent.logs.join("\n")).toMatch(/self-fencing: taking the VIP down/);
  });

  test("a controller that stops cleanly (fence.hold) is not a cut: the VIP stays", async () => {
    const agent = await startAgent({ config: { vips: [simVip], heartbeat: { timeoutMs: 5000 } } });
    agents.push(agent);
    const c = track(new AgentClient(agent.url, { epoch: 1, pingEveryMs: 100, fenceAfterMs: 300 }));
    await c.ready();
    expect((await c.command({ type: "vip.enable", vip: "vip1" })).ok).toBe(true);
    expect((await c.command({ type: "fence.hold", holdMs: 60_000 })).ok).toBe(true);
    c.stopPinging();
    // Nothing to wait for but time: three times the fencing delay.
    await new Promise((r) => setTimeout(r, 900));
    expect(c.events.some(fenced)).toBe(false);
    const snap = await c.command({ type: "state.get" });
    expect(snap.ok && snap.snapshot.vips[0].observed).toBe("enabled");
  });
});

describe("supervision details", () => {
  test("crash loop: restarts with backoff, then stops restarting and reports app.crashloop", async () => {
    const a = await startAgent({
      config: {
        apps: [
          {
            name: "crasher",
            command: process.execPath,
            args: ["-e", "process.exit(3)"],
            restart: { policy: "on-failure", backoffMs: 10, maxBackoffMs: 40, crashLoop: { maxRestarts: 3, windowMs: 10000 } },
          },
        ],
      },
    });
    agents.push(a);
    const c = track(new AgentClient(a.url));
    await c.ready();
    await c.command({ type: "app.start", app: "crasher" });
    const loop = await c.waitEvent((e) => e.type === "app.crashloop", 5000);
    expect(loop.type === "app.crashloop" && loop.restarts).toBe(3);
    const exits = c.events.filter((e) => e.type === "app.state" && e.state === "failed");
    expect(exits.length).toBe(4);
    expect(exits.every((e) => e.type === "app.state" && e.exit?.code === 3)).toBe(true);
    const s = await c.command({ type: "state.get" });
    expect(s.ok && s.snapshot.apps[0]).toMatchObject({ state: "failed", crashLoop: true });
  });

  test("agent restart changes nothing: the running app is re-adopted (same pid, mode, VIP); its death is still seen, and it is restarted", async () => {
    const sipPort = await freeUdpPort();
    const app = await simApp({ sipPort, controlPort: await freePort(), vip: "vip1", extra: { restart: { backoffMs: 50 } } });
    const a = await startAgent({ config: { vips: [simVip], apps: [app] } });
    agents.push(a);
    const c = track(new AgentClient(a.url));
    await c.ready();
    const s = await c.command({ type: "app.start", app: "sip", mode: "primary" });
    expect(s.ok).toBe(true);
    if (!s.ok) return;
    const pid = s.snapshot.apps[0].pid!;
    pids.add(pid);
    c.close();
    await a.stop();
    // the app keeps serving while the agent is down
    expect((await sipOptions({ host: "127.0.0.1", port: sipPort })).status).toBe(200);
    const b = await startAgent({ dir: a.dir, config: { vips: [simVip], apps: [app] } });
    agents.push(b);
    const c2 = track(new AgentClient(b.url));
    const snap = await c2.ready();
    expect(snap.apps[0]).toMatchObject({ state: "running", pid, mode: "primary" });
    expect(snap.vips[0]).toMatchObject({ observed: "enabled" });
    expect((await sipOptions({ host: "127.0.0.1", port: sipPort })).status).toBe(200);
    const t0 = performance.now();
    process.kill(pid, "SIGKILL");
    const failed = await c2.waitEvent((e) => e.type === "app.state" && e.state === "failed", 3000);
    console.log(`kill -9 of an adopted app -> event: ${(performance.now() - t0).toFixed(1)} ms (kill(pid,0) watch)`);
    expect(failed.type === "app.state" && failed.reason).toMatch(/adopted/);
    await c2.waitEvent((e) => e.type === "vip.state" && e.observed === "disabled", 2000);
    // An adopted process's exit code is unknown: a failure for the on-failure policy. Restarted as backup.
    const running = await c2.waitEvent((e) => e.type === "app.state" && e.state === "running" && e.pid !== pid, 8000);
    if (running.type === "app.state" && running.pid) pids.add(running.pid);
    await c2.waitEvent((e) => e.type === "app.mode" && e.mode === "backup" && e.run?.action === "set-mode", 5000);
  });

  test("a restarted app without a mode hook: the agent records backup itself", async () => {
    const app = { name: "plain", command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"], stopTimeoutMs: 1000, vip: "vip1", restart: { backoffMs: 50 } };
    const a = await startAgent({ config: { vips: [simVip], apps: [app] } });
    agents.push(a);
    const c = track(new AgentClient(a.url));
    await c.ready();
    const p = await c.command({ type: "app.start", app: "plain", mode: "primary" });
    expect(p.ok && p.snapshot.apps[0]).toMatchObject({ state: "running", mode: "primary" });
    expect(p.ok && p.snapshot.vips[0].observed).toBe("enabled");
    if (!p.ok) return;
    const pid = p.snapshot.apps[0].pid!;
    pids.add(pid);
    const since = c.events.length;
    process.kill(pid, "SIGKILL");
    const running = await c.waitEvent((e) => e.type === "app.state" && e.state === "running" && e.pid !== pid, 5000, since);
    if (running.type === "app.state" && running.pid) pids.add(running.pid);
    const mode = await c.waitEvent((e) => e.type === "app.mode" && e.seq > running.seq, 3000, since);
    expect(mode.type === "app.mode" && mode).toMatchObject({ mode: "backup", run: null });
    const s = await c.command({ type: "state.get" });
    expect(s.ok && s.snapshot.apps[0]).toMatchObject({ state: "running", mode: "backup", restarts: 1 });
    expect(s.ok && s.snapshot.vips[0]).toMatchObject({ desired: "disabled", observed: "disabled" });
  });

  test("script driver: operator scripts run with the documented environment and bounded output", async () => {
    const dir = tempDir("script-");
    const flag = path.join(dir, "vip-on");
    const mk = (n: string, body: string) => {
      const f = path.join(dir, n);
      writeFileSync(f, `#!/bin/sh\n${body}\n`);
      chmodSync(f, 0o755);
      return f;
    };
    const enable = mk("enable.sh", `echo "$SWITCHYARD_ACTION $SWITCHYARD_VIP/$SWITCHYARD_PREFIX dev $SWITCHYARD_INTERFACE"; touch ${flag}`);
    const disable = mk("disable.sh", `rm -f ${flag}; echo gone; echo warn >&2`);
    const status = mk("status.sh", `test -e ${flag} && exit 0; exit 3`);
    const slow = mk("slow.sh", `sleep 5`);
    const vip = { name: "svip", address: "198.18.0.221", prefix: 24, interface: "eth7", driver: "script", scripts: { enable, disable, status, timeoutMs: 2000 } };
    const vip2 = { name: "slowvip", address: "198.18.0.222", interface: "eth7", driver: "script", scripts: { enable: slow, disable: slow, timeoutMs: 200 } };
    const a = await startAgent({ config: { vips: [vip, vip2] } });
    agents.push(a);
    const c = track(new AgentClient(a.url));
    const snap = await c.ready();
    expect(snap.vips[0].observed).toBe("disabled");
    const en = await c.command({ type: "vip.enable", vip: "svip" });
    expect(en.ok).toBe(true);
    if (!en.ok) return;
    expect(en.runs[0]).toMatchObject({ kind: "vip", driver: "script", action: "enable", exitCode: 0, ok: true });
    expect(en.runs[0].stdout.trim()).toBe("enable 198.18.0.221/24 dev eth7");
    expect(en.snapshot.vips[0].observed).toBe("enabled");
    const dis = await c.command({ type: "vip.disable", vip: "svip" });
    expect(dis.ok && dis.runs[0].stderr.trim()).toBe("warn");
    expect(dis.ok && dis.snapshot.vips[0].observed).toBe("disabled");
    const t = await c.command({ type: "vip.enable", vip: "slowvip" });
    expect(t).toMatchObject({ ok: false, error: { code: "FAILED" } });
    expect(!t.ok && t.runs[0].timedOut).toBe(true);
    expect(!t.ok && t.error.message).toMatch(/timed out/);
    rmDir(dir);
  });
});

test("acks do not wait for the re-read: observed state from the action at once, a disagreeing re-read is reported after", async () => {
  const dir = tempDir("confirm-");
  const mk = (n: string, body: string) => {
    const f = path.join(dir, n);
    writeFileSync(f, `#!/bin/sh\n${body}\n`);
    chmodSync(f, 0o755);
    return f;
  };
  // enable "succeeds" but the address never shows up: the status script says disabled (exit 3)
  const vip = { name: "liar", address: "198.18.0.223", interface: "eth7", driver: "script", observeIntervalMs: 60_000, scripts: { enable: mk("en.sh", "exit 0"), disable: mk("dis.sh", "exit 0"), status: mk("st.sh", "exit 3") } };
  const a = await startAgent({ config: { vips: [vip] } });
  agents.push(a);
  const c = track(new AgentClient(a.url));
  await c.ready();
  const since = c.events.length;
  const en = await c.command({ type: "vip.enable", vip: "liar" });
  expect(en.ok).toBe(true);
  if (!en.ok) return;
  expect(en.runs.map((r) => r.action)).toEqual(["enable"]); // no status run before the ack
  expect(en.snapshot.vips[0].observed).toBe("enabled");
  // the background re-read (long before the 60 s periodic observe) disagrees: reported as vip.state
  const ev = await c.waitEvent((e) => e.type === "vip.state" && e.observed === "disabled", 3000, since);
  expect(ev.type === "vip.state" && ev.desired).toBe("enabled");
  rmDir(dir);
});

test("the example config is valid", async () => {
  const r = await agentMustFail(path.join(process.cwd(), "examples/agent.yaml"), ["--check"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/OK \(1 apps, 1 VIPs, 1 tokens\)/);
  expect(readFileSync("examples/agent.yaml", "utf8")).toMatch(/driver: simulated/);
});
