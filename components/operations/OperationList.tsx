"use client";
/**
 * The operations history as a table (wide screens) or cards (narrow ones: no horizontal scrolling), each
 * operation's steps one click away (the same step list as the pair view's timeline).
 */
import Link from "next/link";
import { useEffect, useState, useSyncExternalStore } from "react";
import { operationKindLabel } from "@/lib/operation-kinds";
import type { OperationHistoryItem, OperationServerRef, OperationView } from "@/lib/views";
import { api, errorText } from "../api";
import { duration } from "../format";
import { StepList, laterOp } from "../OperationTimeline";
import { Badge, OpStatusBadge, type Tone } from "../status";
import { Time } from "../Time";
import { ErrorNote } from "../ui";

const KIND_TONE: Record<string, Tone> = { manual_switchover: "info", failover: "warn", disconnect_failover: "warn", split_brain_resolution: "bad", vip_repair: "warn" };

export function KindBadge({ kind }: { kind: string }) {
  return (
    <Badge tone={KIND_TONE[kind] ?? "idle"} icon="swap" title={kind}>
      <span data-testid="operation-kind">{operationKindLabel(kind)}</span>
    </Badge>
  );
}

function Server({ s, fallback }: { s: OperationServerRef | null; fallback: string | null }) {
  if (!s) return <span className="text-muted">{fallback ? "(removed)" : "—"}</span>;
  return (
    <span className="whitespace-nowrap" title={s.hostAddress ? `${s.hostName} (${s.hostAddress})` : s.hostName}>
      <span className="font-semibold">{s.name}</span> <span className="text-muted">on {s.hostName}</span>
    </span>
  );
}

function Direction({ op }: { op: OperationHistoryItem }) {
  return (
    <span className="inline-flex flex-wrap items-baseline gap-x-1.5" data-testid="operation-direction">
      <Server s={op.from} fallback={op.fromServerId} />
      <span aria-label="to" className="text-muted">→</span>
      <Server s={op.to} fallback={op.toServerId} />
    </span>
  );
}

function WhoWhy({ op }: { op: OperationHistoryItem }) {
  const why = op.reason ?? op.decision;
  return (
    <div className="min-w-0">
      <div className="font-semibold">{op.requestedBy}</div>
      {why && <div className="break-words text-xs text-muted">{why}</div>}
    </div>
  );
}

/** VIP moving time: the controller's part of moving the VIP (lib/operation-timing.ts). */
const VIP_MOVING_TITLE = "VIP moving: from the first step that could take the VIP away (demote, or promote in a failover) to the VIP enabled on its new host. Fault detection and clients' ARP caches are not included.";

function Steps({ op, live }: { op: OperationHistoryItem; live: OperationView | undefined }) {
  const [full, setFull] = useState<OperationView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let on = true;
    api("GET /api/operations/:id", { id: op.id })
      .then((j) => on && setFull((prev) => laterOp(prev, j.operation)))
      .catch((e) => on && setError(errorText(e)));
    return () => {
      on = false;
    };
  }, [op.id]);
  const shown = live && full ? laterOp(full, live) : (full ?? live ?? null);
  return (
    <div className="flex flex-col gap-2" data-testid="operation-steps">
      <ErrorNote>{error}</ErrorNote>
      {!shown && !error && <p className="text-sm text-muted">Loading steps…</p>}
      {shown && (
        <>
          {/* The row shows the reason when there is one, else the decision: the decision's detail goes here. */}
          {shown.reason && shown.decision && (
            <p className="text-sm text-muted">
              Decision: <span className="text-fg">{shown.decision}</span>
            </p>
          )}
          <StepList steps={shown.steps} emptyText={shown.status === "pending" ? "Waiting for the controller to start…" : "No steps recorded."} />
          {shown.error && <p className="text-sm font-semibold text-bad">Error: {shown.error}</p>}
          <div className="flex flex-wrap gap-x-4 text-sm">
            <Link href={`/pairs/${shown.pairId}`} className="text-accent hover:underline">
              Open {op.pairName}
            </Link>
            {/* The audit's search covers target ids: every audit row of this operation. */}
            <Link href={`/audit?q=${shown.id}`} className="text-accent hover:underline">
              Its audit events
            </Link>
          </div>
        </>
      )}
    </div>
  );
}

function StepsToggle({ op, open, onToggle }: { op: OperationHistoryItem; open: boolean; onToggle(): void }) {
  return (
    <button
      type="button"
      onClick={onToggle}
      aria-expanded={open}
      aria-controls={`steps-${op.id}`}
      className="whitespace-nowrap rounded-md border border-line px-2 py-1 text-xs font-semibold hover:bg-surface-2"
    >
      {open ? "Hide steps" : `Steps (${op.stepCount})`}
    </button>
  );
}

const WIDE = "(min-width: 768px)";
/** Table or cards (Tailwind's md): one of them in the DOM, so each open row fetches its steps once. */
function useWide(): boolean {
  return useSyncExternalStore(
    (cb) => {
      const m = window.matchMedia(WIDE);
      m.addEventListener("change", cb);
      return () => m.removeEventListener("change", cb);
    },
    () => window.matchMedia(WIDE).matches,
    () => true,
  );
}

