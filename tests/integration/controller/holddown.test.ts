/**
 * The hold-down after an automatic failover survives a change of leader: it is derived from the
 * Operation rows (written before the promote command), not from the old leader's memory.
 */
import { afterAll, expect, it } from "vitest";
import { runController, type ControllerHandle } from "@/lib/controller";
import { killGroup } from "../agent/helpers";
import { auditOf, operationsOf, pairView, startLabPair, waitFor, waitHealthy, waitOperationDone, type LabPair } from "./lab";

const quiet = { info: () => {}, warn: () => {}, error: (m: string, f?: object) => console.error(m, f) };
const controllers: ControllerHandle[] = [];
let lab: LabPair | null = null;

afterAll(async () => {
  for (const c of controllers) await c.stop();
  await lab?.cleanup();
});

function leader(): ControllerHandle {
  const c = runController({ log: quiet, databaseUrl: process.env.DATABASE_URL! });
  controllers.push(c);
  return c;
}

it("a new leader keeps the hold-down of the previous leader's automatic failover", async () => {
  lab = await startLabPair({ pair: { holdDownSeconds: 60 } });
  const a = leader();
  await waitFor("a leads", async () => a.epoch !== null);
  const v0 = await waitHealthy(lab, 0);
  killGroup(v0.servers[0].pid, "SIGKILL");
  const first = await waitOperationDone(lab.pairId, "failover");
  expect(first.status).toBe("succeeded");
  const v1 = await waitHealthy(lab, 1); // sip-1 back as backup (its agent restarted it)

  // Leader change inside the hold-down.
  await a.stop();
  const b = leader();
  await waitFor("b leads", async () => b.epoch !== null);
  await waitFor("b has published the pair", async () => ((await pairView(lab!.pairId)) as unknown as { epoch?: number } | null)?.epoch === b.epoch);

  // The new primary fails too: b must not fail over back before the hold-down of a's failover ends.
  killGroup(v1.servers[1].pid, "SIGKILL");
  const note = await waitFor("b explains its non-action", async () =>
    (await auditOf(lab!.pairId)).find((e) => e.action === "decision" && (e.details as { epoch?: number }).epoch === b.epoch && String((e.details as { reason?: string }).reason).startsWith("hold-down")),
  );
  expect((note.details as { reason: string }).reason).toContain(`hold-down after the automatic failover at ${first.createdAt.toISOString()}`);
  expect((await operationsOf(lab.pairId)).map((o) => o.kind)).toEqual(["failover"]);
});
