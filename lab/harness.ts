/**
 * The lab harness shared by `npm run lab` (lab/run.ts) and the lab tests (tests/integration/lab/**):
 * builds the namespaces with scripts/lab.sh, renders agent configurations from lab/agent.template.yaml,
 * starts agents inside the host namespaces, runs the prober and sipp inside the client namespace, and reads
 * the network state (who holds the VIP, the client's ARP entry). Everything it starts is torn down by
 * `teardown()` (processes by PID, then every process left in the namespaces, then the namespaces).
 *
 * Node built-ins, zod and yaml only; no Next, no Prisma.
 */
import { spawn, execFile, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync, rmSync, mkdirSync, openSync, closeSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import type { ProbeResult, UntilResult } from "./probe";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const LAB_SH = path.join(REPO, "scripts", "lab.sh");
export const now = (): number => performance.timeOrigin + performance.now();

export type HostNode = "host1" | "host2";
export type LabNode = HostNode | "client";

export interface LabAddresses {
  control: string;
  host1: string;
  host2: string;
  client: string;
  vip: string;
  prefixLen: number;
}

export const DEFAULT_ADDRESSES: LabAddresses = {
  control: "198.18.0.1",
  host1: "198.18.0.11",
  host2: "198.18.0.12",
  client: "198.18.0.20",
  vip: "198.18.0.100",
  prefixLen: 24,
};

/**
 * Address blocks a lab may use when the caller gives none: the defaults first, then blocks in
 * 198.18.0.121-199 (the linux-driver test owns .200-.250). Two labs on one network stack (a second
 * checkout, a CI job beside a hand-run campaign: the session lock lives in /tmp, which they may not share)
 * then take different blocks instead of failing on "address already routed".
 */
export function addressBlock(k: number): LabAddresses {
  if (k === 0) return DEFAULT_ADDRESSES;
  const base = 100 + 20 * k; // k = 1..3 → .121-.125, .141-.145, .161-.165
  const a = (n: number) => `198.18.0.${base + n}`;
  return { control: a(1), host1: a(2), host2: a(3), client: a(4), vip: a(5), prefixLen: 24 };
}
export const ADDRESS_BLOCKS = 4;

/** The first block none of whose addresses is routed or assigned on this network stack. */
export async function freeAddressBlock(): Promise<LabAddresses> {
  const routes = (await exec("ip", ["-o", "route", "show"])).stdout;
  const addrs = (await exec("ip", ["-o", "addr", "show"])).stdout;
  const used = new Set<string>();
  for (const m of routes.matchAll(/^(\d+\.\d+\.\d+\.\d+)(?:\/32)?\s/gm)) used.add(m[1]!);
  for (const m of addrs.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)) used.add(m[1]!);
  for (let k = 0; k < ADDRESS_BLOCKS; k++) {
    const b = addressBlock(k);
    if (![b.control, b.host1, b.host2, b.client, b.vip].some((x) => used.has(x))) return b;
  }
  throw new Error(`every lab address block is in use (${ADDRESS_BLOCKS} labs on this machine?); tear one down: sudo bash scripts/lab.sh teardown`);
}

