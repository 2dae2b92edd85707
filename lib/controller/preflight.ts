/**
 * Preflight of what a person asks of a pair — a manual switchover or an override (start, stop, graceful
 * stop, restart, promote, clear the hold-down) — as a pure function of the observed state (the PairView
 * the leader keeps in PairStatus) and a few facts from the database. It answers the checks (the API
 * answers 409 naming every failed one), the sentence the confirmation shows ("what will happen"), and the
 * operation that would start (its servers and params): the controller starts exactly that.
 */
import { z } from "zod";
import { operationKindPhrase } from "@/lib/operation-kinds";
import type { PairView, Preflight, PreflightCheck, ServerView } from "../views";
import type { OperationParams, OperationRecord, OperatorKind } from "./model";

const Mode = z.enum(["primary", "backup"], { message: "must be primary or backup" });
const ServerId = z.uuid({ message: "must be a server id" });

/** What a person may ask of a pair (POST /api/pairs/:id/operations; the switchover route is its first kind). */
export const OperatorRequest = z.discriminatedUnion(
  "kind",
  [
    z.object({
      kind: z.literal("manual_switchover"),
      /** The server the caller means to make primary; refused (409) if it is not the backup any more. */
      toServerId: ServerId.optional(),
    }),
    z.object({ kind: z.literal("promote"), serverId: ServerId }),
    z.object({ kind: z.literal("app_start"), serverId: ServerId, mode: Mode.default("backup") }),
    z.object({ kind: z.literal("app_stop"), serverId: ServerId, graceful: z.boolean({ message: "must be true or false" }).default(false) }),
    /** mode: default the mode it runs in now (backup when it runs in none). */
    z.object({ kind: z.literal("app_restart"), serverId: ServerId, mode: Mode.optional() }),
    z.object({ kind: z.literal("clear_holddown") }),
  ],
  { error: () => "kind must be one of manual_switchover, promote, app_start, app_stop, app_restart, clear_holddown" },
);
export type OperatorRequest = z.infer<typeof OperatorRequest>;
export const SWITCHOVER: OperatorRequest = { kind: "manual_switchover" };

export interface PreflightContext {
  maintenance: boolean;
  autoFailover: boolean;
  activeOperation: { id: string; kind: string } | null;
  /** The leader's lease is current (someone will run the operation). */
  controllerActive: boolean;
  /** When the hold-down of the pair's last automatic failover ends (epoch ms), null when there is none. */
  holdDownUntil: number | null;
  now: number;
  /** The request says its sender knows the pair is in maintenance (and acts by hand on purpose). */
  confirmMaintenance?: boolean;
}

