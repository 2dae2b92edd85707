/**
 * Reading an audit event's details (pure): its steps as the timeline's StepView, its servers' state
 * before and after. The shapes are the server's: lib/controller/view.ts (finishedDetails, StateSummary).
 */
import type { StateSummary } from "@/lib/controller/view";
import type { AuditSummary } from "@/lib/realtime/events";
import type { StepView } from "@/lib/views";
import type { DriverRun } from "@/protocol/agent";

function isRun(x: unknown): x is DriverRun {
  return !!x && typeof x === "object" && "driver" in x && "action" in x && "durationMs" in x;
}

export const str = (v: unknown): string | null => (typeof v === "string" && v ? v : null);
export const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
/** The step statuses StepView declares (lib/views.ts); anything else in an old row reads as skipped. */
const STEP_STATUSES: Record<StepView["status"], true> = { pending: true, running: true, succeeded: true, failed: true, skipped: true };
const stepStatus = (v: unknown): StepView["status"] => (typeof v === "string" && v in STEP_STATUSES ? (v as StepView["status"]) : "skipped");

/**
 * Steps recorded in an audit event, as the timeline's StepView. Current `operation.finished` rows carry
 * objects ({ seq, action, target, status, startedAt, finishedAt, durationMs, error, runs }); older rows
 * carry lines like "1 demote succeeded"; `operation.step.*` rows are one step ({ seq, step, target, status,
 * error, runs }).
 */
export function auditSteps(event: AuditSummary): StepView[] {
  const d = (event.details ?? {}) as Record<string, unknown>;
  const fromObject = (x: Record<string, unknown>, i: number, durationMs: number | null = null): StepView => ({
    id: `${event.id}-${i}`,
    seq: num(x.seq) ?? i + 1,
    action: str(x.action) ?? str(x.step) ?? "step",
    target: str(x.target) ?? "",
    status: stepStatus(x.status),
    startedAt: str(x.startedAt),
    finishedAt: str(x.finishedAt),
    durationMs: num(x.durationMs) ?? durationMs,
    output: Array.isArray(x.runs) ? x.runs.filter(isRun) : Array.isArray(x.output) ? x.output.filter(isRun) : null,
    error: str(x.error),
  });
  if (Array.isArray(d.steps)) {
    return d.steps.map((x, i) => {
      if (x && typeof x === "object") return fromObject(x as Record<string, unknown>, i);
      const line = String(x);
      const m = /^(\d+)\s+(\S+)\s*(\S*)/.exec(line);
      return fromObject({ seq: m ? Number(m[1]) : i + 1, action: m?.[2] ?? line, status: m?.[3] || "skipped" }, i);
    });
  }
  if (event.action.startsWith("operation.step.") && (typeof d.step === "string" || Array.isArray(d.runs))) {
    return [fromObject(d, 0, event.durationMs)];
  }
  return [];
}

/** The before/after state of an operation's servers, as the controller writes it (lib/controller/view.ts). */
export function serverStates(v: unknown): StateSummary | null {
  if (!Array.isArray(v) || !v.every((x) => x && typeof x === "object" && typeof (x as { server?: unknown }).server === "string")) return null;
  return (v as Record<string, unknown>[]).map((x) => ({
    server: String(x.server),
    host: str(x.host) ?? "—",
    processState: str(x.processState) ?? "unknown",
    mode: str(x.mode) ?? "unknown",
    vip: str(x.vip) ?? "unknown",
  }));
}

