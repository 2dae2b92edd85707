/**
 * Issue 6: proof on a real network. Builds its own namespace lab (scripts/lab.sh, unique prefix), runs a
 * real agent in host1 and host2 (linux VIP driver: ip addr add/del on eth0 + gratuitous ARP + arping -D),
 * each managing a simulated SIP Server bound to its own address and to the VIP, the real panel server
 * (production build) in the root namespace with the pair configured through the HTTP API, and probes the
 * VIP from the client namespace with sipp and with the Node prober (connected UDP socket: the reply must
 * come from the VIP). Measures API call -> first 200 from the new primary (manual switchover) and
 * kill -9 -> first 200 from the backup (failover); prints median and worst and writes
 * bench/results/lab.json and bench/results/lab.md.
 *
 * Needs root, iproute2, iputils-arping, nftables, sip-tester and a production build (scripts/test.sh runs
 * `next build`; alone: `flock /tmp/switchyard-next.lock npx next build`).
 */
import { execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PanelApi, type AlarmLite, type OperationLite, type PairViewLite } from "../../../lab/api";
import { holdFlock, Lab, labSkipReason, ProberClient, REPO, now, randomPrefix, randomToken, stats, waitFor, type HostNode } from "../../../lab/harness";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { ensureNextBuild, hasNextBuild, startServer, type StartedServer } from "../helpers/server";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";

const skipReason = labSkipReason("it creates network namespaces and moves an IP address between them");

/** Repetitions for robust numbers (each is a full failover; the 20 switchovers of test 6 add manual samples). */
const FAILOVER_RUNS = Number(process.env.SY_LAB_FAILOVER_RUNS ?? 10);
/** Failovers with the panel's database down (each with an outage, a restore and the journal written). */
const NO_DB_RUNS = Number(process.env.SY_LAB_NO_DB_RUNS ?? 3);
const SWITCHES = 20;
const other = (h: HostNode): HostNode => (h === "host1" ? "host2" : "host1");