export function computePreflight(view: PairView | null, ctx: PreflightContext, req: OperatorRequest = SWITCHOVER): Preflight {
  const checks: PreflightCheck[] = [];
  const add = (id: string, label: string, ok: boolean, detail: string) => checks.push({ id, label, ok, detail });
  const result = (effect: string | null, intent: Preflight["intent"], target: ServerView | null = null): Preflight => {
    const ok = checks.every((c) => c.ok);
    return { ok, checks, target: target ? { id: target.id, name: target.name, hostName: target.hostName } : null, effect, intent: ok ? intent : null };
  };

  add("controller", "A controller is active", ctx.controllerActive, ctx.controllerActive ? "the leader's lease is current" : "no controller holds the lease: nobody would run it");
  add("no_operation", "No operation running", !ctx.activeOperation, ctx.activeOperation ? `${operationKindPhrase(ctx.activeOperation.kind)} ${ctx.activeOperation.id} is running` : "none");
  const confirmed = !!ctx.confirmMaintenance;
  add(
    "not_maintenance",
    "Not in maintenance, or confirmed",
    !ctx.maintenance || confirmed,
    !ctx.maintenance
      ? "no"
      : confirmed
        ? "the pair is in maintenance; the request confirms acting by hand"
        : "the pair is in maintenance (the controller takes no automatic action): confirm to act by hand (confirmMaintenance)",
  );

  if (!view) {
    add("observed", "Observed state available", false, "the controller has not reported this pair yet");
    return result(null, null);
  }
  const [a, b] = view.servers;
  const on = (s: ServerView) => `${s.name} on ${s.hostName}`;
  const other = (s: ServerView) => (s === a ? b : a);
  const primaries = view.servers.filter((s) => s.mode === "primary" && s.processState === "running" && s.agentConnected);
  const noFailover = ctx.maintenance || !view.autoFailover;

  if (req.kind === "clear_holddown") {
    const held = ctx.holdDownUntil !== null && ctx.holdDownUntil > ctx.now;
    add("holddown", "A hold-down is in force", held, held ? `until ${new Date(ctx.holdDownUntil!).toISOString()}` : "no hold-down is in force");
    return result("The hold-down of the last automatic failover ends: the controller may fail over again at once.", { kind: "clear_holddown", fromServerId: null, toServerId: null, params: {} });
  }

  if (req.kind === "manual_switchover") {
    add("agents_connected", "Both agents connected", a.agentConnected && b.agentConnected, [a, b].filter((s) => !s.agentConnected).map((s) => `agent of ${s.hostName} is disconnected`).join("; ") || "both connected");
    const primary = primaries.length === 1 ? primaries[0] : null;
    add("one_primary", "Exactly one primary", !!primary, primary ? `${on(primary)} is primary` : primaries.length === 0 ? "no server is running as primary" : "both servers are primary");
    const backup = primary ? other(primary) : null;
    if (backup) checkBackupReady(add, backup);
    if (primary && backup && req.toServerId && req.toServerId !== backup.id) {
      add(
        "direction",
        "Requested direction still valid",
        false,
        `the server this request would make primary is already primary or no longer the backup (${backup.name} is the backup now): the pair changed since the request was prepared`,
      );
    }
    const effect = primary && backup ? `${on(primary)} is demoted and its VIP disabled; ${on(backup)} is promoted and enables VIP ${view.vip.address} (SIP clients wait a few milliseconds).` : null;
    return result(effect, primary && backup ? { kind: "manual_switchover", fromServerId: primary.id, toServerId: backup.id, params: {} } : null, backup);
  }

  const server = view.servers.find((s) => s.id === req.serverId) ?? null;
  add("server", "Server of this pair", !!server, server ? on(server) : `no server ${req.serverId} in ${view.name}`);
  if (!server) return result(null, null);
  const peer = other(server);
  add("agent_connected", "Its agent connected", server.agentConnected, server.agentConnected ? `agent of ${server.hostName} is connected` : `agent of ${server.hostName} is disconnected: nothing can be done there`);
  const isPrimary = primaries.includes(server);
  const peerPrimary = primaries.includes(peer);
  const running = server.processState !== "stopped" && server.processState !== "failed" && server.processState !== "unknown";

  switch (req.kind) {
    case "promote": {
      add("no_primary", "The pair has no primary", primaries.length === 0, primaries.length ? `${primaries.map(on).join(" and ")} is primary: use a switchover` : "no server is running as primary");
      add("server_running", "Server running", server.processState === "running", `${on(server)} is ${server.processState}`);
      add("server_healthy", "Server healthy", server.healthy, server.healthy ? `${server.name} is healthy` : `${server.name} is not healthy (failing probe or crash-looping)`);
      return result(`${on(server)} becomes primary and enables VIP ${view.vip.address} on ${server.hostName}, announcing it.`, { kind: "promote", fromServerId: null, toServerId: server.id, params: {} }, server);
    }
    case "app_start": {
      add("server_stopped", "Server not running", !running, running ? `${on(server)} is ${server.processState}: restart it instead` : `${on(server)} is ${server.processState}`);
      if (req.mode === "primary") add("peer_not_primary", "The other server is not primary", !peerPrimary, peerPrimary ? `${on(peer)} is primary: start ${server.name} in backup mode, then switch over` : `${peer.name} is not primary`);
      const effect = req.mode === "primary" ? `${on(server)} starts in primary mode and enables VIP ${view.vip.address} on ${server.hostName}.` : `${on(server)} starts in backup mode.`;
      return result(effect, { kind: "app_start", fromServerId: null, toServerId: server.id, params: { mode: req.mode } });
    }
    case "app_restart": {
      const mode = req.mode ?? (server.mode === "primary" ? "primary" : "backup");
      if (mode === "primary") add("peer_not_primary", "The other server is not primary", !peerPrimary, peerPrimary ? `${on(peer)} is primary: restart ${server.name} in backup mode` : `${peer.name} is not primary`);
      if (isPrimary && mode === "backup") add("primary_keeps_role", "A primary restarts as primary", false, `${on(server)} is primary: switch over first, or restart it in primary mode`);
      const effect = isPrimary
        ? `${on(server)} (primary) restarts in primary mode: SIP clients get no answer through VIP ${view.vip.address} until it runs again. To avoid that, switch over first.`
        : `${on(server)} restarts in ${mode} mode${mode === "backup" ? `; the pair has no backup meanwhile` : ""}.`;
      return result(effect, { kind: "app_restart", fromServerId: null, toServerId: server.id, params: { mode } });
    }
    case "app_stop": {
      add("server_running", "Server running", running, `${on(server)} is ${server.processState}`);
      if (isPrimary && req.graceful) {
        checkBackupReady(add, peer);
        return result(
          `${on(peer)} takes over first (the planned switchover's steps: ${server.name} demoted, ${peer.name} promoted with the VIP), then ${on(server)} stops.`,
          { kind: "app_stop", fromServerId: server.id, toServerId: peer.id, params: { graceful: true } },
          peer,
        );
      }
      const effect = !isPrimary
        ? `${on(server)} stops; the pair has no backup until it is started again.`
        : noFailover
          ? `${on(server)} (primary) stops and its agent disables the VIP. ${ctx.maintenance ? "In maintenance" : "With automatic failover off"} the controller does not fail over: SIP clients get no answer until you start or promote a server.`
          : `${on(server)} (primary) stops and its agent disables the VIP; the controller then fails over to ${on(peer)} (a graceful stop avoids the gap).`;
      return result(effect, { kind: "app_stop", fromServerId: server.id, toServerId: null, params: { graceful: false } });
    }
  }
}

