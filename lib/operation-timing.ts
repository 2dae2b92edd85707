/**
 * Times derived from an operation's recorded steps, for the history (API, export, the Operations page and
 * its live rows). Pure, no imports at run time: safe in client components.
 *
 * **VIP moving time** (`vipMovingMs`): from the start of the first step that can take the VIP away from
 * its holder or put it on a new one — `demote`, `vip_disable`, `promote`, `recover_demote`,
 * `recover_promote` — to the end of the step that finally enabled the VIP where it stayed: the last
 * succeeded `vip_enable`, or a succeeded `recover_promote` after it (a failed switchover's recovery: the
 * promote command enables the VIP with the mode). Only steps up to that end step count, so a failover's
 * `vip_disable` on the failed host (recorded after the new holder enabled it: that host's agent had taken
 * it down already) does not stretch it.
 *
 * What it measures: the controller's part of the move — for a manual switchover, demote sent → VIP
 * enabled on the new primary's host (clients may get no answer during that time); for a failover, promote
 * sent → VIP enabled on the backup's host. It does not include detecting the fault (the agent's exit event
 * or health probe, or a disconnect's heartbeat timeout + grace) nor the clients' ARP caches updating after
 * the gratuitous ARP. Step times are the agent's own timings of its driver runs where it reported them
 * (lib/controller/steps/mode.ts), else the controller's clock. Null when no VIP was enabled (the operation
 * failed before, runs still, or never moved the VIP).
 */

export interface TimedStep {
  seq: number;
  action: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const MOVING_STARTS = new Set(["demote", "vip_disable", "promote", "recover_demote", "recover_promote"]);
const ENABLES = new Set(["vip_enable", "recover_promote"]);

const t = (iso: string | null) => (iso === null ? null : Date.parse(iso));

export function vipMovingMs(steps: readonly TimedStep[]): number | null {
  const ordered = [...steps].sort((a, b) => a.seq - b.seq);
  const end = ordered.filter((s) => ENABLES.has(s.action) && s.status === "succeeded" && s.finishedAt !== null).at(-1);
  if (!end) return null;
  const starts = ordered
    .filter((s) => s.seq <= end.seq && MOVING_STARTS.has(s.action) && s.startedAt !== null && s.status !== "pending")
    .map((s) => t(s.startedAt)!);
  if (!starts.length) return null;
  return Math.max(0, t(end.finishedAt)! - Math.min(...starts));
}

/** From its start (or creation, for one never started) to its end; null while it runs. */
export function operationDurationMs(o: { createdAt: string; startedAt: string | null; finishedAt: string | null }): number | null {
  if (!o.finishedAt) return null;
  return Math.max(0, Date.parse(o.finishedAt) - Date.parse(o.startedAt ?? o.createdAt));
}
