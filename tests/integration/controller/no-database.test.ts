/**
 * Failover without the database. The controller reaches Postgres through a TCP proxy the test can take
 * away (reset: Postgres stopped; blackhole: a cut cable); the test keeps its own connection to the same
 * real database to look. Real agents and simulated SIP Servers; the controller runs in its own thread as
 * the panel runs it (thread.ts), or in a process of its own where it is killed.
 *
 * What must hold: the leader keeps its term while the database is away, a primary killed meanwhile is
 * failed over at once, what the controller must write waits in its journal and reaches the database in
 * order when it is back — operation, steps, audit rows dated when they happened, the chain intact — and
 * a controller killed during the outage leaves its journal to the next one.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { runController, type ControllerHandle } from "@/lib/controller";
import { livePairViews, localControllerState, localLeaderEpoch } from "@/lib/controller/client";
import { startControllerThread, type ControllerThread } from "@/lib/controller/thread";
import { db } from "@/lib/db";
import { log } from "@/lib/log";
import { verifyAuditChain } from "@/lib/queries/audit-chain";
import * as healthRoute from "@/app/api/health/route";
import { killGroup } from "../agent/helpers";
import { call } from "../api/client";
import { resetDatabase } from "../helpers/db";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";
import { controllerProcess, killControllerProcesses } from "./processes";
import { auditOf, operationsOf, quietLog, startLabPair, steps, waitFor, waitHealthy, waitOperationDone, type LabPair } from "./lab";

const journalDir = process.env.SWITCHYARD_JOURNAL_DIR!;
process.env.LOG_LEVEL = "warn"; // the controller threads' logs (inherited at spawn): what goes wrong only
let lab: LabPair | null = null;
let proxy: TcpProxy | null = null;
let thread: ControllerThread | null = null;
let local: ControllerHandle | null = null;

afterEach(async () => {
  await thread?.stop();
  thread = null;
  await local?.stop();
  local = null;
  killControllerProcesses();
  await proxy?.close();
  proxy = null;
  await lab?.cleanup();
  lab = null;
});
// The audit chain is verified here: rows of earlier files (written under their own audit keys) must go.
beforeAll(() => resetDatabase());
afterAll(() => db.controllerLease.deleteMany());

/** The mode a simulated SIP Server reports on its control port (asked directly: no database involved). */
async function simMode(controlPort: number): Promise<string | null> {
  const r = await fetch(`http://127.0.0.1:${controlPort}/mode`).catch(() => null);
  if (!r?.ok) return null;
  return ((await r.json()) as { mode?: string }).mode ?? null;
}

function journalFiles(): string[] {
  try {
    return readdirSync(journalDir).filter((f) => f.endsWith(".jsonl"));
  } catch {
    return [];
  }
}

/** The records of the journal files (done markers left out). */
function journalRecords(): { t: string; row?: { kind: string } }[] {
  return journalFiles()
    .flatMap((f) => readFileSync(path.join(journalDir, f), "utf8").split("\n"))
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { t?: string; done?: number })
    .filter((x): x is { t: string } => typeof x.t === "string");
}

async function lease() {
  return db.controllerLease.findUnique({ where: { id: 1 } });
}

async function leading(): Promise<number> {
  const l = await waitFor("a leader", async () => {
    const x = await lease();
    return x && x.expiresAt > new Date() ? x : null;
  });
  return l.epoch;
}


