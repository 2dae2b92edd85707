// The HTTP API contract, through the real route handlers against the run's Postgres database.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, db } from "@/lib/db";
import { createUser } from "@/lib/queries/users";
import { audited } from "@/lib/queries/tx";
import * as health from "@/app/api/health/route";
import * as login from "@/app/api/auth/login/route";
import * as logout from "@/app/api/auth/logout/route";
import * as me from "@/app/api/auth/me/route";
import * as hosts from "@/app/api/hosts/route";
import * as host from "@/app/api/hosts/[id]/route";
import * as pairs from "@/app/api/pairs/route";
import * as pair from "@/app/api/pairs/[id]/route";
import * as operations from "@/app/api/operations/route";
import * as operation from "@/app/api/operations/[id]/route";
import * as audit from "@/app/api/audit/route";
import * as auditExport from "@/app/api/audit/export/route";
import * as auditVerify from "@/app/api/audit/verify/route";
import * as alarms from "@/app/api/alarms/route";
import * as alarmAck from "@/app/api/alarms/[id]/ack/route";
import * as alarmBulkAck from "@/app/api/alarms/ack/route";
import * as users from "@/app/api/users/route";
import * as user from "@/app/api/users/[id]/route";
import * as tokens from "@/app/api/tokens/route";
import * as token from "@/app/api/tokens/[id]/route";
import { query, resetDatabase } from "../helpers/db";
import { call, cookieFrom } from "./client";

const PW = "correct-horse-battery";
let adminCookie = "";
let operatorCookie = "";
let viewerCookie = "";
let opToken = "";
let hostA = "";
let hostB = "";
let hostC = "";
let pairId = "";

async function loginAs(username: string, password = PW, ip = "127.0.0.1") {
  return call(login.POST, { method: "POST", path: "/api/auth/login", body: { username, password }, ip });
}

const auditCount = (action: string) => db.auditEvent.count({ where: { action } });

beforeAll(async () => {
  await resetDatabase();
  await createUser({ username: "root", password: PW, role: "admin" }, "test");
  await createUser({ username: "oper", password: PW, role: "operator" }, "test");
  await createUser({ username: "view", password: PW, role: "viewer" }, "test");
  adminCookie = cookieFrom(await loginAs("root"));
  operatorCookie = cookieFrom(await loginAs("oper"));
  viewerCookie = cookieFrom(await loginAs("view"));
});

afterAll(async () => {
  await resetDatabase();
  await closeDb();
});

