/**
 * The agent: owns the apps and VIPs, serves the controller over socket.io (namespace AGENT_NAMESPACE).
 * See docs/agent.md and protocol/agent.ts.
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import { isIP } from "node:net";
import { Server, type Socket } from "socket.io";
import {
  AGENT_NAMESPACE,
  Command,
  Handshake,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  Ping,
  type AgentEvent,
  type AgentSnapshot,
  type AgentToController,
  type CommandAck,
  type ControllerToAgent,
  type DriverRun,
  type ErrorCode,
} from "../protocol/agent";
import { log } from "../lib/log";
import { App } from "./app";
import { Fence } from "./fence";
import { AgentMetrics } from "./metrics";
import type { AgentConfig } from "./config";
import { runModeHook, type HookResult } from "./hooks";
import { HandshakeRefusals } from "./refusals";
import { StateStore } from "./store";
import { KeyedLock, nowIso, type EmitFn } from "./util";
import { Vip } from "./vip";

const AGENT_VERSION = "0.1.0";

/** Hard transport limit: larger frames close the connection. Frames between MAX_FRAME_BYTES and this get an INVALID answer. */
const TRANSPORT_MAX_BYTES = MAX_FRAME_BYTES * 4;

export interface AgentOptions {
  config: AgentConfig;
  tokens: string[];
  insecure?: boolean;
}

export class StartupError extends Error {}

/**
 * zod compiles a schema's fast path on its first parse: measured 0.7-2.6 ms for a command type's first
 * parse, then 0.05 ms. Without this, the first `app.setMode` of an agent's life (typically the promote of
 * a failover) pays it between its arrival and the mode hook request. Validation only: nothing is executed.
 */
