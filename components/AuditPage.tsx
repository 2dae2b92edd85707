"use client";
/**
 * Audit history: filters live in the URL (pair, actor, action, outcome, from, to, q), cursor pagination
 * ("Load older"), CSV/JSON export of the same filters, a detail drawer, and hash-chain verification.
 */
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Fragment, useCallback, useEffect, useMemo, useState } from "react";
import { Dialog } from "radix-ui";
import type { DriverRun } from "@/protocol/agent";
import type { ApiResponse } from "@/lib/api-types";
import type { AuditActionGroup } from "@/lib/audit-actions";
import type { PairDto, StepView } from "@/lib/views";
import { api, errorText } from "./api";
import { duration, OPERATION_KIND } from "./format";
import type { AuditEventView } from "./live-types";
import { useLive, useLiveState } from "./socket";
import { Icon, ModeBadge, OpStatusBadge, OutcomeBadge, ProcessBadge, VipBadge } from "./status";
import { StepList } from "./OperationTimeline";
import { Time } from "./Time";
import { Button, Empty, ErrorNote, inputClass } from "./ui";

const FILTERS = ["pair", "actor", "action", "outcome", "from", "to", "q"] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

/** Same as the API's search (case-insensitive, literal): used only to decide whether a live event belongs in the list. */
const searchHay = (e: AuditEventView) => `${e.actor} ${e.action} ${e.targetType ?? ""} ${e.targetId ?? ""} ${JSON.stringify(e.details ?? {})}`.toLowerCase();

/** datetime-local (browser zone) <-> ISO UTC. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : "");
const toLocalInput = (iso: string) => {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};

/** The API's filters (GET /api/audit and its export); empty ones are left out. */
function apiQuery(f: Filters): Record<string, string> {
  const q: Record<string, string> = {};
  if (f.pair) q.pairId = f.pair;
  for (const k of ["actor", "action", "outcome", "from", "to", "q"] as const) if (f[k]) q[k] = f[k];
  return q;
}


function matches(e: AuditEventView, f: Filters): boolean {
  if (f.pair && e.pairId !== f.pair) return false;
  if (f.actor && e.actor !== f.actor) return false;
  if (f.action && e.action !== f.action) return false;
  if (f.outcome && e.outcome !== f.outcome) return false;
  if (f.from && new Date(e.at) < new Date(f.from)) return false;
  if (f.to && new Date(e.at) > new Date(f.to)) return false;
  if (f.q && !searchHay(e).includes(f.q.trim().toLowerCase())) return false;
  return true;
}

