/**
 * Test helpers for the host agent, reusable by other suites (controller, lab): build the agent and sim
 * bundles once, spawn an agent with a temp config on a free port, connect a socket.io client, send
 * commands, wait for events. Real processes only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { io, type Socket } from "socket.io-client";
import {
  AGENT_NAMESPACE,
  AgentEvent,
  AgentSnapshot,
  CommandAck,
  PROTOCOL_VERSION,
  type Command,
  type AgentToController,
  type ControllerToAgent,
} from "../../../protocol/agent";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * Every temp folder of a test file (bundles, agent configs and state) lives under one root, removed by
 * removeTempDirs() after the file's tests.
 */
let tempRoot: string | null = null;
export function tempDir(prefix: string): string {
  tempRoot ??= mkdtempSync(path.join(os.tmpdir(), "sya-test-"));
  return mkdtempSync(path.join(tempRoot, prefix));
}
/** Removes every folder tempDir made (and the bundles): call it from the test file's afterAll. */
export function removeTempDirs() {
  if (tempRoot) rmSync(tempRoot, { recursive: true, force: true });
  tempRoot = null;
  bundles = null;
}

let bundles: Promise<{ agent: string; sim: string; dir: string }> | null = null;
/** esbuild bundles of agent/main.ts and sim/main.ts in a temp dir (once per test process). */
export function buildBundles() {
  bundles ??= (async () => {
    const dir = tempDir("bundle-");
    const common = { bundle: true, platform: "node" as const, format: "esm" as const, target: "node20", logLevel: "error" as const };
    await Promise.all([
      build({
        ...common,
        entryPoints: [path.join(repoRoot, "agent/main.ts")],
        outfile: path.join(dir, "agent.mjs"),
        banner: { js: "import{createRequire}from'node:module';const require=createRequire(import.meta.url);" },
      }),
      build({ ...common, entryPoints: [path.join(repoRoot, "sim/main.ts")], outfile: path.join(dir, "sim.mjs") }),
    ]);
    return { agent: path.join(dir, "agent.mjs"), sim: path.join(dir, "sim.mjs"), dir };
  })();
  return bundles;
}

