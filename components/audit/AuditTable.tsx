"use client";
/**
 * The audit events, newest first: time, actor, what happened (a sentence an operator reads, from
 * lib/audit-sentence.ts, over the action's catalogue label and code), pair, outcome, duration; an
 * operation's rows link to it in the Operations history.
 */
import Link from "next/link";
import { auditOperationId, auditSentence } from "@/lib/audit-sentence";
import type { AuditSummary } from "@/lib/realtime/events";
import { duration } from "../format";
import { OutcomeBadge } from "../status";
import { Time } from "../Time";

export function AuditTable({
  items,
  fresh,
  pairName,
  pairsLoaded,
  actionLabel,
  onSelect,
}: {
  items: AuditSummary[];
  fresh: Set<string>;
  pairName: Map<string, string>;
  /** False until the pairs' names are known: an unknown id is then a deleted pair. */
  pairsLoaded: boolean;
  actionLabel: (action: string) => string | undefined;
  onSelect: (e: AuditSummary) => void;
}) {
  return (
    <table className="w-full text-left text-sm" data-testid="audit-table">
      <caption className="sr-only">Audit events, newest first. Select a row for its details.</caption>
      <thead className="bg-surface-2 text-xs uppercase tracking-wide text-muted">
        <tr>
          <th className="px-3 py-2">Time</th>
          <th className="px-3 py-2">Actor</th>
          <th className="px-3 py-2">What happened</th>
          <th className="px-3 py-2">Pair</th>
          <th className="px-3 py-2">Outcome</th>
          <th className="px-3 py-2">Duration</th>
          <th className="px-3 py-2"><span className="sr-only">Details</span></th>
        </tr>
      </thead>
      <tbody>
        {items.map((e) => (
          <tr
            key={e.id}
            data-testid="audit-row"
            data-action={e.action}
            className={`cursor-pointer border-t border-line hover:bg-surface-2 ${fresh.has(e.id) ? "sy-flash" : ""}`}
            onClick={() => onSelect(e)}
          >
            <td className="whitespace-nowrap px-3 py-1.5"><Time iso={e.at} /></td>
            <td className="px-3 py-1.5">{e.actor}</td>
            <td className="px-3 py-1.5">
              <div data-testid="audit-sentence">{auditSentence(e, { pairName: e.pairId ? pairName.get(e.pairId) : null })}</div>
              <div className="text-xs text-muted">
                {actionLabel(e.action)} · <span className="font-mono">{e.action}</span>
                {auditOperationId(e) && e.pairId && (
                  <>
                    {" · "}
                    <Link href={`/operations?pair=${e.pairId}&q=${auditOperationId(e)}`} onClick={(ev) => ev.stopPropagation()} className="text-accent hover:underline">
                      operation
                    </Link>
                  </>
                )}
              </div>
            </td>
            <td className="px-3 py-1.5">
              {e.pairId && pairName.has(e.pairId) ? (
                <Link href={`/pairs/${e.pairId}`} onClick={(ev) => ev.stopPropagation()} className="text-accent hover:underline">
                  {pairName.get(e.pairId)}
                </Link>
              ) : e.pairId ? (
                <span className="text-muted" title={pairsLoaded ? `pair ${e.pairId}, deleted since` : undefined}>{pairsLoaded ? "deleted pair" : "…"}</span>
              ) : (
                <span className="text-muted">—</span>
              )}
            </td>
            <td className="px-3 py-1.5"><OutcomeBadge outcome={e.outcome} /></td>
            <td className="px-3 py-1.5 font-mono">{e.durationMs != null ? duration(e.durationMs) : ""}</td>
            <td className="px-3 py-1.5 text-right">
              <button
                type="button"
                className="rounded px-2 py-0.5 text-accent hover:underline"
                onClick={(ev) => {
                  ev.stopPropagation();
                  onSelect(e);
                }}
                aria-label={`Details of ${actionLabel(e.action) ?? e.action} at ${e.at}`}
              >
                Details
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
