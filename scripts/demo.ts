/**
 * `npm run demo`: the panel plus a lab of two pairs on four simulated hosts, on this machine.
 *   - `next build` first (skipped with `--no-build`, e.g. `npm run demo -- --no-build`, or in development)
 *   - the embedded Postgres (data in .data/, or DATABASE_URL when set), migrated
 *   - four real agents (simulated VIP driver; each restarts its failed server and tells it backup),
 *     each supervising a real simulated SIP Server on 127.0.0.1 (fixed demo ports below)
 *   - hosts and pairs configured in the database, created or updated by name (audited)
 *   - the panel (server.ts, with the controller) on PORT (default 3000)
 * Prints the URL and the admin credentials: ADMIN_PASSWORD when set (never printed), else a generated
 * password (printed, and kept in dist/demo/secrets.json for the next run).
 * SIGINT (Ctrl-C) or SIGTERM to this process stops every child it started — the build, the panel, the
 * agents and their simulated SIP Servers, the embedded Postgres — and exits. `npm run demo` execs this
 * process, so npm's forwarded signal reaches it.
 * `npm run demo:dev` runs Next in development mode (hot reload, slower first page loads).
 * DEMO_PORT_OFFSET moves the fixed agent and SIP ports (tests run a demo beside a developer's);
 * DEMO_DIR moves dist/demo.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { DatabaseHandle } from "@/lib/db/bootstrap";
import { log } from "@/lib/log";
import type { SimHost } from "../bench/simlab";

const repoRoot = path.resolve(import.meta.dirname, "..");
const PORT = Number(process.env.PORT ?? 3000);
const OFFSET = Number(process.env.DEMO_PORT_OFFSET ?? 0);
/**
 * Fixed demo ports: agents 14991-14994, their metrics 14981-14984, SIP 15061-15064 (UDP), sim control
 * 15161-15164 (+ DEMO_PORT_OFFSET).
 */
const HOSTS = [
  { name: "host-a1", pair: "pair-a", mode: "primary" as const, n: 1 },
  { name: "host-a2", pair: "pair-a", mode: "backup" as const, n: 2 },
  { name: "host-b1", pair: "pair-b", mode: "primary" as const, n: 3 },
  { name: "host-b2", pair: "pair-b", mode: "backup" as const, n: 4 },
];
/** Lab addresses come from 198.18.0.0/24 only (the project's rule, even with the simulated driver). */
const VIPS: Record<string, string> = { "pair-a": "198.18.0.110", "pair-b": "198.18.0.120" };

/** Everything this process started, so that a signal at any moment of the start-up stops all of it. */
const children: ChildProcess[] = [];
const hosts: SimHost[] = [];
let database: DatabaseHandle | undefined;
let stopping = false;

const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => {});
  stopping = true;
  process.stdout.write("\nstopping the demo...\n");
  for (const c of children) if (alive(c)) c.kill("SIGTERM");
  await Promise.all(
    children.map((c) =>
      alive(c)
        ? Promise.race([
            new Promise((r) => c.once("exit", r)),
            new Promise((r) => setTimeout(() => (alive(c) && c.kill("SIGKILL"), r(null)), 20_000).unref()),
          ])
        : null,
    ),
  );
  for (const h of hosts) await h.stop().catch(() => undefined);
  const { closeDbQuietly } = await import("../bench/simlab");
  await closeDbQuietly().catch(() => undefined);
  await database?.stop().catch(() => undefined);
  process.exit(code);
}

// Before anything starts: a signal during the build or the lab's start-up stops what has started so far.
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

