// The API behind the panel's second pass: audit free-text search (list and export), the agent status in
// GET /api/hosts, and role changes (PATCH /api/users/:id). Real route handlers, the run's Postgres.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, db } from "@/lib/db";
import { createUser } from "@/lib/queries/users";
import { audited } from "@/lib/queries/tx";
import * as login from "@/app/api/auth/login/route";
import * as me from "@/app/api/auth/me/route";
import * as audit from "@/app/api/audit/route";
import * as auditExport from "@/app/api/audit/export/route";
import * as auditVerify from "@/app/api/audit/verify/route";
import * as hosts from "@/app/api/hosts/route";
import * as host from "@/app/api/hosts/[id]/route";
import * as users from "@/app/api/users/route";
import * as user from "@/app/api/users/[id]/route";
import { query, resetDatabase } from "../helpers/db";
import { call, cookieFrom } from "./client";

const PW = "correct-horse-battery";
let adminCookie = "";
let viewerCookie = "";

const loginAs = (username: string) => call(login.POST, { method: "POST", path: "/api/auth/login", body: { username, password: PW } });
const idOf = async (username: string) => (await db.user.findUniqueOrThrow({ where: { username } })).id;

beforeAll(async () => {
  await resetDatabase();
  await createUser({ username: "boss", password: PW, role: "admin" }, "test");
  await createUser({ username: "watcher", password: PW, role: "viewer" }, "test");
  adminCookie = cookieFrom(await loginAs("boss"));
  viewerCookie = cookieFrom(await loginAs("watcher"));
});

afterAll(async () => {
  await resetDatabase();
  await closeDb();
});

