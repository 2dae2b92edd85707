/**
 * A loopback lab of simulated hosts, shared by `npm run demo` and `npm run bench`: real agent processes
 * (simulated VIP driver; the agent restarts a failed server and tells it backup) supervising real
 * simulated SIP Servers on 127.0.0.1, and their configuration in the database (created or updated by
 * name, with audit rows).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { db } from "@/lib/db";
import { audited } from "@/lib/queries/tx";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export async function buildBinaries(dir: string): Promise<{ agent: string; sim: string }> {
  mkdirSync(dir, { recursive: true });
  const common = { bundle: true, platform: "node" as const, format: "esm" as const, target: "node20", logLevel: "error" as const };
  const agent = path.join(dir, "agent.mjs");
  const sim = path.join(dir, "sim.mjs");
  await Promise.all([
    build({ ...common, entryPoints: [path.join(repoRoot, "agent/main.ts")], outfile: agent, banner: { js: "import{createRequire}from'node:module';const require=createRequire(import.meta.url);" } }),
    build({ ...common, entryPoints: [path.join(repoRoot, "sim/main.ts")], outfile: sim }),
  ]);
  return { agent, sim };
}

export interface SimHostSpec {
  name: string;
  agentPort: number;
  sipPort: number;
  controlPort: number;
  vipAddress: string;
  mode: "primary" | "backup";
  /** The agent's GET /metrics port (127.0.0.1), if any. */
  metricsPort?: number;
  /** The agent's restart policy for the server (default: the agent's own, with its crash-loop rule). */
  restart?: Record<string, unknown>;
}

export interface SimHost {
  spec: SimHostSpec;
  proc: ChildProcess;
  stateDir: string;
  url: string;
  stop(): Promise<void>;
}

/** The live children of a process (Linux /proc; none elsewhere). */
function childPids(parent: number): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const d of entries) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === parent) out.push(Number(d));
    } catch {}
  }
  return out;
}

function killGroup(pid: number, sig: NodeJS.Signals) {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {}
  }
}

/**
 * Starts one agent (and through it, its simulated SIP Server). Resolves once the agent listens.
 * `onSpawn` receives the host as soon as its agent process exists (before it listens), so a caller
 * stopping meanwhile (the demo on a signal) can stop it and its server too.
 */
