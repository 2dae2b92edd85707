/**
 * Fake host agents for the scale benchmark (bench/scale.ts): ONE process hosting many socket.io agent
 * endpoints (one HTTP server per host on 127.0.0.1, namespace /controller), each speaking the exact
 * protocol of protocol/agent.ts — handshake (zod Handshake, constant-time token check, protocol version),
 * `snapshot` at connect, `event` with a monotonic seq, `ping` acks (Pong), `command` acks (CommandAck),
 * epoch fencing (STALE_EPOCH). Every frame it sends is checked against the protocol's zod schemas first.
 *
 * It sits BELOW the layer under test (panel + controller): no SIP processes, no VIP driver. The apps and
 * VIPs are state in memory and behave like the real agent with the simulated VIP driver (agent/agent.ts):
 *   - app.setMode: mode hook run (hookDelayMs) → `app.mode` event → VIP enable (primary) / disable
 *     (backup): `vip.run` + `vip.state` events → ack { runs, snapshot }.
 *   - app.start / app.restart: `app.state` starting → (startDelayMs, a process start) → running with a
 *     new pid → setMode when asked.
 *   - app failure (driven by the bench): `app.state` failed with the exit, `app.mode` unknown, then the
 *     VIP disabled on this host (`vip.run`, `vip.state`), as the real agent does on a child's exit; after
 *     restartDelayMs the app is restarted and told backup (the real agent owns restarts too).
 *
 * Control channel (bench ↔ this process): JSON lines. stdin: commands (zod-validated); stdout: replies.
 *   {"op":"fail","id":"x","targets":[{"host":"h1","app":"sip-p0"}]}  → {"id":"x","at":[epochMs...]}
 *   {"op":"stats","id":"y"}                                         → {"id":"y","stats":{...}}
 *   {"op":"stop","id":"z"}                                          → {"id":"z","stopped":true}; exits
 * First line on stdout: {"ready":true,"hosts":[{"name","port"}]}. Logs (JSON) go to stderr.
 *
 * Usage: tsx bench/fake-agents.ts --config layout.json   (the layout is written by bench/scale.ts)
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import readline from "node:readline";
import { Server, type Socket } from "socket.io";
import { z } from "zod";
import {
  AGENT_NAMESPACE,
  AgentEvent,
  AgentSnapshot,
  Command,
  CommandAck,
  Handshake,
  PROTOCOL_VERSION,
  Ping,
  Pong,
  type AgentToController,
  type AppSnapshot,
  type ControllerToAgent,
  type DriverRun,
  type ErrorCode,
  type VipSnapshot,
} from "../protocol/agent";

// ---------------------------------------------------------------- configuration (zod-validated)

const Name = z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
export const LayoutApp = z.object({ name: Name, vip: Name, vipAddress: z.string().min(1), mode: z.enum(["primary", "backup"]) }).strict();
export const LayoutHost = z.object({ name: Name, apps: z.array(LayoutApp).min(1).max(1000) }).strict();
export const Layout = z
  .object({
    token: z.string().min(16).max(512),
    hosts: z.array(LayoutHost).min(1).max(5000),
    /** Duration of a mode hook run (the real agent calls the SIP Server over HTTP: ~1-3 ms). */
    hookDelayMs: z.number().min(0).max(10_000).default(2),
    /** Duration of an app start (the real agent spawns a process and waits for it: ~50-150 ms). */
    startDelayMs: z.number().min(0).max(60_000).default(100),
    /** The agent's restart back-off after a failure (agent config restart.backoffMs). */
    restartDelayMs: z.number().min(0).max(60_000).default(500),
    /** The agent drops a controller that sends no ping for this long (agent config heartbeat.timeoutMs). */
    heartbeatTimeoutMs: z.number().int().min(100).max(600_000).default(5000),
  })
  .strict();
export type Layout = z.infer<typeof Layout>;

const Ctl = z.discriminatedUnion("op", [
  z.object({ op: z.literal("fail"), id: z.string().min(1).max(64), targets: z.array(z.object({ host: Name, app: Name }).strict()).min(1).max(5000) }).strict(),
  z.object({ op: z.literal("stats"), id: z.string().min(1).max(64) }).strict(),
  z.object({ op: z.literal("stop"), id: z.string().min(1).max(64) }).strict(),
]);

