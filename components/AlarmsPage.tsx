"use client";
/** Alarms: active or all (cleared too), severity, acknowledge (operators), live. */
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, errorText } from "./api";
import type { AlarmJson as AlarmView } from "@/lib/realtime/events";
import { canOperate, useMe } from "./session";
import { useLive, useLiveState } from "./socket";
import { Badge, SeverityBadge } from "./status";
import { Time } from "./Time";
import { Button, Empty, ErrorNote } from "./ui";

const RANK: Record<string, number> = { critical: 0, major: 1, minor: 2, warning: 3 };

export function AlarmsPage() {
  const sp = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const state = sp.get("state") === "all" ? "all" : "active";
  const [alarms, setAlarms] = useState<AlarmView[]>([]);
  const [names, setNames] = useState<{ pairs: Map<string, string>; hosts: Map<string, string> }>({ pairs: new Map(), hosts: new Map() });
  const [error, setError] = useState<string | null>(null);
  const [rowError, setRowError] = useState<Record<string, string>>({});
  const [flash, setFlash] = useState<Set<string>>(new Set());
  const { me } = useMe();
  const { generation } = useLiveState();

  const load = useCallback(async () => {
    try {
      setAlarms((await api("GET /api/alarms", { query: { state, limit: 500 } })).alarms);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [state]);
  useEffect(() => {
    void load();
  }, [load, generation]);
  useEffect(() => {
    Promise.all([api("GET /api/pairs"), api("GET /api/hosts")])
      .then(([p, h]) =>
        setNames({
          pairs: new Map(p.pairs.map((x) => [x.id, x.name])),
          hosts: new Map(h.hosts.map((x) => [x.id, x.name])),
        }),
      )
      .catch(() => undefined);
  }, [generation]);

  useLive("alarm:update", (a) => {
    setAlarms((list) => {
      const i = list.findIndex((x) => x.id === a.id);
      if (state === "active" && a.clearedAt) return list.filter((x) => x.id !== a.id);
      if (i < 0) return [a, ...list];
      const n = list.slice();
      n[i] = a;
      return n;
    });
    setFlash((s) => new Set(s).add(a.id));
  });

  const sorted = useMemo(
    () => [...alarms].sort((a, b) => Number(!!a.clearedAt) - Number(!!b.clearedAt) || (RANK[a.severity] ?? 9) - (RANK[b.severity] ?? 9) || b.raisedAt.localeCompare(a.raisedAt)),
    [alarms],
  );

  async function ack(a: AlarmView) {
    setRowError((r) => ({ ...r, [a.id]: "" }));
    try {
      const { alarm } = await api("POST /api/alarms/:id/ack", { id: a.id, body: {} });
      setAlarms((list) => list.map((x) => (x.id === a.id ? alarm : x)));
    } catch (e) {
      setRowError((r) => ({ ...r, [a.id]: errorText(e) }));
      void load();
    }
  }

  const active = alarms.filter((a) => !a.clearedAt).length;
  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-bold">Alarms</h1>
        <span className="text-sm text-muted" aria-live="polite">{active} active</span>
        <div className="ml-auto flex rounded-md border border-line" role="group" aria-label="Which alarms">
          {(["active", "all"] as const).map((s) => (
            <button
              key={s}
              type="button"
              aria-pressed={state === s}
              onClick={() => router.replace(s === "active" ? pathname : `${pathname}?state=all`)}
              className={`px-3 py-1.5 text-sm font-semibold ${state === s ? "bg-accent text-accent-fg" : "hover:bg-surface-2"}`}
            >
              {s === "active" ? "Active" : "Active and cleared"}
            </button>
          ))}
        </div>
      </div>
      <ErrorNote>{error}</ErrorNote>
      <div className="relative overflow-x-auto rounded-lg border border-line bg-surface">
        <table className="w-full text-left text-sm" data-testid="alarms-table">
          <thead className="bg-surface-2 text-xs uppercase tracking-wide text-muted">
            <tr>
              <th className="px-3 py-2">Severity</th>
              <th className="px-3 py-2">Alarm</th>
              <th className="px-3 py-2">Where</th>
              <th className="px-3 py-2">Raised</th>
              <th className="px-3 py-2">State</th>
              <th className="px-3 py-2"><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((a) => (
              <tr key={a.id} data-testid="alarm-row" data-kind={a.kind} data-acked={String(!!a.acknowledgedAt)} className={`border-t border-line ${a.clearedAt ? "opacity-60" : ""} ${flash.has(a.id) ? "sy-flash" : ""}`}>
                <td className="px-3 py-2"><SeverityBadge severity={a.severity} /></td>
                <td className="px-3 py-2">
                  <div className="font-medium">{a.message}</div>
                  <div className="font-mono text-xs text-muted">{a.kind}</div>
                  {rowError[a.id] && <p role="alert" className="text-sm text-bad">⚠ {rowError[a.id]}</p>}
                </td>
                <td className="px-3 py-2">
                  {a.pairId && <Link className="text-accent hover:underline" href={`/pairs/${a.pairId}`}>{names.pairs.get(a.pairId) ?? "pair"}</Link>}
                  {a.pairId && a.hostId && " · "}
                  {a.hostId && <Link className="text-accent hover:underline" href="/hosts">{names.hosts.get(a.hostId) ?? "host"}</Link>}
                </td>
                <td className="whitespace-nowrap px-3 py-2"><Time iso={a.raisedAt} /></td>
                <td className="px-3 py-2">
                  <div className="flex flex-col items-start gap-1">
                    {a.clearedAt ? <Badge tone="ok" icon="check">cleared <Time iso={a.clearedAt} /></Badge> : <Badge tone="bad" icon="warn">active</Badge>}
                    {a.acknowledgedAt && <span className="text-xs text-muted">acknowledged by {a.acknowledgedBy} <Time iso={a.acknowledgedAt} /></span>}
                  </div>
                </td>
                <td className="px-3 py-2 text-right">
                  {!a.acknowledgedAt && !a.clearedAt && (
                    <Button onClick={() => ack(a)} disabled={!canOperate(me)} title={canOperate(me) ? undefined : "Viewers cannot acknowledge alarms"}>
                      Acknowledge
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {sorted.length === 0 && <Empty>{state === "active" ? "No active alarms. All clear." : "No alarms recorded."}</Empty>}
      </div>
    </div>
  );
}