describe("health and auth", () => {
  it("GET /api/health needs no auth and reports the database", async () => {
    const r = await call(health.GET, { path: "/api/health" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ status: "ok", db: "ok", version: expect.any(String), controller: null }); // no controller in this process
  });

  it("login sets an HttpOnly SameSite=Lax session cookie and me answers", async () => {
    const r = await loginAs("oper");
    expect(r.status).toBe(200);
    expect(r.json.user).toMatchObject({ username: "oper", role: "operator" });
    const set = r.headers.get("set-cookie")!;
    expect(set).toMatch(/^sy_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=(4319\d|43200)$/);
    const m = await call(me.GET, { cookie: cookieFrom(r) });
    expect(m.status).toBe(200);
    expect(m.json).toMatchObject({ user: { username: "oper", role: "operator" }, via: "session" });
    // The database keeps only the hash of the cookie value.
    const raw = cookieFrom(r).split("=")[1];
    expect(await db.session.count({ where: { tokenHash: raw } })).toBe(0);
  });

  it("401 without credentials, with a bad cookie and with a bad token", async () => {
    expect((await call(me.GET)).json).toEqual({ error: { code: "unauthenticated", message: expect.any(String) } });
    expect((await call(me.GET, { cookie: "sy_session=nope" })).status).toBe(401);
    expect((await call(me.GET, { token: "sy_notatoken" })).status).toBe(401);
  });

  it("wrong password is 401 and audited once per window; 5 attempts per username+IP then 429 with Retry-After", async () => {
    await db.loginThrottle.deleteMany();
    const failures = () => db.auditEvent.findMany({ where: { action: "auth.login", outcome: "failure" }, orderBy: { id: "asc" } });
    const before = (await failures()).length;
    for (let i = 0; i < 5; i++) {
      const r = await loginAs("view", "wrong-password", "10.9.9.9");
      expect(r.status).toBe(401);
      expect(r.json.error.message).toBe("invalid username or password");
    }
    // The first failure of the window is audited at once; the others are counted for the window's summary.
    expect((await failures()).length).toBe(before + 1);
    const blocked = await loginAs("view", PW, "10.9.9.9");
    expect(blocked.status).toBe(429);
    expect(blocked.json.error.code).toBe("rate_limited");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another IP is not blocked; unknown users answer exactly like wrong passwords, in the API and the audit.
    expect((await loginAs("view", PW, "10.9.9.8")).status).toBe(200);
    expect((await loginAs("nobody", "x", "10.9.9.8")).json.error.message).toBe("invalid username or password");
    const [wrongPassword, unknownUser] = (await failures()).slice(-2);
    for (const [row, actor] of [[wrongPassword, "view"], [unknownUser, "nobody"]] as const) {
      expect(row).toMatchObject({ actor, targetType: "user", targetId: null, details: { reason: "invalid credentials" } });
    }
    await db.loginThrottle.deleteMany();
  });

  it("login with a foreign Origin is refused", async () => {
    const r = await call(login.POST, { method: "POST", body: { username: "view", password: PW }, origin: "http://evil.example" });
    expect(r.status).toBe(403);
  });

  it("logout ends the session", async () => {
    const c = cookieFrom(await loginAs("view"));
    const r = await call(logout.POST, { method: "POST", cookie: c });
    expect(r.status).toBe(204);
    expect(r.headers.get("set-cookie")).toContain("Max-Age=0");
    expect((await call(me.GET, { cookie: c })).status).toBe(401);
  });
});

