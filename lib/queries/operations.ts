/**
 * Operations and their steps: every statement on the Operation and OperationStep tables lives here, each
 * defined once, returning domain records (OperationRecord, lib/controller/model.ts) or views. The API
 * reads; the controller creates, claims, records steps and finishes; a standby instance's API writes a
 * pending request. Every change that tells a story has its audit row in the same transaction.
 */
import { randomUUID } from "node:crypto";
import { db, Prisma } from "@/lib/db";
import { poolExec, type Exec } from "@/lib/db/connection";
import { isUniqueViolation } from "@/lib/db/errors";
import { notFound } from "@/lib/http/errors";
import type { OperationHistoryItem, OperationServerRef, OperationView, StepView } from "@/lib/views";
import { operationKindLabel } from "@/lib/operation-kinds";
import { operationDurationMs, vipMovingMs } from "@/lib/operation-timing";
import type { OperationFilter } from "@/lib/validation/operations";
import { csvCell, likePattern, utc } from "./audit";
import type { DriverRun } from "@/protocol/agent";
import {
  AUTOMATIC_FAILOVERS,
  CONTROLLER_ACTOR,
  type FinishedOp,
  type OperationKindName,
  type OperationParams,
  type OperationRecord,
  type PlannedStep,
  type StepRecord,
} from "@/lib/controller/model";
import { operationNotification } from "@/lib/notifications/events";
import { enqueueNotification } from "./notifications";
import { finishedDetails, type StateSummary } from "@/lib/controller/view";
import { audited, type AuditRunner } from "./tx";

// ---------------------------------------------------------------- mapping (rows → records → views)

type StepRow = Prisma.OperationStepGetPayload<object>;
type OpRow = Prisma.OperationGetPayload<object> & { steps?: StepRow[] };

const ms = (d: Date | null) => d?.getTime() ?? null;
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

function stepFromRow(s: StepRow): StepRecord {
  return {
    seq: s.seq,
    action: s.action as StepRecord["action"],
    targetServerId: s.targetServerId,
    targetHostId: s.targetHostId,
    target: s.target,
    status: s.status,
    startedAt: ms(s.startedAt),
    finishedAt: ms(s.finishedAt),
    ack: (s.ack as Record<string, unknown> | null) ?? null,
    output: Array.isArray(s.output) ? (s.output as DriverRun[]) : null,
    error: s.error,
  };
}

function fromRow(o: OpRow): OperationRecord {
  return {
    id: o.id,
    pairId: o.pairId,
    kind: o.kind,
    status: o.status,
    fromServerId: o.fromServerId,
    toServerId: o.toServerId,
    params: (o.params ?? {}) as OperationParams,
    requestedBy: o.requestedBy,
    reason: o.reason,
    decision: o.decision,
    error: o.error,
    createdAt: o.createdAt.getTime(),
    startedAt: ms(o.startedAt),
    finishedAt: ms(o.finishedAt),
    epoch: o.epoch,
    steps: [...(o.steps ?? [])].sort((a, b) => a.seq - b.seq).map(stepFromRow),
  };
}

function stepView(operationId: string, s: StepRecord): StepView {
  return {
    id: `${operationId}:${s.seq}`,
    seq: s.seq,
    action: s.action,
    target: s.target,
    status: s.status,
    startedAt: iso(s.startedAt),
    finishedAt: iso(s.finishedAt),
    durationMs: s.startedAt !== null && s.finishedAt !== null ? s.finishedAt - s.startedAt : null,
    output: s.output,
    error: s.error,
  };
}

/** The API's and the live channel's view of an operation (one mapping for both). */
export function operationView(o: OperationRecord): OperationView {
  return {
    id: o.id,
    pairId: o.pairId,
    kind: o.kind,
    status: o.status,
    requestedBy: o.requestedBy,
    reason: o.reason,
    decision: o.decision,
    error: o.error,
    createdAt: new Date(o.createdAt).toISOString(),
    startedAt: iso(o.startedAt),
    finishedAt: iso(o.finishedAt),
    fromServerId: o.fromServerId,
    toServerId: o.toServerId,
    steps: o.steps.map((s) => stepView(o.id, s)),
  };
}

