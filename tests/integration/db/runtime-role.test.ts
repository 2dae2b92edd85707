// The runtime role (lib/db/roles.ts): initDatabase migrates as DATABASE_URL's user (the owner) and hands
// the panel a role that owns nothing. As that role, the append-only trigger cannot be bypassed: every
// attempt below is a permission error (SQLSTATE 42501). And when the owner may not create roles, the
// panel says so and runs as the owner.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { initDatabase } from "@/lib/db/bootstrap";
import { closeDb, db } from "@/lib/db";
import { runtimeRoleName } from "@/lib/db/roles";
import { formatDatabaseUrl, parseDatabaseUrl, withDatabase } from "@/lib/db/url";
import { verifyAuditChain } from "@/lib/queries/audit-chain";
import { audited } from "@/lib/queries/tx";
import { createTestDatabase, query, testDatabaseName } from "../helpers/db";

type Line = { level: string; msg: string; fields?: Record<string, unknown> };
function memoryLog() {
  const lines: Line[] = [];
  return {
    lines,
    log: {
      info: (msg: string, fields?: Record<string, unknown>) => lines.push({ level: "info", msg, fields }),
      warn: (msg: string, fields?: Record<string, unknown>) => lines.push({ level: "warn", msg, fields }),
    },
  };
}

const saved = { url: process.env.DATABASE_URL, app: process.env.DATABASE_APP_URL };
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await closeDb();
  process.env.DATABASE_URL = saved.url;
  if (saved.app === undefined) delete process.env.DATABASE_APP_URL;
  else process.env.DATABASE_APP_URL = saved.app;
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const adminUrl = () => process.env.SWITCHYARD_TEST_ADMIN_URL!;

/** Runs `sql` as `url` and returns the error's SQLSTATE and message (or "ok"). */
async function attempt(url: string, sql: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
    return "ok";
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  } finally {
    await c.end();
  }
}

describe("the runtime role made at start-up", () => {
  it("owns nothing: it reads, writes and appends, but cannot delete, change or truncate audit rows, nor disable or drop the trigger", async () => {
    const t = await createTestDatabase({ migrate: false });
    cleanups.push(t.drop);
    process.env.DATABASE_URL = t.url;
    const m = memoryLog();
    const h = await initDatabase({ log: m.log });
    const role = runtimeRoleName(t.name);
    expect(h.url).toBe(t.url);
    expect(parseDatabaseUrl(h.appUrl).user).toBe(role);
    expect(process.env.DATABASE_APP_URL).toBe(h.appUrl);
    expect(m.lines.some((l) => l.msg === "database: runtime role created" && l.fields?.role === role)).toBe(true);
    expect(m.lines.filter((l) => l.level === "warn")).toEqual([]);
    // Neither password reaches the log.
    const logged = JSON.stringify(m.lines);
    expect(logged).not.toContain(parseDatabaseUrl(h.appUrl).password!);
    if (parseDatabaseUrl(t.url).password) expect(logged).not.toContain(parseDatabaseUrl(t.url).password!);

    const app = h.appUrl;
    expect(await query(app, "SELECT current_user AS u")).toEqual([{ u: role }]);
    expect(await attempt(app, `INSERT INTO "AuditEvent"(actor, action, outcome, "prevHash", hash) VALUES ('t', 'x', 'info', 'p', 'h1')`)).toBe("ok");
    expect(await attempt(app, `SELECT count(*) FROM "AuditEvent"`)).toBe("ok");
    expect(await attempt(app, `INSERT INTO "Host"(id, name, address, "agentUrl", "agentToken", "updatedAt") VALUES (gen_random_uuid(), 'h', '198.18.0.1', 'http://x', 't', now())`)).toBe("ok");
    expect(await attempt(app, `UPDATE "Host" SET address = '198.18.0.2'`)).toBe("ok");
    expect(await attempt(app, `DELETE FROM "Host"`)).toBe("ok");

    const denied = /^42501: permission denied for table AuditEvent$/;
    expect(await attempt(app, `DELETE FROM "AuditEvent"`)).toMatch(denied);
    expect(await attempt(app, `UPDATE "AuditEvent" SET actor = 'mallory'`)).toMatch(denied);
    expect(await attempt(app, `TRUNCATE "AuditEvent"`)).toMatch(denied);
    const notOwner = /^42501: must be owner of (table|relation) AuditEvent$/;
    expect(await attempt(app, `ALTER TABLE "AuditEvent" DISABLE TRIGGER "AuditEvent_append_only"`)).toMatch(notOwner);
    expect(await attempt(app, `ALTER TABLE "AuditEvent" DISABLE TRIGGER ALL`)).toMatch(notOwner);
    expect(await attempt(app, `DROP TRIGGER "AuditEvent_append_only" ON "AuditEvent"`)).toMatch(notOwner);
    expect(await attempt(app, `DROP TABLE "AuditEvent"`)).toMatch(notOwner);
    expect(await attempt(app, `ALTER TABLE "AuditEvent" ADD COLUMN x int`)).toMatch(notOwner);
    expect(await attempt(app, `CREATE OR REPLACE FUNCTION "switchyard_audit_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$`)).toMatch(/^42501: (must be owner of function|permission denied for schema public)/);
    expect(await attempt(app, `SET session_replication_role = replica`)).toMatch(/^42501: permission denied to set parameter/);
    expect(await attempt(app, `SELECT * FROM _prisma_migrations`)).toMatch(/^42501: permission denied for table _prisma_migrations$/);
    expect(await attempt(app, `CREATE TABLE public.mine (x int)`)).toMatch(/^42501: permission denied for schema public/);
    await h.stop();
  });

  it("is what the panel's pool connects as; appends and verify work through it; a second start changes nothing", async () => {
    const t = await createTestDatabase({ migrate: false });
    cleanups.push(t.drop);
    process.env.DATABASE_URL = t.url;
    const h1 = await initDatabase({ log: memoryLog().log });
    const m = memoryLog();
    const h2 = await initDatabase({ log: m.log });
    expect(h2.appUrl).toBe(h1.appUrl);
    expect(m.lines.map((l) => l.msg)).not.toContain("database: runtime role created");
    expect(m.lines.filter((l) => l.level === "warn")).toEqual([]);

    await closeDb();
    expect(await db.$queryRaw`SELECT current_user AS u`).toEqual([{ u: runtimeRoleName(t.name) }]);
    await audited(async (_tx, audit) => audit({ actor: "tester", action: "user.create", outcome: "success" }));
    await audited(async (_tx, audit) => audit({ actor: "tester", action: "user.delete", outcome: "success" }));
    expect(await verifyAuditChain()).toEqual({ ok: true, checked: 2 });
    await expect(db.$executeRawUnsafe(`DELETE FROM "AuditEvent"`)).rejects.toThrow(/permission denied/);

    // Its password no longer the derived one (DATABASE_URL's password changed, say): the next start sets it again.
    await query(adminUrl(), `ALTER ROLE ${runtimeRoleName(t.name)} PASSWORD 'something-else-entirely'`);
    const m3 = memoryLog();
    const h3 = await initDatabase({ log: m3.log });
    expect(h3.appUrl).toBe(h1.appUrl);
    expect(m3.lines.map((l) => l.msg)).toContain("database: runtime role's password set again (derived from DATABASE_URL's)");
    expect(await query(h3.appUrl, "SELECT current_user AS u")).toEqual([{ u: runtimeRoleName(t.name) }]);
  });

  it("listens and notifies without privileges (the controller's and the realtime adapter's channels)", async () => {
    const t = await createTestDatabase({ migrate: false });
    cleanups.push(t.drop);
    process.env.DATABASE_URL = t.url;
    const h = await initDatabase({ log: memoryLog().log });
    const c = new pg.Client({ connectionString: h.appUrl });
    await c.connect();
    try {
      const got = new Promise<string | undefined>((resolve) => c.on("notification", (n) => resolve(n.payload)));
      await c.query("LISTEN switchyard_test");
      await query(h.appUrl, "SELECT pg_notify('switchyard_test', 'hello')");
      expect(await got).toBe("hello");
    } finally {
      await c.end();
    }
  });
});

