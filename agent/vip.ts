/**
 * VIP drivers: linux (ip addr + arping), script (operator's VIP control scripts), simulated (in memory).
 *
 * Hot path (enable): `ip addr add` → spawn the first gratuitous ARP at once → resolve as soon as arping
 * announces it is sending (line-buffered stdout through stdbuf) → remaining ARPs in the background, every
 * garp.intervalMs. No sleeps and no polling before the first ARP.
 */
import { existsSync } from "node:fs";
import type { AgentEvent, DriverRun, VipObserved, VipSnapshot } from "../protocol/agent";
import type { VipConfig } from "./config";
import type { StateStore } from "./store";
import { boundText, log, nowIso, runCommand, syntheticRun } from "./util";

type EmitFn = (e: DistributiveOmit<AgentEvent, "seq" | "at">) => void;
type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never;

export interface VipResult {
  ok: boolean;
  runs: DriverRun[];
  error?: string;
}

/**
 * `ip addr del` of an address that is not there: older iproute2 says "RTNETLINK answers: Cannot assign
 * requested address", iproute2 >= 5.x (Debian 12: 6.1) says "Error: ipv4: Address not found." or
 * "Error: ipv6: address not found." (exit 2). All mean the address is already absent.
 */
export const ADDRESS_ABSENT = /Cannot assign requested address|\bAddress not found\b/i;

const STDBUF = ["/usr/bin/stdbuf", "/bin/stdbuf"].find((p) => existsSync(p)) ?? null;

export class Vip {
  desired: "enabled" | "disabled";
  observed: VipObserved = "unknown";
  duplicate: VipSnapshot["duplicate"] = { detected: false, mac: null, at: null };
  lastRun: DriverRun | null = null;
  private gen = 0;
  private arpTimers: NodeJS.Timeout[] = [];
  private observeTimer?: NodeJS.Timeout;
  private dadTimer?: NodeJS.Timeout;
  private dadRunning = false;
  private closed = false;

  constructor(
    readonly cfg: VipConfig,
    private readonly store: StateStore,
    private readonly emit: EmitFn,
  ) {
    const saved = store.state.vips[cfg.name];
    this.desired = saved?.desired ?? "disabled";
    if (cfg.driver === "simulated") this.observed = saved?.simulated ? "enabled" : "disabled";
  }

  snapshot(): VipSnapshot {
    return {
      name: this.cfg.name,
      address: this.cfg.address,
      prefix: this.cfg.prefix,
      interface: this.cfg.interface,
      driver: this.cfg.driver,
      desired: this.desired,
      observed: this.observed,
      duplicate: { ...this.duplicate },
      lastRun: this.lastRun,
    };
  }

  /** Reads the observed state once, then every observeIntervalMs; periodic DAD for the linux driver. */
  async start() {
    await this.observe();
    const tick = () => {
      if (this.closed) return;
      this.observe().finally(() => {
        if (!this.closed) this.observeTimer = setTimeout(tick, this.cfg.observeIntervalMs).unref();
      });
    };
    this.observeTimer = setTimeout(tick, this.cfg.observeIntervalMs).unref();
    if (this.cfg.driver === "linux" && this.cfg.dad.enabled) {
      const dadTick = () => {
        if (this.closed) return;
        const p = this.desired === "enabled" && this.observed === "enabled" ? this.checkDuplicate() : Promise.resolve(null);
        p.finally(() => {
          if (!this.closed) this.dadTimer = setTimeout(dadTick, this.cfg.dad.intervalMs).unref();
        });
      };
      this.dadTimer = setTimeout(dadTick, this.cfg.dad.intervalMs).unref();
    }
  }

  close() {
    this.closed = true;
    clearTimeout(this.observeTimer);
    clearTimeout(this.dadTimer);
    for (const t of this.arpTimers) clearTimeout(t);
  }

