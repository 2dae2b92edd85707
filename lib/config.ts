/**
 * Every environment variable the panel and its controller read: one table, with each variable's default
 * and meaning, parsed once with zod. A bad value stops the start with a message naming the variable
 * (server.ts calls loadConfig() first). docs/configuration.md shows the same table (a unit test keeps
 * them in step). The host agent is configured by its own file (agent/config.ts), not by these.
 *
 * DATABASE_URL here is what the operator set. The URL in use — the embedded Postgres's when it is unset —
 * is written back to process.env.DATABASE_URL by lib/db/bootstrap.ts, so that every module graph of the
 * process (Next's route handlers, the controller's thread) connects to the same database. LOG_LEVEL is
 * validated here and applied by lib/log.ts itself (the logger imports nothing: the agent shares it).
 */
import ms from "ms";
import { z } from "zod";
import { NewPassword, Username } from "./validation/users";

/** "30m", "12h", "2d", "45s", "500ms" (the `ms` library), or a plain number of seconds. */
const duration = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : ms(v as ms.StringValue);
    if (typeof n !== "number" || !Number.isFinite(n) || n <= 0) {
      ctx.addIssue({ code: "custom", message: `expected a duration such as 30m, 12h, 2d or a number of seconds (got "${v}")` });
      return z.NEVER;
    }
    return Math.round(n);
  });
const int = (min: number, max: number) => z.string().trim().regex(/^\d+$/, "expected a whole number").transform(Number).pipe(z.number().int().min(min).max(max));
const flag = z.enum(["1", "true", "0", "false", ""]).transform((v) => v === "1" || v === "true");
const origin = z.url({ protocol: /^https?$/, error: "expected an origin such as https://switchyard.example.com" });