export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** A free UDP port on 127.0.0.1 (for a sim's SIP listener). */
export async function freeUdpPort(): Promise<number> {
  const dgram = await import("node:dgram");
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

export const TEST_TOKEN = "test-token-0123456789abcdef";

export interface SimAppOptions {
  name?: string;
  hostName?: string;
  sipPort: number;
  controlPort: number;
  vip?: string;
  /** The mode the sim starts in by itself (`--mode`; the sim's default is backup). */
  mode?: "primary" | "backup";
  probe?: Record<string, unknown> | null;
  extra?: Record<string, unknown>;
}

/** A config entry for an app that is the simulated SIP Server (bundle), with HTTP mode hook and SIP probe. */
export async function simApp(o: SimAppOptions) {
  const { sim } = await buildBundles();
  return {
    name: o.name ?? "sip",
    command: process.execPath,
    args: [sim, "--host-name", o.hostName ?? "h1", "--listen", `127.0.0.1:${o.sipPort}`, "--control", `127.0.0.1:${o.controlPort}`, ...(o.mode ? ["--mode", o.mode] : [])],
    stopTimeoutMs: 2000,
    startTimeoutMs: 5000,
    modeHook: { type: "http", url: `http://127.0.0.1:${o.controlPort}/mode`, timeoutMs: 1000 },
    ...(o.probe === null
      ? {}
      : { probe: o.probe ?? { type: "sip", host: "127.0.0.1", port: o.sipPort, intervalMs: 100, timeoutMs: 100, failureThreshold: 3 } }),
    ...(o.vip ? { vip: o.vip } : {}),
    ...(o.extra ?? {}),
  };
}

export interface RunningAgent {
  proc: ChildProcess;
  port: number;
  url: string;
  dir: string;
  configFile: string;
  stateDir: string;
  logs: string[];
  /** Waits for the process to exit; resolves with its code/signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartAgentOptions {
  /** Config object (written as YAML-compatible JSON unless `format: "yaml"` with `raw`). */
  config: Record<string, unknown>;
  /** Reuse a directory (and its stateDir) — e.g. to restart an agent. */
  dir?: string;
  args?: string[];
  /** Command prefix, e.g. ["ip", "netns", "exec", "sya-h1"]. */
  wrap?: string[];
  /** Extra environment for the agent process (e.g. NOTIFY_SOCKET). */
  env?: Record<string, string>;
  /** Fixed port (default: a free port picked by the agent: listen.port 0). */
  expectExit?: boolean;
  timeoutMs?: number;
}

/** Spawns `node agent.mjs --config FILE` and resolves once it logs "agent listening" (with its port). */
export async function startAgent(o: StartAgentOptions): Promise<RunningAgent> {
  const { agent } = await buildBundles();
  const dir = o.dir ?? tempDir("agent-");
  const stateDir = path.join(dir, "state");
  const config = { listen: { host: "127.0.0.1", port: 0 }, tokens: [TEST_TOKEN], stateDir, heartbeat: { timeoutMs: 5000 }, ...o.config };
  const configFile = path.join(dir, "agent.json");
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const argv = [...(o.wrap ?? []), process.execPath, agent, "--config", configFile, ...(o.args ?? [])];
  const proc = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: o.env ? { ...process.env, ...o.env } : process.env });
  const logs: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on("exit", (code, signal) => r({ code, signal })));
  const port = await new Promise<number>((resolve, reject) => {
    let buf = "";
    const t = setTimeout(() => reject(new Error(`agent did not start within ${o.timeoutMs ?? 10000} ms:\n${logs.join("\n")}`)), o.timeoutMs ?? 10000);
    const onData = (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        if (process.env.SYA_AGENT_LOGS) process.stderr.write(`[agent] ${line}\n`);
        try {
          const j = JSON.parse(line) as { msg?: string; port?: number };
          if (j.msg === "agent listening") {
            clearTimeout(t);
            resolve(j.port!);
          }
        } catch {}
      }
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", (d: Buffer) => logs.push(...d.toString().trimEnd().split("\n").map((l) => `[stderr] ${l}`)));
    exited.then((e) => {
      clearTimeout(t);
      reject(Object.assign(new Error(`agent exited (${e.code ?? e.signal}) before listening:\n${logs.join("\n")}`), { exit: e, logs }));
    });
  });
  const host = (config.listen as { host: string }).host;
  return {
    proc,
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    dir,
    configFile,
    stateDir,
    logs,
    exited,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      await exited;
    },
  };
}

/** Runs the agent expecting it to refuse to start; resolves with exit code and stderr. */
export async function agentMustFail(configFile: string, args: string[] = []) {
  const { agent } = await buildBundles();
  return new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
    const p = spawn(process.execPath, [agent, "--config", configFile, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    p.stderr.on("data", (d) => (stderr += d));
    p.stdout.on("data", (d) => (stdout += d));
    const t = setTimeout(() => p.kill("SIGKILL"), 10_000);
    p.on("exit", (code) => {
      clearTimeout(t);
      resolve({ code, stderr, stdout });
    });
  });
}

export interface ClientOptions {
  token?: string;
  epoch?: number;
  controllerId?: string;
  /** Send `ping` every N ms (default 500); 0 = never (to test the agent's heartbeat deadline). */
  pingEveryMs?: number;
  /** Sent with every ping: the agent fences its VIPs after this long without one. */
  fenceAfterMs?: number;
  auth?: unknown;
}

export class AgentClient {
  readonly socket: Socket<AgentToController, ControllerToAgent>;
  readonly events: AgentEvent[] = [];
  readonly eventTimes: number[] = [];
  readonly protocolErrors: { code: string; message: string }[] = [];
  snapshot: AgentSnapshot | null = null;
  epoch: number;
  private nextId = 1;
  private waiters: { pred: (e: AgentEvent) => boolean; resolve: (e: AgentEvent) => void }[] = [];
  private pinger?: NodeJS.Timeout;

