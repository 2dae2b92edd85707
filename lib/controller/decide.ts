/**
 * The controller's decisions: a pure function of a snapshot of one pair's world and the time.
 * At most one action per pair, always with a readable reason; plus the alarms that should be active.
 * No I/O, no clock of its own: tests inject `now`.
 */
import { operationKindPhrase } from "@/lib/operation-kinds";
import {
  type AlarmKindName,
  type AlarmSeverityName,
  type AlarmSpec,
  type HostCfg,
  type HostObs,
  type OperationKindName,
  type PairWorld,
  type ServerState,
  describeDown,
  isDown,
  isHealthy,
  isObservedPrimary,
  isRunning,
  currentWindow,
  nextWindowBoundary,
  serverStates,
  vipHolders,
  where,
} from "./model";

export { alarmKey, type AlarmSpec } from "./model";

export interface Action {
  kind: OperationKindName;
  /** The server losing (or not holding) the primary role, if any. */
  fromServerId: string | null;
  /** The server becoming primary (split brain: the one kept). */
  toServerId: string | null;
  reason: string;
}

export interface Decision {
  action: Action | null;
  /** Why: the action's reason, or why nothing is done. */
  reason: string;
  /** True when something is wrong (worth recording even when no action is taken). */
  fault: boolean;
  /** Decide again at this time (grace period or hold-down end), if set. */
  wakeAt: number | null;
  alarms: AlarmSpec[];
}

/** A failed VIP repair is tried again after this long (not in a tight loop). */
export const REPAIR_RETRY_MS = 10_000;
/** A failed automatic failover is tried again after this long: the pair has no primary meanwhile. */
export const FAILOVER_RETRY_MS = 3_000;
const RETRY_AFTER_MS: Partial<Record<OperationKindName, number>> = {
  vip_repair: REPAIR_RETRY_MS,
  failover: FAILOVER_RETRY_MS,
  disconnect_failover: FAILOVER_RETRY_MS,
};
const label = operationKindPhrase; // the one table of kind words (lib/operation-kinds.ts)
/** Time of day for operator-facing text (alarms, reasons); the records carry the full times. */
const clock = (t: number) => `${new Date(t).toISOString().slice(11, 19)} UTC`;

export function pairAlarms(world: PairWorld, ss: [ServerState, ServerState]): AlarmSpec[] {
  const pairId = world.pair.id;
  const out: AlarmSpec[] = [];
  const add = (kind: AlarmKindName, severity: AlarmSeverityName, hostId: string | null, message: string, details: Record<string, unknown> = {}) =>
    out.push({ kind, severity, pairId, hostId, message, details });

  for (const s of ss) {
    if (isDown(s)) {
      const wasPrimary = world.memory.lastRunningMode[s.cfg.id] === "primary";
      add(
        wasPrimary ? "primary_failed" : "backup_failed",
        wasPrimary ? "critical" : "major",
        s.cfg.hostId,
        `${wasPrimary ? "primary" : "backup"} ${s.cfg.name} ${describeDown(s)} on ${s.cfg.hostName}`,
        { serverId: s.cfg.id, state: s.app?.state ?? null, lastExit: s.app?.lastExit ?? null },
      );
    }
    if (s.connected && s.app?.crashLoop) {
      add("crash_loop", "major", s.cfg.hostId, `${s.cfg.name} on ${s.cfg.hostName} is crash-looping (${s.app.restarts} restarts)`, {
        serverId: s.cfg.id,
      });
    }
    if (s.connected && s.vip?.duplicate.detected) {
      add(
        "duplicate_vip",
        "critical",
        s.cfg.hostId,
        `VIP ${world.pair.vipAddress} is answered by another machine${s.vip.duplicate.mac ? ` (MAC ${s.vip.duplicate.mac})` : ""}, seen from ${s.cfg.hostName}`,
        { mac: s.vip.duplicate.mac, at: s.vip.duplicate.at },
      );
    }
    const run = s.vip?.lastRun;
    if (run && !run.ok) {
      const how = run.timedOut ? "timed out" : run.signal ? `signal ${run.signal}` : `exit code ${run.exitCode}`;
      add(
        "vip_script_failed",
        "major",
        s.cfg.hostId,
        `VIP ${run.action} for ${world.pair.vipAddress} failed on ${s.cfg.hostName} (${run.driver}: ${how})${run.stderr ? `: ${run.stderr.trim().slice(0, 200)}` : ""}`,
        { run },
      );
    }
  }
  const [a, b] = ss;
  if (isObservedPrimary(a) && isObservedPrimary(b)) {
    add("both_primary", "critical", null, `both ${a.cfg.name} and ${b.cfg.name} are primary`);
  }
  // The invariant: exactly one host holds the VIP, the primary's. (An operation moves it: not while one runs.)
  const holders = vipHolders(ss);
  const vip = world.pair.vipAddress;
  if (holders.length === 2) add("vip_on_both_hosts", "critical", null, `VIP ${vip} is enabled on both ${a.cfg.hostName} and ${b.cfg.hostName}`);
  const primary = ss.find(isObservedPrimary);
  const maybeElsewhere = ss.some((s) => !s.connected && (s.vip?.observed === "enabled" || s.vip?.desired === "enabled"));
  if (!world.activeOp && primary && holders.length === 0 && primary.vip?.observed === "disabled" && !maybeElsewhere) {
    add("vip_not_held", "critical", primary.cfg.hostId, `VIP ${vip} is on no host although ${primary.cfg.name} on ${primary.cfg.hostName} is primary: SIP clients get no answer`);
  }
  for (const [s, o] of [
    [a, b],
    [b, a],
  ] as const) {
    const lastKnownEnabled = s.vip?.observed === "enabled" || s.vip?.desired === "enabled";
    if (!s.connected && s.disconnectedAt !== null && lastKnownEnabled && o.connected && o.vip?.observed === "enabled") {
      add(
        "vip_maybe_on_both_hosts",
        "critical",
        s.cfg.hostId,
        `VIP ${world.pair.vipAddress} is enabled on ${o.cfg.hostName} and may still be enabled on ${s.cfg.hostName} (disconnected; its script could not run)`,
      );
    }
  }
  const f = world.lastFinishedOp;
  if (f && f.status === "failed" && f.kind !== "restart") {
    add("switchover_failed", "critical", null, `${label(f.kind)} failed at ${clock(f.finishedAt)}: ${f.error ?? "unknown error"}`, { operationId: f.id });
  }
  return out;
}

