/**
 * The notifications API (admins): channels (secrets write-only), rules, "send test" through the outbox,
 * the delivery log; clear 400s, 403 for an operator, 404, 409; every change audited without its secret.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import * as channels from "@/app/api/notifications/channels/route";
import * as channelOne from "@/app/api/notifications/channels/[id]/route";
import * as channelTest from "@/app/api/notifications/channels/[id]/test/route";
import * as rules from "@/app/api/notifications/rules/route";
import * as ruleOne from "@/app/api/notifications/rules/[id]/route";
import * as deliveries from "@/app/api/notifications/deliveries/route";
import { db } from "@/lib/db";
import { createUser } from "@/lib/queries/users";
import { createToken } from "@/lib/queries/tokens";
import { callAs } from "../controller/api";
import { waitFor } from "../controller/lab";
import { clearNotifications, startDispatcher, startReceiver } from "./helpers";
import { sign } from "@/lib/notifications/webhook";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (req: Request, ctx: { params: Promise<any> }) => Promise<Response>;
let adminToken: Promise<string> | null = null;
function admin(): Promise<string> {
  adminToken ??= (async () => {
    const username = `adm-${randomBytes(3).toString("hex")}`;
    const u = await createUser({ username, password: "correct horse battery staple 1", role: "admin" }, "test");
    return (await createToken({ name: `t-${username}`, role: "admin" }, { kind: "user", userId: u.id, username, role: "admin", credentialId: "test" }, "test")).token;
  })();
  return adminToken;
}
async function call(handler: Handler, method: string, path: string, body?: unknown, params: Record<string, string> = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${await admin()}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await handler(new Request(`http://localhost${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }), { params: Promise.resolve(params) });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, body: (text ? JSON.parse(text) : null) as any, text };
}

afterAll(clearNotifications);

describe("notifications API", () => {
  it("channels: created with a write-only secret, validated, 403/404/409, audited without the secret", async () => {
    const name = `hook-${randomBytes(2).toString("hex")}`;
    const made = await call(channels.POST, "POST", "/api/notifications/channels", { name, type: "webhook", config: { url: "https://noc.example.com/hook" }, secret: "very-secret-key" });
    expect(made.status).toBe(201);
    expect(made.body.channel).toMatchObject({ name, type: "webhook", enabled: true, hasSecret: true, config: { url: "https://noc.example.com/hook", format: "switchyard", timeoutMs: 5000 } });
    expect(made.text).not.toContain("very-secret-key");
    const id = made.body.channel.id;
    const listed = await call(channels.GET, "GET", "/api/notifications/channels");
    expect(listed.text).not.toContain("very-secret-key");
    expect(listed.body.channels.map((c: { id: string }) => c.id)).toContain(id);

    const bad = async (body: unknown) => (await call(channels.POST, "POST", "/api/notifications/channels", body)).body.error;
    expect(await bad({ name: "x", type: "webhook", config: { url: "ftp://x/y" } })).toMatchObject({ code: "invalid_input", field: "config.url", message: expect.stringContaining("http") });
    expect(await bad({ name: "x", type: "pager", config: {} })).toMatchObject({ code: "invalid_input" });
    expect(await bad({ name: "x", type: "email", config: { host: "smtp.example.com", from: "a@example.com", to: ["b@example.com"], subject: "{{pair}} {{password}}" } })).toMatchObject({
      code: "invalid_input",
      field: "config.subject",
      message: expect.stringContaining("unknown variable {{password}}"),
    });
    expect(await bad({ name: "x", type: "email", config: { host: "smtp example", from: "a@example.com", to: ["b@example.com"] } })).toMatchObject({ field: "config.host" });
    expect(await bad({ name: "x", type: "snmp", config: { host: "10.0.0.1", port: 70000 } })).toMatchObject({ field: "config.port" });
    expect(await bad({ name: "x", type: "snmp", config: { host: "10.0.0.1", enterpriseOid: "1.3.6.x" } })).toMatchObject({ field: "config.enterpriseOid" });

    expect((await call(channels.POST, "POST", "/api/notifications/channels", { name, type: "webhook", config: { url: "http://a/" } })).status).toBe(409);
    expect((await callAs(channels.GET, "GET", "/api/notifications/channels")).status).toBe(403); // an operator
    const missing = "00000000-0000-4000-8000-000000000000";
    expect((await call(channelOne.GET, "GET", `/api/notifications/channels/${missing}`, undefined, { id: missing })).status).toBe(404);

    // An e-mail channel: moving its SMTP server needs the password again.
    const mail = await call(channels.POST, "POST", "/api/notifications/channels", { name: `${name}-mail`, type: "email", config: { host: "smtp.example.com", port: 587, user: "noc", from: "a@example.com", to: ["b@example.com"] }, secret: "smtp-pass" });
    expect(mail.status).toBe(201);
    const mid = mail.body.channel.id;
    const cfg = { ...mail.body.channel.config, host: "evil.example.com" };
    const moved = await call(channelOne.PATCH, "PATCH", `/api/notifications/channels/${mid}`, { config: cfg }, { id: mid });
    expect(moved.status).toBe(400);
    expect(moved.body.error).toMatchObject({ field: "secret", message: expect.stringContaining("SMTP password again") });
    const ok = await call(channelOne.PATCH, "PATCH", `/api/notifications/channels/${mid}`, { config: cfg, secret: "new-pass", enabled: false }, { id: mid });
    expect(ok.status).toBe(200);
    expect(ok.body.channel).toMatchObject({ enabled: false, hasSecret: true, config: { host: "evil.example.com" } });
    expect((await call(channelOne.PATCH, "PATCH", `/api/notifications/channels/${mid}`, { config: { ...cfg, to: [] } }, { id: mid })).body.error).toMatchObject({ field: "config.to" });

    const audit = await db.auditEvent.findMany({ where: { action: { startsWith: "notification." } } });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(["notification.channel.create", "notification.channel.update"]));
    const all = JSON.stringify(audit, (_k, v) => (typeof v === "bigint" ? String(v) : v));
    for (const s of ["very-secret-key", "smtp-pass", "new-pass"]) expect(all).not.toContain(s);

    expect((await call(channelOne.DELETE, "DELETE", `/api/notifications/channels/${mid}`, undefined, { id: mid })).status).toBe(204);
    expect((await call(channelOne.DELETE, "DELETE", `/api/notifications/channels/${mid}`, undefined, { id: mid })).status).toBe(404);
  });

  it("rules; send test through the outbox; the delivery log with filters and a cursor", async () => {
    const rx = await startReceiver();
    const d = await startDispatcher();
    try {
      const ch = (await call(channels.POST, "POST", "/api/notifications/channels", { name: `t-${randomBytes(2).toString("hex")}`, type: "webhook", config: { url: rx.url }, secret: "k1" })).body.channel;
      const rule = await call(rules.POST, "POST", "/api/notifications/rules", { name: "critical", channelId: ch.id, events: ["alarm.raised"], severities: ["critical"], kinds: ["primary_failed"] });
      expect(rule.status).toBe(201);
      expect(rule.body.rule).toMatchObject({ channelName: ch.name, events: ["alarm.raised"], pairIds: [] });
      expect((await call(rules.POST, "POST", "/api/notifications/rules", { name: "x", channelId: ch.id, events: ["alarm.exploded"] })).body.error).toMatchObject({ field: "events.0" });
      expect((await call(rules.POST, "POST", "/api/notifications/rules", { name: "x", channelId: ch.id, events: ["alarm.raised"], kinds: ["coffee"] })).body.error).toMatchObject({ field: "kinds.0" });
      expect((await call(rules.POST, "POST", "/api/notifications/rules", { name: "x", channelId: "00000000-0000-4000-8000-000000000000", events: ["alarm.raised"] })).status).toBe(404);
      const rid = rule.body.rule.id;
      expect((await call(ruleOne.PATCH, "PATCH", `/api/notifications/rules/${rid}`, { enabled: false }, { id: rid })).body.rule.enabled).toBe(false);
      expect((await call(rules.GET, "GET", "/api/notifications/rules")).body.rules.map((r: { id: string }) => r.id)).toContain(rid);

      const sent = [];
      for (let i = 0; i < 3; i++) {
        const t = await call(channelTest.POST, "POST", `/api/notifications/channels/${ch.id}/test`, undefined, { id: ch.id });
        expect(t.status).toBe(202);
        expect(t.body.delivery).toMatchObject({ event: "test", channelId: ch.id, status: expect.stringMatching(/^(pending|sent)$/) });
        sent.push(t.body.delivery.id);
      }
      await waitFor("tests received", async () => rx.received.length >= 3, 5000);
      for (const r of rx.received) expect(r.headers["x-switchyard-signature"]).toBe(sign(r.body, "k1"));
      expect(rx.received.map((r) => r.headers["x-switchyard-delivery"]).sort()).toEqual([...sent].sort());
      const log = await waitFor("logged sent", async () => {
        const l = await call(deliveries.GET, "GET", `/api/notifications/deliveries?channelId=${ch.id}&status=sent`);
        return l.body.deliveries.length === 3 ? l.body : null;
      });
      expect(log.deliveries[0]).toMatchObject({ event: "test", status: "sent", attempts: 1, channelName: ch.name, channelType: "webhook", lastError: null, sentAt: expect.any(String) });
      const page1 = await call(deliveries.GET, "GET", `/api/notifications/deliveries?channelId=${ch.id}&limit=2`);
      expect(page1.body.deliveries).toHaveLength(2);
      const page2 = await call(deliveries.GET, "GET", `/api/notifications/deliveries?channelId=${ch.id}&limit=2&cursor=${page1.body.nextCursor}`);
      expect(page2.body).toMatchObject({ nextCursor: null });
      expect(page2.body.deliveries).toHaveLength(1);
      expect((await call(deliveries.GET, "GET", "/api/notifications/deliveries?status=lost")).body.error).toMatchObject({ field: "status" });

      // A failing receiver: the log says retrying, with the error.
      const gone = await startReceiver();
      await gone.close(); // nobody listens there any more
      const down = (await call(channels.POST, "POST", "/api/notifications/channels", { name: `down-${randomBytes(2).toString("hex")}`, type: "webhook", config: { url: gone.url, timeoutMs: 500 } })).body.channel;
      await call(channelTest.POST, "POST", `/api/notifications/channels/${down.id}/test`, undefined, { id: down.id });
      const failing = await waitFor("retrying", async () => {
        const l = await call(deliveries.GET, "GET", `/api/notifications/deliveries?channelId=${down.id}`);
        return l.body.deliveries[0]?.status === "retrying" ? l.body.deliveries[0] : null;
      });
      expect(failing.lastError).toMatch(/ECONNREFUSED/);
      expect(failing.nextAttemptAt).toEqual(expect.any(String));
      expect((await call(ruleOne.DELETE, "DELETE", `/api/notifications/rules/${rid}`, undefined, { id: rid })).status).toBe(204);
    } finally {
      await d.stop();
      await rx.close();
    }
  });
});
