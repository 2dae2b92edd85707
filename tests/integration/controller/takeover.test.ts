/**
 * A panel killed between demote and promote (issue 13, finding 3): the leading controller demotes the
 * primary, then dies (SIGKILL, by the test hook CRASH_AFTER_STEP=demote), leaving both servers in backup
 * mode. Measured from its death to the moment exactly one SIP Server is primary again (asked of the SIP
 * Servers themselves, every 5 ms):
 *
 *  - two instances: the standby takes the leader lock as soon as Postgres sees the dead session (at once:
 *    the kernel closes its socket), begins a new term, reconciles the operation from its recorded steps and
 *    promotes: within the standby's retry period (1 s) plus the reconciliation;
 *  - one instance: nothing happens until the panel is started again (by systemd, `Restart=always`); here it
 *    is started the moment the first one died, the best a supervisor can do.
 *
 * Controllers run as processes of their own (controller-main.ts), real agents and simulated SIP Servers.
 * The times are printed (a benchmark, not an assertion); what is asserted is the outcome.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { stats } from "../../../lab/harness";
import { switchover } from "./api";
import { auditOf, startLabPair, steps, waitFor, waitHealthy, type LabPair } from "./lab";
import { controllerProcess, killControllerProcesses } from "./processes";

const RUNS = Number(process.env.SY_TAKEOVER_RUNS ?? 2);
let lab: LabPair | null = null;

afterEach(() => killControllerProcesses());
afterAll(async () => {
  await lab?.cleanup();
  await db.controllerLease.deleteMany();
});

async function simMode(controlPort: number): Promise<string | null> {
  const r = await fetch(`http://127.0.0.1:${controlPort}/mode`).catch(() => null);
  return r?.ok ? (((await r.json()) as { mode?: string }).mode ?? null) : null;
}

async function primaries(l: LabPair): Promise<number[]> {
  const modes = await Promise.all(l.hosts.map((h) => simMode(h.controlPort)));
  return modes.flatMap((m, i) => (m === "primary" ? [i] : []));
}

async function leaseEpoch(): Promise<number> {
  return (await db.controllerLease.findUnique({ where: { id: 1 } }))?.epoch ?? 0;
}

/** One kill between demote and promote; `second` starts the next controller (standby already, or now). */
async function killMidSwitchover(mode: "standby" | "restart"): Promise<number> {
  lab ??= await startLabPair();
  const epoch0 = await leaseEpoch();
  const first = controllerProcess({ CRASH_AFTER_STEP: "demote" });
  await waitFor("the first controller leads", async () => (await leaseEpoch()) > epoch0, 20_000);
  const [from] = await waitFor("one primary", async () => {
    const p = await primaries(lab!);
    return p.length === 1 ? (p as [0 | 1]) : null;
  }, 30_000);
  await waitHealthy(lab, from, 30_000);
  // The standby: started and trying for the lock before the switchover is requested.
  let second = mode === "standby" ? controllerProcess({ LOG_LEVEL: "info" }) : null;
  if (second) await waitFor("the standby started", async () => second!.out.join("").includes("standing by for leadership"), 20_000);

  const r = await switchover(lab.pairId, { reason: `takeover test (${mode})` });
  expect(r.status).toBe(202);
  // It dies after the demote; should it finish (or refuse) the operation instead, say why.
  const finished = waitFor("the operation to end", () => db.operation.findFirst({ where: { id: r.body.operation!.id, status: { in: ["succeeded", "failed"] } } }), 60_000, 100);
  const died = await Promise.race([first.exited, finished.then((o) => Promise.reject(new Error(`the first controller ended the switchover (${o.status}: ${o.error}) instead of dying after the demote`)))]);
  expect(died.signal === "SIGKILL" || died.code === 137).toBe(true);
  // Between the steps: both servers backup.
  expect(await primaries(lab)).toEqual([]);
  second ??= controllerProcess(); // one instance: its supervisor starts it again at once
  await waitFor("exactly one primary again", async () => (await primaries(lab!)).length === 1, 30_000, 5);
  const ms = performance.timeOrigin + performance.now() - died.at;

  const op = await waitFor("the switchover finished by the next leader", async () => {
    const o = await db.operation.findUnique({ where: { id: r.body.operation!.id }, include: { steps: { orderBy: { seq: "asc" } } } });
    return o && (o.status === "succeeded" || o.status === "failed") ? o : null;
  }, 30_000);
  expect(op.status).toBe("succeeded");
  expect(steps(op)).toEqual(["demote:succeeded", "vip_disable:succeeded", "promote:succeeded", "vip_enable:succeeded", "verify:succeeded"]);
  const reconciled = (await auditOf(lab.pairId)).filter((a) => a.action === "operation.reconciled" && a.targetId === op.id);
  expect(reconciled).toHaveLength(1);
  const to = (1 - from) as 0 | 1;
  await waitHealthy(lab, to, 20_000);
  expect(await primaries(lab)).toEqual([to]);
  second.kill("SIGTERM");
  await second.exited;
  return ms;
}

describe("a panel killed between demote and promote", () => {
  for (const mode of ["standby", "restart"] as const) {
    it(`${mode === "standby" ? "two instances: the standby" : "one instance, restarted at once: it"} reconciles and promotes; exactly one primary (${RUNS} runs)`, async () => {
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push(await killMidSwitchover(mode));
      const s = stats(times);
      console.log(`[takeover] ${mode}: death of the leader → exactly one primary: median ${s.median.toFixed(0)} ms, worst ${s.worst.toFixed(0)} ms, best ${s.best.toFixed(0)} ms (n=${s.n}; ${times.map((t) => t.toFixed(0)).join(", ")})`);
    }, 120_000);
  }
});
