/**
 * The controller's in-memory model of the world: configuration (from the database), what each agent
 * reported (last snapshot, kept while disconnected as "last known"), and a little memory per pair.
 * Pure types and helpers: no I/O, safe for unit tests.
 */
import type { AgentSnapshot, AppSnapshot, DriverRun, VipSnapshot } from "../../protocol/agent";
import type { PairDto, ServerDto } from "../views";

export type OperationKindName =
  | "manual_switchover"
  | "failover"
  | "disconnect_failover"
  | "split_brain_resolution"
  /** The VIP on no host, or on both, while one server is primary: the primary's host alone gets it back. */
  | "vip_repair"
  /** History only: restarts belong to the host's agent; the controller no longer creates this kind. */
  | "restart"
  /** An operator's overrides (overrides.ts): started by a person only, never decided by the controller. */
  | OverrideKind;

export const OVERRIDE_KINDS = ["promote", "app_start", "app_stop", "app_restart", "clear_holddown"] as const;
export type OverrideKind = (typeof OVERRIDE_KINDS)[number];
/** What a person may start: a manual switchover or an override. */
export type OperatorKind = "manual_switchover" | OverrideKind;

/** What an operation needs besides its servers (an override's mode; a graceful stop). */
export interface OperationParams {
  mode?: "primary" | "backup";
  /** app_stop of a primary: hand the role to the backup first (the planned switchover's steps). */
  graceful?: boolean;
  /** The requester confirmed acting by hand on a pair in maintenance (kept for a pending request's preflight). */
  confirmMaintenance?: boolean;
}

export const ALARM_KINDS = [
  "host_disconnected",
  "primary_failed",
  "backup_failed",
  "switchover_failed",
  "both_primary",
  "vip_maybe_on_both_hosts",
  "vip_script_failed",
  "duplicate_vip",
  "crash_loop",
  "vip_not_held",
  "vip_on_both_hosts",
  "agent_refused",
] as const;
export type AlarmKindName = (typeof ALARM_KINDS)[number];

/** The audit actor of everything the controller does by itself. */
export const CONTROLLER_ACTOR = "controller";

export type AlarmSeverityName = "critical" | "major" | "minor" | "warning";

/** An alarm the controller wants active (from decide). */
export interface AlarmSpec {
  kind: AlarmKindName;
  severity: AlarmSeverityName;
  pairId: string | null;
  hostId: string | null;
  message: string;
  details: Record<string, unknown>;
}

/** The dedupe key of an active alarm: one active alarm of a kind per target ("kind:pair:host"). */
export function alarmKey(a: Pick<AlarmSpec, "kind" | "pairId" | "hostId">): string {
  return `${a.kind}:${a.pairId ?? ""}:${a.hostId ?? ""}`;
}

/** A server as configured (the same fields the API returns). */
export type ServerCfg = ServerDto;

/** A pair's configuration and policy, as the controller holds it. */
export interface PairCfg extends Omit<PairDto, "createdAt" | "updatedAt" | "servers" | "view"> {
  /** [configured primary, configured backup] */
  servers: [ServerCfg, ServerCfg];
  /** Maintenance windows not over yet (current and upcoming), earliest first. */
  windows?: MaintenanceWindowCfg[];
}

/** A scheduled maintenance window (times: epoch ms). */
export interface MaintenanceWindowCfg {
  id: string;
  startsAt: number;
  endsAt: number;
  reason: string;
  createdBy: string;
}

/** The window the pair is in at `now`, if any. */
export function currentWindow(pair: Pick<PairCfg, "windows">, now: number): MaintenanceWindowCfg | null {
  return pair.windows?.find((w) => w.startsAt <= now && now < w.endsAt) ?? null;
}

/** The next time a window starts or ends after `now` (the controller decides again then), or null. */
export function nextWindowBoundary(pair: Pick<PairCfg, "windows">, now: number): number | null {
  let next: number | null = null;
  for (const w of pair.windows ?? []) for (const t of [w.startsAt, w.endsAt]) if (t > now && (next === null || t < next)) next = t;
  return next;
}