describe("hosts", () => {
  const body = (name: string) => ({ name, address: "10.0.0.1", agentUrl: "http://10.0.0.1:4999", agentToken: "agent-secret-0123456789" });

  it("viewer and operator may not create hosts (403, denied write audited)", async () => {
    const before = await auditCount("request.denied");
    for (const cookie of [viewerCookie, operatorCookie]) {
      const r = await call(hosts.POST, { method: "POST", cookie, body: body("nope") });
      expect(r.status).toBe(403);
      expect(r.json.error.code).toBe("forbidden");
    }
    expect(await auditCount("request.denied")).toBe(before + 2);
    expect(await db.host.count({ where: { name: "nope" } })).toBe(0);
  });

  it("cookie-authenticated writes need an allowed Origin", async () => {
    expect((await call(hosts.POST, { method: "POST", cookie: adminCookie, body: body("x1"), origin: null })).status).toBe(403);
    expect((await call(hosts.POST, { method: "POST", cookie: adminCookie, body: body("x1"), origin: "http://evil.example" })).status).toBe(403);
    expect(await db.host.count({ where: { name: "x1" } })).toBe(0);
  });

  it("admin creates hosts; the agent token never comes back; the audit row is written with the change", async () => {
    const before = await auditCount("host.create");
    const r = await call(hosts.POST, { method: "POST", cookie: adminCookie, body: body("host-a") });
    expect(r.status).toBe(201);
    expect(r.json.host).toMatchObject({ name: "host-a", hasAgentToken: true });
    expect(r.text).not.toContain("agent-secret");
    hostA = r.json.host.id;
    hostB = (await call(hosts.POST, { method: "POST", cookie: adminCookie, body: body("host-b") })).json.host.id;
    hostC = (await call(hosts.POST, { method: "POST", cookie: adminCookie, body: body("host-c") })).json.host.id;
    expect(await auditCount("host.create")).toBe(before + 3);
    const row = await db.auditEvent.findFirst({ where: { action: "host.create", targetId: hostA } });
    expect(row).toMatchObject({ actor: "root", outcome: "success" });
    expect(JSON.stringify(row!.details)).not.toContain("agent-secret");
    const list = await call(hosts.GET, { cookie: viewerCookie });
    expect(list.status).toBe(200);
    expect(list.json.hosts.map((h: { name: string }) => h.name)).toEqual(["host-a", "host-b", "host-c"]);
    expect(list.text).not.toContain("agent-secret");
    expect(list.text).not.toContain("agentToken\"");
  });

  it("409 on a duplicate name (and no audit row), 400 naming the field, 404 for unknown ids", async () => {
    const before = await auditCount("host.create");
    const dup = await call(hosts.POST, { method: "POST", cookie: adminCookie, body: body("host-a") });
    expect(dup.status).toBe(409);
    expect(dup.json.error.message).toContain("host-a");
    expect(await auditCount("host.create")).toBe(before);
    const bad = await call(hosts.POST, { method: "POST", cookie: adminCookie, body: { ...body("h"), agentUrl: "nope" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: "invalid_input", field: "agentUrl" });
    const missing = await call(host.GET, { cookie: adminCookie, params: { id: "00000000-0000-4000-8000-000000000000" } });
    expect(missing.status).toBe(404);
    expect((await call(host.GET, { cookie: adminCookie, params: { id: "abc" } })).json.error.field).toBe("id");
  });

  it("PATCH updates and audits without the secret", async () => {
    const r = await call(host.PATCH, { method: "PATCH", cookie: adminCookie, params: { id: hostC }, body: { address: "10.0.0.3", agentToken: "rotated-secret-0123456789" } });
    expect(r.status).toBe(200);
    expect(r.json.host.address).toBe("10.0.0.3");
    const row = await db.auditEvent.findFirst({ where: { action: "host.update", targetId: hostC } });
    expect(row!.details).toMatchObject({ changes: { address: "10.0.0.3", agentTokenChanged: true } });
    expect(JSON.stringify(row!.details)).not.toContain("rotated-secret");
  });
});

describe("pairs", () => {
  const body = (over: Record<string, unknown> = {}) => ({
    name: "pair-1",
    vipAddress: "192.0.2.10",
    vipPrefix: 24,
    vipInterface: "eth0",
    servers: [
      { name: "sip-1", hostId: hostA, appName: "SIPServer1" },
      { name: "sip-2", hostId: hostB, appName: "SIPServer2" },
    ],
    ...over,
  });

  it("validates: same host twice, unknown host, bad prefix", async () => {
    const same = await call(pairs.POST, { method: "POST", cookie: adminCookie, body: body({ servers: [{ name: "a", hostId: hostA, appName: "x" }, { name: "b", hostId: hostA, appName: "y" }] }) });
    expect(same.status).toBe(400);
    expect(same.json.error).toEqual({ code: "invalid_input", field: "servers.1.hostId", message: "servers.1.hostId: the two servers must be on two different hosts" });
    const unknown = await call(pairs.POST, { method: "POST", cookie: adminCookie, body: body({ servers: [{ name: "a", hostId: hostA, appName: "x" }, { name: "b", hostId: "00000000-0000-4000-8000-000000000000", appName: "y" }] }) });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.field).toBe("servers.1.hostId");
    const prefix = await call(pairs.POST, { method: "POST", cookie: adminCookie, body: body({ vipPrefix: 33 }) });
    expect(prefix.json.error.field).toBe("vipPrefix");
  });

  it("admin creates a pair with its two servers; viewer reads it", async () => {
    const r = await call(pairs.POST, { method: "POST", cookie: adminCookie, body: body() });
    expect(r.status).toBe(201);
    pairId = r.json.pair.id;
    expect(r.json.pair.servers.map((s: { name: string; configuredRole: string; hostName: string }) => [s.name, s.configuredRole, s.hostName])).toEqual([
      ["sip-1", "primary", "host-a"],
      ["sip-2", "backup", "host-b"],
    ]);
    expect(r.json.pair).toMatchObject({ autoFailover: true, disconnectGraceSeconds: 2 });
    // Not observed by the controller yet: an "unknown" view built from the configuration, never null.
    expect(r.json.pair.view).toMatchObject({ id: pairId, name: "pair-1", status: "unknown", vipHolder: null, operation: null, vip: { address: "192.0.2.10", prefix: 24 } });
    expect(r.json.pair.view.servers.map((s: { name: string; mode: string; agentConnected: boolean }) => [s.name, s.mode, s.agentConnected])).toEqual([
      ["sip-1", "unknown", false],
      ["sip-2", "unknown", false],
    ]);
    const list = await call(pairs.GET, { cookie: viewerCookie });
    expect(list.json.pairs).toHaveLength(1);
    const one = await call(pair.GET, { cookie: viewerCookie, params: { id: pairId } });
    expect(one.json.pair.id).toBe(pairId);
    expect(await db.auditEvent.count({ where: { action: "pair.create", pairId } })).toBe(1);
  });

  it("409 on duplicate name or VIP", async () => {
    const dupName = await call(pairs.POST, { method: "POST", cookie: adminCookie, body: body({ vipAddress: "192.0.2.11" }) });
    expect(dupName.status).toBe(409);
    const dupVip = await call(pairs.POST, { method: "POST", cookie: adminCookie, body: body({ name: "pair-2", servers: [{ name: "a", hostId: hostB, appName: "x" }, { name: "b", hostId: hostC, appName: "y" }] }) });
    expect(dupVip.status).toBe(409);
    expect(dupVip.json.error.message).toContain("pair-1");
  });

  it("returns the PairStatus view when the controller has written one; the configuration wins for name, maintenance, autoFailover", async () => {
    await db.pairStatus.create({ data: { pairId, status: "healthy", state: { id: pairId, name: "old-name", status: "healthy", maintenance: true, autoFailover: false } } });
    const one = await call(pair.GET, { cookie: viewerCookie, params: { id: pairId } });
    expect(one.json.pair.view).toMatchObject({ id: pairId, status: "healthy", name: "pair-1", maintenance: false, autoFailover: true });
  });

  it("DELETE of a host still used by a pair is 409 naming the pair", async () => {
    const r = await call(host.DELETE, { method: "DELETE", cookie: adminCookie, params: { id: hostA } });
    expect(r.status).toBe(409);
    expect(r.json.error.message).toContain("pair-1");
    const unused = await call(host.DELETE, { method: "DELETE", cookie: adminCookie, params: { id: hostC } });
    expect(unused.status).toBe(204);
  });

  it("PATCH policy and servers; operator may not", async () => {
    expect((await call(pair.PATCH, { method: "PATCH", cookie: operatorCookie, params: { id: pairId }, body: { maintenance: true } })).status).toBe(403);
    const r = await call(pair.PATCH, { method: "PATCH", cookie: adminCookie, params: { id: pairId }, body: { maintenance: true, vipPrefix: 32 } });
    expect(r.status).toBe(200);
    expect(r.json.pair).toMatchObject({ maintenance: true, vipPrefix: 32 });
    const v6 = await call(pair.PATCH, { method: "PATCH", cookie: adminCookie, params: { id: pairId }, body: { vipAddress: "2001:db8::5" } });
    expect(v6.status).toBe(200);
    const tooLong = await call(pair.PATCH, { method: "PATCH", cookie: adminCookie, params: { id: pairId }, body: { vipAddress: "192.0.2.99", vipPrefix: 64 } });
    expect(tooLong.json.error.field).toBe("vipPrefix");
  });

  it("409 when changing servers or deleting while an operation is active", async () => {
    const op = await db.operation.create({ data: { pairId, kind: "manual_switchover", status: "running", requestedBy: "oper", activeKey: pairId } });
    const del = await call(pair.DELETE, { method: "DELETE", cookie: adminCookie, params: { id: pairId } });
    expect(del.status).toBe(409);
    expect(del.json.error.message).toContain(op.id);
    await db.operation.update({ where: { id: op.id }, data: { activeKey: null, status: "succeeded" } });
  });
});

