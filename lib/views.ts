/**
 * The views the panel shows and streams: computed by the controller from observed state, persisted in
 * PairStatus/HostStatus for every panel instance, sent to browsers over socket.io and returned by the API;
 * and the DTOs the HTTP API returns (lib/api-types.ts names which route returns which).
 * Types and pure functions with no imports at run time: safe to import from client components.
 */
import type { AppState, ObservedMode, VipObserved, DriverRun } from "../protocol/agent";
import type { Role } from "./auth/roles";
import type { OperationParams, OperatorKind } from "./controller/model";
import type { AuditSummary } from "./realtime/events";

/**
 * healthy: one primary holding the VIP alone, the backup running; not_serving: the pair is dark, nobody
 * answers behind the VIP (no server primary, or the VIP on no host) and no operation runs; switching_over:
 * a manual switchover runs; failing_over: an automatic operation runs (during an operator's override the
 * status is what is observed); split_brain: both primary or both holding
 * the VIP; degraded: anything else wrong; unknown: not observed (no agent connected).
 */
export type PairHealth = "healthy" | "degraded" | "not_serving" | "switching_over" | "failing_over" | "split_brain" | "unknown";
export const PAIR_HEALTHS: readonly PairHealth[] = ["split_brain", "not_serving", "failing_over", "switching_over", "degraded", "unknown", "healthy"];

export interface ServerView {
  id: string;
  name: string;
  hostId: string;
  hostName: string;
  appName: string;
  configuredRole: "primary" | "backup";
  agentConnected: boolean;
  /** Process state the agent reports; "unknown" while its agent is not connected. */
  processState: AppState | "unknown";
  mode: ObservedMode;
  /** The VIP as observed on this server's host. */
  vip: VipObserved;
  healthy: boolean;
  pid: number | null;
  lastHeartbeatAt: string | null;
  /**
   * What the agent last ended of this server's processes after its main process was gone (a forking
   * server's workers): how many, why, and when; null (or absent, in older views) until that happened.
   */
  lastGroup?: { count: number; trigger: "exit" | "stop"; action: "killed" | "reported"; survivors: number; at: string } | null;
}

export interface OperationSummary {
  id: string;
  kind: string;
  status: string;
  createdAt: string;
  requestedBy: string;
}

export interface PairView {
  id: string;
  name: string;
  vip: { address: string; prefix: number; interface: string };
  status: PairHealth;
  /** One short sentence explaining the status ("primary sip-1 exited; promoting sip-2"). */
  statusReason: string;
  /** Host name holding the VIP, "both" in split brain, null when nobody holds it. */
  vipHolder: string | null;
  /** Always [configured primary (SIP Server 1), configured backup (SIP Server 2)]. */
  servers: [ServerView, ServerView];
  operation: OperationSummary | null;
  maintenance: boolean;
  autoFailover: boolean;
  activeAlarms: number;
  /** Maintenance windows not over yet (current first, then upcoming): the pair is in maintenance during one. */
  maintenanceWindows: MaintenanceWindowView[];
  /** Automatic failovers (failover, disconnect failover): the last one, and those of the last 24 h newest first (count them against now). */
  failovers: { last: string | null; recent: string[] };
  updatedAt: string;
}

export interface MaintenanceWindowView {
  id: string;
  pairId: string;
  startsAt: string;
  endsAt: string;
  reason: string;
  createdBy: string;
}

/** True while a window of the view is current at `now` (epoch ms). */
export function inWindow(windows: readonly MaintenanceWindowView[] | undefined, now: number): boolean {
  return !!windows?.some((w) => Date.parse(w.startsAt) <= now && now < Date.parse(w.endsAt));
}

export interface HostView {
  id: string;
  name: string;
  address: string;
  agentUrl: string;
  connected: boolean;
  lastHeartbeatAt: string | null;
  rttMs: number | null;
  agentVersion: string | null;
  apps: { name: string; state: string; mode: string; vip: string | null }[];
  vips: { name: string; address: string; observed: VipObserved; duplicate: boolean }[];
}

export interface StepView {
  id: string;
  seq: number;
  action: string;
  target: string;
  status: "pending" | "running" | "succeeded" | "failed" | "skipped";
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  output: DriverRun[] | null;
  error: string | null;
}

export interface OperationView extends OperationSummary {
  pairId: string;
  reason: string | null;
  decision: string | null;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  fromServerId: string | null;
  toServerId: string | null;
  steps: StepView[];
}

/** A server named in an operation's history row (its name and host as configured now). */
export interface OperationServerRef {
  id: string;
  name: string;
  hostName: string;
  hostAddress: string;
}

/**
 * One row of the operations history (GET /api/operations, the export, the Operations page): the operation
 * with names instead of ids and times derived from its steps (lib/operation-timing.ts). `steps` is empty in
 * lists (GET /api/operations/:id has them); `from`/`to` are null when the operation names no such server or
 * the server was removed from the pair since.
 */
