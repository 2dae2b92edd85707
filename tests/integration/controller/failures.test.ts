/**
 * The automatic workflows: primary killed, primary hung, primary's agent cut off then restored, backup
 * killed, agent restarted, faults during maintenance. Real Postgres, agents and sims; the controller runs
 * in this process. Each test asserts the exact step order, the final observed state, audit rows and alarms.
 * A failed server is restarted by its own agent (in backup mode), never by an operation of the controller.
 */
import { describe, expect, it } from "vitest";
import { alarmsOf, auditOf, operationsOf, pairView, controllerSuite, steps, waitFor, waitHealthy, waitOperationDone } from "./lab";
import { killGroup, startAgent } from "../agent/helpers";
import { listAlarms } from "@/lib/queries/alarms";

const suite = controllerSuite();

const kinds = (alarms: { kind: string }[]) => [...new Set(alarms.map((a) => a.kind))].sort();
const active = <T extends { clearedAt: Date | null }>(alarms: T[]) => alarms.filter((a) => a.clearedAt === null);

describe("automatic workflows", () => {
  it("primary killed: promote the backup, VIP moves, its agent disables the VIP and restarts it as backup", async () => {
    const lab = await suite.start();
    const v0 = await waitHealthy(lab, 0);
    killGroup(v0.servers[0].pid, "SIGKILL");
    const op = await waitOperationDone(lab.pairId, "failover");
    expect(op.status).toBe("succeeded");
    expect(op.decision).toBe(`primary sip-1 exited with signal SIGKILL on ${lab.hosts[0].name}; promoting sip-2`);
    expect(steps(op)).toEqual(["promote:succeeded", "vip_enable:succeeded", "vip_disable:succeeded", "verify:succeeded"]);
    // The VIP on the failed host was taken down by that host's agent: the step records its run, no command.
    expect(op.steps[2].ack).toEqual({ observed: "disabled", by: `the agent of ${lab.hosts[0].name}` });
    expect((op.steps[2].output as { action: string; ok: boolean }[]).map((r) => [r.action, r.ok])).toEqual([["disable", true]]);
    const v = await waitHealthy(lab, 1);
    expect(v.servers[0]).toMatchObject({ processState: "running", mode: "backup", vip: "disabled" });
    expect(v.servers[0].pid).not.toBe(v0.servers[0].pid);
    // One owner for restarts: the agent; the controller ran no restart operation or step.
    expect((await operationsOf(lab.pairId)).map((o) => o.kind)).toEqual(["failover"]);
    const alarms = await alarmsOf(lab.pairId);
    expect(kinds(alarms)).toContain("primary_failed");
    await waitFor("alarms cleared", async () => active(await alarmsOf(lab.pairId)).length === 0);
    // The failover leaves its trace: the critical alarm waits for a person, although its condition is gone.
    const waiting = (await listAlarms({ pairId: lab.pairId, state: ["unacknowledged"], limit: 10 })).alarms;
    expect(waiting.map((a) => [a.kind, a.state])).toEqual([["primary_failed", "cleared_unacknowledged"]]);
    const audit = (await auditOf(lab.pairId)).map((a) => a.action);
    expect(audit).toEqual(expect.arrayContaining(["operation.decided", "operation.step.promote", "operation.step.vip_disable", "operation.finished", "alarm.raised", "alarm.cleared", "server.now_primary"]));
    expect(audit).not.toContain("operation.step.restart");
  });

  it("primary hung (SIGSTOP): failover, then its agent restarts the hung process in backup mode", async () => {
    const lab = await suite.start();
    const v0 = await waitHealthy(lab, 0);
    killGroup(v0.servers[0].pid, "SIGSTOP");
    const op = await waitOperationDone(lab.pairId, "failover");
    expect(op.decision).toMatch(new RegExp(`^primary sip-1 hung .*on ${lab.hosts[0].name}; promoting sip-2$`));
    expect(steps(op)).toEqual(["promote:succeeded", "vip_enable:succeeded", "vip_disable:succeeded", "verify:succeeded"]);
    const v = await waitHealthy(lab, 1);
    expect(v.servers[0].mode).toBe("backup");
    expect(v.servers[0].pid).not.toBe(v0.servers[0].pid);
  });

  it("primary's agent cut off: grace, promote backup (alarm: VIP maybe on both); on reconnect the reconnected one is demoted", async () => {
    const lab = await suite.start();
    await waitHealthy(lab, 0);
    await lab.hosts[0].agent.stop("SIGKILL"); // the SIP Server keeps running, its host unreachable
    const op = await waitOperationDone(lab.pairId, "disconnect_failover");
    expect(op.status).toBe("succeeded");
    expect(op.decision).toMatch(new RegExp(`^host ${lab.hosts[0].name} of primary sip-1 is disconnected for [\\d.]+s \\(grace 1s\\); promoting sip-2`));
    expect(steps(op)).toEqual(["promote:succeeded", "vip_enable:succeeded", "vip_disable:skipped", "verify:succeeded"]);
    expect(op.steps[2].error).toContain("cannot run there");
    await waitFor("VIP maybe on both hosts", async () => {
      const a = active(await alarmsOf(lab.pairId, lab.hosts.map((h) => h.hostId)));
      return kinds(a).includes("vip_maybe_on_both_hosts") && kinds(a).includes("host_disconnected");
    });

    // Restore the connection: a new agent process adopts the still-running primary SIP Server.
    const fresh = await import("../agent/helpers").then((m) => m.startAgent({ config: lab.hosts[0].config, dir: lab.hosts[0].dir }));
    lab.hosts[0].agent = fresh;
    const sb = await waitOperationDone(lab.pairId, "split_brain_resolution");
    expect(sb.status).toBe("succeeded");
    expect(sb.decision).toBe(
      `both sip-1 and sip-2 are primary after ${lab.hosts[0].name} reconnected; demoting sip-1 on ${lab.hosts[0].name} (its agent disables the VIP there), keeping sip-2 (which announces the VIP again)`,
    );
    expect(steps(sb)).toEqual(["demote:succeeded", "vip_disable:succeeded", "promote:succeeded", "vip_enable:succeeded", "verify:succeeded"]);
    const v = await waitHealthy(lab, 1);
    expect(v.servers[0]).toMatchObject({ mode: "backup", vip: "disabled" });
    await waitFor("alarms cleared", async () => active(await alarmsOf(lab.pairId, lab.hosts.map((h) => h.hostId))).length === 0);
    const all = kinds(await alarmsOf(lab.pairId, lab.hosts.map((h) => h.hostId)));
    expect(all).toEqual(expect.arrayContaining(["both_primary", "host_disconnected", "vip_maybe_on_both_hosts"]));
  });

  it("backup killed: alarm, its agent restarts it in backup mode, no switchover and no operation", async () => {
    const lab = await suite.start();
    const v0 = await waitHealthy(lab, 0);
    killGroup(v0.servers[1].pid, "SIGKILL");
    const note = await waitFor("decision recorded", async () => (await auditOf(lab.pairId)).find((a) => a.action === "decision"));
    expect((note.details as { reason: string }).reason).toBe(`backup sip-2 exited with signal SIGKILL on ${lab.hosts[1].name}; its agent restarts it in backup mode (no switchover)`);
    await waitFor("alarm cleared", async () => {
      const alarms = await alarmsOf(lab.pairId);
      return kinds(alarms).includes("backup_failed") && active(alarms).length === 0;
    });
    const v = await waitHealthy(lab, 0);
    expect(v.servers[1]).toMatchObject({ processState: "running", mode: "backup", vip: "disabled" });
    expect(v.servers[1].pid).not.toBe(v0.servers[1].pid);
    expect(kinds(await alarmsOf(lab.pairId))).toEqual(["backup_failed"]);
    expect(await operationsOf(lab.pairId)).toEqual([]);
  });

  it("cold start: the configured primary starting slowly is not overtaken by its backup", async () => {
    // sip-1's agent autostarts it as primary, but it takes a second to come up; sip-2 is up (backup) first.
    // The controller waits for sip-1 instead of promoting sip-2 (which made two primaries and ended with
    // the configured primary demoted: a flaky "healthy with sip-1 primary" wait).
    const lab = await suite.start({
      settled: false,
      agentConfig: (i, config) => {
        if (i !== 0) return;
        const app = (config.apps as { command: string; args: string[]; startTimeoutMs: number }[])[0];
        Object.assign(app, { command: "/bin/sh", args: ["-c", 'sleep 1; exec "$0" "$@"', app.command, ...app.args] });
      },
    });
    const v = await waitHealthy(lab, 0);
    expect(v.servers.map((s) => s.mode)).toEqual(["primary", "backup"]);
    // Nothing promoted sip-2 (the controller may have promoted sip-1 itself if it reported backup first).
    expect((await operationsOf(lab.pairId)).filter((o) => o.toServerId === lab.hosts[1].serverId)).toEqual([]);
  });

  it("agent restarted on either host: nothing changes", async () => {
    const lab = await suite.start({ pair: { disconnectGraceSeconds: 10 } });
    const v0 = await waitHealthy(lab, 0);
    await lab.restartAgent(1);
    await lab.restartAgent(0);
    // The view is published by the tick that decided on the reconnected state: an operation started by
    // that decision would be in it (status failing_over), so a healthy view proves none was.
    const v = await waitFor("both agents reconnected, decided on", async () => {
      const x = await pairView(lab.pairId);
      return x?.servers.every((s) => s.agentConnected) && x.status === "healthy" && !x.operation ? x : null;
    });
    expect(v.servers.map((s) => [s.mode, s.pid, s.vip])).toEqual(v0.servers.map((s) => [s.mode, s.pid, s.vip]));
    expect(await operationsOf(lab.pairId)).toEqual([]);
  });

  it("both agents away longer than heartbeat + grace, back almost together: exactly one VIP holder at the end", async () => {
    // Issue 13: host2's agent came back first (a disconnect failover started), host1's 2 ms later; the
    // VIP ended on no host with both operations "succeeded". Now the failover leaves host1's VIP to the
    // both-primary resolution, which keeps one and announces it; and the invariant is repaired if need be.
    const lab = await suite.start();
    await waitHealthy(lab, 0);
    await Promise.all(lab.hosts.map((h) => h.agent.stop("SIGKILL"))); // the SIP Servers keep running
    await waitFor("the grace period over, nothing to promote", async () => /no backup to promote/.test((await pairView(lab.pairId))?.statusReason ?? ""));
    const [h1, h2] = await Promise.all(lab.hosts.map((h, i) => new Promise((r) => setTimeout(r, i === 0 ? 2 : 0)).then(() => startAgent({ config: h.config, dir: h.dir }))));
    lab.hosts[0].agent = h1;
    lab.hosts[1].agent = h2;
    const v = await waitFor("one primary holding the VIP alone", async () => {
      const x = await pairView(lab.pairId);
      return x?.status === "healthy" && !x.operation && x.servers.filter((s) => s.vip === "enabled").length === 1 ? x : null;
    }, 20_000);
    const primary = v.servers.find((s) => s.mode === "primary")!;
    expect(v.vipHolder).toBe(primary.hostName);
    // Whatever ran ended right: a succeeded operation never left the VIP on no host (verify checks it).
    for (const op of await operationsOf(lab.pairId)) expect(op.status, `${op.kind}: ${op.error}`).toBe("succeeded");
    expect(active(await alarmsOf(lab.pairId)).map((a) => a.kind)).toEqual([]);
  });

  it("maintenance: a killed primary is observed and alarmed, but no action is taken", async () => {
    const lab = await suite.start({ pair: { maintenance: true } });
    const v0 = await waitHealthy(lab, 0);
    killGroup(v0.servers[0].pid, "SIGKILL");
    await waitFor("primary_failed alarm", async () => kinds(active(await alarmsOf(lab.pairId))).includes("primary_failed"));
    const note = await waitFor("decision recorded", async () => (await auditOf(lab.pairId)).find((a) => a.action === "decision" && String((a.details as { reason?: string }).reason).startsWith("maintenance")));
    expect((note.details as { reason: string }).reason).toBe(
      `maintenance: no action (would have: primary sip-1 exited with signal SIGKILL on ${lab.hosts[0].name}; promoting sip-2)`,
    );
    // Its agent restarts sip-1 as backup: no server is primary now, and still the controller only explains.
    const again = await waitFor("decision on the restarted server", async () =>
      (await auditOf(lab.pairId)).find((a) => a.action === "decision" && String((a.details as { reason?: string }).reason).includes("no server is primary")),
    );
    expect((again.details as { reason: string }).reason).toBe(`maintenance: no action (would have: no server is primary; promoting sip-1 on ${lab.hosts[0].name} (configured primary))`);
    expect(await operationsOf(lab.pairId)).toEqual([]);
    const v = await waitFor("the view of that decision", async () => {
      const x = await pairView(lab.pairId);
      return x?.servers.every((s) => s.mode === "backup") ? x : null;
    });
    expect(v.statusReason).toMatch(/^maintenance: no action/);
  });
});