export function hostAlarms(host: HostCfg, obs: HostObs | undefined): AlarmSpec[] {
  if (obs?.refused) {
    return [{ kind: "agent_refused", severity: "critical", pairId: null, hostId: host.id, message: `agent of ${host.name} refuses this controller: ${obs.refused}`, details: { agentUrl: host.agentUrl } }];
  }
  if (!obs || obs.connected || obs.disconnectedAt === null) return [];
  return [
    {
      kind: "host_disconnected",
      severity: "major",
      pairId: null,
      hostId: host.id,
      message: `agent of ${host.name} (${host.agentUrl}) is disconnected since ${clock(obs.disconnectedAt)}`,
      details: { agentUrl: host.agentUrl },
    },
  ];
}

type Proposal =
  | { action: Action; automatic: "failover" | "safety" | "repair" }
  | { action: null; reason: string; fault: boolean; wakeAt?: number | null };

function propose(world: PairWorld, ss: [ServerState, ServerState], now: number): Proposal {
  const pair = world.pair;
  const active = ss.find((s) => s.cfg.id === world.memory.activeServerId) ?? null;

  // Both primary (after a reconnect): demote the one that is not the active one, i.e. the reconnected one.
  if (isObservedPrimary(ss[0]) && isObservedPrimary(ss[1])) {
    let demote: ServerState;
    if (active) demote = ss[0] === active ? ss[1] : ss[0];
    else demote = (ss[0].connectedAt ?? 0) > (ss[1].connectedAt ?? 0) ? ss[0] : ss[1];
    const keep = demote === ss[0] ? ss[1] : ss[0];
    const reconnected = (demote.connectedAt ?? 0) >= (keep.connectedAt ?? 0);
    return {
      automatic: "safety",
      action: {
        kind: "split_brain_resolution",
        fromServerId: demote.cfg.id,
        toServerId: keep.cfg.id,
        reason: `both ${ss[0].cfg.name} and ${ss[1].cfg.name} are primary${reconnected ? ` after ${demote.cfg.hostName} reconnected` : ""}; demoting ${where(demote)} (its agent disables the VIP there), keeping ${keep.cfg.name} (which announces the VIP again)`,
      },
    };
  }

  if (!active || (isRunning(active) && active.app!.mode !== "primary" && !isObservedPrimary(active === ss[0] ? ss[1] : ss[0]))) {
    // Nobody is known to be primary.
    const waiting = ss.filter((s) => !s.connected && s.disconnectedAt === null);
    if (waiting.length) return { action: null, reason: `waiting for the agent of ${waiting.map((s) => s.cfg.hostName).join(" and ")}`, fault: false };
    // A server still starting gets to report first: its agent may be starting it in the mode its host is
    // configured for (autostart). Promoting the other one meanwhile made two primaries, then demoted the
    // configured primary (the cause of a flaky "healthy with sip-1 primary" wait after a cold start).
    const starting = ss.filter((s) => s.connected && s.app?.state === "starting");
    if (starting.length) return { action: null, reason: `no server is primary; waiting for ${starting.map(where).join(" and ")} to finish starting`, fault: false };
    const candidates = ss.filter((s) => isRunning(s) && !s.app!.crashLoop);
    if (candidates.some((s) => s.app!.mode === "unknown"))
      return { action: null, reason: "waiting for the servers to report their mode", fault: false };
    const pick = (active && candidates.includes(active) ? active : null) ?? candidates.find((s) => s.cfg.configuredRole === "primary") ?? candidates[0];
    if (!pick) return { action: null, reason: `no server is primary and none is running to promote`, fault: true };
    const other = pick === ss[0] ? ss[1] : ss[0];
    return {
      automatic: "failover",
      action: {
        kind: "failover",
        fromServerId: other.cfg.id,
        toServerId: pick.cfg.id,
        reason: `no server is primary; promoting ${where(pick)}${pick.cfg.configuredRole === "primary" ? " (configured primary)" : ""}`,
      },
    };
  }

  const other = active === ss[0] ? ss[1] : ss[0];

  if (isDown(active)) {
    const fault = `primary ${active.cfg.name} ${describeDown(active)} on ${active.cfg.hostName}`;
    if (!isRunning(other) || other.app!.crashLoop) {
      const why = !other.connected ? `${other.cfg.hostName} is disconnected` : other.app?.crashLoop ? "it is crash-looping" : describeDown(other);
      return { action: null, reason: `${fault}; no backup to promote: ${other.cfg.name} ${why.startsWith(other.cfg.hostName) ? `(${why})` : why}`, fault: true };
    }
    return {
      automatic: "failover",
      action: { kind: "failover", fromServerId: active.cfg.id, toServerId: other.cfg.id, reason: `${fault}; promoting ${other.cfg.name}` },
    };
  }

  if (!active.connected) {
    if (active.disconnectedAt === null) return { action: null, reason: `waiting for the agent of ${active.cfg.hostName}`, fault: false };
    const graceMs = pair.disconnectGraceSeconds * 1000;
    const graceEnd = active.disconnectedAt + graceMs;
    const fault = `host ${active.cfg.hostName} of primary ${active.cfg.name} is disconnected`;
    if (now < graceEnd) {
      return { action: null, reason: `${fault}; waiting the ${pair.disconnectGraceSeconds}s grace period (until ${clock(graceEnd)})`, fault: true, wakeAt: graceEnd };
    }
    if (!isRunning(other) || other.app!.crashLoop) {
      return { action: null, reason: `${fault}; no backup to promote: ${other.cfg.name} is not running${other.connected ? "" : ` (${other.cfg.hostName} is disconnected too)`}`, fault: true };
    }
    return {
      automatic: "failover",
      action: {
        kind: "disconnect_failover",
        fromServerId: active.cfg.id,
        toServerId: other.cfg.id,
        reason: `${fault} for ${Math.round((now - active.disconnectedAt) / 100) / 10}s (grace ${pair.disconnectGraceSeconds}s); promoting ${other.cfg.name} (the VIP may stay on ${active.cfg.hostName} until it is back)`,
      },
    };
  }

  if (isDown(other)) {
    // Restarting it is its agent's job (one owner: the host's supervisor, docs/controller.md). Its role word
    // is what it was when it ran: the primary that just failed is not "the backup" (issue 10).
    const was = world.memory.lastRunningMode[other.cfg.id] === "primary" ? "former primary" : "backup";
    const fault = `${was} ${other.cfg.name} ${describeDown(other)} on ${other.cfg.hostName}`;
    if (other.app?.state === "stopped") return { action: null, reason: `${fault}; start it to have a backup again (its agent restarts only failed servers)`, fault: true };
    if (other.app?.crashLoop) return { action: null, reason: `${fault}; crash-looping: its agent stopped restarting it`, fault: true };
    return { action: null, reason: `${fault}; its agent restarts it in backup mode (no switchover)`, fault: true };
  }

  if (isObservedPrimary(active)) {
    // The invariant: the VIP on the primary's host alone. Put it back (the agent announces it again).
    const vip = pair.vipAddress;
    const stray = other.connected && other.vip?.observed === "enabled";
    if (active.vip?.observed === "disabled" || stray) {
      const what = stray
        ? `VIP ${vip} is enabled on ${other.cfg.hostName} too${active.vip?.observed === "disabled" ? ` and not on ${active.cfg.hostName}` : ""}; disabling it there (demoting ${other.cfg.name})`
        : `${where(active)} is primary but VIP ${vip} is on no host`;
      return {
        automatic: "repair",
        action: { kind: "vip_repair", fromServerId: stray ? other.cfg.id : null, toServerId: active.cfg.id, reason: `${what}; enabling it on ${active.cfg.hostName} and announcing it` },
      };
    }
    if (!other.connected && other.disconnectedAt === null) return { action: null, reason: `${where(active)} primary; waiting for the agent of ${other.cfg.hostName}`, fault: false };
    if (!other.connected) {
      const lastKnown = other.app?.mode === "primary" ? `${other.cfg.name}'s host ${other.cfg.hostName} (last known primary there, its VIP may still be up) is disconnected` : `backup host ${other.cfg.hostName} is disconnected`;
      return { action: null, reason: `${where(active)} primary; ${lastKnown}`, fault: true };
    }
    if (isHealthy(ss)) return { action: null, reason: `healthy: ${where(active)} primary, ${where(other)} backup`, fault: false };
    return { action: null, reason: `${where(active)} primary; ${other.cfg.name} is ${other.app?.state ?? "unknown"} (${other.app?.mode ?? "unknown"})`, fault: false };
  }
  return { action: null, reason: `${active.cfg.name} is ${active.app?.state ?? "unknown"} (${active.app?.mode ?? "unknown"})`, fault: false };
}

