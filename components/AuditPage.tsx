"use client";
/**
 * Audit history: filters live in the URL (pair, actor, action, outcome, from, to, q), cursor pagination
 * ("Load older"), CSV/JSON export of the same filters, a detail drawer, and hash-chain verification.
 */
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useState } from "react";
import { Dialog } from "radix-ui";
import type { DriverRun } from "@/protocol/agent";
import { api, asList, errorText } from "./api";
import { duration, stepLabel } from "./format";
import type { AuditEventView } from "./live-types";
import type { PairDto } from "./pairs";
import { useLive, useLiveState } from "./socket";
import { Badge, Icon, OutcomeBadge } from "./status";
import { Time } from "./Time";
import { Button, Empty, ErrorNote, inputClass } from "./ui";

const FILTERS = ["pair", "actor", "action", "outcome", "from", "to", "q"] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

/** datetime-local (browser zone) <-> ISO UTC. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : "");
const toLocalInput = (iso: string) => {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};

function apiQuery(f: Filters): URLSearchParams {
  const q = new URLSearchParams();
  if (f.pair) q.set("pairId", f.pair);
  for (const k of ["actor", "action", "outcome", "from", "to"] as const) if (f[k]) q.set(k, f[k]);
  return q;
}

function matches(e: AuditEventView, f: Filters): boolean {
  if (f.pair && e.pairId !== f.pair) return false;
  if (f.actor && e.actor !== f.actor) return false;
  if (f.action && e.action !== f.action) return false;
  if (f.outcome && e.outcome !== f.outcome) return false;
  if (f.from && new Date(e.at) < new Date(f.from)) return false;
  if (f.to && new Date(e.at) > new Date(f.to)) return false;
  if (f.q) {
    const hay = `${e.actor} ${e.action} ${e.outcome} ${e.targetType ?? ""} ${e.targetId ?? ""} ${JSON.stringify(e.details ?? {})}`.toLowerCase();
    if (!hay.includes(f.q.toLowerCase())) return false;
  }
  return true;
}

export function AuditPage() {
  const sp = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const filters = useMemo(() => Object.fromEntries(FILTERS.map((k) => [k, sp.get(k) ?? ""])) as Filters, [sp]);
  const [draft, setDraft] = useState<Filters>(filters);
  useEffect(() => setDraft(filters), [filters]);
  const [items, setItems] = useState<AuditEventView[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [pairs, setPairs] = useState<PairDto[]>([]);
  const [selected, setSelected] = useState<AuditEventView | null>(null);
  const [verify, setVerify] = useState<{ ok: boolean; checked: number; firstBroken?: { id: string; reason: string } } | null>(null);
  const [verifyErr, setVerifyErr] = useState<string | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const { generation } = useLiveState();

  const pairName = useMemo(() => new Map(pairs.map((p) => [p.id, p.name])), [pairs]);
  useEffect(() => {
    api<unknown>("/api/pairs").then((j) => setPairs(asList<PairDto>(j, "pairs"))).catch(() => undefined);
  }, []);

  const load = useCallback(
    async (after: string | null) => {
      setLoading(true);
      try {
        const q = apiQuery(filters);
        q.set("limit", "100");
        if (after) q.set("cursor", after);
        const j = await api<{ items: AuditEventView[]; nextCursor: string | null }>(`/api/audit?${q}`);
        setItems((prev) => (after ? [...prev, ...j.items] : j.items));
        setCursor(j.nextCursor);
        setError(null);
      } catch (e) {
        setError(errorText(e));
      } finally {
        setLoading(false);
      }
    },
    [filters],
  );
  useEffect(() => {
    void load(null);
  }, [load, generation]);

  useLive("audit:new", (e) => {
    if (!matches(e, { ...filters, q: "" })) return;
    setItems((prev) => (prev.some((x) => x.id === e.id) ? prev : [e, ...prev]));
    setFresh((s) => new Set(s).add(e.id));
  });

  const shown = useMemo(() => (filters.q ? items.filter((e) => matches(e, filters)) : items), [items, filters]);

  function apply(e?: React.FormEvent) {
    e?.preventDefault();
    const n = new URLSearchParams();
    for (const k of FILTERS) if (draft[k]) n.set(k, draft[k]);
    router.replace(`${pathname}${n.size ? `?${n}` : ""}`, { scroll: false });
  }
  const exportQ = apiQuery(filters);

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-bold">Audit history</h1>
        <div className="ml-auto flex flex-wrap items-center gap-2">
          <a className="rounded-md border border-line px-3 py-1.5 text-sm font-semibold hover:bg-surface-2" href={`/api/audit/export?${new URLSearchParams([...exportQ, ["format", "csv"]])}`} download>
            Export CSV
          </a>
          <a className="rounded-md border border-line px-3 py-1.5 text-sm font-semibold hover:bg-surface-2" href={`/api/audit/export?${new URLSearchParams([...exportQ, ["format", "json"]])}`} download>
            Export JSON
          </a>
          <Button
            onClick={async () => {
              setVerify(null);
              setVerifyErr(null);
              try {
                setVerify(await api("/api/audit/verify"));
              } catch (e) {
                setVerifyErr(errorText(e));
              }
            }}
          >
            <Icon name="check" /> Verify integrity
          </Button>
        </div>
      </div>
      {verify && (
        <p role="status" data-testid="verify-result" className={`rounded-md border px-3 py-2 text-sm font-semibold ${verify.ok ? "border-ok/50 bg-ok-bg text-ok" : "border-bad/50 bg-bad-bg text-bad"}`}>
          {verify.ok
            ? `✓ Integrity verified: the hash chain of all ${verify.checked} events is intact.`
            : `✕ The audit chain is broken at event #${verify.firstBroken?.id}: ${verify.firstBroken?.reason}. Someone changed the history outside Switchyard; keep a copy of the export and investigate.`}
        </p>
      )}
      <ErrorNote>{verifyErr}</ErrorNote>

      <form onSubmit={apply} className="grid grid-cols-2 gap-3 rounded-lg border border-line bg-surface p-3 md:grid-cols-4 xl:grid-cols-8" aria-label="Filters">
        <div className="flex flex-col gap-1">
          <label htmlFor="f-pair" className="text-xs font-semibold uppercase text-muted">Pair</label>
          <select id="f-pair" className={inputClass} value={draft.pair} onChange={(e) => setDraft({ ...draft, pair: e.target.value })}>
            <option value="">All pairs</option>
            {pairs.map((p) => (
              <option key={p.id} value={p.id}>{p.name}</option>
            ))}
            {draft.pair && !pairName.has(draft.pair) && <option value={draft.pair}>{draft.pair}</option>}
          </select>
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor="f-actor" className="text-xs font-semibold uppercase text-muted">Actor</label>
          <input id="f-actor" className={inputClass} value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} placeholder="e.g. admin" />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor="f-action" className="text-xs font-semibold uppercase text-muted">Action</label>
          <input id="f-action" className={inputClass} value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })} placeholder="e.g. pair.switchover" />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor="f-outcome" className="text-xs font-semibold uppercase text-muted">Outcome</label>
          <select id="f-outcome" className={inputClass} value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: e.target.value })}>
            <option value="">Any</option>
            <option value="success">success</option>
            <option value="failure">failure</option>
            <option value="denied">denied</option>
            <option value="info">info</option>
          </select>
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor="f-from" className="text-xs font-semibold uppercase text-muted">From</label>
          <input id="f-from" type="datetime-local" className={inputClass} value={toLocalInput(draft.from)} onChange={(e) => setDraft({ ...draft, from: toIso(e.target.value) })} />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor="f-to" className="text-xs font-semibold uppercase text-muted">To</label>
          <input id="f-to" type="datetime-local" className={inputClass} value={toLocalInput(draft.to)} onChange={(e) => setDraft({ ...draft, to: toIso(e.target.value) })} />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor="f-q" className="text-xs font-semibold uppercase text-muted">Search</label>
          <input id="f-q" type="search" className={inputClass} value={draft.q} onChange={(e) => setDraft({ ...draft, q: e.target.value })} placeholder="text in events" />
        </div>
        <div className="flex items-end gap-2">
          <Button type="submit" variant="primary">Apply</Button>
          <Button onClick={() => router.replace(pathname)}>Clear</Button>
        </div>
      </form>

      <ErrorNote>{error}</ErrorNote>

      <div className="overflow-x-auto rounded-lg border border-line bg-surface">
        <table className="w-full text-left text-sm" data-testid="audit-table">
          <caption className="sr-only">Audit events, newest first. Select a row for its details.</caption>
          <thead className="bg-surface-2 text-xs uppercase tracking-wide text-muted">
            <tr>
              <th className="px-3 py-2">Time</th>
              <th className="px-3 py-2">Actor</th>
              <th className="px-3 py-2">Action</th>
              <th className="px-3 py-2">Pair</th>
              <th className="px-3 py-2">Outcome</th>
              <th className="px-3 py-2">Duration</th>
              <th className="px-3 py-2"><span className="sr-only">Details</span></th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr
                key={e.id}
                data-testid="audit-row"
                data-action={e.action}
                className={`cursor-pointer border-t border-line hover:bg-surface-2 ${fresh.has(e.id) ? "sy-flash" : ""}`}
                onClick={() => setSelected(e)}
              >
                <td className="whitespace-nowrap px-3 py-1.5"><Time iso={e.at} /></td>
                <td className="px-3 py-1.5">{e.actor}</td>
                <td className="px-3 py-1.5 font-mono text-xs">{e.action}</td>
                <td className="px-3 py-1.5">
                  {e.pairId ? (
                    <Link href={`/pairs/${e.pairId}`} onClick={(ev) => ev.stopPropagation()} className="text-accent hover:underline">
                      {pairName.get(e.pairId) ?? e.pairId.slice(0, 8)}
                    </Link>
                  ) : (
                    <span className="text-muted">—</span>
                  )}
                </td>
                <td className="px-3 py-1.5"><OutcomeBadge outcome={e.outcome} /></td>
                <td className="px-3 py-1.5 font-mono">{e.durationMs != null ? duration(e.durationMs) : ""}</td>
                <td className="px-3 py-1.5 text-right">
                  <button type="button" className="rounded px-2 py-0.5 text-accent hover:underline" onClick={(ev) => { ev.stopPropagation(); setSelected(e); }} aria-label={`Details of ${e.action} at ${e.at}`}>
                    Details
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!loading && shown.length === 0 && <Empty>No audit event matches these filters.</Empty>}
      </div>
      <div className="flex items-center gap-3">
        {cursor && (
          <Button onClick={() => load(cursor)} disabled={loading}>
            {loading ? "Loading…" : "Load older events"}
          </Button>
        )}
        <span className="text-sm text-muted">{shown.length} event{shown.length === 1 ? "" : "s"} shown{filters.q ? " (text search applies to the events loaded)" : ""}</span>
      </div>

      <AuditDrawer event={selected} pairName={selected?.pairId ? pairName.get(selected.pairId) : undefined} onClose={() => setSelected(null)} />
    </div>
  );
}

function isRun(x: unknown): x is DriverRun {
  return !!x && typeof x === "object" && "driver" in x && "exitCode" in x;
}

function AuditDrawer({ event, pairName, onClose }: { event: AuditEventView | null; pairName?: string; onClose: () => void }) {
  const d = (event?.details ?? {}) as Record<string, unknown>;
  // Steps come as objects (action, target, status, durationMs, output) or as "1 demote succeeded" lines.
  const steps = Array.isArray(d.steps)
    ? (d.steps as unknown[]).map((x) => {
        if (typeof x !== "string") return x as Record<string, unknown>;
        const [, action = x, status] = /^\d+\s+(\S+)\s*(\S*)/.exec(x) ?? [];
        return { action, status: status || undefined } as Record<string, unknown>;
      })
    : [];
  const rest = Object.fromEntries(Object.entries(d).filter(([k]) => k !== "steps" && k !== "before" && k !== "after"));
  return (
    <Dialog.Root open={!!event} onOpenChange={(o) => !o && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-black/50" />
        <Dialog.Content className="fixed inset-y-0 right-0 z-50 flex w-[min(640px,100vw)] flex-col gap-3 overflow-y-auto border-l border-line bg-surface p-5 shadow-2xl" data-testid="audit-drawer">
          {event && (
            <>
              <div className="flex items-start justify-between gap-3">
                <div>
                  <Dialog.Title className="font-mono text-lg font-bold">{event.action}</Dialog.Title>
                  <Dialog.Description className="text-sm text-muted">
                    Event #{event.id} by {event.actor} · <Time iso={event.at} />
                  </Dialog.Description>
                </div>
                <Dialog.Close asChild>
                  <Button variant="ghost" aria-label="Close details">✕</Button>
                </Dialog.Close>
              </div>
              <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
                <dt className="text-muted">Outcome</dt>
                <dd><OutcomeBadge outcome={event.outcome} /></dd>
                <dt className="text-muted">Pair</dt>
                <dd>{event.pairId ? <Link className="text-accent hover:underline" href={`/pairs/${event.pairId}`}>{pairName ?? event.pairId}</Link> : "—"}</dd>
                <dt className="text-muted">Target</dt>
                <dd className="break-all">{event.targetType ?? "—"} {event.targetId ?? ""}</dd>
                <dt className="text-muted">Duration</dt>
                <dd>{event.durationMs != null ? duration(event.durationMs) : "—"}</dd>
                <dt className="text-muted">Hash</dt>
                <dd className="break-all font-mono text-xs">{event.hash}</dd>
                <dt className="text-muted">Previous</dt>
                <dd className="break-all font-mono text-xs">{event.prevHash}</dd>
              </dl>
              {steps.length > 0 && (
                <section>
                  <h3 className="mb-1 text-sm font-bold uppercase text-muted">Steps</h3>
                  <ol className="flex flex-col gap-2">
                    {steps.map((s, i) => (
                      <li key={i} className="rounded border border-line p-2 text-sm" data-testid="audit-step">
                        <div className="flex flex-wrap gap-2">
                          <span className="font-semibold">{i + 1}. {stepLabel(String(s.action ?? "?"))}</span>
                          <span className="text-muted">{String(s.target ?? "")}</span>
                          {typeof s.status === "string" && <Badge tone={s.status === "succeeded" ? "ok" : s.status === "failed" ? "bad" : "idle"}>{s.status}</Badge>}
                          <span className="ml-auto font-mono">{typeof s.durationMs === "number" ? duration(s.durationMs) : ""}</span>
                        </div>
                        {typeof s.error === "string" && s.error && <p className="text-bad">{s.error}</p>}
                        {Array.isArray(s.output) &&
                          (s.output as unknown[]).filter(isRun).map((r, k) => (
                            <details key={k} className="mt-1 text-xs">
                              <summary className="cursor-pointer text-muted">{r.driver} {r.action} {r.target}: exit {r.exitCode ?? r.signal ?? "—"}, {duration(r.durationMs)}</summary>
                              <pre className="mt-1 max-h-40 overflow-auto whitespace-pre-wrap rounded bg-bg p-2 font-mono">{r.stdout || "(no stdout)"}{r.stderr ? `\n${r.stderr}` : ""}</pre>
                            </details>
                          ))}
                      </li>
                    ))}
                  </ol>
                </section>
              )}
              {(d.before !== undefined || d.after !== undefined) && (
                <section className="grid gap-2 sm:grid-cols-2">
                  <div>
                    <h3 className="mb-1 text-sm font-bold uppercase text-muted">Before</h3>
                    <pre className="max-h-64 overflow-auto rounded bg-bg p-2 font-mono text-xs">{JSON.stringify(d.before ?? null, null, 2)}</pre>
                  </div>
                  <div>
                    <h3 className="mb-1 text-sm font-bold uppercase text-muted">After</h3>
                    <pre className="max-h-64 overflow-auto rounded bg-bg p-2 font-mono text-xs">{JSON.stringify(d.after ?? null, null, 2)}</pre>
                  </div>
                </section>
              )}
              {Object.keys(rest).length > 0 && (
                <section>
                  <h3 className="mb-1 text-sm font-bold uppercase text-muted">Details</h3>
                  <pre className="max-h-96 overflow-auto whitespace-pre-wrap break-words rounded bg-bg p-2 font-mono text-xs">{JSON.stringify(rest, null, 2)}</pre>
                </section>
              )}
            </>
          )}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
