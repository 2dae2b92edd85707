/**
 * What a VIP driver is: the interface between the `Vip` state machine (agent/vip/index.ts: desired and
 * observed state, events, the periodic observe, the background re-read) and the code that really moves an
 * address (agent/vip/linux.ts, script.ts, simulated.ts). Plus the types and helpers the drivers share.
 *
 * A driver does the action; the Vip keeps the books. Because the order of the two matters on the failover
 * hot path (the linux driver spawns its first gratuitous ARP before any event or state-file write), the
 * Vip lends the driver an `ActionContext` for each action and the driver calls it at the right moment.
 */
import type { ChildProcess } from "node:child_process";
import type { DriverRun, VipObserved } from "../../protocol/agent";
import type { VipConfig } from "../config";
import { runCommand } from "../util";

export interface VipResult {
  ok: boolean;
  /** Every run of the action, in order (acknowledgements carry them). */
  runs: DriverRun[];
  error?: string;
}

export interface Observation {
  observed: VipObserved;
  /** The run that read it (null when nothing was run). */
  run: DriverRun | null;
}

export interface DadResult {
  /** Another host answered for the address. */
  duplicate: boolean;
  mac: string | null;
  run: DriverRun;
}

/** The Vip's side of one enable or disable, called by the driver. */
export interface ActionContext {
  /** False once a newer enable/disable has started on this VIP: this action must not overwrite its result. */
  current(): boolean;
  /** The run becomes the VIP's last run and, unless `emit` is false, is emitted as a `vip.run` event. */
  record(run: DriverRun, emit?: boolean): void;
  /** Emits a `vip.run` event only (a later gratuitous ARP of a burst). */
  emitRun(run: DriverRun): void;
  /** Persists the desired state on the next turn of the event loop (never between two hot-path steps). */
  saveSoon(): void;
  /** An enable was rolled back (the app did not confirm primary): the desired state is disabled again. */
  rolledBack(): void;
  /**
   * The action is over. Success: the observed state is the action's result at once, and a driver with a
   * `read` is re-read in the background a moment later (a disagreement becomes a `vip.state` event).
   * Failure: such a driver is read now (without one the state is unknown); resolves with that read's run
   * (null when nothing was read). `force`
   * (default: the desired state changed) emits `vip.state` even when the observed state is unchanged.
   */
  settle(ok: boolean, result: "enabled" | "disabled", force?: boolean): Promise<DriverRun | null>;
}

export interface VipDriver {
  /**
   * True when `enable` accepts a gate (linux): the address is added at once; the first gratuitous ARP waits
   * until the gate resolves true; when it resolves false the address is removed again and no ARP is sent.
   * The agent then runs the app's mode hook in parallel with `ip addr add`. Other drivers are enabled only
   * after the app confirmed primary, and never get a gate.
   */
  readonly gated: boolean;
  /** The observed state before the first read (simulated: from the state file; others: unknown). */
  readonly initialObserved: VipObserved;
  /** Starts what the driver keeps running (linux: the resident shell helper). */
  start(): void;
  /** Stops it, and any timer (linux: the rest of a gratuitous ARP burst). */
  close(): void;
  enable(ctx: ActionContext, gate?: Promise<boolean>): Promise<VipResult>;
  /** Idempotent: disabling an absent address succeeds. */
  disable(ctx: ActionContext): Promise<VipResult>;
  /**
   * Reads the real state (linux: the interface; script: the status script). Absent when there is nothing to
   * read (simulated; script without a status script): the observed state is then the last action's result.
   */
  read?(): Promise<Observation>;
  /** Duplicate address detection (linux: `arping -D`); absent when the driver cannot tell. */
  dad?(): Promise<DadResult>;
}

/** The environment of every program a VIP driver runs (the script driver's documented interface). */
export function vipEnv(cfg: VipConfig, action: string): Record<string, string> {
  return {
    SWITCHYARD_VIP: cfg.address,
    SWITCHYARD_PREFIX: String(cfg.prefix),
    SWITCHYARD_INTERFACE: cfg.interface,
    SWITCHYARD_ACTION: action,
    SWITCHYARD_VIP_NAME: cfg.name,
  };
}

/** Runs a driver's program (argument array, no shell, timeout) with the VIP environment. */
export function runVip(
  cfg: VipConfig,
  action: string,
  file: string,
  args: string[],
  timeoutMs: number,
  onSpawn?: (child: ChildProcess) => void,
  extraEnv?: Record<string, string>,
): Promise<DriverRun> {
  return runCommand({
    kind: "vip",
    driver: cfg.driver,
    action,
    target: cfg.name,
    file,
    args,
    env: extraEnv ? { ...vipEnv(cfg, action), ...extraEnv } : vipEnv(cfg, action),
    timeoutMs,
    onSpawn,
  });
}

/** "ip addr add failed (exit 2): Error: ..." or "... timed out after N ms". */
export function describeFailure(what: string, run: DriverRun) {
  if (run.timedOut) return `${what} timed out after ${Math.round(run.durationMs)} ms`;
  const why = run.stderr.trim().split("\n").slice(-1)[0] || run.stdout.trim().split("\n").slice(-1)[0] || "";
  return `${what} failed (exit ${run.exitCode ?? run.signal ?? "?"})${why ? `: ${why}` : ""}`;
}
