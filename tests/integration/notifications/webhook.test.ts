/**
 * Notifications by webhook, end to end: a killed primary's alarm reaches every matching channel within a
 * second, signed; a maintenance window silences its pair; a receiver that fails first, and a dispatcher
 * stopped and started again mid-delivery, lose nothing and duplicate nothing (the delivery id). Real
 * Postgres, agents and simulated SIP Servers; the controller and the dispatcher run in this process.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { AuditQueue } from "@/lib/queries/tx";
import { raiseAlarm } from "@/lib/queries/alarms";
import { claimDeliveries } from "@/lib/queries/notifications";
import { sign } from "@/lib/notifications/webhook";
import { controllerSuite, waitFor, waitHealthy, alarmsOf } from "../controller/lab";
import { killGroup } from "../agent/helpers";
import { clearNotifications, startDispatcher, startReceiver } from "./helpers";
import type { Dispatcher } from "@/lib/notifications/dispatcher";

const suite = controllerSuite();
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await clearNotifications();
});
afterAll(clearNotifications);

async function webhookChannel(name: string, url: string, o: { secret?: string; format?: "switchyard" | "alertmanager"; rule?: Partial<{ events: string[]; severities: ("critical" | "major" | "minor" | "warning")[]; kinds: string[]; pairIds: string[] }> } = {}) {
  const ch = await db.notificationChannel.create({ data: { name: `${name}-${Math.random().toString(36).slice(2, 8)}`, type: "webhook", config: { url, format: o.format ?? "switchyard", timeoutMs: 2000 }, secret: o.secret ?? null } });
  await db.notificationRule.create({ data: { name, channelId: ch.id, events: ["alarm.raised"], severities: [], kinds: [], pairIds: [], ...o.rule } });
  return ch;
}

function dispatcher(d: Dispatcher) {
  closers.push(() => d.stop());
  return d;
}

describe("webhook notifications", () => {
  it("a killed primary: one signed notification per matching channel within a second; none to the others", async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    const lab = await suite.start();
    const v0 = await waitHealthy(lab, 0);
    const plain = await webhookChannel("plain", rx.url + "?c=plain", { secret: "s3cret-key", rule: { kinds: ["primary_failed"], pairIds: [lab.pairId] } });
    const am = await webhookChannel("am", rx.url + "?c=am", { secret: "other-key", format: "alertmanager", rule: { severities: ["critical"], pairIds: [lab.pairId] } });
    await webhookChannel("minor-only", rx.url + "?c=minor", { rule: { severities: ["minor"] } });
    await webhookChannel("ops", rx.url + "?c=ops", { rule: { events: ["operation.finished"], kinds: ["failover"], pairIds: [lab.pairId] } });
    dispatcher(await startDispatcher());

    const killedAt = Date.now();
    killGroup(v0.servers[0].pid, "SIGKILL");
    const got = await waitFor("both notifications", async () => {
      const mine = rx.received.filter((r) => r.body.includes("primary_failed"));
      return mine.length >= 2 ? mine : null;
    }, 5000);
    // A little longer: nothing more comes for this alarm (and nothing to the minor-only channel).
    await new Promise((r) => setTimeout(r, 400));
    const failed = rx.received.filter((r) => r.body.includes("primary_failed"));
    expect(failed).toHaveLength(2);
    expect(rx.received.filter((r) => r.body.includes(lab.pairId) && r.headers["x-switchyard-event"] === "alarm.raised" && !r.body.includes("primary_failed"))).toHaveLength(0);
    for (const r of got) expect(r.at - killedAt).toBeLessThan(1000);

    const body = JSON.parse(failed.find((r) => !r.body.includes('"version":"4"'))!.body);
    const plainRx = failed.find((r) => !r.body.includes('"version":"4"'))!;
    expect(plainRx.headers["x-switchyard-signature"]).toBe(sign(plainRx.body, "s3cret-key"));
    expect(body).toMatchObject({ event: "alarm.raised", kind: "primary_failed", severity: "critical", pairId: lab.pairId, pair: lab.name, deliveryId: plainRx.headers["x-switchyard-delivery"] });
    const amRx = failed.find((r) => r.body.includes('"version":"4"'))!;
    expect(amRx.headers["x-switchyard-signature"]).toBe(sign(amRx.body, "other-key"));
    const amBody = JSON.parse(amRx.body);
    expect(amBody).toMatchObject({ version: "4", status: "firing", receiver: am.name, alerts: [{ status: "firing", labels: { alertname: "primary_failed", severity: "critical", pair: lab.name }, endsAt: "0001-01-01T00:00:00Z" }] });
    expect(amBody.alerts[0].annotations.summary).toBeTruthy();
    // The failover's end reaches the operations channel.
    const fin = await waitFor("operation.finished", async () => rx.received.find((r) => r.headers["x-switchyard-event"] === "operation.finished" && r.body.includes(lab.pairId)), 5000);
    expect(JSON.parse(fin.body)).toMatchObject({ event: "operation.finished", kind: "failover", operationKind: "failover", result: "succeeded", severity: "info", operator: "controller", pair: lab.name });
    // What happened, in words: the kind, how long it took, the controller's decision.
    expect(JSON.parse(fin.body).message).toMatch(new RegExp(`^Failover succeeded in \\d+ ms: primary sip-1 exited with signal SIGKILL on ${lab.hosts[0].name}; promoting sip-2$`));
    await waitFor("both marked sent", async () => {
      const rows = await db.notificationDelivery.findMany({ where: { channelId: { in: [plain.id, am.id] }, event: "alarm.raised", payload: { path: ["kind"], equals: "primary_failed" } } });
      return rows.length === 2 && rows.every((r) => r.status === "sent");
    });
  });

  it("a maintenance window on the pair silences its notifications", async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    const lab = await suite.start();
    const v0 = await waitHealthy(lab, 0);
    const ch = await webhookChannel("all", rx.url, { rule: { pairIds: [lab.pairId] } });
    await db.maintenanceWindow.create({ data: { pairId: lab.pairId, startsAt: new Date(Date.now() - 1000), endsAt: new Date(Date.now() + 600_000), reason: "patching", createdBy: "test" } });
    dispatcher(await startDispatcher());
    killGroup(v0.servers[0].pid, "SIGKILL");
    await waitFor("the alarm raised", async () => (await alarmsOf(lab.pairId)).some((a) => a.kind === "primary_failed"), 5000);
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.received).toHaveLength(0);
    expect(await db.notificationDelivery.count({ where: { channelId: ch.id } })).toBe(0);
  });

  it("a receiver failing first and a dispatcher restarted mid-delivery: none lost, none duplicated", async () => {
    // The receiver answers 500 to the first request of each delivery, and takes 150 ms to answer.
    const seen = new Set<string>();
    const rx = await startReceiver(async (r) => {
      await new Promise((res) => setTimeout(res, 150));
      const key = String(r.headers["x-switchyard-delivery"]);
      if (seen.has(key)) return 200;
      seen.add(key);
      return 500;
    });
    closers.push(rx.close);
    const ch = await webhookChannel("retry", rx.url, { secret: "k", rule: { kinds: ["agent_refused"] } });
    const first = await startDispatcher();
    const queue = new AuditQueue();
    const N = 6;
    for (let i = 0; i < N; i++) {
      await raiseAlarm(queue, { kind: "agent_refused", severity: "major", pairId: null, hostId: null, message: `refused ${i} ${ch.id}`, details: {} });
      // Cleared again at once, so that the next one raises a new alarm (one active alarm per key).
      await db.alarm.updateMany({ where: { activeKey: { not: null }, kind: "agent_refused" }, data: { activeKey: null, clearedAt: new Date() } });
    }
    // Stop the dispatcher in the middle (after the first answers), start another one.
    await waitFor("first answers", async () => rx.received.length >= 1, 5000);
    await first.stop();
    dispatcher(await startDispatcher());

    const rows = await waitFor("all sent", async () => {
      const r = await db.notificationDelivery.findMany({ where: { channelId: ch.id } });
      return r.length === N && r.every((d) => d.status === "sent") ? r : null;
    }, 10_000);
    const ok = rx.received.filter((r) => r.status === 200).map((r) => String(r.headers["x-switchyard-delivery"]));
    expect(new Set(ok).size).toBe(N);
    expect(ok).toHaveLength(N); // each delivery accepted exactly once
    expect(new Set(ok)).toEqual(new Set(rows.map((r) => r.id)));
    for (const r of rows) expect(r.attempts).toBe(2);
    for (const r of rx.received) expect(r.headers["x-switchyard-signature"]).toBe(sign(r.body, "k"));
  });

  it("a panel that died mid-send: its claim's lease ends and another dispatcher sends the delivery, same key", async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    const ch = await webhookChannel("lease", rx.url, { rule: { kinds: ["crash_loop"] } });
    await raiseAlarm(new AuditQueue(), { kind: "crash_loop", severity: "major", pairId: null, hostId: null, message: `gave up ${ch.id}`, details: {} });
    await db.alarm.updateMany({ where: { activeKey: { not: null }, kind: "crash_loop" }, data: { activeKey: null, clearedAt: new Date() } });
    // The dead panel: it claimed the delivery (as its dispatcher does) and never answered.
    const [claimed] = await claimDeliveries(10, 800);
    expect(claimed).toMatchObject({ channelId: ch.id, attempts: 1 });
    const t0 = Date.now();
    dispatcher(await startDispatcher());
    const [got] = await waitFor("sent after the lease", async () => (rx.received.length ? rx.received : null), 5000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
    expect(got!.headers["x-switchyard-delivery"]).toBe(claimed!.id);
    const row = await waitFor("marked sent", async () => {
      const r = await db.notificationDelivery.findUnique({ where: { id: claimed!.id } });
      return r?.status === "sent" ? r : null;
    });
    expect(row.attempts).toBe(2);
    expect(rx.received).toHaveLength(1);
  });
});
