"use client";
/** Hosts: each agent's connection, last heartbeat, round-trip time, version, reported apps and VIPs. */
import { useCallback, useEffect, useRef, useState } from "react";
import { hostViewOf, type HostDto, type HostView } from "@/lib/views";
import { api, errorText } from "./api";
import { useLive, useLiveState } from "./socket";
import { Badge, ModeBadge, ProcessBadge, VipBadge } from "./status";
import { Time } from "./Time";
import { Empty, ErrorNote } from "./ui";

/** `seen`: the controller has persisted a status for the host (GET /api/hosts `status` not null). */
const fromDto = (h: HostDto): HostView & { seen: boolean } => ({ ...hostViewOf(h), seen: h.status !== null });

/** What a changed card is highlighted for: connection, version, apps and VIPs (not heartbeat times or RTT). */
const meaningful = (h: HostView) => JSON.stringify([h.connected, h.agentVersion, h.apps, h.vips]);

export function HostsPage() {
  const [hosts, setHosts] = useState<Map<string, HostView & { seen: boolean }>>(new Map());
  const [flash, setFlash] = useState<Map<string, number>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const { generation } = useLiveState();
  const load = useCallback(async () => {
    try {
      const { hosts: list } = await api("GET /api/hosts");
      setHosts(new Map(list.map((h) => [h.id, fromDto(h)])));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoaded(true);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load, generation]);
  const current = useRef(hosts);
  current.current = hosts;
  useLive("host:state", (h) => {
    const prev = current.current.get(h.id);
    setHosts((m) => new Map(m).set(h.id, { ...h, seen: true }));
    // Heartbeats and RTT change all the time: flash only when something an operator acts on changed.
    if (prev && meaningful(prev) !== meaningful(h)) setFlash((f) => new Map(f).set(h.id, (f.get(h.id) ?? 0) + 1));
  });
  const list = [...hosts.values()].sort((a, b) => Number(a.connected) - Number(b.connected) || a.name.localeCompare(b.name, undefined, { numeric: true }));
  return (
    <div className="flex flex-col gap-4">
      <div className="flex items-center gap-3">
        <h1 className="text-2xl font-bold">Hosts</h1>
        <span className="text-sm text-muted">
          {list.filter((h) => h.connected).length} of {list.length} agents connected
        </span>
      </div>
      <ErrorNote>{error}</ErrorNote>
      {loaded && list.length === 0 && <Empty>No hosts yet. An admin can add them under Settings.</Empty>}
      <div className="grid gap-3 lg:grid-cols-2">
        {list.map((h) => (
          <section key={`${h.id}-${flash.get(h.id) ?? 0}`} data-testid="host-card" data-host={h.name} data-connected={String(h.connected)} className={`rounded-lg border bg-surface p-4 ${h.connected ? "border-line" : "border-bad/60"} ${flash.get(h.id) ? "sy-flash" : ""}`}>
            <div className="flex flex-wrap items-center gap-2">
              <h2 className="text-lg font-bold">{h.name}</h2>
              {h.connected ? <Badge tone="ok" icon="link">agent connected</Badge> : <Badge tone="bad" icon="unlink">agent disconnected</Badge>}
              <span className="ml-auto font-mono text-xs text-muted">{h.address}</span>
            </div>
            <dl className="mt-2 grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-[max-content_max-content_max-content_minmax(0,1fr)]">
              <div>
                <dt className="text-xs text-muted">Last heartbeat</dt>
                <dd><Time iso={h.lastHeartbeatAt} /></dd>
              </div>
              <div>
                <dt className="text-xs text-muted">Round trip</dt>
                <dd className="font-mono">{h.rttMs != null ? `${h.rttMs.toFixed(1)} ms` : "—"}</dd>
              </div>
              <div>
                <dt className="text-xs text-muted">Agent version</dt>
                <dd className="font-mono">{h.agentVersion ?? "—"}</dd>
              </div>
              <div>
                <dt className="text-xs text-muted">Agent URL</dt>
                <dd className="font-mono text-xs [overflow-wrap:anywhere]">{h.agentUrl}</dd>
              </div>
            </dl>
            {!h.connected && (h.apps.length > 0 || h.vips.length > 0) && (
              <p className="mt-2 text-xs text-warn" data-testid="host-stale">Last reported before the agent disconnected; the real state may differ.</p>
            )}
            <div className={`mt-3 grid gap-3 sm:grid-cols-2 ${!h.connected ? "opacity-70" : ""}`}>
              <div>
                <h3 className="text-xs font-bold uppercase text-muted">Applications</h3>
                {h.apps.length === 0 ? (
                  <p className="text-sm text-muted">{!h.seen ? "not reported yet: the controller has not reached this agent" : h.connected ? "none reported" : "unknown while the agent is disconnected"}</p>
                ) : (
                  <ul className="mt-1 flex flex-col gap-1">
                    {h.apps.map((a) => (
                      <li key={a.name} className="flex flex-wrap items-center gap-1 text-sm">
                        <span className="font-semibold">{a.name}</span>
                        <ProcessBadge state={a.state} />
                        <ModeBadge mode={a.mode} />
                        {a.vip && (
                          <span className="text-xs text-muted" title={`VIP "${a.vip}" in the agent's configuration`}>
                            follows VIP <span className="font-mono">{h.vips.find((v) => v.name === a.vip)?.address ?? a.vip}</span>
                          </span>
                        )}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
              <div>
                <h3 className="text-xs font-bold uppercase text-muted">Virtual IPs</h3>
                {h.vips.length === 0 ? (
                  <p className="text-sm text-muted">{!h.seen ? "not reported yet: the controller has not reached this agent" : h.connected ? "none reported" : "unknown while the agent is disconnected"}</p>
                ) : (
                  <ul className="mt-1 flex flex-col gap-1">
                    {h.vips.map((v) => (
                      <li key={v.name} className="flex flex-wrap items-center gap-1 text-sm">
                        <span className="font-mono">{v.address}</span>
                        <VipBadge observed={v.observed} />
                        {v.duplicate && <Badge tone="bad" icon="split">duplicate on the network</Badge>}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            </div>
          </section>
        ))}
      </div>
    </div>
  );
}
