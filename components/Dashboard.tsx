"use client";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { createContext, useContext, useEffect, useMemo, useRef, useState } from "react";
import { useWindowVirtualizer } from "@tanstack/react-virtual";
import { PAIR_HEALTHS, type PairHealth, type PairView, type ServerView } from "@/lib/views";
import type { AlarmJson } from "@/lib/realtime/events";
import { api } from "./api";
import { Time } from "./Time";
import { useLive, useLiveState } from "./socket";
import { AgentBadge, Badge, HEALTH, HealthBadge, Icon, ModeBadge, ProcessBadge } from "./status";
import { ErrorNote, inputClass } from "./ui";
import { usePairs } from "./usePairs";
import { isActive, operationRunning } from "./format";

const ORDER = PAIR_HEALTHS;
const ROW_HEIGHT = 92;
/** A card's first guess; each card is measured once drawn. */
const CARD_HEIGHT = 210;

/**
 * The alarms waiting for a person (unacknowledged: present, or critical/major cleared), live: the tile counts
 * them and each pair's row counts those about it (its own, and its hosts' link alarms) from the same list,
 * so the row and the tile never disagree about what they count.
 */
function useUnacknowledgedAlarms(): AlarmJson[] | null {
  const [alarms, setAlarms] = useState<AlarmJson[] | null>(null);
  const { generation } = useLiveState();
  const load = () =>
    api("GET /api/alarms", { query: { state: "unacknowledged", limit: 1000 } })
      .then((j) => setAlarms(j.alarms))
      .catch(() => setAlarms(null));
  useEffect(() => {
    void load();
  }, [generation]);
  useLive("alarm:update", () => void load());
  return alarms;
}

/** How many unacknowledged alarms concern a pair (null: not loaded; the rows then say nothing). */
const AlarmsOfPair = createContext<((p: PairView) => number) | null>(null);

function alarmCounter(alarms: AlarmJson[] | null): ((p: PairView) => number) | null {
  if (!alarms) return null;
  const byPair = new Map<string, number>();
  const byHost = new Map<string, number>();
  for (const a of alarms) {
    if (a.pairId) byPair.set(a.pairId, (byPair.get(a.pairId) ?? 0) + 1);
    else if (a.hostId) byHost.set(a.hostId, (byHost.get(a.hostId) ?? 0) + 1);
  }
  return (p) => (byPair.get(p.id) ?? 0) + p.servers.reduce((n, s) => n + (byHost.get(s.hostId) ?? 0), 0);
}

const DAY_MS = 24 * 3600_000;

/** "last failover 3 min ago · 2 in 24 h" (automatic failovers: the controller's, not a person's switchovers). */
function LastFailover({ p }: { p: PairView }) {
  const last = p.failovers?.last;
  if (!last) return null;
  const n = p.failovers.recent.filter((t) => Date.parse(t) > Date.now() - DAY_MS).length;
  return (
    <span className="text-muted" data-testid="last-failover">
      last failover <Time iso={last} />
      {n > 0 ? ` · ${n} in 24 h` : ""}
    </span>
  );
}

function ServerCell({ s, label }: { s: ServerView; label: string }) {
  return (
    <div className="min-w-0">
      <div className="truncate text-sm">
        <span className="sr-only">{label}: </span>
        <span className="font-semibold">{s.name}</span> <span className="text-muted">on {s.hostName}</span>
      </div>
      <div className="mt-1 flex flex-wrap gap-1">
        <ModeBadge mode={s.mode} />
        <ProcessBadge state={s.processState} />
        <AgentBadge connected={s.agentConnected} host={s.hostName} />
      </div>
    </div>
  );
}

const GRID = "grid-cols-[150px_minmax(160px,1.1fr)_130px_minmax(200px,1.4fr)_minmax(200px,1.4fr)_minmax(140px,1fr)]";

function VipHolder({ p }: { p: PairView }) {
  return p.vipHolder === "both" ? (
    <Badge tone="bad" icon="split">both hosts</Badge>
  ) : p.vipHolder ? (
    <span className="font-semibold" data-testid="row-vip-holder">{p.vipHolder}</span>
  ) : (
    <Badge tone="warn" icon="question">nobody</Badge>
  );
}

