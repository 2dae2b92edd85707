/**
 * Manual switchover through the API (the source document's manual-switchover workflow), switch back,
 * refusal when the backup is down, and two requests at the same moment. Real Postgres, agents and sims;
 * the controller runs in this process.
 */
import { describe, expect, it } from "vitest";
import { alarmsOf, auditOf, operationsOf, pairView, controllerSuite, steps, waitFor, waitHealthy, waitOperationDone } from "./lab";
import { preflight, switchover } from "./api";
import { killGroup } from "../agent/helpers";

const suite = controllerSuite();

describe("manual switchover", () => {
  it("runs demote, vip_disable, promote, vip_enable, verify in order; switch back works too", async () => {
    const lab = await suite.start();
    await waitHealthy(lab, 0);
    const pf = await preflight(lab.pairId);
    expect(pf.body.preflight.ok).toBe(true);

    const r = await switchover(lab.pairId, { reason: "maintenance window" });
    expect(r.status).toBe(202);
    // This process leads: the operation is accepted already claimed by the controller (running, with its
    // steps) and started before the answer; a standby instance answers "pending" (see crash.test.ts).
    expect(r.body.operation?.status).toBe("running");
    expect((r.body.operation as { steps?: { action: string }[] }).steps?.map((s) => s.action)).toEqual(["demote", "vip_disable", "promote", "vip_enable", "verify"]);
    const op = await waitOperationDone(lab.pairId, "manual_switchover");
    expect(op.status).toBe("succeeded");
    expect(steps(op)).toEqual(["demote:succeeded", "vip_disable:succeeded", "promote:succeeded", "vip_enable:succeeded", "verify:succeeded"]);
    expect(op.steps.map((s) => s.target)).toEqual([
      `sip-1 on ${lab.hosts[0].name}`,
      `VIP ${lab.vip}/24 on ${lab.hosts[0].name}`,
      `sip-2 on ${lab.hosts[1].name}`,
      `VIP ${lab.vip}/24 on ${lab.hosts[1].name}`,
      expect.stringContaining("sip-2 primary"),
    ]);
    // The VIP steps carry the driver runs (simulated driver) with their own timing.
    const vipEnable = op.steps[3].output as { kind: string; action: string; ok: boolean }[];
    expect(vipEnable.some((x) => x.kind === "vip" && x.action === "enable" && x.ok)).toBe(true);
    expect(op.requestedBy).toMatch(/^token:/);
    const v = await waitHealthy(lab, 1);
    expect(v.servers[0].mode).toBe("backup");
    expect(v.servers[0].vip).toBe("disabled");
    expect(v.vipHolder).toBe(lab.hosts[1].name);

    const audit = await auditOf(lab.pairId);
    const actions = audit.map((a) => a.action);
    expect(actions).toContain("operation.requested");
    expect(actions).toContain("operation.started");
    const stepAudits = actions.filter((a) => a.startsWith("operation.step."));
    expect(stepAudits.slice(0, 5)).toEqual([
      "operation.step.demote",
      "operation.step.vip_disable",
      "operation.step.promote",
      "operation.step.vip_enable",
      "operation.step.verify",
    ]);
    expect(actions).toContain("operation.finished");
    // The details the UI's detail drawer renders.
    const fin = audit.find((a) => a.action === "operation.finished" && a.targetId === op.id)!;
    const d = fin.details as Record<string, unknown> & { steps: Record<string, unknown>[]; before: unknown[]; after: unknown[] };
    expect(Object.keys(d).sort()).toEqual(["after", "before", "decision", "epoch", "error", "kind", "reason", "status", "steps"]);
    expect(d).toMatchObject({ kind: "manual_switchover", status: "succeeded", epoch: suite.controller().epoch, error: null, reason: "maintenance window" });
    expect(d.decision).toContain(`sip-1 on ${lab.hosts[0].name} is demoted and its VIP disabled; sip-2 on ${lab.hosts[1].name} is promoted`);
    expect(d.before).toEqual([
      { server: "sip-1", host: lab.hosts[0].name, processState: "running", mode: "primary", vip: "enabled" },
      { server: "sip-2", host: lab.hosts[1].name, processState: "running", mode: "backup", vip: "disabled" },
    ]);
    expect(d.after).toEqual([
      { server: "sip-1", host: lab.hosts[0].name, processState: "running", mode: "backup", vip: "disabled" },
      { server: "sip-2", host: lab.hosts[1].name, processState: "running", mode: "primary", vip: "enabled" },
    ]);
    expect(d.steps.map((s) => s.action)).toEqual(["demote", "vip_disable", "promote", "vip_enable", "verify"]);
    for (const s of d.steps) {
      expect(Object.keys(s).sort()).toEqual(["action", "durationMs", "error", "finishedAt", "runs", "seq", "startedAt", "status", "target"]);
      expect(s.status).toBe("succeeded");
      expect(typeof s.durationMs).toBe("number");
      expect(Array.isArray(s.runs)).toBe(true);
    }
    const enableRuns = d.steps[3].runs as { kind: string; action: string; ok: boolean; durationMs: number }[];
    expect(enableRuns.some((x) => x.kind === "vip" && x.action === "enable" && x.ok && typeof x.durationMs === "number")).toBe(true);
    const modes = audit.filter((a) => a.action === "server.now_primary" || a.action === "server.now_backup");
    expect(modes.some((a) => a.action === "server.now_primary" && (a.details as { code: string }).code === "00-5150" && a.targetId === lab.hosts[1].serverId)).toBe(true);
    expect(modes.some((a) => a.action === "server.now_backup" && (a.details as { code: string }).code === "00-5151" && a.targetId === lab.hosts[0].serverId)).toBe(true);

    // A stale request (made against the state before this switchover: "make sip-2 primary") is refused,
    // never turned into a switch back.
    const stale = await switchover(lab.pairId, { toServerId: lab.hosts[1].serverId });
    expect(stale.status).toBe(409);
    expect(JSON.stringify(stale.body)).toMatch(/refused.*already primary or no longer the backup/);

    // Switch back.
    const back = await switchover(lab.pairId, {});
    expect(back.status).toBe(202);
    const op2 = await waitOperationDone(lab.pairId, "manual_switchover", 2);
    expect(op2.status).toBe("succeeded");
    expect(op2.steps.map((s) => `${s.action} ${s.target.split(" on ")[0]}`)).toEqual([
      "demote sip-2",
      `vip_disable VIP ${lab.vip}/24`,
      "promote sip-1",
      `vip_enable VIP ${lab.vip}/24`,
      expect.stringMatching(/^verify /),
    ]);
    await waitHealthy(lab, 0);
    expect((await alarmsOf(lab.pairId)).filter((a) => a.clearedAt === null)).toEqual([]);
  });

  it("refuses with 409 naming the backup when it is down; no operation is created", async () => {
    // Its agent does not restart it (restart policy never): a backup that stays down.
    const lab = await suite.start({ agentConfig: (i, config) => i === 1 && Object.assign((config.apps as Record<string, unknown>[])[0], { restart: { policy: "never" } }) });
    const v = await waitHealthy(lab, 0);
    killGroup(v.servers[1].pid, "SIGKILL");
    await waitFor("backup failed observed", async () => (await pairView(lab.pairId))?.servers[1].processState === "failed");
    const r = await switchover(lab.pairId);
    expect(r.status).toBe(409);
    expect(r.body.error?.code).toBe("conflict");
    expect(r.body.error?.message).toContain(`backup sip-2 on ${lab.hosts[1].name} is failed`);
    expect(await operationsOf(lab.pairId)).toEqual([]);
    const alarms = await alarmsOf(lab.pairId);
    expect(alarms.map((a) => a.kind)).toContain("backup_failed");
    expect((await auditOf(lab.pairId)).some((a) => a.action === "operation.refused" && a.outcome === "denied")).toBe(true);
  });

  it("lets one of two simultaneous requests through (202) and refuses the other (409)", async () => {
    const lab = await suite.start();
    await waitHealthy(lab, 0);
    const [a, b] = await Promise.all([switchover(lab.pairId, { reason: "alice" }), switchover(lab.pairId, { reason: "bob" })]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([202, 409]);
    const loser = a.status === 409 ? a : b;
    const winner = a.status === 202 ? a : b;
    expect(loser.body.error?.message).toBe(`a manual switchover is already running for ${lab.name} (operation ${winner.body.operation?.id})`);
    const op = await waitOperationDone(lab.pairId, "manual_switchover");
    expect(op.status).toBe("succeeded");
    expect(await operationsOf(lab.pairId)).toHaveLength(1);
  });
});