export function OperationList({ items, live, fresh }: { items: OperationHistoryItem[]; live: Map<string, OperationView>; fresh: Set<string> }) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  const toggle = (id: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const wide = useWide();
  if (wide)
    return (
      <div className="overflow-x-auto rounded-lg border border-line bg-surface">
        <table className="w-full text-left text-sm" data-testid="operations-table">
          <caption className="sr-only">Operations, newest first. Each row's steps open below it.</caption>
          <thead className="bg-surface-2 text-xs uppercase tracking-wide text-muted">
            <tr>
              <th className="px-3 py-2">Started</th>
              <th className="px-3 py-2">Kind</th>
              <th className="px-3 py-2">Pair</th>
              <th className="px-3 py-2">From → to</th>
              <th className="px-3 py-2">Who and why</th>
              <th className="px-3 py-2 text-right">Duration</th>
              <th className="whitespace-nowrap px-3 py-2 text-right" title={VIP_MOVING_TITLE}>VIP moving</th>
              <th className="px-3 py-2">Result</th>
              <th className="px-3 py-2"><span className="sr-only">Steps</span></th>
            </tr>
          </thead>
          <tbody>
            {items.map((op) => (
              <Row key={op.id} op={op} open={open.has(op.id)} onToggle={() => toggle(op.id)} live={live.get(op.id)} fresh={fresh.has(op.id)} />
            ))}
          </tbody>
        </table>
      </div>
    );
  return (
    <ul className="flex flex-col gap-2" data-testid="operations-cards">
      {items.map((op) => (
        <li key={op.id} data-testid="operation-card" data-kind={op.kind} className={`rounded-lg border border-line bg-surface p-3 text-sm ${fresh.has(op.id) ? "sy-flash" : ""}`}>
          <div className="flex flex-wrap items-center gap-2">
            <KindBadge kind={op.kind} />
            <OpStatusBadge status={op.status} />
            <Time iso={op.createdAt} className="ml-auto text-xs text-muted" />
          </div>
          <div className="mt-2 flex flex-col gap-1">
            <Link href={`/pairs/${op.pairId}`} className="font-semibold text-accent hover:underline">{op.pairName}</Link>
            <Direction op={op} />
            <WhoWhy op={op} />
            <div className="flex flex-wrap gap-x-4 text-xs text-muted">
              <span>Duration <span className="font-mono text-fg">{duration(op.durationMs)}</span></span>
              <span title={VIP_MOVING_TITLE}>VIP moving <span className="font-mono text-fg">{duration(op.vipMovingMs)}</span></span>
            </div>
            {op.error && <p className="break-words text-xs text-bad">{op.error}</p>}
          </div>
          <div className="mt-2">
            <StepsToggle op={op} open={open.has(op.id)} onToggle={() => toggle(op.id)} />
          </div>
          {open.has(op.id) && (
            <div id={`steps-${op.id}`} className="mt-3 border-t border-line pt-3">
              <Steps op={op} live={live.get(op.id)} />
            </div>
          )}
        </li>
      ))}
    </ul>
  );
}

function Row({ op, open, onToggle, live, fresh }: { op: OperationHistoryItem; open: boolean; onToggle(): void; live: OperationView | undefined; fresh: boolean }) {
  return (
    <>
      <tr data-testid="operation-row" data-kind={op.kind} data-status={op.status} className={`border-t border-line align-top ${fresh ? "sy-flash" : ""}`}>
        <td className="whitespace-nowrap px-3 py-2"><Time iso={op.createdAt} /></td>
        <td className="px-3 py-2"><KindBadge kind={op.kind} /></td>
        <td className="whitespace-nowrap px-3 py-2">
          <Link href={`/pairs/${op.pairId}`} className="text-accent hover:underline">{op.pairName}</Link>
        </td>
        <td className="px-3 py-2"><Direction op={op} /></td>
        <td className="max-w-[28rem] px-3 py-2"><WhoWhy op={op} /></td>
        <td className="whitespace-nowrap px-3 py-2 text-right font-mono">{duration(op.durationMs)}</td>
        <td className="whitespace-nowrap px-3 py-2 text-right font-mono" data-testid="vip-moving">{duration(op.vipMovingMs)}</td>
        <td className="px-3 py-2">
          <OpStatusBadge status={op.status} />
          {op.error && <div className="mt-1 max-w-[16rem] break-words text-xs text-bad">{op.error}</div>}
        </td>
        <td className="px-3 py-2 text-right"><StepsToggle op={op} open={open} onToggle={onToggle} /></td>
      </tr>
      {open && (
        <tr className="border-t border-line bg-bg/40">
          <td colSpan={9} id={`steps-${op.id}`} className="px-6 py-3">
            <Steps op={op} live={live} />
          </td>
        </tr>
      )}
    </>
  );
}
