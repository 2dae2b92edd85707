/**
 * VIP drivers: linux (ip addr + arping), script (operator's VIP control scripts), simulated (in memory).
 *
 * Hot path (enable): `ip addr add` → spawn the first gratuitous ARP at once (before any event, state file
 * write or re-read) → resolve as soon as arping announces it is sending (its stdout made line-buffered by
 * preloading coreutils' libstdbuf, without the extra exec of the `stdbuf` wrapper) → remaining ARPs in the
 * background, every garp.intervalMs. No sleeps and no polling before the first ARP.
 *
 * `ip addr add/del` and the first ARP go through a resident `/bin/sh` per VIP (agent/vip-helper.ts: a fixed
 * script, configuration values as arguments) so that the hot path does not fork the Node process; direct
 * spawns whenever the helper is not up.
 *
 * Acknowledgements wait for the action only: the observed state is taken from the successful action at
 * once, and confirmed by re-reading the interface (or the status script) in the background; a re-read
 * that disagrees is reported as a vip.state event.
 */
import { existsSync } from "node:fs";
import type { AgentEvent, DriverRun, VipObserved, VipSnapshot } from "../protocol/agent";
import { log } from "../lib/log";
import type { VipConfig } from "./config";
import type { StateStore } from "./store";
import { boundText, nowIso, runCommand, syntheticRun } from "./util";
import { VipHelper } from "./vip-helper";

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

/**
 * coreutils' libstdbuf (what `stdbuf -oL` preloads): arping's stdout to a pipe is block-buffered, so its
 * "ARPING ..." line, printed just before the first packet is sent, would only arrive when arping exits
 * (about 1 s after `-c 1`). Preloading the library directly makes it line-buffered without exec'ing the
 * `stdbuf` wrapper first (measured: first ARP on the wire ~2 ms earlier). Only as root: with file
 * capabilities and a non-root agent the loader ignores LD_PRELOAD (secure execution), so the first ARP is
 * then acknowledged when arping has been exec'd.
 */
const LIBSTDBUF =
  process.getuid?.() === 0
    ? (["/usr/libexec/coreutils/libstdbuf.so", "/usr/lib/coreutils/libstdbuf.so", "/usr/lib/x86_64-linux-gnu/coreutils/libstdbuf.so", "/usr/lib/aarch64-linux-gnu/coreutils/libstdbuf.so"].find((p) => existsSync(p)) ?? null)
    : null;

/**
 * The background re-read after an action is started this long after it, so that its process spawn does
 * not compete for the CPU with the rest of the move (the peer's promotion runs right after a demote's
 * ack). Nothing waits for it; the periodic observe (observeIntervalMs) reads the state anyway.
 */
const CONFIRM_AFTER_MS = 100;

/**
 * The resident shell helper for the linux driver (agent/vip-helper.ts): on unless SWITCHYARD_VIP_HELPER=0
 * (then every `ip` and arping is a direct spawn from Node, as before; kept for A/B measurements).
 */
const USE_HELPER = process.env.SWITCHYARD_VIP_HELPER !== "0";

export class Vip {
  desired: "enabled" | "disabled";
  observed: VipObserved = "unknown";
  duplicate: VipSnapshot["duplicate"] = { detected: false, mac: null, at: null };
  lastRun: DriverRun | null = null;
  private gen = 0;
  private arpTimers: NodeJS.Timeout[] = [];
  private observeTimer?: NodeJS.Timeout;
  private confirmTimer?: NodeJS.Timeout;
  private dadTimer?: NodeJS.Timeout;
  private dadRunning = false;
  private closed = false;
  /** linux driver: resident shell running `ip addr add/del` and the first ARP (null: direct spawns only). */
  readonly helper: VipHelper | null = null;

