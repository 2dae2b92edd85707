/**
 * Every action of the audit catalogue reads as a sentence, from details shaped as the writers write them
 * (lib/queries/*, lib/controller): the fixtures below are copied from rows of a real switchover, failover,
 * disconnect and split brain (tests/integration/api/operations-history.test.ts checks the live ones).
 */
import { describe, expect, it } from "vitest";
import { AUDIT_ACTIONS, type AuditAction } from "@/lib/audit-actions";
import { auditOperationId, auditSentence, humanDuration, type SentenceInput } from "@/lib/audit-sentence";

const OP = "a52d9fcc-b716-4ed2-a8da-103e15219e89";
const PAIR = "11111111-1111-4111-8111-111111111111";
const names = { pairName: "pair-a" };

function row(action: string, details: Record<string, unknown>, o: Partial<SentenceInput> = {}): SentenceInput {
  return { actor: "controller", action, outcome: "info", durationMs: null, targetType: null, targetId: null, pairId: PAIR, details, ...o };
}
const opRow = (action: string, details: Record<string, unknown>, o: Partial<SentenceInput> = {}) => row(action, details, { targetType: "operation", targetId: OP, ...o });

const steps = (...s: [string, string, string][]) => s.map(([action, target, status], i) => ({ seq: i + 1, action, target, status, startedAt: null, finishedAt: null, durationMs: 1, error: null, runs: [] }));