it("Postgres away: the leader keeps its term, fails over a killed primary at once, and writes its journal in order when the database is back", async () => {
  proxy = await startTcpProxy(process.env.DATABASE_URL!);
  thread = startControllerThread({ log: log.child({ test: "no-database" }), databaseUrl: proxy.url });
  const epoch = await leading();
  lab = await startLabPair();
  const v0 = await waitHealthy(lab, 0, 30_000);
  expect(await localControllerState()).toEqual({ writes: "database", pending: 0, since: null });

  proxy.down();
  const cutAt = Date.now();
  killGroup(v0.servers[0].pid, "SIGKILL");
  // The backup is promoted with the database away: asked of the SIP Server itself.
  await waitFor("sip-2 primary with the database away", async () => (await simMode(lab!.hosts[1].controlPort)) === "primary", 5000, 10);
  const promotedMs = Date.now() - cutAt;
  await waitFor("sip-1 restarted in backup by its agent", async () => (await simMode(lab!.hosts[0].controlPort)) === "backup", 10_000);

  // Nothing of it is in the database yet; it is in the journal, and the panel is told.
  expect(await operationsOf(lab.pairId)).toEqual([]);
  const journaled = journalRecords();
  expect(journaled.map((r) => r.t)).toEqual(expect.arrayContaining(["insertOperation", "step", "finish"]));
  expect(journaled.find((r) => r.t === "insertOperation")?.row?.kind).toBe("failover");
  const state = await waitFor("the journal announced, with its records", async () => {
    const s = await localControllerState();
    return s?.writes === "journal" && s.pending > 0 ? s : null;
  });
  expect(Date.parse(state.since!)).toBeGreaterThanOrEqual(cutAt - 50);
  // The health check says so too (this instance's database answers: it is the controller's that is cut).
  const health = await call(healthRoute.GET, { path: "/api/health" });
  expect(health.json).toMatchObject({ status: "ok", controller: { writes: "journal", pending: expect.any(Number) } });
  // The term goes on: still leading, in the same epoch (the lease row, unreachable to it, is unchanged).
  expect((await lease())?.epoch).toBe(epoch);

  await new Promise((r) => setTimeout(r, 1500)); // longer than the lease's renewal: the term must not end
  proxy.restore();
  const restoredAt = new Date();

  const op = await waitOperationDone(lab.pairId, "failover", 1, 15_000);
  expect(op.status).toBe("succeeded");
  expect(op.epoch).toBe(epoch);
  expect(steps(op)).toEqual(["promote:succeeded", "vip_enable:succeeded", "vip_disable:succeeded", "verify:succeeded"]);
  expect(op.createdAt.getTime()).toBeLessThan(restoredAt.getTime());
  await waitFor("the journal emptied", async () => journalFiles().length === 0);
  await waitFor("the panel told the database is back", async () => (await localControllerState())?.writes === "database");
  expect((await call(healthRoute.GET, { path: "/api/health" })).json).toMatchObject({ controller: { writes: "database", pending: 0, since: null } });

  // The audit rows: made during the outage, dated then, in the order they happened, the chain intact.
  const ofOp = (await auditOf(lab.pairId)).filter((a) => a.targetId === op.id);
  expect(ofOp.map((a) => a.action)).toEqual(["operation.decided", "operation.step.promote", "operation.step.vip_enable", "operation.step.vip_disable", "operation.step.verify", "operation.finished"]);
  for (const a of ofOp) expect(a.at.getTime()).toBeLessThan(restoredAt.getTime());
  const times = ofOp.map((a) => a.at.getTime());
  expect(times).toEqual([...times].sort((x, y) => x - y));
  const chain = await verifyAuditChain();
  expect(chain, JSON.stringify(chain)).toMatchObject({ ok: true });

  // Same term throughout, and the status rows catch up: the pair is healthy with sip-2 primary.
  expect((await lease())?.epoch).toBe(epoch);
  await waitHealthy(lab, 1);
  console.log(`failover with the database away: sip-2 primary ${promotedMs} ms after the kill`);
});

it("Postgres cut off (no answer at all): the failover does not wait for it", async () => {
  proxy = await startTcpProxy(process.env.DATABASE_URL!);
  thread = startControllerThread({ log: log.child({ test: "no-database" }), databaseUrl: proxy.url });
  const epoch = await leading();
  lab = await startLabPair();
  const v0 = await waitHealthy(lab, 0, 30_000);

  proxy.blackhole();
  const cutAt = Date.now();
  killGroup(v0.servers[0].pid, "SIGKILL");
  await waitFor("sip-2 primary with the database silent", async () => (await simMode(lab!.hosts[1].controlPort)) === "primary", 5000, 10);
  const promotedMs = Date.now() - cutAt;
  // At most the hot path's budget (250 ms) on top of a normal failover: well inside a second here.
  expect(promotedMs).toBeLessThan(2000);

  proxy.restore();
  const op = await waitOperationDone(lab.pairId, "failover", 1, 20_000);
  expect(op.status).toBe("succeeded");
  expect(op.epoch).toBe(epoch);
  await waitFor("the journal emptied", async () => journalFiles().length === 0, 15_000);
  const verified = await verifyAuditChain();
  expect(verified, JSON.stringify(verified)).toMatchObject({ ok: true });
  await waitHealthy(lab, 1, 20_000);
  console.log(`failover with the database silent: sip-2 primary ${promotedMs} ms after the kill`);
});

