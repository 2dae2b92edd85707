/**
 * Leadership with two controllers on one database (two panel instances, here in one process: each has
 * its own lock connection, so Postgres sees two sessions). Exactly one acts; stopping it hands over to
 * the other with a higher epoch; the agents refuse the old epoch's commands (fencing).
 */
import { afterAll, afterEach, expect, it } from "vitest";
import { getPool } from "@/lib/db";
import { db } from "@/lib/db";
import { runController, type ControllerHandle } from "@/lib/controller";
import { LEADER_LOCK_KEY } from "@/lib/controller/leader";
import { AgentLink } from "@/lib/controller/link";
import { localLeaderEpoch } from "@/lib/controller/client";
import { operationsOf, startLabPair, waitFor, waitHealthy, waitOperationDone, type LabPair } from "./lab";
import { switchover } from "./api";
import { TEST_TOKEN } from "../agent/helpers";

const quiet = { info: () => {}, warn: () => {}, error: (m: string, f?: object) => console.error(m, f) };
const controllers: ControllerHandle[] = [];
let lab: LabPair | null = null;
let link: AgentLink | null = null;

afterEach(async () => {
  link?.close();
  link = null;
});
afterAll(async () => {
  for (const c of controllers) await c.stop();
  await lab?.cleanup();
});

/** Sessions holding the leader's advisory lock, seen by Postgres. */
async function lockHolders(): Promise<number> {
  const r = await getPool().query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1::int AND classid = 0`,
    [LEADER_LOCK_KEY],
  );
  return Number(r.rows[0].n);
}

it("exactly one of two controllers acts; stopping it hands over with a higher epoch; agents refuse the old epoch", async () => {
  lab = await startLabPair();
  const a = runController({ log: quiet, databaseUrl: process.env.DATABASE_URL! });
  controllers.push(a);
  await waitFor("a leader", async () => a.epoch !== null);
  const b = runController({ log: quiet, databaseUrl: process.env.DATABASE_URL! });
  controllers.push(b);
  await waitHealthy(lab, 0);
  // b has tried at least twice by now (it retries every second): it still holds no lock.
  await new Promise((r) => setTimeout(r, 2200));
  expect(a.epoch).not.toBeNull();
  expect(b.epoch).toBeNull();
  expect(await lockHolders()).toBe(1);
  const epoch1 = a.epoch!;
  const lease1 = await db.controllerLease.findUniqueOrThrow({ where: { id: 1 } });
  expect(lease1).toMatchObject({ holder: a.id, epoch: epoch1 });

  // The leader acts: the operation carries its epoch.
  const r1 = await switchover(lab.pairId, { reason: "leader a" });
  expect(r1.status).toBe(202);
  const op1 = await waitOperationDone(lab.pairId, "manual_switchover", 1);
  expect(op1.status).toBe("succeeded");
  expect(op1.epoch).toBe(epoch1);
  await waitHealthy(lab, 1);

  // Stop the leader: b takes over within its retry interval, with the next epoch.
  const t0 = Date.now();
  await a.stop();
  expect(a.epoch).toBeNull();
  await waitFor("b leads", async () => b.epoch !== null, 10_000, 20);
  const handoverMs = Date.now() - t0;
  expect(handoverMs).toBeLessThan(5000);
  const epoch2 = b.epoch!;
  expect(epoch2).toBeGreaterThan(epoch1);
  expect(await lockHolders()).toBe(1);
  expect(await db.controllerLease.findUniqueOrThrow({ where: { id: 1 } })).toMatchObject({ holder: b.id, epoch: epoch2 });
  await waitFor("b's handle serves the API of this process", async () => (await localLeaderEpoch()) === epoch2);

  // b acts, with its epoch; a does not (its term is over: every operation of the pair after the
  // handover carries epoch2).
  await waitHealthy(lab, 1);
  const r2 = await switchover(lab.pairId, { reason: "leader b" });
  expect(r2.status).toBe(202);
  const op2 = await waitOperationDone(lab.pairId, "manual_switchover", 2);
  expect(op2.status).toBe("succeeded");
  expect(op2.epoch).toBe(epoch2);
  await waitHealthy(lab, 0);
  expect((await operationsOf(lab.pairId)).map((o) => o.epoch)).toEqual([epoch1, epoch2]);

  // Fencing: a command stamped with the old epoch is refused by the agent (which has seen epoch2).
  const host = lab.hosts[1];
  link = new AgentLink(
    { id: host.hostId, name: host.name, address: "127.0.0.1", agentUrl: host.agent.url, agentToken: TEST_TOKEN },
    { controllerId: "stale-controller", epoch: epoch1, heartbeatTimeoutMs: 3000, log: quiet },
  );
  const up = new Promise<void>((resolve) => link!.once("snapshot", () => resolve()));
  link.start();
  await up;
  const stale = new Promise<number>((resolve) => link!.once("staleEpoch", resolve));
  const ack = await link.command({ type: "app.setMode", app: "sip", mode: "primary" });
  expect(ack.ok).toBe(false);
  if (ack.ok) return;
  expect(ack.error.code).toBe("STALE_EPOCH");
  expect(ack.highestEpoch).toBe(epoch2);
  expect(await stale).toBe(epoch2);
  // And it changed nothing: the backup is still backup.
  const v = await waitHealthy(lab, 0);
  expect(v.servers[1].mode).toBe("backup");
});
