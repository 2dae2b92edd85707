/** Operations, read side (the controller writes them). */
import { db } from "@/lib/db";
import { notFound } from "@/lib/http/errors";
import type { OperationView, StepView } from "@/lib/views";
import type { DriverRun } from "@/protocol/agent";

type OpRow = {
  id: string;
  pairId: string;
  kind: string;
  status: string;
  requestedBy: string;
  reason: string | null;
  decision: string | null;
  error: string | null;
  fromServerId: string | null;
  toServerId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
};

type StepRow = {
  id: string;
  seq: number;
  action: string;
  target: string;
  status: string;
  startedAt: Date | null;
  finishedAt: Date | null;
  output: unknown;
  error: string | null;
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toStepView(s: StepRow): StepView {
  return {
    id: s.id,
    seq: s.seq,
    action: s.action,
    target: s.target,
    status: s.status as StepView["status"],
    startedAt: iso(s.startedAt),
    finishedAt: iso(s.finishedAt),
    durationMs: s.startedAt && s.finishedAt ? s.finishedAt.getTime() - s.startedAt.getTime() : null,
    output: Array.isArray(s.output) ? (s.output as DriverRun[]) : null,
    error: s.error,
  };
}

export function toOperationView(op: OpRow, steps: StepRow[] = []): OperationView {
  return {
    id: op.id,
    pairId: op.pairId,
    kind: op.kind,
    status: op.status,
    requestedBy: op.requestedBy,
    reason: op.reason,
    decision: op.decision,
    error: op.error,
    createdAt: op.createdAt.toISOString(),
    startedAt: iso(op.startedAt),
    finishedAt: iso(op.finishedAt),
    fromServerId: op.fromServerId,
    toServerId: op.toServerId,
    steps: [...steps].sort((a, b) => a.seq - b.seq).map(toStepView),
  };
}

/** Newest first; list items carry no steps (`steps: []`), fetch one operation for its steps. */
export async function listOperations(q: { pairId?: string; limit: number }): Promise<OperationView[]> {
  const rows = await db.operation.findMany({
    where: q.pairId ? { pairId: q.pairId } : {},
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: q.limit,
  });
  return rows.map((r) => toOperationView(r));
}

export async function getOperation(id: string): Promise<OperationView> {
  const row = await db.operation.findUnique({ where: { id }, include: { steps: true } });
  if (!row) throw notFound("operation");
  return toOperationView(row, row.steps);
}