describe("audit free-text search (?q=)", () => {
  const tag = `t${Date.now().toString(36)}`;
  beforeAll(async () => {
    await audited(async (_tx, a) => {
      await a({ actor: `alice-${tag}`, action: "pair.update", targetType: "pair", targetId: "p-1", outcome: "success", details: { comment: "plain" } });
      await a({ actor: "controller", action: `operation.finished`, targetType: "operation", targetId: `op-${tag}`, outcome: "failure", details: { error: "boom" } });
      await a({ actor: "controller", action: "operation.finished", outcome: "success", details: { steps: [{ action: "promote", target: `sip-2 on HOST-${tag}` }] } });
      await a({ actor: "controller", action: "decision", outcome: "info", details: { text: `100% done_${tag}` } });
      await a({ actor: "controller", action: "decision", outcome: "info", details: { text: `1000 doneX${tag}` } });
      await a({ actor: "controller", action: "decision", outcome: "info", details: { text: `back\\slash "quoted" ${tag}` } });
    });
  });
  const search = async (q: string, extra = "") => {
    const r = await call(audit.GET, { cookie: viewerCookie, path: `/api/audit?q=${encodeURIComponent(q)}${extra}` });
    expect(r.status, r.text).toBe(200);
    return r.json as { items: { actor: string; action: string; targetId: string | null; details: unknown; outcome: string }[]; nextCursor: string | null };
  };

  it("matches actor, action, target and the details JSON, case-insensitively", async () => {
    expect((await search(`ALICE-${tag}`)).items.map((e) => e.actor)).toEqual([`alice-${tag}`]);
    expect((await search(`op-${tag}`)).items.map((e) => e.targetId)).toEqual([`op-${tag}`]);
    const inDetails = await search(`host-${tag}`);
    expect(inDetails.items).toHaveLength(1);
    expect(JSON.stringify(inDetails.items[0].details)).toContain(`HOST-${tag}`);
    // Combined with the structured filters (AND).
    expect((await search(tag, "&outcome=failure")).items.map((e) => e.targetId)).toEqual([`op-${tag}`]);
    expect((await search("operation.finished", "&outcome=success")).items.length).toBeGreaterThanOrEqual(1);
    expect((await search(`no-such-thing-${tag}`)).items).toEqual([]);
  });

  it("treats % _ and backslash literally (escaped wildcards)", async () => {
    const pct = await search(`100% done_${tag}`);
    expect(pct.items.map((e) => (e.details as { text: string }).text)).toEqual([`100% done_${tag}`]);
    // Unescaped, `_` would match the X of "doneX" and `%` anything.
    expect((await search(`done_${tag}`)).items).toHaveLength(1);
    expect((await search("%")).items.every((e) => JSON.stringify(e).includes("%"))).toBe(true);
    // JSON escapes in the details text do not get in the way.
    expect((await search(`back\\slash`)).items).toHaveLength(1);
    expect((await search(`"quoted" ${tag}`)).items).toHaveLength(1);
  });

  it("pages with the cursor over the matches only", async () => {
    const first = await search("decision", "&limit=2");
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toMatch(/^\d+$/);
    const second = await search("decision", `&limit=2&cursor=${first.nextCursor}`);
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
  });

  it("validates: bounded length, no control characters; blank means no search", async () => {
    const long = await call(audit.GET, { cookie: viewerCookie, path: `/api/audit?q=${"a".repeat(201)}` });
    expect(long.status).toBe(400);
    expect(long.json.error).toMatchObject({ code: "invalid_input", field: "q" });
    const nul = await call(audit.GET, { cookie: viewerCookie, path: `/api/audit?q=a%00b` });
    expect(nul.status).toBe(400);
    expect(nul.json.error.field).toBe("q");
    const blank = await call(audit.GET, { cookie: viewerCookie, path: `/api/audit?q=%20%20&limit=500` });
    expect(blank.status).toBe(200);
    expect(blank.json.items.length).toBe(await db.auditEvent.count());
  });

  it("the export applies the same search", async () => {
    const csv = await call(auditExport.GET, { cookie: viewerCookie, path: `/api/audit/export?format=csv&q=${encodeURIComponent(`alice-${tag}`)}` });
    expect(csv.status).toBe(200);
    const lines = csv.text.trim().split("\r\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`alice-${tag}`);
    const js = await call(auditExport.GET, { cookie: viewerCookie, path: `/api/audit/export?format=json&q=decision` });
    expect(js.json.map((e: { action: string }) => e.action)).toEqual(["decision", "decision", "decision"]);
    expect((await call(auditExport.GET, { cookie: viewerCookie, path: `/api/audit/export?q=${"x".repeat(300)}` })).status).toBe(400);
  });

  it("date filters still apply in UTC", async () => {
    const newest = await db.auditEvent.findFirstOrThrow({ orderBy: { id: "desc" } });
    const at = newest.at.toISOString();
    const r = await call(audit.GET, { cookie: viewerCookie, path: `/api/audit?from=${encodeURIComponent(at)}&to=${encodeURIComponent(at)}` });
    expect(r.json.items.map((e: { id: string }) => e.id)).toContain(newest.id.toString());
    const later = new Date(newest.at.getTime() + 1).toISOString();
    const none = await call(audit.GET, { cookie: viewerCookie, path: `/api/audit?from=${encodeURIComponent(later)}` });
    expect(none.json.items).toEqual([]);
  });
});

describe("an export the database fails in the middle of", () => {
  const tag = `mid${Date.now().toString(36)}`;
  beforeAll(async () => {
    // More rows than one batch of the export (1000), so that a second query runs after the first byte.
    for (let i = 0; i < 6; i++) {
      await audited(async (_tx, a) => {
        for (let j = 0; j < 200; j++) await a({ actor: tag, action: "decision", outcome: "info", details: { n: i * 200 + j, pad: "x".repeat(200) } });
      });
    }
  });

  /** Starts an export, reads its first chunk, takes the table away, reads on: what arrived and how it ended. */
  async function exportFailingMidway(format: "csv" | "json"): Promise<{ text: string; failed: unknown }> {
    const res = await auditExport.GET(
      new Request(`http://panel.test/api/audit/export?format=${format}&actor=${tag}`, { headers: { cookie: viewerCookie, "x-switchyard-client-ip": "127.0.0.1" } }),
      { params: Promise.resolve({}) },
    );
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = dec.decode((await reader.read()).value); // the header and the first rows: the first batch is in memory
    let failed: unknown = null;
    await query(process.env.DATABASE_URL!, `ALTER TABLE "AuditEvent" RENAME TO "AuditEvent_away"`);
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        text += dec.decode(r.value);
      }
    } catch (e) {
      failed = e;
    } finally {
      await query(process.env.DATABASE_URL!, `ALTER TABLE "AuditEvent_away" RENAME TO "AuditEvent"`);
    }
    return { text, failed };
  }

  it("ends with the line `# export incomplete: …` and an aborted transfer, not a silent cut", async () => {
    const { text, failed } = await exportFailingMidway("csv");
    expect(text.startsWith("id,at,actor,")).toBe(true);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toBe("audit export incomplete");
    const lines = text.trimEnd().split("\r\n");
    expect(lines.slice(1, -1).every((l) => l.includes(`,${tag},decision,`))).toBe(true);
    expect(lines.length - 1).toBeGreaterThanOrEqual(1000); // every row of the first batch, then the marker
    expect(lines.at(-1)).toMatch(/\n# export incomplete: the database failed after 1000 rows \(request [^)]+\); this file is not the whole history, export again$/);
  });

  it("JSON: the array is left unclosed, so no parser takes the part for the whole", async () => {
    const { text, failed } = await exportFailingMidway("json");
    expect(failed).toBeInstanceOf(Error);
    expect(text).toMatch(/^\[\n\{/);
    expect(text).toMatch(/\}\n# export incomplete: the database failed after 1000 rows/);
    expect(() => JSON.parse(text)).toThrow();
  });
});

describe("hosts carry the agent status the controller persisted", () => {
  const SECRET = "agent-secret-never-shown-0123";
  let withStatus = "";
  let without = "";
  beforeAll(async () => {
    const mk = (name: string) => call(hosts.POST, { method: "POST", cookie: adminCookie, body: { name, address: "127.0.0.1", agentUrl: "http://127.0.0.1:4999", agentToken: SECRET } });
    withStatus = (await mk("hs-a")).json.host.id;
    without = (await mk("hs-b")).json.host.id;
    await db.hostStatus.create({
      data: {
        hostId: withStatus,
        connected: true,
        lastHeartbeatAt: new Date("2026-11-24T10:00:00.000Z"),
        rttMs: 1.25,
        agentVersion: "0.3.1",
        snapshot: {
          protocol: 1,
          agentId: "hs-a",
          version: "0.3.1",
          bootId: "b",
          seq: 7,
          epoch: 2,
          at: "2026-11-24T10:00:00.000Z",
          apps: [{ name: "sip", state: "running", pid: 42, mode: "primary", vip: "vip", health: { status: "ok" }, lastExit: null, restarts: 0, crashLoop: false, startedAt: null, extra: "not shown" }],
          vips: [{ name: "vip", address: "198.18.0.10", prefix: 24, interface: "lo", driver: "simulated", desired: "enabled", observed: "enabled", duplicate: { detected: true, mac: "02:00:00:00:00:01", at: null }, lastRun: { stdout: "script output" } }],
        },
      },
    });
  });

  it("GET /api/hosts and /api/hosts/:id include connection, heartbeat, RTT, version, apps and VIPs, never the token", async () => {
    const list = await call(hosts.GET, { cookie: viewerCookie });
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(SECRET);
    expect(list.text).not.toContain("script output");
    const a = list.json.hosts.find((h: { id: string }) => h.id === withStatus);
    expect(a.status).toEqual({
      connected: true,
      lastHeartbeatAt: "2026-11-24T10:00:00.000Z",
      rttMs: 1.25,
      agentVersion: "0.3.1",
      updatedAt: expect.any(String),
      apps: [{ name: "sip", state: "running", mode: "primary", vip: "vip" }],
      vips: [{ name: "vip", address: "198.18.0.10", observed: "enabled", duplicate: true }],
    });
    expect(list.json.hosts.find((h: { id: string }) => h.id === without).status).toBeNull();
    const one = await call(host.GET, { cookie: viewerCookie, params: { id: withStatus } });
    expect(one.status).toBe(200);
    expect(one.json.host.status).toEqual(a.status);
    expect(one.text).not.toContain(SECRET);
  });

  it("a disconnected host without a snapshot reports no apps or VIPs rather than failing", async () => {
    await db.hostStatus.create({ data: { hostId: without, connected: false, lastHeartbeatAt: null, rttMs: null, agentVersion: null } });
    const one = await call(host.GET, { cookie: viewerCookie, params: { id: without } });
    expect(one.json.host.status).toMatchObject({ connected: false, lastHeartbeatAt: null, apps: [], vips: [] });
    await db.hostStatus.update({ where: { hostId: without }, data: { snapshot: { apps: "garbage" } } });
    const garbled = await call(host.GET, { cookie: viewerCookie, params: { id: without } });
    expect(garbled.status).toBe(200);
    expect(garbled.json.host.status).toMatchObject({ apps: [], vips: [] });
  });
});

describe("PATCH /api/users/:id changes a role", () => {
  it("admin changes a role; the change and its audit row commit together; the user's new role applies at once", async () => {
    const id = (await call(users.POST, { method: "POST", cookie: adminCookie, body: { username: "promo", password: PW, role: "viewer" } })).json.user.id;
    const c = cookieFrom(await loginAs("promo"));
    const before = await db.auditEvent.count({ where: { action: "user.role" } });
    const r = await call(user.PATCH, { method: "PATCH", cookie: adminCookie, params: { id }, body: { role: "operator" } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.user).toMatchObject({ id, username: "promo", role: "operator" });
    const row = await db.auditEvent.findFirstOrThrow({ where: { action: "user.role", targetId: id } });
    expect(row).toMatchObject({ actor: "boss", outcome: "success", targetType: "user" });
    expect(row.details).toEqual({ username: "promo", from: "viewer", to: "operator" });
    expect(await db.auditEvent.count({ where: { action: "user.role" } })).toBe(before + 1);
    expect((await call(me.GET, { cookie: c })).json.user.role).toBe("operator");
    // Same role again: nothing changes, nothing is audited.
    expect((await call(user.PATCH, { method: "PATCH", cookie: adminCookie, params: { id }, body: { role: "operator" } })).status).toBe(200);
    expect(await db.auditEvent.count({ where: { action: "user.role" } })).toBe(before + 1);
    expect((await call(auditVerify.GET, { cookie: viewerCookie })).json.ok).toBe(true);
  });

  it("refuses to demote the last admin (409, nothing changed, nothing audited)", async () => {
    const bossId = await idOf("boss");
    const before = await db.auditEvent.count({ where: { action: "user.role" } });
    const r = await call(user.PATCH, { method: "PATCH", cookie: adminCookie, params: { id: bossId }, body: { role: "operator" } });
    expect(r.status).toBe(409);
    expect(r.json.error).toMatchObject({ code: "conflict", message: expect.stringMatching(/last admin/) });
    expect((await db.user.findUniqueOrThrow({ where: { id: bossId } })).role).toBe("admin");
    expect(await db.auditEvent.count({ where: { action: "user.role" } })).toBe(before);

    // With a second admin, one of the two may be demoted, but two concurrent demotions never leave none.
    const other = (await call(users.POST, { method: "POST", cookie: adminCookie, body: { username: "second", password: PW, role: "admin" } })).json.user.id;
    const both = await Promise.all([
      call(user.PATCH, { method: "PATCH", cookie: adminCookie, params: { id: other }, body: { role: "viewer" } }),
      call(user.PATCH, { method: "PATCH", cookie: adminCookie, params: { id: bossId }, body: { role: "viewer" } }),
    ]);
    expect(both.map((x) => x.status).sort()).toEqual([200, 409]);
    expect(await db.user.count({ where: { role: "admin" } })).toBe(1);
    // Leave boss as the admin for the next test.
    if ((await db.user.findUniqueOrThrow({ where: { id: bossId } })).role !== "admin") {
      const back = await call(user.PATCH, { method: "PATCH", cookie: cookieFrom(await loginAs("second")), params: { id: bossId }, body: { role: "admin" } });
      expect(back.status).toBe(200);
    }
  });

  it("validates the body and the id; only admins may change roles", async () => {
    const id = await idOf("watcher");
    const bad = await call(user.PATCH, { method: "PATCH", cookie: adminCookie, params: { id }, body: { role: "root" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: "invalid_input", field: "role" });
    expect((await call(user.PATCH, { method: "PATCH", cookie: adminCookie, params: { id }, body: { role: "admin", username: "x" } })).status).toBe(400);
    expect((await call(user.PATCH, { method: "PATCH", cookie: adminCookie, params: { id: "nope" }, body: { role: "admin" } })).status).toBe(400);
    expect((await call(user.PATCH, { method: "PATCH", cookie: adminCookie, params: { id: "00000000-0000-4000-8000-000000000000" }, body: { role: "admin" } })).status).toBe(404);
    const denied = await call(user.PATCH, { method: "PATCH", cookie: viewerCookie, params: { id }, body: { role: "admin" } });
    expect(denied.status).toBe(403);
    expect((await db.user.findUniqueOrThrow({ where: { id } })).role).toBe("viewer");
  });
});