describe("operations (read)", () => {
  it("lists by pair and returns one with ordered steps", async () => {
    const op = await db.operation.create({
      data: {
        pairId,
        kind: "failover",
        status: "succeeded",
        requestedBy: "controller",
        steps: { create: [{ seq: 2, action: "promote", target: "sip-2 on host-b" }, { seq: 1, action: "demote", target: "sip-1 on host-a", status: "succeeded" }] },
      },
    });
    const list = await call(operations.GET, { cookie: viewerCookie, path: `/api/operations?pairId=${pairId}` });
    expect(list.status).toBe(200);
    expect(list.json.operations.map((o: { id: string }) => o.id)).toContain(op.id);
    const one = await call(operation.GET, { cookie: viewerCookie, params: { id: op.id } });
    expect(one.json.operation.steps.map((s: { action: string }) => s.action)).toEqual(["demote", "promote"]);
    expect((await call(operations.GET, { cookie: viewerCookie, path: "/api/operations?pairId=zzz" })).json.error.field).toBe("pairId");
    expect((await call(operation.GET, { cookie: viewerCookie, params: { id: "00000000-0000-4000-8000-000000000000" } })).status).toBe(404);
  });
});

describe("alarms", () => {
  it("operator acknowledges (once); viewer may not", async () => {
    const a = await db.alarm.create({ data: { kind: "primary_failed", severity: "critical", pairId, message: "primary sip-1 failed", activeKey: `primary_failed:${pairId}:` } });
    const list = await call(alarms.GET, { cookie: viewerCookie });
    expect(list.json.alarms.map((x: { id: string }) => x.id)).toContain(a.id);
    expect((await call(alarmAck.POST, { method: "POST", cookie: viewerCookie, params: { id: a.id } })).status).toBe(403);
    const ok = await call(alarmAck.POST, { method: "POST", cookie: operatorCookie, params: { id: a.id } });
    expect(ok.status).toBe(200);
    expect(ok.json.alarm).toMatchObject({ acknowledgedBy: "oper", active: true });
    const again = await call(alarmAck.POST, { method: "POST", cookie: operatorCookie, params: { id: a.id } });
    expect(again.status).toBe(409);
    expect(await db.auditEvent.count({ where: { action: "alarm.ack", targetId: a.id } })).toBe(1);
    expect((await call(alarmAck.POST, { method: "POST", cookie: operatorCookie, params: { id: "00000000-0000-4000-8000-000000000000" } })).status).toBe(404);
  });
});