/** Decide for one pair. `now` in epoch milliseconds. Decides again when a maintenance window starts or ends. */
export function decide(world: PairWorld, now: number): Decision {
  const d = decideNow(world, now);
  const boundary = nextWindowBoundary(world.pair, now);
  return boundary !== null && (d.wakeAt === null || boundary < d.wakeAt) ? { ...d, wakeAt: boundary } : d;
}

function decideNow(world: PairWorld, now: number): Decision {
  const ss = serverStates(world);
  const alarms = pairAlarms(world, ss);
  const p = propose(world, ss, now);
  const pair = world.pair;

  if (world.activeOp) {
    const what = p.action ? p.action.reason : p.reason;
    return {
      action: null,
      reason: `${label(world.activeOp.kind)} ${world.activeOp.requestedBy === "controller" ? "" : `by ${world.activeOp.requestedBy} `}is ${world.activeOp.status}; no new action (${what})`,
      fault: p.action !== null || p.fault,
      wakeAt: null,
      alarms,
    };
  }
  if (!p.action) return { action: null, reason: p.reason, fault: p.fault, wakeAt: p.wakeAt ?? null, alarms };

  const a = p.action;
  const none = (reason: string, wakeAt: number | null = null): Decision => ({ action: null, reason, fault: true, wakeAt, alarms });
  if (pair.maintenance) {
    const win = currentWindow(pair, now);
    const why = win ? `maintenance window until ${clock(win.endsAt)} (${win.createdBy}: ${win.reason})` : "maintenance";
    return none(`${why}: no action (would have: ${a.reason})`);
  }
  if (p.automatic !== "safety") {
    // A failed automatic operation is not retried at once (its cause, e.g. a failing VIP script, is likely
    // still there): one rule for repairs and failovers, each with its delay.
    const f = world.lastFinishedOp;
    const delay = f && f.status === "failed" ? RETRY_AFTER_MS[f.kind] : undefined;
    const until = delay !== undefined ? f!.finishedAt + delay : null;
    if (until !== null && now < until) return none(`the last ${label(f!.kind)} failed; trying again at ${clock(until)} (would have: ${a.reason})`, until);
  }
  if (p.automatic === "failover") {
    if (!pair.autoFailover) return none(`autoFailover is off: no action (would have: ${a.reason})`);
    // Never dark: the hold-down limits flapping between LIVE servers. It gates only a move away from a
    // primary that may still be serving, i.e. a disconnect failover whose cut host keeps its VIP (its
    // agent does not fence itself). A failed primary, or none at all, is replaced at once.
    const from = ss.find((s) => s.cfg.id === a.fromServerId);
    const mayStillServe = a.kind === "disconnect_failover" && from?.vip?.fence === false;
    const last = world.lastAutoFailoverAt;
    const until = last === null ? null : last + pair.holdDownSeconds * 1000;
    if (mayStillServe && until !== null && now < until) {
      return none(`hold-down after the automatic failover at ${clock(last!)} until ${clock(until)}: no action while ${from!.cfg.name} may still serve (its VIP does not fence) (would have: ${a.reason})`, until);
    }
  }
  return { action: a, reason: a.reason, fault: true, wakeAt: null, alarms };
}
