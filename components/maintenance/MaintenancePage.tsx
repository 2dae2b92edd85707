"use client";
/**
 * /maintenance: the pairs (select some: maintenance on or off at once, or schedule a window for them), and
 * the windows (current, upcoming, past; end a current one early, cancel an upcoming one). Operators and
 * admins act; viewers read.
 */
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useState } from "react";
import type { WindowJson } from "@/lib/queries/maintenance";
import { api, ApiError, errorText } from "../api";
import { canOperate, useMe } from "../session";
import { useLiveState } from "../socket";
import { Badge, HealthBadge } from "../status";
import { Time } from "../Time";
import { Button, Empty, ErrorNote, inputClass, Panel } from "../ui";
import { usePairs } from "../usePairs";
import { PairMaintenanceBadge } from "./PairMaintenanceBadge";

type Tab = "current" | "upcoming" | "past";
const TABS: { id: Tab; label: string }[] = [
  { id: "current", label: "Current" },
  { id: "upcoming", label: "Upcoming" },
  { id: "past", label: "Past" },
];

/** A `datetime-local` value (the browser's zone) for an epoch ms. */
function localInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
/** A `datetime-local` value as ISO 8601 UTC, or null when it is not a date. */
function toIso(local: string): string | null {
  const t = new Date(local).getTime();
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

export function MaintenancePage() {
  const sp = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const tab: Tab = (["current", "upcoming", "past"] as const).find((t) => t === sp.get("tab")) ?? "current";
  const { pairs, error: pairsError, reload: reloadPairs } = usePairs();
  const { me } = useMe();
  const operate = canOperate(me);
  const { generation } = useLiveState();
  const [windows, setWindows] = useState<WindowJson[] | null>(null);
  const [wError, setWError] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkReason, setBulkReason] = useState("");
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const list = useMemo(() => [...pairs.values()].sort((a, b) => a.name.localeCompare(b.name)), [pairs]);

  const loadWindows = useCallback(async () => {
    try {
      setWindows((await api("GET /api/maintenance-windows", { query: { state: tab, limit: 200 } })).windows);
      setWError(null);
    } catch (e) {
      setWError(errorText(e));
    }
  }, [tab]);
  useEffect(() => {
    setWindows(null);
    void loadWindows();
  }, [loadWindows, generation]);

  function toggle(id: string, on: boolean) {
    setSelected((s) => {
      const n = new Set(s);
      if (on) n.add(id);
      else n.delete(id);
      return n;
    });
  }
  const chosen = list.filter((p) => selected.has(p.id));

  async function bulk(maintenance: boolean) {
    setBusy(true);
    setNote(null);
    try {
      const r = await api("POST /api/pairs/maintenance", { body: { pairIds: chosen.map((p) => p.id), maintenance, ...(bulkReason.trim() ? { reason: bulkReason.trim() } : {}) } });
      const name = (id: string) => pairs.get(id)?.name ?? "a pair";
      setNote({
        ok: true,
        text: `Maintenance ${maintenance ? "on" : "off"}: ${r.changed.length ? r.changed.map(name).join(", ") : "no pair changed"}${r.unchanged.length ? ` (already ${maintenance ? "on" : "off"}: ${r.unchanged.map(name).join(", ")})` : ""}.`,
      });
      void reloadPairs();
    } catch (e) {
      setNote({ ok: false, text: errorText(e) });
    } finally {
      setBusy(false);
    }
  }

  async function endWindow(w: WindowJson) {
    setNote(null);
    try {
      await api("DELETE /api/maintenance-windows/:id", { id: w.id });
      setNote({ ok: true, text: w.state === "current" ? `The window of ${w.pairName} ended now.` : `The window of ${w.pairName} is cancelled.` });
    } catch (e) {
      setNote({ ok: false, text: errorText(e) });
    }
    void loadWindows();
    void reloadPairs();
  }

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-baseline gap-3">
        <h1 className="text-2xl font-bold">Maintenance</h1>
        <p className="text-sm text-muted">No automatic action on a pair in maintenance; operators may still act by hand, confirming it.</p>
      </div>
      {note && (
        <p role={note.ok ? "status" : "alert"} data-testid="maintenance-note" className={`rounded-md border px-3 py-2 text-sm ${note.ok ? "border-ok/50 bg-ok-bg text-ok" : "border-bad/50 bg-bad-bg text-bad"}`}>
          {note.ok ? "✓ " : "⚠ "}
          {note.text}
        </p>
      )}

      <div className="grid items-start gap-4 lg:grid-cols-2">
        <Panel title="Pairs" id="maint-pairs">
          <ErrorNote>{pairsError}</ErrorNote>
          <ul className="flex flex-col divide-y divide-line" data-testid="maintenance-pairs">
            {list.map((p) => (
              <li key={p.id} className="flex flex-wrap items-center gap-x-3 gap-y-1.5 py-2" data-testid="maintenance-pair" data-pair={p.name}>
                {operate && (
                  <input type="checkbox" className="size-4" aria-label={`Select ${p.name}`} checked={selected.has(p.id)} onChange={(e) => toggle(p.id, e.target.checked)} />
                )}
                <Link href={`/pairs/${p.id}`} className="font-semibold text-accent hover:underline">
                  {p.name}
                </Link>
                <HealthBadge status={p.status} />
                <PairMaintenanceBadge pair={p} compact />
                <Link href={`/pairs/${p.id}/actions`} className="ml-auto text-sm text-accent hover:underline" aria-label={`Act by hand on ${p.name}`}>
                  Act by hand →
                </Link>
              </li>
            ))}
          </ul>
          {list.length === 0 && <Empty>No pairs configured.</Empty>}
          {operate && list.length > 0 && (
            <div className="mt-3 flex flex-col gap-3 border-t border-line pt-3">
              <div className="flex flex-wrap items-center gap-2 text-sm">
                <Button variant="ghost" onClick={() => setSelected(selected.size === list.length ? new Set() : new Set(list.map((p) => p.id)))}>
                  {selected.size === list.length ? "Select none" : "Select all"}
                </Button>
                <span className="text-muted" aria-live="polite">
                  {chosen.length} selected
                </span>
              </div>
              <div className="flex flex-wrap items-end gap-2">
                <div className="flex min-w-0 flex-1 basis-60 flex-col gap-1">
                  <label htmlFor="bulk-reason" className="text-sm font-semibold">Reason <span className="font-normal text-muted">(optional)</span></label>
                  <input id="bulk-reason" className={inputClass} value={bulkReason} maxLength={500} onChange={(e) => setBulkReason(e.target.value)} placeholder="e.g. patch night" />
                </div>
                <Button variant="primary" disabled={busy || !chosen.length} onClick={() => bulk(true)}>Maintenance on</Button>
                <Button disabled={busy || !chosen.length} onClick={() => bulk(false)}>Maintenance off</Button>
              </div>
              <ScheduleForm pairs={chosen.map((p) => ({ id: p.id, name: p.name }))} onDone={(text) => { setNote({ ok: true, text }); void loadWindows(); void reloadPairs(); }} />
            </div>
          )}
        </Panel>

        <Panel title="Windows" id="maint-windows">
          <div role="tablist" aria-label="Which windows" className="mb-3 flex w-fit rounded-md border border-line">
            {TABS.map((t) => (
              <button
                key={t.id}
                type="button"
                role="tab"
                aria-selected={tab === t.id}
                onClick={() => router.replace(t.id === "current" ? pathname : `${pathname}?tab=${t.id}`)}
                className={`px-3 py-1.5 text-sm font-semibold ${tab === t.id ? "bg-accent text-accent-fg" : "hover:bg-surface-2"}`}
              >
                {t.label}
              </button>
            ))}
          </div>
          <ErrorNote>{wError}</ErrorNote>
          {windows === null && !wError && <p className="text-sm text-muted">Loading…</p>}
          {windows && windows.length === 0 && <Empty>{tab === "current" ? "No window runs now." : tab === "upcoming" ? "No window scheduled." : "No past windows."}</Empty>}
          {windows && windows.length > 0 && (
            <ul className="flex flex-col gap-2" data-testid="windows">
              {windows.map((w) => (
                <li key={w.id} data-testid="window" data-pair={w.pairName} data-state={w.state} className="flex flex-wrap items-center gap-x-3 gap-y-1 rounded-md border border-line px-3 py-2 text-sm">
                  <div className="min-w-0 flex-1">
                    <p className="flex flex-wrap items-center gap-2">
                      <span className="font-semibold">{w.pairName}</span>
                      <Badge tone={w.state === "current" ? "warn" : w.state === "upcoming" ? "info" : "idle"} icon="clock">{w.state}</Badge>
                    </p>
                    <p className="text-muted">
                      <Time iso={w.startsAt} /> → <Time iso={w.cancelledAt && Date.parse(w.cancelledAt) < Date.parse(w.endsAt) ? w.cancelledAt : w.endsAt} />
                    </p>
                    <p className="break-words">
                      <span className="font-semibold">{w.createdBy}</span>: {w.reason}
                    </p>
                  </div>
                  {operate && w.state === "current" && <Button variant="danger" onClick={() => endWindow(w)}>End now</Button>}
                  {operate && w.state === "upcoming" && <Button onClick={() => endWindow(w)}>Cancel</Button>}
                </li>
              ))}
            </ul>
          )}
        </Panel>
        </div>
      </div>
    );
  }

  /** Schedule one window (same times and reason) for each chosen pair. */
  function ScheduleForm({ pairs, onDone }: { pairs: { id: string; name: string }[]; onDone: (text: string) => void }) {
    const [start, setStart] = useState("");
    const [end, setEnd] = useState("");
    const [reason, setReason] = useState("");
    const [error, setError] = useState<{ text: string; field: string | null } | null>(null);
    const [busy, setBusy] = useState(false);
    useEffect(() => {
      // Defaults after mount (the browser's zone): now, for two hours.
      const now = Date.now();
      setStart(localInput(now));
      setEnd(localInput(now + 2 * 3600_000));
    }, []);

    async function submit(e: React.FormEvent) {
      e.preventDefault();
      setError(null);
      const startsAt = toIso(start);
      const endsAt = toIso(end);
      if (!startsAt) return setError({ text: "Give the start as a date and time.", field: "startsAt" });
      if (!endsAt) return setError({ text: "Give the end as a date and time.", field: "endsAt" });
      setBusy(true);
      try {
        const { windows } = await api("POST /api/maintenance-windows", { body: { pairIds: pairs.map((p) => p.id), startsAt, endsAt, reason: reason.trim() } });
        setReason("");
        onDone(`Scheduled ${windows.length} window${windows.length === 1 ? "" : "s"}: ${windows.map((w) => w.pairName).join(", ")}.`);
      } catch (err) {
        setError({ text: errorText(err), field: err instanceof ApiError ? err.field : null });
      } finally {
        setBusy(false);
      }
    }
    const bad = (f: string) => error?.field === f || undefined;
    return (
      <form onSubmit={submit} className="flex flex-col gap-2 rounded-md border border-line p-3" aria-labelledby="schedule-title" data-testid="schedule-form">
        <h3 id="schedule-title" className="text-sm font-bold">
          Schedule a window {pairs.length ? `for ${pairs.map((p) => p.name).join(", ")}` : <span className="font-normal text-muted">(select pairs above)</span>}
        </h3>
        <div className="grid gap-2 sm:grid-cols-2">
          <div className="flex flex-col gap-1">
            <label htmlFor="window-start" className="text-sm font-semibold">Starts</label>
            <input id="window-start" type="datetime-local" className={inputClass} value={start} onChange={(e) => setStart(e.target.value)} aria-invalid={bad("startsAt")} required />
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor="window-end" className="text-sm font-semibold">Ends</label>
            <input id="window-end" type="datetime-local" className={inputClass} value={end} onChange={(e) => setEnd(e.target.value)} aria-invalid={bad("endsAt")} required />
          </div>
        </div>
        <p className="text-xs text-muted">Your local time ({Intl.DateTimeFormat().resolvedOptions().timeZone}); at most 31 days.</p>
        <div className="flex flex-col gap-1">
          <label htmlFor="window-reason" className="text-sm font-semibold">Reason</label>
          <input id="window-reason" className={inputClass} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} placeholder="e.g. patching host 1" aria-invalid={bad("reason")} required />
        </div>
        {error && <ErrorNote>{error.text}</ErrorNote>}
        <div className="flex justify-end">
          <Button type="submit" variant="primary" disabled={busy || !pairs.length || !reason.trim()}>
            {busy ? "Scheduling…" : `Schedule for ${pairs.length} pair${pairs.length === 1 ? "" : "s"}`}
          </Button>
      </div>
    </form>
  );
}