describe("an owner that may not create roles", () => {
  it("warns and runs as the owner; with DATABASE_APP_URL set to a role made by a DBA, grants it its privileges and uses it", async () => {
    const suffix = randomBytes(4).toString("hex");
    const owner = `own_${suffix}`;
    const dba = `dba_${suffix}`;
    const name = testDatabaseName();
    const pw = `pw-${randomBytes(9).toString("hex")}`;
    await query(adminUrl(), `CREATE ROLE ${owner} LOGIN NOCREATEROLE PASSWORD '${pw}'`);
    await query(adminUrl(), `CREATE ROLE ${dba} LOGIN PASSWORD '${pw}'`);
    await query(adminUrl(), `CREATE DATABASE ${name} OWNER ${owner}`);
    cleanups.push(async () => {
      await query(adminUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await query(adminUrl(), `DROP ROLE IF EXISTS ${dba}`);
      await query(adminUrl(), `DROP ROLE IF EXISTS ${owner}`);
    });
    const f = parseDatabaseUrl(withDatabase(adminUrl(), name));
    const ownerUrl = formatDatabaseUrl({ ...f, user: owner, password: pw });
    const dbaUrl = formatDatabaseUrl({ ...f, user: dba, password: pw });

    process.env.DATABASE_URL = ownerUrl;
    delete process.env.DATABASE_APP_URL;
    const m = memoryLog();
    const h = await initDatabase({ log: m.log });
    expect(h.appUrl).toBe(h.url);
    expect(process.env.DATABASE_APP_URL).toBeUndefined();
    const warn = m.lines.find((l) => l.level === "warn");
    expect(warn?.msg).toMatch(/the panel runs as DATABASE_URL's user, which owns the tables and could disable the audit trigger: it may not create roles \(no CREATEROLE\)/);
    expect(warn?.fields?.todo).toMatch(/CREATEROLE.*DATABASE_APP_URL/);
    expect(JSON.stringify(m.lines)).not.toContain(pw);

    process.env.DATABASE_APP_URL = dbaUrl;
    const m2 = memoryLog();
    const h2 = await initDatabase({ log: m2.log });
    expect(h2.appUrl).toBe(dbaUrl);
    expect(m2.lines.filter((l) => l.level === "warn")).toEqual([]);
    expect(await attempt(dbaUrl, `INSERT INTO "Host"(id, name, address, "agentUrl", "agentToken", "updatedAt") VALUES (gen_random_uuid(), 'h', '198.18.0.1', 'http://x', 't', now())`)).toBe("ok");
    expect(await attempt(dbaUrl, `DELETE FROM "AuditEvent"`)).toMatch(/^42501: permission denied for table AuditEvent$/);
    expect(await attempt(dbaUrl, `ALTER TABLE "AuditEvent" DISABLE TRIGGER ALL`)).toMatch(/^42501: must be owner/);
  });
});