/** `actions`: the audit action catalogue (AUDIT_ACTION_GROUPS), passed by the server page. */
export function AuditPage({ actions }: { actions: AuditActionGroup[] }) {
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
  const [verify, setVerify] = useState<ApiResponse<"GET /api/audit/verify"> | null>(null);
  const [verifyErr, setVerifyErr] = useState<string | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const { generation } = useLiveState();

  const pairName = useMemo(() => new Map(pairs.map((p) => [p.id, p.name])), [pairs]);
  /** The catalogue's label of an action; undefined for one it does not know (an older row). */
  const actionLabel = useMemo(() => {
    const labels = new Map<string, string>(actions.flatMap((g) => g.actions.map((a) => [a.action, a.label])));
    return (action: string) => labels.get(action);
  }, [actions]);
  useEffect(() => {
    api("GET /api/pairs").then((j) => setPairs(j.pairs)).catch(() => undefined);
  }, []);

  const load = useCallback(
    async (after: string | null) => {
      setLoading(true);
      try {
        const j = await api("GET /api/audit", { query: { ...apiQuery(filters), limit: 100, cursor: after ?? undefined } });
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
    if (!matches(e, filters)) return;
    setItems((prev) => (prev.some((x) => x.id === e.id) ? prev : [e, ...prev]));
    setFresh((s) => new Set(s).add(e.id));
  });

  const shown = items;

  function apply(e?: React.FormEvent) {
    e?.preventDefault();
    const n = new URLSearchParams();
    for (const k of FILTERS) if (draft[k]) n.set(k, draft[k]);
    router.replace(`${pathname}${n.size ? `?${n}` : ""}`, { scroll: false });
  }
  const exportHref = (format: "csv" | "json") => `/api/audit/export?${new URLSearchParams({ ...apiQuery(filters), format })}`;

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-bold">Audit history</h1>
        <div className="ml-auto flex flex-wrap items-center gap-2">
          <a className="rounded-md border border-line px-3 py-1.5 text-sm font-semibold hover:bg-surface-2" href={exportHref("csv")} download>
            Export CSV
          </a>
          <a className="rounded-md border border-line px-3 py-1.5 text-sm font-semibold hover:bg-surface-2" href={exportHref("json")} download>
            Export JSON
          </a>
          <Button
            onClick={async () => {
              setVerify(null);
              setVerifyErr(null);
              try {
                setVerify(await api("GET /api/audit/verify"));
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
          <select id="f-action" className={inputClass} value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })}>
            <option value="">Any action</option>
            {actions.map((g) => (
              <optgroup key={g.group} label={g.group}>
                {g.actions.map((a) => (
                  <option key={a.action} value={a.action}>{a.label}</option>
                ))}
              </optgroup>
            ))}
            {draft.action && !actionLabel(draft.action) && <option value={draft.action}>{draft.action}</option>}
          </select>
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
          <input id="f-q" type="search" className={inputClass} value={draft.q} onChange={(e) => setDraft({ ...draft, q: e.target.value })} placeholder="actor, target, details…" maxLength={200} />
        </div>
        <div className="flex items-end gap-2">
          <Button type="submit" variant="primary">Apply</Button>
          <Button onClick={() => router.replace(pathname)}>Clear</Button>
        </div>
      </form>

      <ErrorNote>{error}</ErrorNote>

      <div className="relative overflow-x-auto rounded-lg border border-line bg-surface">
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
                <td className="px-3 py-1.5">
                  {actionLabel(e.action)}
                  <div className="font-mono text-xs text-muted">{e.action}</div>
                </td>
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
        <span className="text-sm text-muted">{shown.length} event{shown.length === 1 ? "" : "s"} shown{cursor ? "; older ones on request" : ""}</span>
      </div>

      <AuditDrawer event={selected} label={selected ? actionLabel(selected.action) : undefined} pairName={selected?.pairId ? pairName.get(selected.pairId) : undefined} onClose={() => setSelected(null)} />
    </div>
  );
}

function isRun(x: unknown): x is DriverRun {
  return !!x && typeof x === "object" && "driver" in x && "action" in x && "durationMs" in x;
}

