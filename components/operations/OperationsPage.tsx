"use client";
/**
 * Operations: the history of every pair's switchovers, failovers and repairs (GET /api/operations):
 * filters in the URL, newest first, older pages on request (the API's cursor), CSV/JSON export of the same
 * filters, each operation's steps one click away; live: an operation that starts or changes appears or
 * updates at once (`operation:update`).
 */
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useState } from "react";
import { operationDurationMs, vipMovingMs } from "@/lib/operation-timing";
import type { HostDto, OperationHistoryItem, OperationServerRef, OperationView, PairDto } from "@/lib/views";
import { api } from "../api";
import { useCursorList } from "../useCursorList";
import { useLive, useLiveState } from "../socket";
import { Button, Empty, ErrorNote } from "../ui";
import { apiQuery, filtersOf, liveMatches, urlOf } from "./filters";
import { OperationFilters } from "./OperationFilters";
import { OperationList } from "./OperationList";

const PAGE = 50;
const FINAL = new Set(["succeeded", "failed"]);

/** A live operation as a history row (names from the pairs and hosts this page loaded). */
function historyRow(op: OperationView, prev: OperationHistoryItem | undefined, pairs: PairDto[], hosts: HostDto[]): OperationHistoryItem {
  const pair = pairs.find((p) => p.id === op.pairId);
  const ref = (id: string | null): OperationServerRef | null => {
    const s = pair?.servers.find((x) => x.id === id);
    return s ? { id: s.id, name: s.name, hostName: s.hostName, hostAddress: hosts.find((h) => h.id === s.hostId)?.address ?? "" } : null;
  };
  return {
    ...op,
    steps: [],
    pairName: prev?.pairName ?? pair?.name ?? op.pairId.slice(0, 8),
    from: prev?.from ?? ref(op.fromServerId),
    to: prev?.to ?? ref(op.toServerId),
    durationMs: operationDurationMs(op),
    vipMovingMs: vipMovingMs(op.steps),
    stepCount: op.steps.length,
  };
}

export function OperationsPage() {
  const sp = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const filters = useMemo(() => filtersOf(sp), [sp]);
  const [pairs, setPairs] = useState<PairDto[]>([]);
  const [hosts, setHosts] = useState<HostDto[]>([]);
  const [live, setLive] = useState<Map<string, OperationView>>(new Map());
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const { generation } = useLiveState();

  useEffect(() => {
    api("GET /api/pairs").then((j) => setPairs(j.pairs)).catch(() => undefined);
    api("GET /api/hosts").then((j) => setHosts(j.hosts)).catch(() => undefined);
  }, [generation]);

  const fetchPage = useCallback(
    async (cursor: string | null) => {
      const j = await api("GET /api/operations", { query: { ...apiQuery(filters), limit: PAGE, cursor: cursor ?? undefined } });
      return { items: j.operations, nextCursor: j.nextCursor };
    },
    [filters],
  );
  const { items, setItems, cursor, loading, error, loadOlder } = useCursorList(fetchPage);

  useLive("operation:update", (op) => {
    setLive((m) => new Map(m).set(op.id, op));
    setItems((list) => {
      const i = list.findIndex((x) => x.id === op.id);
      if (i >= 0) {
        // An event older than what a fetch already showed (a finished operation) changes nothing.
        if (FINAL.has(list[i].status) && !FINAL.has(op.status)) return list;
        const n = list.slice();
        n[i] = historyRow(op, list[i], pairs, hosts);
        return n;
      }
      if (!liveMatches(op, filters)) return list;
      return [historyRow(op, undefined, pairs, hosts), ...list].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    });
    setFresh((s) => new Set(s).add(op.id));
  });

  const exportHref = (format: "csv" | "json") => `/api/operations/export?${new URLSearchParams({ ...apiQuery(filters), format })}`;
  const linkClass = "rounded-md border border-line px-3 py-1.5 text-sm font-semibold hover:bg-surface-2";

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center gap-3">
        <div>
          <h1 className="text-2xl font-bold">Operations</h1>
          <p className="text-sm text-muted">Every switchover, failover and repair of every pair, newest first.</p>
        </div>
        <div className="ml-auto flex flex-wrap items-center gap-2">
          <a className={linkClass} href={exportHref("csv")} download data-testid="export-csv">
            Export CSV
          </a>
          <a className={linkClass} href={exportHref("json")} download data-testid="export-json">
            Export JSON
          </a>
        </div>
      </div>
      <OperationFilters filters={filters} pairs={pairs} onApply={(f) => router.replace(urlOf(pathname, f), { scroll: false })} onClear={() => router.replace(pathname, { scroll: false })} />
      <ErrorNote>{error}</ErrorNote>
      {items.length > 0 && <OperationList items={items} live={live} fresh={fresh} />}
      {!loading && !error && items.length === 0 && (
        <div className="rounded-lg border border-line bg-surface">
          <Empty>No operation matches these filters.</Empty>
        </div>
      )}
      <div className="flex flex-wrap items-center gap-3">
        {cursor && (
          <Button onClick={loadOlder} disabled={loading}>
            {loading ? "Loading…" : "Load older operations"}
          </Button>
        )}
        <span className="text-sm text-muted" data-testid="operations-count">
          {loading && items.length === 0 ? "Loading…" : `${items.length} operation${items.length === 1 ? "" : "s"} shown${cursor ? "; older ones on request" : ""}`}
        </span>
      </div>
    </div>
  );
}
