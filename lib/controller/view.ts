/**
 * Pure: the views the controller publishes (lib/views.ts declares them), built from its model — the pair
 * view, the host view — and the before/after summary and details of an operation's audit. (Views built
 * from API data, for a pair not observed yet, are in lib/views.ts.)
 */
import type { HostView, PairHealth, PairView, ServerView, OperationSummary } from "../views";
import { type HostCfg, type HostObs, type PairWorld, type ServerState, isHealthy, isObservedPrimary, serverStates, vipHolders } from "./model";
import type { StepRecord } from "./model";

function serverView(s: ServerState): ServerView {
  const a = s.connected ? s.app : null;
  return {
    id: s.cfg.id,
    name: s.cfg.name,
    hostId: s.cfg.hostId,
    hostName: s.cfg.hostName,
    appName: s.cfg.appName,
    configuredRole: s.cfg.configuredRole,
    agentConnected: s.connected,
    processState: a ? a.state : "unknown",
    mode: a ? a.mode : "unknown",
    vip: s.connected ? (s.vip?.observed ?? "unknown") : "unknown",
    healthy: !!a && a.state === "running" && a.health.status !== "failing" && !a.crashLoop,
    pid: a ? a.pid : null,
    lastHeartbeatAt: s.lastHeartbeatAt ? new Date(s.lastHeartbeatAt).toISOString() : null,
    lastGroup: s.app?.lastGroup
      ? { count: s.app.lastGroup.count, trigger: s.app.lastGroup.trigger, action: s.app.lastGroup.action, survivors: s.app.lastGroup.survivors.length, at: s.app.lastGroup.at }
      : null,
  };
}

/** While one of these runs the pair is "failing over"; a manual switchover is "switching over"; during an
 * operator's override (start, stop, restart, promote) the status is what is observed. */
const AUTOMATIC: readonly string[] = ["failover", "disconnect_failover", "split_brain_resolution", "vip_repair"];

export function pairHealth(world: PairWorld, ss: [ServerState, ServerState]): PairHealth {
  if (!ss[0].connected && !ss[1].connected) return "unknown";
  if ((isObservedPrimary(ss[0]) && isObservedPrimary(ss[1])) || vipHolders(ss).length === 2) return "split_brain";
  const op = world.activeOp;
  if (op?.kind === "manual_switchover") return "switching_over";
  if (op && AUTOMATIC.includes(op.kind)) return "failing_over";
  if (isHealthy(ss)) return "healthy";
  // Dark: nobody answers behind the VIP — no primary, or the VIP on no host. A host cut off from us may
  // still be serving (its last report: primary with the VIP): degraded, not dark.
  const maybeServing = ss.some((s) => !s.connected && s.app?.mode === "primary" && s.vip?.observed !== "disabled");
  const primary = ss.find(isObservedPrimary);
  const serving = primary !== undefined && primary.vip?.observed !== "disabled";
  return serving || maybeServing ? "degraded" : "not_serving";
}

export function buildPairView(
  world: PairWorld,
  opts: { statusReason: string; operation: OperationSummary | null; activeAlarms: number; failovers: { last: number | null; recent: number[] }; now: number },
): PairView {
  const ss = serverStates(world);
  const holders = ss.filter((s) => s.connected && s.vip?.observed === "enabled");
  return {
    id: world.pair.id,
    name: world.pair.name,
    vip: { address: world.pair.vipAddress, prefix: world.pair.vipPrefix, interface: world.pair.vipInterface },
    status: pairHealth(world, ss),
    statusReason: opts.statusReason,
    vipHolder: holders.length === 2 ? "both" : holders.length === 1 ? holders[0].cfg.hostName : null,
    servers: [serverView(ss[0]), serverView(ss[1])],
    operation: opts.operation,
    maintenance: world.pair.maintenance,
    autoFailover: world.pair.autoFailover,
    activeAlarms: opts.activeAlarms,
    maintenanceWindows: (world.pair.windows ?? [])
      .filter((w) => w.endsAt > opts.now)
      .map((w) => ({ id: w.id, pairId: world.pair.id, startsAt: new Date(w.startsAt).toISOString(), endsAt: new Date(w.endsAt).toISOString(), reason: w.reason, createdBy: w.createdBy })),
    failovers: { last: opts.failovers.last === null ? null : new Date(opts.failovers.last).toISOString(), recent: opts.failovers.recent.map((t) => new Date(t).toISOString()) },
    updatedAt: new Date(opts.now).toISOString(),
  };
}