  constructor(url: string, o: ClientOptions = {}) {
    this.epoch = o.epoch ?? 1;
    this.socket = io(`${url}${AGENT_NAMESPACE}`, {
      auth: (o.auth as object) ?? { token: o.token ?? TEST_TOKEN, protocol: PROTOCOL_VERSION, controllerId: o.controllerId ?? "test", epoch: this.epoch },
      transports: ["websocket"],
      reconnection: false,
      timeout: 5000,
    });
    this.socket.on("snapshot", (s) => {
      this.snapshot = AgentSnapshot.parse(s);
    });
    this.socket.on("event", (e) => {
      const ev = AgentEvent.parse(e);
      this.events.push(ev);
      this.eventTimes.push(performance.now());
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(ev)) return true;
        w.resolve(ev);
        return false;
      });
    });
    this.socket.on("protocolError", (e) => this.protocolErrors.push(e));
    const every = o.pingEveryMs ?? 500;
    if (every > 0)
      this.socket.on("connect", () => {
        clearInterval(this.pinger);
        const ping = () => this.socket.emit("ping", { t: Date.now(), ...(o.fenceAfterMs ? { fenceAfterMs: o.fenceAfterMs } : {}) }, () => {});
        ping();
        this.pinger = setInterval(ping, every);
      });
    this.socket.on("disconnect", () => clearInterval(this.pinger));
  }

  /** Stops pinging (a controller that went silent: crashed, or cut off), the link stays open. */
  stopPinging() {
    clearInterval(this.pinger);
  }

  /** Resolves after the snapshot has arrived; rejects with the connect error (e.g. bad token). */
  ready(timeoutMs = 5000): Promise<AgentSnapshot> {
    return new Promise((resolve, reject) => {
      if (this.snapshot) return resolve(this.snapshot);
      const t = setTimeout(() => reject(new Error("no snapshot")), timeoutMs);
      this.socket.once("snapshot", () => {
        clearTimeout(t);
        resolve(this.snapshot!);
      });
      this.socket.once("connect_error", (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  /** Sends a command (id and epoch filled in) and resolves with the validated acknowledgement. */
  async command(c: Record<string, unknown> & { type: Command["type"] }, timeoutMs = 15_000): Promise<CommandAck> {
    const full = { id: `c${this.nextId++}`, epoch: this.epoch, ...c };
    const ack = await this.socket.timeout(timeoutMs).emitWithAck("command", full as Command);
    return CommandAck.parse(ack);
  }

  /** Sends anything as a command (to test malformed frames). */
  async raw(event: string, payload: unknown, timeoutMs = 5000): Promise<unknown> {
    return (this.socket.timeout(timeoutMs) as unknown as { emitWithAck: (e: string, p: unknown) => Promise<unknown> }).emitWithAck(event, payload);
  }

  /** Resolves with the first event (already received after `since`, or future) matching `pred`. */
  waitEvent(pred: (e: AgentEvent) => boolean, timeoutMs = 5000, since = 0): Promise<AgentEvent> {
    const found = this.events.slice(since).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (e: AgentEvent) => (clearTimeout(t), resolve(e)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`event not seen within ${timeoutMs} ms; got: ${this.events.map((e) => e.type + ("state" in e ? `:${e.state}` : "")).join(", ")}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  close() {
    clearInterval(this.pinger);
    this.socket.close();
  }
}

export function rmDir(dir: string) {
  rmSync(dir, { recursive: true, force: true });
}

/** Kills a process group (apps run detached in their own group); ignores a missing process. */
/** Processes of this machine whose command line has `flag` followed by `value` (read from /proc). */
export function pidsWithArgs(flag: string, value: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
      if (argv.some((a, i) => a === flag && argv[i + 1] === value)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function killGroup(pid: number | null | undefined, sig: NodeJS.Signals = "SIGKILL") {
  if (!pid) return;
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {}
  }
}
