// Pure helpers for Postgres connection URLs (no I/O; unit-tested in tests/unit/db/url.test.ts).

export interface PgConnectionFields {
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  database: string;
  /** Extra query parameters (sslmode, application_name, ...), passed through untouched. */
  params: Record<string, string>;
}

/** Parses postgres:// or postgresql:// URLs. Throws an Error naming what is wrong (never the password). */
export function parseDatabaseUrl(url: string): PgConnectionFields {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error("DATABASE_URL is not a valid URL (expected postgres://user:password@host:port/database)");
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new Error(`DATABASE_URL must start with postgres:// or postgresql:// (got ${u.protocol}//)`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (!database) throw new Error("DATABASE_URL names no database (add /<database> after the host)");
  const params: Record<string, string> = {};
  for (const [k, v] of u.searchParams) params[k] = v;
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost",
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username) || "postgres",
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database,
    params,
  };
}

export function formatDatabaseUrl(f: Omit<PgConnectionFields, "params"> & { params?: Record<string, string> }): string {
  const host = f.host.includes(":") ? `[${f.host}]` : f.host;
  const auth = encodeURIComponent(f.user) + (f.password !== undefined ? `:${encodeURIComponent(f.password)}` : "");
  const qs = new URLSearchParams(f.params ?? {}).toString();
  return `postgres://${auth}@${host}:${f.port}/${encodeURIComponent(f.database)}${qs ? `?${qs}` : ""}`;
}

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  return formatDatabaseUrl({ ...parseDatabaseUrl(url), database });
}

/** For logs: the URL with the password replaced by "***". Never throws. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<unparseable url>";
  }
}

/** True for loopback hosts (127.0.0.0/8, ::1, localhost) and Unix socket paths. */
export function isLocalHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "localhost" || h === "::1" || h.startsWith("/")) return true;
  return /^127(\.\d{1,3}){3}$/.test(h);
}

/** A safe Postgres identifier for names we generate ourselves: lowercase letters, digits, underscore. */
export function assertSafeIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsafe database name: ${JSON.stringify(name)}`);
  return name;
}

/** Double-quotes an identifier for SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