export interface OperationHistoryItem extends OperationView {
  pairName: string;
  from: OperationServerRef | null;
  to: OperationServerRef | null;
  /** From start (or creation) to end; null while it runs. */
  durationMs: number | null;
  /** See vipMovingMs in lib/operation-timing.ts: the controller's part of moving the VIP. */
  vipMovingMs: number | null;
  stepCount: number;
}

export interface PreflightCheck {
  id: string;
  label: string;
  ok: boolean;
  detail: string;
}

export interface Preflight {
  ok: boolean;
  checks: PreflightCheck[];
  /** The server that would become primary (a switchover, a promotion, a graceful stop of the primary). */
  target: { id: string; name: string; hostName: string } | null;
  /** What will happen, in one sentence, for the confirmation; null when it cannot be said (pair not observed). */
  effect: string | null;
  /** The operation that would start when every check passes (null otherwise). */
  intent: { kind: OperatorKind; fromServerId: string | null; toServerId: string | null; params: OperationParams } | null;
}

/**
 * An audit row as the audit list and export return it: the stored row, plus `sentence` (what happened, in
 * words: lib/audit-sentence.ts) and `operationId` (the operation the row belongs to, for `operation.*`
 * actions; link to GET /api/operations/:id).
 */
export interface AuditItem extends AuditSummary {
  sentence: string;
  operationId: string | null;
}

/** A pair as the API returns it (GET /api/pairs): configuration plus the controller's latest view. */
export interface ServerDto {
  id: string;
  name: string;
  hostId: string;
  hostName: string;
  appName: string;
  configuredRole: "primary" | "backup";
}

export interface PairDto {
  id: string;
  name: string;
  vipAddress: string;
  vipPrefix: number;
  vipInterface: string;
  autoFailover: boolean;
  disconnectGraceSeconds: number;
  heartbeatTimeoutMs: number;
  holdDownSeconds: number;
  maintenance: boolean;
  createdAt: string;
  updatedAt: string;
  /** [SIP Server 1 (configured primary), SIP Server 2 (configured backup)]. */
  servers: ServerDto[];
  /**
   * The controller's latest view of the pair, with the configuration's name, maintenance and autoFailover
   * (an admin may just have changed them); `unobservedPairView` until the controller has observed the pair.
   */
  view: PairView;
}

/** A host as the API returns it (GET /api/hosts). The agent credential is write-only. */
export interface HostDto {
  id: string;
  name: string;
  address: string;
  agentUrl: string;
  hasAgentToken: boolean;
  createdAt: string;
  updatedAt: string;
  /** What the active controller last persisted; null before it has seen the host. */
  status: HostStatusDto | null;
}

export interface HostStatusDto {
  connected: boolean;
  lastHeartbeatAt: string | null;
  rttMs: number | null;
  agentVersion: string | null;
  /** When the controller last wrote this status. */
  updatedAt: string;
  apps: HostView["apps"];
  vips: HostView["vips"];
}

/** The signed-in user (login, GET /api/auth/me). */
export interface SessionUserDto {
  id: string;
  username: string;
  role: Role;
}

export interface UserDto {
  id: string;
  username: string;
  role: Role;
  createdAt: string;
}

export interface TokenDto {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  userId: string;
  username: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
}

/** The answer to creating a token: the only time its secret is returned. */
export interface NewTokenDto extends TokenDto {
  token: string;
}

function unobservedServer(s: ServerDto | undefined, role: "primary" | "backup"): ServerView {
  return {
    id: s?.id ?? role,
    name: s?.name ?? "?",
    hostId: s?.hostId ?? "",
    hostName: s?.hostName ?? "?",
    appName: s?.appName ?? "",
    configuredRole: role,
    agentConnected: false,
    processState: "unknown",
    mode: "unknown",
    vip: "unknown",
    healthy: false,
    pid: null,
    lastHeartbeatAt: null,
  };
}

/** Pure: the view of a pair the controller has not observed yet ("unknown", built from its configuration). */
export function unobservedPairView(dto: Omit<PairDto, "view">): PairView {
  return {
    id: dto.id,
    name: dto.name,
    vip: { address: dto.vipAddress, prefix: dto.vipPrefix, interface: dto.vipInterface },
    status: "unknown",
    statusReason: "not observed by the controller yet",
    vipHolder: null,
    servers: [unobservedServer(dto.servers[0], "primary"), unobservedServer(dto.servers[1], "backup")],
    operation: null,
    maintenance: dto.maintenance,
    autoFailover: dto.autoFailover,
    activeAlarms: 0,
    maintenanceWindows: [],
    failovers: { last: null, recent: [] },
    updatedAt: dto.updatedAt,
  };
}

/** Pure: a HostDto as the HostView the live channel sends (`host:state`); no status yet reads as disconnected. */
export function hostViewOf(h: HostDto): HostView {
  return {
    id: h.id,
    name: h.name,
    address: h.address,
    agentUrl: h.agentUrl,
    connected: h.status?.connected ?? false,
    lastHeartbeatAt: h.status?.lastHeartbeatAt ?? null,
    rttMs: h.status?.rttMs ?? null,
    agentVersion: h.status?.agentVersion ?? null,
    apps: h.status?.apps ?? [],
    vips: h.status?.vips ?? [],
  };
}
