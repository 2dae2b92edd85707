/**
 * An operator's overrides (issue 10): start, stop, graceful stop, restart, promote, clear the hold-down —
 * each an operation with its steps, a preflight that names what will happen, and an audit row — and
 * maintenance, where the controller takes no automatic action and a person acts by hand with an explicit
 * confirmation. Real Postgres, agents and simulated SIP Servers; the controller runs in this process; the
 * requests go through the real route handlers with an operator's token.
 */
import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { insertRequestedOperation } from "@/lib/queries/operations";
import { auditOf, operationsOf, pairView, controllerSuite, steps, waitFor, waitHealthy, waitOperationDone, type LabPair } from "./lab";
import { operate, preflightOf, switchover } from "./api";
import { killGroup } from "../agent/helpers";

const suite = controllerSuite();

const server = (lab: LabPair, i: 0 | 1) => lab.hosts[i].serverId;
const kinds = async (lab: LabPair) => (await operationsOf(lab.pairId)).map((o) => o.kind);

async function waitServer(lab: LabPair, i: 0 | 1, what: string, pred: (s: { processState: string; mode: string; vip: string; pid: number | null }) => boolean) {
  return waitFor(`${lab.hosts[i].serverName} ${what}`, async () => {
    const v = await pairView(lab.pairId);
    return v && !v.operation && pred(v.servers[i]) ? v : null;
  });
}

