/**
 * Never dark by policy (docs/controller.md, "Hold-down"): a failed primary is replaced at once, even right
 * after an automatic failover; the hold-down only keeps the pair from flapping away from a primary that
 * may still be serving (a disconnect failover whose cut host keeps its VIP), and it survives a change of
 * leader because it is derived from the Operation rows, not from the old leader's memory.
 */
import { afterAll, afterEach, expect, it } from "vitest";
import { runController, type ControllerHandle } from "@/lib/controller";
import { killGroup } from "../agent/helpers";
import { auditOf, operationsOf, pairView, startLabPair, waitFor, waitHealthy, waitOperationDone, type LabPair } from "./lab";

const quiet = { info: () => {}, warn: () => {}, error: (m: string, f?: object) => console.error(m, f) };
const controllers: ControllerHandle[] = [];
let lab: LabPair | null = null;

afterEach(async () => {
  for (const c of controllers.splice(0)) await c.stop();
  await lab?.cleanup();
  lab = null;
});
afterAll(async () => {
  for (const c of controllers) await c.stop();
});

function leader(): ControllerHandle {
  const c = runController({ log: quiet, databaseUrl: process.env.DATABASE_URL! });
  controllers.push(c);
  return c;
}

it("the double kill (issue 10): the new primary fails right after a failover; the first server is promoted again at once, not after the hold-down", async () => {
  lab = await startLabPair({ pair: { holdDownSeconds: 60 } });
  const a = leader();
  await waitFor("a leads", async () => a.epoch !== null);
  const v0 = await waitHealthy(lab, 0);
  killGroup(v0.servers[0].pid, "SIGKILL");
  expect((await waitOperationDone(lab.pairId, "failover")).status).toBe("succeeded");
  const v1 = await waitHealthy(lab, 1); // sip-1 back as backup (its agent restarted it)

  const killedAt = Date.now();
  killGroup(v1.servers[1].pid, "SIGKILL");
  const second = await waitOperationDone(lab.pairId, "failover", 2);
  expect(second.status).toBe("succeeded");
  expect(second.toServerId).toBe(lab.hosts[0].serverId);
  const v2 = await waitHealthy(lab, 0);
  // Printed, not asserted (timing belongs to benchmarks): the pair had a primary again this long after the kill.
  console.log(`double kill: second failover started ${second.createdAt.getTime() - killedAt} ms and the pair was healthy again ${Date.now() - killedAt} ms (at most) after the kill`);
  expect(v2.vipHolder).toBe(lab.hosts[0].name);
  // The dashboard's "last failover … ago, 2 in 24 h" comes with the view.
  expect(v2.failovers.last).toBe(second.createdAt.toISOString());
  expect(v2.failovers.recent).toHaveLength(2);
  expect(second.decision).toBe(`primary sip-2 exited with signal SIGKILL on ${lab.hosts[1].name}; promoting sip-1`);
});

it("a new leader keeps the hold-down: no disconnect failover away from a cut primary whose VIP does not fence", async () => {
  lab = await startLabPair({
    pair: { holdDownSeconds: 60 },
    agentConfig: (_i, config) => {
      config.vips[0].fence = false; // the cut host keeps its VIP: the old primary may still be serving
    },
  });
  const a = leader();
  await waitFor("a leads", async () => a.epoch !== null);
  const v0 = await waitHealthy(lab, 0);
  killGroup(v0.servers[0].pid, "SIGKILL");
  const first = await waitOperationDone(lab.pairId, "failover");
  expect(first.status).toBe("succeeded");
  await waitHealthy(lab, 1);

  // Leader change inside the hold-down.
  await a.stop();
  const b = leader();
  await waitFor("b leads", async () => b.epoch !== null);
  await waitFor("b has published the pair", async () => ((await pairView(lab!.pairId)) as unknown as { epoch?: number } | null)?.epoch === b.epoch);

  // The new primary's host is cut off (its agent frozen): sip-2 may still serve through its VIP.
  const agentPid = lab.hosts[1].agent.proc.pid!;
  process.kill(agentPid, "SIGSTOP");
  try {
    const note = await waitFor("b explains its non-action", async () =>
      (await auditOf(lab!.pairId)).find((e) => e.action === "decision" && (e.details as { epoch?: number }).epoch === b.epoch && String((e.details as { reason?: string }).reason).startsWith("hold-down")),
    );
    expect((note.details as { reason: string }).reason).toContain(`hold-down after the automatic failover at ${first.createdAt.toISOString().slice(11, 19)} UTC`);
    expect((note.details as { reason: string }).reason).toContain("may still serve");
    expect((await operationsOf(lab.pairId)).map((o) => o.kind)).toEqual(["failover"]);
  } finally {
    process.kill(agentPid, "SIGCONT");
  }
});
