/**
 * A VIP of this host: its state machine (desired and observed state, `vip.state` / `vip.run` /
 * `vip.duplicate` events, the periodic observe, the background re-read after an action, duplicate address
 * detection) on top of one driver, chosen by the configuration's `driver`:
 *
 *   linux      ./linux.ts      ip addr add/del + gratuitous ARP (arping) + DAD, through ./linux-helper.ts
 *   script     ./script.ts     the operator's enable/disable/status scripts
 *   simulated  ./simulated.ts  in memory + the state file
 *
 * What a driver must do: ./driver.ts (VipDriver). The driver does the action and calls back into the Vip
 * (ActionContext) when it is time to record it, so that the linux driver's first gratuitous ARP is spawned
 * before any event or state-file write.
 *
 * Acknowledgements wait for the action only: the observed state is taken from the successful action at
 * once, and confirmed by re-reading the interface (or the status script) in the background; a re-read
 * that disagrees is reported as a vip.state event.
 */
import type { DriverRun, VipObserved, VipSnapshot } from "../../protocol/agent";
import { log } from "../../lib/log";
import type { VipConfig } from "../config";
import type { StateStore } from "../store";
import { nowIso, type EmitFn } from "../util";
import type { ActionContext, DadResult, Observation, VipDriver, VipResult } from "./driver";
import { LinuxDriver } from "./linux";
import { ScriptDriver } from "./script";
import { SimulatedDriver } from "./simulated";

/**
 * The background re-read after an action is started this long after it, so that its process spawn does
 * not compete for the CPU with the rest of the move (the peer's promotion runs right after a demote's
 * ack). Nothing waits for it; the periodic observe (observeIntervalMs) reads the state anyway.
 */
const CONFIRM_AFTER_MS = 100;

const NO_DUPLICATE: VipSnapshot["duplicate"] = { detected: false, mac: null, at: null };

function createDriver(cfg: VipConfig, store: StateStore): VipDriver {
  switch (cfg.driver) {
    case "linux":
      return new LinuxDriver(cfg);
    case "script":
      return new ScriptDriver(cfg);
    case "simulated":
      return new SimulatedDriver(cfg, store);
  }
}

export class Vip {
  desired: "enabled" | "disabled";
  observed: VipObserved;
  duplicate: VipSnapshot["duplicate"] = { ...NO_DUPLICATE };
  lastRun: DriverRun | null = null;
  readonly driver: VipDriver;
  private gen = 0;
  private observeTimer?: NodeJS.Timeout;
  private confirmTimer?: NodeJS.Timeout;
  private dadTimer?: NodeJS.Timeout;
  private dadRunning = false;
  private closed = false;

  constructor(
    readonly cfg: VipConfig,
    private readonly store: StateStore,
    private readonly emit: EmitFn,
    /**
     * Every driver run of this VIP (metrics): `recorded`, an action's run (also one only sent in a command's
     * acknowledgement); `sent`, one gratuitous ARP of a burst actually sent.
     */
    private readonly onRun: (run: DriverRun, how: "recorded" | "sent") => void = () => {},
  ) {
    this.driver = createDriver(cfg, store);
    this.desired = store.state.vips[cfg.name]?.desired ?? "disabled";
    this.observed = this.driver.initialObserved;
  }

