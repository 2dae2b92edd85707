"use client";
/**
 * The live step timeline of one operation: each step with its status (icon + word), duration and
 * expandable script output, then a clear ending: success, or failure with what to do next.
 */
import { useEffect, useState } from "react";
import type { OperationView, PairView, StepView } from "@/lib/views";
import { duration, elapsedMs, operationKind, stepTitle, type PairHosts } from "./format";
import { Badge, Icon, OpStatusBadge } from "./status";
import { Time } from "./Time";

function useTick(active: boolean) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

function StepIcon({ status }: { status: StepView["status"] }) {
  const cls = "size-5 shrink-0";
  if (status === "succeeded") return <span className="text-ok"><Icon name="check" className={cls} /></span>;
  if (status === "failed") return <span className="text-bad"><Icon name="x" className={cls} /></span>;
  if (status === "running") return <span className="text-info sy-pulse"><Icon name="clock" className={cls} /></span>;
  if (status === "skipped") return <span className="text-idle"><Icon name="dot" className={cls} /></span>;
  return <span className="text-idle"><Icon name="question" className={cls} /></span>;
}

function Output({ step }: { step: StepView }) {
  const runs = step.output ?? [];
  if (!runs.length && !step.error) return null;
  return (
    <details className="mt-1 text-xs">
      <summary className="cursor-pointer select-none text-muted hover:text-fg">
        Script output ({runs.length} run{runs.length === 1 ? "" : "s"})
      </summary>
      <div className="mt-1 flex flex-col gap-2">
        {runs.map((r, i) => (
          <div key={i} className="rounded border border-line bg-bg p-2">
            <div className="mb-1 flex flex-wrap gap-2 text-muted">
              <span className="font-semibold text-fg">
                {r.kind} · {r.driver} · {r.action} {r.target}
              </span>
              {r.exitCode != null ? <span>exit {r.exitCode}</span> : r.signal ? <span>killed by {r.signal}</span> : null}
              <span>{duration(r.durationMs)}</span>
              {r.timedOut && <Badge tone="bad">timed out</Badge>}
              {r.ok ? <Badge tone="ok" icon="check">ok</Badge> : <Badge tone="bad" icon="x">failed</Badge>}
            </div>
            {r.stdout && <pre className="max-h-48 overflow-auto whitespace-pre-wrap font-mono text-[11px]">{r.stdout}</pre>}
            {r.stderr && <pre className="max-h-48 overflow-auto whitespace-pre-wrap font-mono text-[11px] text-bad">{r.stderr}</pre>}
            {!r.stdout && !r.stderr && <p className="text-muted">(no output)</p>}
          </div>
        ))}
      </div>
    </details>
  );
}

/** Advice for the step that failed, in the words of the source document's workflow. */
export function nextSteps(op: OperationView, pair?: PairView | null): string {
  const failed = op.steps.find((s) => s.status === "failed");
  const host1 = pair?.servers[0].hostName ?? "host 1";
  const target = failed?.target ?? "";
  switch (failed?.action) {
    case "demote":
      return `The primary did not go to backup, so nothing was moved and the VIP stayed where it was. Check the SIP Server and its agent (${target}) on the Hosts page, then try the switchover again once the preflight checks pass.`;
    case "vip_disable":
      return `The VIP could not be confirmed off (${target}). Do not enable it elsewhere by hand until it is off: open the script output above, fix the cause on that host, then retry.`;
    case "promote":
      return `The backup did not become primary (${target}). The pair may have no primary: check the Alarms page and the SIP Server's process on the Hosts page; retry the switchover or restart the server.`;
    case "vip_enable":
      return `The VIP was not enabled (${target}): calls to the VIP may be failing. Open the script output above, fix the cause (interface, permissions, address conflict), then retry the switchover.`;
    case "verify":
      return `The steps ran but the final check failed. Look at the pair's status above and its alarms; if the VIP answers from the right host the pair recovers by itself, otherwise retry.`;
    default:
      return op.error
        ? `Read the error above, check the Alarms and Hosts pages (agent links on ${host1} and its peer), then retry when the preflight checks pass.`
        : "Check the Alarms and Hosts pages, then retry when the preflight checks pass.";
  }
}

/**
 * The steps of an operation, in order: status icon and word, the step's title naming its host ("Host 1",
 * "Host 2" of the pair, as the source document's figure), duration (live while running), error, and the
 * expandable script output. A step that is the previous one's effect on the same host (demote → that
 * host's VIP disabled; promote → that host's VIP enabled) is drawn as its consequence. Shared by the live
 * timeline and the audit drawer.
 */