export interface LabOptions {
  prefix: string;
  /**
   * Hold the lab session lock (SY_LAB_SESSION_LOCK, default /tmp/switchyard-lab-session.lock) from setup to
   * teardown, waiting at most this long for it: two labs with the same addresses never run at once.
   * 0 = do not take it.
   */
  sessionLockWaitMs?: number;
  addresses?: Partial<LabAddresses>;
  /** Where agent configs, state and logs go (default: a fresh temp dir). */
  workDir?: string;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function exec(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 30_000, env: opts.env ?? process.env, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export async function execOk(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

export function waitForTcp(host: string, port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect({ host, port });
      s.once("connect", () => {
        s.destroy();
        resolve();
      });
      s.once("error", () => {
        s.destroy();
        if (Date.now() > end) reject(new Error(`${host}:${port} not reachable within ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ""}`);
    await sleep(everyMs);
  }
}

/** Fills {{NAME}} placeholders; a placeholder without a value is an error (never a silent empty string). */
export function render(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, k: string) => {
    if (!(k in values)) throw new Error(`lab/agent.template.yaml: no value for {{${k}}}`);
    return String(values[k]);
  });
}

export interface AgentSpec {
  host: HostNode;
  token: string;
  port?: number;
  autostartMode?: "primary" | "backup";
  heartbeatTimeoutMs?: number;
  dadIntervalMs?: number;
  sipPort?: number;
  simControlPort?: number;
  /** The supervised SIP server: the simulated one (default) or a real Kamailio (lab/kamailio.app.yaml). */
  sip?: SipServerKind;
  /** Kamailio's JSON-RPC port on the namespace's own 127.0.0.1 (default 5071). */
  rpcPort?: number;
}

export type SipServerKind = "sim" | "kamailio";

export interface AgentProc {
  host: HostNode;
  url: string;
  token: string;
  configFile: string;
  logFile: string;
  child: ChildProcess;
}

export const AGENT_ENTRY = process.env.SY_LAB_AGENT_ENTRY ?? "agent/main.ts";

export class Lab {
  readonly prefix: string;
  readonly addr: LabAddresses;
  readonly workDir: string;
  private children = new Set<ChildProcess>();
  private ownWorkDir: boolean;
  private log: (msg: string, fields?: Record<string, unknown>) => void;
  agents = new Map<HostNode, AgentProc>();

  private constructor(opts: LabOptions) {
    this.prefix = opts.prefix;
    this.addr = { ...DEFAULT_ADDRESSES, ...opts.addresses };
    this.ownWorkDir = !opts.workDir;
    this.workDir = opts.workDir ?? mkdtempSync(path.join(os.tmpdir(), `switchyard-lab-${opts.prefix}-`));
    mkdirSync(this.workDir, { recursive: true });
    this.log = opts.log ?? (() => {});
  }

  get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      SY_LAB_PREFIX: this.prefix,
      SY_LAB_CONTROL: this.addr.control,
      SY_LAB_HOST1: this.addr.host1,
      SY_LAB_HOST2: this.addr.host2,
      SY_LAB_CLIENT: this.addr.client,
      SY_LAB_VIP: this.addr.vip,
      SY_LAB_PREFIXLEN: String(this.addr.prefixLen),
    };
  }

  private sessionLock?: ChildProcess;

  /** Builds the namespaces (tearing down leftovers of the same prefix first). */
  static async setup(opts: LabOptions): Promise<Lab> {
    let sessionLock: ChildProcess | undefined;
    const wait = opts.sessionLockWaitMs ?? 120_000;
    if (wait > 0) sessionLock = await acquireSessionLock(wait);
    const lab = new Lab(opts.addresses ? opts : { ...opts, addresses: await freeAddressBlock().catch((e) => { sessionLock?.stdin?.end(); throw e; }) });
    lab.sessionLock = sessionLock;
    try {
      await execOk("bash", [LAB_SH, "setup"], { env: lab.env });
    } catch (e) {
      lab.releaseSessionLock();
      if (lab.ownWorkDir) rmSync(lab.workDir, { recursive: true, force: true });
      throw e;
    }
    lab.log("lab: namespaces ready", { prefix: lab.prefix });
    return lab;
  }

  private releaseSessionLock(): void {
    this.sessionLock?.stdin?.end();
    this.sessionLock = undefined;
  }

  ns(node: LabNode | "br"): string {
    return `${this.prefix}-${node}`;
  }

  addressOf(node: LabNode): string {
    return this.addr[node];
  }

  /** Runs a command inside a namespace. */
  execIn(node: LabNode, cmd: string, args: string[], timeoutMs = 15_000): Promise<ExecResult> {
    return exec("ip", ["netns", "exec", this.ns(node), cmd, ...args], { timeoutMs });
  }

  /** Spawns a long-running process inside a namespace; tracked and killed by teardown(). */
  spawnIn(node: LabNode, cmd: string, args: string[], opts: { logFile?: string; env?: NodeJS.ProcessEnv; pipe?: boolean } = {}): ChildProcess {
    let stdio: ("ignore" | "pipe" | number)[] = ["ignore", "pipe", "pipe"];
    let fd: number | undefined;
    if (opts.logFile && !opts.pipe) {
      fd = openSync(opts.logFile, "a");
      stdio = ["ignore", fd, fd];
    } else if (opts.pipe) stdio = ["pipe", "pipe", "pipe"];
    const child = spawn("ip", ["netns", "exec", this.ns(node), cmd, ...args], { cwd: REPO, env: opts.env ?? process.env, stdio });
    if (fd !== undefined) closeSync(fd);
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    return child;
  }

  /** Renders lab/agent.template.yaml for a host and starts its agent inside the host's namespace. */
  async startAgent(spec: AgentSpec): Promise<AgentProc> {
    const port = spec.port ?? 4999;
    const dir = path.join(this.workDir, spec.host);
    mkdirSync(dir, { recursive: true });
    const template = readFileSync(path.join(REPO, "lab", "agent.template.yaml"), "utf8");
    const values = {
      HOST_NAME: spec.host,
      HOST_ADDR: this.addr[spec.host],
      AGENT_PORT: port,
      AGENT_TOKEN: spec.token,
      AGENT_HEARTBEAT_MS: spec.heartbeatTimeoutMs ?? 3000,
      STATE_DIR: path.join(dir, "state"),
      VIP: this.addr.vip,
      VIP_PREFIX: this.addr.prefixLen,
      DAD_INTERVAL_MS: spec.dadIntervalMs ?? 1000,
      NODE: process.execPath,
      REPO,
      SIP_PORT: spec.sipPort ?? 5060,
      SIM_CONTROL_PORT: spec.simControlPort ?? 7060,
      AUTOSTART_MODE: spec.autostartMode ?? "backup",
      RUN_DIR: path.join(dir, "run"),
      RPC_PORT: spec.rpcPort ?? 5071,
    };
    let yaml = render(template, values);
    if (spec.sip === "kamailio") {
      // The same agent, VIP and policies; the app entry replaced by Kamailio's.
      mkdirSync(values.RUN_DIR, { recursive: true });
      const config = parseYaml(yaml) as { apps: unknown[] };
      config.apps[0] = parseYaml(render(readFileSync(path.join(REPO, "lab", "kamailio.app.yaml"), "utf8"), values));
      yaml = `# rendered by lab/harness.ts from lab/agent.template.yaml and lab/kamailio.app.yaml\n${stringifyYaml(config)}`;
    }
    const configFile = path.join(dir, "agent.yaml");
    writeFileSync(configFile, yaml, { mode: 0o600 });
    const logFile = path.join(dir, "agent.log");
    // `node --import tsx` (not the tsx CLI, which forks a second node): one PID, signals reach the agent.
    const child = this.spawnIn(spec.host, process.execPath, ["--import", "tsx", path.join(REPO, AGENT_ENTRY), "--config", configFile], { logFile });
    const url = `http://${this.addr[spec.host]}:${port}`;
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code, sig) => reject(new Error(`agent on ${spec.host} exited (${code ?? sig}) during start; see ${logFile}:\n${tail(logFile)}`))),
    );
    await Promise.race([waitForTcp(this.addr[spec.host], port, 20_000), exited]);
    const a: AgentProc = { host: spec.host, url, token: spec.token, configFile, logFile, child };
    this.agents.set(spec.host, a);
    this.log("lab: agent up", { host: spec.host, url });
    return a;
  }

  /** PIDs inside a namespace. */
  async pids(node: LabNode): Promise<number[]> {
    const r = await exec("ip", ["netns", "pids", this.ns(node)]);
    return r.stdout.split(/\s+/).filter(Boolean).map(Number);
  }

  /** The PID of the simulated SIP Server in a host namespace (the node process running sim/main.ts). */
  async simPid(node: HostNode): Promise<number | null> {
    for (const pid of await this.pids(node)) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        if (cmdline.some((a) => a.endsWith("sim/main.ts"))) return pid;
      } catch {
        /* gone */
      }
    }
    return null;
  }

  /**
   * Kamailio's processes in a host namespace: `main`, the one the agent started (it leads its own process
   * group), and `all` (main and workers, also workers left behind by a main process that is gone).
   */
  async kamailioPids(node: HostNode): Promise<{ main: number | null; all: number[]; groups: Map<number, number[]> }> {
    const all: number[] = [];
    const groups = new Map<number, number[]>();
    let main: number | null = null;
    for (const pid of await this.pids(node)) {
      try {
        const st = readFileSync(`/proc/${pid}/stat`, "latin1");
        if (st.slice(st.indexOf("(") + 1, st.lastIndexOf(")")) !== "kamailio") continue;
        const rest = st.slice(st.lastIndexOf(")") + 2).split(" ");
        if (rest[0] === "Z") continue;
        const pgid = Number(rest[2]);
        all.push(pid);
        groups.set(pgid, [...(groups.get(pgid) ?? []), pid]);
        if (pgid === pid) main = pid;
      } catch {
        /* gone */
      }
    }
    return { main, all, groups };
  }

  /** The PID of the supervised SIP server's main process in a host namespace (sim or Kamailio). */
  async sipPid(node: HostNode, kind: SipServerKind): Promise<number | null> {
    return kind === "kamailio" ? (await this.kamailioPids(node)).main : this.simPid(node);
  }

  /** Hosts whose eth0 holds the VIP right now (from `ip -o addr` inside each namespace). */
  async vipHolders(): Promise<HostNode[]> {
    const out: HostNode[] = [];
    for (const h of ["host1", "host2"] as const) {
      const r = await exec("ip", ["-n", this.ns(h), "-o", "-4", "addr", "show", "dev", "eth0"]);
      if (r.stdout.includes(` ${this.addr.vip}/`)) out.push(h);
    }
    return out;
  }

  async mac(node: LabNode): Promise<string> {
    const r = await execOk("ip", ["-n", this.ns(node), "-o", "link", "show", "dev", "eth0"]);
    const m = /link\/ether ([0-9a-f:]{17})/.exec(r);
    if (!m) throw new Error(`no MAC for ${node}: ${r}`);
    return m[1]!;
  }

  /** The client's ARP (neighbour) entry for an address: MAC and state, or null. */
  async clientNeigh(address = this.addr.vip): Promise<{ mac: string | null; state: string } | null> {
    const r = await exec("ip", ["-n", this.ns("client"), "neigh", "show", address, "dev", "eth0"]);
    const line = r.stdout.trim();
    if (!line) return null;
    const mac = /lladdr ([0-9a-f:]{17})/.exec(line)?.[1] ?? null;
    const state = line.split(/\s+/).pop() ?? "";
    return { mac, state };
  }

  /** Cuts a node from the control address only (nft table inside its namespace); the data path stays. */
  async cut(node: LabNode): Promise<void> {
    await execOk("bash", [LAB_SH, "cut", node], { env: this.env });
  }

  async restore(node: LabNode): Promise<void> {
    await execOk("bash", [LAB_SH, "restore", node], { env: this.env });
  }

  /** Gratuitous ARPs for the VIP from `node` (two, a second apart: a neighbour ignores updates within 1 s of the last, arp locktime), as a host that still holds it may send: neighbours move to it. */
  async announceByHand(node: HostNode): Promise<void> {
    await execOk("ip", ["netns", "exec", this.ns(node), "arping", "-U", "-c", "2", "-I", "eth0", this.addr.vip]);
  }

  async addVipByHand(node: HostNode): Promise<void> {
    await execOk("ip", ["-n", this.ns(node), "addr", "add", `${this.addr.vip}/${this.addr.prefixLen}`, "dev", "eth0"]);
  }

  async delVipByHand(node: HostNode): Promise<void> {
    await exec("ip", ["-n", this.ns(node), "addr", "del", `${this.addr.vip}/${this.addr.prefixLen}`, "dev", "eth0"]);
  }

  /** Starts a prober in serve mode inside the client namespace. */
  startProber(): ProberClient {
    const child = this.spawnIn("client", process.execPath, ["--import", "tsx", path.join(REPO, "lab", "probe.ts"), "serve", "--bind", this.addr.client], { pipe: true });
    return new ProberClient(child);
  }

  /**
   * One sipp OPTIONS call from the client to target (default the VIP). Passes only on a 200 naming a host.
   * `scenario`: other sipp arguments instead of lab/options.xml (e.g. ["-sn", "uac"] for a call, or
   * ["-sf", "lab/register.xml"]).
   */
  async sipp(target = `${this.addr.vip}:5060`, timeoutS = 3, scenario: string[] = ["-sf", path.join(REPO, "lab", "options.xml")]): Promise<{ ok: boolean; code: number; host: string | null; role: string | null; output: string }> {
    const logFile = path.join(this.workDir, `sipp-${randomBytes(4).toString("hex")}.log`);
    const r = await this.execIn(
      "client",
      "sipp",
      [...scenario, "-m", "1", "-t", "u1", "-i", this.addr.client, "-p", "0", "-nostdin",
        "-timeout", `${timeoutS}s`, "-timeout_error", "-trace_logs", "-log_file", logFile, target],
      (timeoutS + 5) * 1000,
    );
    let log = "";
    try {
      log = readFileSync(logFile, "utf8");
      rmSync(logFile, { force: true });
    } catch {
      /* no log: the call failed before the 200 */
    }
    const m = /host=(\S*)(?: role=(\S*))?/.exec(log);
    return { ok: r.code === 0, code: r.code, host: m?.[1] || null, role: m?.[2] || null, output: (r.stdout + r.stderr).slice(-2000) };
  }

  /** Kills what this harness started, then everything left in the namespaces, then the namespaces. */
  async teardown(): Promise<void> {
    for (const c of this.children) {
      try {
        c.kill("SIGKILL");
      } catch {
        /* gone */
      }
    }
    this.children.clear();
    await exec("bash", [LAB_SH, "teardown"], { env: this.env });
    this.releaseSessionLock();
    if (this.ownWorkDir && !process.env.SY_LAB_KEEP) rmSync(this.workDir, { recursive: true, force: true });
    this.log("lab: torn down", { prefix: this.prefix });
  }
}