function plannedRecords(steps: PlannedStep[]): StepRecord[] {
  return steps.map((s) => ({ ...s, status: "pending", startedAt: null, finishedAt: null, ack: null, output: null, error: null }));
}

const stepRows = (steps: PlannedStep[]) =>
  JSON.stringify(steps.map((s) => ({ seq: s.seq, action: s.action, targetServerId: s.targetServerId, targetHostId: s.targetHostId, target: s.target })));

const json = (v: unknown): Prisma.InputJsonValue | typeof Prisma.DbNull =>
  v === null || v === undefined ? Prisma.DbNull : (JSON.parse(JSON.stringify(v)) as Prisma.InputJsonValue);

// ---------------------------------------------------------------- reads

/** One row of the history as read (the operation, its pair's and servers' names). */
interface HistoryRow {
  id: string;
  pairId: string;
  pairName: string;
  kind: string;
  status: OperationRecord["status"];
  requestedBy: string;
  reason: string | null;
  decision: string | null;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  fromServerId: string | null;
  toServerId: string | null;
  params: Prisma.JsonValue;
  fromName: string | null;
  fromHost: string | null;
  fromAddress: string | null;
  toName: string | null;
  toHost: string | null;
  toAddress: string | null;
}

/** The WHERE clause of a history filter (+ the keyset bound of a page). Every value is a bound parameter. */
function historyWhere(f: OperationFilter, after?: { at: Date; id: string }, order: "desc" | "asc" = "desc"): Prisma.Sql {
  const c: Prisma.Sql[] = [];
  if (f.pairId) c.push(Prisma.sql`o."pairId" = ${f.pairId}::uuid`);
  // As text: a kind the database's enum lacks (an older schema) matches nothing instead of failing the cast.
  if (f.kind) c.push(Prisma.sql`o.kind::text IN (${Prisma.join(f.kind)})`);
  if (f.status) c.push(Prisma.sql`o.status::text IN (${Prisma.join(f.status)})`);
  if (f.requestedBy) c.push(Prisma.sql`o."requestedBy" = ${f.requestedBy}`);
  if (f.from) c.push(Prisma.sql`o."createdAt" >= ${utc(f.from)}`);
  if (f.to) c.push(Prisma.sql`o."createdAt" <= ${utc(f.to)}`);
  if (f.q) {
    const p = likePattern(f.q);
    c.push(
      Prisma.sql`(o.reason ILIKE ${p} ESCAPE '\\' OR o.decision ILIKE ${p} ESCAPE '\\' OR o.error ILIKE ${p} ESCAPE '\\' OR o."requestedBy" ILIKE ${p} ESCAPE '\\'
        OR p.name ILIKE ${p} ESCAPE '\\' OR fs.name ILIKE ${p} ESCAPE '\\' OR ts.name ILIKE ${p} ESCAPE '\\' OR fh.name ILIKE ${p} ESCAPE '\\' OR th.name ILIKE ${p} ESCAPE '\\'
        OR o.id::text = ${f.q.trim().toLowerCase()})`,
    );
  }
  if (after && order === "desc") c.push(Prisma.sql`(o."createdAt", o.id) < (${utc(after.at)}, ${after.id}::uuid)`);
  if (after && order === "asc") c.push(Prisma.sql`(o."createdAt", o.id) > (${utc(after.at)}, ${after.id}::uuid)`);
  return c.length ? Prisma.sql`WHERE ${Prisma.join(c, " AND ")}` : Prisma.empty;
}

/**
 * A page of the history with names (pair, servers, their hosts) and the steps' times, in two statements:
 * the rows (keyset on createdAt, id), then the steps of those rows.
 */
