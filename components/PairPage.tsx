"use client";
import Link from "next/link";
import { useCallback, useEffect, useMemo, useState } from "react";
import { hostViewOf, type HostView, type OperationView, type PairDto, type PairView } from "@/lib/views";
import { api, errorText } from "./api";
import { DurationChart, StepDurationsChart } from "./Charts";
import { duration, elapsedMs, operationKind } from "./format";
import type { AlarmJson as AlarmView } from "@/lib/realtime/events";
import { laterOp, OperationTimeline } from "./OperationTimeline";
import { canAdmin, useMe } from "./session";
import { useLive, useLiveState, usePairRoom } from "./socket";
import { AgentBadge, Badge, HealthBadge, ModeBadge, OpStatusBadge, ProcessBadge, SeverityBadge, VipBadge } from "./status";
import { SwitchoverButton } from "./SwitchoverDialog";
import { PairMaintenanceBadge } from "./maintenance/PairMaintenanceBadge";
import { PairActions, ServerActions } from "./overrides/ServerActions";
import { Time } from "./Time";
import { Topology } from "./Topology";
import { Button, Empty, ErrorNote, Panel } from "./ui";
import { samePairState } from "./usePairs";

function mergeOp(list: OperationView[], o: OperationView): OperationView[] {
  const i = list.findIndex((x) => x.id === o.id);
  if (i < 0) return [o, ...list];
  const n = list.slice();
  n[i] = laterOp(list[i], o);
  return n;
}

