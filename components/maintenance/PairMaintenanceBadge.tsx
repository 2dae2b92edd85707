"use client";
/**
 * "In maintenance until 03:00 — alice: patching" for a pair: from its current window (view.maintenanceWindows),
 * else from its maintenance flag; the next upcoming window when none runs ("Maintenance from 02:00 …").
 * Renders nothing for a pair with neither.
 */
import { useEffect, useState } from "react";
import type { MaintenanceWindowView, PairView } from "@/lib/views";
import { exactTime } from "../format";
import { Icon } from "../status";

/** "03:00" today, "Dec 03, 03:00" another day (the browser's zone). */
export function shortTime(iso: string, now: number): string {
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date(now).toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleString(undefined, { month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

function useNow(ms = 15_000) {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function PairMaintenanceBadge({ pair, compact = false }: { pair: Pick<PairView, "maintenance" | "maintenanceWindows">; compact?: boolean }) {
  const now = useNow();
  if (now === null) return null;
  const windows: MaintenanceWindowView[] = pair.maintenanceWindows ?? [];
  const current = windows.find((w) => Date.parse(w.startsAt) <= now && now < Date.parse(w.endsAt));
  const next = windows.find((w) => Date.parse(w.startsAt) > now);
  const box = "inline-flex max-w-full items-start gap-1.5 rounded-md border px-2 py-1 text-sm";
  if (current || pair.maintenance) {
    return (
      <span data-testid="maintenance-badge" data-state="on" className={`${box} border-warn/60 bg-warn-bg text-warn`} title={current ? `${exactTime(current.startsAt)} → ${exactTime(current.endsAt)}` : undefined}>
        <Icon name="clock" className="mt-0.5 size-4 shrink-0" />
        <span className="min-w-0 break-words">
          <span className="font-bold">{current ? `In maintenance until ${shortTime(current.endsAt, now)}` : "In maintenance"}</span>
          {!compact && current && <span className="text-fg"> — {current.createdBy}: {current.reason}</span>}
          {!compact && !current && <span className="text-fg"> — switched on by hand; the controller takes no automatic action</span>}
        </span>
      </span>
    );
  }
  if (next) {
    return (
      <span data-testid="maintenance-badge" data-state="upcoming" className={`${box} border-line bg-surface-2 text-muted`} title={exactTime(next.startsAt)}>
        <Icon name="clock" className="mt-0.5 size-4 shrink-0" />
        <span className="min-w-0 break-words">
          Maintenance from {shortTime(next.startsAt, now)} to {shortTime(next.endsAt, now)}
          {!compact && <> — {next.createdBy}: {next.reason}</>}
        </span>
      </span>
    );
  }
  return null;
}
