// Database helpers for integration tests (no vitest imports: also used by the globalSetup).
//
//   process.env.DATABASE_URL   the run's shared database (made by tests/integration/setup/global.ts)
//   createTestDatabase()       a database of your own (e.g. two servers on one fresh DB); drop() it after
//   resetDatabase(url)         empty every table except _prisma_migrations, keep the schema
import { randomBytes } from "node:crypto";
import pg from "pg";
import { applyMigrations } from "../../../lib/db/migrate";
import { runtimeRoleName } from "../../../lib/db/roles";
import { assertSafeIdentifier, isLocalHost, parseDatabaseUrl, quoteIdent, redactUrl, withDatabase } from "../../../lib/db/url";

/** `switchyard_test_<12 hex>`: unique per call. */
export function testDatabaseName(prefix = "switchyard_test"): string {
  return assertSafeIdentifier(`${prefix}_${randomBytes(6).toString("hex")}`);
}

/**
 * Refuses non-local database hosts: test runs create and drop databases. Set
 * SWITCHYARD_TEST_ALLOW_REMOTE_DB=1 to allow one anyway (e.g. a CI service container).
 */
export function assertLocalDatabase(url: string): void {
  const { host } = parseDatabaseUrl(url);
  if (!isLocalHost(host) && process.env.SWITCHYARD_TEST_ALLOW_REMOTE_DB !== "1") {
    throw new Error(
      `refusing to run tests against non-local database host "${host}" (${redactUrl(url)}): tests create and ` +
        "drop databases. Use a local server, unset DATABASE_URL (embedded Postgres), or set SWITCHYARD_TEST_ALLOW_REMOTE_DB=1.",
    );
  }
}

/** The server's maintenance database (`postgres`) with the same credentials. */
export function adminUrlFor(url: string): string {
  return withDatabase(url, "postgres");
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * Creates `name` on the server of `adminUrl`; returns its URL. With `template`, copies that (migrated,
 * connection-free) database, which takes milliseconds; otherwise migrates unless `migrate: false`.
 */
export async function createDatabaseOn(
  adminUrl: string,
  name: string,
  opts: { migrate?: boolean; template?: string } = {},
): Promise<string> {
  assertSafeIdentifier(name);
  const tpl = opts.template ? ` TEMPLATE ${quoteIdent(assertSafeIdentifier(opts.template))}` : "";
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}${tpl}`));
  const url = withDatabase(adminUrl, name);
  if (!opts.template && opts.migrate !== false) await applyMigrations(url);
  return url;
}

/**
 * Drops `name` (closing its connections first), and the runtime role a server started on it made
 * (roles belong to the cluster, not the database). Missing databases and roles are fine.
 */
export async function dropDatabaseOn(adminUrl: string, name: string): Promise<void> {
  assertSafeIdentifier(name);
  await withClient(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await c.query(`DROP ROLE IF EXISTS ${quoteIdent(runtimeRoleName(name))}`).catch(() => undefined);
  });
}

function currentAdminUrl(): string {
  const admin = process.env.SWITCHYARD_TEST_ADMIN_URL;
  if (admin) return admin;
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("no database: run integration tests through vitest.integration.config.ts");
  assertLocalDatabase(url);
  return adminUrlFor(url);
}

export interface TestDatabase {
  /** Connection URL of the new database (same server and credentials as the run's database). */
  url: string;
  name: string;
  /** Drops it (force-closing connections). Call in afterAll/afterEach. */
  drop(): Promise<void>;
}

/**
 * A fresh database of your own on the run's server, migrated unless `{ migrate: false }`.
 * Use for tests that must not share state (e.g. two server processes on one DB, start-up races).
 */
export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = currentAdminUrl();
  const name = testDatabaseName();
  // The globalSetup keeps a migrated template database: copying it is much faster than migrating.
  const template = opts.migrate !== false ? process.env.SWITCHYARD_TEST_TEMPLATE_DB || undefined : undefined;
  const url = await createDatabaseOn(adminUrl, name, { ...opts, template });
  return { url, name, drop: () => dropDatabaseOn(adminUrl, name) };
}

/**
 * Empties every table in the public schema except `_prisma_migrations` (TRUNCATE ... RESTART IDENTITY
 * CASCADE), keeping the schema and the migration history. AuditEvent is append-only (a trigger refuses
 * UPDATE/DELETE/TRUNCATE); this runs with session_replication_role = replica so the trigger does not fire,
 * which needs a superuser (the local service's `postgres` and the embedded cluster's user are).
 * Do not reset the shared DATABASE_URL while another server process uses it.
 */
export async function resetDatabase(url: string = process.env.DATABASE_URL ?? ""): Promise<void> {
  if (!url) throw new Error("resetDatabase: no url and DATABASE_URL is not set");
  assertLocalDatabase(url);
  await withClient(url, async (c) => {
    const { rows } = await c.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY tablename",
    );
    if (rows.length === 0) return;
    const list = rows.map((r) => `public.${quoteIdent(r.tablename)}`).join(", ");
    await c.query("BEGIN");
    try {
      await c.query("SET LOCAL session_replication_role = replica");
      await c.query(`TRUNCATE ${list} RESTART IDENTITY CASCADE`);
      await c.query("COMMIT");
    } catch (e) {
      await c.query("ROLLBACK").catch(() => undefined);
      throw e;
    }
  });
}

/** Runs one SQL statement on `url` and returns the rows (small convenience for assertions). */
export async function query<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return withClient(url, async (c) => (await c.query<T>(sql, params)).rows);
}