function checkBackupReady(add: (id: string, label: string, ok: boolean, detail: string) => void, backup: ServerView) {
  add("backup_running", "Backup running", backup.processState === "running", `backup ${backup.name} on ${backup.hostName} is ${backup.processState}`);
  add("backup_mode", "Backup in backup mode", backup.mode === "backup", `backup ${backup.name} reports mode ${backup.mode}`);
  add("backup_healthy", "Backup healthy", backup.healthy, backup.healthy ? `backup ${backup.name} is healthy` : `backup ${backup.name} is not healthy`);
}

/** "backup sip-2 on host-a2 is failed; the pair is in maintenance mode" */
export function describeFailedChecks(p: Preflight): string {
  return p.checks.filter((c) => !c.ok).map((c) => c.detail).join("; ");
}

/** "switchover", "stop of sip-1" …: how a refusal or a busy answer names the request. */
export function describeRequest(req: OperatorRequest, view: PairView | null): string {
  const name = "serverId" in req ? (view?.servers.find((s) => s.id === req.serverId)?.name ?? "the server") : "";
  switch (req.kind) {
    case "manual_switchover":
      return "switchover";
    case "promote":
      return `promotion of ${name}`;
    case "app_start":
      return `start of ${name}`;
    case "app_stop":
      return `${req.graceful ? "graceful stop" : "stop"} of ${name}`;
    case "app_restart":
      return `restart of ${name}`;
    case "clear_holddown":
      return "clearing the hold-down";
  }
}

/** The request a pending row stands for (written by an instance that does not lead; the leader claims it). */
export function requestOf(op: Pick<OperationRecord, "kind" | "fromServerId" | "toServerId" | "params">): OperatorRequest | null {
  const { mode, graceful } = op.params;
  switch (op.kind) {
    case "manual_switchover":
      return { kind: "manual_switchover", ...(op.toServerId ? { toServerId: op.toServerId } : {}) };
    case "promote":
      return op.toServerId ? { kind: "promote", serverId: op.toServerId } : null;
    case "app_start":
      return op.toServerId ? { kind: "app_start", serverId: op.toServerId, mode: mode ?? "backup" } : null;
    case "app_restart":
      return op.toServerId ? { kind: "app_restart", serverId: op.toServerId, ...(mode ? { mode } : {}) } : null;
    case "app_stop":
      return op.fromServerId ? { kind: "app_stop", serverId: op.fromServerId, graceful: !!graceful } : null;
    case "clear_holddown":
      return { kind: "clear_holddown" };
    default:
      return null; // the controller's own kinds are never requested
  }
}

export type { OperationParams, OperatorKind };