async function historyPage(f: OperationFilter, after: { at: Date; id: string } | undefined, order: "desc" | "asc", take: number): Promise<{ rows: HistoryRow[]; steps: Map<string, StepRow[]> }> {
  const dir = order === "asc" ? Prisma.sql`ASC` : Prisma.sql`DESC`;
  const rows = await db.$queryRaw<HistoryRow[]>`
    SELECT o.id::text AS id, o."pairId"::text AS "pairId", p.name AS "pairName", o.kind::text AS kind, o.status::text AS status,
           o."requestedBy", o.reason, o.decision, o.error, o."createdAt", o."startedAt", o."finishedAt", o.params,
           o."fromServerId"::text AS "fromServerId", o."toServerId"::text AS "toServerId",
           fs.name AS "fromName", fh.name AS "fromHost", fh.address AS "fromAddress",
           ts.name AS "toName", th.name AS "toHost", th.address AS "toAddress"
    FROM "Operation" o
    JOIN "Pair" p ON p.id = o."pairId"
    LEFT JOIN "Server" fs ON fs.id = o."fromServerId" AND fs."pairId" = o."pairId"
    LEFT JOIN "Host" fh ON fh.id = fs."hostId"
    LEFT JOIN "Server" ts ON ts.id = o."toServerId" AND ts."pairId" = o."pairId"
    LEFT JOIN "Host" th ON th.id = ts."hostId"
    ${historyWhere(f, after, order)}
    ORDER BY o."createdAt" ${dir}, o.id ${dir}
    LIMIT ${take}`;
  const steps = new Map<string, StepRow[]>();
  if (rows.length) {
    const all = await db.operationStep.findMany({ where: { operationId: { in: rows.map((r) => r.id) } }, orderBy: [{ operationId: "asc" }, { seq: "asc" }] });
    for (const s of all) steps.set(s.operationId, [...(steps.get(s.operationId) ?? []), s]);
  }
  return { rows, steps };
}

function serverRef(id: string | null, name: string | null, hostName: string | null, hostAddress: string | null): OperationServerRef | null {
  return id && name ? { id, name, hostName: hostName ?? "?", hostAddress: hostAddress ?? "" } : null;
}

function historyItem(r: HistoryRow, steps: StepRow[]): OperationHistoryItem & { stepViews: StepView[] } {
  const view = operationView(fromRow({ ...r, kind: r.kind as OperationKindName, epoch: null, activeKey: null, steps } as OpRow));
  return {
    ...view,
    steps: [],
    stepViews: view.steps,
    pairName: r.pairName,
    from: serverRef(r.fromServerId, r.fromName, r.fromHost, r.fromAddress),
    to: serverRef(r.toServerId, r.toName, r.toHost, r.toAddress),
    durationMs: operationDurationMs(view),
    vipMovingMs: vipMovingMs(view.steps),
    stepCount: steps.length,
  };
}

const cursorOf = (r: { createdAt: Date; id: string }) => `${r.createdAt.getTime()}.${r.id}`;

/**
 * The operations history over all pairs, newest first (createdAt, then id), filtered; keyset pages:
 * `nextCursor` names the page's last row (null on the last page). Items carry no steps (`steps: []`).
 */
export async function listOperations(q: OperationFilter & { cursor?: { at: Date; id: string }; limit: number }): Promise<{ operations: OperationHistoryItem[]; nextCursor: string | null }> {
  const { rows, steps } = await historyPage(q, q.cursor, "desc", q.limit + 1);
  const page = rows.slice(0, q.limit);
  return {
    operations: page.map((r) => {
      const { stepViews: _s, ...item } = historyItem(r, steps.get(r.id) ?? []);
      return item;
    }),
    nextCursor: rows.length > q.limit ? cursorOf(page[page.length - 1]) : null,
  };
}

/** A row of the export: names, never ids but the operation's own, and its steps in words. */
export interface OperationExportRow {
  id: string;
  kind: string;
  kindLabel: string;
  pair: string;
  status: string;
  requestedBy: string;
  reason: string | null;
  decision: string | null;
  from: string | null;
  fromHost: string | null;
  fromAddress: string | null;
  to: string | null;
  toHost: string | null;
  toAddress: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  vipMovingMs: number | null;
  stepCount: number;
  error: string | null;
  steps: { seq: number; action: string; target: string; status: string; startedAt: string | null; finishedAt: string | null; durationMs: number | null; error: string | null }[];
}

function exportRow(r: HistoryRow, steps: StepRow[]): OperationExportRow {
  const h = historyItem(r, steps);
  return {
    id: h.id,
    kind: h.kind,
    kindLabel: operationKindLabel(h.kind),
    pair: h.pairName,
    status: h.status,
    requestedBy: h.requestedBy,
    reason: h.reason,
    decision: h.decision,
    from: h.from?.name ?? null,
    fromHost: h.from?.hostName ?? null,
    fromAddress: h.from?.hostAddress ?? null,
    to: h.to?.name ?? null,
    toHost: h.to?.hostName ?? null,
    toAddress: h.to?.hostAddress ?? null,
    createdAt: h.createdAt,
    startedAt: h.startedAt,
    finishedAt: h.finishedAt,
    durationMs: h.durationMs,
    vipMovingMs: h.vipMovingMs,
    stepCount: h.stepCount,
    error: h.error,
    steps: h.stepViews.map(({ seq, action, target, status, startedAt, finishedAt, durationMs, error }) => ({ seq, action, target, status, startedAt, finishedAt, durationMs, error })),
  };
}