/** One row per action of the catalogue, and the sentence it must read as. */
const CASES: Record<AuditAction, [SentenceInput, string]> = {
  "operation.requested": [
    opRow("operation.requested", { kind: "manual_switchover", reason: "patching host 1", target: { id: "x", name: "sip-2", hostName: "host-a2" }, epoch: 1 }, { actor: "alice", outcome: "success" }),
    "alice requested a manual switchover on pair-a: make sip-2 on host-a2 primary (reason: patching host 1)",
  ],
  "operation.refused": [
    row("operation.refused", { reason: null, failed: [{ id: "backup", label: "Backup running", ok: false, detail: "backup sip-2 on host-a2 is failed" }] }, { actor: "alice", outcome: "denied", targetType: "pair", targetId: PAIR }),
    "alice's switchover on pair-a was refused by the preflight: backup sip-2 on host-a2 is failed",
  ],
  "operation.decided": [
    opRow("operation.decided", { kind: "failover", action: "failover", reason: "primary sip-1 exited with signal SIGKILL on host-a1; promoting sip-2", operationId: OP }),
    "controller decided a failover on pair-a: primary sip-1 exited with signal SIGKILL on host-a1; promoting sip-2",
  ],
  "operation.started": [
    opRow("operation.started", { kind: "manual_switchover", reason: "manual switchover requested by alice (patching): demoting sip-1 on host-a1, promoting sip-2 on host-a2", operationId: OP }),
    "controller started the manual switchover on pair-a: manual switchover requested by alice (patching): demoting sip-1 on host-a1, promoting sip-2 on host-a2",
  ],
  "operation.reconciled": [
    opRow("operation.reconciled", { kind: "manual_switchover", previousEpoch: 3, stepsDone: ["1 demote", "2 vip_disable"], stateFound: "…", operationId: OP }),
    "controller, as the new leader, took over the unfinished manual switchover on pair-a (2 steps done before)",
  ],
  "operation.finished": [
    opRow(
      "operation.finished",
      {
        kind: "failover",
        status: "succeeded",
        error: null,
        reason: null,
        decision: "primary sip-1 exited with signal SIGKILL on host-a1; promoting sip-2",
        steps: steps(["promote", "sip-2 on host-a2", "succeeded"], ["vip_enable", "VIP 192.0.2.10/24 on host-a2", "succeeded"], ["vip_disable", "VIP 192.0.2.10/24 on host-a1", "succeeded"], ["verify", "pair-a: sip-2 primary", "succeeded"]),
      },
      { outcome: "success", durationMs: 21 },
    ),
    "controller: failover on pair-a: sip-2 on host-a2 promoted after primary sip-1 exited with signal SIGKILL on host-a1 — succeeded in 21 ms",
  ],
  "operation.step.demote": [
    opRow("operation.step.demote", { seq: 1, step: "demote", target: "sip-1 on host-a1", status: "succeeded", error: null }, { outcome: "success", durationMs: 66 }),
    "controller on pair-a: step 1, demote sip-1 on host-a1 to backup — succeeded in 66 ms",
  ],
  "operation.step.vip_disable": [
    opRow("operation.step.vip_disable", { seq: 3, step: "vip_disable", target: "VIP 192.0.2.10/24 on host-a1", status: "skipped", error: "agent of host-a1 is disconnected" }, { durationMs: 0 }),
    "controller on pair-a: step 3, disable the VIP 192.0.2.10/24 on host-a1 — skipped: agent of host-a1 is disconnected",
  ],
  "operation.step.promote": [
    opRow("operation.step.promote", { seq: 3, step: "promote", target: "sip-2 on host-a2", status: "failed", error: "agent timeout" }, { outcome: "failure", durationMs: 5000 }),
    "controller on pair-a: step 3, promote sip-2 on host-a2 to primary — failed: agent timeout",
  ],
  "operation.step.vip_enable": [
    opRow("operation.step.vip_enable", { seq: 4, step: "vip_enable", target: "VIP 192.0.2.10/24 on host-a2", status: "succeeded", error: null }, { outcome: "success", durationMs: 12 }),
    "controller on pair-a: step 4, enable the VIP 192.0.2.10/24 on host-a2 — succeeded in 12 ms",
  ],
  "operation.step.verify": [
    opRow("operation.step.verify", { seq: 5, step: "verify", target: "pair-a: sip-2 primary, VIP only on host-a2", status: "succeeded", error: null }, { outcome: "success", durationMs: 0 }),
    "controller on pair-a: step 5, verify pair-a: sip-2 primary, VIP only on host-a2 — succeeded in 0 ms",
  ],
  "operation.step.restart": [
    opRow("operation.step.restart", { seq: 1, step: "restart", target: "sip-2 on host-a2 in backup mode", status: "succeeded", error: null }, { outcome: "success", durationMs: 1500 }),
    "controller on pair-a: step 1, restart sip-2 on host-a2 in backup mode — succeeded in 1.5 s",
  ],
  "operation.step.start": [
    opRow("operation.step.start", { seq: 1, step: "start", target: "sip-2 on host-a2 in backup mode", status: "succeeded", error: null }, { outcome: "success", durationMs: 310 }),
    "controller on pair-a: step 1, start sip-2 on host-a2 in backup mode — succeeded in 310 ms",
  ],
  "operation.step.stop": [
    opRow("operation.step.stop", { seq: 6, step: "stop", target: "sip-1 on host-a1", status: "failed", error: "TIMEOUT: sip-1 did not exit after SIGKILL" }, { outcome: "failure", durationMs: 8000 }),
    "controller on pair-a: step 6, stop sip-1 on host-a1 — failed: TIMEOUT: sip-1 did not exit after SIGKILL",
  ],
  "operation.step.holddown_clear": [
    opRow("operation.step.holddown_clear", { seq: 1, step: "holddown_clear", target: "pair-a: the hold-down of its last automatic failover", status: "succeeded", error: null }, { outcome: "success", durationMs: 0 }),
    "controller on pair-a: step 1, end the hold-down of the last automatic failover — succeeded in 0 ms",
  ],
  "operation.step.recover_demote": [
    opRow("operation.step.recover_demote", { seq: 6, step: "recover_demote", target: "sip-2 on host-a2", status: "succeeded", error: null }, { outcome: "success", durationMs: 9 }),
    "controller on pair-a: step 6, recovery: demote sip-2 on host-a2 to backup — succeeded in 9 ms",
  ],
  "operation.step.recover_promote": [
    opRow("operation.step.recover_promote", { seq: 7, step: "recover_promote", target: "sip-1 on host-a1 (VIP 192.0.2.10/24 on host-a1)", status: "succeeded", error: null }, { outcome: "success", durationMs: 30 }),
    "controller on pair-a: step 7, recovery: promote sip-1 on host-a1 (VIP 192.0.2.10/24 on host-a1) to primary — succeeded in 30 ms",
  ],
  "operation.step.recover_verify": [
    opRow("operation.step.recover_verify", { seq: 8, step: "recover_verify", target: "pair-a: one primary holding the VIP", status: "succeeded", error: null }, { outcome: "success", durationMs: 1 }),
    "controller on pair-a: step 8, recovery: verify pair-a: one primary holding the VIP — succeeded in 1 ms",
  ],
  decision: [
    row("decision", { reason: "backup sip-2 exited with signal SIGKILL on host-a2; its agent restarts it in backup mode (no switchover)", action: null, epoch: 1 }, { targetType: "pair", targetId: PAIR }),
    "controller took no action on pair-a: backup sip-2 exited with signal SIGKILL on host-a2; its agent restarts it in backup mode (no switchover)",
  ],
  "server.now_primary": [
    row("server.now_primary", { code: "00-5150", message: "sip-2 on host-a2 is now primary", epoch: 1 }, { targetType: "server", targetId: "s2" }),
    "sip-2 on host-a2 is now primary on pair-a (Genesys 00-5150)",
  ],
  "server.now_backup": [
    row("server.now_backup", { code: "00-5151", message: "sip-1 on host-a1 is now backup", epoch: 1 }, { targetType: "server", targetId: "s1" }),
    "sip-1 on host-a1 is now backup on pair-a (Genesys 00-5151)",
  ],
  "alarm.raised": [
    row("alarm.raised", { kind: "primary_failed", severity: "critical", hostId: "h1", message: "primary sip-1 exited with signal SIGKILL on host-a1" }, { outcome: "critical", targetType: "alarm" }),
    "controller raised a critical alarm on pair-a: primary sip-1 exited with signal SIGKILL on host-a1",
  ],
  "alarm.cleared": [
    row("alarm.cleared", { kind: "primary_failed", severity: "critical", hostId: "h1", message: "primary sip-1 exited with signal SIGKILL on host-a1" }, { targetType: "alarm" }),
    "controller cleared the critical alarm on pair-a (its condition ended): primary sip-1 exited with signal SIGKILL on host-a1",
  ],
  "alarm.ack": [
    row("alarm.ack", { kind: "primary_failed", severity: "critical", message: "primary sip-1 exited with signal SIGKILL on host-a1" }, { actor: "alice", outcome: "success", targetType: "alarm" }),
    "alice acknowledged the critical alarm 'primary sip-1 exited with signal SIGKILL on host-a1' on pair-a",
  ],
  "pair.create": [
    row("pair.create", { name: "pair-a", vipAddress: "192.0.2.10", vipPrefix: 24, vipInterface: "eth0", servers: [] }, { actor: "admin", outcome: "success", targetType: "pair" }),
    "admin created pair pair-a (VIP 192.0.2.10/24 on eth0)",
  ],
  "pair.update": [
    row("pair.update", { name: "pair-a", changes: { maintenance: true, holdDownSeconds: 120 } }, { actor: "admin", outcome: "success", targetType: "pair" }),
    "admin changed pair pair-a: maintenance on, hold-down 120 s",
  ],
  "pair.maintenance": [
    row("pair.maintenance", { name: "pair-a", maintenance: true, reason: "core switch upgrade" }, { actor: "alice", outcome: "success", targetType: "pair" }),
    "alice switched maintenance on for pair pair-a (reason: core switch upgrade)",
  ],
  "maintenance.schedule": [
    row("maintenance.schedule", { name: "pair-a", windowId: "w1", startsAt: "2026-12-03T01:00:00.000Z", endsAt: "2026-12-03T03:00:00.000Z", reason: "patch night" }, { actor: "alice", outcome: "success", targetType: "pair" }),
    "alice scheduled maintenance of pair pair-a from 2026-12-03T01:00:00.000Z to 2026-12-03T03:00:00.000Z: patch night",
  ],
  "maintenance.end": [
    row("maintenance.end", { name: "pair-a", windowId: "w1", startsAt: "2026-12-03T01:00:00.000Z", endsAt: "2026-12-03T03:00:00.000Z", reason: "patch night" }, { actor: "alice", outcome: "success", targetType: "pair" }),
    "alice ended the maintenance window of pair pair-a early (planned until 2026-12-03T03:00:00.000Z)",
  ],
  "maintenance.cancel": [
    row("maintenance.cancel", { name: "pair-a", windowId: "w1", startsAt: "2026-12-03T01:00:00.000Z", endsAt: "2026-12-03T03:00:00.000Z", reason: "patch night" }, { actor: "alice", outcome: "success", targetType: "pair" }),
    "alice cancelled the maintenance window of pair pair-a planned from 2026-12-03T01:00:00.000Z",
  ],
  "pair.delete": [
    row("pair.delete", { name: "pair-a", vipAddress: "192.0.2.10" }, { actor: "admin", outcome: "success", targetType: "pair" }),
    "admin deleted pair pair-a (VIP 192.0.2.10)",
  ],
  "pair.configure": [
    row("pair.configure", { name: "demo-a", hosts: ["host-a1", "host-a2"], vip: "198.18.0.10" }, { actor: "demo", outcome: "success", targetType: "pair" }),
    "demo set up pair demo-a for the demo or a benchmark (VIP 198.18.0.10, hosts host-a1 and host-a2)",
  ],
  "host.create": [
    row("host.create", { name: "host-a1", address: "10.0.0.11", agentUrl: "http://10.0.0.11:4999", agentTokenChanged: true }, { actor: "admin", outcome: "success", pairId: null, targetType: "host" }),
    "admin added host host-a1 (10.0.0.11, agent http://10.0.0.11:4999)",
  ],
  "host.update": [
    row("host.update", { name: "host-a1", changes: { address: "10.0.0.12", agentTokenChanged: true } }, { actor: "admin", outcome: "success", pairId: null, targetType: "host" }),
    "admin changed host host-a1: address 10.0.0.12, a new agent token",
  ],
  "host.delete": [row("host.delete", { name: "host-a1" }, { actor: "admin", outcome: "success", pairId: null }), "admin deleted host host-a1"],
  "notification.channel.create": [
    row("notification.channel.create", { name: "noc-hook", type: "webhook", secret: "set" }, { actor: "admin", outcome: "success", pairId: null }),
    "admin created the webhook notification channel noc-hook (with a secret)",
  ],
  "notification.channel.update": [
    row("notification.channel.update", { name: "noc-mail", type: "email", changes: { enabled: false, config: ["host", "to"], secret: "set" } }, { actor: "admin", outcome: "success", pairId: null }),
    "admin changed the notification channel noc-mail: disabled, settings host, to, a new secret",
  ],
  "notification.channel.delete": [
    row("notification.channel.delete", { name: "noc-traps", type: "snmp" }, { actor: "admin", outcome: "success", pairId: null }),
    "admin deleted the snmp notification channel noc-traps with its rules and delivery log",
  ],
  "notification.rule.create": [
    row("notification.rule.create", { name: "critical to the NOC", channelName: "noc-hook", events: ["alarm.raised", "alarm.cleared"] }, { actor: "admin", outcome: "success", pairId: null }),
    "admin created the notification rule critical to the NOC: alarm.raised, alarm.cleared to noc-hook",
  ],
  "notification.rule.update": [
    row("notification.rule.update", { name: "critical to the NOC", changes: { severities: ["critical"], enabled: true } }, { actor: "admin", outcome: "success", pairId: null }),
    "admin changed the notification rule critical to the NOC: severities, enabled",
  ],
  "notification.rule.delete": [
    row("notification.rule.delete", { name: "critical to the NOC", channelName: "noc-hook" }, { actor: "admin", outcome: "success", pairId: null }),
    "admin deleted the notification rule critical to the NOC (to noc-hook)",
  ],
  "notification.test": [
    row("notification.test", { name: "noc-hook", type: "webhook", deliveryId: OP }, { actor: "admin", outcome: "success", pairId: null }),
    "admin sent a test notification to noc-hook (webhook)",
  ],
  "user.bootstrap_admin": [
    row("user.bootstrap_admin", { username: "admin", passwordSource: "generated" }, { actor: "system", outcome: "success", pairId: null }),
    "system created the first admin, admin (generated password, printed once)",
  ],
  "user.create": [row("user.create", { username: "bob", role: "operator" }, { actor: "admin", outcome: "success", pairId: null }), "admin created user bob (operator)"],
  "user.role": [row("user.role", { username: "bob", from: "viewer", to: "operator" }, { actor: "admin", outcome: "success", pairId: null }), "admin changed the role of bob from viewer to operator"],
  "user.delete": [row("user.delete", { username: "bob", role: "viewer" }, { actor: "admin", outcome: "success", pairId: null }), "admin deleted user bob (viewer)"],
  "token.create": [
    row("token.create", { name: "ci", role: "operator", tokenPrefix: "sy_AbCdEfGh", expiresAt: null }, { actor: "admin", outcome: "success", pairId: null }),
    "admin created API token ci (operator, sy_AbCdEfGh…, no expiry)",
  ],
  "token.delete": [row("token.delete", { name: "ci", tokenPrefix: "sy_AbCdEfGh" }, { actor: "admin", outcome: "success", pairId: null }), "admin revoked API token ci (sy_AbCdEfGh…)"],
  "auth.login": [row("auth.login", { ip: "10.1.2.3", sessionId: "x" }, { actor: "alice", outcome: "success", pairId: null }), "alice signed in from 10.1.2.3"],
  "auth.login_failures": [
    row("auth.login_failures", { ip: "10.1.2.3", reason: "invalid credentials", failures: 5, refused: 3, from: "2026-12-01T10:00:00.000Z", to: "2026-12-01T10:01:00.000Z" }, { actor: "alice", outcome: "failure", pairId: null }),
    "5 failed sign-ins and 3 refused (rate limit) as alice from 10.1.2.3 between 2026-12-01T10:00:00.000Z and 2026-12-01T10:01:00.000Z",
  ],
  "auth.logout": [row("auth.logout", { sessionId: "x" }, { actor: "alice", outcome: "success", pairId: null }), "alice signed out"],
  "request.denied": [
    row("request.denied", { method: "POST", path: "/api/pairs", reason: "role viewer may not do this" }, { actor: "victor", outcome: "denied", pairId: null }),
    "victor was refused POST /api/pairs: role viewer may not do this",
  ],
};