// ---------------------------------------------------------------- helpers

const epochMs = () => performance.timeOrigin + performance.now();
const nowIso = () => new Date().toISOString();
const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());
const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
function log(level: "info" | "warn" | "error", msg: string, f: object = {}) {
  process.stderr.write(JSON.stringify({ time: nowIso(), level, component: "fake-agents", msg, ...f }) + "\n");
}

const stats = {
  connections: 0,
  handshakesRefused: 0,
  pings: 0,
  events: 0,
  snapshots: 0,
  commands: {} as Record<string, number>,
  commandErrors: {} as Record<string, number>,
  /** Frames that failed our own zod check before sending (must stay 0). */
  invalidOutgoing: 0,
  invalidIncoming: 0,
};

function checked<T>(schema: z.ZodType<T>, value: T, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    stats.invalidOutgoing++;
    log("error", "outgoing frame fails the protocol schema", { what, issue: r.error.issues[0]?.message, path: r.error.issues[0]?.path });
  }
  return value;
}

function run(kind: DriverRun["kind"], driver: string, action: string, target: string, startedAt: string, t0: number, stdout: string): DriverRun {
  return { kind, driver, action, target, startedAt, durationMs: +(performance.now() - t0).toFixed(3), exitCode: 0, signal: null, timedOut: false, ok: true, stdout, stderr: "" };
}

// ---------------------------------------------------------------- one fake host

type AgentSocket = Socket<ControllerToAgent, AgentToController>;
type Emit = AgentEvent extends infer E ? (E extends AgentEvent ? Omit<E, "seq" | "at"> : never) : never;
let nextPid = 200_000;

class FakeHost {
  readonly bootId = crypto.randomUUID();
  private seq = 0;
  private highestEpoch = 0;
  private apps = new Map<string, AppSnapshot>();
  private vips = new Map<string, VipSnapshot>();
  private locks = new Map<string, Promise<unknown>>();
  private io!: Server<ControllerToAgent, AgentToController>;
  private server!: http.Server;
  port = 0;

  constructor(
    readonly name: string,
    apps: z.infer<typeof LayoutApp>[],
    private readonly cfg: Layout,
    private readonly tokenDigest: Buffer,
  ) {
    const startedAt = nowIso();
    for (const a of apps) {
      this.apps.set(a.name, {
        name: a.name,
        state: "running",
        pid: nextPid++,
        mode: a.mode,
        vip: a.vip,
        health: { status: "ok", consecutiveFailures: 0, lastError: null, lastCheckedAt: startedAt },
        lastExit: null,
        restarts: 0,
        crashLoop: false,
        startedAt,
      });
      const on = a.mode === "primary";
      this.vips.set(a.vip, {
        name: a.vip,
        address: a.vipAddress,
        prefix: 24,
        interface: "eth0",
        driver: "simulated",
        desired: on ? "enabled" : "disabled",
        observed: on ? "enabled" : "disabled",
        duplicate: { detected: false, mac: null, at: null },
        lastRun: null,
      });
    }
  }

  snapshot(): AgentSnapshot {
    return {
      protocol: PROTOCOL_VERSION,
      agentId: this.name,
      version: "0.1.0-fake",
      bootId: this.bootId,
      seq: this.seq,
      epoch: this.highestEpoch,
      at: nowIso(),
      apps: [...this.apps.values()].map((a) => ({ ...a, health: { ...a.health }, lastExit: a.lastExit && { ...a.lastExit } })),
      vips: [...this.vips.values()].map((v) => ({ ...v, duplicate: { ...v.duplicate } })),
    };
  }

  private emit(e: Emit) {
    const ev = checked(AgentEvent, { ...e, seq: ++this.seq, at: nowIso() } as AgentEvent, `event ${e.type}`);
    stats.events++;
    this.io.of(AGENT_NAMESPACE).emit("event", ev);
  }