export async function startSimHost(
  spec: SimHostSpec,
  bins: { agent: string; sim: string },
  baseDir: string,
  token: string,
  quiet = true,
  onSpawn?: (host: SimHost) => void,
): Promise<SimHost> {
  const dir = path.join(baseDir, spec.name);
  const stateDir = path.join(dir, "state");
  mkdirSync(stateDir, { recursive: true });
  // These agents belong to whatever database this lab runs on now: the demo's may have been recreated
  // (.data removed) while its agents' state stayed, a new cluster they would refuse (FOREIGN_CLUSTER).
  const stateFile = path.join(stateDir, "state.json");
  if (existsSync(stateFile)) {
    const st = JSON.parse(readFileSync(stateFile, "utf8")) as Record<string, unknown>;
    writeFileSync(stateFile, JSON.stringify({ ...st, cluster: null, highestEpoch: 0 }), { mode: 0o600 });
  }
  const config = {
    agentId: spec.name,
    listen: { host: "127.0.0.1", port: spec.agentPort },
    tokens: [token],
    stateDir,
    heartbeat: { timeoutMs: 5000 },
    ...(spec.metricsPort ? { metrics: { listen: { host: "127.0.0.1", port: spec.metricsPort } } } : {}),
    vips: [{ name: "vip", address: spec.vipAddress, prefix: 24, interface: "lo", driver: "simulated", garp: { count: 1, intervalMs: 200 }, dad: { enabled: false } }],
    apps: [
      {
        name: "sip",
        command: process.execPath,
        args: [bins.sim, "--host-name", spec.name, "--listen", `127.0.0.1:${spec.sipPort}`, "--control", `127.0.0.1:${spec.controlPort}`],
        stopTimeoutMs: 2000,
        startTimeoutMs: 5000,
        autostart: { mode: spec.mode },
        ...(spec.restart ? { restart: spec.restart } : {}),
        modeHook: { type: "http", url: `http://127.0.0.1:${spec.controlPort}/mode`, timeoutMs: 1000 },
        probe: { type: "sip", host: "127.0.0.1", port: spec.sipPort, intervalMs: 200, timeoutMs: 150, failureThreshold: 3 },
        vip: "vip",
      },
    ],
  };
  const configFile = path.join(dir, "agent.json");
  writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  const proc = spawn(process.execPath, [bins.agent, "--config", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  const host: SimHost = {
    spec,
    proc,
    stateDir,
    url: `http://127.0.0.1:${spec.agentPort}`,
    async stop() {
      // The agent's children (its SIP Server), known before it goes: a server it started moments ago may
      // not be in its state file yet.
      const children = proc.pid ? childPids(proc.pid) : [];
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      }
      // The agent leaves its applications running by design; the lab stops them too.
      const file = path.join(stateDir, "state.json");
      if (existsSync(file)) {
        try {
          const st = JSON.parse(readFileSync(file, "utf8")) as { apps?: Record<string, { pid?: number }> };
          for (const a of Object.values(st.apps ?? {})) if (a.pid) killGroup(a.pid, "SIGKILL");
        } catch {}
      }
      for (const pid of children) killGroup(pid, "SIGKILL");
    },
  };
  onSpawn?.(host);
  await new Promise<void>((resolve, reject) => {
    let buf = "";
    const t = setTimeout(() => reject(new Error(`agent ${spec.name} did not start within 10 s`)), 10_000);
    proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      if (!quiet) process.stdout.write(d);
      if (buf.includes('"agent listening"')) {
        clearTimeout(t);
        resolve();
      }
      if (buf.length > 100_000) buf = buf.slice(-1000);
    });
    proc.stderr!.on("data", (d: Buffer) => process.stderr.write(`[${spec.name}] ${d}`));
    proc.on("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`agent ${spec.name} exited with ${code}`));
    });
  });
  proc.removeAllListeners("exit");
  return host;
}

export interface PairSpec {
  name: string;
  vipAddress: string;
  hosts: [SimHost, SimHost];
  policy?: Partial<{ disconnectGraceSeconds: number; heartbeatTimeoutMs: number; holdDownSeconds: number; autoFailover: boolean }>;
}

/** Creates or updates hosts and pairs by name (one audited transaction). Returns the pair ids by name. */
export async function configureLab(pairs: PairSpec[], token: string, actor = "demo"): Promise<Record<string, string>> {
  return audited(async (tx, audit) => {
    const ids: Record<string, string> = {};
    for (const p of pairs) {
      const hostIds: string[] = [];
      for (const h of p.hosts) {
        const data = { address: "127.0.0.1", agentUrl: h.url, agentToken: token };
        const row = await tx.host.upsert({ where: { name: h.spec.name }, create: { name: h.spec.name, ...data }, update: data });
        hostIds.push(row.id);
      }
      const data = { vipAddress: p.vipAddress, vipPrefix: 24, vipInterface: "lo", maintenance: false, ...p.policy };
      const pair = await tx.pair.upsert({ where: { name: p.name }, create: { name: p.name, ...data }, update: data });
      for (const [i, role] of (["primary", "backup"] as const).entries()) {
        const sdata = { name: `sip-${i + 1}`, hostId: hostIds[i], appName: "sip" };
        const existing = await tx.server.findUnique({ where: { pairId_configuredRole: { pairId: pair.id, configuredRole: role } } });
        if (existing) await tx.server.update({ where: { id: existing.id }, data: sdata });
        else await tx.server.create({ data: { ...sdata, pairId: pair.id, configuredRole: role } });
      }
      await audit({ actor, action: "pair.configure", targetType: "pair", targetId: pair.id, pairId: pair.id, outcome: "success", details: { name: p.name, hosts: p.hosts.map((h) => h.spec.name), vip: p.vipAddress } });
      ids[p.name] = pair.id;
    }
    return ids;
  });
}

export async function closeDbQuietly() {
  const { closeDb } = await import("@/lib/db");
  await closeDb();
}

export { db };
