/** The Operations page's filters: the URL's (`?pair&kind&status&by&from&to&q`) and the API's. Pure. */
import type { OperationHistoryItem, OperationView } from "@/lib/views";

export const FILTER_KEYS = ["pair", "kind", "status", "by", "from", "to", "q"] as const;
export type Filters = Record<(typeof FILTER_KEYS)[number], string>;

export function filtersOf(sp: { get(k: string): string | null }): Filters {
  return Object.fromEntries(FILTER_KEYS.map((k) => [k, sp.get(k) ?? ""])) as Filters;
}

/** The query of GET /api/operations and its export; empty filters are left out. */
export function apiQuery(f: Filters): Record<string, string> {
  const q: Record<string, string> = {};
  if (f.pair) q.pairId = f.pair;
  if (f.kind) q.kind = f.kind;
  if (f.status) q.status = f.status;
  if (f.by) q.requestedBy = f.by;
  if (f.from) q.from = f.from;
  if (f.to) q.to = f.to;
  if (f.q) q.q = f.q;
  return q;
}

export const urlOf = (pathname: string, f: Filters) => {
  const n = new URLSearchParams();
  for (const k of FILTER_KEYS) if (f[k]) n.set(k, f[k]);
  return `${pathname}${n.size ? `?${n}` : ""}`;
};

/**
 * Whether a live operation belongs in the list as filtered: the exact filters are checked here; the text
 * search is left to the server (a live row that may not match is not added; the next load shows it).
 */
export function liveMatches(op: OperationView | OperationHistoryItem, f: Filters): boolean {
  if (f.q) return false;
  if (f.pair && op.pairId !== f.pair) return false;
  if (f.kind && !f.kind.split(",").includes(op.kind)) return false;
  if (f.status && !f.status.split(",").includes(op.status)) return false;
  if (f.by && op.requestedBy !== f.by) return false;
  if (f.from && new Date(op.createdAt) < new Date(f.from)) return false;
  if (f.to && new Date(op.createdAt) > new Date(f.to)) return false;
  return true;
}
