// The shared Prisma client. `import { db, Prisma } from "@/lib/db"`.
//
// Built lazily on first use from the runtime URL (runtimeDatabaseUrl(): DATABASE_APP_URL, the role that
// owns nothing, else DATABASE_URL; lib/db/bootstrap.ts initDatabase() sets both before anything touches
// `db`), with the pg driver adapter over one pg.Pool. The client and its pool are
// cached on globalThis: Next's route handlers load their own copy of this module (a separate module
// instance from server.ts), and they must share one client and one pool with it.
import { PrismaPg } from "@prisma/adapter-pg";
import { config } from "@/lib/config";
import { flushAuditAnchor } from "@/lib/audit-anchor";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client";

export * from "../generated/prisma/client";

interface DbState {
  client: PrismaClient;
  pool: pg.Pool;
  url: string;
}

const KEY = Symbol.for("switchyard.db");
type Global = typeof globalThis & { [KEY]?: DbState };
const g = globalThis as Global;


/**
 * The URL the panel, the controller and the realtime adapter connect with at run time: the runtime role
 * (DATABASE_APP_URL, written back by initDatabase when it made the role), else DATABASE_URL.
 */
export function runtimeDatabaseUrl(): string | undefined {
  return process.env.DATABASE_APP_URL || process.env.DATABASE_URL || undefined;
}

const CONNECT_TIMEOUT_MS = 5000;

function state(): DbState {
  const existing = g[KEY];
  if (existing) return existing;
  const url = runtimeDatabaseUrl();
  if (!url) {
    throw new Error(
      "DATABASE_URL is not set: call initDatabase() from lib/db/bootstrap.ts at start-up before using the database",
    );
  }
  // A database that is down answers at once (refused); one that does not answer at all (cut off) fails a
  // new connection after CONNECT_TIMEOUT_MS instead of the OS's minutes: callers answer 503, and the
  // controller goes on with its journal (lib/controller/writes.ts).
  const pool = new pg.Pool({ connectionString: url, max: config().DATABASE_POOL_MAX, application_name: "switchyard", connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true });
  // An idle client losing its connection must not crash the process; the next query reports the error.
  pool.on("error", () => undefined);
  const client = new PrismaClient({ adapter: new PrismaPg(pool) });
  const s: DbState = { client, pool, url };
  g[KEY] = s;
  return s;
}

/**
 * The Prisma client (a lazy proxy: nothing connects until the first query). Use it everywhere on the
 * server; never construct another PrismaClient.
 */
export const db: PrismaClient = new Proxy({} as PrismaClient, {
  get(_target, prop) {
    if (prop === "then") return undefined; // `await db` must not build a client
    const client = state().client;
    const value = Reflect.get(client, prop, client);
    return typeof value === "function" ? value.bind(client) : value;
  },
  has(_target, prop) {
    return Reflect.has(state().client, prop);
  },
});

/**
 * The pg.Pool under `db`, for the few things Prisma cannot do (LISTEN/NOTIFY, the socket.io Postgres
 * adapter, session advisory locks on a dedicated connection: `const c = await getPool().connect()`).
 */
export function getPool(): pg.Pool {
  return state().pool;
}

/** True once the client has been built (something used `db` or `getPool`). */
export function isDbOpen(): boolean {
  return g[KEY] !== undefined;
}

/**
 * Disconnects Prisma and ends the pool. Safe to call twice; the next use of `db` builds a new client.
 * The audit chain's pending checkpoint (lib/audit-anchor.ts) is written first.
 */
export async function closeDb(): Promise<void> {
  await flushAuditAnchor();
  const s = g[KEY];
  if (!s) return;
  g[KEY] = undefined;
  await s.client.$disconnect().catch(() => undefined);
  await s.pool.end().catch(() => undefined);
}