  private env(action: string): Record<string, string> {
    return {
      SWITCHYARD_VIP: this.cfg.address,
      SWITCHYARD_PREFIX: String(this.cfg.prefix),
      SWITCHYARD_INTERFACE: this.cfg.interface,
      SWITCHYARD_ACTION: action,
      SWITCHYARD_VIP_NAME: this.cfg.name,
    };
  }

  private record(run: DriverRun, emitRun = true) {
    this.lastRun = run;
    if (emitRun) this.emit({ type: "vip.run", vip: this.cfg.name, run });
  }

  private setDesired(d: "enabled" | "disabled") {
    const changed = d !== this.desired;
    this.desired = d;
    this.store.state.vips[this.cfg.name] = { ...(this.store.state.vips[this.cfg.name] ?? {}), desired: d };
    return changed;
  }

  private setObserved(o: VipObserved, force = false) {
    if (o === this.observed && !force) return;
    this.observed = o;
    this.emit({ type: "vip.state", vip: this.cfg.name, observed: o, desired: this.desired });
  }

  private run(action: string, file: string, args: string[], timeoutMs: number, onSpawn?: Parameters<typeof runCommand>[0]["onSpawn"]) {
    return runCommand({
      kind: "vip",
      driver: this.cfg.driver,
      action,
      target: this.cfg.name,
      file,
      args,
      env: this.env(action),
      timeoutMs,
      onSpawn,
    });
  }

  async enable(): Promise<VipResult> {
    const gen = ++this.gen;
    const desiredChanged = this.setDesired("enabled");
    const runs: DriverRun[] = [];
    const c = this.cfg;
    if (c.driver === "simulated") {
      const t0 = performance.now();
      const startedAt = nowIso();
      this.store.state.vips[c.name] = { desired: "enabled", simulated: true };
      this.store.save();
      const run = syntheticRun({ kind: "vip", driver: "simulated", action: "enable", target: c.name }, t0, startedAt, true, `${c.address}/${c.prefix} enabled (simulated)`, "", { exitCode: 0 });
      runs.push(run);
      this.record(run);
      this.setObserved("enabled", desiredChanged);
      return { ok: true, runs };
    }
    this.store.save();
    if (c.driver === "script") {
      const run = await this.run("enable", c.scripts!.enable, ["enable"], c.scripts!.timeoutMs);
      runs.push(run);
      this.record(run);
      await this.observeAfter(gen, run.ok ? "enabled" : "unknown", runs, desiredChanged);
      return run.ok ? { ok: true, runs } : { ok: false, runs, error: describeFailure("enable script", run) };
    }
    // linux
    if (c.dad.beforeEnable) {
      const d = await this.checkDuplicate();
      if (d) runs.push(d.run);
      if (d?.duplicate) return { ok: false, runs, error: `duplicate address: ${c.address} answered by ${d.mac ?? "another host"}` };
    }
    const add = await this.run("enable", c.commands.ip, ["addr", "add", `${c.address}/${c.prefix}`, "dev", c.interface], 5000);
    const already = !add.ok && /File exists|already assigned/i.test(add.stderr);
    if (already) add.ok = true;
    runs.push(add);
    this.record(add);
    if (!add.ok) {
      await this.observeAfter(gen, "unknown", runs, desiredChanged);
      return { ok: false, runs, error: describeFailure("ip addr add", add) };
    }
    // First gratuitous ARP at once, and read the interface in parallel (neither waits for the other).
    const [arp] = await Promise.all([this.firstArp(gen), this.observeAfter(gen, "enabled", runs, desiredChanged, true)]);
    runs.push(arp);
    this.lastRun = arp;
    return { ok: true, runs };
  }