/** One server in the before/after summary of an operation. */
export interface ServerSummary {
  server: string;
  host: string;
  processState: string;
  mode: string;
  vip: string;
}
export type StateSummary = ServerSummary[];

/**
 * The details of an `operation.finished` AuditEvent (rendered by the UI's detail drawer):
 * { kind, status, epoch, error, reason, decision, before, after,
 *   steps: [{ seq, action, target, status, startedAt, finishedAt, durationMs, error, runs }] }
 * `runs` are the agent's DriverRun objects (already bounded by the agent); times are ISO strings.
 */
export function finishedDetails(
  op: { kind: string; reason: string | null; decision: string | null; steps: StepRecord[] },
  status: "succeeded" | "failed",
  error: string | null,
  epoch: number,
  before: StateSummary | null,
  after: StateSummary | null,
) {
  return {
    kind: op.kind,
    status,
    epoch,
    error,
    reason: op.reason,
    decision: op.decision,
    before: beforeTheFault(op.kind, before, op.steps),
    after,
    steps: op.steps.map((s) => ({
      seq: s.seq,
      action: s.action,
      target: s.target,
      status: s.status,
      startedAt: s.startedAt ? new Date(s.startedAt).toISOString() : null,
      finishedAt: s.finishedAt ? new Date(s.finishedAt).toISOString() : null,
      durationMs: s.startedAt && s.finishedAt ? s.finishedAt - s.startedAt : null,
      error: s.error,
      runs: s.output ?? [],
    })),
  };
}

/**
 * A failover's "before" as an operator means it: before the fault. The failed primary's agent takes its VIP
 * down the moment the server dies, before the operation starts, so the state the operation found shows that
 * VIP already disabled ("VIP off, unchanged" in the drawer, though it held the VIP). The vip_disable step's
 * run by that agent proves it held it until then: that host's VIP reads "enabled" before.
 */
export function beforeTheFault(kind: string, before: StateSummary | null, steps: StepRecord[]): StateSummary | null {
  if (kind !== "failover" || !before) return before;
  const tookDown = steps.filter((s) => s.action === "vip_disable" && s.status === "succeeded" && (s.output ?? []).some((r) => r.action === "disable" && r.ok));
  return before.map((e) => (e.vip === "disabled" && tookDown.some((s) => s.target.endsWith(` on ${e.host}`)) ? { ...e, vip: "enabled" } : e));
}

/** Short state of both servers ({ server, host, processState, mode, vip }) for the operation's audit. */
export function stateSummary(world: PairWorld): StateSummary {
  return serverStates(world).map((s) => {
    const a = s.connected ? s.app : null;
    return {
      server: s.cfg.name,
      host: s.cfg.hostName,
      processState: s.connected ? (a ? a.state : "absent") : "unknown (agent disconnected)",
      mode: a ? a.mode : "unknown",
      vip: s.connected ? (s.vip?.observed ?? "unknown") : "unknown",
    };
  });
}

/** A host as its agent link and last snapshot show it (`host:state`, the Hosts page). */
export function hostView(h: HostCfg, o: HostObs | undefined): HostView {
  const s = o?.snapshot;
  return {
    id: h.id,
    name: h.name,
    address: h.address,
    agentUrl: h.agentUrl,
    connected: !!o?.connected,
    lastHeartbeatAt: o?.lastHeartbeatAt ? new Date(o.lastHeartbeatAt).toISOString() : null,
    rttMs: o?.rttMs ?? null,
    agentVersion: s?.version ?? null,
    apps: (s?.apps ?? []).map((a) => ({ name: a.name, state: a.state, mode: a.mode, vip: a.vip })),
    vips: (s?.vips ?? []).map((v) => ({ name: v.name, address: v.address, observed: v.observed, duplicate: v.duplicate.detected })),
  };
}