function warmCommandParser() {
  const base = { id: "warm-up", epoch: 0 };
  for (const c of [
    { type: "state.get" },
    { type: "app.start", app: "x", mode: "backup" },
    { type: "app.stop", app: "x" },
    { type: "app.restart", app: "x", mode: "backup" },
    { type: "app.setMode", app: "x", mode: "primary" },
    { type: "app.setMode", app: "x", mode: "backup" },
    { type: "vip.enable", vip: "x" },
    { type: "vip.disable", vip: "x" },
  ])
    Command.safeParse({ ...base, ...c });
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

function isLoopback(host: string) {
  return host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
}

type AgentSocket = Socket<ControllerToAgent, AgentToController>;

export class Agent {
  readonly bootId = randomUUID();
  readonly agentId: string;
  readonly store: StateStore;
  readonly apps = new Map<string, App>();
  readonly vips = new Map<string, Vip>();
  private seq = 0;
  private io?: Server<ControllerToAgent, AgentToController>;
  private httpServer?: http.Server | https.Server;
  private readonly metrics: AgentMetrics;
  private metricsServer?: http.Server;
  private tokenDigests: Buffer[];
  private lock = new KeyedLock();
  /** Takes the fencing VIPs down when no controller has pinged for as long as the last ping said (./fence.ts). */
  private readonly fence = new Fence((reason) => this.fenceVips(reason));
  private readonly cfg: AgentConfig;

  constructor(private readonly opts: AgentOptions) {
    this.cfg = opts.config;
    if (opts.tokens.length === 0) {
      if (!opts.insecure) throw new StartupError("no token configured (tokens or tokenFile): refusing to start; use --insecure only for a loopback test setup");
      if (!isLoopback(this.cfg.listen.host)) throw new StartupError(`--insecure is only allowed when listening on loopback, not ${this.cfg.listen.host}`);
    }
    this.tokenDigests = opts.tokens.map(digest);
    this.agentId = this.cfg.agentId ?? os.hostname();
    this.store = new StateStore(this.cfg.stateDir);
    const emit: EmitFn = (e) => this.emit(e);
    this.metrics = new AgentMetrics({
      snapshot: () => this.snapshot(),
      controllerConnected: () => (this.io?.of(AGENT_NAMESPACE).sockets.size ?? 0) > 0,
    });
    for (const v of this.cfg.vips) this.vips.set(v.name, new Vip(v, this.store, emit, (run, how) => this.metrics.vipRun(v.name, run, how)));
    for (const a of this.cfg.apps)
      this.apps.set(
        a.name,
        new App(a, this.store, {
          emit,
          onFailure: (app, reason) => this.onAppFailure(app, reason),
          onRestarted: (app) => this.onAppRestarted(app),
          onProbe: (app, ok) => this.metrics.probe(app.name, ok),
        }),
      );
  }

  get highestEpoch() {
    return this.store.state.highestEpoch;
  }

  private emit(e: Parameters<EmitFn>[0]) {
    const ev = { ...e, seq: ++this.seq, at: nowIso() } as AgentEvent;
    this.io?.of(AGENT_NAMESPACE).emit("event", ev);
    this.metrics.event(ev);
  }

  snapshot(): AgentSnapshot {
    return {
      protocol: PROTOCOL_VERSION,
      agentId: this.agentId,
      version: AGENT_VERSION,
      bootId: this.bootId,
      seq: this.seq,
      epoch: this.highestEpoch,
      at: nowIso(),
      apps: [...this.apps.values()].map((a) => a.snapshot()),
      vips: [...this.vips.values()].map((v) => v.snapshot()),
    };
  }

  /**
   * An app exited or hung: take its VIP down on this host at once. This is the one place that removes the
   * VIP from a host whose app failed (the controller does not send a vip.disable for it): it works while
   * the controller is away. The restart (App.scheduleRestart) and the backup mode (onAppRestarted) follow.
   */
  private onAppFailure(app: App, reason: string) {
    const vip = app.cfg.vip ? this.vips.get(app.cfg.vip) : undefined;
    if (!vip) return;
    if (vip.desired === "disabled" && vip.observed === "disabled") return;
    // The app.state event has been emitted already; setImmediate lets socket.io finish writing it (a packet
    // queued behind an earlier one is flushed on a nextTick) before `ip addr del` is spawned, which blocks
    // this thread for a few ms: the controller's promotion of the peer must not wait for our clean-up.
    setImmediate(() => {
      void this.lock.run(`vip:${vip.cfg.name}`, () => vip.disable()).then((r) => {
        log[r.ok ? "info" : "error"]("VIP disabled after app failure", { app: app.name, vip: vip.cfg.name, reason, ok: r.ok, error: r.error });
      });
    });
  }

  /**
   * An app the agent restarted after a failure is running again: it comes back as backup, never primary by
   * itself, through the same path as autostart's mode (mode hook, app.mode event with the hook's run, VIP
   * disabled; without a hook the agent records backup). The controller promotes it with app.setMode if it
   * wants it primary.
   */
  private onAppRestarted(app: App) {
    void this.lock.run(`app:${app.name}`, async () => {
      const m = await this.setMode(app, "backup");
      if (m.ok) log.info("app restarted after a failure: set to backup", { app: app.name });
      else log.error("app restarted after a failure: could not set it to backup", { app: app.name, code: m.code, error: m.error });
    });
  }

  private bumpEpoch(epoch: number) {
    if (epoch > this.store.state.highestEpoch) {
      this.store.state.highestEpoch = epoch;
      this.store.save();
      // Every connected controller hears it: one whose term is now below moves above (or stops acting).
      this.emit({ type: "agent.epoch", epoch });
    }
  }

  /**
   * The agent belongs to the cluster of the first controller that connects (stored with its epoch): a
   * controller of another cluster (another Switchyard given the same token) is refused, instead of
   * fencing the real one with its epochs. `switchyard-agent --forget-cluster` undoes the binding.
   */
  private clusterProblem(cluster: string | undefined): string | null {
    if (!cluster) return null; // an older controller: no cluster to check
    const bound = this.store.state.cluster;
    if (bound === null) {
      this.store.state.cluster = cluster;
      this.store.save();
      log.info("agent bound to its controller's cluster", { cluster });
      return null;
    }
    return bound === cluster ? null : `FOREIGN_CLUSTER: this agent belongs to Switchyard cluster ${bound}, not ${cluster} (a second Switchyard with the same token? To move the agent: switchyard-agent --config FILE --forget-cluster)`;
  }

  async start(): Promise<{ port: number; host: string }> {
    warmCommandParser(); // before listening: no command waits for it
    // Re-adopt processes from a previous run before anything else: an agent restart changes nothing.
    for (const app of this.apps.values()) await app.tryAdopt();
    await Promise.all([...this.vips.values()].map((v) => v.start()));

    const c = this.cfg;
    this.httpServer = c.tls
      ? https.createServer({ cert: readFileSync(c.tls.cert), key: readFileSync(c.tls.key) })
      : http.createServer();
    this.httpServer.on("request", (req, res) => {
      // socket.io handles its own path; anything else is 404.
      if (!req.url?.startsWith("/socket.io/")) {
        res.writeHead(404).end();
      }
    });
    const io = new Server<ControllerToAgent, AgentToController>(this.httpServer, {
      maxHttpBufferSize: TRANSPORT_MAX_BYTES,
      serveClient: false,
      // Heartbeats are the application's (ping with ack); keep engine.io's own generous.
      pingInterval: 10_000,
      pingTimeout: 20_000,
    });
    this.io = io;
    io.of("/").use((_s, next) => next(new Error(`use namespace ${AGENT_NAMESPACE}`)));
    const nsp = io.of(AGENT_NAMESPACE);
    // Refusals are logged as counts per interval (the first at once): a flood of bad handshakes must not flood the log.
    const refusals = new HandshakeRefusals(log);
    nsp.use((socket, next) => {
      const r = Handshake.safeParse(socket.handshake.auth);
      if (!r.success) {
        const err = new Error(`INVALID: handshake: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`) as Error & { data?: unknown };
        err.data = { code: "INVALID" };
        refusals.refused("INVALID", socket.handshake.address);
        return next(err);
      }
      if (!this.checkToken(r.data.token)) {
        const err = new Error("UNAUTHORIZED: bad token") as Error & { data?: unknown };
        err.data = { code: "UNAUTHORIZED" };
        refusals.refused("UNAUTHORIZED", socket.handshake.address, { controllerId: r.data.controllerId });
        return next(err);
      }
      if (r.data.protocol !== PROTOCOL_VERSION) {
        const err = new Error(`PROTOCOL: agent speaks protocol ${PROTOCOL_VERSION}, controller ${r.data.protocol}`) as Error & { data?: unknown };
        err.data = { code: "PROTOCOL", protocol: PROTOCOL_VERSION };
        refusals.refused("PROTOCOL", socket.handshake.address, { protocol: r.data.protocol });
        return next(err);
      }
      const foreign = this.clusterProblem(r.data.cluster);
      if (foreign) {
        const err = new Error(foreign) as Error & { data?: unknown };
        err.data = { code: "FOREIGN_CLUSTER", cluster: this.store.state.cluster };
        refusals.refused("FOREIGN_CLUSTER", socket.handshake.address, { controllerId: r.data.controllerId, cluster: r.data.cluster });
        return next(err);
      }
      socket.data = { controllerId: r.data.controllerId };
      this.bumpEpoch(r.data.epoch);
      next();
    });
    nsp.on("connection", (socket) => this.onConnection(socket as AgentSocket));

    if (!c.tokens.length && this.opts.tokens.length === 0) log.warn("INSECURE: no token, loopback only");
    await new Promise<void>((resolve, reject) => {
      this.httpServer!.once("error", reject);
      this.httpServer!.listen(c.listen.port, c.listen.host, () => resolve());
    });
    if (c.metrics) {
      this.metricsServer = await this.metrics.listen(c.metrics.listen.host, c.metrics.listen.port);
      log.info("metrics listening (no authentication)", { url: `http://${c.metrics.listen.host}:${c.metrics.listen.port}/metrics` });
    }
    const addr = this.httpServer.address() as { port: number; address: string };
    log.info("agent listening", {
      host: addr.address,
      port: addr.port,
      tls: !!c.tls,
      namespace: AGENT_NAMESPACE,
      agentId: this.agentId,
      bootId: this.bootId,
      highestEpoch: this.highestEpoch,
      apps: [...this.apps.keys()],
      vips: [...this.vips.keys()],
    });
    // Autostart after listening, so that a controller sees it happen.
    for (const app of this.apps.values()) {
      const as = app.cfg.autostart;
      if (!as || app.alive) continue;
      const mode = typeof as === "object" ? as.mode : undefined;
      void this.lock.run(`app:${app.name}`, async () => {
        const r = await app.start("autostart");
        if (r.ok && mode) await this.setMode(app, mode);
      });
    }
    return { port: addr.port, host: addr.address };
  }

  private checkToken(token: string): boolean {
    const d = digest(token);
    let ok = false;
    for (const t of this.tokenDigests) ok = timingSafeEqual(d, t) || ok; // compare against all, no early exit
    return ok || (this.tokenDigests.length === 0 && !!this.opts.insecure);
  }

  private onConnection(socket: AgentSocket) {
    const controllerId = (socket.data as { controllerId: string }).controllerId;
    log.info("controller connected", { controllerId, remote: socket.handshake.address, socket: socket.id });
    const hb = this.cfg.heartbeat.timeoutMs;
    let deadline = setTimeout(() => silent(), hb);
    const silent = () => {
      log.warn("controller silent: disconnecting", { controllerId, timeoutMs: hb });
      socket.disconnect(true);
    };
    const alive = () => {
      clearTimeout(deadline);
      deadline = setTimeout(silent, hb);
    };
    const bad: number[] = [];
    const badFrame = (message: string, ack?: unknown) => {
      const now = Date.now();
      bad.push(now);
      while (bad.length && now - bad[0] > this.cfg.badFrames.windowMs) bad.shift();
      log.warn("bad frame", { controllerId, message: message.slice(0, 300), count: bad.length });
      const err = { code: "INVALID" as ErrorCode, message };
      if (typeof ack === "function") (ack as (a: CommandAck) => void)({ ok: false, id: null, error: err, runs: [] });
      else socket.emit("protocolError", err);
      if (bad.length >= this.cfg.badFrames.max) {
        log.warn("too many bad frames: disconnecting", { controllerId });
        socket.emit("protocolError", { code: "INVALID", message: `too many bad frames (${bad.length} in ${this.cfg.badFrames.windowMs} ms): disconnecting` });
        socket.disconnect(true);
      }
    };
    socket.on("disconnect", (reason) => {
      clearTimeout(deadline);
      log.info("controller disconnected", { controllerId, reason });
    });
    socket.onAny((event: string, ...args: unknown[]) => {
      if (event === "command" || event === "ping") return;
      badFrame(`unknown event ${JSON.stringify(String(event).slice(0, 64))}`, args[args.length - 1]);
    });
    socket.on("ping", (p: unknown, ack: unknown) => {
      if (typeof ack !== "function") return badFrame("ping: acknowledgement callback required");
      const r = Ping.safeParse(p);
      if (!r.success) return badFrame(`ping: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`, ack);
      alive();
      this.fence.heard(r.data.fenceAfterMs);
      (ack as (x: unknown) => void)({ t: r.data.t, agentTime: Date.now(), seq: this.seq });
    });
    socket.on("command", (raw: unknown, ack: unknown) => {
      alive();
      if (typeof ack !== "function") return badFrame("command: acknowledgement callback required");
      let size = 0;
      try {
        size = Buffer.byteLength(JSON.stringify(raw) ?? "");
      } catch {
        return badFrame("command: not serialisable", ack);
      }
      if (size > MAX_FRAME_BYTES) return badFrame(`command: frame of ${size} bytes exceeds ${MAX_FRAME_BYTES}`, ack);
      const r = Command.safeParse(raw);
      if (!r.success)
        return badFrame(`command: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`, ack);
      const t0 = performance.now();
      this.handle(r.data).then(
        (a) => {
          (ack as (x: CommandAck) => void)(a);
          log.info("command", { controllerId, id: r.data.id, type: r.data.type, epoch: r.data.epoch, ok: a.ok, code: a.ok ? undefined : a.error.code, ms: Math.round((performance.now() - t0) * 10) / 10 });
        },
        (e: Error) => {
          log.error("command crashed", { id: r.data.id, error: e.stack });
          (ack as (x: CommandAck) => void)({ ok: false, id: r.data.id, error: { code: "FAILED", message: `internal error: ${e.message}` }, runs: [] });
        },
      );
    });
    socket.emit("snapshot", this.snapshot());
  }

  private fail(id: string, code: ErrorCode, message: string, runs: DriverRun[] = [], extra: { highestEpoch?: number } = {}): CommandAck {
    return { ok: false, id, error: { code, message }, runs, ...extra };
  }

  /** Executes one validated command. Exported for tests through the socket only. */
  private async handle(cmd: Command): Promise<CommandAck> {
    if (cmd.epoch < this.highestEpoch)
      return this.fail(cmd.id, "STALE_EPOCH", `epoch ${cmd.epoch} is lower than the highest seen (${this.highestEpoch})`, [], { highestEpoch: this.highestEpoch });
    this.bumpEpoch(cmd.epoch);
    const ok = (runs: DriverRun[]): CommandAck => ({ ok: true, id: cmd.id, runs, snapshot: this.snapshot() });
    if (cmd.type === "state.get") return ok([]);
    if (cmd.type === "fence.hold") {
      this.fence.hold(cmd.holdMs);
      return ok([]);
    }
    if (cmd.type === "vip.enable" || cmd.type === "vip.disable") {
      const vip = this.vips.get(cmd.vip);
      if (!vip) return this.fail(cmd.id, "UNKNOWN_VIP", `no VIP named ${cmd.vip} in this agent's configuration (known: ${[...this.vips.keys()].join(", ") || "none"})`);
      const r = await this.lock.run(`vip:${vip.cfg.name}`, () => (cmd.type === "vip.enable" ? vip.enable() : vip.disable()));
      return r.ok ? ok(r.runs) : this.fail(cmd.id, "FAILED", r.error ?? "failed", r.runs);
    }
    const app = this.apps.get(cmd.app);
    if (!app) return this.fail(cmd.id, "UNKNOWN_APP", `no app named ${cmd.app} in this agent's configuration (known: ${[...this.apps.keys()].join(", ") || "none"})`);
    return this.lock.run(`app:${app.name}`, async () => {
      switch (cmd.type) {
        case "app.start":
        case "app.restart": {
          const r = cmd.type === "app.start" ? await app.start() : await app.restart();
          if (!r.ok) return this.fail(cmd.id, "FAILED", r.error ?? "start failed");
          if (!cmd.mode) return ok([]);
          const m = await this.setMode(app, cmd.mode);
          return m.ok ? ok(m.runs) : this.fail(cmd.id, m.code, m.error, m.runs);
        }
        case "app.stop": {
          const r = await app.stop();
          if (!r.ok) return this.fail(cmd.id, "TIMEOUT", r.error ?? "stop failed");
          // A stopped server serves nothing: its VIP goes down with it (the rule after a failure, too).
          const vip = app.cfg.vip ? this.vips.get(app.cfg.vip) : undefined;
          if (!vip || (vip.desired === "disabled" && vip.observed === "disabled")) return ok([]);
          const d = await this.lock.run(`vip:${vip.cfg.name}`, () => vip.disable());
          return d.ok ? ok(d.runs) : this.fail(cmd.id, "FAILED", d.error ?? "VIP disable failed", d.runs);
        }
        case "app.setMode": {
          const m = await this.setMode(app, cmd.mode);
          return m.ok ? ok(m.runs) : this.fail(cmd.id, m.code, m.error, m.runs);
        }
      }
    });
  }

  /**
   * The mode change (hot path for primary): mode hook → app confirms → VIP enable (ip addr add, first
   * gratuitous ARP) or VIP disable. No sleeps, no polling.
   */
  private async setMode(app: App, mode: "primary" | "backup"): Promise<{ ok: true; runs: DriverRun[] } | { ok: false; code: ErrorCode; error: string; runs: DriverRun[] }> {
    const runs: DriverRun[] = [];
    const vip = app.cfg.vip ? this.vips.get(app.cfg.vip) : undefined;
    if (app.state !== "running") {
      // A backup request still takes the VIP down: never leave it on a host whose app is not serving.
      if (mode === "backup" && vip) runs.push(...(await this.lock.run(`vip:${vip.cfg.name}`, () => vip.disable())).runs);
      return { ok: false, code: "NOT_RUNNING", error: `${app.name} is ${app.state}`, runs };
    }
    let hookOk = true;
    let hookError = "";
    const hookOutcome = (h: HookResult) => {
      if (h.confirmed === mode) app.setMode(mode, h.run);
      else {
        hookOk = false;
        hookError = h.run.timedOut
          ? `mode hook timed out`
          : `mode hook did not confirm ${mode} (${h.run.stderr.trim() || h.run.stdout.trim() || `exit ${h.run.exitCode}`})`;
        app.setMode(h.confirmed, h.run);
      }
    };
    if (mode === "primary" && vip && app.cfg.modeHook && vip.gated) {
      // Promotion, gated driver (linux: agent/vip/linux.ts): `ip addr add` runs while the app answers its
      // mode hook; the first gratuitous ARP waits for the app's confirmation (the gate), and a refusal
      // removes the address again. The address without an ARP moves no client: they still resolve the VIP
      // to the old holder's MAC.
      let open!: (ok: boolean) => void;
      const gate = new Promise<boolean>((r) => (open = r));
      let startVip!: () => void;
      const sent = new Promise<void>((r) => (startVip = r));
      const hookP = runModeHook(app.cfg, app.cfg.modeHook, mode, () => startVip());
      // Spawn `ip` once the hook request is on its way (not before: the spawn blocks this thread for a
      // few ms, the app can answer meanwhile).
      const vipP = Promise.race([sent, hookP]).then(() => this.lock.run(`vip:${vip.cfg.name}`, () => vip.enable(gate)));
      let h: HookResult;
      try {
        h = await hookP;
        hookOutcome(h);
      } finally {
        open(hookOk);
      }
      const r = await vipP;
      runs.push(h.run, ...r.runs); // in order: mode hook, ip addr add, first ARP (or the roll-back)
      if (!hookOk) return { ok: false, code: h.run.timedOut ? "TIMEOUT" : "FAILED", error: `${hookError}; VIP ${vip.cfg.name}: ${r.ok ? "enabled" : r.error}`, runs };
      if (!r.ok) return { ok: false, code: "FAILED", error: `VIP ${vip.cfg.name}: ${r.error}`, runs };
      return { ok: true, runs };
    }
    if (app.cfg.modeHook) {
      const h = await runModeHook(app.cfg, app.cfg.modeHook, mode);
      runs.push(h.run);
      hookOutcome(h);
    } else app.setMode(mode, null); // no hook: the agent records the mode itself
    if (vip) {
      if (mode === "primary" && hookOk) {
        const r = await this.lock.run(`vip:${vip.cfg.name}`, () => vip.enable());
        runs.push(...r.runs);
        if (!r.ok) return { ok: false, code: "FAILED", error: `VIP ${vip.cfg.name}: ${r.error}`, runs };
      } else if (mode === "backup") {
        const r = await this.lock.run(`vip:${vip.cfg.name}`, () => vip.disable());
        runs.push(...r.runs);
        if (!r.ok) return { ok: false, code: "FAILED", error: `VIP ${vip.cfg.name}: ${r.error}`, runs };
      }
    }
    if (!hookOk) return { ok: false, code: runs[0]?.timedOut ? "TIMEOUT" : "FAILED", error: hookError, runs };
    return { ok: true, runs };
  }

  /** Closes the server and timers. Applications keep running (by design). */
  private fenceVips(reason: string) {
    for (const vip of this.vips.values()) {
      if (!vip.cfg.fence || vip.desired !== "enabled") continue;
      log.warn("self-fencing: taking the VIP down", { vip: vip.cfg.name, address: vip.cfg.address, reason });
      void this.lock.run(`vip:${vip.cfg.name}`, () => vip.disable()).then((r) => {
        if (!r.ok) log.error("self-fencing: the VIP could not be taken down", { vip: vip.cfg.name, error: r.error });
      });
    }
  }

  async close() {
    this.metricsServer?.close();
    this.fence.close();
    for (const a of this.apps.values()) a.close();
    for (const v of this.vips.values()) v.close();
    this.store.flush();
    await new Promise<void>((r) => (this.io ? this.io.close(() => r()) : r()));
  }
}
