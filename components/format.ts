/**
 * The panel's words and numbers, shared by every page: times (relative, with the exact local time on
 * hover: components/Time.tsx is the one way a time is shown), durations, operation kinds (from the one
 * table server and panel share, lib/operation-kinds.ts), step titles.
 */
import type { OperationKindName } from "@/lib/controller/model";
import { OPERATION_KIND_NAMES, operationKindLabel } from "@/lib/operation-kinds";
import type { OperationSummary, StepView } from "@/lib/views";

/** The exact local time, with the zone: what hovering a time shows. */
export function exactTime(iso: string | null | undefined): string | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return undefined;
  const local = d.toLocaleString(undefined, { year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" });
  return `${local} (${d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC")})`;
}

/** A short local time of day (chart axes, where a relative time would drift). */
export function clockTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

export function duration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${s} s`;
}

/** "just now", "42 s ago", "3 min ago", "5 h ago", "2 d ago"; the future reads "in 3 d". Over 30 days: the date. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return "—";
  const diff = Math.round((now - t) / 1000);
  const s = Math.abs(diff);
  if (s < 2) return "just now";
  if (s >= 30 * 86400) return new Date(t).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
  const span = s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : s < 86400 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 86400)} d`;
  return diff >= 0 ? `${span} ago` : `in ${span}`;
}

export function elapsedMs(start: string | null | undefined, end: string | null | undefined, now = Date.now()): number | null {
  if (!start) return null;
  const a = new Date(start).getTime();
  const b = end ? new Date(end).getTime() : now;
  return Number.isNaN(a) || Number.isNaN(b) ? null : Math.max(0, b - a);
}

/**
 * Kind → label, from the one table server and panel share (lib/operation-kinds.ts). Prefer
 * `operationKindLabel(kind)`, which also humanises kinds this table does not know yet.
 */
export const OPERATION_KIND: Record<string, string> = Object.fromEntries(OPERATION_KIND_NAMES.map((k) => [k, operationKindLabel(k)]));
export { operationKindLabel };

/** While it runs: a planned switchover is never "failing over". */
const OPERATION_RUNNING: Record<OperationKindName, string> = {
  manual_switchover: "Switching over",
  failover: "Failing over",
  disconnect_failover: "Failing over",
  split_brain_resolution: "Resolving split brain",
  vip_repair: "Repairing the VIP",
  restart: "Restarting",
  promote: "Promoting",
  app_start: "Starting a server",
  app_stop: "Stopping a server",
  app_restart: "Restarting a server",
  clear_holddown: "Clearing the hold-down",
};

/** A word for a chart's narrow label. */
const OPERATION_SHORT: Record<OperationKindName, string> = {
  manual_switchover: "switchover",
  failover: "failover",
  disconnect_failover: "failover",
  split_brain_resolution: "split brain",
  vip_repair: "VIP repair",
  restart: "restart",
  promote: "promote",
  app_start: "start",
  app_stop: "stop",
  app_restart: "restart",
  clear_holddown: "hold-down",
};

export function operationShort(kind: string): string {
  return OPERATION_SHORT[kind as OperationKindName] ?? kind.replace(/_/g, " ");
}

const humanize = (kind: string) => kind.charAt(0).toUpperCase() + kind.slice(1).replace(/_/g, " ");

/** The label of an operation kind; a kind this panel does not know yet reads as its words. */
export const operationKind = operationKindLabel;

export function operationRunning(kind: string): string {
  return OPERATION_RUNNING[kind as OperationKindName] ?? `${humanize(kind)} running`;
}

export const isActive = (op: Pick<OperationSummary, "status"> | null | undefined) => !!op && (op.status === "running" || op.status === "pending");

export const STEP_LABEL: Record<string, string> = {
  demote: "Demote to backup",
  vip_disable: "Disable VIP",
  promote: "Promote to primary",
  vip_enable: "Enable VIP",
  verify: "Verify",
  restart: "Restart",
  start: "Start",
  stop: "Stop",
  holddown_clear: "Clear the hold-down",
  arp: "Gratuitous ARP",
  fence: "Fence",
};

export function stepLabel(action: string): string {
  return STEP_LABEL[action] ?? action.replace(/_/g, " ");
}

/** A `datetime-local` input's value (the browser's zone) as an ISO UTC time; "" stays "". */
export const localInputToIso = (local: string) => (local ? new Date(local).toISOString() : "");

/** An ISO time as a `datetime-local` input's value in the browser's zone; "" for nothing or a bad time. */
export function isoToLocalInput(iso: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** "sip-1 on host-a1" / "VIP 198.18.0.110/24 on host-a1" → the subject and the host (lib/controller/plan.ts). */
function parseTarget(target: string): { subject: string; host: string } | null {
  const m = /^(.*) on (\S+)$/.exec(target);
  return m ? { subject: m[1], host: m[2] } : null;
}

/** What a step title needs of a pair: its servers' hosts, in order (a PairView or a PairDto). */
export type PairHosts = { servers: readonly { hostName: string }[] };

export interface StepTitle {
  /** e.g. "Demote sip-1 on Host 1 (host-a1) to backup". */
  title: string;
  /** The target in words when the title does not already say it (verify, unknown actions). */
  detail: string | null;
  /** The source document's causality: this step is the previous one's effect on the same host. */
  follows: boolean;
}

/**
 * The title of a step, naming its host as the source document does ("Host 1", "Host 2": the pair's
 * first and second server's hosts): demote → Host 1's VIP disabled; promote → Host 2's VIP enabled.
 */
export function stepTitle(step: Pick<StepView, "action" | "target">, prev?: Pick<StepView, "action" | "target"> | null, pair?: PairHosts | null): StepTitle {
  if (step.action === "verify") {
    // "pair-a: sip-2 primary, VIP only on host-a2": the end state it checks, without the pair's name.
    const what = step.target.replace(/^[^:]+:\s*/, "");
    const v = parseTarget(what);
    const n = v && pair ? pair.servers.findIndex((s) => s.hostName === v.host) + 1 : 0;
    return { title: what ? `Verify: ${v && n ? `${v.subject} on Host ${n} (${v.host})` : what}` : "Verify", detail: null, follows: false };
  }
  const t = parseTarget(step.target);
  if (!t) return { title: stepLabel(step.action), detail: step.target || null, follows: false };
  const n = pair ? pair.servers.findIndex((s) => s.hostName === t.host) + 1 : 0;
  const host = n ? `Host ${n} (${t.host})` : t.host;
  const p = prev ? parseTarget(prev.target) : null;
  const sameHost = !!p && p.host === t.host;
  switch (step.action) {
    case "demote":
      return { title: `Demote ${t.subject} on ${host} to backup`, detail: null, follows: false };
    case "promote":
      return { title: `Promote ${t.subject} on ${host} to primary`, detail: null, follows: false };
    case "vip_disable":
      return { title: `VIP disabled on ${host}`, detail: null, follows: sameHost && prev?.action === "demote" };
    case "vip_enable":
      return { title: `VIP enabled on ${host}, announced (gratuitous ARP)`, detail: null, follows: sameHost && prev?.action === "promote" };
    default:
      return { title: `${stepLabel(step.action)} on ${host}`, detail: null, follows: false };
  }
}