export const SESSION_LOCK = process.env.SY_LAB_SESSION_LOCK ?? "/tmp/switchyard-lab-session.lock";

/**
 * Takes the lab session lock with flock(1): a child `flock LOCK sh -c 'echo locked; cat'` holds it until its
 * stdin closes (teardown) or this process dies (the pipe closes with it), so a crash never leaves it held.
 */
export function acquireSessionLock(waitMs: number): Promise<ChildProcess> {
  return holdFlock(SESSION_LOCK, waitMs, false).catch((e: Error) => {
    throw new Error(`another lab session holds ${SESSION_LOCK} (${e.message}); stop it or wait`);
  });
}

/**
 * Holds flock(1) on `file` (shared or exclusive) until the returned child's stdin is closed or this process
 * dies. E.g. a shared hold of /tmp/switchyard-next.lock keeps `flock /tmp/switchyard-next.lock next build`
 * from replacing the production build under a running test server.
 */
export function holdFlock(file: string, waitMs: number, shared: boolean): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const args = ["-w", String(Math.max(1, Math.ceil(waitMs / 1000))), ...(shared ? ["-s"] : []), file, "sh", "-c", "echo locked; exec cat >/dev/null"];
    const child = spawn("flock", args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("locked")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`could not lock ${file} within ${Math.round(waitMs / 1000)} s (flock exit ${code})`)));
    child.once("error", reject);
  });
}

