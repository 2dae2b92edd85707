import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { renderTemplate, templateProblem } from "@/lib/notifications/template";
import { retryDelayMs } from "@/lib/notifications/dispatcher";
import { alertmanagerBody, sign } from "@/lib/notifications/webhook";
import { alarmNotification, operationNotification, TEMPLATE_VARIABLES } from "@/lib/notifications/events";

const known = Object.keys(TEMPLATE_VARIABLES);

describe("templates", () => {
  it("replaces known variables, nothing else", () => {
    expect(renderTemplate("[{{severity}}] {{ pair }}: {{message}}", { severity: "critical", pair: "p1", message: "x" })).toBe("[critical] p1: x");
    expect(renderTemplate("{{constructor}}{{toString}}", {})).toBe("");
  });
  it("names unknown variables and stray braces", () => {
    expect(templateProblem("{{pair}} {{severity}}", known)).toBeNull();
    expect(templateProblem("{{pair}} {{nope}} {{process}}", known)).toMatch(/^unknown variables \{\{nope\}\}, \{\{process\}\}/);
    expect(templateProblem("{{pair.constructor}}", known)).toMatch(/not a variable/);
    expect(templateProblem("{{ 1+1 }}", known)).toMatch(/not a variable/);
  });
});

describe("delivery", () => {
  it("backs off 1 s, 2 s, 4 s ... capped", () => {
    expect([1, 2, 3, 4, 12].map((n) => retryDelayMs(n, 1000, 60_000))).toEqual([1000, 2000, 4000, 8000, 60_000]);
  });
  it("signs the raw body", () => {
    expect(sign("{}", "k")).toBe("sha256=" + createHmac("sha256", "k").update("{}").digest("hex"));
    expect(sign("{}", "k")).toMatch(/^sha256=[0-9a-f]{64}$/);
  });
  it("an Alertmanager body: firing while raised, resolved when cleared", () => {
    const a = { id: "0d5ab6a2-0000-4000-8000-000000000001", kind: "primary_failed", severity: "critical", pairId: "p", hostId: null, message: "sip-1 exited" };
    const raised = alertmanagerBody({ ...alarmNotification("alarm.raised", a, { at: new Date(0) }), pair: "pair-a" }, { deliveryId: "d", receiver: "noc", externalURL: "" });
    expect(raised).toMatchObject({ version: "4", status: "firing", alerts: [{ labels: { alertname: "primary_failed", severity: "critical", pair: "pair-a" }, endsAt: "0001-01-01T00:00:00Z" }] });
    const cleared = alertmanagerBody(alarmNotification("alarm.cleared", a, { at: new Date(1000) }), { deliveryId: "d", receiver: "noc", externalURL: "" });
    expect(cleared.status).toBe("resolved");
    expect(cleared.alerts[0]!.endsAt).toBe("1970-01-01T00:00:01.000Z");
  });
  it("an operation's payload", () => {
    const p = operationNotification({ id: "o", pairId: "p", kind: "failover", requestedBy: "controller", reason: null }, { status: "failed", error: "boom", finishedAt: 0 });
    expect(p).toMatchObject({ event: "operation.finished", eventId: "operation.finished:o", result: "failed", severity: "major", message: "Failover failed: boom", operationKind: "failover" });
    // With its decision and creation: what happened and how long it took.
    const ok = operationNotification(
      { id: "o", pairId: "p", kind: "manual_switchover", requestedBy: "alice", reason: "patch", decision: "sip-1 demoted, sip-2 promoted", createdAt: 1000 },
      { status: "succeeded", error: null, finishedAt: 1042 },
    );
    expect(ok.message).toBe("Manual switchover succeeded in 42 ms: sip-1 demoted, sip-2 promoted");
  });
});