it("a controller killed during the outage: the next one writes its journal before it reconciles", async () => {
  proxy = await startTcpProxy(process.env.DATABASE_URL!);
  const first = controllerProcess({ DATABASE_URL: proxy.url });
  const epoch = await leading();
  lab = await startLabPair();
  const v0 = await waitHealthy(lab, 0, 30_000);

  proxy.down();
  killGroup(v0.servers[0].pid, "SIGKILL");
  await waitFor("sip-2 primary with the database away", async () => (await simMode(lab!.hosts[1].controlPort)) === "primary", 5000, 10);
  await waitFor("the finished failover journaled", async () => journalRecords().some((r) => r.t === "finish"));
  first.kill();
  await first.exited;
  expect(journalFiles()).toHaveLength(1);

  proxy.restore();
  // A new controller (in its own thread, as the panel runs it) adopts the file nobody holds open any more.
  thread = startControllerThread({ log: log.child({ test: "no-database" }), databaseUrl: process.env.DATABASE_URL! });
  const op = await waitOperationDone(lab.pairId, "failover", 1, 15_000);
  expect(op.status).toBe("succeeded");
  expect(op.epoch).toBe(epoch);
  expect(steps(op)).toEqual(["promote:succeeded", "vip_enable:succeeded", "vip_disable:succeeded", "verify:succeeded"]);
  await waitFor("a new term", async () => ((await lease())?.epoch ?? 0) > epoch);
  await waitFor("the journal adopted and emptied", async () => journalFiles().length === 0);
  expect((await auditOf(lab.pairId)).filter((a) => a.targetId === op.id).map((a) => a.action)).toEqual([
    "operation.decided",
    "operation.step.promote",
    "operation.step.vip_enable",
    "operation.step.vip_disable",
    "operation.step.verify",
    "operation.finished",
  ]);
  const verified = await verifyAuditChain();
  expect(verified, JSON.stringify(verified)).toMatchObject({ ok: true });
  // The failover is written once. (A controller killed without a word lets the agents self-fence after
  // heartbeat + grace: if that passed before the new one connected, it puts the VIP back — vip_repair.)
  await waitHealthy(lab, 1, 20_000);
  const kinds = (await operationsOf(lab.pairId)).map((o) => o.kind);
  expect(kinds.filter((k) => k === "failover")).toHaveLength(1);
  expect(kinds.filter((k) => k !== "failover" && k !== "vip_repair")).toEqual([]);
});

it("another controller elected while the leader is away from the database: the agents follow it, the old term ends, one primary", async () => {
  proxy = await startTcpProxy(process.env.DATABASE_URL!);
  thread = startControllerThread({ log: log.child({ test: "no-database" }), databaseUrl: proxy.url });
  const epoch = await leading();
  lab = await startLabPair();
  const v0 = await waitHealthy(lab, 0, 30_000);

  proxy.down(); // the leader's session ends: Postgres releases its lock
  local = runController({ log: quietLog, databaseUrl: process.env.DATABASE_URL! });
  await waitFor("the second controller leads", async () => local!.epoch !== null);
  expect(local.epoch).toBe(epoch + 1);
  // Its handshakes give the agents the higher epoch; from then on they refuse the first controller's
  // commands, and tell it (agent.epoch): its detached term ends.
  await waitFor("the second controller connected to both agents", async () => {
    if ((await localLeaderEpoch()) !== epoch + 1) return false; // its term is ready (it answers for this process)
    const views = await livePairViews();
    return views?.find((v) => v.id === lab!.pairId)?.servers.every((x) => x.agentConnected) ?? false;
  });
  killGroup(v0.servers[0].pid, "SIGKILL");
  const op = await waitOperationDone(lab.pairId, "failover", 1, 15_000);
  expect(op.status).toBe("succeeded");
  expect(op.epoch).toBe(epoch + 1);
  proxy.restore();
  await waitHealthy(lab, 1, 20_000);
  expect([await simMode(lab.hosts[0].controlPort), await simMode(lab.hosts[1].controlPort)]).toEqual(["backup", "primary"]);
  // Whatever the first controller journaled reaches the database; none of it is an operation of its epoch that acted.
  await waitFor("the first controller's journal written", async () => journalFiles().length === 0, 15_000);
  const ops = await operationsOf(lab.pairId);
  expect(ops.filter((o) => o.epoch === epoch && o.status === "succeeded")).toEqual([]);
  expect((await lease())?.epoch).toBe(epoch + 1);
  const verified = await verifyAuditChain();
  expect(verified, JSON.stringify(verified)).toMatchObject({ ok: true });
});