export function PairPage({ id }: { id: string }) {
  const [dto, setDto] = useState<PairDto | null>(null);
  const [view, setView] = useState<PairView | null>(null);
  const [flash, setFlash] = useState(0);
  const [ops, setOps] = useState<OperationView[]>([]);
  const [opsLoaded, setOpsLoaded] = useState(false);
  const [current, setCurrent] = useState<OperationView | null>(null);
  const [alarms, setAlarms] = useState<AlarmView[]>([]);
  const [hosts, setHosts] = useState<Map<string, HostView>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [notFound, setNotFound] = useState(false);
  const { generation } = useLiveState();
  usePairRoom(id);

  const loadOps = useCallback(async () => {
    const { operations: list } = await api("GET /api/operations", { query: { pairId: id, limit: 30 } });
    // Steps for the charts and the current operation: fetch the newest few in full.
    const detailed = await Promise.all(
      list.slice(0, 8).map((o) =>
        api("GET /api/operations/:id", { id: o.id })
          .then((j) => j.operation)
          .catch(() => o),
      ),
    );
    const full = list.map((o, i) => detailed[i] ?? o);
    setOps((prev) => full.map((o) => laterOp(prev.find((p) => p.id === o.id), o)));
    setCurrent((c) => (full[0] ? laterOp(c, full[0]) : c));
    setOpsLoaded(true);
  }, [id]);

  const load = useCallback(async () => {
    try {
      const { pair } = await api("GET /api/pairs/:id", { id });
      setDto(pair);
      setView(pair.view);
      setError(null);
    } catch (e) {
      if ((e as { status?: number }).status === 404) setNotFound(true);
      setError(errorText(e));
      return;
    }
    await Promise.all([
      loadOps().catch((e) => setError(errorText(e))),
      api("GET /api/alarms", { query: { pairId: id, state: "all", limit: 50 } })
        .then((j) => setAlarms(j.alarms))
        .catch(() => undefined),
      api("GET /api/hosts")
        .then((j) => setHosts(new Map(j.hosts.map((h) => [h.id, hostViewOf(h)]))))
        .catch(() => undefined),
    ]);
  }, [id, loadOps]);

  useEffect(() => {
    void load();
  }, [load, generation]);

  useLive("pair:state", (p) => {
    if (p.id !== id) return;
    setView((prev) => {
      if (prev && !samePairState(prev, p)) setFlash((f) => f + 1);
      return p;
    });
  });
  useLive("operation:update", (o) => {
    if (o.pairId !== id) return;
    setOps((list) => mergeOp(list, o));
    setCurrent((c) => (!c || c.id === o.id || new Date(o.createdAt) >= new Date(c.createdAt) ? laterOp(c, o) : c));
  });
  useLive("alarm:update", (a) => {
    if (a.pairId !== id) return;
    setAlarms((list) => {
      const i = list.findIndex((x) => x.id === a.id);
      if (i < 0) return [a, ...list];
      const n = list.slice();
      n[i] = a;
      return n;
    });
  });
  useLive("host:state", (h) => setHosts((m) => new Map(m).set(h.id, h)));

  const activeAlarms = useMemo(() => alarms.filter((a) => !a.clearedAt), [alarms]);
  /** Waiting for a person: present and not acknowledged, or critical/major cleared and not acknowledged. */
  const waiting = useMemo(() => alarms.filter((a) => a.state === "active" || a.state === "cleared_unacknowledged"), [alarms]);

  if (notFound)
    return (
      <div className="flex flex-col gap-3">
        <ErrorNote>This pair does not exist (any more). It may have been deleted.</ErrorNote>
        <Link href="/" className="text-accent underline">Back to the dashboard</Link>
      </div>
    );
  if (!view) return error ? <ErrorNote>{error}</ErrorNote> : <p className="text-muted">Loading…</p>;

  const running = current && (current.status === "running" || current.status === "pending");

  return (
    <div className="flex flex-col gap-4" data-testid="pair-page" data-pair={view.name}>
      <nav aria-label="Breadcrumb" className="text-sm text-muted">
        <Link href="/" className="hover:underline">Pairs</Link> / <span className="text-fg">{view.name}</span>
      </nav>
      <div className="relative flex flex-wrap items-start gap-4 rounded-lg border border-line bg-surface p-4">
        {/* The highlight restarts by remounting this layer only (never the dialog's owner). */}
        {flash > 0 && <span key={flash} aria-hidden className="sy-flash pointer-events-none absolute inset-0 rounded-lg" />}
        <div className="relative flex min-w-[min(100%,18rem)] flex-1 flex-col gap-1">
          <div className="flex flex-wrap items-center gap-3">
            <h1 className="text-2xl font-bold">{view.name}</h1>
            <HealthBadge status={view.status} operation={view.operation} large />
            {!view.autoFailover && <Badge tone="idle">auto-failover off</Badge>}
          </div>
          <PairMaintenanceBadge pair={view} />
          <p className="text-sm" data-testid="status-reason">{view.statusReason}</p>
          <p className="font-mono text-sm text-muted">
            VIP {view.vip.address}/{view.vip.prefix} on {view.vip.interface} · held by{" "}
            <span className="font-semibold text-fg" data-testid="vip-holder">{view.vipHolder ?? "nobody"}</span>
          </p>
          <p className="text-xs text-muted">
            Updated <Time iso={view.updatedAt} />
          </p>
        </div>
        <div className="relative flex flex-col items-end gap-2">
          <SwitchoverButton pair={view} operations={ops} />
          <PairActions pair={view} switchover={false} />
          <Link className="text-sm text-accent hover:underline" href={`/pairs/${view.id}/actions`}>Act by hand…</Link>
        </div>
      </div>

      <ErrorNote>{error}</ErrorNote>

      <div className="grid gap-4 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <Panel title="Topology" id="topology">
          <Topology pair={view} hosts={hosts} />
          <div className="mt-3 grid gap-3 sm:grid-cols-2">
            {view.servers.map((s, i) => (
              <div key={s.id} className="rounded-md border border-line p-3 text-sm" data-testid={`server-${i + 1}`} data-mode={s.mode}>
                <div className="mb-1 font-semibold">
                  SIP Server {i + 1} · {s.name} <span className="font-normal text-muted">on {s.hostName} (app {s.appName})</span>
                </div>
                <div className="flex flex-wrap gap-1">
                  <ModeBadge mode={s.mode} />
                  <ProcessBadge state={s.processState} />
                  <VipBadge observed={s.vip} />
                  <AgentBadge connected={s.agentConnected} host={s.hostName} />
                  {!s.healthy && <Badge tone="bad" icon="warn">unhealthy</Badge>}
                  <span className="ml-auto">
                    <ServerActions pair={view} server={s} />
                  </span>
                </div>
                <div className="mt-1 text-xs text-muted">
                  {/* The view is republished on changes, not on every heartbeat: while the link is up the
                      controller's deadline guarantees heartbeats are on time; the time matters once it is lost. */}
                  {s.agentConnected ? (
                    "heartbeats on time"
                  ) : (
                    <>
                      last heartbeat <Time iso={s.lastHeartbeatAt} />
                    </>
                  )}
                  {s.pid ? ` · pid ${s.pid}` : ""}
                </div>
                {s.lastGroup && s.lastGroup.count > 0 && (
                  <div className="mt-1 text-xs text-muted" data-testid="last-group">
                    {s.lastGroup.action === "killed" ? "ended" : "found"} {s.lastGroup.count} leftover process{s.lastGroup.count === 1 ? "" : "es"} after its{" "}
                    {s.lastGroup.trigger === "exit" ? "main process died" : "stop"} <Time iso={s.lastGroup.at} />
                    {s.lastGroup.survivors > 0 ? ` · ${s.lastGroup.survivors} still running` : ""}
                  </div>
                )}
              </div>
            ))}
          </div>
        </Panel>

        <div className="flex flex-col gap-4">
          <Panel title={running ? "Current operation" : "Last operation"} id="current-op">
            {current ? <OperationTimeline op={current} pair={view} /> : opsLoaded ? <Empty>No operation has run on this pair yet.</Empty> : <p className="text-sm text-muted">Loading…</p>}
          </Panel>
          <Panel
            title={`Alarms (${activeAlarms.length} active, ${waiting.length} waiting)`}
            id="pair-alarms"
            actions={<Link className="text-sm text-accent hover:underline" href={`/alarms?pair=${view.id}${waiting.length ? "&state=unacknowledged" : ""}`}>{waiting.length ? "Acknowledge…" : "All alarms"}</Link>}
          >
            {alarms.length === 0 ? (
              <Empty>No alarms for this pair.</Empty>
            ) : (
              <ul className="flex flex-col gap-2">
                {alarms.slice(0, 8).map((a) => (
                  <li key={a.id} data-state={a.state} className={`flex flex-wrap items-center gap-2 text-sm ${a.state === "acknowledged" || a.state === "cleared" ? "opacity-60" : ""}`}>
                    <SeverityBadge severity={a.severity} />
                    <span className="min-w-0 flex-1">{a.message}</span>
                    <span className="text-xs text-muted">
                      {a.clearedAt ? "cleared " : "raised "}
                      <Time iso={a.clearedAt ?? a.raisedAt} />
                      {a.acknowledgedBy ? ` · ack by ${a.acknowledgedBy}` : a.state === "cleared_unacknowledged" ? " · waiting for acknowledgement" : ""}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </Panel>
          {dto && <PolicyPanel dto={dto} onSaved={(d) => { setDto(d); setView((v) => (v ? { ...v, maintenance: d.maintenance, autoFailover: d.autoFailover } : v)); }} />}
        </div>
      </div>

      <div className="grid gap-4 lg:grid-cols-2">
        <Panel title="Switchover and failover durations" id="chart-durations">
          <DurationChart ops={ops} />
        </Panel>
        <Panel title="Step durations of the last operations" id="chart-steps">
          <StepDurationsChart ops={ops} />
        </Panel>
      </div>

      <Panel title="Recent operations" id="recent-ops" actions={<Link className="text-sm text-accent hover:underline" href={`/audit?pair=${view.id}`}>Audit history of this pair</Link>}>
        {ops.length === 0 ? (
          <Empty>No operations yet.</Empty>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <thead className="text-xs uppercase tracking-wide text-muted">
                <tr>
                  <th className="py-1 pr-3">Started</th>
                  <th className="py-1 pr-3">Kind</th>
                  <th className="py-1 pr-3">Status</th>
                  <th className="py-1 pr-3">By</th>
                  <th className="py-1 pr-3">Duration</th>
                  <th className="py-1 pr-3">Reason / error</th>
                </tr>
              </thead>
              <tbody>
                {ops.map((o) => (
                  <tr key={o.id} className="border-t border-line" data-testid="recent-op" data-status={o.status}>
                    <td className="py-1.5 pr-3"><Time iso={o.startedAt ?? o.createdAt} /></td>
                    <td className="py-1.5 pr-3">
                      <button type="button" className="text-accent hover:underline" onClick={() => setCurrent(o)}>
                        {operationKind(o.kind)}
                      </button>
                    </td>
                    <td className="py-1.5 pr-3"><OpStatusBadge status={o.status} /></td>
                    <td className="py-1.5 pr-3">{o.requestedBy}</td>
                    <td className="py-1.5 pr-3 font-mono">{duration(elapsedMs(o.startedAt, o.finishedAt))}</td>
                    <td className="py-1.5 pr-3 text-muted">{o.error ?? o.reason ?? o.decision ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  );
}

function PolicyPanel({ dto, onSaved }: { dto: PairDto; onSaved: (d: PairDto) => void }) {
  const { me } = useMe();
  const admin = canAdmin(me);
  const [busy, setBusy] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  async function toggle(field: "maintenance" | "autoFailover") {
    setBusy(field);
    setErr(null);
    try {
      const { pair } = await api("PATCH /api/pairs/:id", { id: dto.id, body: { [field]: !dto[field] } });
      onSaved(pair);
    } catch (e) {
      setErr(errorText(e));
    } finally {
      setBusy(null);
    }
  }
  const rows: [string, string][] = [
    ["Automatic failover", dto.autoFailover ? "on" : "off"],
    ["Restart a failed server", "by its agent, in backup mode"],
    ["Disconnect grace", `${dto.disconnectGraceSeconds} s`],
    ["Heartbeat timeout", `${dto.heartbeatTimeoutMs} ms`],
    ["Hold-down after failover", `${dto.holdDownSeconds} s`],
    ["Maintenance mode", dto.maintenance ? "ON: the controller observes but takes no automatic action" : "off"],
  ];
  return (
    <Panel title="Policy" id="policy" actions={admin ? <Link href={`/settings?pair=${dto.id}`} className="text-sm text-accent hover:underline">Edit in Settings</Link> : null}>
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
        {rows.map(([k, v]) => (
          <div key={k} className="contents">
            <dt className="text-muted">{k}</dt>
            <dd className="font-medium">{v}</dd>
          </div>
        ))}
      </dl>
      {admin && (
        <div className="mt-3 flex flex-wrap gap-2">
          <Button onClick={() => toggle("maintenance")} disabled={busy !== null} aria-pressed={dto.maintenance}>
            {dto.maintenance ? "Leave maintenance mode" : "Enter maintenance mode"}
          </Button>
          <Button onClick={() => toggle("autoFailover")} disabled={busy !== null} aria-pressed={dto.autoFailover}>
            {dto.autoFailover ? "Turn automatic failover off" : "Turn automatic failover on"}
          </Button>
        </div>
      )}
      {err && <ErrorNote className="mt-2">{err}</ErrorNote>}
    </Panel>
  );
}