  /** Serialises actions on one app or VIP, like the real agent's KeyedLock. */
  private lock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.locks.set(key, next.catch(() => undefined));
    return next;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      if (!req.url?.startsWith("/socket.io/")) res.writeHead(404).end();
    });
    this.io = new Server<ControllerToAgent, AgentToController>(this.server, { serveClient: false, maxHttpBufferSize: 256 * 1024, pingInterval: 10_000, pingTimeout: 20_000 });
    this.io.of("/").use((_s, next) => next(new Error(`use namespace ${AGENT_NAMESPACE}`)));
    const nsp = this.io.of(AGENT_NAMESPACE);
    nsp.use((socket, next) => {
      const r = Handshake.safeParse(socket.handshake.auth);
      const refuse = (code: string, message: string) => {
        stats.handshakesRefused++;
        const err = new Error(`${code}: ${message}`) as Error & { data?: unknown };
        err.data = { code };
        next(err);
      };
      if (!r.success) return refuse("INVALID", `handshake: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
      if (!timingSafeEqual(digest(r.data.token), this.tokenDigest)) return refuse("UNAUTHORIZED", "bad token");
      if (r.data.protocol !== PROTOCOL_VERSION) return refuse("PROTOCOL", `agent speaks protocol ${PROTOCOL_VERSION}, controller ${r.data.protocol}`);
      this.highestEpoch = Math.max(this.highestEpoch, r.data.epoch);
      next();
    });
    nsp.on("connection", (s) => this.onConnection(s as AgentSocket));
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
  }

  private onConnection(socket: AgentSocket) {
    stats.connections++;
    let deadline = setTimeout(() => socket.disconnect(true), this.cfg.heartbeatTimeoutMs);
    const alive = () => {
      clearTimeout(deadline);
      deadline = setTimeout(() => socket.disconnect(true), this.cfg.heartbeatTimeoutMs);
    };
    socket.on("disconnect", () => clearTimeout(deadline));
    socket.on("ping", (p: unknown, ack: unknown) => {
      if (typeof ack !== "function") return void stats.invalidIncoming++;
      const r = Ping.safeParse(p);
      if (!r.success) {
        stats.invalidIncoming++;
        return void socket.emit("protocolError", { code: "INVALID", message: `ping: ${r.error.issues[0]?.message}` });
      }
      alive();
      stats.pings++;
      (ack as (x: Pong) => void)(checked(Pong, { t: r.data.t, agentTime: Date.now(), seq: this.seq }, "pong"));
    });
    socket.on("command", (raw: unknown, ack: unknown) => {
      alive();
      if (typeof ack !== "function") return void stats.invalidIncoming++;
      const reply = (a: CommandAck) => (ack as (x: CommandAck) => void)(checked(CommandAck, a, "ack"));
      const r = Command.safeParse(raw);
      if (!r.success) {
        stats.invalidIncoming++;
        return reply({ ok: false, id: null, error: { code: "INVALID", message: `command: ${r.error.issues[0]?.message}` }, runs: [] });
      }
      stats.commands[r.data.type] = (stats.commands[r.data.type] ?? 0) + 1;
      this.handle(r.data).then(
        (a) => {
          if (!a.ok) stats.commandErrors[a.error.code] = (stats.commandErrors[a.error.code] ?? 0) + 1;
          reply(a);
        },
        (e: Error) => reply({ ok: false, id: r.data.id, error: { code: "FAILED", message: `internal error: ${e.message}` }, runs: [] }),
      );
    });
    stats.snapshots++;
    socket.emit("snapshot", checked(AgentSnapshot, this.snapshot(), "snapshot"));
  }

  private fail(id: string, code: ErrorCode, message: string, runs: DriverRun[] = [], extra: { highestEpoch?: number } = {}): CommandAck {
    return { ok: false, id, error: { code, message }, runs, ...extra };
  }

  private async handle(cmd: Command): Promise<CommandAck> {
    if (cmd.epoch < this.highestEpoch)
      return this.fail(cmd.id, "STALE_EPOCH", `epoch ${cmd.epoch} is lower than the highest seen (${this.highestEpoch})`, [], { highestEpoch: this.highestEpoch });
    this.highestEpoch = cmd.epoch;
    const ok = (runs: DriverRun[]): CommandAck => ({ ok: true, id: cmd.id, runs, snapshot: this.snapshot() });
    if (cmd.type === "state.get" || cmd.type === "fence.hold") return ok([]); // no self-fencing here
    if (cmd.type === "vip.enable" || cmd.type === "vip.disable") {
      if (!this.vips.has(cmd.vip)) return this.fail(cmd.id, "UNKNOWN_VIP", `no VIP named ${cmd.vip} in this agent's configuration`);
      const runs = await this.lock(`vip:${cmd.vip}`, async () => [this.setVip(cmd.vip, cmd.type === "vip.enable" ? "enabled" : "disabled")]);
      return ok(runs);
    }
    const app = this.apps.get(cmd.app);
    if (!app) return this.fail(cmd.id, "UNKNOWN_APP", `no app named ${cmd.app} in this agent's configuration`);
    return this.lock(`app:${app.name}`, async () => {
      switch (cmd.type) {
        case "app.start":
        case "app.restart": {
          if (cmd.type === "app.restart" || app.state !== "running") {
            if (app.state === "running") this.stopApp(app, "restart command");
            await this.startApp(app, `${cmd.type === "app.start" ? "start" : "restart"} command`);
          }
          if (!cmd.mode) return ok([]);
          const m = await this.setMode(app, cmd.mode);
          return m.ok ? ok(m.runs) : this.fail(cmd.id, m.code, m.error, m.runs);
        }
        case "app.stop":
          this.stopApp(app, "stop command");
          return ok([]);
        case "app.setMode": {
          const m = await this.setMode(app, cmd.mode);
          return m.ok ? ok(m.runs) : this.fail(cmd.id, m.code, m.error, m.runs);
        }
      }
    });
  }

  private setState(app: AppSnapshot, state: AppSnapshot["state"], reason: string, exit: AppSnapshot["lastExit"] = null) {
    const previous = app.state;
    app.state = state;
    if (exit) app.lastExit = exit;
    this.emit({ type: "app.state", app: app.name, state, previous, pid: app.pid, exit, reason });
  }

  private setAppMode(app: AppSnapshot, mode: AppSnapshot["mode"], r: DriverRun | null) {
    const changed = app.mode !== mode;
    app.mode = mode;
    if (changed || r) this.emit({ type: "app.mode", app: app.name, mode, run: r });
  }

  /** The simulated VIP driver: a synthetic run, `vip.run`, and `vip.state` when desired or observed change. */
  private setVip(name: string, want: "enabled" | "disabled"): DriverRun {
    const v = this.vips.get(name)!;
    const t0 = performance.now();
    const desiredChanged = v.desired !== want;
    v.desired = want;
    const r = run("vip", "simulated", want === "enabled" ? "enable" : "disable", name, nowIso(), t0, `${v.address}/${v.prefix} ${want} (simulated)`);
    v.lastRun = r;
    this.emit({ type: "vip.run", vip: name, run: r });
    if (v.observed !== want || desiredChanged) {
      v.observed = want;
      this.emit({ type: "vip.state", vip: name, observed: want, desired: want });
    }
    return r;
  }

  private async setMode(app: AppSnapshot, mode: "primary" | "backup"): Promise<{ ok: true; runs: DriverRun[] } | { ok: false; code: ErrorCode; error: string; runs: DriverRun[] }> {
    const runs: DriverRun[] = [];
    const vip = app.vip;
    if (app.state !== "running") {
      if (mode === "backup" && vip) runs.push(await this.lock(`vip:${vip}`, async () => this.setVip(vip, "disabled")));
      return { ok: false, code: "NOT_RUNNING", error: `${app.name} is ${app.state}`, runs };
    }
    const t0 = performance.now();
    const startedAt = nowIso();
    await sleep(this.cfg.hookDelayMs);
    const hook = run("mode-hook", "http", "set-mode", app.name, startedAt, t0, mode);
    runs.push(hook);
    this.setAppMode(app, mode, hook);
    if (vip) runs.push(await this.lock(`vip:${vip}`, async () => this.setVip(vip, mode === "primary" ? "enabled" : "disabled")));
    return { ok: true, runs };
  }

  private async startApp(app: AppSnapshot, reason: string) {
    app.pid = null;
    this.setState(app, "starting", reason);
    await sleep(this.cfg.startDelayMs);
    app.pid = nextPid++;
    app.startedAt = nowIso();
    app.restarts++;
    this.setState(app, "running", "process started");
  }

  private stopApp(app: AppSnapshot, reason: string) {
    this.setState(app, "stopping", reason);
    app.lastExit = { code: 0, signal: null, at: nowIso() };
    this.setState(app, "stopped", "exited after stop", app.lastExit);
    app.pid = null;
    this.setAppMode(app, "unknown", null);
  }

  /** The child exited on its own (kill -9): report first (hot path), then what the real agent does. */
  failApp(appName: string): number {
    const app = this.apps.get(appName);
    if (!app) throw new Error(`no app ${appName} on ${this.name}`);
    const at = epochMs();
    const exit = { code: null, signal: "SIGKILL", at: nowIso() };
    this.setState(app, "failed", "process exited (signal SIGKILL)", exit);
    app.pid = null;
    const vip = app.vip;
    const v = vip ? this.vips.get(vip) : undefined;
    if (vip && v && !(v.desired === "disabled" && v.observed === "disabled")) void this.lock(`vip:${vip}`, async () => this.setVip(vip, "disabled"));
    if (app.mode !== "unknown") this.setAppMode(app, "unknown", null);
    // The agent restarts a failed server itself, in backup mode (agent/app.ts scheduleRestart).
    setTimeout(() => {
      void this.lock(`app:${app.name}`, async () => {
        if (app.state !== "failed") return;
        await this.startApp(app, "restart after failure");
        await this.setMode(app, "backup");
      });
    }, this.cfg.restartDelayMs);
    return at;
  }

  async close() {
    await new Promise<void>((r) => this.io.close(() => r()));
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const i = process.argv.indexOf("--config");
  if (i < 0 || !process.argv[i + 1]) throw new Error("usage: tsx bench/fake-agents.ts --config layout.json");
  const parsed = Layout.safeParse(JSON.parse(readFileSync(process.argv[i + 1], "utf8")));
  if (!parsed.success) throw new Error(`layout: ${parsed.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; ")}`);
  const cfg = parsed.data;
  const tokenDigest = digest(cfg.token);
  const hosts = new Map<string, FakeHost>();
  for (const h of cfg.hosts) hosts.set(h.name, new FakeHost(h.name, h.apps, cfg, tokenDigest));
  await Promise.all([...hosts.values()].map((h) => h.start()));
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const out = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");
  out({ ready: true, hosts: [...hosts.values()].map((h) => ({ name: h.name, port: h.port })) });

  let stopping = false;
  const stop = async (id: string | null) => {
    if (stopping) return;
    stopping = true;
    await Promise.race([Promise.all([...hosts.values()].map((h) => h.close())), sleep(3000)]);
    if (id) out({ id, stopped: true });
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop(null));
  process.on("SIGINT", () => void stop(null));
  // The bench went away: do not linger.
  process.stdin.on("end", () => void stop(null));

  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    let msg: z.infer<typeof Ctl>;
    try {
      const r = Ctl.safeParse(JSON.parse(line));
      if (!r.success) return out({ error: `control: ${r.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; ")}` });
      msg = r.data;
    } catch {
      return out({ error: "control: not JSON" });
    }
    if (msg.op === "fail") {
      try {
        // One synchronous loop: every failure is emitted in the same tick ("at once").
        const at = msg.targets.map((t) => {
          const h = hosts.get(t.host);
          if (!h) throw new Error(`no host ${t.host}`);
          return h.failApp(t.app);
        });
        out({ id: msg.id, at });
      } catch (e) {
        out({ id: msg.id, error: (e as Error).message });
      }
    } else if (msg.op === "stats") {
      const c = process.cpuUsage(cpu0);
      out({
        id: msg.id,
        stats: {
          ...stats,
          cpuMs: Math.round((c.user + c.system) / 1000),
          rssMB: +(process.memoryUsage().rss / 1048576).toFixed(1),
          eventLoopDelayMs: { p50: +(lag.percentile(50) / 1e6).toFixed(2), p99: +(lag.percentile(99) / 1e6).toFixed(2), max: +(lag.max / 1e6).toFixed(2) },
        },
      });
    } else void stop(msg.id);
  });
}

main().catch((e) => {
  log("error", "fake agents failed", { error: (e as Error).stack });
  process.exit(1);
});