export function StepList({
  steps,
  pair,
  now = Date.now(),
  compact = false,
  emptyText = "No steps recorded.",
}: {
  steps: StepView[];
  pair?: PairHosts | null;
  now?: number;
  compact?: boolean;
  emptyText?: string;
}) {
  return (
    <ol className="flex flex-col" aria-label="Steps">
      {steps.length === 0 && <li className="text-sm text-muted">{emptyText}</li>}
      {steps.map((s, i) => {
        const t = stepTitle(s, steps[i - 1], pair);
        return (
          <li key={s.id} data-testid="operation-step" data-action={s.action} data-status={s.status} data-follows={String(t.follows)} className="relative flex gap-3 pb-3">
            {i < steps.length - 1 && <span aria-hidden className="absolute left-[9px] top-6 h-[calc(100%-20px)] w-0.5 bg-line" />}
            <StepIcon status={s.status} />
            <div className={`min-w-0 flex-1 ${t.follows ? "border-l-2 border-line pl-2" : ""}`}>
              <div className="flex flex-wrap items-baseline gap-x-3">
                <div className="flex min-w-[min(100%,15rem)] flex-1 flex-wrap items-baseline gap-x-2">
                  <span className="font-semibold" data-testid="step-title">
                    {i + 1}. {t.follows && <span aria-label="then, as a result:" className="text-muted">↳ </span>}
                    {t.title}
                  </span>
                  {t.detail && <span className="break-words text-sm text-muted">{t.detail}</span>}
                </div>
                <span className="ml-auto flex shrink-0 items-baseline gap-3">
                  <span className={`text-xs font-semibold uppercase ${s.status === "failed" ? "text-bad" : "text-muted"}`}>{s.status}</span>
                  <span className="w-16 text-right font-mono text-sm" data-testid="step-duration">
                    {s.durationMs != null ? duration(s.durationMs) : s.status === "running" ? duration(elapsedMs(s.startedAt, null, now)) : ""}
                  </span>
                </span>
              </div>
              {s.error && <p className="text-sm text-bad">{s.error}</p>}
              {!compact && <Output step={s} />}
            </div>
          </li>
        );
      })}
    </ol>
  );
}

export function OperationTimeline({ op, pair, compact = false }: { op: OperationView; pair?: PairView | null; compact?: boolean }) {
  const active = op.status === "running" || op.status === "pending";
  const now = useTick(active);
  const total = elapsedMs(op.startedAt ?? op.createdAt, op.finishedAt, now);
  const to = pair?.servers.find((s) => s.id === op.toServerId);
  return (
    <div data-testid="operation-timeline" data-status={op.status} data-operation={op.id} className="flex flex-col gap-3">
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <span className="font-bold">{operationKind(op.kind)}</span>
        <OpStatusBadge status={op.status} />
        <span className="text-muted">
          by {op.requestedBy} · <Time iso={op.createdAt} /> · {active ? "running for " : "took "}
          <span data-testid="operation-duration">{duration(total)}</span>
        </span>
      </div>
      {!compact && (op.reason || op.decision) && (
        <p className="text-sm text-muted">
          {op.reason && <>Reason: <span className="text-fg">{op.reason}</span> </>}
          {op.decision && <>Decision: <span className="text-fg">{op.decision}</span></>}
        </p>
      )}
      <StepList steps={op.steps} pair={pair} now={now} compact={compact} emptyText={active ? "Waiting for the controller to start…" : "No steps recorded."} />
      {op.status === "succeeded" && (
        <div role="status" data-testid="operation-result" className="flex items-start gap-2 rounded-md border border-ok/50 bg-ok-bg px-3 py-2 text-sm text-ok">
          <Icon name="check" className="mt-0.5 size-4 shrink-0" />
          <span className="font-semibold">
            Done in {duration(total)}.{to ? ` ${to.name} on ${to.hostName} is primary and holds the VIP.` : ""}
          </span>
        </div>
      )}
      {op.status === "failed" && (
        <div role="alert" data-testid="operation-result" className="flex flex-col gap-1 rounded-md border border-bad/50 bg-bad-bg px-3 py-2 text-sm text-bad">
          <span className="flex items-center gap-2 font-bold">
            <Icon name="x" className="size-4 shrink-0" /> {operationKind(op.kind)} failed{op.error ? `: ${op.error}` : "."}
          </span>
          <span className="text-fg">
            <span className="font-semibold">What to do next: </span>
            {nextSteps(op, pair)}
          </span>
        </div>
      )}
    </div>
  );
}

const OP_RANK: Record<string, number> = { pending: 0, running: 1, succeeded: 2, failed: 2 };
const STEP_RANK: Record<string, number> = { pending: 0, running: 1, succeeded: 2, failed: 2, skipped: 2 };
const progress = (o: OperationView) => o.steps.reduce((n, s) => n + (STEP_RANK[s.status] ?? 0), 0);

/**
 * Live events and fetches race: a GET answered before the last event may arrive after it. Keep whichever
 * of the two is further along, so an operation never goes back from "succeeded" to "running".
 */
export function laterOp(prev: OperationView | null | undefined, next: OperationView): OperationView {
  if (!prev || prev.id !== next.id) return next;
  const a = OP_RANK[prev.status] ?? 0;
  const b = OP_RANK[next.status] ?? 0;
  if (b < a) return prev;
  if (b === a && progress(next) < progress(prev)) return prev;
  return next.steps.length === 0 && prev.steps.length > 0 ? { ...next, steps: prev.steps } : next;
}