  /** Starts the GARP burst; resolves when the first ARP is on its way (arping's header line, or its exit). */
  private firstArp(gen: number): Promise<DriverRun> {
    const c = this.cfg;
    for (const t of this.arpTimers) clearTimeout(t);
    this.arpTimers = [];
    if (c.garp.count === 0)
      return Promise.resolve(syntheticRun({ kind: "vip", driver: "linux", action: "arp", target: c.name }, performance.now(), nowIso(), true, "gratuitous ARP disabled (garp.count 0)"));
    const send = (i: number, onLine?: (line: string) => void) => {
      const args = ["-U", "-c", "1", "-I", c.interface, c.address];
      const [file, argv] = STDBUF ? [STDBUF, ["-oL", c.commands.arping, ...args]] : [c.commands.arping, args];
      return this.run(`arp`, file, argv, 5000, (child) => {
        if (!onLine) return;
        child.stdout!.once("data", (b: Buffer) => onLine(String(b)));
        child.once("spawn", () => {
          if (!STDBUF) onLine("(spawned)");
        });
      }).then((run) => {
        run.stdout = boundText(`[${i + 1}/${c.garp.count}] ${run.stdout}`);
        this.emit({ type: "vip.run", vip: c.name, run });
        if (!run.ok) log("warn", "gratuitous ARP failed", { vip: c.name, exitCode: run.exitCode, stderr: run.stderr });
        return run;
      });
    };
    for (let i = 1; i < c.garp.count; i++) {
      this.arpTimers.push(
        setTimeout(() => {
          if (gen === this.gen && this.desired === "enabled") void send(i);
        }, i * c.garp.intervalMs),
      );
    }
    const t0 = performance.now();
    const startedAt = nowIso();
    return new Promise((resolve) => {
      let done = false;
      const first = send(0, (line) => {
        if (done) return;
        done = true;
        resolve(syntheticRun({ kind: "vip", driver: "linux", action: "arp", target: c.name }, t0, startedAt, true, `[1/${c.garp.count}] sending: ${line.trim()}`, "", {}));
      });
      first.then((run) => {
        if (done) return;
        done = true;
        resolve(run);
      });
    });
  }

  async disable(): Promise<VipResult> {
    const gen = ++this.gen;
    const desiredChanged = this.setDesired("disabled");
    for (const t of this.arpTimers) clearTimeout(t);
    this.arpTimers = [];
    const runs: DriverRun[] = [];
    const c = this.cfg;
    if (c.driver === "simulated") {
      const t0 = performance.now();
      const startedAt = nowIso();
      this.store.state.vips[c.name] = { desired: "disabled", simulated: false };
      this.store.save();
      const run = syntheticRun({ kind: "vip", driver: "simulated", action: "disable", target: c.name }, t0, startedAt, true, `${c.address}/${c.prefix} disabled (simulated)`, "", { exitCode: 0 });
      runs.push(run);
      this.record(run);
      this.setObserved("disabled", desiredChanged);
      return { ok: true, runs };
    }
    this.store.save();
    if (c.driver === "script") {
      const run = await this.run("disable", c.scripts!.disable, ["disable"], c.scripts!.timeoutMs);
      runs.push(run);
      this.record(run);
      await this.observeAfter(gen, run.ok ? "disabled" : "unknown", runs, desiredChanged);
      return run.ok ? { ok: true, runs } : { ok: false, runs, error: describeFailure("disable script", run) };
    }
    const del = await this.run("disable", c.commands.ip, ["addr", "del", `${c.address}/${c.prefix}`, "dev", c.interface], 5000);
    if (!del.ok && !del.timedOut && ADDRESS_ABSENT.test(del.stderr)) del.ok = true; // already absent: idempotent
    runs.push(del);
    this.record(del);
    if (!del.ok && !del.timedOut) {
      // A message we do not know: the interface decides. Absent there means disabled, whatever ip said.
      const { observed, run } = await this.read();
      if (run) runs.push(run);
      if (observed === "disabled") del.ok = true;
    }
    await this.observeAfter(gen, del.ok ? "disabled" : "unknown", runs, desiredChanged);
    if (del.ok) this.duplicate = { detected: false, mac: null, at: null };
    return del.ok ? { ok: true, runs } : { ok: false, runs, error: describeFailure("ip addr del", del) };
  }

