import { describe, expect, it } from "vitest";
import { decide, alarmKey } from "../../../lib/controller/decide";
import { serverStates, updateMemory, type PairWorld } from "../../../lib/controller/model";
import { pairHealth } from "../../../lib/controller/view";
import { T0, app, backupSnap, healthy, host, pairCfg, primarySnap, snap, vip } from "./fixtures";

const kinds = (w: PairWorld, now = T0) => decide(w, now).alarms.map((a) => a.kind).sort();

function withHost(w: PairWorld, id: "h1" | "h2", h: PairWorld["hosts"][string]): PairWorld {
  return { ...w, hosts: { ...w.hosts, [id]: h } };
}

const killed = () =>
  snap(app({ mode: "primary", state: "failed", pid: null, lastExit: { code: null, signal: "SIGKILL", at: "" } }), vip({ desired: "enabled", observed: "enabled" }));

describe("decide", () => {
  it("does nothing for a healthy pair", () => {
    const d = decide(healthy(), T0);
    expect(d.action).toBeNull();
    expect(d.fault).toBe(false);
    expect(d.reason).toBe("healthy: sip-1 on host-a1 primary, sip-2 on host-a2 backup");
    expect(d.alarms).toEqual([]);
  });

  it("fails over when the primary exits, naming the signal and the host", () => {
    const w = withHost(healthy(), "h1", host("h1", killed()));
    const d = decide(w, T0);
    expect(d.action).toEqual({
      kind: "failover",
      fromServerId: "s1",
      toServerId: "s2",
      reason: "primary sip-1 exited with signal SIGKILL on host-a1; promoting sip-2",
    });
    expect(kinds(w)).toEqual(["primary_failed"]);
    expect(d.alarms[0].message).toBe("primary sip-1 exited with signal SIGKILL on host-a1");
  });

  it("fails over when the primary hangs", () => {
    const hung = snap(app({ mode: "primary", state: "hung", health: { status: "failing", consecutiveFailures: 3, lastError: "no heartbeat for 900 ms", lastCheckedAt: null } }), vip({ observed: "enabled", desired: "enabled" }));
    const d = decide(withHost(healthy(), "h1", host("h1", hung)), T0);
    expect(d.action?.kind).toBe("failover");
    expect(d.reason).toBe("primary sip-1 hung (no heartbeat for 900 ms) on host-a1; promoting sip-2");
  });

  it("does not fail over when the backup is not running", () => {
    const w = { ...healthy(), hosts: { h1: host("h1", killed()), h2: host("h2", snap(app({ state: "failed", lastExit: { code: 1, signal: null, at: "" } }), vip())) } };
    const d = decide(w, T0);
    expect(d.action).toBeNull();
    expect(d.reason).toBe("primary sip-1 exited with signal SIGKILL on host-a1; no backup to promote: sip-2 exited with code 1");
  });

  it("waits the grace period after the primary's host disconnects, then promotes the backup", () => {
    const w = withHost(healthy(), "h1", host("h1", primarySnap(), { connected: false, disconnectedAt: T0 }));
    const d1 = decide(w, T0 + 500);
    expect(d1.action).toBeNull();
    expect(d1.wakeAt).toBe(T0 + 2000);
    expect(d1.reason).toBe("host host-a1 of primary sip-1 is disconnected; waiting the 2s grace period (until 12:00:02 UTC)");
    const d2 = decide(w, T0 + 2000);
    expect(d2.action?.kind).toBe("disconnect_failover");
    expect(d2.action?.toServerId).toBe("s2");
    expect(d2.reason).toBe(
      "host host-a1 of primary sip-1 is disconnected for 2s (grace 2s); promoting sip-2 (the VIP may stay on host-a1 until it is back)",
    );
  });

  it("raises vip_maybe_on_both_hosts once the backup holds the VIP while the old host is unreachable", () => {
    let w = withHost(healthy(), "h1", host("h1", primarySnap(), { connected: false, disconnectedAt: T0 }));
    w = withHost(w, "h2", host("h2", snap(app({ mode: "primary" }), vip({ observed: "enabled", desired: "enabled" }))));
    w = { ...w, memory: updateMemory(w) };
    expect(w.memory.activeServerId).toBe("s2");
    const d = decide(w, T0 + 3000);
    expect(d.action).toBeNull();
    expect(kinds(w, T0 + 3000)).toEqual(["vip_maybe_on_both_hosts"]);
    expect(d.alarms[0].hostId).toBe("h1");
  });

  it("demotes the reconnected server when both are primary", () => {
    let w = withHost(healthy(), "h2", host("h2", snap(app({ mode: "primary" }), vip({ observed: "enabled", desired: "enabled" }))));
    w = withHost(w, "h1", host("h1", primarySnap(), { connectedAt: T0 }));
    w = { ...w, memory: { ...w.memory, activeServerId: "s2" } };
    const d = decide(w, T0);
    expect(d.action).toEqual({
      kind: "split_brain_resolution",
      fromServerId: "s1",
      toServerId: "s2",
      reason: "both sip-1 and sip-2 are primary after host-a1 reconnected; demoting sip-1 on host-a1 (its agent disables the VIP there), keeping sip-2 (which announces the VIP again)",
    });
    expect(kinds(w)).toEqual(["both_primary", "vip_on_both_hosts"]);
  });

  it("leaves a failed backup to its agent: alarm, no switchover, no operation", () => {
    const w = withHost(healthy(), "h2", host("h2", snap(app({ state: "failed", pid: null, lastExit: { code: null, signal: "SIGKILL", at: "" } }), vip())));
    const d = decide(w, T0);
    expect(d.action).toBeNull();
    expect(d.fault).toBe(true);
    expect(d.reason).toBe("backup sip-2 exited with signal SIGKILL on host-a2; its agent restarts it in backup mode (no switchover)");
    expect(kinds(w)).toEqual(["backup_failed"]);
    const looping = withHost(healthy(), "h2", host("h2", snap(app({ state: "failed", pid: null, crashLoop: true, restarts: 5 }), vip())));
    expect(decide(looping, T0).reason).toBe("backup sip-2 failed on host-a2; crash-looping: its agent stopped restarting it");
  });

  it("changes nothing when an agent restarts (new bootId, same app and mode)", () => {
    const w = withHost(healthy(), "h1", host("h1", snap(app({ mode: "primary" }), vip({ desired: "enabled", observed: "enabled" }), "boot-2"), { connectedAt: T0 }));
    const d = decide(w, T0);
    expect(d.action).toBeNull();
    expect(d.fault).toBe(false);
  });

  it("takes no automatic action in maintenance but still alarms and explains", () => {
    const w = { ...withHost(healthy(), "h1", host("h1", killed())), pair: pairCfg({ maintenance: true }) };
    const d = decide(w, T0);
    expect(d.action).toBeNull();
    expect(d.fault).toBe(true);
    expect(d.reason).toBe("maintenance: no action (would have: primary sip-1 exited with signal SIGKILL on host-a1; promoting sip-2)");
    expect(kinds(w)).toEqual(["primary_failed"]);
  });

  it("never dark: a failed primary is replaced at once, even during the hold-down of the last failover", () => {
    // Issue 10's double kill: sip-2 became primary by a failover 4 s ago, then failed too; sip-1 is back as
    // backup. The hold-down would have left the pair without a primary for 56 s.
    let w = { ...healthy(), hosts: { h1: host("h1", backupSnap()), h2: host("h2", killed()) } };
    w = { ...w, memory: { ...w.memory, activeServerId: "s2" }, lastAutoFailoverAt: T0 - 4_000 };
    const d = decide(w, T0);
    expect(d.action).toMatchObject({ kind: "failover", fromServerId: "s2", toServerId: "s1", reason: "primary sip-2 exited with signal SIGKILL on host-a2; promoting sip-1" });
  });

  it("does not flap between live servers: the hold-down gates a disconnect failover away from a primary whose VIP does not fence", () => {
    const cut = (fence: boolean | undefined) =>
      withHost(
        { ...healthy(), lastAutoFailoverAt: T0 - 10_000 },
        "h1",
        host("h1", snap(app({ mode: "primary" }), vip({ desired: "enabled", observed: "enabled", fence })), { connected: false, disconnectedAt: T0 - 5_000 }),
      );
    const held = decide(cut(false), T0);
    expect(held.action).toBeNull();
    expect(held.wakeAt).toBe(T0 + 50_000);
    expect(held.reason).toBe(
      "hold-down after the automatic failover at 11:59:50 UTC until 12:00:50 UTC: no action while sip-1 may still serve (its VIP does not fence) (would have: host host-a1 of primary sip-1 is disconnected for 5s (grace 2s); promoting sip-2 (the VIP may stay on host-a1 until it is back))",
    );
    expect(decide(cut(false), T0 + 50_000).action?.kind).toBe("disconnect_failover");
    // A fencing VIP (the default, also when an older agent does not say) is down by now: promote at once.
    expect(decide(cut(true), T0).action?.kind).toBe("disconnect_failover");
    expect(decide(cut(undefined), T0).action?.kind).toBe("disconnect_failover");
  });

  it("a failed automatic failover is tried again after a short delay, not in a tight loop", () => {
    let w = { ...healthy(), hosts: { h1: host("h1", backupSnap()), h2: host("h2", killed()) } };
    w = { ...w, memory: { ...w.memory, activeServerId: "s2" }, lastFinishedOp: { id: "f1", kind: "failover" as const, status: "failed" as const, error: "promote failed", finishedAt: T0 } };
    const d = decide(w, T0 + 1000);
    expect(d.action).toBeNull();
    expect(d.wakeAt).toBe(T0 + 3000);
    expect(d.reason).toMatch(/^the last failover failed; trying again at 12:00:03 UTC \(would have: primary sip-2 exited/);
    expect(decide(w, T0 + 3000).action?.kind).toBe("failover");
  });

  it("role words: the primary that just failed is the former primary, not 'the backup'; a cut host last seen primary says so", () => {
    // After the failover sip-2 is primary; sip-1, killed as the primary, is still down.
    const after = { ...healthy(), hosts: { h1: host("h1", killed()), h2: host("h2", primarySnap()) }, memory: { activeServerId: "s2", lastRunningMode: { s1: "primary" as const, s2: "primary" as const } } };
    expect(decide(after, T0).reason).toBe("former primary sip-1 exited with signal SIGKILL on host-a1; its agent restarts it in backup mode (no switchover)");
    // A disconnect failover promoted sip-2; host-a1 was last seen with sip-1 primary.
    const cut = { ...after, hosts: { h1: host("h1", primarySnap(), { connected: false, disconnectedAt: T0 - 5000 }), h2: host("h2", primarySnap()) } };
    expect(decide(cut, T0).reason).toBe("sip-2 on host-a2 primary; sip-1's host host-a1 (last known primary there, its VIP may still be up) is disconnected");
  });

  it("respects autoFailover off", () => {
    const w = { ...withHost(healthy(), "h1", host("h1", killed())), pair: pairCfg({ autoFailover: false }) };
    expect(decide(w, T0).reason).toMatch(/^autoFailover is off: no action/);
  });

  it("takes no new action while an operation runs", () => {
    const w = { ...withHost(healthy(), "h1", host("h1", killed())), activeOp: { id: "op1", kind: "manual_switchover" as const, status: "running" as const, createdAt: T0, requestedBy: "alice" } };
    const d = decide(w, T0);
    expect(d.action).toBeNull();
    expect(d.reason).toMatch(/^manual switchover by alice is running; no new action/);
  });

  it("raises duplicate_vip and vip_script_failed from the agent's VIP report", () => {
    const run = { kind: "vip" as const, driver: "script", action: "enable", target: "vip", startedAt: "", durationMs: 5, exitCode: 2, signal: null, timedOut: false, ok: false, stdout: "", stderr: "RTNETLINK answers: File exists\n" };
    const w = withHost(healthy(), "h1", host("h1", snap(app({ mode: "primary" }), vip({ observed: "enabled", desired: "enabled", lastRun: run, duplicate: { detected: true, mac: "02:00:00:00:00:09", at: "" } }))));
    const d = decide(w, T0);
    expect(d.alarms.map((a) => a.message)).toEqual([
      "VIP 198.18.0.110 is answered by another machine (MAC 02:00:00:00:00:09), seen from host-a1",
      "VIP enable for 198.18.0.110 failed on host-a1 (script: exit code 2): RTNETLINK answers: File exists",
    ]);
    expect(alarmKey(d.alarms[0])).toBe("duplicate_vip:p1:h1");
  });

  it("promotes the configured primary when nobody is primary", () => {
    const w = { ...healthy(), hosts: { h1: host("h1", backupSnap()), h2: host("h2", backupSnap()) }, memory: { ...healthy().memory, activeServerId: null } };
    const d = decide(w, T0);
    expect(d.action).toMatchObject({ kind: "failover", toServerId: "s1", reason: "no server is primary; promoting sip-1 on host-a1 (configured primary)" });
  });

  it("when nobody is primary, lets a server that is still starting report before promoting the other", () => {
    // Cold start: sip-2 came up as backup first while sip-1 is still starting (its agent autostarts it as
    // primary). Promoting sip-2 now would make two primaries and end with sip-1 demoted.
    const starting = snap(app({ state: "starting", mode: "unknown", pid: 7 }), vip());
    const w = { ...healthy(), hosts: { h1: host("h1", starting), h2: host("h2", backupSnap()) }, memory: { activeServerId: null, lastRunningMode: {} } };
    const d = decide(w, T0);
    expect(d.action).toBeNull();
    expect(d.reason).toBe("no server is primary; waiting for sip-1 on host-a1 to finish starting");
    const failed = snap(app({ state: "failed", mode: "unknown", pid: null, lastExit: { code: 1, signal: null, at: "" } }), vip());
    expect(decide({ ...w, hosts: { ...w.hosts, h1: host("h1", failed) } }, T0).action).toMatchObject({ kind: "failover", toServerId: "s2" });
  });

  it("pair status: not serving when dark, switching over for a person's operation, failing over for the controller's", () => {
    const both = { ...healthy(), hosts: { h1: host("h1", backupSnap()), h2: host("h2", backupSnap()) } };
    expect(pairHealth(both, serverStates(both))).toBe("not_serving");
    const killed1 = withHost(healthy(), "h1", host("h1", killed()));
    expect(pairHealth(killed1, serverStates(killed1))).toBe("not_serving");
    const op = (kind: "manual_switchover" | "failover") => ({ ...killed1, activeOp: { id: "op", kind, status: "running" as const, createdAt: T0, requestedBy: "a" } });
    expect(pairHealth(op("manual_switchover"), serverStates(op("manual_switchover")))).toBe("switching_over");
    expect(pairHealth(op("failover"), serverStates(op("failover")))).toBe("failing_over");
    // The primary's host cut off (it may still serve): degraded, not dark; no agent at all: unknown.
    const cut = withHost(healthy(), "h1", host("h1", primarySnap(), { connected: false, disconnectedAt: T0 }));
    expect(pairHealth(cut, serverStates(cut))).toBe("degraded");
    const none = { ...cut, hosts: { h1: cut.hosts.h1, h2: host("h2", backupSnap(), { connected: false, disconnectedAt: T0 }) } };
    expect(pairHealth(none, serverStates(none))).toBe("unknown");
    const backupDown = withHost(healthy(), "h2", host("h2", snap(app({ mode: "backup", state: "failed", pid: null }), vip())));
    expect(pairHealth(backupDown, serverStates(backupDown))).toBe("degraded");
  });

  it("puts the VIP back when the primary's host lost it (no holder): alarm, repair, never 'healthy'", () => {
    // Both servers as they should be, but the VIP on no host (issue 13: both agents restarted, 58 s of silence).
    const w = withHost(healthy(), "h1", host("h1", snap(app({ mode: "primary" }), vip({ desired: "disabled", observed: "disabled" }))));
    const d = decide(w, T0);
    expect(d.action).toEqual({ kind: "vip_repair", fromServerId: null, toServerId: "s1", reason: "sip-1 on host-a1 is primary but VIP 198.18.0.110 is on no host; enabling it on host-a1 and announcing it" });
    expect(kinds(w)).toEqual(["vip_not_held"]);
    expect(pairHealth(w, serverStates(w))).toBe("not_serving");
    // Not while an operation runs (a switchover has the VIP on no host for a few milliseconds), not in maintenance.
    expect(kinds({ ...w, activeOp: { id: "op", kind: "manual_switchover", status: "running", createdAt: T0, requestedBy: "a" } })).toEqual([]);
    expect(decide({ ...w, pair: pairCfg({ maintenance: true }) }, T0).action).toBeNull();
    // A failed repair is not retried in a loop.
    const failed = { ...w, lastFinishedOp: { id: "r1", kind: "vip_repair" as const, status: "failed" as const, error: "x", finishedAt: T0 } };
    expect(decide(failed, T0 + 1000).reason).toMatch(/^the last VIP repair failed; trying again at /);
    expect(decide(failed, T0 + 10_000).action?.kind).toBe("vip_repair");
  });

  it("takes a stray VIP away from the backup's host (VIP on both) and announces it from the primary's", () => {
    const w = withHost(healthy(), "h2", host("h2", snap(app({ mode: "backup" }), vip({ desired: "enabled", observed: "enabled" }))));
    const d = decide(w, T0);
    expect(d.action).toMatchObject({ kind: "vip_repair", fromServerId: "s2", toServerId: "s1" });
    expect(d.action?.reason).toBe("VIP 198.18.0.110 is enabled on host-a2 too; disabling it there (demoting sip-2); enabling it on host-a1 and announcing it");
    expect(kinds(w)).toEqual(["vip_on_both_hosts"]);
    expect(pairHealth(w, serverStates(w))).toBe("split_brain");
  });

  it("raises switchover_failed after a failed operation until one succeeds", () => {
    const w = { ...healthy(), lastFinishedOp: { id: "op9", kind: "manual_switchover" as const, status: "failed" as const, error: "step 3 promote failed", finishedAt: T0 } };
    expect(decide(w, T0).alarms.map((a) => a.message)).toEqual(["manual switchover failed at 12:00:00 UTC: step 3 promote failed"]);
  });
});
