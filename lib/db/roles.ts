// The runtime role: what the panel, its controller and the realtime adapter connect as once the
// migrations are applied. DATABASE_URL's user owns the tables and runs the migrations; the runtime role
// owns nothing: SELECT/INSERT/UPDATE/DELETE on the tables the panel uses, only SELECT/INSERT on
// AuditEvent, USAGE on the sequences, nothing on _prisma_migrations. It cannot ALTER or DROP a table or
// a trigger, disable the append-only trigger, or TRUNCATE. (LISTEN/NOTIFY and advisory locks need no
// privilege.)
//
//   DATABASE_APP_URL unset: the role `<database>_app` is created (needs CREATEROLE) with a password
//     derived from DATABASE_URL's (HMAC-SHA256, so every instance with the same DATABASE_URL computes the
//     same one and nothing new is stored), sent to Postgres only as a SCRAM verifier (never in clear
//     text, so not in the server's statement log either).
//   DATABASE_APP_URL set: that role (created by you); only its privileges are set here.
// The privileges are set again at every start (new tables included), under the migrations' advisory
// lock. When the owner may not create roles, or the role cannot be used, the panel warns and runs as
// DATABASE_URL's user (a failover panel should keep starting; docs/database.md).
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import pg from "pg";
import type { DbLogger } from "./embedded";
import { MIGRATION_LOCK_KEY } from "./migrate";
import { formatDatabaseUrl, parseDatabaseUrl, quoteIdent } from "./url";

/** `<database>_app`, or `sy_app_<hash>` when the database's name does not make a plain identifier. Pure. */
export function runtimeRoleName(database: string): string {
  const name = `${database}_app`;
  if (/^[a-z_][a-z0-9_]*$/.test(name) && name.length <= 63) return name;
  return `sy_app_${createHash("sha256").update(database, "utf8").digest("hex").slice(0, 16)}`;
}

/** The runtime role's password, derived from the owner's: ASCII (base64url), 43 characters. Pure. */
export function runtimeRolePassword(ownerPassword: string, role: string): string {
  return createHmac("sha256", ownerPassword).update(`switchyard runtime role v1\0${role}`, "utf8").digest("base64url");
}

/**
 * The SCRAM-SHA-256 verifier Postgres stores for `password` (RFC 5802/7677; what `password_encryption =
 * scram-sha-256` computes). `CREATE ROLE ... PASSWORD '<verifier>'` sets the password without sending it.
 * For ASCII passwords (SASLprep leaves them as they are).
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

export interface RuntimeRole {
  /** The URL to connect with at run time (contains a password: never log it). */
  url: string;
  /** The runtime role, or null when the panel runs as DATABASE_URL's user. */
  role: string | null;
}

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
const code = (e: unknown) => (e as { code?: string } | null)?.code;

interface TablePrivileges {
  relname: string;
  s: boolean;
  i: boolean;
  u: boolean;
  d: boolean;
  t: boolean;
  owns: boolean;
}

/** What is wrong with the role's privileges: `missing` makes it unusable, `excess` lets it bypass the trigger. */
function judge(rows: TablePrivileges[]): { missing: string[]; excess: string[] } {
  const missing: string[] = [];
  const excess: string[] = [];
  for (const r of rows) {
    if (r.relname === "_prisma_migrations") continue;
    if (r.owns) excess.push(`${r.relname} (owner)`);
    const audit = r.relname === "AuditEvent";
    const lacks = [r.s ? "" : "SELECT", r.i ? "" : "INSERT", audit || r.u ? "" : "UPDATE", audit || r.d ? "" : "DELETE"].filter(Boolean);
    if (lacks.length) missing.push(`${lacks.join("/")} on ${r.relname}`);
    if (audit && (r.u || r.d || r.t)) excess.push(`${[r.u && "UPDATE", r.d && "DELETE", r.t && "TRUNCATE"].filter(Boolean).join("/")} on AuditEvent`);
  }
  return { missing, excess };
}

/** The grants, as the owner, in one transaction (idempotent; new tables included). */
async function grant(c: pg.Client, role: string, database: string): Promise<void> {
  const r = quoteIdent(role);
  await c.query(`GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${r}`).catch(() => undefined); // PUBLIC has CONNECT by default
  await c.query("BEGIN");
  try {
    await c.query(`GRANT USAGE ON SCHEMA public TO ${r}`);
    await c.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${r}`);
    await c.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${r}`);
    await c.query(`REVOKE UPDATE, DELETE ON "AuditEvent" FROM ${r}`);
    await c.query(`REVOKE ALL ON "_prisma_migrations" FROM ${r}`);
    await c.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${r}`);
    await c.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${r}`);
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

async function privileges(c: pg.Client, role: string): Promise<TablePrivileges[]> {
  const { rows } = await c.query<TablePrivileges>(
    `SELECT c.relname,
            has_table_privilege($1, c.oid, 'SELECT') AS s, has_table_privilege($1, c.oid, 'INSERT') AS i,
            has_table_privilege($1, c.oid, 'UPDATE') AS u, has_table_privilege($1, c.oid, 'DELETE') AS d,
            has_table_privilege($1, c.oid, 'TRUNCATE') AS t, pg_has_role($1, c.relowner, 'MEMBER') AS owns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')`,
    [role],
  );
  return rows;
}

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: "switchyard-roles" });
  c.on("error", () => undefined);
  try {
    await c.connect();
  } catch (e) {
    await c.end().catch(() => undefined);
    throw e;
  }
  return c;
}