function Activity({ p }: { p: PairView }) {
  const count = useContext(AlarmsOfPair);
  const n = count ? count(p) : null;
  return (
    <>
      {p.operation && isActive(p.operation) && <Badge tone="info" icon="swap">{operationRunning(p.operation.kind)}</Badge>}
      {n === null ? null : n > 0 ? (
        <Badge tone="bad" icon="warn">
          <span data-testid="pair-alarms">{n}</span> alarm{n > 1 ? "s" : ""} waiting
        </Badge>
      ) : (
        <span className="text-muted">no alarms waiting</span>
      )}
      <LastFailover p={p} />
      {!p.autoFailover && <span className="text-muted">auto-failover off</span>}
    </>
  );
}

/** One pair on a wide screen: a row of the table. */
function PairRow({ p, flashKey }: { p: PairView; flashKey: number }) {
  return (
    <div
      key={flashKey}
      data-testid="pair-row"
      data-pair={p.name}
      data-status={p.status}
      data-flash={flashKey}
      className={`grid h-full ${GRID} items-center gap-3 border-b border-line px-3 ${flashKey ? "sy-flash" : ""}`}
    >
      <div>
        <HealthBadge status={p.status} operation={p.operation} />
        {p.maintenance && <div className="mt-1"><Badge tone="warn" icon="clock">maintenance</Badge></div>}
      </div>
      <div className="min-w-0">
        <Link href={`/pairs/${p.id}`} className="block truncate text-base font-bold text-accent hover:underline">
          {p.name}
        </Link>
        <div className="truncate font-mono text-xs text-muted">
          VIP {p.vip.address}/{p.vip.prefix} · {p.vip.interface}
        </div>
        <div className="line-clamp-2 break-words text-xs leading-4 text-muted" title={p.statusReason}>{p.statusReason}</div>
      </div>
      <div className="text-sm">
        <div className="text-xs text-muted">VIP held by</div>
        <VipHolder p={p} />
      </div>
      <ServerCell s={p.servers[0]} label="SIP Server 1" />
      <ServerCell s={p.servers[1]} label="SIP Server 2" />
      <div className="flex flex-col items-start gap-1 text-xs">
        <Activity p={p} />
      </div>
    </div>
  );
}

/**
 * One pair on a narrow screen: a card, state first, then what an operator looks for (the primary and
 * who holds the VIP), then both servers; nothing wider than the screen.
 */
function PairCard({ p, flashKey }: { p: PairView; flashKey: number }) {
  const primary = p.servers.filter((s) => s.mode === "primary");
  return (
    <div key={flashKey} data-testid="pair-row" data-layout="card" data-pair={p.name} data-status={p.status} data-flash={flashKey} className={`flex flex-col gap-2 border-b border-line px-3 py-3 ${flashKey ? "sy-flash" : ""}`}>
      <div className="flex flex-wrap items-center gap-2">
        <Link href={`/pairs/${p.id}`} className="min-w-0 truncate text-base font-bold text-accent hover:underline">{p.name}</Link>
        <HealthBadge status={p.status} operation={p.operation} />
        {p.maintenance && <Badge tone="warn" icon="clock">maintenance</Badge>}
      </div>
      <dl className="grid grid-cols-[auto_minmax(0,1fr)] gap-x-3 gap-y-0.5 text-sm">
        <dt className="text-muted">Primary</dt>
        <dd data-testid="row-primary" className="min-w-0 break-words">
          {primary.length === 1 ? (
            <><span className="font-semibold">{primary[0].name}</span> <span className="text-muted">on {primary[0].hostName}</span></>
          ) : primary.length === 2 ? (
            <Badge tone="bad" icon="split">both servers</Badge>
          ) : (
            <Badge tone="warn" icon="question">none</Badge>
          )}
        </dd>
        <dt className="text-muted">VIP held by</dt>
        <dd className="min-w-0 break-words"><VipHolder p={p} /> <span className="font-mono text-xs text-muted">{p.vip.address}</span></dd>
      </dl>
      <div className="line-clamp-2 break-words text-xs leading-4 text-muted">{p.statusReason}</div>
      <div className="grid grid-cols-1 gap-2 min-[480px]:grid-cols-2">
        <ServerCell s={p.servers[0]} label="SIP Server 1" />
        <ServerCell s={p.servers[1]} label="SIP Server 2" />
      </div>
      <div className="flex flex-wrap items-center gap-2 text-xs">
        <Activity p={p} />
      </div>
    </div>
  );
}

/** The table needs WIDE px; below, one card per pair. */
const WIDE = "(min-width: 1180px)";