/** Every matching operation, oldest first, in batches (bounded memory for large exports). */
export async function* iterateOperations(f: OperationFilter, batch = 500): AsyncGenerator<OperationExportRow> {
  let after: { at: Date; id: string } | undefined;
  for (;;) {
    const { rows, steps } = await historyPage(f, after, "asc", batch);
    for (const r of rows) yield exportRow(r, steps.get(r.id) ?? []);
    if (rows.length < batch) return;
    const last = rows[rows.length - 1];
    after = { at: last.createdAt, id: last.id };
  }
}

/** The CSV export's columns (steps as one cell: "1 demote sip-1 on host-a1: succeeded (66 ms); 2 …"). */
export const OPERATION_CSV_COLUMNS = ["id", "kind", "kindLabel", "pair", "status", "requestedBy", "reason", "decision", "from", "fromHost", "fromAddress", "to", "toHost", "toAddress", "createdAt", "startedAt", "finishedAt", "durationMs", "vipMovingMs", "stepCount", "error", "steps"] as const;

export function operationCsvRow(r: OperationExportRow): string {
  const steps = r.steps.map((s) => `${s.seq} ${s.action} ${s.target}: ${s.status}${s.durationMs !== null ? ` (${s.durationMs} ms)` : ""}${s.error ? ` - ${s.error}` : ""}`).join("; ");
  return OPERATION_CSV_COLUMNS.map((c) => csvCell(c === "steps" ? steps : r[c])).join(",") + "\r\n";
}

export async function getOperation(id: string): Promise<OperationView> {
  const row = await db.operation.findUnique({ where: { id }, include: { steps: true } });
  if (!row) throw notFound("operation");
  return operationView(fromRow(row));
}

/** The operation holding the pair (its activeKey), if any. */
export function activeOperationOf(pairId: string): Promise<{ id: string; kind: string } | null> {
  return db.operation.findUnique({ where: { activeKey: pairId }, select: { id: true, kind: true } });
}

/** Every pending or running operation, oldest first (reconciled by a new leader). */
export async function loadUnfinishedOperations(): Promise<OperationRecord[]> {
  const rows = await db.operation.findMany({ where: { status: { in: ["pending", "running"] } }, include: { steps: true }, orderBy: { createdAt: "asc" } });
  return rows.map(fromRow);
}

/** A pending request as its notification announces it (no steps yet), or null once someone claimed it. */
export async function loadPendingOperation(id: string): Promise<OperationRecord | null> {
  const row = await db.operation.findFirst({ where: { id, status: "pending" } });
  return row ? fromRow(row) : null;
}

/** Per pair: the last finished operation (restarts aside), for the switchover_failed alarm. */
export async function loadLastFinished(): Promise<Map<string, FinishedOp>> {
  const rows = await db.$queryRaw<{ id: string; pairId: string; kind: OperationKindName; status: "succeeded" | "failed"; error: string | null; finishedAt: Date | null }[]>`
    SELECT DISTINCT ON ("pairId") id, "pairId", kind::text AS kind, status::text AS status, error, "finishedAt"
    FROM "Operation" WHERE status IN ('succeeded', 'failed') AND kind <> 'restart'
    ORDER BY "pairId", "finishedAt" DESC NULLS LAST`;
  return new Map(rows.map((r) => [r.pairId, { id: r.id, kind: r.kind, status: r.status, error: r.error, finishedAt: r.finishedAt?.getTime() ?? 0 }]));
}

/**
 * Per pair (or for one): when its automatic failovers were created — the last one (the dashboard), those
 * of the last 24 h, and where its hold-down counts from (the last one, unless an operator cleared the
 * hold-down after it): from the Operation rows, so a leader change keeps them.
 */
