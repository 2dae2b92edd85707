/**
 * The controller is killed (SIGKILL) in the middle of a manual switchover, right after the demote step;
 * a new controller takes over (new epoch) and reconciles the operation from its persisted steps and the
 * observed state: it finishes it. Controllers run as child processes here.
 */
import { afterAll, expect, it } from "vitest";
import { db } from "@/lib/db";
import { auditOf, startLabPair, steps, waitFor, waitHealthy, waitOperationDone, type LabPair } from "./lab";
import { switchover } from "./api";
import { controllerProcess, killControllerProcesses } from "./processes";

let lab: LabPair | null = null;


afterAll(async () => {
  killControllerProcesses();
  await lab?.cleanup();
});

it("controller killed mid-switchover: the next leader reconciles and finishes the operation", async () => {
  lab = await startLabPair();
  const first = controllerProcess({ CRASH_AFTER_STEP: "demote" });
  await waitHealthy(lab, 0, 30_000);
  const epoch1 = (await db.controllerLease.findUniqueOrThrow({ where: { id: 1 } })).epoch;

  const r = await switchover(lab.pairId, { reason: "crash test" });
  expect(r.status).toBe(202);
  // No controller in this process: the request goes through the database (pending + pg_notify + claim).
  expect(r.body.operation?.status).toBe("pending");
  const died = await first.exited;
  // tsx forwards its child's death as exit code 128 + 9.
  expect(died.signal === "SIGKILL" || died.code === 137).toBe(true);
  const mid = await db.operation.findUniqueOrThrow({ where: { id: r.body.operation!.id }, include: { steps: { orderBy: { seq: "asc" } } } });
  expect(mid.status).toBe("running");
  expect(steps(mid)[0]).toBe("demote:succeeded");

  const second = controllerProcess();
  const op = await waitOperationDone(lab.pairId, "manual_switchover", 1, 30_000);
  expect(op.status).toBe("succeeded");
  expect(steps(op)).toEqual(["demote:succeeded", "vip_disable:succeeded", "promote:succeeded", "vip_enable:succeeded", "verify:succeeded"]);
  const lease = await db.controllerLease.findUniqueOrThrow({ where: { id: 1 } });
  expect(lease.epoch).toBe(epoch1 + 1);
  const rec = (await auditOf(lab.pairId)).find((a) => a.action === "operation.reconciled");
  expect(rec?.details).toMatchObject({ previousEpoch: epoch1, stepsDone: ["1 demote"], epoch: epoch1 + 1 });
  const v = await waitHealthy(lab, 1);
  expect(v.servers[0].mode).toBe("backup");
  second.p.kill("SIGTERM");
  await waitFor("second controller stopped", async () => second.p.exitCode !== null || second.p.signalCode !== null, 10_000);
});