/** Connects once as `url`: null when it works, else the error. */
async function tryLogin(url: string): Promise<Error | null> {
  try {
    const c = await connect(url);
    await c.end().catch(() => undefined);
    return null;
  } catch (e) {
    return e as Error;
  }
}

/**
 * Makes sure the runtime role exists, may log in, and has exactly its privileges; returns the URL to run
 * with. Run as the owner, after the migrations. Never throws for a missing privilege of the owner: it
 * warns (saying what to do) and returns the owner's URL.
 */
export async function ensureRuntimeRole(o: { ownerUrl: string; appUrl?: string; log: DbLogger }): Promise<RuntimeRole> {
  const owner = parseDatabaseUrl(o.ownerUrl);
  const asOwner = (why: string, todo: string): RuntimeRole => {
    (o.log.warn ?? o.log.info)(`database: the panel runs as DATABASE_URL's user, which owns the tables and could disable the audit trigger: ${why}`, { user: owner.user, todo });
    return { url: o.ownerUrl, role: null };
  };
  const createIt = (role: string) =>
    `grant DATABASE_URL's user CREATEROLE, or create a login role yourself (CREATE ROLE ${role} LOGIN PASSWORD '...') and set DATABASE_APP_URL to it; its privileges are granted at start-up (docs/database.md)`;

  let role: string;
  let url: string;
  let password: string | null = null; // set when the role is ours to manage
  if (o.appUrl) {
    const f = parseDatabaseUrl(o.appUrl);
    if (f.user === owner.user) return asOwner("DATABASE_APP_URL names the same user as DATABASE_URL", createIt(runtimeRoleName(owner.database)));
    role = f.user;
    url = o.appUrl;
  } else {
    role = runtimeRoleName(owner.database);
    if (!owner.password) return asOwner("DATABASE_URL has no password to derive the runtime role's from", createIt(role));
    password = runtimeRolePassword(owner.password, role);
    url = formatDatabaseUrl({ ...owner, user: role, password });
  }

  const c = await connect(o.ownerUrl);
  try {
    // Instances starting together would otherwise race on the catalog ("tuple concurrently updated").
    await c.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY.toString()]);
    const exists = (await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])).rowCount! > 0;
    if (!exists) {
      if (password === null) return asOwner(`DATABASE_APP_URL's role ${role} does not exist`, `create it, or unset DATABASE_APP_URL to let start-up create ${runtimeRoleName(owner.database)}`);
      try {
        await c.query(`CREATE ROLE ${quoteIdent(role)} LOGIN NOINHERIT PASSWORD ${literal(scramSha256Verifier(password))}`);
        o.log.info("database: runtime role created", { role });
      } catch (e) {
        if (code(e) === "42501") return asOwner("it may not create roles (no CREATEROLE)", createIt(role));
        if (code(e) !== "42710" && code(e) !== "23505") throw e; // 42710/23505: created meanwhile
      }
    }
    await grant(c, role, owner.database);
    const { missing, excess } = judge(await privileges(c, role));
    if (missing.length) return asOwner(`the role ${role} lacks ${missing.join(", ")} (are the tables owned by another user?)`, "run the panel with DATABASE_URL set to the tables' owner, or grant these privileges");
    if (excess.length) {
      (o.log.warn ?? o.log.info)(`database: the runtime role ${role} can bypass the audit trigger: ${excess.join(", ")}`, { todo: "use a role that owns nothing and is not a superuser (docs/database.md)" });
    }
  } finally {
    await c.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY.toString()]).catch(() => undefined);
    await c.end().catch(() => undefined);
  }

  let err = await tryLogin(url);
  if (err && password !== null && (code(err) === "28P01" || code(err) === "28000")) {
    // Ours, but its password is not the derived one (DATABASE_URL's password changed) or it may not log in.
    const a = await connect(o.ownerUrl);
    try {
      await a.query(`ALTER ROLE ${quoteIdent(role)} LOGIN PASSWORD ${literal(scramSha256Verifier(password))}`);
      o.log.info("database: runtime role's password set again (derived from DATABASE_URL's)", { role });
      err = await tryLogin(url);
    } catch (e) {
      if (code(e) !== "42501") throw e;
    } finally {
      await a.end().catch(() => undefined);
    }
  }
  if (err) return asOwner(`cannot log in as the runtime role ${role}: ${err.message}`, password === null ? "check DATABASE_APP_URL" : createIt(role));
  return { url, role };
}

/**
 * For a process that does not run the migrations (`npm run controller`): the runtime URL to use with this
 * owner URL — DATABASE_APP_URL, else the derived role if it can log in (the panel's start-up made it),
 * else the owner's with a warning. Written to process.env.DATABASE_APP_URL for `db`.
 */
export async function runtimeUrlFor(ownerUrl: string, o: { appUrl?: string; log: DbLogger }): Promise<string> {
  let url = o.appUrl;
  if (!url) {
    const owner = parseDatabaseUrl(ownerUrl);
    const role = runtimeRoleName(owner.database);
    const derived = owner.password ? formatDatabaseUrl({ ...owner, user: role, password: runtimeRolePassword(owner.password, role) }) : null;
    const err = derived ? await tryLogin(derived) : new Error("DATABASE_URL has no password");
    if (derived && !err) url = derived;
    else {
      (o.log.warn ?? o.log.info)("database: running as DATABASE_URL's user (the tables' owner): no runtime role to use", { role, err: err?.message, todo: "start the panel once (it creates the role), or set DATABASE_APP_URL" });
      return ownerUrl;
    }
  }
  process.env.DATABASE_APP_URL = url;
  return url;
}