  /** After an action: read the real state (linux, script with status) or take the action's result. */
  private async observeAfter(gen: number, fallback: VipObserved, runs: DriverRun[], force: boolean, quiet = false) {
    const c = this.cfg;
    if (c.driver === "linux" || (c.driver === "script" && c.scripts?.status)) {
      const { observed, run } = await this.read();
      if (run && !quiet && c.driver === "script") runs.push(run);
      if (gen === this.gen) this.setObserved(observed, force);
    } else if (gen === this.gen) this.setObserved(fallback, force);
  }

  private async read(): Promise<{ observed: VipObserved; run: DriverRun | null }> {
    const c = this.cfg;
    if (c.driver === "simulated") return { observed: this.observed, run: null };
    if (c.driver === "script") {
      if (!c.scripts!.status) return { observed: this.observed, run: null };
      const run = await this.run("status", c.scripts!.status, ["status"], c.scripts!.timeoutMs);
      const observed: VipObserved = run.timedOut ? "unknown" : run.exitCode === 0 ? "enabled" : run.exitCode === 1 || run.exitCode === 3 ? "disabled" : "unknown";
      return { observed, run };
    }
    const run = await this.run("status", c.commands.ip, ["-o", "addr", "show", "dev", c.interface], 5000);
    if (!run.ok) return { observed: "unknown", run };
    const re = new RegExp(`\\binet ${c.address.replace(/\./g, "\\.")}/${c.prefix}\\b`);
    return { observed: re.test(run.stdout) ? "enabled" : "disabled", run };
  }

  /** Periodic read; a result is dropped if an action ran meanwhile. */
  async observe() {
    const gen = this.gen;
    try {
      const { observed, run } = await this.read();
      if (run && !run.ok) log("warn", "VIP status read failed", { vip: this.cfg.name, exitCode: run.exitCode, stderr: run.stderr.slice(0, 200) });
      if (gen === this.gen) this.setObserved(observed);
    } catch (e) {
      log("error", "VIP observe failed", { vip: this.cfg.name, error: String(e) });
    }
  }

  /** `arping -D`: exit 1 with a reply means another host holds the address. Emits vip.duplicate. */
  async checkDuplicate(): Promise<{ duplicate: boolean; mac: string | null; run: DriverRun } | null> {
    if (this.cfg.driver !== "linux" || this.dadRunning) return null;
    this.dadRunning = true;
    try {
      const c = this.cfg;
      const w = String(Math.max(1, Math.ceil(c.dad.timeoutMs / 1000)));
      const run = await runCommand({
        kind: "vip",
        driver: "linux",
        action: "dad",
        target: c.name,
        file: c.commands.arping,
        args: ["-D", "-c", "2", "-w", w, "-I", c.interface, c.address],
        timeoutMs: c.dad.timeoutMs + 3000,
      });
      const mac = run.stdout.match(/reply from \S+ \[([0-9A-Fa-f:]{17})\]/)?.[1]?.toLowerCase() ?? null;
      const duplicate = run.exitCode === 1 && mac !== null;
      if (duplicate) {
        const first = !this.duplicate.detected || this.duplicate.mac !== mac;
        this.duplicate = { detected: true, mac, at: nowIso() };
        this.lastRun = run;
        if (first) log("warn", "duplicate VIP detected", { vip: c.name, address: c.address, mac });
        this.emit({ type: "vip.duplicate", vip: c.name, mac, run });
      } else if (run.exitCode === 0 && this.duplicate.detected) {
        this.duplicate = { detected: false, mac: null, at: null };
      }
      return { duplicate, mac, run };
    } finally {
      this.dadRunning = false;
    }
  }
}

function describeFailure(what: string, run: DriverRun) {
  if (run.timedOut) return `${what} timed out after ${Math.round(run.durationMs)} ms`;
  const why = run.stderr.trim().split("\n").slice(-1)[0] || run.stdout.trim().split("\n").slice(-1)[0] || "";
  return `${what} failed (exit ${run.exitCode ?? run.signal ?? "?"})${why ? `: ${why}` : ""}`;
}