  /** The driver adds the address while the app answers its mode hook (see VipDriver.gated). */
  get gated() {
    return this.driver.gated;
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
      fence: this.cfg.fence,
    };
  }

  /** Reads the observed state once, then every observeIntervalMs; periodic DAD when the driver has it. */
  async start() {
    this.driver.start();
    await this.observe();
    const tick = () => {
      if (this.closed) return;
      this.observe().finally(() => {
        if (!this.closed) this.observeTimer = setTimeout(tick, this.cfg.observeIntervalMs).unref();
      });
    };
    this.observeTimer = setTimeout(tick, this.cfg.observeIntervalMs).unref();
    if (this.driver.dad && this.cfg.dad.enabled) {
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
    this.driver.close();
    clearTimeout(this.observeTimer);
    clearTimeout(this.confirmTimer);
    clearTimeout(this.dadTimer);
  }

  /**
   * Enables the VIP. `gate` (gated drivers only, see VipDriver.gated): the address is added at once, the
   * first gratuitous ARP waits for the gate, and a gate that resolves false rolls the address back.
   */
  async enable(gate?: Promise<boolean>): Promise<VipResult> {
    const ctx = this.begin("enabled");
    const d = this.driver.dad && this.cfg.dad.beforeEnable ? await this.checkDuplicate() : null;
    if (d?.duplicate) {
      this.store.saveSoon();
      return { ok: false, runs: [d.run], error: `duplicate address: ${this.cfg.address} answered by ${d.mac ?? "another host"}` };
    }
    const r = await this.driver.enable(ctx, gate);
    return d ? { ...r, runs: [d.run, ...r.runs] } : r;
  }

  /** Disables the VIP; an address already absent counts as disabled. */
  async disable(): Promise<VipResult> {
    const r = await this.driver.disable(this.begin("disabled"));
    if (r.ok) this.duplicate = { ...NO_DUPLICATE };
    return r;
  }

  /** Starts an action: a new generation (older actions' late results are dropped) and the desired state. */
  private begin(desired: "enabled" | "disabled"): ActionContext {
    const gen = ++this.gen;
    const desiredChanged = this.setDesired(desired);
    return {
      current: () => gen === this.gen,
      record: (run, emit = true) => {
        this.lastRun = run;
        this.onRun(run, "recorded");
        if (emit) this.emit({ type: "vip.run", vip: this.cfg.name, run });
      },
      emitRun: (run) => {
        this.onRun(run, "sent");
        this.emit({ type: "vip.run", vip: this.cfg.name, run });
      },
      saveSoon: () => this.store.saveSoon(),
      rolledBack: () => void this.setDesired("disabled"),
      settle: (ok, result, force = desiredChanged) => this.settle(gen, ok, result, force),
    };
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

  /**
   * After an action (ActionContext.settle). Success: the observed state is what the action did, at once
   * (the ack does not wait for a re-read); the driver is re-read in the background and a disagreement is
   * reported as vip.state. Failure (not on the hot path): read the real state before answering.
   */
  private async settle(gen: number, ok: boolean, result: "enabled" | "disabled", force: boolean): Promise<DriverRun | null> {
    const readable = !!this.driver.read;
    if (ok) {
      if (gen === this.gen) this.setObserved(result, force);
      if (readable) this.confirmLater(gen);
      return null;
    }
    if (!readable) {
      if (gen === this.gen) this.setObserved("unknown", force);
      return null;
    }
    const { observed, run } = await this.read();
    if (gen === this.gen) this.setObserved(observed, force);
    return run;
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

  /** The driver's reading, or the current observed state when the driver has nothing to read. */
  private read(): Promise<Observation> {
    return this.driver.read ? this.driver.read() : Promise.resolve({ observed: this.observed, run: null });
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

  /** Duplicate address detection (one at a time): a duplicate is emitted as vip.duplicate. */
  async checkDuplicate(): Promise<DadResult | null> {
    if (!this.driver.dad || this.dadRunning) return null;
    this.dadRunning = true;
    try {
      const d = await this.driver.dad();
      if (d.duplicate) {
        const first = !this.duplicate.detected || this.duplicate.mac !== d.mac;
        this.duplicate = { detected: true, mac: d.mac, at: nowIso() };
        this.lastRun = d.run;
        if (first) log.warn("duplicate VIP detected", { vip: this.cfg.name, address: this.cfg.address, mac: d.mac });
        this.emit({ type: "vip.duplicate", vip: this.cfg.name, mac: d.mac, run: d.run });
      } else if (d.run.exitCode === 0 && this.duplicate.detected) {
        this.duplicate = { ...NO_DUPLICATE };
      }
      return d;
    } finally {
      this.dadRunning = false;
    }
  }
}
