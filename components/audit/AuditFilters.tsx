"use client";
/**
 * The audit filters (pair, actor, action, outcome, from, to, q), kept in the URL and applied by the
 * server: `q` is the API's free-text search, so it reaches events not loaded yet.
 */
import type { AuditOutcome } from "@/lib/audit";
import type { AuditActionGroup } from "@/lib/audit-actions";
import type { PairDto } from "@/lib/views";
import { Button, inputClass } from "../ui";

export const FILTERS = ["pair", "actor", "action", "outcome", "from", "to", "q"] as const;
export type Filters = Record<(typeof FILTERS)[number], string>;

/** The outcomes lib/audit.ts declares (AuditOutcome), in the order the filter offers them. */
const OUTCOMES: Record<AuditOutcome, true> = { success: true, failure: true, denied: true, info: true, critical: true, major: true, minor: true, warning: true };

/** The API's filters (GET /api/audit and its export); empty ones are left out. */
export function apiQuery(f: Filters): Record<string, string> {
  const q: Record<string, string> = {};
  if (f.pair) q.pairId = f.pair;
  for (const k of ["actor", "action", "outcome", "from", "to", "q"] as const) if (f[k]) q[k] = f[k];
  return q;
}

export const anyFilter = (f: Filters) => FILTERS.some((k) => f[k]);

/** datetime-local (browser zone) <-> ISO UTC. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : "");
const toLocalInput = (iso: string) => {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};

export function AuditFilters({
  draft,
  setDraft,
  pairs,
  actions,
  actionKnown,
  onApply,
  onClear,
}: {
  draft: Filters;
  setDraft: (f: Filters) => void;
  pairs: PairDto[];
  actions: AuditActionGroup[];
  actionKnown: (action: string) => boolean;
  onApply: () => void;
  onClear: () => void;
}) {
  const field = "flex flex-col gap-1";
  const label = "text-xs font-semibold uppercase text-muted";
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        onApply();
      }}
      className="grid grid-cols-2 gap-3 rounded-lg border border-line bg-surface p-3 md:grid-cols-4 xl:grid-cols-8"
      aria-label="Filters"
    >
      <div className={field}>
        <label htmlFor="f-pair" className={label}>Pair</label>
        <select id="f-pair" className={inputClass} value={draft.pair} onChange={(e) => setDraft({ ...draft, pair: e.target.value })}>
          <option value="">All pairs</option>
          {pairs.map((p) => (
            <option key={p.id} value={p.id}>{p.name}</option>
          ))}
          {draft.pair && !pairs.some((p) => p.id === draft.pair) && <option value={draft.pair}>(a deleted pair)</option>}
        </select>
      </div>
      <div className={field}>
        <label htmlFor="f-actor" className={label}>Actor</label>
        <input id="f-actor" className={inputClass} value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} placeholder="e.g. admin" />
      </div>
      <div className={field}>
        <label htmlFor="f-action" className={label}>Action</label>
        <select id="f-action" className={inputClass} value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })}>
          <option value="">Any action</option>
          {actions.map((g) => (
            <optgroup key={g.group} label={g.group}>
              {g.actions.map((a) => (
                <option key={a.action} value={a.action}>{a.label}</option>
              ))}
            </optgroup>
          ))}
          {draft.action && !actionKnown(draft.action) && <option value={draft.action}>{draft.action}</option>}
        </select>
      </div>
      <div className={field}>
        <label htmlFor="f-outcome" className={label}>Outcome</label>
        <select id="f-outcome" className={inputClass} value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: e.target.value })}>
          <option value="">Any</option>
          {Object.keys(OUTCOMES).map((o) => (
            <option key={o} value={o}>{o}</option>
          ))}
        </select>
      </div>
      <div className={field}>
        <label htmlFor="f-from" className={label}>From</label>
        <input id="f-from" type="datetime-local" className={inputClass} value={toLocalInput(draft.from)} onChange={(e) => setDraft({ ...draft, from: toIso(e.target.value) })} />
      </div>
      <div className={field}>
        <label htmlFor="f-to" className={label}>To</label>
        <input id="f-to" type="datetime-local" className={inputClass} value={toLocalInput(draft.to)} onChange={(e) => setDraft({ ...draft, to: toIso(e.target.value) })} />
      </div>
      <div className={field}>
        <label htmlFor="f-q" className={label}>Search</label>
        <input id="f-q" type="search" className={inputClass} value={draft.q} onChange={(e) => setDraft({ ...draft, q: e.target.value })} placeholder="actor, target, details…" maxLength={200} />
      </div>
      <div className="flex items-end gap-2">
        <Button type="submit" variant="primary">Apply</Button>
        <Button onClick={onClear}>Clear</Button>
      </div>
    </form>
  );
}