describe.skipIf(skipReason !== null)(`network lab: the VIP really moves${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  let lab: Lab;
  let srv: StartedServer;
  let api: PanelApi;
  let prober: ProberClient;
  let pairId: string;
  let vipTarget: string;
  const hostIds: Record<HostNode, string> = { host1: "", host2: "" };
  const samples = {
    manual: [] as { ms: number; to: HostNode; apiMs: number; steps: StepTiming[] }[],
    failover: [] as { ms: number; to: HostNode; steps: StepTiming[] }[],
    disconnect: [] as { ms: number; to: HostNode }[],
    failoverNoDb: [] as { ms: number; to: HostNode }[],
  };
  /** The panel reaches its database through this proxy: test 7 takes the database away from it. */
  let db: TestDatabase;
  let dbProxy: TcpProxy;

  async function view(): Promise<PairViewLite> {
    const v = await api.pair(pairId);
    if (!v) throw new Error("the controller has not published a view of the pair yet");
    return v;
  }

  /** The pair is healthy with `primary` holding the VIP, in the panel's view and on the network. */
  async function waitSteady(primary: HostNode, timeoutMs = 20_000): Promise<PairViewLite> {
    return waitFor(
      `pair healthy with ${primary} primary`,
      async () => {
        const v = await view();
        const p = v.servers.find((s) => s.mode === "primary");
        if (v.status !== "healthy" || p?.hostName !== primary) throw new Error(`view: ${v.status} (${v.statusReason}), primary ${p?.hostName ?? "none"}`);
        const holders = await lab.vipHolders();
        if (holders.join() !== primary) throw new Error(`VIP held by [${holders.join(", ")}]`);
        return v;
      },
      timeoutMs,
      100,
    );
  }

  async function waitOperation(id: string, timeoutMs = 20_000): Promise<OperationLite> {
    return waitFor(
      `operation ${id} to finish`,
      async () => {
        const op = await api.operation(id);
        return op.status === "succeeded" || op.status === "failed" ? op : null;
      },
      timeoutMs,
      50,
    );
  }

  /** Ids of the pair's operations so far (to tell the next one apart). */
  async function operationIds(): Promise<Set<string>> {
    return new Set((await api.operations(pairId, 500)).map((o) => o.id));
  }

  /** The newest operation of `kind` that is not in `before`, once finished. */
  async function finishedOperation(kind: string, before: Set<string>, timeoutMs = 20_000): Promise<OperationLite> {
    const found = await waitFor(
      `a finished ${kind} operation`,
      async () =>
        (await api.operations(pairId)).find((o) => o.kind === kind && !before.has(o.id) && (o.status === "succeeded" || o.status === "failed")) ?? null,
      timeoutMs,
      50,
    );
    return api.operation(found.id);
  }

  async function activeAlarms(): Promise<AlarmLite[]> {
    return (await api.alarms("?state=active")).filter((a) => a.pairId === pairId || a.hostId === hostIds.host1 || a.hostId === hostIds.host2);
  }

  /** Manual switchover to `to` through the API; returns ms from the API call to the first 200 from `to`. */
  async function manualSwitchover(to: HostNode, record = true): Promise<{ ms: number; op: OperationLite }> {
    const u = prober.until(vipTarget, { host: to, status: 200 }, { intervalMs: 2, maxMs: 15_000 });
    await u.started;
    const t0 = now();
    const res = await api.switchover(pairId, `lab test: switchover to ${to}`);
    const apiMs = now() - t0;
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const opId = (res.body as { operation: { id: string } }).operation.id;
    const r = await u.result;
    expect(r.matched, `${r.error}; answers seen: ${JSON.stringify(r.byAnswer)}`).toBe(true);
    const ms = r.matchedAt! - t0;
    const op = await waitOperation(opId);
    expect(op.status, op.error ?? "").toBe("succeeded");
    if (record)
      samples.manual.push({
      ms,
      to,
      apiMs,
      steps: stepTimings(op, t0),
    });
    return { ms, op };
  }

  /** The primary of a steady pair (healthy, VIP on exactly that host). */
  async function steadyPrimary(timeoutMs = 30_000): Promise<HostNode> {
    return waitFor(
      "a steady pair",
      async () => {
        const v = await view();
        const p = v.servers.find((s) => s.mode === "primary")?.hostName as HostNode | undefined;
        if (v.status !== "healthy" || !p) throw new Error(`view: ${v.status} (${v.statusReason})`);
        const holders = await lab.vipHolders();
        if (holders.join() !== p) throw new Error(`VIP held by [${holders.join(", ")}], primary ${p}`);
        return p;
      },
      timeoutMs,
      100,
    );
  }

  /** Each test starts from the source document's initial state (host1 primary), whatever the previous one left. */
  async function startFromHost1(): Promise<void> {
    if ((await steadyPrimary()) !== "host1") {
      await manualSwitchover("host1", false);
      await waitSteady("host1");
    }
  }

  async function expectServedBy(host: HostNode): Promise<void> {
    const p = await prober.once(vipTarget, 2000);
    expect(p.status, JSON.stringify(p)).toBe(200);
    expect(p.host).toBe(host);
    expect(p.from).toBe(lab.addr.vip);
    const s = await lab.sipp();
    expect(s.ok, s.output).toBe(true);
    expect(s.host).toBe(host);
  }

  let loadStart = 0;

  let buildHold: ChildProcess | undefined;

  beforeAll(async () => {
    loadStart = round(os.loadavg()[0]!);
    // A shared hold on the build lock for the whole suite: a `flock /tmp/switchyard-next.lock next build`
    // started meanwhile (several people share this working tree) waits instead of replacing the build
    // under our server.
    for (let i = 0; i < 3 && !buildHold; i++) {
      ensureNextBuild();
      const hold = await holdFlock("/tmp/switchyard-next.lock", 600_000, true);
      if (hasNextBuild()) buildHold = hold;
      else hold.stdin?.end(); // a build was replacing it while we waited: build again, then hold
    }
    if (!buildHold) throw new Error("no stable production build (.next) to test against");
    lab = await Lab.setup({ prefix: randomPrefix() });
    vipTarget = `${lab.addr.vip}:5060`;
    const token = randomToken();
    await Promise.all([
      lab.startAgent({ host: "host1", token, autostartMode: "primary", heartbeatTimeoutMs: 3000, dadIntervalMs: 1000 }),
      lab.startAgent({ host: "host2", token, autostartMode: "backup", heartbeatTimeoutMs: 3000, dadIntervalMs: 1000 }),
    ]);
    db = await createTestDatabase();
    dbProxy = await startTcpProxy(db.url);
    srv = await startServer({ databaseUrl: dbProxy.url, env: { LOG_LEVEL: process.env.SY_LAB_SERVER_LOG ? "debug" : "warn" } });
    api = new PanelApi(srv.url);
    api.useToken(srv.adminToken!);
    const created = await api.createLabPair(lab, token, `lab-${lab.prefix}`, {
      autoFailover: true,
      disconnectGraceSeconds: 1,
      heartbeatTimeoutMs: 1000,
      holdDownSeconds: 0,
    });
    Object.assign(hostIds, created.hostIds);
    pairId = created.pairId;
    prober = lab.startProber();
    await prober.ready(vipTarget);
    await waitSteady("host1", 30_000);
  }, 400_000);

  afterAll(async () => {
    if (process.env.SY_LAB_SERVER_LOG && srv) writeFileSync(process.env.SY_LAB_SERVER_LOG, srv.output());
    prober?.close();
    await srv?.stop().catch(() => undefined);
    await dbProxy?.close();
    await db?.drop().catch(() => undefined);
    await lab?.teardown();
    buildHold?.stdin?.end();
    writeResults();
  }, 60_000);

  function writeResults(): void {
    if (samples.manual.length + samples.failover.length === 0) return;
    const m = stats(samples.manual.map((s) => s.ms));
    const f = stats(samples.failover.map((s) => s.ms));
    const d = stats(samples.disconnect.map((s) => s.ms));
    const n = stats(samples.failoverNoDb.map((s) => s.ms));
    const stepStats = summariseSteps(samples.manual.map((s) => s.steps));
    const failoverSteps = summariseSteps(samples.failover.map((s) => s.steps));
    let commit = "unknown";
    try {
      commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8" }).trim();
    } catch {
      /* not a git checkout */
    }
    const result = {
      generatedAt: new Date().toISOString(),
      commit,
      machine: {
        kernel: os.release(),
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "unknown",
        node: process.version,
        // Other work on the machine skews every number: the 1-minute load average at the start and the end.
        loadavgStart: loadStart,
        loadavgEnd: round(os.loadavg()[0]!),
      },
      method:
        "Network namespaces on a Linux bridge; agents with the linux VIP driver (ip addr add/del + gratuitous ARP); " +
        "the client probes the VIP with SIP OPTIONS every 2 ms over a connected UDP socket; time = first 200 from the new primary minus the action's start.",
      targets: { failoverMedianMs: 30, manualSwitchoverMedianMs: 40, keepalivedTightestMs: 36, physicalFloorMs: "10-19" },
      manualSwitchover: { ...m, from: "POST /api/pairs/:id/switchover sent", samples: samples.manual.map((s) => round(s.ms)), apiResponseMs: stats(samples.manual.map((s) => s.apiMs)), stepsMsAfterT0: stepStats },
      failover: { ...f, from: "kill -9 of the primary SIP Server", samples: samples.failover.map((s) => round(s.ms)), stepsMsAfterT0: failoverSteps },
      disconnectFailover: { ...d, from: "host1 cut from the panel (nft), heartbeat 1000 ms + grace 1 s", samples: samples.disconnect.map((s) => round(s.ms)) },
      failoverDatabaseDown: { ...n, from: "kill -9 of the primary SIP Server, the panel's database down (connections reset and refused)", samples: samples.failoverNoDb.map((s) => round(s.ms)) },
    };
    const dir = path.join(REPO, "bench", "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "lab.json"), JSON.stringify(result, null, 2) + "\n");
    const row = (name: string, s: ReturnType<typeof stats>, target: string) =>
      `| ${name} | ${s.n} | ${fmt(s.median)} | ${fmt(s.worst)} | ${fmt(s.best)} | ${target} |`;
    const md = [
      `# Lab results (\`npm run test:integration -- tests/integration/lab\`)`,
      ``,
      `${result.generatedAt}, commit ${commit}, ${result.machine.cpus} CPUs (${result.machine.cpuModel}), kernel ${result.machine.kernel}, Node ${result.machine.node}, ` +
        `1-minute load average ${result.machine.loadavgStart} at the start and ${result.machine.loadavgEnd} at the end.`,
      ``,
      `| measurement | runs | median ms | worst ms | best ms | target |`,
      `|---|---|---|---|---|---|`,
      row("Manual switchover: API call → first SIP 200 from the new primary through the VIP", m, "median ≤ 40 ms"),
      row("Failover: `kill -9` of the primary → first SIP 200 from the backup through the VIP", f, "median ≤ 30 ms"),
      row("Failover with the panel's database down: `kill -9` → first 200 from the backup", n, "as without"),
      row("Disconnect: host1 cut from the panel → first 200 from host2 (heartbeat 1 s + grace 1 s)", d, "—"),
      ``,
      `Reference: keepalived at its tightest 36 ms; the physical floor of an IP takeover with a gratuitous ARP here is 10-19 ms.`,
      ``,
      `Where the time goes (median ms after the API call / the kill: step started → step finished, from the operation's steps):`,
      ``,
      `- manual switchover: API answered 202 after ${fmt(stats(samples.manual.map((s) => s.apiMs)).median)}; ${describeSummary(stepStats)}`,
      `- failover: ${describeSummary(failoverSteps)}`,
      ``,
    ].join("\n");
    writeFileSync(path.join(dir, "lab.md"), md);
    console.log(
      `[lab] manual switchover: median ${fmt(m.median)} ms, worst ${fmt(m.worst)} ms (n=${m.n}); failover: median ${fmt(f.median)} ms, worst ${fmt(f.worst)} ms (n=${f.n}); failover with the database down: median ${fmt(n.median)} ms, worst ${fmt(n.worst)} ms (n=${n.n}); disconnect: ${fmt(d.median)} ms (n=${d.n}) -> bench/results/lab.json`,
    );
  }

  it("1. before: OPTIONS to the VIP is answered 200 by host1; host2's own address answers 503", async () => {
    await expectServedBy("host1");
    const own2 = await prober.once(`${lab.addr.host2}:5060`, 2000);
    expect(own2.status, JSON.stringify(own2)).toBe(503);
    expect(own2.host).toBe("host2");
    expect(own2.from).toBe(lab.addr.host2);
    expect(await lab.vipHolders()).toEqual(["host1"]);
  });

  it("2. manual switchover through the API: VIP on host2 only, 200 from host2, client's ARP entry has host2's MAC", async () => {
    const { ms, op } = await manualSwitchover("host2");
    expect(op.kind).toBe("manual_switchover");
    expect(await lab.vipHolders()).toEqual(["host2"]);
    await expectServedBy("host2");
    const neigh = await lab.clientNeigh();
    expect(neigh?.mac).toBe(await lab.mac("host2"));
    await waitSteady("host2");
    console.log(`[lab] manual switchover host1 -> host2: ${ms.toFixed(1)} ms from the API call to the first 200 from host2`);
    // Back to host1 (a second sample) so that the next test starts from the source document's initial state.
    const back = await manualSwitchover("host1");
    await waitSteady("host1");
    expect((await lab.clientNeigh())?.mac).toBe(await lab.mac("host1"));
    console.log(`[lab] manual switchover host2 -> host1: ${back.ms.toFixed(1)} ms`);
  });

  it(`3. primary failure: kill -9 of the primary's SIP Server, the backup answers through the VIP (${FAILOVER_RUNS} runs)`, async () => {
    await startFromHost1();
    let primary: HostNode = "host1";
    const failedOps: string[] = [];
    for (let i = 0; i < FAILOVER_RUNS; i++) {
      const backup = other(primary);
      const pid = await lab.simPid(primary);
      expect(pid, `no SIP Server process in ${primary}`).toBeTruthy();
      const before = await operationIds();
      const u = prober.until(vipTarget, { host: backup, status: 200 }, { intervalMs: 2, maxMs: 15_000 });
      await u.started;
      const t0 = now();
      process.kill(pid!, "SIGKILL");
      const r = await u.result;
      expect(r.matched, `${r.error}; answers seen: ${JSON.stringify(r.byAnswer)}`).toBe(true);
      const ms = r.matchedAt! - t0;
      samples.failover.push({ ms, to: backup, steps: [] });
      console.log(`[lab] failover ${i + 1}: kill -9 on ${primary} -> first 200 from ${backup} after ${ms.toFixed(1)} ms`);
      // The controller's decision is recorded with its reason, and the failover operation completes.
      const op = await finishedOperation("failover", before);
      samples.failover[samples.failover.length - 1]!.steps = stepTimings(op, t0);
      console.log(`[lab]   steps (ms after the kill): ${describeSteps(samples.failover[samples.failover.length - 1]!.steps)}`);
      expect(op.decision ?? "").toContain("SIGKILL");
      // Checked after the loop, so that one bad operation does not hide the other runs' timings.
      if (op.status !== "succeeded") failedOps.push(`run ${i + 1}: ${op.status}: ${op.error}`);
      // The killed host no longer holds the VIP; the client reaches the backup through the VIP.
      await waitFor(`VIP only on ${backup}`, async () => (await lab.vipHolders()).join() === backup, 5000, 20);
      await expectServedBy(backup);
      // The failed server is restarted in backup mode (by its agent); then the pair is healthy again.
      await waitSteady(backup, 30_000);
      primary = backup;
    }
    expect(failedOps, "every failover operation succeeds").toEqual([]);
    if (primary !== "host1") {
      await manualSwitchover("host1");
      await waitSteady("host1");
    }
  });

  it("4. primary disconnected: cut from the panel, backup promoted; restored: host1 demoted, VIP on one host", async () => {
    await startFromHost1();
    const before = await operationIds();
    const u = prober.until(vipTarget, { host: "host2", status: 200 }, { intervalMs: 5, maxMs: 30_000 });
    await u.started;
    const t0 = now();
    await lab.cut("host1");
    try {
      const r = await u.result;
      expect(r.matched, `${r.error}; answers seen: ${JSON.stringify(r.byAnswer)}`).toBe(true);
      samples.disconnect.push({ ms: r.matchedAt! - t0, to: "host2" });
      console.log(`[lab] disconnect failover: host1 cut -> first 200 from host2 after ${(r.matchedAt! - t0).toFixed(0)} ms`);
      // host1's processes keep running; its agent, cut from the controller for heartbeat + grace, takes its
      // own VIP down (self-fencing), so host2 alone holds it.
      expect(await lab.simPid("host1")).toBeTruthy();
      await waitFor("host2 alone holds the VIP (host1 fenced itself)", async () => (await lab.vipHolders()).join() === "host2", 5000, 20);
      // The panel's view (persisted by the controller) follows within moments.
      const v = await waitFor(
        "the panel to show host1 disconnected and host2 primary",
        async () => {
          const v = await view();
          const s1 = v.servers.find((s) => s.hostName === "host1");
          const s2 = v.servers.find((s) => s.hostName === "host2");
          return s1?.agentConnected === false && s2?.mode === "primary" ? v : null;
        },
        5000,
        50,
      );
      expect(v.servers.find((s) => s.hostName === "host1")?.agentConnected).toBe(false);
      expect((await activeAlarms()).map((a) => a.kind)).toContain("host_disconnected");
      await expectServedBy("host2");
      // Should the cut host still hold the VIP (fencing off, or before it fences) and announce it, as any
      // datagram or ARP of its own may, the client's ARP entry follows it. Issue 13 saw 7.4 s without an
      // answer after the resolution then. Made here by hand.
      await lab.addVipByHand("host1");
      await lab.announceByHand("host1");
      await waitFor("the client's ARP entry on host1", async () => (await lab.clientNeigh())?.mac === (await lab.mac("host1")), 2000, 20);
    } finally {
      await lab.restore("host1");
    }
    // Restored: the controller finds both primary, demotes host1 (its agent removes its VIP) and tells
    // host2 primary again, whose agent announces the VIP: the client is back on host2 at once.
    await waitSteady("host2", 30_000);
    const resolution = await finishedOperation("split_brain_resolution", before);
    expect(resolution.status, `split brain resolution: ${resolution.error}`).toBe("succeeded");
    expect(await lab.vipHolders()).toEqual(["host2"]);
    expect((await lab.clientNeigh())?.mac).toBe(await lab.mac("host2"));
    await expectServedBy("host2");
    const announced = resolution.steps.find((s) => s.action === "vip_enable");
    expect((announced?.output ?? []).some((r) => r.action === "arp" && r.ok), JSON.stringify(announced?.output)).toBe(true);
    await manualSwitchover("host1");
    await waitSteady("host1");
    expect(await lab.vipHolders()).toEqual(["host1"]);
    await expectServedBy("host1");
  });

  it("5. the VIP added by hand on the backup's host: seen on both hosts, alarmed, taken away by a VIP repair that announces it again from host1", async () => {
    await startFromHost1();
    expect(await lab.vipHolders()).toEqual(["host1"]);
    const before = await operationIds();
    await lab.addVipByHand("host2");
    try {
      expect((await lab.vipHolders()).sort()).toEqual(["host1", "host2"]);
      // The invariant (exactly one holder, the primary's host) is repaired: sip-2 is demoted (its agent
      // removes the stray address) and sip-1 is told primary again (its agent announces the VIP).
      const repair = await finishedOperation("vip_repair", before);
      expect(repair.status, `VIP repair: ${repair.error}`).toBe("succeeded");
      expect(repair.decision).toMatch(/^VIP 198\.18\.0\.\d+ is enabled on host2 too; disabling it there \(demoting sip-2\); enabling it on host1 and announcing it$/);
      expect(repair.steps.map((s) => `${s.action}:${s.status}`)).toEqual(["demote:succeeded", "vip_disable:succeeded", "promote:succeeded", "vip_enable:succeeded", "verify:succeeded"]);
      const all = await api.alarms("?state=all");
      expect(all.some((a) => a.pairId === pairId && a.kind === "vip_on_both_hosts")).toBe(true);
    } finally {
      await lab.delVipByHand("host2");
    }
    expect(await lab.vipHolders()).toEqual(["host1"]);
    await expectServedBy("host1");
  });

  it(`7. the panel's database down: kill -9 of the primary, the backup answers through the VIP, the journal reaches the database (${NO_DB_RUNS} runs)`, async () => {
    await startFromHost1();
    let primary: HostNode = "host1";
    for (let i = 0; i < NO_DB_RUNS; i++) {
      const backup = other(primary);
      const pid = await lab.simPid(primary);
      expect(pid, `no SIP Server process in ${primary}`).toBeTruthy();
      const before = await operationIds();
      dbProxy.down(); // as Postgres stopping: every connection reset, every new one refused
      try {
        await new Promise((r) => setTimeout(r, 300)); // the controller has seen it go
        const health = await fetch(`${srv.url}/api/health`);
        expect(health.status).toBe(503);
        const u = prober.until(vipTarget, { host: backup, status: 200 }, { intervalMs: 2, maxMs: 15_000 });
        await u.started;
        const t0 = now();
        process.kill(pid!, "SIGKILL");
        const r = await u.result;
        expect(r.matched, `${r.error}; answers seen: ${JSON.stringify(r.byAnswer)}`).toBe(true);
        const ms = r.matchedAt! - t0;
        samples.failoverNoDb.push({ ms, to: backup });
        console.log(`[lab] failover with the database down ${i + 1}: kill -9 on ${primary} -> first 200 from ${backup} after ${ms.toFixed(1)} ms`);
        await waitFor(`VIP only on ${backup}`, async () => (await lab.vipHolders()).join() === backup, 5000, 20);
        // The health check (its own database is down too) says the controller runs on its journal.
        const h = (await (await fetch(`${srv.url}/api/health`)).json()) as { controller: { writes: string; pending: number } | null };
        expect(h.controller).toMatchObject({ writes: "journal" });
      } finally {
        dbProxy.restore();
      }
      // Back: the operation the controller ran meanwhile is in the database, as it happened.
      const op = await finishedOperation("failover", before);
      expect(op.status, op.error ?? "").toBe("succeeded");
      expect(op.decision ?? "").toContain("SIGKILL");
      await waitSteady(backup, 30_000);
      primary = backup;
    }
    const verify = await api.ok<{ ok: boolean }>("GET", "/api/audit/verify");
    expect(verify.ok).toBe(true);
    if (primary !== "host1") {
      await manualSwitchover("host1", false);
      await waitSteady("host1");
    }
  });

  it(`6. switch back and forth ${SWITCHES} times: every time exactly one VIP holder and a 200 through the VIP`, async () => {
    let to: HostNode = other(await steadyPrimary());
    for (let i = 0; i < SWITCHES; i++) {
      await waitSteady(other(to));
      const { ms } = await manualSwitchover(to);
      expect(await lab.vipHolders()).toEqual([to]);
      const p = await prober.once(vipTarget, 2000);
      expect(p.status).toBe(200);
      expect(p.host).toBe(to);
      expect(p.from).toBe(lab.addr.vip);
      console.log(`[lab] switch ${i + 1}/${SWITCHES} to ${to}: ${ms.toFixed(1)} ms`);
      to = other(to);
    }
    await steadyPrimary();
  }, 240_000);
});