function useMedia(query: string, initial: boolean) {
  const [match, setMatch] = useState(initial);
  useEffect(() => {
    const m = window.matchMedia(query);
    setMatch(m.matches);
    const on = () => setMatch(m.matches);
    m.addEventListener("change", on);
    return () => m.removeEventListener("change", on);
  }, [query]);
  return match;
}

export function Dashboard() {
  const { pairs, flashes, error, loaded } = usePairs();
  const waiting = useUnacknowledgedAlarms();
  const countOf = useMemo(() => alarmCounter(waiting), [waiting]);
  const router = useRouter();
  const pathname = usePathname();
  const sp = useSearchParams();
  const [q, setQ] = useState(sp.get("q") ?? "");
  const status = (sp.get("status") ?? "all") as PairHealth | "all" | "problems" | "operation";
  const sort = sp.get("sort") === "name" ? "name" : "problems";

  const setParam = (k: string, v: string | null) => {
    const n = new URLSearchParams(sp.toString());
    if (v === null || v === "" || v === "all" || (k === "sort" && v === "problems")) n.delete(k);
    else n.set(k, v);
    router.replace(`${pathname}${n.size ? `?${n}` : ""}`, { scroll: false });
  };
  // Debounce the search box into the URL.
  useEffect(() => {
    const t = setTimeout(() => {
      if ((sp.get("q") ?? "") !== q) setParam("q", q);
    }, 200);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q]);

  const all = useMemo(() => [...pairs.values()], [pairs]);
  const counts = useMemo(() => {
    const c = Object.fromEntries(PAIR_HEALTHS.map((h) => [h, 0])) as Record<PairHealth, number>;
    for (const p of all) c[p.status] = (c[p.status] ?? 0) + 1;
    return c;
  }, [all]);
  const running = counts.failing_over + counts.switching_over;

  const visible = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const list = all.filter((p) => {
      if (status === "operation" ? p.status !== "failing_over" && p.status !== "switching_over" : status === "problems" ? p.status === "healthy" : status !== "all" && p.status !== status) return false;
      if (!needle) return true;
      return (
        p.name.toLowerCase().includes(needle) ||
        p.vip.address.includes(needle) ||
        p.servers.some((s) => s.name.toLowerCase().includes(needle) || s.hostName.toLowerCase().includes(needle))
      );
    });
    list.sort((a, b) => (sort === "problems" ? ORDER.indexOf(a.status) - ORDER.indexOf(b.status) : 0) || a.name.localeCompare(b.name, undefined, { numeric: true }));
    return list;
  }, [all, q, status, sort]);

  const listRef = useRef<HTMLDivElement>(null);
  const [margin, setMargin] = useState(0);
  useEffect(() => {
    setMargin(listRef.current?.offsetTop ?? 0);
  }, [loaded]);
  const wide = useMedia(WIDE, true);
  const virtualizer = useWindowVirtualizer({ count: visible.length, estimateSize: () => (wide ? ROW_HEIGHT : CARD_HEIGHT), overscan: 8, scrollMargin: margin });
  useEffect(() => {
    setMargin(listRef.current?.offsetTop ?? 0);
    virtualizer.measure();
  }, [wide, virtualizer]);

  const tiles: { key: string; label: string; value: number | string; tone?: string; filter?: string }[] = [
    { key: "pairs", label: "Pairs", value: all.length, filter: "all" },
    { key: "healthy", label: "Healthy", value: counts.healthy, tone: "text-ok", filter: "healthy" },
    { key: "degraded", label: "Degraded", value: counts.degraded, tone: counts.degraded ? "text-warn" : undefined, filter: "degraded" },
    { key: "not_serving", label: HEALTH.not_serving.label, value: counts.not_serving, tone: counts.not_serving ? "text-bad" : undefined, filter: "not_serving" },
    { key: "operation", label: "Operation running", value: running, tone: running ? "text-info" : undefined, filter: "operation" },
    { key: "split_brain", label: "Split brain", value: counts.split_brain, tone: counts.split_brain ? "text-bad" : undefined, filter: "split_brain" },
    { key: "unknown", label: "Unknown", value: counts.unknown, filter: "unknown" },
  ];

  return (
    <AlarmsOfPair.Provider value={countOf}>
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-end justify-between gap-2">
        <h1 className="text-2xl font-bold">Pairs</h1>
        <p className="text-sm text-muted" aria-live="polite">
          {loaded ? `${visible.length} of ${all.length} shown` : "Loading…"}
        </p>
      </div>

      <ul className="grid grid-cols-2 gap-2 sm:grid-cols-4 lg:grid-cols-7" aria-label="Counts">
        {tiles.map((t) => (
          <li key={t.key}>
            <button
              type="button"
              onClick={() => setParam("status", t.filter ?? "all")}
              aria-pressed={status === t.filter || (t.filter === "all" && status === "all")}
              data-testid={`count-${t.key}`}
              className={`flex w-full flex-col items-start rounded-lg border bg-surface px-3 py-2 text-left hover:bg-surface-2 ${status === t.filter ? "border-accent" : "border-line"}`}
            >
              <span className="text-xs font-semibold uppercase tracking-wide text-muted">{t.label}</span>
              <span className={`text-2xl font-bold ${t.tone ?? ""}`}>{t.value}</span>
            </button>
          </li>
        ))}
        <li>
          <Link href="/alarms?state=unacknowledged" data-testid="count-alarms" className="flex w-full flex-col items-start rounded-lg border border-line bg-surface px-3 py-2 hover:bg-surface-2">
            <span className="text-xs font-semibold uppercase tracking-wide text-muted">Alarms waiting</span>
            <span className={`text-2xl font-bold ${(waiting?.length ?? 0) > 0 ? "text-bad" : ""}`}>{waiting ? waiting.length : "…"}</span>
          </Link>
        </li>
      </ul>

      <div className="flex flex-wrap items-end gap-3" role="search">
        <div className="flex min-w-64 flex-1 flex-col gap-1">
          <label htmlFor="pair-search" className="text-xs font-semibold uppercase tracking-wide text-muted">Search</label>
          <input id="pair-search" type="search" placeholder="Pair, VIP, server or host name" className={inputClass} value={q} onChange={(e) => setQ(e.target.value)} />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor="status-filter" className="text-xs font-semibold uppercase tracking-wide text-muted">Status</label>
          <select id="status-filter" className={inputClass} value={status} onChange={(e) => setParam("status", e.target.value)}>
            <option value="all">All statuses</option>
            <option value="problems">Anything not healthy</option>
            <option value="operation">Operation running</option>
            {ORDER.map((s) => (
              <option key={s} value={s}>{HEALTH[s].label}</option>
            ))}
          </select>
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor="sort" className="text-xs font-semibold uppercase tracking-wide text-muted">Order</label>
          <select id="sort" className={inputClass} value={sort} onChange={(e) => setParam("sort", e.target.value)}>
            <option value="problems">Problems first</option>
            <option value="name">By name</option>
          </select>
        </div>
      </div>

      <ErrorNote>{error}</ErrorNote>

      <div className="rounded-lg border border-line bg-surface" data-testid="pair-list" data-layout={wide ? "table" : "cards"}>
        <div>
          {wide && (
            <div className={`grid ${GRID} gap-3 border-b border-line bg-surface-2 px-3 py-2 text-xs font-bold uppercase tracking-wide text-muted`} aria-hidden>
              <span>Status</span>
              <span>Pair</span>
              <span>VIP</span>
              <span>SIP Server 1</span>
              <span>SIP Server 2</span>
              <span>Activity</span>
            </div>
          )}
          <div ref={listRef} role="list" aria-label="Pairs" style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
            {virtualizer.getVirtualItems().map((v) => {
              const p = visible[v.index];
              return (
                <div
                  role="listitem"
                  key={p.id}
                  data-index={v.index}
                  ref={wide ? undefined : virtualizer.measureElement}
                  style={{ position: "absolute", top: 0, left: 0, width: "100%", height: wide ? ROW_HEIGHT : undefined, transform: `translateY(${v.start - virtualizer.options.scrollMargin}px)` }}
                >
                  {wide ? <PairRow p={p} flashKey={flashes.get(p.id) ?? 0} /> : <PairCard p={p} flashKey={flashes.get(p.id) ?? 0} />}
                </div>
              );
            })}
          </div>
          {loaded && visible.length === 0 && (
            <p className="flex items-center justify-center gap-2 py-10 text-sm text-muted">
              <Icon name="question" />
              {all.length === 0 ? "No pairs yet. An admin can add hosts and pairs under Settings." : "No pair matches the search and filter."}
            </p>
          )}
        </div>
      </div>
    </div>
    </AlarmsOfPair.Provider>
  );
}