  constructor(
    readonly cfg: VipConfig,
    private readonly store: StateStore,
    private readonly emit: EmitFn,
  ) {
    const saved = store.state.vips[cfg.name];
    this.desired = saved?.desired ?? "disabled";
    if (cfg.driver === "simulated") this.observed = saved?.simulated ? "enabled" : "disabled";
    if (cfg.driver === "linux" && USE_HELPER)
      this.helper = new VipHelper({ name: cfg.name, ip: cfg.commands.ip, arping: cfg.commands.arping, address: cfg.address, prefix: cfg.prefix, interface: cfg.interface, libstdbuf: LIBSTDBUF });
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
    this.helper?.start();
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
    this.helper?.close();
    clearTimeout(this.observeTimer);
    clearTimeout(this.confirmTimer);
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

  private run(action: string, file: string, args: string[], timeoutMs: number, onSpawn?: Parameters<typeof runCommand>[0]["onSpawn"], extraEnv?: Record<string, string>) {
    return runCommand({
      kind: "vip",
      driver: this.cfg.driver,
      action,
      target: this.cfg.name,
      file,
      args,
      env: extraEnv ? { ...this.env(action), ...extraEnv } : this.env(action),
      timeoutMs,
      onSpawn,
    });
  }

  /**
   * Enables the VIP. `gate` (linux driver only): `ip addr add` runs at once, but the first gratuitous ARP
   * waits for the gate; if it resolves false (the app did not confirm primary) the address is removed again
   * (`ip addr del`) and no ARP is sent. Without an ARP no client on the segment moves to this host.
   */
  async enable(gate?: Promise<boolean>): Promise<VipResult> {
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
    if (c.driver === "script") {
      this.store.saveSoon();
      const run = await this.run("enable", c.scripts!.enable, ["enable"], c.scripts!.timeoutMs);
      runs.push(run);
      this.record(run);
      await this.afterAction(gen, run.ok, "enabled", runs, desiredChanged);
      return run.ok ? { ok: true, runs } : { ok: false, runs, error: describeFailure("enable script", run) };
    }
    // linux
    if (c.dad.beforeEnable) {
      const d = await this.checkDuplicate();
      if (d) runs.push(d.run);
      if (d?.duplicate) {
        this.store.saveSoon();
        return { ok: false, runs, error: `duplicate address: ${c.address} answered by ${d.mac ?? "another host"}` };
      }
    }
    const add = await this.ipAddr("add", "enable");
    const already = !add.ok && /File exists|already assigned/i.test(add.stderr);
    if (already) add.ok = true;
    runs.push(add);
    if (!add.ok) {
      this.record(add);
      this.store.saveSoon();
      await this.afterAction(gen, false, "enabled", runs, desiredChanged);
      return { ok: false, runs, error: describeFailure("ip addr add", add) };
    }
    if (gate && !(await gate)) return this.rollBack(gen, add, runs);
    // The first gratuitous ARP is spawned here, synchronously, before anything else happens: the add's
    // vip.run event, the vip.state event and the state file write come after it.
    const first = this.firstArp(gen);
    this.record(add);
    this.store.saveSoon(); // desired: enabled (kept for an agent restart)
    await this.afterAction(gen, true, "enabled", runs, desiredChanged);
    const arp = await first;
    runs.push(arp);
    this.lastRun = arp;
    return { ok: true, runs };
  }

  /** `ip addr add|del CIDR dev IF`: through the resident helper when it is up, else a direct spawn. */
  private async ipAddr(step: "add" | "del", action: "enable" | "disable"): Promise<DriverRun> {
    const c = this.cfg;
    const viaHelper = await this.helper?.ipAddr(step, action, 5000);
    if (viaHelper) return viaHelper;
    return this.run(action, c.commands.ip, ["addr", step, `${c.address}/${c.prefix}`, "dev", c.interface], 5000);
  }

  /** The gate of enable() said no: take the just-added address away again (no ARP was sent). */
  private async rollBack(gen: number, add: DriverRun, runs: DriverRun[]): Promise<VipResult> {
    const c = this.cfg;
    this.record(add);
    this.setDesired("disabled");
    this.store.saveSoon();
    if (gen !== this.gen) return { ok: false, runs, error: "VIP enable cancelled (the app did not confirm primary)" };
    const del = await this.ipAddr("del", "disable");
    if (!del.ok && !del.timedOut && ADDRESS_ABSENT.test(del.stderr)) del.ok = true;
    runs.push(del);
    this.record(del);
    await this.afterAction(gen, del.ok, "disabled", runs, false);
    if (del.ok) return { ok: false, runs, error: "rolled back: the app did not confirm primary, the address was removed again" };
    log.error("VIP roll-back failed: the address may still be on the interface (no gratuitous ARP was sent)", { vip: c.name, stderr: del.stderr.slice(0, 200) });
    return { ok: false, runs, error: describeFailure("roll-back ip addr del", del) };
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
      // The first ARP through the resident helper (no Node fork on the hot path); the later ones, 100 ms
      // and more after, and any ARP while the helper is down, as direct spawns.
      const viaHelper = i === 0 ? this.helper?.arp("arp", 5000, onLine) : null;
      const direct = () => this.run(`arp`, c.commands.arping, args, 5000, (child) => {
        if (!onLine) return;
        child.stdout!.once("data", (b: Buffer) => onLine(String(b)));
        child.once("spawn", () => {
          if (!LIBSTDBUF) onLine("(spawned)");
        });
      }, LIBSTDBUF ? preloadEnv(LIBSTDBUF) : undefined);
      const p = viaHelper ? viaHelper.then((r) => r ?? direct()) : direct();
      return p.then((run) => {
        run.stdout = boundText(`[${i + 1}/${c.garp.count}] ${run.stdout}`);
        this.emit({ type: "vip.run", vip: c.name, run });
        if (!run.ok) log.warn("gratuitous ARP failed", { vip: c.name, exitCode: run.exitCode, stderr: run.stderr });
        return run;
      });
    };
    const t0 = performance.now();
    const startedAt = nowIso();
    const p = new Promise<DriverRun>((resolve) => {
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
    for (let i = 1; i < c.garp.count; i++) {
      this.arpTimers.push(
        setTimeout(() => {
          if (gen === this.gen && this.desired === "enabled") void send(i);
        }, i * c.garp.intervalMs),
      );
    }
    return p;
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
    if (c.driver === "script") {
      this.store.saveSoon();
      const run = await this.run("disable", c.scripts!.disable, ["disable"], c.scripts!.timeoutMs);
      runs.push(run);
      this.record(run);
      await this.afterAction(gen, run.ok, "disabled", runs, desiredChanged);
      return run.ok ? { ok: true, runs } : { ok: false, runs, error: describeFailure("disable script", run) };
    }
    const del = await this.ipAddr("del", "disable");
    if (!del.ok && !del.timedOut && ADDRESS_ABSENT.test(del.stderr)) del.ok = true; // already absent: idempotent
    runs.push(del);
    this.record(del);
    this.store.saveSoon(); // desired: disabled (after the action: not on its path)
    if (!del.ok && !del.timedOut) {
      // A message we do not know: the interface decides. Absent there means disabled, whatever ip said.
      const { observed, run } = await this.read();
      if (run) runs.push(run);
      if (observed === "disabled") del.ok = true;
    }
    await this.afterAction(gen, del.ok, "disabled", runs, desiredChanged);
    if (del.ok) this.duplicate = { detected: false, mac: null, at: null };
    return del.ok ? { ok: true, runs } : { ok: false, runs, error: describeFailure("ip addr del", del) };
  }

  /**
   * After an action. Success: the observed state is what the action did, at once (the ack does not wait
   * for a re-read); the interface / status script is re-read in the background and a disagreement is
   * reported as vip.state. Failure (not on the hot path): read the real state before answering.
   */
  private async afterAction(gen: number, ok: boolean, result: "enabled" | "disabled", runs: DriverRun[], force: boolean) {
    const c = this.cfg;
    const readable = c.driver === "linux" || (c.driver === "script" && !!c.scripts?.status);
    if (ok) {
      if (gen === this.gen) this.setObserved(result, force);
      if (readable) this.confirmLater(gen);
      return;
    }
    if (!readable) {
      if (gen === this.gen) this.setObserved("unknown", force);
      return;
    }
    const { observed, run } = await this.read();
    if (run && c.driver === "script") runs.push(run);
    if (gen === this.gen) this.setObserved(observed, force);
  }

  private confirmLater(gen: number) {
    clearTimeout(this.confirmTimer);
    this.confirmTimer = setTimeout(() => {
      if (this.closed || gen !== this.gen) return;
      void this.read()
        .then(({ observed, run }) => {
          if (gen !== this.gen || this.closed) return;
          if (observed !== this.observed) log.warn("VIP re-read after the action disagrees", { vip: this.cfg.name, observed, after: this.observed, exitCode: run?.exitCode ?? null, stderr: run?.stderr.slice(0, 200) });
          this.setObserved(observed);
        })
        .catch((e: unknown) => log.error("VIP re-read failed", { vip: this.cfg.name, error: String(e) }));
    }, CONFIRM_AFTER_MS);
    this.confirmTimer.unref();
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
      if (run && !run.ok) log.warn("VIP status read failed", { vip: this.cfg.name, exitCode: run.exitCode, stderr: run.stderr.slice(0, 200) });
      if (gen === this.gen) this.setObserved(observed);
    } catch (e) {
      log.error("VIP observe failed", { vip: this.cfg.name, error: String(e) });
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
        if (first) log.warn("duplicate VIP detected", { vip: c.name, address: c.address, mac });
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

function preloadEnv(lib: string): Record<string, string> {
  const prev = process.env.LD_PRELOAD;
  return { LD_PRELOAD: prev ? `${lib}:${prev}` : lib, _STDBUF_O: "L" };
}

function describeFailure(what: string, run: DriverRun) {
  if (run.timedOut) return `${what} timed out after ${Math.round(run.durationMs)} ms`;
  const why = run.stderr.trim().split("\n").slice(-1)[0] || run.stdout.trim().split("\n").slice(-1)[0] || "";
  return `${what} failed (exit ${run.exitCode ?? run.signal ?? "?"})${why ? `: ${why}` : ""}`;
}
