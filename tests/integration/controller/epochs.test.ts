/**
 * Epochs that recover (issue 13): a forged handshake with the right token and a huge epoch no longer
 * fences the controller for good — holding the lease, it moves its term above the agent's epoch; and a
 * second Switchyard (another database, another cluster) given the same token is refused by the agents,
 * with an alarm in its own panel, instead of fencing the real one.
 */
import { afterAll, expect, it } from "vitest";
import { db } from "@/lib/db";
import { AgentClient, TEST_TOKEN } from "../agent/helpers";
import { createTestDatabase, query, type TestDatabase } from "../helpers/db";
import { PROTOCOL_VERSION } from "../../../protocol/agent";
import { controllerSuite, operationsOf, waitFor, waitHealthy, waitOperationDone } from "./lab";
import { switchover } from "./api";
import { controllerProcess, killControllerProcesses } from "./processes";

const suite = controllerSuite();
let other: TestDatabase | null = null;

afterAll(async () => {
  killControllerProcesses();
  await other?.drop();
});

it("a forged epoch far above the controller's: the controller moves its term above it and keeps commanding", async () => {
  const lab = await suite.start();
  await waitHealthy(lab, 0);
  const { clusterId, epoch } = await db.controllerLease.findUniqueOrThrow({ where: { id: 1 } });
  // Someone with the agent token (and the cluster's id) connects with a huge epoch.
  const forged = new AgentClient(lab.hosts[1].agent.url, { auth: { token: TEST_TOKEN, protocol: PROTOCOL_VERSION, controllerId: "forged", epoch: 1_000_000, cluster: clusterId } });
  await forged.ready();
  forged.close();
  await waitFor("the controller's term above the forged epoch", async () => (suite.controller().epoch ?? 0) > 1_000_000);
  expect((await db.controllerLease.findUniqueOrThrow({ where: { id: 1 } })).epoch).toBe(1_000_001);
  expect(epoch).toBeLessThan(1_000_000);
  // It still commands both agents: a switchover runs in the new term.
  await waitHealthy(lab, 0);
  expect((await switchover(lab.pairId, { reason: "after the forged epoch" })).status).toBe(202);
  const op = await waitOperationDone(lab.pairId, "manual_switchover");
  expect(op.status, op.error ?? "").toBe("succeeded");
  expect(op.epoch).toBe(1_000_001);
});

it("a second Switchyard with the same agent token is refused by the agents (alarm there), the first keeps working", async () => {
  const lab = await suite.start();
  await waitHealthy(lab, 0);
  // Another panel's database with the same hosts and pair (a copy of the configuration, another cluster).
  other = await createTestDatabase();
  for (const h of lab.hosts) {
    await query(other.url, `INSERT INTO "Host" (id, name, address, "agentUrl", "agentToken", "updatedAt") VALUES ($1, $2, '127.0.0.1', $3, $4, now())`, [h.hostId, h.name, h.agent.url, TEST_TOKEN]);
  }
  const p = await db.pair.findUniqueOrThrow({ where: { id: lab.pairId }, include: { servers: true } });
  await query(other.url, `INSERT INTO "Pair" (id, name, "vipAddress", "vipPrefix", "vipInterface", "updatedAt") VALUES ($1, $2, $3, 24, 'lo', now())`, [p.id, p.name, p.vipAddress]);
  for (const s of p.servers) {
    await query(other.url, `INSERT INTO "Server" (id, "pairId", "hostId", name, "appName", "configuredRole", "updatedAt") VALUES ($1, $2, $3, $4, $5, $6::"ServerRole", now())`, [s.id, p.id, s.hostId, s.name, s.appName, s.configuredRole]);
  }
  // In its own process group (processes.ts): killing it ends tsx and the node process it runs together.
  const c = controllerProcess({ DATABASE_URL: other.url });
  const refused = await waitFor(
    "agent_refused alarms in the other panel",
    async () => {
      const rows = await query<{ hostId: string; message: string }>(other!.url, `SELECT "hostId", message FROM "Alarm" WHERE kind = 'agent_refused' AND "clearedAt" IS NULL`);
      return rows.length === 2 ? rows : null;
    },
    20_000,
    100,
  );
  expect(refused[0].message).toMatch(/refuses this controller: FOREIGN_CLUSTER: this agent belongs to Switchyard cluster [0-9a-f-]{36}, not [0-9a-f-]{36}/);
  // The real controller was not fenced: it switches the pair over.
  expect((await switchover(lab.pairId, { reason: "the real one" })).status).toBe(202);
  const op = await waitOperationDone(lab.pairId, "manual_switchover");
  expect(op.status, op.error ?? "").toBe("succeeded");
  expect((await operationsOf(lab.pairId)).length).toBe(1);
  c.kill("SIGTERM");
  await c.exited;
});
