/**
 * Preflight of a manual switchover, a pure function of the observed state (the PairView the leader keeps
 * in PairStatus) and a few facts from the database. The API answers 409 naming every failed check.
 */
import type { PairView, Preflight, PreflightCheck } from "../views";

export interface PreflightContext {
  maintenance: boolean;
  activeOperation: { id: string; kind: string } | null;
  /** The leader's lease is current (someone will run the operation). */
  controllerActive: boolean;
}

export function computePreflight(view: PairView | null, ctx: PreflightContext): Preflight {
  const checks: PreflightCheck[] = [];
  const add = (id: string, label: string, ok: boolean, detail: string) => checks.push({ id, label, ok, detail });

  add("controller", "A controller is active", ctx.controllerActive, ctx.controllerActive ? "the leader's lease is current" : "no controller holds the lease: nobody would run the switchover");
  add("no_operation", "No operation running", !ctx.activeOperation, ctx.activeOperation ? `${ctx.activeOperation.kind.replace(/_/g, " ")} ${ctx.activeOperation.id} is running` : "none");
  add("not_maintenance", "Pair not in maintenance", !ctx.maintenance, ctx.maintenance ? "the pair is in maintenance mode" : "no");

  if (!view) {
    add("observed", "Observed state available", false, "the controller has not reported this pair yet");
    return { ok: false, checks, target: null };
  }
  const [a, b] = view.servers;
  add(
    "agents_connected",
    "Both agents connected",
    a.agentConnected && b.agentConnected,
    [a, b].filter((s) => !s.agentConnected).map((s) => `agent of ${s.hostName} is disconnected`).join("; ") || "both connected",
  );
  const primaries = view.servers.filter((s) => s.mode === "primary" && s.processState === "running");
  const primary = primaries.length === 1 ? primaries[0] : null;
  add(
    "one_primary",
    "Exactly one primary",
    !!primary,
    primary ? `${primary.name} on ${primary.hostName} is primary` : primaries.length === 0 ? "no server is running as primary" : "both servers are primary",
  );
  const backup = primary ? (primary === a ? b : a) : null;
  if (backup) {
    add("backup_running", "Backup running", backup.processState === "running", `backup ${backup.name} on ${backup.hostName} is ${backup.processState}`);
    add("backup_mode", "Backup in backup mode", backup.mode === "backup", `backup ${backup.name} reports mode ${backup.mode}`);
    add("backup_healthy", "Backup healthy", backup.healthy, backup.healthy ? `backup ${backup.name} is healthy` : `backup ${backup.name} is not healthy`);
  }
  const ok = checks.every((c) => c.ok);
  return { ok, checks, target: backup ? { id: backup.id, name: backup.name, hostName: backup.hostName } : null };
}

/** "backup sip-2 on host-a2 is failed; the pair is in maintenance mode" */
export function describeFailedChecks(p: Preflight): string {
  return p.checks.filter((c) => !c.ok).map((c) => c.detail).join("; ");
}

/**
 * A request names the server it means to make primary (the dialog's "Make sip-2 primary"): if that server is
 * not the backup any more (a switchover finished in between, e.g. a second operator's), the request is stale
 * and refused instead of switching the pair back.
 */
export function withRequestedTarget(preflight: Preflight, toServerId: string | undefined): Preflight {
  if (!toServerId || !preflight.target || preflight.target.id === toServerId) return preflight;
  const check = {
    id: "direction",
    label: "Requested direction still valid",
    ok: false,
    detail: `the server this request would make primary is already primary or no longer the backup (${preflight.target.name} is the backup now): the pair changed since the request was prepared`,
  };
  return { ...preflight, ok: false, checks: [...preflight.checks, check] };
}