describe("alarm lifecycle", () => {
  const mk = (kind: string, severity: "critical" | "major" | "minor" | "warning", o: { cleared?: boolean; acked?: boolean; at: number }) =>
    db.alarm.create({
      data: {
        kind: kind as never,
        severity,
        pairId,
        message: `${kind} ${severity}`,
        activeKey: o.cleared ? null : `${kind}:${pairId}:${o.at}`,
        raisedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, o.at)),
        clearedAt: o.cleared ? new Date() : null,
        acknowledgedAt: o.acked ? new Date() : null,
        acknowledgedBy: o.acked ? "someone" : null,
      },
    });
  const ids = (r: { json: { alarms: { id: string }[] } }) => r.json.alarms.map((a) => a.id);

  it("critical and major alarms stay until acknowledged, also after they clear; minor ones close by themselves; filters", async () => {
    await db.alarm.deleteMany({});
    const critActive = await mk("primary_failed", "critical", { at: 1 });
    const critCleared = await mk("both_primary", "critical", { cleared: true, at: 2 });
    const minorCleared = await mk("crash_loop", "minor", { cleared: true, at: 3 });
    const majorAcked = await mk("backup_failed", "major", { acked: true, at: 4 });
    const majorAckedCleared = await mk("vip_script_failed", "major", { acked: true, cleared: true, at: 5 });
    const get = (q: string) => call(alarms.GET, { cookie: viewerCookie, path: `/api/alarms${q}` });

    const open = await get("");
    expect(open.status).toBe(200);
    expect(ids(open)).toEqual([majorAcked.id, critCleared.id, critActive.id]); // newest first; what is not over
    expect(Object.fromEntries(open.json.alarms.map((a: { id: string; state: string }) => [a.id, a.state]))).toEqual({
      [critActive.id]: "active",
      [critCleared.id]: "cleared_unacknowledged",
      [majorAcked.id]: "acknowledged",
    });
    expect(ids(await get("?state=unacknowledged"))).toEqual([critCleared.id, critActive.id]);
    expect(ids(await get("?state=cleared"))).toEqual([minorCleared.id]);
    expect(ids(await get("?state=present"))).toEqual([majorAcked.id, critActive.id]);
    expect(ids(await get("?state=all"))).toHaveLength(5);
    expect(ids(await get("?state=acknowledged,cleared"))).toEqual([majorAckedCleared.id, majorAcked.id, minorCleared.id]);
    expect(ids(await get("?state=all&severity=critical"))).toEqual([critCleared.id, critActive.id]);
    expect(ids(await get("?state=all&kind=crash_loop,backup_failed"))).toEqual([majorAcked.id, minorCleared.id]);
    expect(ids(await get(`?state=all&pairId=00000000-0000-4000-8000-000000000000`))).toEqual([]);

    // Pages: newest first, a cursor to the next page, nothing twice.
    const p1 = await get("?state=all&limit=2");
    expect(p1.json.nextCursor).toBe(p1.json.alarms[1].id);
    const p2 = await get(`?state=all&limit=2&cursor=${p1.json.nextCursor}`);
    const p3 = await get(`?state=all&limit=2&cursor=${p2.json.nextCursor}`);
    expect([...ids(p1), ...ids(p2), ...ids(p3)]).toEqual([majorAckedCleared.id, majorAcked.id, minorCleared.id, critCleared.id, critActive.id]);
    expect(p3.json.nextCursor).toBeNull();

    for (const bad of ["?state=gone", "?severity=fatal", "?kind=primary_failed,nope", "?cursor=12", "?state=%00"]) {
      const r = await get(bad);
      expect(r.status, bad).toBe(400);
      expect(r.json.error.code).toBe("invalid_input");
    }
    expect((await get("?state=gone")).json.error.message).toMatch(/state must be one of active, cleared_unacknowledged/);
  });

  it("acknowledge a cleared alarm with a comment; several at once, the others skipped with the reason", async () => {
    await db.alarm.deleteMany({});
    const cleared = await mk("primary_failed", "critical", { cleared: true, at: 10 });
    const one = await call(alarmAck.POST, { method: "POST", cookie: operatorCookie, params: { id: cleared.id }, body: { comment: "  sip-1 crashed at 03:12, ticket INC-42  " } });
    expect(one.status).toBe(200);
    expect(one.json.alarm).toMatchObject({ state: "acknowledged", active: false, acknowledgedBy: "oper", acknowledgeComment: "sip-1 crashed at 03:12, ticket INC-42" });
    const row = await db.auditEvent.findFirst({ where: { action: "alarm.ack", targetId: cleared.id } });
    expect(row?.details).toMatchObject({ comment: "sip-1 crashed at 03:12, ticket INC-42", conditionPresent: false, severity: "critical" });

    const [a, b, done] = [await mk("both_primary", "critical", { at: 11 }), await mk("backup_failed", "major", { cleared: true, at: 12 }), await mk("crash_loop", "major", { acked: true, at: 13 })];
    const unknown = "00000000-0000-4000-8000-000000000000";
    const bulkBody = { ids: [a.id, b.id, done.id, unknown], comment: "patch night" };
    expect((await call(alarmBulkAck.POST, { method: "POST", cookie: viewerCookie, body: bulkBody })).status).toBe(403);
    const bulk = await call(alarmBulkAck.POST, { method: "POST", cookie: operatorCookie, body: bulkBody });
    expect(bulk.status).toBe(200);
    expect(bulk.json.acknowledged.map((x: { id: string }) => x.id)).toEqual([a.id, b.id]);
    expect(bulk.json.skipped).toEqual([
      { id: done.id, reason: "already acknowledged by someone" },
      { id: unknown, reason: "not found" },
    ]);
    expect(await db.auditEvent.count({ where: { action: "alarm.ack", targetId: { in: [a.id, b.id] } } })).toBe(2);
    expect((await call(alarms.GET, { cookie: viewerCookie, path: "/api/alarms?state=unacknowledged" })).json.alarms).toEqual([]);
    for (const bad of [{ ids: [] }, { ids: ["x"] }, { ids: [a.id], comment: "x".repeat(501) }, { ids: [a.id], extra: 1 }]) {
      expect((await call(alarmBulkAck.POST, { method: "POST", cookie: operatorCookie, body: bad })).status).toBe(400);
    }
  });
});