const str = (v: unknown): string | null => (typeof v === "string" && v ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const STEP_STATUSES = ["pending", "running", "succeeded", "failed", "skipped"] as const;
const stepStatus = (v: unknown): StepView["status"] => (STEP_STATUSES as readonly unknown[]).includes(v) ? (v as StepView["status"]) : "skipped";

/**
 * Steps recorded in an audit event, as the timeline's StepView. Current `operation.finished` rows carry
 * objects ({ seq, action, target, status, startedAt, finishedAt, durationMs, error, runs }); older rows
 * carry lines like "1 demote succeeded"; `operation.step.*` rows are one step ({ seq, step, target, status,
 * error, runs }).
 */
export function auditSteps(event: AuditEventView): StepView[] {
  const d = (event.details ?? {}) as Record<string, unknown>;
  const fromObject = (x: Record<string, unknown>, i: number, durationMs: number | null = null): StepView => ({
    id: `${event.id}-${i}`,
    seq: num(x.seq) ?? i + 1,
    action: str(x.action) ?? str(x.step) ?? "step",
    target: str(x.target) ?? "",
    status: stepStatus(x.status),
    startedAt: str(x.startedAt),
    finishedAt: str(x.finishedAt),
    durationMs: num(x.durationMs) ?? durationMs,
    output: Array.isArray(x.runs) ? x.runs.filter(isRun) : Array.isArray(x.output) ? x.output.filter(isRun) : null,
    error: str(x.error),
  });
  if (Array.isArray(d.steps)) {
    return d.steps.map((x, i) => {
      if (x && typeof x === "object") return fromObject(x as Record<string, unknown>, i);
      const line = String(x);
      const m = /^(\d+)\s+(\S+)\s*(\S*)/.exec(line);
      return fromObject({ seq: m ? Number(m[1]) : i + 1, action: m?.[2] ?? line, status: m?.[3] || "skipped" }, i);
    });
  }
  if (event.action.startsWith("operation.step.") && (typeof d.step === "string" || Array.isArray(d.runs))) {
    return [fromObject(d, 0, event.durationMs)];
  }
  return [];
}

interface ServerState {
  server: string;
  host: string;
  processState: string;
  mode: string;
  vip: string;
}

function serverStates(v: unknown): ServerState[] | null {
  if (!Array.isArray(v) || !v.every((x) => x && typeof x === "object" && typeof (x as { server?: unknown }).server === "string")) return null;
  return (v as Record<string, unknown>[]).map((x) => ({
    server: String(x.server),
    host: str(x.host) ?? "—",
    processState: str(x.processState) ?? "unknown",
    mode: str(x.mode) ?? "unknown",
    vip: str(x.vip) ?? "unknown",
  }));
}

/** Before → after, one row per SIP Server; changed values are marked (bold, with an arrow and a word). */
function BeforeAfter({ before, after }: { before: ServerState[]; after: ServerState[] }) {
  const names = [...new Set([...before, ...after].map((s) => s.server))];
  const cols = [
    { key: "processState", label: "Process", badge: (v: string) => <ProcessBadge state={v} /> },
    { key: "mode", label: "Mode", badge: (v: string) => <ModeBadge mode={v} /> },
    { key: "vip", label: "VIP", badge: (v: string) => <VipBadge observed={v} /> },
  ] as const;
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm" data-testid="audit-before-after">
        <caption className="sr-only">State of each SIP Server before and after the operation</caption>
        <thead className="text-xs uppercase text-muted">
          <tr>
            <th className="py-1 pr-3">Server</th>
            {cols.map((c) => (
              <th key={c.key} className="py-1 pr-3">{c.label}: before → after</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {names.map((n) => {
            const b = before.find((s) => s.server === n);
            const a = after.find((s) => s.server === n);
            return (
              <tr key={n} className="border-t border-line align-top" data-testid="audit-server-state" data-server={n}>
                <th scope="row" className="py-1.5 pr-3 font-semibold">
                  {n}
                  <div className="text-xs font-normal text-muted">{a?.host ?? b?.host}</div>
                </th>
                {cols.map((c) => {
                  const bv = b?.[c.key];
                  const av = a?.[c.key];
                  const changed = bv !== av;
                  return (
                    <td key={c.key} className="py-1.5 pr-3" data-changed={String(changed)}>
                      <div className="flex flex-wrap items-center gap-1">
                        {bv ? c.badge(bv) : <span className="text-muted">—</span>}
                        {changed && (
                          <>
                            <span aria-label="changed to" className="font-bold">→</span>
                            {av ? c.badge(av) : <span className="text-muted">—</span>}
                          </>
                        )}
                        {!changed && <span className="text-xs text-muted">unchanged</span>}
                      </div>
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function JsonBlock({ value, className = "max-h-64" }: { value: unknown; className?: string }) {
  return <pre className={`overflow-auto whitespace-pre-wrap break-words rounded bg-bg p-2 font-mono text-xs ${className}`}>{JSON.stringify(value ?? null, null, 2)}</pre>;
}

const SHOWN_KEYS = new Set(["steps", "before", "after", "kind", "status", "error", "reason", "decision", "epoch", "runs", "step", "seq", "target"]);

function AuditDrawer({ event, label, pairName, onClose }: { event: AuditEventView | null; label?: string; pairName?: string; onClose: () => void }) {
  const d = (event?.details ?? {}) as Record<string, unknown>;
  const steps = event ? auditSteps(event) : [];
  const before = serverStates(d.before);
  const after = serverStates(d.after);
  const rest = Object.fromEntries(Object.entries(d).filter(([k]) => !SHOWN_KEYS.has(k) || (k === "before" && !before) || (k === "after" && !after)));
  const kind = str(d.kind);
  const facts: [string, React.ReactNode][] = [];
  if (kind) facts.push(["Operation", <>{OPERATION_KIND[kind] ?? kind} <span className="font-mono text-xs text-muted">{kind}</span></>]);
  if (str(d.status)) facts.push(["Result", <OpStatusBadge key="s" status={String(d.status)} />]);
  if (str(d.reason)) facts.push(["Reason", d.reason as string]);
  if (str(d.decision)) facts.push(["Decision", d.decision as string]);
  if (num(d.epoch) != null) facts.push(["Controller epoch", <span key="e" className="font-mono">{String(d.epoch)}</span>]);
  return (
    <Dialog.Root open={!!event} onOpenChange={(o) => !o && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-black/50" />
        <Dialog.Content className="fixed inset-y-0 right-0 z-50 flex w-[min(720px,100vw)] flex-col gap-4 overflow-y-auto border-l border-line bg-surface p-5 shadow-2xl" data-testid="audit-drawer">
          {event && (
            <>
              <div className="flex items-start justify-between gap-3">
                <div>
                  <Dialog.Title className="font-mono text-lg font-bold">{event.action}</Dialog.Title>
                  <Dialog.Description className="text-sm text-muted">
                    {label && <span className="block font-semibold text-fg">{label}</span>}
                    Event #{event.id} by {event.actor} · <Time iso={event.at} />
                  </Dialog.Description>
                </div>
                <Dialog.Close asChild>
                  <Button variant="ghost" aria-label="Close details">✕</Button>
                </Dialog.Close>
              </div>
              <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5 text-sm">
                <dt className="text-muted">Outcome</dt>
                <dd><OutcomeBadge outcome={event.outcome} /></dd>
                <dt className="text-muted">Pair</dt>
                <dd>{event.pairId ? <Link className="text-accent hover:underline" href={`/pairs/${event.pairId}`}>{pairName ?? event.pairId}</Link> : "—"}</dd>
                {facts.map(([k, v]) => (
                  <Fragment key={k}>
                    <dt className="text-muted">{k}</dt>
                    <dd>{v}</dd>
                  </Fragment>
                ))}
                <dt className="text-muted">Target</dt>
                <dd className="break-all">{event.targetType ?? "—"} <span className="font-mono text-xs">{event.targetId ?? ""}</span></dd>
                <dt className="text-muted">Duration</dt>
                <dd className="font-mono">{event.durationMs != null ? duration(event.durationMs) : "—"}</dd>
              </dl>
              {str(d.error) && (
                <p role="note" className="rounded-md border border-bad/50 bg-bad-bg px-3 py-2 text-sm text-bad" data-testid="audit-error">
                  <span className="font-bold">Error: </span>
                  {d.error as string}
                </p>
              )}
              {steps.length > 0 && (
                <section aria-labelledby="audit-steps-title" data-testid="audit-steps">
                  <h3 id="audit-steps-title" className="mb-2 text-sm font-bold uppercase text-muted">Steps</h3>
                  <StepList steps={steps} />
                </section>
              )}
              {before && after && (
                <section aria-labelledby="audit-ba-title">
                  <h3 id="audit-ba-title" className="mb-1 text-sm font-bold uppercase text-muted">Before → after</h3>
                  <BeforeAfter before={before} after={after} />
                </section>
              )}
              {Object.keys(rest).length > 0 && (
                <section>
                  <h3 className="mb-1 text-sm font-bold uppercase text-muted">{facts.length || steps.length ? "Other details" : "Details"}</h3>
                  <JsonBlock value={rest} className="max-h-96" />
                </section>
              )}
              <details className="text-xs">
                <summary className="cursor-pointer text-muted hover:text-fg">Hash chain</summary>
                <dl className="mt-1 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1">
                  <dt className="text-muted">Hash</dt>
                  <dd className="break-all font-mono">{event.hash}</dd>
                  <dt className="text-muted">Previous</dt>
                  <dd className="break-all font-mono">{event.prevHash}</dd>
                </dl>
              </details>
            </>
          )}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
