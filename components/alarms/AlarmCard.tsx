"use client";
/**
 * One alarm as a card (a row on wide screens): severity, message, kind, where (pair and host names),
 * raised and cleared (relative, the exact time on hover), its lifecycle state, who acknowledged it and
 * their comment; for operators a checkbox (bulk) and "Acknowledge…" with an optional comment.
 */
import Link from "next/link";
import { useState } from "react";
import type { AlarmJson } from "@/lib/realtime/events";
import { Badge, SeverityBadge } from "../status";
import { Time } from "../Time";
import { Button, inputClass } from "../ui";
import { kindLabel, needsAck } from "./filters";

const STATE_BADGE: Record<AlarmJson["state"], { label: string; tone: "bad" | "warn" | "ok" | "idle"; icon: "warn" | "clock" | "check" | "dot" }> = {
  active: { label: "Active · needs ack", tone: "bad", icon: "warn" },
  cleared_unacknowledged: { label: "Cleared · needs ack", tone: "warn", icon: "clock" },
  acknowledged: { label: "Acknowledged", tone: "ok", icon: "check" },
  cleared: { label: "Cleared", tone: "idle", icon: "dot" },
};

export function AlarmCard({
  alarm: a,
  pairName,
  hostName,
  canAck,
  selected,
  onSelect,
  onAck,
  flash,
}: {
  alarm: AlarmJson;
  pairName: string | null;
  hostName: string | null;
  canAck: boolean;
  selected: boolean;
  onSelect: (on: boolean) => void;
  onAck: (comment: string) => Promise<string | null>;
  flash: boolean;
}) {
  const [open, setOpen] = useState(false);
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const waiting = needsAck(a);
  const st = STATE_BADGE[a.state];

  async function ack(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    const err = await onAck(comment.trim());
    setBusy(false);
    setError(err);
    if (!err) setOpen(false);
  }

  return (
    <li
      data-testid="alarm-row"
      data-kind={a.kind}
      data-state={a.state}
      data-acked={String(!!a.acknowledgedAt)}
      className={`grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 rounded-lg border bg-surface px-3 py-2.5 lg:grid-cols-[auto_6rem_minmax(0,1fr)_13rem_10rem_auto] lg:items-start ${
        waiting ? (a.state === "active" ? "border-bad/60 border-l-4" : "border-warn/60 border-l-4") : "border-line"
      } ${flash ? "sy-flash" : ""}`}
    >
      <div className="row-span-2 pt-0.5 lg:row-span-1">
        {canAck && waiting ? (
          <input type="checkbox" className="size-4" aria-label={`Select alarm: ${a.message}`} checked={selected} onChange={(e) => onSelect(e.target.checked)} />
        ) : (
          <span className="block size-4" aria-hidden />
        )}
      </div>
      <div className="flex flex-wrap items-center gap-1.5 lg:block">
        <SeverityBadge severity={a.severity} />
        <span className="lg:hidden">
          <Badge tone={st.tone} icon={st.icon}>{st.label}</Badge>
        </span>
      </div>
      <div className="col-start-2 min-w-0 lg:col-start-auto">
        <p className="break-words font-medium">{a.message}</p>
        <p className="text-xs text-muted">{kindLabel(a.kind)}</p>
        {a.acknowledgedAt && (
          <p className="mt-1 break-words text-sm" data-testid="alarm-ack">
            <span className="text-muted">Acknowledged by </span>
            <span className="font-semibold">{a.acknowledgedBy}</span> <Time iso={a.acknowledgedAt} className="text-muted" />
            {a.acknowledgeComment ? <span className="block italic">“{a.acknowledgeComment}”</span> : <span className="text-muted"> (no comment)</span>}
          </p>
        )}
      </div>
      <div className="col-start-2 flex min-w-0 flex-wrap gap-x-1 text-sm lg:col-start-auto lg:flex-col">
        {pairName && a.pairId && (
          <Link className="break-all text-accent hover:underline" href={`/pairs/${a.pairId}`}>
            {pairName}
          </Link>
        )}
        {pairName && hostName && <span className="text-muted lg:hidden" aria-hidden>·</span>}
        {hostName && (
          <Link className="break-all text-accent hover:underline" href="/hosts">
            {hostName}
          </Link>
        )}
        {!pairName && !hostName && <span className="text-muted">—</span>}
      </div>
      <div className="col-start-2 text-sm lg:col-start-auto">
        <span className="text-muted">Raised </span>
        <Time iso={a.raisedAt} />
        {a.clearedAt && (
          <span className="block">
            <span className="text-muted">Cleared </span>
            <Time iso={a.clearedAt} />
          </span>
        )}
      </div>
      <div className="col-start-2 flex flex-wrap items-start gap-2 lg:col-start-auto lg:flex-col lg:items-end">
        <span className="hidden lg:inline">
          <Badge tone={st.tone} icon={st.icon}>{st.label}</Badge>
        </span>
        {canAck && waiting && !open && (
          <Button onClick={() => setOpen(true)} aria-label={`Acknowledge: ${a.message}`}>
            Acknowledge…
          </Button>
        )}
      </div>
      {open && (
        <form onSubmit={ack} className="col-span-full flex flex-wrap items-end gap-2 border-t border-line pt-2" data-testid="ack-form">
          <div className="flex min-w-0 flex-1 basis-56 flex-col gap-1">
            <label htmlFor={`ack-${a.id}`} className="text-sm font-semibold">
              Comment <span className="font-normal text-muted">(optional)</span>
            </label>
            <input id={`ack-${a.id}`} autoFocus className={inputClass} maxLength={500} value={comment} onChange={(e) => setComment(e.target.value)} placeholder="e.g. INC-42, host 1 replaced" />
          </div>
          <Button type="button" onClick={() => setOpen(false)}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={busy}>{busy ? "Acknowledging…" : "Acknowledge"}</Button>
        </form>
      )}
      {error && (
        <p role="alert" className="col-span-full text-sm text-bad">
          ⚠ {error}
        </p>
      )}
    </li>
  );
}