export async function loadAutoFailovers(pairId?: string): Promise<Map<string, AutoFailoverTimes>> {
  const rows = await db.$queryRaw<{ pairId: string; last: Date; recent: Date[] | null; cleared: Date | null }[]>`
    SELECT o."pairId", max(o."createdAt") AS last,
           array_agg(o."createdAt" ORDER BY o."createdAt" DESC) FILTER (WHERE o."createdAt" > now() - interval '24 hours') AS recent,
           (SELECT max(c."createdAt") FROM "Operation" c WHERE c."pairId" = o."pairId" AND c.kind = 'clear_holddown' AND c.status = 'succeeded') AS cleared
    FROM "Operation" o
    WHERE o.kind::text = ANY(${[...AUTOMATIC_FAILOVERS]}) AND (${pairId ?? null}::uuid IS NULL OR o."pairId" = ${pairId ?? null}::uuid)
    GROUP BY o."pairId"`;
  return new Map(
    rows.map((r) => [
      r.pairId,
      {
        last: r.last.getTime(),
        recent: (r.recent ?? []).slice(0, MAX_RECENT_FAILOVERS).map((d) => d.getTime()),
        holdDownFrom: r.cleared && r.cleared > r.last ? null : r.last.getTime(),
      },
    ]),
  );
}

/** Times (epoch ms) of a pair's automatic failovers: the last one, those of the last 24 h newest first, and the hold-down's start (null: cleared). */
export interface AutoFailoverTimes {
  last: number;
  recent: number[];
  holdDownFrom: number | null;
}
export const MAX_RECENT_FAILOVERS = 100;

// ---------------------------------------------------------------- creating and claiming

/**
 * THE statement that creates an operation: the Operation row (its activeKey = the pair, so the database
 * lets one per pair through) and its planned steps, atomically, in one round trip. Parameters in order:
 * id, pairId, kind, status, requestedBy, reason, decision, fromServerId, toServerId, epoch, createdAt,
 * startedAt, steps (JSON), params (JSON).
 */
const INSERT_OPERATION = `WITH op AS (
     INSERT INTO "Operation" (id, "pairId", kind, status, "requestedBy", reason, decision, "fromServerId", "toServerId", epoch, "activeKey", "createdAt", "startedAt", params)
     VALUES ($1::uuid, $2::uuid, $3::"OperationKind", $4::"OperationStatus", $5, $6, $7, $8::uuid, $9::uuid, $10, $2::uuid,
             ($11::timestamptz AT TIME ZONE 'UTC'), ($12::timestamptz AT TIME ZONE 'UTC'), $14::jsonb) RETURNING id)
   INSERT INTO "OperationStep" (id, "operationId", seq, action, "targetServerId", "targetHostId", target, status)
   SELECT gen_random_uuid(), op.id, s.seq, s.action, s."targetServerId"::uuid, s."targetHostId"::uuid, s.target, 'pending'
   FROM op, jsonb_to_recordset($13::jsonb) AS s(seq int, action text, "targetServerId" text, "targetHostId" text, target text)`;

export interface NewOperation {
  id?: string;
  /** When it was created (default: now; a journaled operation is written later with its own time). */
  at?: number;
  pairId: string;
  kind: OperationKindName;
  status: "pending" | "running";
  requestedBy: string;
  reason: string | null;
  decision: string | null;
  fromServerId: string | null;
  toServerId: string | null;
  /** An override's mode, a graceful stop (default: none). */
  params?: OperationParams;
  epoch: number | null;
  steps: PlannedStep[];
}

function insertParams(o: NewOperation, id: string, now: number): unknown[] {
  const at = new Date(now).toISOString();
  return [id, o.pairId, o.kind, o.status, o.requestedBy, o.reason, o.decision, o.fromServerId, o.toServerId, o.epoch, at, o.status === "running" ? at : null, stepRows(o.steps), JSON.stringify(o.params ?? {})];
}

function created({ at: _at, ...o }: NewOperation, id: string, now: number): OperationRecord {
  return { ...o, id, params: o.params ?? {}, error: null, createdAt: now, startedAt: o.status === "running" ? now : null, finishedAt: null, steps: plannedRecords(o.steps) };
}

/**
 * Creates an operation in one statement on `exec` (the controller's hot-path connection: this is what is
 * written in front of a failover's promote command). Null when another operation holds the pair.
 */
