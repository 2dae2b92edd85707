// initDatabase: concurrent start-ups on one database (in one process and in two processes), and the
// embedded default persisting across a restart.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { initDatabase } from "@/lib/db/bootstrap";
import { readMigrationsList, REPO_ROOT } from "@/lib/db/migrate";
import { parseDatabaseUrl } from "@/lib/db/url";
import { createTestDatabase, query, type TestDatabase } from "../helpers/db";

type Line = { msg: string; fields?: Record<string, unknown> };
function memoryLog() {
  const lines: Line[] = [];
  return {
    lines,
    log: {
      info: (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, fields }),
      warn: (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, fields }),
    },
  };
}

const savedUrl = process.env.DATABASE_URL;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  process.env.DATABASE_URL = savedUrl;
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function appliedRows(url: string) {
  return query<{ migration_name: string }>(url, "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1");
}

describe("initDatabase with DATABASE_URL", () => {
  it("two concurrent calls in one process on one fresh database both succeed, each migration applied once", async () => {
    const t: TestDatabase = await createTestDatabase({ migrate: false });
    cleanups.push(t.drop);
    process.env.DATABASE_URL = t.url;
    const a = memoryLog();
    const b = memoryLog();
    const [ha, hb] = await Promise.all([initDatabase({ log: a.log }), initDatabase({ log: b.log })]);
    expect(ha.embedded).toBe(false);
    expect(ha.url).toBe(t.url);
    expect(hb.url).toBe(t.url);
    const names = (await readMigrationsList()).migrationDirectories.map((d) => d.path);
    expect((await appliedRows(t.url)).map((r) => r.migration_name)).toEqual(names);
    const applied = [a, b].map((m) => m.lines.find((l) => l.msg === "database: migrations applied")?.fields?.applied as string[]);
    expect(applied.map((x) => x.length).sort()).toEqual([0, names.length]);
    await ha.stop();
    await hb.stop();
  });

  it("two processes starting at once on one fresh database both succeed", async () => {
    const t = await createTestDatabase({ migrate: false });
    cleanups.push(t.drop);
    const run = () =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = spawn(path.join(REPO_ROOT, "node_modules/.bin/tsx"), ["scripts/db-migrate.ts", "deploy"], {
          cwd: REPO_ROOT,
          env: { ...process.env, DATABASE_URL: t.url },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        p.stdout.on("data", (d) => (out += d));
        p.stderr.on("data", (d) => (out += d));
        p.on("close", (code) => resolve({ code, out }));
      });
    const [r1, r2] = await Promise.all([run(), run()]);
    expect(r1.code, r1.out).toBe(0);
    expect(r2.code, r2.out).toBe(0);
    const names = (await readMigrationsList()).migrationDirectories.map((d) => d.path);
    expect((await appliedRows(t.url)).map((r) => r.migration_name)).toEqual(names);
    // the password never reaches the logs
    const { password } = parseDatabaseUrl(t.url);
    if (password) expect(r1.out + r2.out).not.toContain(password);
  }, 120_000);

  it("creates the database named in DATABASE_URL when it does not exist yet", async () => {
    const t = await createTestDatabase({ migrate: false });
    await t.drop();
    cleanups.push(t.drop);
    process.env.DATABASE_URL = t.url;
    const m = memoryLog();
    const h = await initDatabase({ log: m.log });
    expect(m.lines.some((l) => l.msg === "database: does not exist yet, creating it")).toBe(true);
    expect((await appliedRows(t.url)).length).toBeGreaterThanOrEqual(2);
    await h.stop();
  });

  it("rejects a malformed DATABASE_URL with a clear error", async () => {
    process.env.DATABASE_URL = "mysql://x@y/z";
    await expect(initDatabase({ log: memoryLog().log })).rejects.toThrow(/postgres:\/\//);
  });
});

describe("initDatabase without DATABASE_URL (embedded default)", () => {
  it("persists data across a restart, on the same port, and never logs the password", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "switchyard-embedded-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    delete process.env.DATABASE_URL;

    const m1 = memoryLog();
    const h1 = await initDatabase({ log: m1.log, dataDir });
    cleanups.push(() => h1.stop());
    expect(h1.embedded).toBe(true);
    expect(process.env.DATABASE_URL).toBe(h1.url);
    const { port, password } = parseDatabaseUrl(h1.url);
    expect(port).not.toBe(5432);
    await query(h1.url, `INSERT INTO "Host"(id, name, address, "agentUrl", "agentToken", "updatedAt") VALUES (gen_random_uuid(), 'kept', '198.18.0.1', 'http://x', 't', now())`);
    await h1.stop();

    // remembered state: port and credentials, private to the owner
    const state = JSON.parse(await readFile(path.join(dataDir, "pg.json"), "utf8"));
    expect(state.port).toBe(port);
    expect((await stat(path.join(dataDir, "pg.json"))).mode & 0o077).toBe(0);
    if (process.getuid?.() === 0) {
      const pgUid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
      expect((await stat(path.join(dataDir, "pg"))).uid).toBe(pgUid);
    }

    delete process.env.DATABASE_URL;
    const m2 = memoryLog();
    const h2 = await initDatabase({ log: m2.log, dataDir });
    cleanups.push(() => h2.stop());
    expect(parseDatabaseUrl(h2.url).port).toBe(port);
    const rows = await query<{ name: string }>(h2.url, `SELECT name FROM "Host"`);
    expect(rows.map((r) => r.name)).toEqual(["kept"]);
    expect(m2.lines.find((l) => l.msg === "database: migrations applied")?.fields?.upToDate).toBe(true);
    await h2.stop();

    const logged = JSON.stringify([...m1.lines, ...m2.lines]);
    expect(password).toBeTruthy();
    expect(logged).not.toContain(password!);
  }, 120_000);
});
