/**
 * `npm run lab` (root only): a real network lab with the panel in the root namespace and a real agent in
 * each of two host namespaces, each agent managing a simulated SIP Server bound to its own address and to
 * the VIP, the VIP moved with the linux driver (ip addr add/del on eth0 + gratuitous ARP), one pair
 * configured through the HTTP API, and a client namespace to probe the VIP from. Ctrl-C tears it all down.
 *
 *   sudo npm run lab [-- --port 3000 --prefix syl --watch --build --dev --verbose]
 *
 *   --watch   probe the VIP from the client namespace every 50 ms and print each change of answer
 *   --build   run `next build` even if a build exists (otherwise only when .next/BUILD_ID is missing)
 *   --dev     run the panel in development mode (no build needed; pages compile on first request)
 *   --verbose the panel's log on this terminal instead of <lab dir>/server.log
 *   --sip kamailio  supervise a real Kamailio (examples/kamailio/kamailio.cfg, lab/kamailio.app.yaml)
 *             instead of the simulated SIP Server (`--sip sim`, the default); needs `apt-get install kamailio`
 *
 * Environment: SY_LAB_PREFIX, SY_LAB_* addresses (see scripts/lab.sh), DATABASE_URL (else a throwaway
 * embedded Postgres in the lab's temp folder), LAB_ADMIN_USERNAME / LAB_ADMIN_PASSWORD (else admin and a
 * random password, printed), PORT.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, openSync, closeSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { z } from "zod";
import { labPairBody, PanelApi } from "./api";
import { exec, Lab, REPO, randomToken, sleep, tail, waitFor, type HostNode } from "./harness";

const log = (level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}) =>
  process.stderr.write(JSON.stringify({ t: new Date().toISOString(), level, src: "lab", msg, ...fields }) + "\n");

const Args = z.object({
  port: z.coerce.number().int().min(0).max(65535).optional(),
  prefix: z.string().regex(/^[a-z][a-z0-9]{1,8}$/, "2-9 lowercase letters/digits, starting with a letter").default(process.env.SY_LAB_PREFIX || "syl"),
  watch: z.boolean().default(false),
  build: z.boolean().default(false),
  verbose: z.boolean().default(false),
  dev: z.boolean().default(false),
  sip: z.enum(["sim", "kamailio"]).default("sim"),
});

function freePort(preferred: number): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => {
      const t = net.createServer();
      t.listen(0, "127.0.0.1", () => {
        const p = (t.address() as net.AddressInfo).port;
        t.close(() => resolve(p));
      });
    });
    s.listen(preferred, "0.0.0.0", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function ensureBuild(force: boolean): Promise<void> {
  if (!force && existsSync(path.join(REPO, ".next", "BUILD_ID"))) return;
  log("info", "building the panel (next build)");
  const r = await exec("flock", ["/tmp/switchyard-next.lock", path.join(REPO, "node_modules", ".bin", "next"), "build"], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`next build failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write(
      "npm run lab needs root: it creates network namespaces, moves an IP address between them and sends\n" +
        "gratuitous ARPs (ip, arping, nft). Run it as root, e.g.  sudo npm run lab\n" +
        "(Without root, `npm run demo` runs the same panel and agents with a simulated VIP.)\n",
    );
    return 1;
  }
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      prefix: { type: "string" },
      watch: { type: "boolean" },
      build: { type: "boolean" },
      verbose: { type: "boolean" },
      dev: { type: "boolean" },
      sip: { type: "string" },
    },
  });
  const parsed = Args.safeParse(values);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    process.stderr.write(`npm run lab: --${String(i.path[0])}: ${i.message}\n`);
    return 2;
  }
  const args = parsed.data;
  if (args.sip === "kamailio" && (await exec("sh", ["-c", "command -v kamailio"])).code !== 0)
    throw new Error("--sip kamailio: kamailio not found (apt-get install -y kamailio)");
  for (const tool of ["ip", "arping", "nft"]) {
    if ((await exec("sh", ["-c", `command -v ${tool}`])).code !== 0)
      throw new Error(`${tool} not found: install iproute2, iputils-arping and nftables (apt-get install -y iproute2 iputils-arping nftables sip-tester)`);
  }
  // Refuse to clobber a running lab of the same prefix (scripts/lab.sh setup would tear it down).
  const existing = (await exec("ip", ["netns", "list"])).stdout.split("\n").map((l) => l.split(" ")[0]).filter((n) => n?.startsWith(`${args.prefix}-`));
  for (const ns of existing) {
    const pids = (await exec("ip", ["netns", "pids", ns!])).stdout.trim();
    if (pids) throw new Error(`a lab with prefix ${args.prefix} is already running (processes ${pids.replace(/\s+/g, " ")} in ${ns}); stop it, or run: scripts/lab.sh teardown (SY_LAB_PREFIX=${args.prefix}), or use --prefix`);
  }

  let server: ChildProcess | undefined;
  let lab: Lab | undefined;
  let dbDir: string | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = (why: string) =>
    (stopping ??= (async () => {
      log("info", "stopping the lab", { why });
      if (server && server.exitCode === null && server.signalCode === null) {
        server.kill("SIGTERM");
        const exited = new Promise((r) => server!.once("exit", r));
        if ((await Promise.race([exited.then(() => true), sleep(12_000).then(() => false)])) === false) server.kill("SIGKILL");
      }
      // An embedded Postgres left behind by a killed server: stop it by the PID in its postmaster.pid.
      if (dbDir) {
        try {
          const pid = Number(readFileSync(path.join(dbDir, "postmaster.pid"), "utf8").split("\n")[0]);
          if (pid > 0) {
            process.kill(pid, "SIGINT");
            await waitFor("embedded postgres to stop", () => !existsSync(path.join(dbDir!, "postmaster.pid")), 10_000).catch(() => process.kill(pid, "SIGKILL"));
          }
        } catch {
          /* not running */
        }
      }
      if (lab) await lab.teardown();
      // Interrupted while the namespaces were being built: lab.sh waits for setup's lock, then removes them.
      else await exec("bash", [path.join(REPO, "scripts", "lab.sh"), "teardown"], { env: { ...process.env, SY_LAB_PREFIX: args.prefix } });
      log("info", "lab stopped: processes killed, namespaces deleted", { prefix: args.prefix });
    })());
  let interrupted = false;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.on(sig, () => {
      interrupted = true;
      void stopAll(sig).then(() => process.exit(0));
    });

  try {
    if (!args.dev) await ensureBuild(args.build);
    lab = await Lab.setup({ prefix: args.prefix, log: (m, f) => log("info", m, f), sessionLockWaitMs: 3000 });
    chmodSync(lab.workDir, 0o755); // the embedded Postgres runs as the postgres user and needs to reach its folder
    const token = randomToken();
    await Promise.all([
      lab.startAgent({ host: "host1", token, autostartMode: "primary", sip: args.sip }),
      lab.startAgent({ host: "host2", token, autostartMode: "backup", sip: args.sip }),
    ]);
    if (interrupted) return 0;

    const port = await freePort(args.port ?? Number(process.env.PORT ?? 3000));
    const adminUser = process.env.LAB_ADMIN_USERNAME || "admin";
    const adminPassword = process.env.LAB_ADMIN_PASSWORD || randomToken().slice(0, 20);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: args.dev ? "development" : "production",
      PORT: String(port),
      HOST: "0.0.0.0",
      ADMIN_USERNAME: adminUser,
      ADMIN_PASSWORD: adminPassword,
      PUBLIC_ORIGIN: process.env.PUBLIC_ORIGIN ?? `http://localhost:${port}`,
      ALLOWED_ORIGINS: [process.env.ALLOWED_ORIGINS, `http://127.0.0.1:${port}`].filter(Boolean).join(","),
    };
    if (!process.env.DATABASE_URL) {
      dbDir = path.join(lab.workDir, "db");
      mkdirSync(dbDir, { recursive: true });
      env.SWITCHYARD_DATA_DIR = dbDir;
    }
    const serverLog = path.join(lab.workDir, "server.log");
    const fd = args.verbose ? undefined : openSync(serverLog, "a");
    server = spawn(process.execPath, ["--import", "tsx", path.join(REPO, "server.ts")], {
      cwd: REPO,
      env,
      stdio: fd === undefined ? ["ignore", "inherit", "inherit"] : ["ignore", fd, fd],
    });
    if (fd !== undefined) closeSync(fd);
    server.once("exit", (code, sig) => {
      if (!stopping) {
        log("error", "the panel server exited", { code, signal: sig, log: serverLog, tail: fd !== undefined ? tail(serverLog, 15) : undefined });
        void stopAll("server exited").then(() => process.exit(1));
      }
    });
    const base = `http://127.0.0.1:${port}`;
    const api = new PanelApi(base);
    await waitFor("the panel to answer", async () => (await api.request("GET", "/api/auth/me")).status > 0, 120_000, 250);
    if (interrupted) return 0;
    try {
      await api.login(adminUser, adminPassword);
    } catch (e) {
      throw new Error(`cannot log in as ${adminUser} (${(e as Error).message}). With an existing DATABASE_URL, set LAB_ADMIN_USERNAME and LAB_ADMIN_PASSWORD to an admin of that database.`);
    }

    // Hosts and the pair, through the API (reused and updated if a previous run left them in DATABASE_URL).
    const hostIds: Record<HostNode, string> = { host1: "", host2: "" };
    const known = await api.hosts().catch(() => []);
    for (const h of ["host1", "host2"] as const) {
      const name = `lab-${h}`;
      const body = { name, address: lab.addr[h], agentUrl: lab.agents.get(h)!.url, agentToken: token };
      const found = known.find((x) => x.name === name);
      if (found) {
        await api.updateHost(found.id, { address: body.address, agentUrl: body.agentUrl, agentToken: token });
        hostIds[h] = found.id;
      } else hostIds[h] = (await api.createHost(body)).id;
    }
    const pairs = await api.pairs().catch(() => []);
    let pair = pairs.find((p) => p.name === "lab");
    if (!pair)
      pair = await api.createPair(
        labPairBody(lab, hostIds, "lab", { autoFailover: true, disconnectGraceSeconds: 2, heartbeatTimeoutMs: 1500, holdDownSeconds: 30 }),
      );
    const view = await waitFor(
      "the controller to see both agents",
      async () => {
        const v = await api.pair(pair!.id);
        return v?.servers?.every((s) => s.agentConnected) ? v : null;
      },
      30_000,
      250,
    ).catch((e: Error) => {
      log("warn", "the pair is configured but the controller does not report both agents yet", { error: e.message });
      return null;
    });
    const holders = await lab.vipHolders();
    const P = lab.prefix;
    const vip = lab.addr.vip;
    const box = [
      `Switchyard network lab is up (prefix ${P}, namespaces ${P}-host1 ${P}-host2 ${P}-client ${P}-br)${args.sip === "kamailio" ? ", SIP server: Kamailio" : ""}`,
      ``,
      `  Panel:     http://localhost:${port}`,
      `  Username:  ${adminUser}`,
      `  Password:  ${adminPassword}`,
      ``,
      `  Pair "lab": sip-1 on lab-host1 (${lab.addr.host1}), sip-2 on lab-host2 (${lab.addr.host2}), VIP ${vip}/${lab.addr.prefixLen} on eth0`,
      `  VIP now on: ${holders.join(", ") || "nobody"}${view ? `   (panel: ${view.status}, holder ${view.vipHolder ?? "none"})` : ""}`,
      ``,
      `  Probe the VIP from the client (in another terminal, as root):`,
      `    ip netns exec ${P}-client node_modules/.bin/tsx lab/probe.ts watch --target ${vip}:5060`,
      `    ip netns exec ${P}-client sipp -sf lab/options.xml -m 1 -t u1 -i ${lab.addr.client} -p 0 -nostdin -timeout 3s -timeout_error ${vip}:5060`,
      `  Faults:`,
      args.sip === "kamailio"
        ? `    kill -9 the primary's Kamailio:    kill -9 $(ip netns pids ${P}-host1 | xargs ps -o pid=,pgid=,comm= -p | awk '$1==$2 && $3=="kamailio"{print $1}')`
        : `    kill -9 the primary's SIP Server:  kill -9 $(ip netns pids ${P}-host1 | xargs ps -o pid=,args= -p | awk '/sim\\/main.ts/{print $1}')`,
      `    cut host1 from the panel only:     SY_LAB_PREFIX=${P} scripts/lab.sh cut host1   (restore: ... restore host1)`,
      `    who holds the VIP:                 SY_LAB_PREFIX=${P} scripts/lab.sh status`,
      `  Logs: ${lab.workDir} (server.log, host1/agent.log, host2/agent.log, */state/logs/sip.log)`,
      ``,
      `  Ctrl-C stops the panel, the agents and the SIP Servers and deletes the namespaces.`,
    ];
    const width = Math.max(...box.map((l) => l.length)) + 2;
    const bar = "+" + "-".repeat(width) + "+";
    process.stdout.write("\n" + [bar, ...box.map((l) => "| " + l.padEnd(width - 1) + "|"), bar].join("\n") + "\n\n");

    if (args.watch) {
      const w = lab.spawnIn("client", process.execPath, ["--import", "tsx", path.join(REPO, "lab", "probe.ts"), "watch", "--target", `${vip}:5060`, "--bind", lab.addr.client, "--interval", "50"], { pipe: true });
      createInterface({ input: w.stdout! }).on("line", (line) => {
        try {
          const e = JSON.parse(line) as { at: string; answer: string; latencyMs: number | null; error: string | null };
          process.stdout.write(`[client → VIP ${vip}] ${e.at.slice(11, 23)}  ${e.answer}${e.latencyMs !== null ? `  (${e.latencyMs.toFixed(1)} ms)` : ""}${e.error ? `  ${e.error}` : ""}\n`);
        } catch {
          process.stdout.write(`[client → VIP] ${line}\n`);
        }
      });
    }
    await new Promise<never>(() => {}); // until a signal
    return 0;
  } catch (e) {
    log("error", (e as Error).message);
    await stopAll("error");
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    log("error", (e as Error).stack ?? String(e));
    process.exit(1);
  },
);
