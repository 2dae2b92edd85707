"use client";
/** Settings → Notifications, the delivery log: every delivery, newest first; refreshed every few seconds. */
import { useCallback, useEffect, useState } from "react";
import type { ChannelJson, DeliveryJson } from "@/lib/queries/notifications";
import { api, errorText } from "../api";
import { Badge, type Tone } from "../status";
import { Time } from "../Time";
import { Button, Empty, ErrorNote, Panel } from "../ui";

const STATUS_TONE: Record<DeliveryJson["status"], Tone> = { sent: "ok", pending: "info", retrying: "warn", failed: "bad" };
const PAGE = 50;
const selectClass = "rounded-md border border-line bg-bg px-2 py-1 text-sm text-fg";

export function NotificationLog({ channels, refresh }: { channels: ChannelJson[]; refresh: number }) {
  const [status, setStatus] = useState("");
  const [channelId, setChannelId] = useState("");
  const [rows, setRows] = useState<DeliveryJson[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      const r = await api("GET /api/notifications/deliveries", { query: { status, channelId, limit: PAGE } });
      setRows(r.deliveries);
      setNext(r.nextCursor);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [status, channelId]);
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), 3000);
    return () => clearInterval(t);
  }, [load, refresh]);
  async function more() {
    if (!next) return;
    try {
      const r = await api("GET /api/notifications/deliveries", { query: { status, channelId, limit: PAGE, cursor: next } });
      setRows([...rows, ...r.deliveries]);
      setNext(r.nextCursor);
    } catch (e) {
      setError(errorText(e));
    }
  }
  return (
    <Panel
      title="Delivery log"
      actions={
        <div className="flex flex-wrap gap-2">
          <select aria-label="Status" className={selectClass} value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">every status</option>
            {(["sent", "retrying", "pending", "failed"] as const).map((s) => (
              <option key={s} value={s}>{s}</option>
            ))}
          </select>
          <select aria-label="Channel" className={selectClass} value={channelId} onChange={(e) => setChannelId(e.target.value)}>
            <option value="">every channel</option>
            {channels.map((c) => (
              <option key={c.id} value={c.id}>{c.name}</option>
            ))}
          </select>
        </div>
      }
    >
      <ErrorNote>{error}</ErrorNote>
      {rows.length === 0 && !error && <Empty>Nothing sent yet.</Empty>}
      {rows.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm" aria-label="Delivery log">
            <thead className="text-xs text-muted">
              <tr>
                <th className="py-1 pr-3">When</th>
                <th className="py-1 pr-3">Event</th>
                <th className="py-1 pr-3">Channel</th>
                <th className="py-1 pr-3">Pair</th>
                <th className="py-1 pr-3">What</th>
                <th className="py-1 pr-3">Status</th>
                <th className="py-1 pr-3">Attempts</th>
                <th className="py-1">Error / next attempt</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {rows.map((d) => (
                <tr key={d.id} data-testid={`delivery-${d.id}`}>
                  <td className="py-1 pr-3 whitespace-nowrap"><Time iso={d.createdAt} /></td>
                  <td className="py-1 pr-3 font-mono text-xs">{d.event}</td>
                  <td className="py-1 pr-3">{d.channelName}</td>
                  <td className="py-1 pr-3">{d.pairName || "—"}</td>
                  <td className="py-1 pr-3">{[d.severity, d.kind].filter(Boolean).join(" ")}{d.message ? `: ${d.message}` : ""}</td>
                  <td className="py-1 pr-3" data-testid="delivery-status"><Badge tone={STATUS_TONE[d.status]}>{d.status}</Badge></td>
                  <td className="py-1 pr-3">{d.attempts}</td>
                  <td className="py-1 text-xs text-muted">
                    {d.lastError && <span className="text-bad">{d.lastError}</span>}
                    {d.nextAttemptAt && d.status === "retrying" && <> · next <Time iso={d.nextAttemptAt} /></>}
                    {d.sentAt && <>sent <Time iso={d.sentAt} /></>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && <Button onClick={() => void more()}>Older deliveries</Button>}
    </Panel>
  );
}
