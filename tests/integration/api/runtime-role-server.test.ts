// The real server (server.ts): the web side's pool, the controller's thread and the realtime adapter all
// connect as the runtime role, never as the owner; and the audit chain's checkpoints, written at
// shutdown, still name the newest row after a restart.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runtimeRoleName, runtimeRolePassword } from "@/lib/db/roles";
import { parseDatabaseUrl } from "@/lib/db/url";
import { deleteNewest } from "../helpers/audit";
import { createTestDatabase, query, type TestDatabase } from "../helpers/db";
import { ensureNextBuild, startServer, type StartedServer } from "../helpers/server";

let t: TestDatabase;
const servers: StartedServer[] = [];
beforeAll(async () => {
  ensureNextBuild();
  t = await createTestDatabase();
}, 600_000);
afterAll(async () => {
  for (const s of servers) await s.stop();
  await t?.drop();
});

const sessions = (name: string) =>
  query<{ usename: string; application_name: string }>(
    process.env.SWITCHYARD_TEST_ADMIN_URL!,
    `SELECT usename, application_name FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND application_name LIKE 'switchyard%'`,
    [name],
  );

async function verify(srv: { url: string }, token: string) {
  const r = await fetch(`${srv.url}/api/audit/verify`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return r.json();
}

it("connects as the runtime role everywhere, and the checkpoints survive a restart", async () => {
  const env = { REALTIME_ADAPTER: "postgres" };
  const srv = await startServer({ databaseUrl: t.url, env });
  servers.push(srv);
  const role = runtimeRoleName(t.name);

  // Every connection of the running panel, once its controller leads.
  let seen: { usename: string; application_name: string }[] = [];
  for (let i = 0; i < 60; i++) {
    seen = await sessions(t.name);
    const apps = new Set(seen.map((s) => s.application_name));
    if (["switchyard", "switchyard-realtime", "switchyard-controller", "switchyard-controller-hot", "switchyard-controller-status"].every((a) => apps.has(a))) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(new Set(seen.map((s) => s.application_name))).toEqual(new Set(["switchyard", "switchyard-realtime", "switchyard-controller", "switchyard-controller-hot", "switchyard-controller-status"]));
  expect(new Set(seen.map((s) => s.usename))).toEqual(new Set([role]));
  const ownerPassword = parseDatabaseUrl(t.url).password!;
  expect(srv.output()).not.toContain(runtimeRolePassword(ownerPassword, role));
  expect(srv.output()).not.toContain(ownerPassword);

  const token = srv.adminToken!;
  expect(await verify(srv, token)).toMatchObject({ ok: true });
  await srv.stop();

  // Shutdown wrote the checkpoint of the newest row.
  const newest = (await query<{ id: string }>(t.url, `SELECT id::text FROM "AuditEvent" ORDER BY id DESC LIMIT 1`))[0].id;
  const lines = (await readFile(process.env.AUDIT_CHECKPOINT_FILE!, "utf8")).trim().split("\n");
  expect(JSON.parse(lines.at(-1)!).id).toBe(newest);

  const again = await startServer({ databaseUrl: t.url, adminToken: false, env: { ...env, ADMIN_PASSWORD: srv.adminPassword } });
  servers.push(again);
  const count = Number((await query<{ n: string }>(t.url, `SELECT count(*)::text AS n FROM "AuditEvent"`))[0].n);
  expect(await verify(again, token)).toEqual({ ok: true, checked: count }); // nothing unanchored
  await deleteNewest(1, t.url);
  expect(await verify(again, token)).toMatchObject({ ok: false, firstBroken: { id: newest, missing: { throughId: newest } } });
}, 240_000);