describe("users and tokens", () => {
  it("admin manages users; others may not list them", async () => {
    expect((await call(users.GET, { cookie: operatorCookie })).status).toBe(403);
    const r = await call(users.POST, { method: "POST", cookie: adminCookie, body: { username: "temp", password: "temporary-pass", role: "viewer" } });
    expect(r.status).toBe(201);
    expect(r.text).not.toContain("temporary-pass");
    expect((await call(users.POST, { method: "POST", cookie: adminCookie, body: { username: "temp", password: "temporary-pass", role: "viewer" } })).status).toBe(409);
    const c = cookieFrom(await loginAs("temp", "temporary-pass"));
    expect((await call(user.DELETE, { method: "DELETE", cookie: adminCookie, params: { id: r.json.user.id } })).status).toBe(204);
    expect((await call(me.GET, { cookie: c })).status).toBe(401);
    const rootId = (await db.user.findUniqueOrThrow({ where: { username: "root" } })).id;
    const self = await call(user.DELETE, { method: "DELETE", cookie: adminCookie, params: { id: rootId } });
    expect(self.status).toBe(409);
  });

  it("API tokens: shown once, stored hashed, Bearer auth with the token's role, no Origin needed, revocable", async () => {
    const r = await call(tokens.POST, { method: "POST", cookie: adminCookie, body: { name: "ci", role: "operator" } });
    expect(r.status).toBe(201);
    opToken = r.json.token.token;
    expect(opToken).toMatch(/^sy_/);
    expect(r.json.token.prefix).toBe(opToken.slice(0, 11));
    const row = await db.apiToken.findUniqueOrThrow({ where: { id: r.json.token.id } });
    expect(row.tokenHash).not.toContain(opToken);
    const list = await call(tokens.GET, { cookie: adminCookie });
    expect(list.text).not.toContain(opToken);
    expect(list.json.tokens[0]).not.toHaveProperty("token");

    const whoami = await call(me.GET, { token: opToken });
    expect(whoami.json).toMatchObject({ user: { username: "root", role: "operator" }, via: "token", token: { name: "ci" } });
    // Operator token: may not create hosts, even with no Origin header (tokens skip the Origin check).
    const denied = await call(hosts.POST, { method: "POST", token: opToken, origin: null, body: { name: "tok-host", address: "10.0.0.9", agentUrl: "http://10.0.0.9:4999", agentToken: "agent-secret-0123456789" } });
    expect(denied.status).toBe(403);
    expect(await db.auditEvent.count({ where: { action: "request.denied", actor: "token:ci" } })).toBe(1);

    const adminTok = (await call(tokens.POST, { method: "POST", cookie: adminCookie, body: { name: "automation", role: "admin" } })).json.token;
    const created = await call(hosts.POST, { method: "POST", token: adminTok.token, origin: null, body: { name: "tok-host", address: "10.0.0.9", agentUrl: "http://10.0.0.9:4999", agentToken: "agent-secret-0123456789" } });
    expect(created.status).toBe(201);
    expect(await db.auditEvent.count({ where: { action: "host.create", actor: "token:automation" } })).toBe(1);

    expect((await call(token.DELETE, { method: "DELETE", cookie: adminCookie, params: { id: adminTok.id } })).status).toBe(204);
    expect((await call(me.GET, { token: adminTok.token })).status).toBe(401);
  });
});

