/**
 * Supervision of one application: spawn (own process group), exit detection from the child's exit event,
 * stop (SIGTERM, then SIGKILL after stopTimeoutMs), restart with backoff, crash-loop detection, health probe
 * (hung detection), re-adoption of a process started by a previous agent run.
 *
 * The agent is the one owner of restarting a failed app (the controller does not restart it): after an
 * unexpected exit (restart.policy) or a hang (probe.onHung "restart"), with backoff and the crash-loop rule
 * in one place (scheduleRestart). A restarted app comes back as backup: once it runs again, the agent tells
 * it so (AppHooks.onRestarted).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import type { AppSnapshot, AppState, ExitInfo, GroupCleanup, Health, ObservedMode } from "../protocol/agent";
import { log } from "../lib/log";
import type { AppConfig } from "./config";
import { runModeHook, runProbe, type HookResult } from "./hooks";
import { endGroup, escapedDescendants, readDescendants, readProcTable, sameProcessAlive } from "./proc";
import { procStartTime, procState, type StateStore } from "./store";
import { nowIso, type EmitFn } from "./util";


export interface AppHooks {
  emit: EmitFn;
  /** Called at once when the app exits unexpectedly or is declared hung: the agent disables its VIP. */
  onFailure: (app: App, reason: string) => void;
  /**
   * Called when an app that the agent restarted after a failure is running again: the agent tells it
   * `backup` (a restarted server never becomes primary by itself).
   */
  onRestarted: (app: App) => void;
  /** Each health probe's result (metrics). */
  onProbe?: (app: App, ok: boolean) => void;
}

/** How often an adopted process (not our child: no exit event) is checked with kill(pid, 0). */
const ADOPTED_WATCH_MS = 50;
/**
 * After an unexpected exit, the clean-up of the app's other processes starts this much later: its /proc
 * scan (about 150-200 small reads) must not compete for the CPU with the peer's promotion, which happens
 * in these milliseconds (the same reason the VIP's re-read waits 100 ms).
 */
const GROUP_CLEANUP_DELAY_MS = 100;

export class App {
  state: AppState = "stopped";
  pid: number | null = null;
  mode: ObservedMode = "unknown";
  health: Health = { status: "unknown", consecutiveFailures: 0, lastError: null, lastCheckedAt: null };
  lastExit: ExitInfo | null = null;
  restarts = 0;
  crashLoop = false;
  startedAt: string | null = null;
  adopted = false;
  /** The last clean-up of processes left behind by a main process that was gone (a forking server's workers). */
  lastGroup: GroupCleanup | null = null;

  private child?: ChildProcess;
  private exitWaiters: ((e: ExitInfo) => void)[] = [];
  private stateWaiters: (() => void)[] = [];
  private restartTimes: number[] = [];
  private restartTimer?: NodeJS.Timeout;
  private probeTimer?: NodeJS.Timeout;
  private startTimer?: NodeJS.Timeout;
  private killTimer?: NodeJS.Timeout;
  private adoptTimer?: NodeJS.Timeout;
  private probeGen = 0;
  private scanTimer?: NodeJS.Timeout;
  private scanGen = 0;
  /** Descendants seen by the periodic scan that left the app's group and session (setsid). */
  private escaped = new Map<number, { pid: number; startTime: string; comm: string }>();
  /** The clean-up of the previous process's leftovers: a new process starts after it (its port is free). */
  private cleanup: Promise<void> = Promise.resolve();
  /** Bumped by every start and stop: a restart after a failure that waited for its clean-up is then void. */
  private commandGen = 0;
  /** Start time (/proc/PID/stat field 22) of the current main process: bounds what counts as its leftovers. */
  private leaderStart: string | null = null;
  /** performance.now() time at which a stop sends SIGKILL. */
  private stopDeadline: number | null = null;
  private closed = false;
  /** The current process was started by the agent's own restart after a failure (not by a command). */
  private restartedAfterFailure = false;