describe("auditSentence", () => {
  it("covers every action of the catalogue", () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(AUDIT_ACTIONS).sort());
  });

  for (const [action, [input, sentence]] of Object.entries(CASES)) {
    it(action, () => expect(auditSentence(input, names)).toBe(sentence));
  }

  it("a manual switchover names who asked and why; a failed one says what went wrong", () => {
    const d = {
      kind: "manual_switchover",
      status: "failed",
      error: "promote failed: agent timeout; recovered: sip-1 primary again",
      reason: "patching host 1",
      decision: "manual switchover requested by alice (patching host 1): demoting sip-1 on host-a1, promoting sip-2 on host-a2",
      steps: steps(["demote", "sip-1 on host-a1", "succeeded"], ["vip_disable", "VIP", "succeeded"], ["promote", "sip-2 on host-a2", "failed"], ["recover_promote", "sip-1 on host-a1 (VIP 192.0.2.10/24 on host-a1)", "succeeded"]),
    };
    expect(auditSentence(opRow("operation.finished", d, { outcome: "failure", durationMs: 5400 }), names)).toBe(
      "controller: manual switchover on pair-a: sip-1 on host-a1 demoted, sip-1 on host-a1 promoted, requested by alice (reason: patching host 1) — failed after 5.4 s: promote failed: agent timeout; recovered: sip-1 primary again",
    );
    const ok = { ...d, status: "succeeded", error: null, steps: steps(["demote", "sip-1 on host-a1", "succeeded"], ["promote", "sip-2 on host-a2", "succeeded"]) };
    expect(auditSentence(opRow("operation.finished", ok, { outcome: "success", durationMs: 144 }), names)).toBe(
      "controller: manual switchover on pair-a: sip-1 on host-a1 demoted, sip-2 on host-a2 promoted, requested by alice (reason: patching host 1) — succeeded in 144 ms",
    );
  });

  it("split-brain resolution and disconnect failover read with their cause", () => {
    const split = {
      kind: "split_brain_resolution",
      status: "succeeded",
      decision: "both sip-1 and sip-2 are primary after host-a1 reconnected; demoting sip-1 on host-a1 (its agent disables the VIP there), keeping sip-2 (which announces the VIP again)",
      steps: steps(["demote", "sip-1 on host-a1", "succeeded"], ["promote", "sip-2 on host-a2", "succeeded"]),
    };
    expect(auditSentence(opRow("operation.finished", split, { outcome: "success", durationMs: 32 }), names)).toBe(
      "controller: split-brain resolution on pair-a: sip-1 on host-a1 demoted, sip-2 on host-a2 promoted (both sip-1 and sip-2 are primary after host-a1 reconnected) — succeeded in 32 ms",
    );
    const disc = { kind: "disconnect_failover", status: "succeeded", decision: "host host-a1 of primary sip-1 is disconnected for 2s (grace 2s); promoting sip-2", steps: steps(["promote", "sip-2 on host-a2", "succeeded"]) };
    expect(auditSentence(opRow("operation.finished", disc, { outcome: "success", durationMs: 14 }), names)).toBe(
      "controller: disconnect failover on pair-a: sip-2 on host-a2 promoted after host host-a1 of primary sip-1 is disconnected for 2s (grace 2s) — succeeded in 14 ms",
    );
  });

  it("old rows: alarm.raised written with outcome info still reads its severity from the details", () => {
    const old = row("alarm.raised", { kind: "both_primary", severity: "critical", message: "both sip-1 and sip-2 are primary" });
    expect(auditSentence(old, names)).toBe("controller raised a critical alarm on pair-a: both sip-1 and sip-2 are primary");
  });

  it("a deleted pair, a first failed sign-in, an address flood, a kind and an action it does not know", () => {
    expect(auditSentence(row("decision", { reason: "maintenance" }), {})).toBe("controller took no action on a deleted pair: maintenance");
    expect(auditSentence(row("auth.login", { ip: "10.9.9.9", reason: "invalid credentials" }, { actor: "mallory", outcome: "failure", pairId: null }))).toBe(
      "a sign-in as mallory from 10.9.9.9 failed: invalid credentials",
    );
    expect(auditSentence(row("auth.login_failures", { ip: "10.9.9.9", scope: "address", failures: 30, refused: 12 }, { actor: "anonymous", outcome: "failure", pairId: null }))).toBe(
      "too many sign-in attempts from 10.9.9.9: 30 failed sign-ins and 12 refused (rate limit)",
    );
    expect(auditSentence(opRow("operation.requested", { kind: "app_reload", target: { name: "sip-1", hostName: "host-a1" } }, { actor: "bob" }), names)).toBe(
      "bob requested an app reload on pair-a: make sip-1 on host-a1 primary",
    );
    expect(auditSentence(row("maintenance.window", {}, { actor: "bob", targetType: "pair", targetId: "p1", outcome: "success" }), names)).toBe("bob: maintenance window on pair-a (pair p1) — success");
    expect(auditSentence(row("alarm.ack", { severity: "major", message: "m", comment: "known, ticket 42" }, { actor: "alice" }), names)).toBe(
      "alice acknowledged the major alarm 'm' on pair-a with the comment 'known, ticket 42'",
    );
    // Details missing altogether still give a sentence, never a throw.
    for (const action of Object.keys(AUDIT_ACTIONS)) expect(auditSentence(row(action, null as unknown as Record<string, unknown>)).length).toBeGreaterThan(5);
  });
});

describe("auditOperationId", () => {
  it("operation.* rows name their operation (targetId, else details.operationId); others none", () => {
    expect(auditOperationId(opRow("operation.step.promote", {}))).toBe(OP);
    expect(auditOperationId(row("operation.decided", { operationId: OP }))).toBe(OP);
    expect(auditOperationId(row("operation.refused", {}, { targetType: "pair", targetId: PAIR }))).toBeNull();
    expect(auditOperationId(row("alarm.raised", { operationId: OP }, { targetType: "alarm", targetId: "a1" }))).toBeNull();
  });
});

describe("humanDuration", () => {
  it("ms, seconds, minutes", () => {
    expect([humanDuration(0), humanDuration(21), humanDuration(1400), humanDuration(12_345), humanDuration(125_000), humanDuration(120_000)]).toEqual(["0 ms", "21 ms", "1.4 s", "12 s", "2 min 5 s", "2 min"]);
  });
});
