/**
 * `npm run demo`: the panel plus a lab of two pairs on four simulated hosts, on this machine.
 *   - the embedded Postgres (data in .data/, or DATABASE_URL when set), migrated
 *   - four real agents (simulated VIP driver; each restarts its failed server and tells it backup),
 *     each supervising a real simulated SIP Server on 127.0.0.1 (fixed demo ports below)
 *   - hosts and pairs configured in the database, created or updated by name (audited)
 *   - the panel (server.ts, with the controller) on PORT (default 3000)
 * Prints the URL and the admin credentials. Ctrl-C stops every child.
 * `npm run demo` builds the panel first and runs it in production mode; `npm run demo:dev` runs Next in
 * development mode (hot reload, slower first page loads).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { initDatabase } from "@/lib/db/bootstrap";
import { log } from "@/lib/log";
import { buildBinaries, closeDbQuietly, configureLab, db, repoRoot, startSimHost, type SimHost } from "../bench/simlab";

const PORT = Number(process.env.PORT ?? 3000);
/** Fixed demo ports: agents 14991-14994, SIP 15061-15064 (UDP), sim control 15161-15164. */
const HOSTS = [
  { name: "host-a1", pair: "pair-a", mode: "primary" as const, n: 1 },
  { name: "host-a2", pair: "pair-a", mode: "backup" as const, n: 2 },
  { name: "host-b1", pair: "pair-b", mode: "primary" as const, n: 3 },
  { name: "host-b2", pair: "pair-b", mode: "backup" as const, n: 4 },
];
/** Lab addresses come from 198.18.0.0/24 only (the project's rule, even with the simulated driver). */
const VIPS: Record<string, string> = { "pair-a": "198.18.0.110", "pair-b": "198.18.0.120" };

async function main() {
  // Bundles, agent configs and state, demo secrets: under dist/ (gitignored), not in the Postgres data folder.
  const demoDir = path.join(repoRoot, "dist", "demo");
  mkdirSync(demoDir, { recursive: true, mode: 0o700 });
  const secretsFile = path.join(demoDir, "secrets.json");
  const secrets: { agentToken: string; adminPassword: string } = existsSync(secretsFile)
    ? JSON.parse(readFileSync(secretsFile, "utf8"))
    : { agentToken: randomBytes(24).toString("hex"), adminPassword: randomBytes(9).toString("base64url") };
  writeFileSync(secretsFile, JSON.stringify(secrets), { mode: 0o600 });

  const database = await initDatabase({ log });
  const existingAdmin = await db.user.findFirst({ where: { username: process.env.ADMIN_USERNAME ?? "admin" } });

  log.info("demo: building agent and sim", {});
  const bins = await buildBinaries(path.join(demoDir, "bin"));
  const hosts: SimHost[] = [];
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("\nstopping the demo...\n");
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once("exit", r)))));
    for (const h of hosts) await h.stop();
    await closeDbQuietly();
    await database.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  try {
    for (const h of HOSTS) {
      hosts.push(
        await startSimHost(
          { name: h.name, agentPort: 14990 + h.n, sipPort: 15060 + h.n, controlPort: 15160 + h.n, vipAddress: VIPS[h.pair], mode: h.mode },
          bins,
          path.join(demoDir, "hosts"),
          secrets.agentToken,
        ),
      );
    }
    await configureLab(
      ["pair-a", "pair-b"].map((p) => ({ name: p, vipAddress: VIPS[p], hosts: hosts.filter((h) => HOSTS.find((x) => x.name === h.spec.name)!.pair === p) as [SimHost, SimHost] })),
      secrets.agentToken,
    );
    await closeDbQuietly();
  } catch (err) {
    log.error("demo: could not start the lab", { err });
    await stopAll(1);
  }

  const server = spawn(path.join(repoRoot, "node_modules/.bin/tsx"), [path.join(repoRoot, "server.ts")], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: database.url, PORT: String(PORT), ADMIN_USERNAME: process.env.ADMIN_USERNAME ?? "admin", ADMIN_PASSWORD: secrets.adminPassword, NODE_ENV: process.env.NODE_ENV ?? "production" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(server);
  server.on("exit", (code) => void stopAll(code ?? 1));
  let announced = false;
  server.stdout!.on("data", (d: Buffer) => {
    if (process.env.DEMO_VERBOSE) process.stdout.write(d);
    if (!announced && /listening|ready/i.test(d.toString())) {
      announced = true;
      const who = existingAdmin && !existsSync(path.join(demoDir, ".admin-created-by-demo"))
        ? `  admin user:  ${existingAdmin.username} (existed before the demo: use its password)`
        : `  admin user:  ${process.env.ADMIN_USERNAME ?? "admin"}\n  password:    ${secrets.adminPassword}`;
      if (!existingAdmin) writeFileSync(path.join(demoDir, ".admin-created-by-demo"), "");
      process.stdout.write(
        [
          "",
          "Switchyard demo is running",
          `  panel:       http://localhost:${PORT}`,
          who,
          `  lab:         pair-a (host-a1, host-a2; VIP ${VIPS["pair-a"]}), pair-b (host-b1, host-b2; VIP ${VIPS["pair-b"]})`,
          "               agents on 127.0.0.1:14991-14994, simulated SIP Servers on UDP 127.0.0.1:15061-15064",
          "  try:         a switchover from the pair page, or kill -9 a primary SIP Server and watch the failover",
          "  stop:        Ctrl-C (stops the panel, the agents and the simulated SIP Servers)",
          "",
        ].join("\n") + "\n",
      );
    }
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
