// Starts the real panel (server.ts, NODE_ENV=production) on a free port for integration tests.
//
//   const srv = await startServer();            // own fresh database, admin user, admin API token
//   await fetch(`${srv.url}/api/pairs`, { headers: { authorization: `Bearer ${srv.adminToken}` } });
//   await srv.stop();
//
// Needs a production build: `flock /tmp/switchyard-next.lock npx next build` (ensureNextBuild() runs it
// only when .next/BUILD_ID is missing; rebuilding under a running server would break that server).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, type TestDatabase } from "./db";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const BUILD_ID = path.join(REPO_ROOT, ".next", "BUILD_ID");
const TSX = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");

export interface StartServerOptions {
  /** Extra environment for the server (PORT, HOST, NODE_ENV and DATABASE_URL are set unless given here). */
  env?: Record<string, string | undefined>;
  /** Use this database instead of a fresh one (a fresh one is created, migrated and dropped on stop). */
  databaseUrl?: string;
  /** Create an admin API token after start (default true). */
  adminToken?: boolean;
  /** Milliseconds to wait for /api/health to answer db "ok" (default 60 s). */
  timeoutMs?: number;
}

export interface StartedServer {
  url: string;
  port: number;
  databaseUrl: string;
  adminUsername: string;
  adminPassword: string;
  /** Admin API token (`sy_...`), unless `adminToken: false`. */
  adminToken?: string;
  /** Everything the server printed so far (stdout + stderr). */
  output(): string;
  process: ChildProcess;
  /** SIGTERM, wait for exit (SIGKILL after 15 s), drop the fresh database. Returns the exit code. */
  stop(): Promise<number | null>;
}

export function hasNextBuild(): boolean {
  return existsSync(BUILD_ID);
}

/** Runs `next build` under the shared lock when no production build exists. */
export function ensureNextBuild(): void {
  if (hasNextBuild()) return;
  const r = spawnSync("flock", ["/tmp/switchyard-next.lock", "npx", "next", "build"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0 || !hasNextBuild()) {
    throw new Error(`next build failed (exit ${r.status}):\n${(r.stdout ?? "").slice(-3000)}\n${(r.stderr ?? "").slice(-3000)}`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startServer(opts: StartServerOptions = {}): Promise<StartedServer> {
  if (!hasNextBuild()) {
    throw new Error(
      `no production build (${BUILD_ID} is missing): run \`flock /tmp/switchyard-next.lock npx next build\` ` +
        "in the repository first, or call ensureNextBuild() in beforeAll",
    );
  }
  let fresh: TestDatabase | undefined;
  const databaseUrl = opts.databaseUrl ?? (fresh = await createTestDatabase()).url;
  const port = await freePort();
  const adminUsername = "admin";
  const adminPassword = `pw-${randomBytes(12).toString("hex")}`;
  const env: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: "production",
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    ADMIN_USERNAME: adminUsername,
    ADMIN_PASSWORD: adminPassword,
    LOG_LEVEL: "info",
    NEXT_TELEMETRY_DISABLED: "1",
    ...opts.env,
  };
  let out = "";
  const child = spawn(TSX, ["server.ts"], { cwd: REPO_ROOT, env: env as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));

  const url = `http://127.0.0.1:${env.PORT}`;
  const stop = async () => {
    if (!done) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(t);
    }
    await fresh?.drop().catch(() => undefined);
    return child.exitCode;
  };

  try {
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
      if (done) throw new Error(`server exited during start-up (code ${child.exitCode})`);
      try {
        const r = await fetch(`${url}/api/health`);
        if (r.ok && (await r.json()).db === "ok") break;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error("server did not answer /api/health in time");
      await new Promise((r) => setTimeout(r, 250));
    }
    let adminToken: string | undefined;
    if (opts.adminToken !== false) adminToken = await createAdminToken(url, adminUsername, String(env.ADMIN_PASSWORD));
    return { url, port, databaseUrl, adminUsername, adminPassword: String(env.ADMIN_PASSWORD), adminToken, output: () => out, process: child, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- server output ---\n${out.slice(-4000)}`);
  }
}

/** Logs in with username/password and creates an admin API token through the API. */
export async function createAdminToken(url: string, username: string, password: string, name = `test-${randomBytes(3).toString("hex")}`): Promise<string> {
  const login = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url },
    body: JSON.stringify({ username, password }),
  });
  if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
  const res = await fetch(`${url}/api/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url, cookie },
    body: JSON.stringify({ name, role: "admin" }),
  });
  if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${await res.text()}`);
  return (await res.json()).token.token as string;
}
