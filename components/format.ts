/** Formatting shared by every page: local times with the exact UTC on hover, durations, ages. */
import { OPERATION_KIND_NAMES, operationKindLabel } from "@/lib/operation-kinds";

export function localTime(iso: string | null | undefined, withDate = true): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toLocaleString(undefined, {
    ...(withDate ? { year: "numeric", month: "short", day: "2-digit" } : {}),
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export function utcTitle(iso: string | null | undefined): string | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return undefined;
  return d.toISOString().replace("T", " ").replace("Z", " UTC");
}

export function duration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${s} s`;
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return "—";
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 2) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
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

export const STEP_LABEL: Record<string, string> = {
  demote: "Demote to backup",
  vip_disable: "Disable VIP",
  promote: "Promote to primary",
  vip_enable: "Enable VIP",
  verify: "Verify",
  restart: "Restart",
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