export function tail(file: string, n = 30): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-n).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Talks to `lab/probe.ts serve` over JSON lines. */
export class ProberClient {
  private seq = 0;
  private waiters = new Map<string, { started?: (at: number) => void; done: (v: unknown) => void; fail: (e: Error) => void }>();
  private closed = false;
  private stderr = "";
  constructor(readonly child: ChildProcess) {
    const rl = createInterface({ input: child.stdout! });
    rl.on("line", (line) => {
      let msg: { id?: string; event?: string; at?: number; result?: unknown; error?: string };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      const w = msg.id !== undefined ? this.waiters.get(String(msg.id)) : undefined;
      if (!w) return;
      if (msg.event === "started") w.started?.(msg.at ?? now());
      else if (msg.error !== undefined) {
        this.waiters.delete(String(msg.id));
        w.fail(new Error(`prober: ${msg.error}`));
      } else {
        this.waiters.delete(String(msg.id));
        w.done(msg.result);
      }
    });
    child.stderr!.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    child.once("exit", (code) => {
      this.closed = true;
      for (const w of this.waiters.values()) w.fail(new Error(`prober exited (${code}): ${this.stderr}`));
      this.waiters.clear();
    });
  }

  private send(cmd: Record<string, unknown>, started?: (at: number) => void): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`prober is not running: ${this.stderr}`));
    const id = String(++this.seq);
    return new Promise((done, fail) => {
      this.waiters.set(id, { started, done, fail });
      this.child.stdin!.write(JSON.stringify({ id, ...cmd }) + "\n");
    });
  }

  once(target: string, timeoutMs = 1000): Promise<ProbeResult> {
    return this.send({ cmd: "once", target, timeoutMs }) as Promise<ProbeResult>;
  }

  /**
   * Starts probing until the first reply with `status` from `host`. Resolves `started` once probing runs
   * (so the caller can act and take its t0 after that), and `result` with the first match.
   */
  until(target: string, want: { host?: string; status?: number }, limits: { intervalMs?: number; maxMs?: number; maxProbes?: number } = {}): { started: Promise<number>; result: Promise<UntilResult> } {
    let resolveStarted!: (at: number) => void;
    const started = new Promise<number>((r) => (resolveStarted = r));
    const result = this.send({ cmd: "until", target, ...want, ...limits }, resolveStarted) as Promise<UntilResult>;
    result.catch(() => {});
    return { started: Promise.race([started, result.then(() => now())]), result };
  }

  /** Waits until the prober process answers (tsx start-up takes a moment). */
  async ready(target: string, timeoutMs = 20_000): Promise<void> {
    await waitFor("prober ready", async () => (await this.once(target, 200)) !== undefined, timeoutMs, 10);
  }

  close(): void {
    if (!this.closed) this.child.stdin?.end();
  }
}

/**
 * Why a lab test cannot run here (not root, or a tool missing), or null: for `describe.skipIf`.
 * `what` says why root is needed.
 */
export function labSkipReason(what: string, tools = ["ip", "arping", "nft", "sipp"]): string | null {
  if (process.getuid?.() !== 0) return `needs root: ${what}`;
  const missing = tools.filter((t) => {
    try {
      execFileSync("sh", ["-c", `command -v ${t}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
  return missing.length ? `missing tools: ${missing.join(", ")} (apt-get install -y iproute2 iputils-arping nftables sip-tester)` : null;
}

export function randomToken(): string {
  return randomBytes(24).toString("base64url");
}

export function randomPrefix(): string {
  return "syl" + randomBytes(2).toString("hex");
}

export function stats(values: number[]): { n: number; median: number; worst: number; best: number; mean: number } {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  if (n === 0) return { n: 0, median: NaN, worst: NaN, best: NaN, mean: NaN };
  const median = n % 2 ? v[(n - 1) / 2]! : (v[n / 2 - 1]! + v[n / 2]!) / 2;
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n, median: r(median), worst: r(v[n - 1]!), best: r(v[0]!), mean: r(v.reduce((a, b) => a + b, 0) / n) };
}
