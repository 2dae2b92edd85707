"use client";
/**
 * Alarms over their lifecycle (docs/api.md, Alarm lifecycle): filters in the URL (state, default open;
 * severity, kind, pair), cards with names and times, acknowledge one or many with a comment (operators
 * and admins), live through `alarm:update`, "Load more" through the API's cursor.
 */
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { AlarmJson } from "@/lib/realtime/events";
import { AlarmCard } from "./alarms/AlarmCard";
import { apiQuery, filtersQuery, kindLabel, KINDS, laterAlarm, matches, needsAck, parseFilters, SEVERITIES, STATE_CHIPS, type AlarmFilters } from "./alarms/filters";
import { api, errorText } from "./api";
import { canOperate, useMe } from "./session";
import { useLive, useLiveState } from "./socket";
import { Button, Empty, ErrorNote, inputClass } from "./ui";

const PAGE = 50;

export function AlarmsPage() {
  const sp = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const filters = useMemo(() => parseFilters(new URLSearchParams(sp.toString())), [sp]);
  const key = filtersQuery(filters);
  const [alarms, setAlarms] = useState<AlarmJson[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [names, setNames] = useState<{ pairs: Map<string, string>; hosts: Map<string, string> } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkComment, setBulkComment] = useState("");
  const [bulkNote, setBulkNote] = useState<{ ok: boolean; text: string } | null>(null);
  const [bulkBusy, setBulkBusy] = useState(false);
  const [flash, setFlash] = useState<Set<string>>(new Set());
  const [unacked, setUnacked] = useState<{ n: number; more: boolean } | null>(null);
  const { me } = useMe();
  const operate = canOperate(me);
  const { generation } = useLiveState();
  const filtersRef = useRef(filters);
  filtersRef.current = filters;

  /** Every alarm the live channel sent: a page fetched before an event but answered after it must not undo it. */
  const seen = useRef(new Map<string, AlarmJson>());
  const fresh = useCallback((list: AlarmJson[]) => list.map((a) => laterAlarm(seen.current.get(a.id), a)).filter((a) => matches(a, filtersRef.current)), []);

  const load = useCallback(async () => {
    try {
      const r = await api("GET /api/alarms", { query: { ...apiQuery(filters), limit: PAGE } });
      setAlarms(fresh(r.alarms));
      setCursor(r.nextCursor);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoaded(true);
    }
    // `key` stands for the filters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  useEffect(() => {
    setSelected(new Set());
    void load();
  }, [load, generation]);

  const countUnacked = useCallback(async () => {
    try {
      const r = await api("GET /api/alarms", { query: { state: "unacknowledged", limit: 1000 } });
      setUnacked({ n: r.alarms.length, more: !!r.nextCursor });
    } catch {
      /* the count is a hint; the list shows the error */
    }
  }, []);
  const countTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    void countUnacked();
  }, [countUnacked, generation]);
  useEffect(() => () => void (countTimer.current && clearTimeout(countTimer.current)), []);

  useEffect(() => {
    Promise.all([api("GET /api/pairs"), api("GET /api/hosts")])
      .then(([p, h]) => setNames({ pairs: new Map(p.pairs.map((x) => [x.id, x.name])), hosts: new Map(h.hosts.map((x) => [x.id, x.name])) }))
      .catch(() => undefined);
  }, [generation]);

  /** Puts one alarm's new state in the list, or takes it out when it no longer matches the filters. */
  const upsert = useCallback((a: AlarmJson) => {
    const f = filtersRef.current;
    setAlarms((list) => {
      const i = list.findIndex((x) => x.id === a.id);
      if (!matches(a, f)) return i < 0 ? list : list.filter((x) => x.id !== a.id);
      if (i < 0) return [a, ...list];
      const n = list.slice();
      n[i] = a;
      return n;
    });
    if (!matches(a, f)) setSelected((s) => (s.has(a.id) ? new Set([...s].filter((id) => id !== a.id)) : s));
  }, []);

  useLive("alarm:update", (a) => {
    seen.current.set(a.id, laterAlarm(seen.current.get(a.id), a));
    upsert(a);
    setFlash((s) => new Set(s).add(a.id));
    if (countTimer.current) clearTimeout(countTimer.current);
    countTimer.current = setTimeout(() => void countUnacked(), 300);
  });

  function setFilters(next: Partial<AlarmFilters>) {
    router.replace(`${pathname}${filtersQuery({ ...filters, ...next })}`);
  }

  async function loadMore() {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const r = await api("GET /api/alarms", { query: { ...apiQuery(filters), limit: PAGE, cursor } });
      setAlarms((list) => [...list, ...fresh(r.alarms).filter((a) => !list.some((x) => x.id === a.id))]);
      setCursor(r.nextCursor);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoadingMore(false);
    }
  }

  async function ackOne(a: AlarmJson, comment: string): Promise<string | null> {
    try {
      const { alarm } = await api("POST /api/alarms/:id/ack", { id: a.id, body: comment ? { comment } : {} });
      seen.current.set(alarm.id, laterAlarm(seen.current.get(alarm.id), alarm));
      upsert(seen.current.get(alarm.id)!);
      void countUnacked();
      return null;
    } catch (e) {
      void load();
      return errorText(e);
    }
  }

  const selectable = alarms.filter(needsAck);
  const chosen = selectable.filter((a) => selected.has(a.id));
  const allChosen = selectable.length > 0 && chosen.length === selectable.length;

  async function ackSelected() {
    setBulkBusy(true);
    setBulkNote(null);
    try {
      const r = await api("POST /api/alarms/ack", { body: { ids: chosen.map((a) => a.id), ...(bulkComment.trim() ? { comment: bulkComment.trim() } : {}) } });
      for (const a of r.acknowledged) {
        seen.current.set(a.id, laterAlarm(seen.current.get(a.id), a));
        upsert(seen.current.get(a.id)!);
      }
      setSelected(new Set());
      setBulkComment("");
      setBulkNote({
        ok: r.skipped.length === 0,
        text: `Acknowledged ${r.acknowledged.length} alarm${r.acknowledged.length === 1 ? "" : "s"}.${r.skipped.length ? ` Skipped ${r.skipped.length}: ${r.skipped.map((s) => s.reason).join("; ")}.` : ""}`,
      });
      void countUnacked();
    } catch (e) {
      setBulkNote({ ok: false, text: errorText(e) });
    } finally {
      setBulkBusy(false);
    }
  }

  const pairOptions = [...(names?.pairs.entries() ?? [])].sort((a, b) => a[1].localeCompare(b[1]));
  const unackedText = unacked ? `${unacked.n}${unacked.more ? "+" : ""}` : null;

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-baseline gap-3">
        <h1 className="text-2xl font-bold">Alarms</h1>
        {unacked && (
          <span className={`text-sm ${unacked.n ? "font-semibold text-bad" : "text-muted"}`} aria-live="polite" data-testid="unacked-count">
            {unacked.n ? `${unackedText} waiting for acknowledgement` : "Nothing waits for acknowledgement"}
          </span>
        )}
      </div>

      <div className="flex flex-col gap-2" aria-label="Filters" role="group">
        <div className="flex flex-wrap gap-1.5" role="group" aria-label="State">
          {STATE_CHIPS.map((c) => {
            const on = filters.state === c.id;
            const attention = c.id === "unacknowledged" && !!unacked?.n;
            return (
              <button
                key={c.id}
                type="button"
                aria-pressed={on}
                title={c.hint}
                onClick={() => setFilters({ state: c.id })}
                data-testid={`state-${c.label.toLowerCase()}`}
                className={`inline-flex items-center gap-1.5 rounded-full border px-3 py-1 text-sm font-semibold ${
                  on ? "border-accent bg-accent text-accent-fg" : attention ? "border-bad/60 bg-bad-bg text-bad hover:brightness-110" : "border-line bg-surface hover:bg-surface-2"
                }`}
              >
                {c.label}
                {c.id === "unacknowledged" && unacked && unacked.n > 0 && (
                  <span className={`rounded-full px-1.5 text-xs ${on ? "bg-accent-fg/20" : "bg-bad text-white dark:text-black"}`}>{unackedText}</span>
                )}
              </button>
            );
          })}
        </div>
        <div className="flex flex-wrap items-center gap-x-4 gap-y-2 text-sm">
          <fieldset className="flex flex-wrap items-center gap-x-3 gap-y-1">
            <legend className="sr-only">Severity</legend>
            <span className="font-semibold" aria-hidden>Severity</span>
            {SEVERITIES.map((s) => (
              <label key={s} className="flex items-center gap-1">
                <input
                  type="checkbox"
                  checked={filters.severity.includes(s)}
                  onChange={(e) => setFilters({ severity: e.target.checked ? [...filters.severity, s] : filters.severity.filter((x) => x !== s) })}
                />
                {s}
              </label>
            ))}
          </fieldset>
          <label className="flex items-center gap-1.5">
            <span className="font-semibold">Kind</span>
            <select className={`${inputClass} w-auto max-w-[14rem]`} value={filters.kind ?? ""} onChange={(e) => setFilters({ kind: e.target.value || null })}>
              <option value="">any</option>
              {KINDS.map((k) => (
                <option key={k} value={k}>{kindLabel(k)}</option>
              ))}
            </select>
          </label>
          <label className="flex items-center gap-1.5">
            <span className="font-semibold">Pair</span>
            <select className={`${inputClass} w-auto max-w-[14rem]`} value={filters.pair ?? ""} onChange={(e) => setFilters({ pair: e.target.value || null })}>
              <option value="">any</option>
              {pairOptions.map(([id, name]) => (
                <option key={id} value={id}>{name}</option>
              ))}
            </select>
          </label>
        </div>
      </div>

      <ErrorNote>{error}</ErrorNote>

      {operate && selectable.length > 0 && (
        <div className="z-20 flex flex-wrap items-end gap-2 rounded-lg lg:sticky lg:top-16 border border-line bg-surface-2 px-3 py-2" data-testid="bulk-ack">
          <label className="flex items-center gap-2 self-center text-sm font-semibold">
            <input
              type="checkbox"
              className="size-4"
              checked={allChosen}
              ref={(el) => {
                if (el) el.indeterminate = chosen.length > 0 && !allChosen;
              }}
              onChange={(e) => setSelected(e.target.checked ? new Set(selectable.map((a) => a.id)) : new Set())}
            />
            Select all {selectable.length} shown that need acknowledgement
          </label>
          {chosen.length > 0 && (
            <>
              <input aria-label="Comment for the selected alarms" className={`${inputClass} min-w-0 flex-1 basis-48`} maxLength={500} value={bulkComment} onChange={(e) => setBulkComment(e.target.value)} placeholder="Comment (optional)" />
              <Button variant="primary" disabled={bulkBusy} onClick={ackSelected}>
                {bulkBusy ? "Acknowledging…" : `Acknowledge ${chosen.length} alarm${chosen.length === 1 ? "" : "s"}`}
              </Button>
            </>
          )}
        </div>
      )}
      {bulkNote && (
        <p role={bulkNote.ok ? "status" : "alert"} data-testid="bulk-note" className={`text-sm ${bulkNote.ok ? "text-ok" : "text-bad"}`}>
          {bulkNote.text}
        </p>
      )}

      <ul className="flex flex-col gap-2" data-testid="alarms-list" aria-label="Alarms">
        {alarms.map((a) => (
          <AlarmCard
            key={a.id}
            alarm={a}
            pairName={a.pairId ? (names ? (names.pairs.get(a.pairId) ?? "a deleted pair") : "…") : null}
            hostName={a.hostId ? (names ? (names.hosts.get(a.hostId) ?? "a deleted host") : "…") : null}
            canAck={operate}
            selected={selected.has(a.id)}
            onSelect={(on) => setSelected((s) => (on ? new Set(s).add(a.id) : new Set([...s].filter((id) => id !== a.id))))}
            onAck={(c) => ackOne(a, c)}
            flash={flash.has(a.id)}
          />
        ))}
      </ul>
      {loaded && alarms.length === 0 && !error && <Empty>{filters.state === "open" && key === "" ? "No open alarms. All clear." : "No alarms match these filters."}</Empty>}
      {cursor && (
        <div className="flex justify-center">
          <Button onClick={loadMore} disabled={loadingMore}>{loadingMore ? "Loading…" : "Load more"}</Button>
        </div>
      )}
    </div>
  );
}