export async function insertOperation(o: NewOperation, exec: Exec = poolExec): Promise<OperationRecord | null> {
  const id = o.id ?? randomUUID();
  const now = o.at ?? Date.now();
  try {
    await exec(INSERT_OPERATION, insertParams(o, id, now));
  } catch (e) {
    if (isUniqueViolation(e)) return null;
    throw e;
  }
  return created(o, id, now);
}

/**
 * A switchover request, written with its `operation.requested` audit row in one transaction: as `running`
 * with its steps by the leader that starts it at once, or as `pending` (no steps) by an instance that
 * does not lead (the leader is told by the Operation trigger's pg_notify and claims it). Null when
 * another operation holds the pair.
 */
export async function insertRequestedOperation(
  o: NewOperation,
  request: { target: { id: string; name: string; hostName: string } | null; effect?: string | null },
): Promise<OperationRecord | null> {
  const id = o.id ?? randomUUID();
  const now = o.at ?? Date.now();
  try {
    await audited(async (tx, audit) => {
      await tx.$executeRawUnsafe(INSERT_OPERATION, ...insertParams(o, id, now));
      await audit({
        actor: o.requestedBy,
        action: "operation.requested",
        targetType: "operation",
        targetId: id,
        pairId: o.pairId,
        outcome: "success",
        details: { kind: o.kind, reason: o.reason, target: request.target, ...(request.effect ? { effect: request.effect } : {}), ...(o.params && Object.keys(o.params).length ? { params: o.params } : {}), ...(o.epoch !== null ? { epoch: o.epoch } : {}) },
      });
    });
  } catch (e) {
    if (isUniqueViolation(e)) return null;
    throw e;
  }
  return created(o, id, now);
}

/** Claims a pending request for this epoch and writes its planned steps, in one statement. Null if someone else did. */
export async function claimOperation(
  op: OperationRecord,
  claim: { epoch: number; fromServerId: string | null; toServerId: string | null; params: OperationParams; decision: string; steps: PlannedStep[] },
  exec: Exec = poolExec,
): Promise<OperationRecord | null> {
  const now = Date.now();
  const r = await exec(
    `WITH op AS (
       UPDATE "Operation" SET status = 'running', epoch = $2, "startedAt" = ($3::timestamptz AT TIME ZONE 'UTC'), "fromServerId" = $4, "toServerId" = $5, decision = $6, params = $8::jsonb
       WHERE id = $1 AND status = 'pending' RETURNING id)
     INSERT INTO "OperationStep" (id, "operationId", seq, action, "targetServerId", "targetHostId", target, status)
     SELECT gen_random_uuid(), op.id, s.seq, s.action, s."targetServerId"::uuid, s."targetHostId"::uuid, s.target, 'pending'
     FROM op, jsonb_to_recordset($7::jsonb) AS s(seq int, action text, "targetServerId" text, "targetHostId" text, target text)`,
    [op.id, claim.epoch, new Date(now).toISOString(), claim.fromServerId, claim.toServerId, claim.decision, stepRows(claim.steps), JSON.stringify(claim.params)],
  );
  if (r.rowCount !== claim.steps.length) return null;
  return { ...op, status: "running", epoch: claim.epoch, startedAt: now, fromServerId: claim.fromServerId, toServerId: claim.toServerId, params: claim.params, decision: claim.decision, steps: plannedRecords(claim.steps) };
}

// ---------------------------------------------------------------- records of a running operation (through the controller's AuditQueue)

/** An audit row about the operation (operation.decided / started / reconciled). */
export function recordOperationEvent(queue: AuditRunner, op: OperationRecord, action: "operation.decided" | "operation.started" | "operation.reconciled", details: Record<string, unknown>) {
  return queue.run(async (_tx, audit) => {
    await audit({
      actor: CONTROLLER_ACTOR,
      action,
      targetType: "operation",
      targetId: op.id,
      pairId: op.pairId,
      outcome: "info",
      details: { kind: op.kind, reason: op.decision ?? op.reason, ...details },
    });
  });
}