  constructor(
    readonly cfg: AppConfig,
    private readonly store: StateStore,
    private readonly hooks: AppHooks,
  ) {}

  get name() {
    return this.cfg.name;
  }

  snapshot(): AppSnapshot {
    return {
      name: this.cfg.name,
      state: this.state,
      pid: this.pid,
      mode: this.mode,
      vip: this.cfg.vip ?? null,
      health: { ...this.health },
      lastExit: this.lastExit,
      restarts: this.restarts,
      crashLoop: this.crashLoop,
      startedAt: this.startedAt,
      lastGroup: this.lastGroup,
    };
  }

  private setState(state: AppState, reason: string, exit: ExitInfo | null = null) {
    const previous = this.state;
    if (previous === state && !exit) return;
    this.state = state;
    this.hooks.emit({ type: "app.state", app: this.name, state, previous, pid: this.pid, exit, reason });
    log.info("app state", { app: this.name, state, previous, pid: this.pid, reason, exit });
    const w = this.stateWaiters;
    this.stateWaiters = [];
    for (const f of w) f();
  }

  setMode(mode: ObservedMode, run: HookResult["run"] | null) {
    const changed = mode !== this.mode;
    this.mode = mode;
    const rec = this.store.state.apps[this.name];
    if (rec && rec.mode !== mode) {
      rec.mode = mode;
      this.store.saveSoon(); // not between the mode hook and the VIP
    }
    if (changed || run) this.hooks.emit({ type: "app.mode", app: this.name, mode, run });
  }

