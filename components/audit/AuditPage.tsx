"use client";
/**
 * Audit history: filters in the URL, all applied by the server (GET /api/audit), cursor pagination
 * ("Load older"), CSV/JSON export of the same filters, a detail drawer, and hash-chain verification.
 * Live: a new event is shown at once when no filter is set; with filters, the server is asked again
 * (it alone decides what matches, `q` included).
 */
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { ApiResponse } from "@/lib/api-types";
import type { AuditActionGroup } from "@/lib/audit-actions";
import type { AuditSummary } from "@/lib/realtime/events";
import type { PairDto } from "@/lib/views";
import { api, errorText } from "../api";
import { useLive, useLiveState } from "../socket";
import { Icon } from "../status";
import { Button, Empty, ErrorNote } from "../ui";
import { AuditDrawer } from "./AuditDrawer";
import { anyFilter, apiQuery, AuditFilters, FILTERS, type Filters } from "./AuditFilters";
import { AuditTable } from "./AuditTable";

const PAGE = 100;

/** `actions`: the audit action catalogue (AUDIT_ACTION_GROUPS), passed by the server page. */
export function AuditPage({ actions }: { actions: AuditActionGroup[] }) {
  const sp = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const filters = useMemo(() => Object.fromEntries(FILTERS.map((k) => [k, sp.get(k) ?? ""])) as Filters, [sp]);
  const [draft, setDraft] = useState<Filters>(filters);
  useEffect(() => setDraft(filters), [filters]);
  const [items, setItems] = useState<AuditSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [pairs, setPairs] = useState<PairDto[] | null>(null);
  const [selected, setSelected] = useState<AuditSummary | null>(null);
  const [verify, setVerify] = useState<ApiResponse<"GET /api/audit/verify"> | null>(null);
  const [verifyErr, setVerifyErr] = useState<string | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const { generation } = useLiveState();

  const pairName = useMemo(() => new Map((pairs ?? []).map((p) => [p.id, p.name])), [pairs]);
  /** The catalogue's label of an action; undefined for one it does not know (an older row). */
  const actionLabel = useMemo(() => {
    const labels = new Map<string, string>(actions.flatMap((g) => g.actions.map((a) => [a.action, a.label])));
    return (action: string) => labels.get(action);
  }, [actions]);
  useEffect(() => {
    api("GET /api/pairs")
      .then((j) => setPairs(j.pairs))
      .catch(() => undefined);
  }, []);

  const load = useCallback(
    async (after: string | null) => {
      setLoading(true);
      try {
        const j = await api("GET /api/audit", { query: { ...apiQuery(filters), limit: PAGE, cursor: after ?? undefined } });
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

  /** Newer events that match the filters, by the server's own rules: its newest page, merged in front. */
  const refreshNewest = useCallback(async () => {
    try {
      const j = await api("GET /api/audit", { query: { ...apiQuery(filters), limit: PAGE } });
      setItems((prev) => {
        const known = new Set(prev.map((x) => x.id));
        const added = j.items.filter((x) => !known.has(x.id));
        if (added.length) setFresh((s) => new Set([...s, ...added.map((x) => x.id)]));
        return added.length ? [...added, ...prev] : prev;
      });
    } catch {
      /* the next event or reconnect tries again */
    }
  }, [filters]);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (pending.current && clearTimeout(pending.current)), []);

  useLive("audit:new", (e) => {
    if (!anyFilter(filters)) {
      setItems((prev) => (prev.some((x) => x.id === e.id) ? prev : [e, ...prev]));
      setFresh((s) => new Set(s).add(e.id));
      return;
    }
    // Events come in bursts (an operation writes several): one request for the burst.
    if (!pending.current)
      pending.current = setTimeout(() => {
        pending.current = null;
        void refreshNewest();
      }, 300);
  });

  function apply() {
    const n = new URLSearchParams();
    for (const k of FILTERS) if (draft[k]) n.set(k, draft[k]);
    router.replace(`${pathname}${n.size ? `?${n}` : ""}`, { scroll: false });
  }
  const exportHref = (format: "csv" | "json") => `/api/audit/export?${new URLSearchParams({ ...apiQuery(filters), format })}`;
  const linkButton = "rounded-md border border-line px-3 py-1.5 text-sm font-semibold hover:bg-surface-2";

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-bold">Audit history</h1>
        <div className="ml-auto flex flex-wrap items-center gap-2">
          <a className={linkButton} href={exportHref("csv")} download>Export CSV</a>
          <a className={linkButton} href={exportHref("json")} download>Export JSON</a>
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

      <AuditFilters draft={draft} setDraft={setDraft} pairs={pairs ?? []} actions={actions} actionKnown={(a) => !!actionLabel(a)} onApply={apply} onClear={() => router.replace(pathname)} />

      <ErrorNote>{error}</ErrorNote>

      <div className="relative overflow-x-auto rounded-lg border border-line bg-surface">
        <AuditTable items={items} fresh={fresh} pairName={pairName} pairsLoaded={pairs !== null} actionLabel={actionLabel} onSelect={setSelected} />
        {!loading && items.length === 0 && <Empty>No audit event matches these filters.</Empty>}
      </div>
      <div className="flex items-center gap-3">
        {cursor && (
          <Button onClick={() => load(cursor)} disabled={loading}>
            {loading ? "Loading…" : "Load older events"}
          </Button>
        )}
        <span className="text-sm text-muted">{items.length} event{items.length === 1 ? "" : "s"} shown{cursor ? "; older ones on request" : ""}</span>
      </div>

      <AuditDrawer event={selected} label={selected ? actionLabel(selected.action) : undefined} pair={selected?.pairId ? pairs?.find((p) => p.id === selected.pairId) : undefined} onClose={() => setSelected(null)} />
    </div>
  );
}