describe("audit", () => {
  it("a change and its audit row commit or roll back together", async () => {
    const hostsBefore = await db.host.count();
    const auditBefore = await db.auditEvent.count();
    await expect(
      audited(async (tx, a) => {
        await tx.host.create({ data: { name: "rolled-back", address: "x", agentUrl: "http://x", agentToken: "t".repeat(16) } });
        await a({ actor: "test", action: "host.create", outcome: "success" });
        throw new Error("boom after the audit row");
      }),
    ).rejects.toThrow("boom");
    expect(await db.host.count()).toBe(hostsBefore);
    expect(await db.auditEvent.count()).toBe(auditBefore);
  });

  it("filters and cursor pagination", async () => {
    const all = await call(audit.GET, { cookie: viewerCookie, path: "/api/audit?action=host.create&limit=2" });
    expect(all.status).toBe(200);
    expect(all.json.items).toHaveLength(2);
    expect(all.json.nextCursor).toMatch(/^\d+$/);
    const seen = [...all.json.items];
    let cursor = all.json.nextCursor;
    while (cursor) {
      const page = await call(audit.GET, { cookie: viewerCookie, path: `/api/audit?action=host.create&limit=2&cursor=${cursor}` });
      seen.push(...page.json.items);
      cursor = page.json.nextCursor;
    }
    expect(seen.length).toBe(await auditCount("host.create"));
    const ids = seen.map((e) => BigInt(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : 1)));
    expect(new Set(ids).size).toBe(ids.length);
    const byActor = await call(audit.GET, { cookie: viewerCookie, path: `/api/audit?actor=oper&pairId=${pairId}` });
    expect(byActor.json.items.every((e: { actor: string; pairId: string }) => e.actor === "oper" && e.pairId === pairId)).toBe(true);
    expect(byActor.json.items.length).toBeGreaterThan(0);
    const future = await call(audit.GET, { cookie: viewerCookie, path: "/api/audit?from=2999-01-01T00:00:00Z" });
    expect(future.json).toEqual({ items: [], nextCursor: null });
    expect((await call(audit.GET, { cookie: viewerCookie, path: "/api/audit?outcome=maybe" })).json.error.field).toBe("outcome");
    // `action` takes catalogue values only (lib/audit-actions.ts): a misspelt one is a 400 naming the field.
    const misspelt = await call(audit.GET, { cookie: viewerCookie, path: "/api/audit?action=host.created" });
    expect(misspelt.status).toBe(400);
    expect(misspelt.json.error).toMatchObject({ code: "invalid_input", field: "action" });
  });

  it("exports CSV and JSON", async () => {
    const csv = await call(auditExport.GET, { cookie: viewerCookie, path: "/api/audit/export?format=csv&action=pair.create" });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split("\r\n");
    expect(lines[0]).toBe("id,at,actor,action,targetType,targetId,pairId,outcome,durationMs,details,prevHash,hash,operationId,sentence");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(",pair.create,");
    const js = await call(auditExport.GET, { cookie: viewerCookie, path: "/api/audit/export" });
    expect(Array.isArray(js.json)).toBe(true);
    expect(js.json.length).toBe(await db.auditEvent.count());
    expect(BigInt(js.json[0].id) < BigInt(js.json[1].id)).toBe(true);
  });

  it("verify: the chain is intact, then detects a row tampered behind the trigger's back", async () => {
    const ok = await call(auditVerify.GET, { cookie: viewerCookie });
    expect(ok.json).toEqual({ ok: true, checked: await db.auditEvent.count() });
    const target = await db.auditEvent.findFirstOrThrow({ where: { action: "pair.create" } });
    // A superuser bypasses the append-only trigger; the hash chain still notices.
    await query(
      process.env.DATABASE_URL!,
      `BEGIN; ALTER TABLE "AuditEvent" DISABLE TRIGGER ALL; UPDATE "AuditEvent" SET actor = 'mallory' WHERE id = ${target.id}; ALTER TABLE "AuditEvent" ENABLE TRIGGER ALL; COMMIT;`,
    );
    const bad = await call(auditVerify.GET, { cookie: viewerCookie });
    expect(bad.json.ok).toBe(false);
    expect(bad.json.firstBroken).toEqual({ id: target.id.toString(), reason: expect.stringMatching(/modified/) });
  });
});
