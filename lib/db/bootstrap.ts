// Start-up of the database: choose it, make sure it exists, apply migrations. Called once by server.ts
// (and by scripts/db-migrate.ts) before anything uses `db` from lib/db.
//
//   DATABASE_URL set   -> that server and database (created if missing and we may)
//   DATABASE_URL unset -> the embedded Postgres in .data/ (SWITCHYARD_DATA_DIR), started on its own port;
//                         process.env.DATABASE_URL is then set to it for the rest of the process
// Migrations are applied under a Postgres advisory lock (lib/db/migrate.ts), so two instances starting at
// once on one database do not race. Then the runtime role (lib/db/roles.ts): the panel, the controller and
// the realtime adapter connect as a role that owns nothing (DATABASE_APP_URL, written back to process.env
// when made here); DATABASE_URL's user stays the owner, for migrations only. The audit key and checkpoint
// files default to the data folder (AUDIT_KEY_FILE, AUDIT_CHECKPOINT_FILE, written back to process.env so
// that every module graph and thread uses the same files). Logs never contain a password.
import path from "node:path";
import { ensureDatabase, startEmbeddedPostgres, type DbLogger } from "./embedded";
import { applyMigrations, REPO_ROOT } from "./migrate";
import { ensureRuntimeRole } from "./roles";
import { loadConfig } from "@/lib/config";
import { parseDatabaseUrl, redactUrl, withDatabase } from "./url";

export type { DbLogger } from "./embedded";

export interface DatabaseHandle {
  /** The owner's URL (also in process.env.DATABASE_URL): migrations, tools. Contains the password: never log it. */
  url: string;
  /**
   * The URL to run with: the runtime role (also in process.env.DATABASE_APP_URL), or `url` when there is
   * none (see lib/db/roles.ts). Contains a password: never log it.
   */
  appUrl: string;
  /** True when the embedded default is in use. */
  embedded: boolean;
  /** Stops the embedded Postgres if this process started it; no-op otherwise. Call after closeDb(). */
  stop(): Promise<void>;
}

export interface InitDatabaseOptions {
  log: DbLogger;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Embedded data folder (default: SWITCHYARD_DATA_DIR or <repo>/.data). */
  dataDir?: string;
}

export function defaultDataDir(): string {
  return path.resolve(loadConfig().SWITCHYARD_DATA_DIR || path.join(REPO_ROOT, ".data"));
}

/** Runtime URLs this process derived and wrote to process.env (a later call must not take them for the operator's). */
const DERIVED = Symbol.for("switchyard.derivedAppUrls");
const derived = ((globalThis as typeof globalThis & { [DERIVED]?: Set<string> })[DERIVED] ??= new Set<string>());

export async function initDatabase(opts: InitDatabaseOptions): Promise<DatabaseHandle> {
  const { log } = opts;
  const t0 = Date.now();
  // Read afresh (not cached): tools and tests call this more than once in a process.
  const cfg = loadConfig();
  let url = cfg.DATABASE_URL || undefined;
  const givenAppUrl = cfg.DATABASE_APP_URL && !derived.has(cfg.DATABASE_APP_URL) ? cfg.DATABASE_APP_URL : undefined;
  let embedded = false;
  let stop = async () => {};
  const dataDir = opts.dataDir ?? defaultDataDir();
  process.env.AUDIT_KEY_FILE = cfg.AUDIT_KEY_FILE || path.join(dataDir, "audit.key");
  process.env.AUDIT_CHECKPOINT_FILE = cfg.AUDIT_CHECKPOINT_FILE || path.join(dataDir, "audit-checkpoints.log");

  if (url) {
    const fields = parseDatabaseUrl(url); // throws a clear error for a malformed URL
    log.info("database: using DATABASE_URL", { url: redactUrl(url) });
    await ensureDatabaseExists(url, fields.database, log);
  } else {
    log.info("database: DATABASE_URL not set, using the embedded Postgres", { dataDir });
    const h = await startEmbeddedPostgres({ dataDir, log });
    url = h.url;
    embedded = true;
    stop = h.stop;
    process.env.DATABASE_URL = url;
  }

  let appUrl = givenAppUrl ?? url;
  let role: string | null = null;
  if (opts.migrate !== false) {
    try {
      const { appliedMigrationNames } = await applyMigrations(url);
      log.info("database: migrations applied", {
        applied: appliedMigrationNames,
        upToDate: appliedMigrationNames.length === 0,
      });
      ({ url: appUrl, role } = await ensureRuntimeRole({ ownerUrl: url, appUrl: givenAppUrl, log }));
    } catch (e) {
      await stop().catch(() => undefined);
      throw e;
    }
  }
  if (appUrl === url) delete process.env.DATABASE_APP_URL;
  else {
    if (!givenAppUrl) derived.add(appUrl);
    process.env.DATABASE_APP_URL = appUrl;
  }
  log.info("database ready", { url: redactUrl(url), runtimeRole: role, embedded, ms: Date.now() - t0 });
  return { url, appUrl, embedded, stop };
}

/** Creates the database named in a DATABASE_URL when it does not exist yet (needs CREATEDB). */
async function ensureDatabaseExists(url: string, database: string, log: DbLogger) {
  const pg = (await import("pg")).default;
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  c.on("error", () => undefined);
  try {
    await c.connect();
    return;
  } catch (e) {
    if ((e as { code?: string }).code !== "3D000") {
      throw new Error(`cannot connect to DATABASE_URL (${redactUrl(url)}): ${(e as Error).message}`);
    }
  } finally {
    await c.end().catch(() => undefined);
  }
  log.info("database: does not exist yet, creating it", { database });
  await ensureDatabase(withDatabase(url, "postgres"), database, log);
}