/** The pair as policy applies now: in maintenance by its flag or by a current window. */
export function effectivePair(pair: PairCfg, now: number): PairCfg {
  return !pair.maintenance && currentWindow(pair, now) ? { ...pair, maintenance: true } : pair;
}

export interface HostCfg {
  id: string;
  name: string;
  address: string;
  agentUrl: string;
  agentToken: string;
}

/** What the controller knows about one host's agent link. Times are epoch milliseconds. */
export interface HostObs {
  hostId: string;
  connected: boolean;
  connectedAt: number | null;
  disconnectedAt: number | null;
  lastHeartbeatAt: number | null;
  rttMs: number | null;
  /** Last snapshot (kept up to date by events and acks); "last known" while disconnected. */
  snapshot: AgentSnapshot | null;
  /** Why the agent refuses this controller (another cluster's agent), while it does. */
  refused: string | null;
}

export interface ActiveOp {
  id: string;
  kind: OperationKindName;
  status: "pending" | "running";
  createdAt: number;
  requestedBy: string;
}

export interface FinishedOp {
  id: string;
  kind: OperationKindName;
  status: "succeeded" | "failed";
  error: string | null;
  finishedAt: number;
}

/**
 * What the controller remembers of a pair's observations (persisted with PairStatus, best effort: a new
 * leader that finds none learns it again from the next observation).
 */
export interface PairMemory {
  /** The server believed to be primary: the last one observed running and primary alone. */
  activeServerId: string | null;
  /** Per server: the mode it was last seen in while running (to tell a failed primary from a failed backup). */
  lastRunningMode: Record<string, "primary" | "backup">;
}

export function emptyMemory(): PairMemory {
  return { activeServerId: null, lastRunningMode: {} };
}

/** One pair's world at one moment: immutable input of decide() and the views. */
export interface PairWorld {
  pair: PairCfg;
  hosts: Record<string, HostObs | undefined>;
  memory: PairMemory;
  activeOp: ActiveOp | null;
  lastFinishedOp: FinishedOp | null;
  /**
   * When the pair's last automatic failover started (hold-down), from its Operation row: derived from the
   * database's record of what was done, so a leader change keeps it.
   */
  lastAutoFailoverAt: number | null;
}

// ---------------------------------------------------------------- operations as the controller runs them

export type StepAction =
  /** app.start / app.stop / app.restart of a server (overrides), in the mode of the operation's params. */
  | "start"
  | "stop"
  | "restart"
  /** No command: the pair's hold-down ends (clear_holddown). */
  | "holddown_clear"
  | "demote"
  | "vip_disable"
  | "promote"
  | "vip_enable"
  | "verify"
  | "recover_demote"
  | "recover_promote"
  | "recover_verify";

export type StepStatus = "pending" | "running" | "succeeded" | "failed" | "skipped";

/** A step as planned (plan.ts): what, on which server/host, described for people. */
export interface PlannedStep {
  seq: number;
  action: StepAction;
  targetServerId: string | null;
  targetHostId: string | null;
  target: string;
}

/** A step with its outcome: the OperationStep row. */
export interface StepRecord extends PlannedStep {
  status: StepStatus;
  startedAt: number | null;
  finishedAt: number | null;
  ack: Record<string, unknown> | null;
  output: DriverRun[] | null;
  error: string | null;
}

/** An Operation row with its steps, as the controller loads, runs and records it. Times: epoch ms. */
export interface OperationRecord {
  id: string;
  pairId: string;
  kind: OperationKindName;
  status: "pending" | "running" | "succeeded" | "failed";
  fromServerId: string | null;
  toServerId: string | null;
  params: OperationParams;
  requestedBy: string;
  reason: string | null;
  decision: string | null;
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  epoch: number | null;
  steps: StepRecord[];
}

/** Automatic operations whose start begins a hold-down. */
export const AUTOMATIC_FAILOVERS: readonly OperationKindName[] = ["failover", "disconnect_failover"];

/** One server of a pair as observed right now. */
export interface ServerState {
  cfg: ServerCfg;
  connected: boolean;
  connectedAt: number | null;
  disconnectedAt: number | null;
  lastHeartbeatAt: number | null;
  /** The app in its agent's last snapshot (last known while disconnected). */
  app: AppSnapshot | null;
  /** The VIP that follows this app on its host (by the app's vip name, else by the pair's address). */
  vip: VipSnapshot | null;
}

