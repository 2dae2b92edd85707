// Start-up of the database: choose it, make sure it exists, apply migrations. Called once by server.ts
// (and by scripts/db-migrate.ts) before anything uses `db` from lib/db.
//
//   DATABASE_URL set   -> that server and database (created if missing and we may)
//   DATABASE_URL unset -> the embedded Postgres in .data/ (SWITCHYARD_DATA_DIR), started on its own port;
//                         process.env.DATABASE_URL is then set to it for the rest of the process
// Migrations are applied under a Postgres advisory lock (lib/db/migrate.ts), so two instances starting at
// once on one database do not race. The audit key and checkpoint files default to the data folder
// (AUDIT_KEY_FILE, AUDIT_CHECKPOINT_FILE, written back to process.env so that every module graph and
// thread uses the same files). Logs never contain the password.
import path from "node:path";
import { ensureDatabase, startEmbeddedPostgres, type DbLogger } from "./embedded";
import { applyMigrations, REPO_ROOT } from "./migrate";
import { loadConfig } from "@/lib/config";
import { parseDatabaseUrl, redactUrl, withDatabase } from "./url";

export type { DbLogger } from "./embedded";

export interface DatabaseHandle {
  /** The connection URL in use (also in process.env.DATABASE_URL). Contains the password: never log it. */
  url: string;
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

export async function initDatabase(opts: InitDatabaseOptions): Promise<DatabaseHandle> {
  const { log } = opts;
  const t0 = Date.now();
  // Read afresh (not cached): tools and tests call this more than once in a process.
  const cfg = loadConfig();
  let url = cfg.DATABASE_URL || undefined;
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

  if (opts.migrate !== false) {
    try {
      const { appliedMigrationNames } = await applyMigrations(url);
      log.info("database: migrations applied", {
        applied: appliedMigrationNames,
        upToDate: appliedMigrationNames.length === 0,
      });
    } catch (e) {
      await stop().catch(() => undefined);
      throw e;
    }
  }
  log.info("database ready", { url: redactUrl(url), embedded, ms: Date.now() - t0 });
  return { url, embedded, stop };
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