function run(cmd: string, args: string[]): Promise<void> {
  const c = spawn(cmd, args, { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"] });
  children.push(c);
  return new Promise((resolve, reject) =>
    c.on("exit", (code, sig) => (code === 0 ? resolve() : stopping ? undefined : reject(new Error(`${path.basename(cmd)} ${args.join(" ")} failed (${code ?? sig})`)))),
  );
}

async function main() {
  // Bundles, agent configs and state, demo secrets: under dist/ (gitignored), not in the Postgres data folder.
  const production = (process.env.NODE_ENV ?? "production") === "production";
  if (production && !process.argv.includes("--no-build")) {
    log.info("demo: building the panel (next build)", {});
    await run(path.join(repoRoot, "node_modules/.bin/next"), ["build"]);
  }
  const { buildBinaries, closeDbQuietly, configureLab, db, startSimHost } = await import("../bench/simlab");
  const { initDatabase } = await import("@/lib/db/bootstrap");
  const demoDir = path.resolve(process.env.DEMO_DIR ?? path.join(repoRoot, "dist", "demo"));
  mkdirSync(demoDir, { recursive: true, mode: 0o700 });
  const secretsFile = path.join(demoDir, "secrets.json");
  const saved: { agentToken?: string; adminPassword?: string } = existsSync(secretsFile) ? JSON.parse(readFileSync(secretsFile, "utf8")) : {};
  const secrets = { agentToken: saved.agentToken ?? randomBytes(24).toString("hex"), adminPassword: saved.adminPassword ?? randomBytes(9).toString("base64url") };
  writeFileSync(secretsFile, JSON.stringify(secrets), { mode: 0o600 });
  // The operator's choice wins; only a password this script generated is ever printed.
  const givenPassword = process.env.ADMIN_PASSWORD || undefined;
  const adminPassword = givenPassword ?? secrets.adminPassword;

  database = await initDatabase({ log });
  if (stopping) return;
  const existingAdmin = await db.user.findFirst({ where: { username: process.env.ADMIN_USERNAME ?? "admin" } });

  log.info("demo: building agent and sim", {});
  const bins = await buildBinaries(path.join(demoDir, "bin"));

  try {
    for (const h of HOSTS) {
      if (stopping) return;
      const spec = { name: h.name, agentPort: OFFSET + 14990 + h.n, metricsPort: OFFSET + 14980 + h.n, sipPort: OFFSET + 15060 + h.n, controlPort: OFFSET + 15160 + h.n, vipAddress: VIPS[h.pair], mode: h.mode };
      // Known from its spawn on, so that a signal before it listens stops it (and its server) too.
      await startSimHost(spec, bins, path.join(demoDir, "hosts"), secrets.agentToken, true, (host) => hosts.push(host));
    }
    await configureLab(
      ["pair-a", "pair-b"].map((p) => ({ name: p, vipAddress: VIPS[p], hosts: hosts.filter((h) => HOSTS.find((x) => x.name === h.spec.name)!.pair === p) as [SimHost, SimHost] })),
      secrets.agentToken,
    );
    await closeDbQuietly();
  } catch (err) {
    if (stopping) return;
    log.error("demo: could not start the lab", { err });
    await stopAll(1);
  }
  if (stopping) return;

  const server = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "server.ts")], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: database!.url, PORT: String(PORT), ADMIN_USERNAME: process.env.ADMIN_USERNAME ?? "admin", ADMIN_PASSWORD: adminPassword, NODE_ENV: process.env.NODE_ENV ?? "production" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(server);
  server.on("exit", (code) => void stopAll(code ?? 1));
  server.stdout!.on("data", (d: Buffer) => {
    if (process.env.DEMO_VERBOSE) process.stdout.write(d);
  });
  // Announced once the panel answers (its log says "listening" before the database and Next are ready).
  for (;;) {
    if (stopping) return;
    const ok = await fetch(`http://127.0.0.1:${PORT}/api/health`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const createdByDemo = existsSync(path.join(demoDir, ".admin-created-by-demo"));
  const username = process.env.ADMIN_USERNAME ?? "admin";
  const who = !existingAdmin
    ? `  admin user:  ${username}\n  password:    ${givenPassword ? "the one in ADMIN_PASSWORD" : adminPassword}`
    : createdByDemo && !givenPassword
      ? `  admin user:  ${username}\n  password:    ${secrets.adminPassword}`
      : `  admin user:  ${existingAdmin.username} (exists already: its password is unchanged${givenPassword ? "; ADMIN_PASSWORD applies when the admin is first created" : ""})`;
  if (!existingAdmin) writeFileSync(path.join(demoDir, ".admin-created-by-demo"), "");
  process.stdout.write(
    [
      "",
      "Switchyard demo is running",
      `  panel:       http://localhost:${PORT}`,
      who,
      `  lab:         pair-a (host-a1, host-a2; VIP ${VIPS["pair-a"]}), pair-b (host-b1, host-b2; VIP ${VIPS["pair-b"]})`,
      `               agents on 127.0.0.1:${OFFSET + 14991}-${OFFSET + 14994} (metrics: http://127.0.0.1:${OFFSET + 14981}-${OFFSET + 14984}/metrics), simulated SIP Servers on UDP 127.0.0.1:${OFFSET + 15061}-${OFFSET + 15064}`,
      "  try:         a switchover from the pair page, or kill -9 a primary SIP Server and watch the failover",
      `  stop:        Ctrl-C or kill ${process.pid} (stops the panel, the agents, the simulated SIP Servers and the embedded Postgres)`,
      "",
    ].join("\n") + "\n",
  );
}

main().catch((err) => {
  console.error(err);
  void stopAll(1);
});