export function findVip(snapshot: AgentSnapshot | null, app: AppSnapshot | null, address: string): VipSnapshot | null {
  if (!snapshot) return null;
  if (app?.vip) {
    const v = snapshot.vips.find((x) => x.name === app.vip);
    if (v) return v;
  }
  return snapshot.vips.find((x) => x.address === address) ?? null;
}

export function serverState(world: PairWorld, cfg: ServerCfg): ServerState {
  const h = world.hosts[cfg.hostId];
  const snap = h?.snapshot ?? null;
  const app = snap?.apps.find((a) => a.name === cfg.appName) ?? null;
  return {
    cfg,
    connected: !!h?.connected,
    connectedAt: h?.connectedAt ?? null,
    disconnectedAt: h?.disconnectedAt ?? null,
    lastHeartbeatAt: h?.lastHeartbeatAt ?? null,
    app,
    vip: findVip(snap, app, world.pair.vipAddress),
  };
}

export function serverStates(world: PairWorld): [ServerState, ServerState] {
  return [serverState(world, world.pair.servers[0]), serverState(world, world.pair.servers[1])];
}

export const FAILED_STATES = new Set(["failed", "hung", "stopped"]);

export function isRunning(s: ServerState): boolean {
  return s.connected && s.app?.state === "running";
}
export function isObservedPrimary(s: ServerState): boolean {
  return s.connected && s.app?.state === "running" && s.app.mode === "primary";
}
/** The servers whose (connected) host holds the VIP: the invariant is exactly one, the primary's. */
export function vipHolders(ss: readonly ServerState[]): ServerState[] {
  return ss.filter((s) => s.connected && s.vip?.observed === "enabled");
}

/**
 * The pair is healthy: one server primary, its host holding the VIP alone, the other running in backup
 * mode on a connected host. The view's status and decide's "healthy" reason both use this.
 */
export function isHealthy(ss: readonly [ServerState, ServerState]): boolean {
  const primaries = ss.filter(isObservedPrimary);
  if (primaries.length !== 1) return false;
  const [p] = primaries;
  const o = p === ss[0] ? ss[1] : ss[0];
  const holders = vipHolders(ss);
  return holders.length === 1 && holders[0] === p && o.connected && o.app?.state === "running" && o.app.mode === "backup";
}

export function isDown(s: ServerState): boolean {
  return s.connected && (!s.app || FAILED_STATES.has(s.app.state));
}

/** Human description of why a server is down: "exited with signal SIGKILL", "hung (...)", "stopped". */
export function describeDown(s: ServerState): string {
  const a = s.app;
  if (!a) return `is not configured on its agent (no app "${s.cfg.appName}")`;
  if (a.state === "hung") return `hung${a.health.lastError ? ` (${a.health.lastError})` : ""}`;
  if (a.state === "stopped") return "stopped"; // by a command (its exit code says nothing)
  if (a.lastExit) {
    if (a.lastExit.signal) return `exited with signal ${a.lastExit.signal}`;
    if (a.lastExit.code !== null) return `exited with code ${a.lastExit.code}`;
  }
  return a.state === "failed" ? "failed" : "stopped";
}

export function where(s: ServerState): string {
  return `${s.cfg.name} on ${s.cfg.hostName}`;
}

/** Pure update of the pair memory from what is observed now. */
export function updateMemory(world: PairWorld): PairMemory {
  const m: PairMemory = { activeServerId: world.memory.activeServerId, lastRunningMode: { ...world.memory.lastRunningMode } };
  const ss = serverStates(world);
  for (const s of ss) {
    if (isRunning(s) && (s.app!.mode === "primary" || s.app!.mode === "backup")) m.lastRunningMode[s.cfg.id] = s.app!.mode;
  }
  const primaries = ss.filter(isObservedPrimary);
  if (primaries.length === 1) m.activeServerId = primaries[0].cfg.id;
  return m;
}

/** Waits for `p`, at most `ms` (the timer does not outlive the wait: a stopping thread can exit at once). */
export async function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
