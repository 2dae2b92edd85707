"use client";
/**
 * The audit event's detail drawer: operation, result, reason, decision, error, the steps in the pair
 * view's timeline, a before → after table per SIP Server, other details as JSON, the hashes folded away.
 */
import Link from "next/link";
import { Fragment } from "react";
import { Dialog } from "radix-ui";
import type { StateSummary } from "@/lib/controller/view";
import type { AuditSummary } from "@/lib/realtime/events";
import type { PairDto } from "@/lib/views";
import { duration, operationKind } from "../format";
import { StepList } from "../OperationTimeline";
import { ModeBadge, OpStatusBadge, OutcomeBadge, ProcessBadge, VipBadge } from "../status";
import { Time } from "../Time";
import { Button } from "../ui";
import { auditSteps, num, serverStates, str } from "./audit-details";

/** Before → after, one row per SIP Server; changed values are marked (bold, with an arrow and a word). */
function BeforeAfter({ before, after }: { before: StateSummary; after: StateSummary }) {
  const names = [...new Set([...before, ...after].map((s) => s.server))];
  const cols = [
    { key: "processState", label: "Process", badge: (v: string) => <ProcessBadge state={v} /> },
    { key: "mode", label: "Mode", badge: (v: string) => <ModeBadge mode={v} /> },
    { key: "vip", label: "VIP", badge: (v: string) => <VipBadge observed={v} /> },
  ] as const;
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm" data-testid="audit-before-after">
        <caption className="sr-only">State of each SIP Server before and after the operation</caption>
        <thead className="text-xs uppercase text-muted">
          <tr>
            <th className="py-1 pr-3">Server</th>
            {cols.map((c) => (
              <th key={c.key} className="py-1 pr-3">{c.label}: before → after</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {names.map((n) => {
            const b = before.find((s) => s.server === n);
            const a = after.find((s) => s.server === n);
            return (
              <tr key={n} className="border-t border-line align-top" data-testid="audit-server-state" data-server={n}>
                <th scope="row" className="py-1.5 pr-3 font-semibold">
                  {n}
                  <div className="text-xs font-normal text-muted">{a?.host ?? b?.host}</div>
                </th>
                {cols.map((c) => {
                  const bv = b?.[c.key];
                  const av = a?.[c.key];
                  const changed = bv !== av;
                  return (
                    <td key={c.key} className="py-1.5 pr-3" data-changed={String(changed)}>
                      <div className="flex flex-wrap items-center gap-1">
                        {bv ? c.badge(bv) : <span className="text-muted">—</span>}
                        {changed && (
                          <>
                            <span aria-label="changed to" className="font-bold">→</span>
                            {av ? c.badge(av) : <span className="text-muted">—</span>}
                          </>
                        )}
                        {!changed && <span className="text-xs text-muted">unchanged</span>}
                      </div>
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function JsonBlock({ value, className = "max-h-64" }: { value: unknown; className?: string }) {
  return <pre className={`overflow-auto whitespace-pre-wrap break-words rounded bg-bg p-2 font-mono text-xs ${className}`}>{JSON.stringify(value ?? null, null, 2)}</pre>;
}

const SHOWN_KEYS = new Set(["steps", "before", "after", "kind", "status", "error", "reason", "decision", "epoch", "runs", "step", "seq", "target"]);

/** `pair`: the event's pair (its name and its hosts, so that steps say "Host 1" and "Host 2"), if it still exists. */
export function AuditDrawer({ event, label, pair, onClose }: { event: AuditSummary | null; label?: string; pair?: PairDto; onClose: () => void }) {
  const pairName = pair?.name;
  const d = (event?.details ?? {}) as Record<string, unknown>;
  const steps = event ? auditSteps(event) : [];
  const before = serverStates(d.before);
  const after = serverStates(d.after);
  const rest = Object.fromEntries(Object.entries(d).filter(([k]) => !SHOWN_KEYS.has(k) || (k === "before" && !before) || (k === "after" && !after)));
  const kind = str(d.kind);
  const facts: [string, React.ReactNode][] = [];
  if (kind) facts.push(["Operation", <>{operationKind(kind)} <span className="font-mono text-xs text-muted">{kind}</span></>]);
  if (str(d.status)) facts.push(["Result", <OpStatusBadge key="s" status={String(d.status)} />]);
  if (str(d.reason)) facts.push(["Reason", d.reason as string]);
  if (str(d.decision)) facts.push(["Decision", d.decision as string]);
  if (num(d.epoch) != null) facts.push(["Controller epoch", <span key="e" className="font-mono">{String(d.epoch)}</span>]);
  return (
    <Dialog.Root open={!!event} onOpenChange={(o) => !o && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-black/50" />
        <Dialog.Content className="fixed inset-y-0 right-0 z-50 flex w-[min(720px,100vw)] flex-col gap-4 overflow-y-auto border-l border-line bg-surface p-5 shadow-2xl" data-testid="audit-drawer">
          {event && (
            <>
              <div className="flex items-start justify-between gap-3">
                <div>
                  <Dialog.Title className="font-mono text-lg font-bold">{event.action}</Dialog.Title>
                  <Dialog.Description className="text-sm text-muted">
                    {label && <span className="block font-semibold text-fg">{label}</span>}
                    Event #{event.id} by {event.actor} · <Time iso={event.at} />
                  </Dialog.Description>
                </div>
                <Dialog.Close asChild>
                  <Button variant="ghost" aria-label="Close details">✕</Button>
                </Dialog.Close>
              </div>
              <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5 text-sm">
                <dt className="text-muted">Outcome</dt>
                <dd><OutcomeBadge outcome={event.outcome} /></dd>
                <dt className="text-muted">Pair</dt>
                <dd>{event.pairId ? <Link className="text-accent hover:underline" href={`/pairs/${event.pairId}`}>{pairName ?? "a deleted pair"}</Link> : "—"}</dd>
                {facts.map(([k, v]) => (
                  <Fragment key={k}>
                    <dt className="text-muted">{k}</dt>
                    <dd>{v}</dd>
                  </Fragment>
                ))}
                <dt className="text-muted">Target</dt>
                <dd className="break-all">
                  {event.targetType ?? "—"}{" "}
                  {event.targetType === "pair" && event.targetId === event.pairId && pairName ? (
                    pairName
                  ) : event.targetType === "operation" && kind ? (
                    <span title={event.targetId ?? undefined}>{operationKind(kind)}{pairName ? ` of ${pairName}` : ""}</span>
                  ) : (
                    <span className="font-mono text-xs">{event.targetId ?? ""}</span>
                  )}
                </dd>
                <dt className="text-muted">Duration</dt>
                <dd className="font-mono">{event.durationMs != null ? duration(event.durationMs) : "—"}</dd>
              </dl>
              {str(d.error) && (
                <p role="note" className="rounded-md border border-bad/50 bg-bad-bg px-3 py-2 text-sm text-bad" data-testid="audit-error">
                  <span className="font-bold">Error: </span>
                  {d.error as string}
                </p>
              )}
              {steps.length > 0 && (
                <section aria-labelledby="audit-steps-title" data-testid="audit-steps">
                  <h3 id="audit-steps-title" className="mb-2 text-sm font-bold uppercase text-muted">Steps</h3>
                  <StepList steps={steps} pair={pair} />
                </section>
              )}
              {before && after && (
                <section aria-labelledby="audit-ba-title">
                  <h3 id="audit-ba-title" className="mb-1 text-sm font-bold uppercase text-muted">Before → after</h3>
                  <BeforeAfter before={before} after={after} />
                </section>
              )}
              {Object.keys(rest).length > 0 && (
                <section>
                  <h3 className="mb-1 text-sm font-bold uppercase text-muted">{facts.length || steps.length ? "Other details" : "Details"}</h3>
                  <JsonBlock value={rest} className="max-h-96" />
                </section>
              )}
              <details className="text-xs">
                <summary className="cursor-pointer text-muted hover:text-fg">Hash chain</summary>
                <dl className="mt-1 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1">
                  <dt className="text-muted">Hash</dt>
                  <dd className="break-all font-mono">{event.hash}</dd>
                  <dt className="text-muted">Previous</dt>
                  <dd className="break-all font-mono">{event.prevHash}</dd>
                </dl>
              </details>
            </>
          )}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