describe("overrides", () => {
  it("stop the backup, then start it again: one step each, no switchover, the reason says how to get a backup back", async () => {
    const lab = await suite.start();
    await waitHealthy(lab, 0);
    const pf = await preflightOf(lab.pairId, `?kind=app_stop&serverId=${server(lab, 1)}`);
    expect(pf.body.preflight).toMatchObject({ ok: true, effect: `sip-2 on ${lab.hosts[1].name} stops; the pair has no backup until it is started again.` });

    const r = await operate(lab.pairId, { kind: "app_stop", serverId: server(lab, 1), reason: "replace its disk" });
    expect(r.status).toBe(202);
    expect(r.body.operation?.kind).toBe("app_stop");
    const stop = await waitOperationDone(lab.pairId, "app_stop");
    expect(steps(stop)).toEqual(["stop:succeeded"]);
    const v = await waitServer(lab, 1, "stopped", (s) => s.processState === "stopped");
    expect(v.status).toBe("degraded");
    expect(v.statusReason).toBe(`backup sip-2 stopped on ${lab.hosts[1].name}; start it to have a backup again (its agent restarts only failed servers)`);

    const start = await operate(lab.pairId, { kind: "app_start", serverId: server(lab, 1), mode: "backup" });
    expect(start.status).toBe(202);
    expect(steps(await waitOperationDone(lab.pairId, "app_start"))).toEqual(["start:succeeded"]);
    await waitHealthy(lab, 0);
    expect(await kinds(lab)).toEqual(["app_stop", "app_start"]);
    const requested = (await auditOf(lab.pairId)).filter((e) => e.action === "operation.requested");
    expect(requested.map((e) => (e.details as { kind: string }).kind)).toEqual(["app_stop", "app_start"]);
    expect(requested[0].details).toMatchObject({ reason: "replace its disk", effect: expect.stringContaining("stops") });
  });

  it("graceful stop of the primary: the backup takes over with the switchover's steps first, then the old primary stops; no failover", async () => {
    const lab = await suite.start();
    await waitHealthy(lab, 0);
    const pf = await preflightOf(lab.pairId, `?kind=app_stop&serverId=${server(lab, 0)}&graceful=true`);
    expect(pf.body.preflight.effect).toBe(
      `sip-2 on ${lab.hosts[1].name} takes over first (the planned switchover's steps: sip-1 demoted, sip-2 promoted with the VIP), then sip-1 on ${lab.hosts[0].name} stops.`,
    );
    const plain = await preflightOf(lab.pairId, `?kind=app_stop&serverId=${server(lab, 0)}`);
    expect(plain.body.preflight.effect).toContain("the controller then fails over to sip-2");

    expect((await operate(lab.pairId, { kind: "app_stop", serverId: server(lab, 0), graceful: true })).status).toBe(202);
    const op = await waitOperationDone(lab.pairId, "app_stop");
    expect(steps(op)).toEqual(["demote:succeeded", "vip_disable:succeeded", "promote:succeeded", "vip_enable:succeeded", "verify:succeeded", "stop:succeeded"]);
    const v = await waitServer(lab, 0, "stopped", (s) => s.processState === "stopped");
    expect(v.vipHolder).toBe(lab.hosts[1].name);
    expect(v.servers[1]).toMatchObject({ mode: "primary", vip: "enabled" });
    expect(await kinds(lab)).toEqual(["app_stop"]);
  });

  it("restart: the backup in backup mode gets a new process; a primary is not restarted as backup (409 naming the check)", async () => {
    const lab = await suite.start();
    const v0 = await waitHealthy(lab, 0);
    const refused = await operate(lab.pairId, { kind: "app_restart", serverId: server(lab, 0), mode: "backup" });
    expect(refused.status).toBe(409);
    expect(refused.body.error?.message).toBe(`restart of sip-1 of ${lab.name} refused: sip-1 on ${lab.hosts[0].name} is primary: switch over first, or restart it in primary mode`);
    expect((await auditOf(lab.pairId)).find((e) => e.action === "operation.refused")?.details).toMatchObject({ kind: "app_restart" });

    expect((await operate(lab.pairId, { kind: "app_restart", serverId: server(lab, 1) })).status).toBe(202);
    const op = await waitOperationDone(lab.pairId, "app_restart");
    expect(steps(op)).toEqual(["restart:succeeded"]);
    expect(op.params).toEqual({ mode: "backup" });
    expect(op.steps[0].target).toBe(`sip-2 on ${lab.hosts[1].name} in backup mode`);
    const v = await waitHealthy(lab, 0);
    expect(v.servers[1].pid).not.toBe(v0.servers[1].pid);
  });

  it("maintenance: a dark pair is brought back by promoting a server by hand, with the confirmation; a switchover too", async () => {
    const lab = await suite.start({ pair: { maintenance: true } });
    await waitFor("observed", async () => (await pairView(lab.pairId))?.servers[0].mode === "primary");
    // Stop the primary by hand: in maintenance nobody fails over, the pair goes dark.
    const noConfirm = await operate(lab.pairId, { kind: "app_stop", serverId: server(lab, 0) });
    expect(noConfirm.status).toBe(409);
    expect(noConfirm.body.error?.message).toContain("the pair is in maintenance (the controller takes no automatic action): confirm to act by hand (confirmMaintenance)");
    const pf = await preflightOf(lab.pairId, `?kind=app_stop&serverId=${server(lab, 0)}&confirmMaintenance=true`);
    expect(pf.body.preflight.effect).toContain("In maintenance the controller does not fail over");
    expect((await operate(lab.pairId, { kind: "app_stop", serverId: server(lab, 0), confirmMaintenance: true })).status).toBe(202);
    await waitOperationDone(lab.pairId, "app_stop");
    const dark = await waitServer(lab, 0, "stopped", (s) => s.processState === "stopped");
    expect(dark.status).toBe("not_serving");
    expect(dark.vipHolder).toBeNull();
    // Neither a switchover (nobody is primary) nor a promotion of the stopped server.
    expect((await switchover(lab.pairId, { confirmMaintenance: true })).status).toBe(409);
    const wrong = await operate(lab.pairId, { kind: "promote", serverId: server(lab, 0), confirmMaintenance: true });
    expect(wrong.body.error?.message).toContain(`sip-1 on ${lab.hosts[0].name} is stopped`);

    expect((await operate(lab.pairId, { kind: "promote", serverId: server(lab, 1), reason: "sip-1 down for the night", confirmMaintenance: true })).status).toBe(202);
    const op = await waitOperationDone(lab.pairId, "promote");
    expect(steps(op)).toEqual(["promote:succeeded", "vip_enable:succeeded", "verify:succeeded"]);
    expect(op.params).toEqual({ confirmMaintenance: true });
    const v = await waitServer(lab, 1, "primary", (s) => s.mode === "primary" && s.vip === "enabled");
    expect(v.vipHolder).toBe(lab.hosts[1].name);

    // Back to two servers, then a manual switchover in maintenance, confirmed.
    await operate(lab.pairId, { kind: "app_start", serverId: server(lab, 0), confirmMaintenance: true });
    await waitOperationDone(lab.pairId, "app_start");
    await waitServer(lab, 0, "running as backup", (s) => s.processState === "running" && s.mode === "backup");
    expect((await switchover(lab.pairId, {})).status).toBe(409);
    expect((await switchover(lab.pairId, { reason: "back", confirmMaintenance: true })).status).toBe(202);
    expect((await waitOperationDone(lab.pairId, "manual_switchover")).status).toBe("succeeded");
    await waitServer(lab, 0, "primary again", (s) => s.mode === "primary" && s.vip === "enabled");
    // Nothing automatic happened in maintenance.
    expect(await kinds(lab)).toEqual(["app_stop", "promote", "app_start", "manual_switchover"]);
  });

  it("clear the hold-down of the last automatic failover; then there is none to clear", async () => {
    const lab = await suite.start({ pair: { holdDownSeconds: 600 } });
    const v0 = await waitHealthy(lab, 0);
    const none = await preflightOf(lab.pairId, "?kind=clear_holddown");
    expect(none.body.preflight.checks.find((c) => c.id === "holddown")).toMatchObject({ ok: false, detail: "no hold-down is in force" });
    killGroup(v0.servers[0].pid, "SIGKILL");
    await waitOperationDone(lab.pairId, "failover");
    await waitHealthy(lab, 1);
    const held = await preflightOf(lab.pairId, "?kind=clear_holddown");
    expect(held.body.preflight).toMatchObject({ ok: true, effect: "The hold-down of the last automatic failover ends: the controller may fail over again at once." });
    expect((await operate(lab.pairId, { kind: "clear_holddown", reason: "flapping was the switch, fixed" })).status).toBe(202);
    expect(steps(await waitOperationDone(lab.pairId, "clear_holddown"))).toEqual(["holddown_clear:succeeded"]);
    await waitFor("hold-down gone", async () => (await preflightOf(lab.pairId, "?kind=clear_holddown")).body.preflight.checks.find((c) => c.id === "holddown")?.ok === false);
  });

  it("a request written by an instance that does not lead (a pending row) is claimed and run by the leader", async () => {
    const lab = await suite.start();
    const v0 = await waitHealthy(lab, 0);
    await insertRequestedOperation(
      { pairId: lab.pairId, kind: "app_restart", status: "pending", requestedBy: "standby-user", reason: "from the standby", decision: null, fromServerId: null, toServerId: server(lab, 1), params: { mode: "backup" }, epoch: null, steps: [] },
      { target: null },
    );
    const op = await waitOperationDone(lab.pairId, "app_restart");
    expect(op).toMatchObject({ status: "succeeded", requestedBy: "standby-user", epoch: suite.controller().epoch });
    expect(op.decision).toBe(`server restart requested by standby-user (from the standby): sip-2 on ${lab.hosts[1].name} restarts in backup mode; the pair has no backup meanwhile.`);
    expect((await waitHealthy(lab, 0)).servers[1].pid).not.toBe(v0.servers[1].pid);
  });

  it("answers bad requests with a clear 400 and starts nothing", async () => {
    const lab = await suite.start();
    await waitHealthy(lab, 0);
    const cases: [unknown, RegExp][] = [
      [{ kind: "reboot_host" }, /kind must be one of manual_switchover, promote/],
      [{ kind: "app_stop" }, /serverId/],
      [{ kind: "app_start", serverId: server(lab, 0), mode: "active" }, /must be primary or backup/],
      [{ kind: "app_stop", serverId: server(lab, 0), graceful: "yes" }, /must be true or false/],
      [{ kind: "clear_holddown", serverId: server(lab, 0) }, /unknown field for clear_holddown: serverId/],
      [{ kind: "promote", serverId: "not-a-uuid" }, /must be a server id/],
      [{ kind: "app_stop", serverId: server(lab, 0), reason: "x".repeat(501) }, /at most 500/],
      [[1, 2], /JSON object/],
    ];
    for (const [body, message] of cases) {
      const r = await operate(lab.pairId, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error?.message, JSON.stringify(body)).toMatch(message);
    }
    const unknownServer = await operate(lab.pairId, { kind: "app_stop", serverId: "00000000-0000-4000-8000-000000000000" });
    expect(unknownServer.status).toBe(409);
    expect(unknownServer.body.error?.message).toContain(`no server 00000000-0000-4000-8000-000000000000 in ${lab.name}`);
    expect(await db.operation.count({ where: { pairId: lab.pairId } })).toBe(0);
  });
});