/** A step's row; once it has finished, its `operation.step.<action>` audit row with the ack and the driver runs. */
export function recordStep(queue: AuditRunner, op: OperationRecord, s: StepRecord, epoch: number) {
  return queue.run(async (tx, audit) => {
    await tx.operationStep.update({
      where: { operationId_seq: { operationId: op.id, seq: s.seq } },
      data: {
        status: s.status,
        startedAt: s.startedAt ? new Date(s.startedAt) : null,
        finishedAt: s.finishedAt ? new Date(s.finishedAt) : null,
        ack: json(s.ack),
        output: json(s.output),
        error: s.error,
      },
    });
    if (s.status === "running" || s.status === "pending") return;
    await audit({
      actor: CONTROLLER_ACTOR,
      action: `operation.step.${s.action}`,
      targetType: "operation",
      targetId: op.id,
      pairId: op.pairId,
      outcome: s.status === "succeeded" ? "success" : s.status === "failed" ? "failure" : "info",
      durationMs: s.startedAt && s.finishedAt ? s.finishedAt - s.startedAt : undefined,
      details: { seq: s.seq, step: s.action, target: s.target, status: s.status, error: s.error, ack: s.ack, runs: s.output, epoch },
    });
  });
}

/** Steps appended to the plan (a failed switchover's recovery). */
export function recordAddedSteps(queue: AuditRunner, op: OperationRecord, steps: PlannedStep[]) {
  return queue.run(async (tx) => {
    await tx.$executeRawUnsafe(
      `INSERT INTO "OperationStep" (id, "operationId", seq, action, "targetServerId", "targetHostId", target, status)
       SELECT gen_random_uuid(), $1::uuid, s.seq, s.action, s."targetServerId"::uuid, s."targetHostId"::uuid, s.target, 'pending'
       FROM jsonb_to_recordset($2::jsonb) AS s(seq int, action text, "targetServerId" text, "targetHostId" text, target text)`,
      op.id,
      stepRows(steps),
    );
  });
}

/**
 * Final status, the pair's activeKey released, and `operation.finished` with the details the UI's drawer
 * renders (finishedDetails). Steps still pending are recorded skipped (`skipReason`) in the same transaction.
 */
export function recordFinish(
  queue: AuditRunner,
  op: OperationRecord,
  end: { status: "succeeded" | "failed"; error: string | null; finishedAt: number; epoch: number; before: StateSummary | null; after: StateSummary | null; skipReason?: string },
) {
  return queue.run(async (tx, audit) => {
    await tx.operation.update({ where: { id: op.id }, data: { status: end.status, error: end.error, finishedAt: new Date(end.finishedAt), activeKey: null, epoch: op.epoch ?? end.epoch } });
    if (end.skipReason) {
      await tx.operationStep.updateMany({ where: { operationId: op.id, status: { in: ["pending", "running"] } }, data: { status: "skipped", error: end.skipReason } });
    }
    const steps = end.skipReason ? op.steps.map((s) => (s.status === "pending" || s.status === "running" ? { ...s, status: "skipped" as const, error: end.skipReason! } : s)) : op.steps;
    await audit({
      actor: CONTROLLER_ACTOR,
      action: "operation.finished",
      targetType: "operation",
      targetId: op.id,
      pairId: op.pairId,
      outcome: end.status === "succeeded" ? "success" : "failure",
      durationMs: op.startedAt !== null ? end.finishedAt - op.startedAt : undefined,
      details: finishedDetails({ ...op, steps }, end.status, end.error, end.epoch, end.before, end.after),
    });
    await enqueueNotification(tx, operationNotification(op, end));
  });
}

/** "No action": the controller's explained non-action (maintenance, hold-down, no backup), once per change. */
export function recordNoAction(queue: AuditRunner, pairId: string, reason: string, epoch: number) {
  return queue.run(async (_tx, audit) => {
    await audit({ actor: CONTROLLER_ACTOR, action: "decision", targetType: "pair", targetId: pairId, pairId, outcome: "info", details: { reason, action: null, epoch } });
  });
}

/** A switchover request refused by its preflight (written before the 409; not on any hot path). */
export async function recordRefusal(pairId: string, actor: string, details: { kind: string; request: unknown; reason: string | null; failed: unknown[] }): Promise<void> {
  await audited((_tx, audit) => audit({ actor, action: "operation.refused", targetType: "pair", targetId: pairId, pairId, outcome: "denied", details }));
}