/** name → [schema of the raw string, default (raw, as an operator would write it), meaning]. */
export const VARIABLES = {
  PORT: [int(0, 65535), "3000", "HTTP port for the panel, its API and socket.io (one port)."],
  HOST: [z.string().trim().min(1), "0.0.0.0", "Address to listen on (127.0.0.1 to keep it local)."],
  NODE_ENV: [z.enum(["development", "production", "test"]), "development", "Next in development (HMR) or production mode; `npm start` sets production."],
  DATABASE_URL: [z.string().trim().optional(), undefined, "postgres://user:password@host:5432/db of an external Postgres, as the user that owns the tables: migrations are applied as this user at start-up, and the panel itself then connects as DATABASE_APP_URL. Unset: an embedded Postgres in SWITCHYARD_DATA_DIR."],
  DATABASE_APP_URL: [z.string().trim().optional(), undefined, "postgres://role:password@host:5432/db of the role the panel, its controller and the realtime adapter connect as at run time: it owns nothing, reads and writes rows, and may only append audit events. Unset: start-up creates `<database>_app` with a password derived from DATABASE_URL's (needs CREATEROLE), or, when DATABASE_URL's user may not create roles, warns and runs as that user. Set it to a role you created; its privileges are granted at each start. See docs/database.md."],
  DATABASE_POOL_MAX: [int(1, 1000), "10", "Connections in the web side's pool (API, audit). The controller's thread has its own pool of the same size plus its dedicated connections (leader lock, hot path, status)."],
  SWITCHYARD_DATA_DIR: [z.string().trim().optional(), undefined, "Folder of the embedded Postgres and, unless AUDIT_KEY_FILE and AUDIT_CHECKPOINT_FILE say otherwise, of the audit key and checkpoints (default: .data in the repository)."],
  AUDIT_KEY_FILE: [z.string().trim().optional(), undefined, "The audit key (created with mode 600 on first start; the database never sees it): every audit row carries its HMAC and every checkpoint is signed with it. Default: audit.key in SWITCHYARD_DATA_DIR (.data). Back it up: without it the chain no longer verifies."],
  AUDIT_CHECKPOINT_FILE: [z.string().trim().optional(), undefined, "Append-only file of signed checkpoints of the audit chain's head (written at most once a second after commits, and at shutdown); verify names rows deleted or changed behind them. Default: audit-checkpoints.log in SWITCHYARD_DATA_DIR (.data). Keep it where the database's owner cannot write."],
  SWITCHYARD_JOURNAL_DIR: [z.string().trim().optional(), undefined, "Folder of the controller's journal: what it must write while the database cannot be reached (operations, steps, audit, alarms), kept until the database is back and written to it in order. Default: journal in SWITCHYARD_DATA_DIR (.data). Local disk, one per panel host."],
  ADMIN_USERNAME: [Username, "admin", "Name of the admin created on first start (only when no admin exists)."],
  ADMIN_PASSWORD: [NewPassword.optional(), undefined, "Password of that first admin; unset: a random one is printed once to the console. Ignored once an admin exists."],
  HTTP_REQUEST_TIMEOUT: [duration, "30s", "Time to receive a whole request, headers and body (Node's requestTimeout, checked every second); then 408 and the connection is closed, so a body trickling in cannot hold a connection. It ends when the request has arrived: socket.io long-polling, websockets and streamed responses (the audit export) are not affected. Request bodies are at most 256 kB (413)."],
  HTTP_HEADERS_TIMEOUT: [duration, "10s", "Time to receive a request's headers (Node's headersTimeout; at most HTTP_REQUEST_TIMEOUT)."],
  SESSION_TTL: [duration, "12h", "Sliding session lifetime; each request extends it."],
  LOGIN_RATE_LIMIT: [int(1, 1000), "5", "Sign-in attempts per username + client IP within LOGIN_RATE_WINDOW, counted before the password is checked (a successful one is taken back); then 429 with Retry-After."],
  LOGIN_IP_RATE_LIMIT: [int(1, 100000), "30", "Sign-in attempts per client IP within LOGIN_RATE_WINDOW across usernames (one address trying many names); then 429. Behind a proxy without TRUST_PROXY every client shares the proxy's address and so this budget."],
  LOGIN_RATE_WINDOW: [duration, "1m", "Window of those limits: fixed windows by the database's clock, shared by every panel instance through Postgres (table LoginThrottle). Set it alike on every instance. Failed sign-ins are audited once per username + IP when the first happens and summarised when the window ends."],
  PUBLIC_ORIGIN: [origin.optional(), undefined, "The URL users open, e.g. https://switchyard.example.com: allowed as Origin of state-changing requests; https:// also marks the session cookie Secure."],
  ALLOWED_ORIGINS: [z.string().optional(), undefined, "More allowed origins, comma separated. The request's own origin is always allowed."],
  TRUST_PROXY: [flag, "0", "1 behind a reverse proxy that sets them: X-Forwarded-For (the client IP, for the login limiter), X-Forwarded-Host and X-Forwarded-Proto (the request's own origin for the Origin check, https for the cookie's Secure flag) are believed. Unset: they are dropped on arrival; the client IP is the connection's, the origin the Host header with http."],
  LOG_LEVEL: [z.enum(["debug", "info", "warn", "error"]), "info", "debug, info, warn or error. JSON lines on stdout; secret-looking keys are redacted."],
  REALTIME_ADAPTER: [z.enum(["memory", "postgres"]), "memory", "memory: one panel instance. postgres: several instances on one database (broadcasts relayed through Postgres on a pool of 3 of their own)."],
  METRICS_LISTEN: [
    z.string().trim().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "expected host:port, e.g. 127.0.0.1:9464").optional(),
    undefined,
    "host:port of a second listener that serves GET /metrics WITHOUT authentication (bind it to a management network or 127.0.0.1). Unset: /metrics is served only on PORT, to a viewer's API token (Prometheus: authorization credentials_file).",
  ],
  SWITCHYARD_CONTROLLER: [z.enum(["on", "off"]), "on", "off: this instance runs no controller (UI and API only; requests reach the leader through the database). `npm run controller` runs one apart."],
} as const satisfies Record<string, readonly [z.ZodType<unknown, string | undefined>, string | undefined, string]>;

type Vars = typeof VARIABLES;
export type Config = { readonly [K in keyof Vars]: z.output<Vars[K][0]> };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment; throws ConfigError naming every bad variable. Empty values count as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, [schema, def]] of Object.entries(VARIABLES) as [string, Vars[keyof Vars]][]) {
    const given = env[name];
    const raw = given === undefined || given.trim() === "" ? def : given;
    const r = (schema as z.ZodType<unknown>).safeParse(raw);
    if (r.success) out[name] = r.data;
    else problems.push(`${name}=${JSON.stringify(given)}: ${r.error.issues[0]?.message ?? "invalid"}`);
  }
  if (problems.length) throw new ConfigError(problems);
  return out as Config;
}

/** docs/configuration.md's table of the variables, generated from VARIABLES (`npm run docs:config` writes it there). */
export function variablesTable(): string {
  const rows = Object.entries(VARIABLES).map(([name, [, def, meaning]]) => `| \`${name}\` | ${def === undefined ? "unset" : `\`${def}\``} | ${meaning} |`);
  return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n");
}

let cached: Config | null = null;

/** The configuration of this process (parsed on first use; server.ts has validated it at start-up). */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
