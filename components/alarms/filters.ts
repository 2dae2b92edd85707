/**
 * The alarms page's filters, kept in the URL (`?state=&severity=&kind=&pair=`), and the same filters as a
 * predicate for live updates (`alarm:update`): the API's state names (docs/api.md, Alarm lifecycle).
 */
import { ALARM_KINDS } from "@/lib/controller/model";
import type { AlarmJson, AlarmState } from "@/lib/realtime/events";

export const STATE_CHIPS = [
  { id: "open", label: "Open", hint: "what is not over: present, or cleared and waiting for a person" },
  { id: "unacknowledged", label: "Unacknowledged", hint: "waits for a person" },
  { id: "present", label: "Active", hint: "the condition is present" },
  { id: "acknowledged", label: "Acknowledged", hint: "a person acknowledged it" },
  { id: "cleared_unacknowledged,cleared", label: "Cleared", hint: "the condition is gone" },
  { id: "all", label: "All", hint: "everything recorded" },
] as const;
export type StateChip = (typeof STATE_CHIPS)[number]["id"];

export const SEVERITIES = ["critical", "major", "minor", "warning"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const KINDS: readonly string[] = ALARM_KINDS;

export function kindLabel(kind: string): string {
  const s = kind.replace(/_/g, " ").replace(/\bvip\b/gi, "VIP");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export interface AlarmFilters {
  state: StateChip;
  severity: Severity[];
  kind: string | null;
  pair: string | null;
}

export function parseFilters(sp: URLSearchParams): AlarmFilters {
  const state = STATE_CHIPS.find((c) => c.id === sp.get("state"))?.id ?? "open";
  const severity = (sp.get("severity") ?? "").split(",").filter((s): s is Severity => (SEVERITIES as readonly string[]).includes(s));
  const kind = sp.get("kind");
  return { state, severity, kind: kind && KINDS.includes(kind) ? kind : null, pair: sp.get("pair") || null };
}

/** The URL's query for these filters (defaults left out). */
export function filtersQuery(f: AlarmFilters): string {
  const q = new URLSearchParams();
  if (f.state !== "open") q.set("state", f.state);
  if (f.severity.length) q.set("severity", f.severity.join(","));
  if (f.kind) q.set("kind", f.kind);
  if (f.pair) q.set("pair", f.pair);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** GET /api/alarms's query for these filters. */
export function apiQuery(f: AlarmFilters): Record<string, string | undefined> {
  return { state: f.state, severity: f.severity.join(",") || undefined, kind: f.kind ?? undefined, pairId: f.pair ?? undefined };
}

/** Waits for a person: present and unacknowledged, or a cleared critical/major one nobody acknowledged. */
export const needsAck = (a: Pick<AlarmJson, "state">) => a.state === "active" || a.state === "cleared_unacknowledged";

function matchesState(a: AlarmJson, filter: string): boolean {
  switch (filter) {
    case "all":
      return true;
    case "open":
      return a.active || a.state === "cleared_unacknowledged";
    case "unacknowledged":
      return needsAck(a);
    case "present":
      return a.active;
    default:
      return a.state === (filter as AlarmState);
  }
}

/** The server's filter, in the browser: does a live alarm belong in the list? */
export function matches(a: AlarmJson, f: AlarmFilters): boolean {
  return (
    f.state.split(",").some((s) => matchesState(a, s)) &&
    (!f.severity.length || (f.severity as string[]).includes(a.severity)) &&
    (!f.kind || a.kind === f.kind) &&
    (!f.pair || a.pairId === f.pair)
  );
}

/**
 * An alarm only moves forward (raised → cleared, unacknowledged → acknowledged): of two copies of it (a live
 * event, a page fetched meanwhile) keep the one further along, with what the other knows that it does not.
 */
export function laterAlarm(known: AlarmJson | undefined, next: AlarmJson): AlarmJson {
  if (!known || known.id !== next.id) return next;
  const clearedAt = next.clearedAt ?? known.clearedAt;
  const acked = next.acknowledgedAt ? next : known.acknowledgedAt ? known : next;
  const active = !clearedAt;
  const state: AlarmJson["state"] = acked.acknowledgedAt
    ? "acknowledged"
    : active
      ? "active"
      : next.clearedAt
        ? next.state
        : known.state;
  return { ...next, clearedAt, active, state, acknowledgedAt: acked.acknowledgedAt, acknowledgedBy: acked.acknowledgedBy, acknowledgeComment: acked.acknowledgeComment };
}