interface StepTiming {
  action: string;
  /** ms after t0 (API call or kill) when the step started and finished (database timestamps, 1 ms resolution). */
  start: number | null;
  end: number | null;
}

function stepTimings(op: OperationLite, t0: number): StepTiming[] {
  return op.steps.map((s) => ({
    action: s.action,
    start: s.startedAt ? Date.parse(s.startedAt) - t0 : null,
    end: s.finishedAt ? Date.parse(s.finishedAt) - t0 : null,
  }));
}

function describeSteps(steps: StepTiming[]): string {
  return steps.map((s) => `${s.action} ${s.start === null ? "?" : s.start.toFixed(0)}→${s.end === null ? "?" : s.end.toFixed(0)}`).join(", ");
}

function summariseSteps(runs: StepTiming[][]): Record<string, { start: number; end: number; n: number }> {
  const out: Record<string, { start: number; end: number; n: number }> = {};
  for (const a of new Set(runs.flatMap((r) => r.map((x) => x.action)))) {
    const xs = runs.flatMap((r) => r.filter((x) => x.action === a && x.start !== null && x.end !== null));
    out[a] = { start: stats(xs.map((x) => x.start!)).median, end: stats(xs.map((x) => x.end!)).median, n: xs.length };
  }
  return out;
}

function describeSummary(s: Record<string, { start: number; end: number }>): string {
  return Object.entries(s).map(([a, v]) => `${a} ${fmt(v.start)}→${fmt(v.end)}`).join(", ") || "n/a";
}

const round = (n: number) => Math.round(n * 10) / 10;
const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