  /** Resolves when `pred` holds (checked now and after every state change) or after timeoutMs (false). */
  private waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.stateWaiters = this.stateWaiters.filter((f) => f !== check);
        resolve(false);
      }, timeoutMs);
      const check = () => {
        if (pred()) {
          clearTimeout(t);
          resolve(true);
        } else this.stateWaiters.push(check);
      };
      this.stateWaiters.push(check);
    });
  }

  get alive() {
    return this.pid !== null && (this.state === "starting" || this.state === "running" || this.state === "hung" || this.state === "stopping");
  }

  /** Re-adopts a process recorded by a previous agent run, if it is still the same process. */
  async tryAdopt(): Promise<boolean> {
    const rec = this.store.state.apps[this.name];
    if (!rec) return false;
    const st = procStartTime(rec.pid);
    const pstate = procState(rec.pid);
    if (st === null || st !== rec.startTime || pstate === "Z") {
      delete this.store.state.apps[this.name];
      this.store.save();
      return false;
    }
    this.adopted = true;
    this.pid = rec.pid;
    this.leaderStart = rec.startTime;
    this.startedAt = nowIso();
    this.mode = rec.mode;
    this.state = pstate === "T" ? "hung" : "running";
    log.info("adopted running app", { app: this.name, pid: rec.pid, mode: rec.mode });
    this.adoptTimer = setInterval(() => {
      const s = procStartTime(rec.pid);
      if (s === null || s !== rec.startTime || procState(rec.pid) === "Z") {
        clearInterval(this.adoptTimer);
        this.onExit(null, null, "adopted process is gone (exit status unknown: not our child)");
      }
    }, ADOPTED_WATCH_MS);
    this.adoptTimer.unref();
    this.startScan();
    // Learn its mode from the app itself, not only from our record.
    if (this.cfg.modeHook && this.state === "running") {
      const r = await runModeHook(this.cfg, this.cfg.modeHook, null);
      if (r.confirmed !== "unknown") this.setMode(r.confirmed, r.run);
    }
    this.startProbe();
    return true;
  }

  /** Starts the app if it is not running; resolves when it is running (probe passed) or failed. */
  async start(reason = "start command"): Promise<{ ok: boolean; error?: string }> {
    // A command (or autostart) starting the app decides its mode from now on, also when it finds the
    // agent's own restart under way.
    this.restartedAfterFailure = false;
    this.commandGen++;
    if (this.state === "stopping") await this.waitFor(() => this.state !== "stopping", this.cfg.stopTimeoutMs + 2000);
    if (this.state === "running" || this.state === "hung") return { ok: true };
    // The previous process's leftovers first: a forking server's workers would keep its port.
    if (this.state !== "starting") await this.cleanup;
    if ((this.state as AppState) === "running" || (this.state as AppState) === "hung") return { ok: true };
    if (this.state !== "starting") {
      clearTimeout(this.restartTimer);
      this.crashLoop = false;
      this.restartTimes = [];
      this.spawnChild(reason);
    }
    await this.waitFor(() => this.state !== "starting", this.cfg.startTimeoutMs + 1000);
    if ((this.state as AppState) === "running") return { ok: true };
    return { ok: false, error: `${this.name} did not start: ${this.state}${this.lastExit ? ` (exit ${this.lastExit.code ?? this.lastExit.signal})` : ""}` };
  }

  private spawnChild(reason: string, afterFailure = false) {
    const logDir = path.join(this.store.dir, "logs");
    mkdirSync(logDir, { recursive: true });
    // The app's output goes to a file, not a pipe: it must keep running when the agent restarts.
    const fd = openSync(path.join(logDir, `${this.name}.log`), "a");
    let child: ChildProcess;
    this.health = { status: "unknown", consecutiveFailures: 0, lastError: null, lastCheckedAt: null };
    this.adopted = false;
    this.mode = "unknown";
    this.restartedAfterFailure = afterFailure;
    try {
      child = spawn(this.cfg.command, this.cfg.args, {
        cwd: this.cfg.cwd,
        env: { ...process.env, ...this.cfg.env, SWITCHYARD_APP: this.name },
        stdio: ["ignore", fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.pid = child.pid ?? null;
    this.startedAt = nowIso();
    this.escaped.clear();
    this.setState("starting", reason);
    child.on("exit", (code, signal) => {
      if (this.child === child) this.onExit(code, signal, signal ? `killed by ${signal}` : `exited with code ${code}`);
    });
    child.on("error", (e) => {
      if (this.child === child && child.pid === undefined) this.onExit(null, null, `cannot start: ${e.message}`);
    });
    if (child.pid === undefined) return;
    const startTime = procStartTime(child.pid);
    this.leaderStart = startTime;
    if (startTime) {
      this.store.state.apps[this.name] = { pid: child.pid, startTime, mode: "unknown" };
      this.store.save();
    }
    clearTimeout(this.startTimer);
    this.startTimer = setTimeout(() => {
      if (this.state === "starting" && this.child === child) {
        log.warn("app not ready in time", { app: this.name, startTimeoutMs: this.cfg.startTimeoutMs });
        this.health.lastError = `not ready within ${this.cfg.startTimeoutMs} ms`;
        this.kill("SIGKILL");
      }
    }, this.cfg.startTimeoutMs);
    this.startScan();
    if (!this.cfg.probe) {
      child.once("spawn", () => {
        if (this.child === child && this.state === "starting") this.becameRunning("spawned (no probe configured)");
      });
    } else this.startProbe();
  }

  private becameRunning(reason: string) {
    clearTimeout(this.startTimer);
    this.setState("running", reason);
    if (this.restartedAfterFailure) {
      // Restarted by the agent after a failure: the agent sets backup (through the mode hook, which also
      // tells us the mode) instead of learning whatever mode the app started in.
      this.restartedAfterFailure = false;
      this.hooks.onRestarted(this);
      return;
    }
    if (this.cfg.modeHook) {
      // Learn the mode the app starts in (background; not on any hot path).
      void runModeHook(this.cfg, this.cfg.modeHook, null).then((r) => {
        if (this.state === "running" && this.mode === "unknown" && r.confirmed !== "unknown") this.setMode(r.confirmed, r.run);
      });
    }
  }

  private kill(sig: NodeJS.Signals) {
    if (this.pid === null) return;
    try {
      process.kill(-this.pid, sig); // the whole process group
    } catch {
      try {
        process.kill(this.pid, sig);
      } catch {}
    }
  }

  private onExit(code: number | null, signal: string | null, reason: string) {
    const exit: ExitInfo = { code, signal, at: nowIso() };
    const wasStopping = this.state === "stopping";
    clearTimeout(this.killTimer);
    clearTimeout(this.startTimer);
    clearInterval(this.adoptTimer);
    this.stopProbe();
    this.stopScan();
    this.child = undefined;
    this.lastExit = exit;
    const pid = this.pid;
    // Report first: this is the failover hot path.
    this.setState(wasStopping ? "stopped" : "failed", reason, exit);
    this.pid = null;
    this.adopted = false;
    if (!wasStopping) this.hooks.onFailure(this, reason);
    // Then the rest of a forking server (workers still holding its ports): beside the failover, not in
    // front of it; the restart waits for it.
    const cleanup = pid !== null ? this.endLeftovers(pid, wasStopping ? "stop" : "exit") : Promise.resolve();
    this.cleanup = cleanup;
    if (this.store.state.apps[this.name]?.pid === pid) {
      delete this.store.state.apps[this.name];
      this.store.saveSoon();
    }
    if (this.mode !== "unknown") this.setMode("unknown", null);
    const w = this.exitWaiters;
    this.exitWaiters = [];
    for (const f of w) f(exit);
    // The restart policy applies once the leftovers are gone, unless a start or stop came meanwhile.
    const gen = this.commandGen;
    if (!wasStopping && !this.closed) void cleanup.then(() => this.closed || gen !== this.commandGen || this.maybeRestart(exit));
  }

  /**
   * Ends (or, with `group.cleanup: report`, lists) the processes left by the main process `pid`: its group,
   * its session, their descendants and those the periodic scan saw leave both; reports them (app.group
   * event, snapshot, log) when there were any. After a failure it starts GROUP_CLEANUP_DELAY_MS later (the
   * failure event has been written and the VIP's clean-up has started long before); after a stop at once.
   */
  private endLeftovers(pid: number, trigger: "exit" | "stop"): Promise<void> {
    const deadline = trigger === "stop" && this.stopDeadline !== null ? this.stopDeadline : performance.now() + this.cfg.stopTimeoutMs;
    this.stopDeadline = null;
    const known = [...this.escaped.values()];
    this.escaped.clear();
    const leaderStartTime = this.leaderStart;
    const kill = this.cfg.group.cleanup === "kill";
    return new Promise<void>((r) => (trigger === "exit" ? setTimeout(r, GROUP_CLEANUP_DELAY_MS) : setImmediate(r)))
      .then(() => endGroup(pid, { deadline, known, kill, leaderStartTime }))
      .then(
        (r) => {
          const fields = { app: this.name, pid, trigger, count: r.members.length, durationMs: r.durationMs };
          if (r.members.length === 0) return log.debug("no processes left by the app's main process", fields);
          this.lastGroup = {
            pid,
            trigger,
            action: kill ? "killed" : "reported",
            processes: r.members.slice(0, 1000).map((m) => ({ pid: m.pid, comm: m.comm, via: m.via })),
            count: r.members.length,
            sigkilled: r.sigkilled,
            survivors: r.survivors,
            at: nowIso(),
            durationMs: r.durationMs,
          };
          this.hooks.emit({ type: "app.group", app: this.name, cleanup: this.lastGroup });
          const msg = kill ? `ended ${r.members.length} processes left by the app's main process` : `${r.members.length} processes left by the app's main process (not killed: group.cleanup is report)`;
          log[r.survivors.length ? "error" : trigger === "exit" ? "warn" : "info"](msg, { ...fields, pids: r.members.map((m) => m.pid), sigkilled: r.sigkilled, survivors: r.survivors });
        },
        (e: unknown) => log.error("cannot end the processes left by the app's main process", { app: this.name, pid, error: String(e) }),
      );
  }

  /** Periodic /proc scan for descendants that leave the group and session (see config `group.scanIntervalMs`). */
  private startScan() {
    this.stopScan();
    const every = this.cfg.group.scanIntervalMs;
    if (!every) return;
    const gen = ++this.scanGen;
    const tick = async () => {
      const pid = this.pid;
      if (gen !== this.scanGen || pid === null || this.closed) return;
      // The kernel's child lists (reads in proportion to the app's processes), else the whole table.
      const desc = await readDescendants(pid);
      const escaped = desc ? desc.filter((p) => p.pgid !== pid && p.sid !== pid) : escapedDescendants(await readProcTable(), pid);
      if (gen !== this.scanGen || this.pid !== pid) return;
      // Forget the ones that are gone (one reparented after its parent died is still ours: kept).
      for (const [k, v] of this.escaped) if (!sameProcessAlive(v.pid, v.startTime)) this.escaped.delete(k);
      for (const p of escaped) this.escaped.set(p.pid, { pid: p.pid, startTime: p.startTime, comm: p.comm });
      this.scanTimer = setTimeout(tick, every);
      this.scanTimer.unref();
    };
    this.scanTimer = setTimeout(tick, Math.min(every, 1000));
    this.scanTimer.unref();
  }

  private stopScan() {
    this.scanGen++;
    clearTimeout(this.scanTimer);
  }

  private maybeRestart(exit: ExitInfo) {
    const r = this.cfg.restart;
    if (r.policy === "never") return;
    if (r.policy === "on-failure" && exit.code === 0 && exit.signal === null) return;
    this.scheduleRestart("failure", "failed");
  }

  /**
   * probe.onHung "restart": stop the hung process (SIGTERM and SIGCONT to its group, SIGKILL after
   * stopTimeoutMs), then restart it like a failed app: same policy (not with "never"), backoff and
   * crash-loop rule.
   */
  private async restartHung() {
    if (this.cfg.restart.policy === "never") return;
    const s = await this.stop("hung: stopping it to restart it");
    if (!s.ok || this.closed || this.state !== "stopped") return;
    this.scheduleRestart("hang", "stopped");
  }

  /** The one place a failed app is restarted: crash-loop rule, then a new process after the backoff. */
  private scheduleRestart(after: "failure" | "hang", from: AppState) {
    const r = this.cfg.restart;
    const now = Date.now();
    this.restartTimes = this.restartTimes.filter((t) => now - t < r.crashLoop.windowMs);
    if (this.restartTimes.length >= r.crashLoop.maxRestarts) {
      this.crashLoop = true;
      const reason = `${this.restartTimes.length + 1} failures within ${r.crashLoop.windowMs} ms: not restarting`;
      log.error("crash loop", { app: this.name, reason });
      this.hooks.emit({ type: "app.crashloop", app: this.name, restarts: this.restarts, reason });
      return;
    }
    const delay = Math.min(r.maxBackoffMs, r.backoffMs * 2 ** this.restartTimes.length);
    this.restartTimes.push(now);
    this.restartTimer = setTimeout(() => {
      if (this.closed || this.state !== from || this.crashLoop) return;
      this.restarts++;
      this.spawnChild(`restart ${this.restarts} after ${after} (backoff ${delay} ms)`, true);
    }, delay);
  }

  /** SIGTERM to the process group, SIGKILL after stopTimeoutMs; resolves once it has exited. */
  async stop(reason = "stop command"): Promise<{ ok: boolean; error?: string }> {
    clearTimeout(this.restartTimer);
    this.commandGen++;
    this.restartedAfterFailure = false;
    if (this.pid === null) {
      if (this.state !== "stopped" && this.state !== "failed") this.setState("stopped", reason);
      await this.cleanup; // a failed process's leftovers may still be being ended
      return { ok: true };
    }
    const exited = new Promise<ExitInfo>((r) => this.exitWaiters.push(r));
    if (this.state !== "stopping") {
      const wasHung = this.state === "hung" || procState(this.pid) === "T";
      this.setState("stopping", reason);
      this.stopProbe();
      this.stopDeadline = performance.now() + this.cfg.stopTimeoutMs;
      this.kill("SIGTERM");
      if (wasHung) this.kill("SIGCONT"); // a stopped process cannot act on SIGTERM until continued
      clearTimeout(this.killTimer);
      this.killTimer = setTimeout(() => {
        log.warn("stop timeout: SIGKILL", { app: this.name, pid: this.pid });
        this.kill("SIGKILL");
      }, this.cfg.stopTimeoutMs);
    }
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), this.cfg.stopTimeoutMs + 3000).unref());
    const e = await Promise.race([exited, timeout]);
    if (!e) return { ok: false, error: `${this.name} did not exit after SIGKILL` };
    await this.cleanup; // its other processes (bounded: SIGKILL at the stop timeout, then 2 s)
    return { ok: true };
  }

  async restart(): Promise<{ ok: boolean; error?: string }> {
    const s = await this.stop("restart command");
    if (!s.ok) return s;
    return this.start("restart command");
  }

  // ---- health probe ----

  private startProbe() {
    this.stopProbe();
    const p = this.cfg.probe;
    if (!p) return;
    const gen = ++this.probeGen;
    const tick = async () => {
      if (gen !== this.probeGen || this.closed || this.pid === null) return;
      const out = await runProbe(this.cfg, p);
      if (gen !== this.probeGen || this.pid === null) return;
      this.hooks.onProbe?.(this, out.ok);
      this.onProbe(out.ok, out.error);
      // While starting, probe fast so that "running" is reported soon after the app is ready.
      const next = this.state === "starting" ? Math.min(25, p.intervalMs) : p.intervalMs;
      this.probeTimer = setTimeout(tick, next);
    };
    this.probeTimer = setTimeout(tick, 0);
  }

  private stopProbe() {
    this.probeGen++;
    clearTimeout(this.probeTimer);
  }

  private onProbe(ok: boolean, error: string | null) {
    const p = this.cfg.probe!;
    const prev = this.health;
    const at = nowIso();
    if (ok) {
      this.health = { status: "ok", consecutiveFailures: 0, lastError: null, lastCheckedAt: at };
      if (prev.status !== "ok") this.hooks.emit({ type: "app.health", app: this.name, health: { ...this.health } });
      if (this.state === "starting") this.becameRunning("ready (health probe passed)");
      else if (this.state === "hung") this.setState("running", "health probe passed again");
      return;
    }
    if (this.state === "starting") {
      this.health = { ...prev, lastError: error, lastCheckedAt: at };
      return; // not ready yet; startTimeoutMs bounds this
    }
    const n = prev.consecutiveFailures + 1;
    this.health = { status: n >= p.failureThreshold ? "failing" : prev.status, consecutiveFailures: n, lastError: error, lastCheckedAt: at };
    if (n <= p.failureThreshold) this.hooks.emit({ type: "app.health", app: this.name, health: { ...this.health } });
    if (n >= p.failureThreshold && this.state === "running") {
      const stopped = this.pid !== null && procState(this.pid) === "T";
      const reason = `health probe failed ${n} times: ${error}${stopped ? " (process is stopped: SIGSTOP)" : ""}`;
      this.setState("hung", reason);
      this.hooks.onFailure(this, reason);
      if (p.onHung === "restart") void this.restartHung();
    }
  }

  /** Stops timers; leaves the process running (an agent restart must change nothing). */
  close() {
    this.closed = true;
    this.stopProbe();
    this.stopScan();
    clearTimeout(this.restartTimer);
    clearTimeout(this.startTimer);
    clearTimeout(this.killTimer);
    clearInterval(this.adoptTimer);
    this.child?.removeAllListeners();
    this.child?.unref();
  }
}

