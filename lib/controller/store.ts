/**
 * The controller's database side: configuration, operations and their steps, alarms, observed status.
 * Every state change is written with its audit row in the same transaction; broadcasts happen after commit.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { db, getPool, Prisma } from "@/lib/db";
import { appendAudit, type AuditInput } from "@/lib/audit";
import { publishAlarm, publishAudit, publishOperation } from "@/lib/realtime/publish";
import type { AlarmJson } from "@/lib/realtime/events";
import type { OperationView, StepView } from "@/lib/views";
import type { AlarmSpec } from "./decide";
import { alarmKey } from "./decide";
import type { ActiveOp, FinishedOp, HostCfg, OperationKindName, PairCfg } from "./model";
import type { PlannedStep } from "./plan";
import type { RunnableOp, StepRecord } from "./runner";
import { finishedDetails, type StateSummary } from "./view";

export const CONTROLLER_ACTOR = "controller";

const json = (v: unknown): Prisma.InputJsonValue | typeof Prisma.DbNull =>
  v === null || v === undefined ? Prisma.DbNull : (JSON.parse(JSON.stringify(v)) as Prisma.InputJsonValue);

export async function loadConfig(): Promise<{ hosts: HostCfg[]; pairs: PairCfg[] }> {
  const [hosts, pairs] = await Promise.all([
    db.host.findMany({ orderBy: { name: "asc" } }),
    db.pair.findMany({ include: { servers: { include: { host: true } } }, orderBy: { name: "asc" } }),
  ]);
  const out: PairCfg[] = [];
  for (const p of pairs) {
    const prim = p.servers.find((s) => s.configuredRole === "primary");
    const back = p.servers.find((s) => s.configuredRole === "backup");
    if (!prim || !back) continue; // incomplete pair: nothing to control yet
    const srv = (s: typeof prim) => ({ id: s.id, name: s.name, hostId: s.hostId, hostName: s.host.name, appName: s.appName, configuredRole: s.configuredRole });
    out.push({
      id: p.id,
      name: p.name,
      vipAddress: p.vipAddress,
      vipPrefix: p.vipPrefix,
      vipInterface: p.vipInterface,
      autoFailover: p.autoFailover,
      disconnectGraceSeconds: p.disconnectGraceSeconds,
      heartbeatTimeoutMs: p.heartbeatTimeoutMs,
      autoRestart: p.autoRestart,
      holdDownSeconds: p.holdDownSeconds,
      maintenance: p.maintenance,
      servers: [srv(prim), srv(back)],
    });
  }
  return {
    hosts: hosts.map((h) => ({ id: h.id, name: h.name, address: h.address, agentUrl: h.agentUrl, agentToken: h.agentToken })),
    pairs: out,
  };
}

export interface LoadedOp extends RunnableOp {
  status: "pending" | "running" | "succeeded" | "failed";
  requestedBy: string;
  reason: string | null;
  decision: string | null;
  createdAt: number;
  startedAt: number | null;
  epoch: number | null;
}

type OpRow = Prisma.OperationGetPayload<{ include: { steps: true } }>;

function stepFromRow(s: OpRow["steps"][number]): StepRecord {
  return {
    seq: s.seq,
    action: s.action as StepRecord["action"],
    targetServerId: s.targetServerId,
    targetHostId: s.targetHostId,
    target: s.target,
    status: s.status,
    startedAt: s.startedAt?.getTime() ?? null,
    finishedAt: s.finishedAt?.getTime() ?? null,
    ack: (s.ack as Record<string, unknown> | null) ?? null,
    output: (s.output as StepRecord["output"]) ?? null,
    error: s.error,
  };
}

function opFromRow(o: OpRow): LoadedOp {
  return {
    id: o.id,
    pairId: o.pairId,
    kind: o.kind,
    status: o.status,
    fromServerId: o.fromServerId,
    toServerId: o.toServerId,
    requestedBy: o.requestedBy,
    reason: o.reason,
    decision: o.decision,
    createdAt: o.createdAt.getTime(),
    startedAt: o.startedAt?.getTime() ?? null,
    epoch: o.epoch,
    steps: o.steps.sort((a, b) => a.seq - b.seq).map(stepFromRow),
  };
}

export async function loadOperation(id: string): Promise<LoadedOp | null> {
  const o = await db.operation.findUnique({ where: { id }, include: { steps: true } });
  return o ? opFromRow(o) : null;
}

export async function loadUnfinishedOperations(): Promise<LoadedOp[]> {
  const rows = await db.operation.findMany({ where: { status: { in: ["pending", "running"] } }, include: { steps: true }, orderBy: { createdAt: "asc" } });
  return rows.map(opFromRow);
}

export async function loadLastFinished(): Promise<Map<string, FinishedOp>> {
  const rows = await db.$queryRaw<{ id: string; pairId: string; kind: OperationKindName; status: "succeeded" | "failed"; error: string | null; finishedAt: Date | null }[]>`
    SELECT DISTINCT ON ("pairId") id, "pairId", kind::text AS kind, status::text AS status, error, "finishedAt"
    FROM "Operation" WHERE status IN ('succeeded', 'failed') AND kind <> 'restart'
    ORDER BY "pairId", "finishedAt" DESC NULLS LAST`;
  return new Map(rows.map((r) => [r.pairId, { id: r.id, kind: r.kind, status: r.status, error: r.error, finishedAt: r.finishedAt?.getTime() ?? 0 }]));
}

export function toActiveOp(o: LoadedOp): ActiveOp {
  return { id: o.id, kind: o.kind, status: o.status === "pending" ? "pending" : "running", createdAt: o.createdAt, requestedBy: o.requestedBy };
}

function stepRows(steps: PlannedStep[]) {
  return steps.map((s) => ({ seq: s.seq, action: s.action, targetServerId: s.targetServerId, targetHostId: s.targetHostId, target: s.target }));
}

/**
 * The one write in front of an automatic action: the Operation (running, with the epoch) and its planned
 * steps, in one transaction. The audit row of the decision follows off the hot path (recordDecision).
 * Returns null when another operation holds the pair (unique activeKey).
 */
/** Runs one statement: the term's dedicated hot-path connection when it has one (HotConnection), else the pool. */
export type Exec = (text: string, values: unknown[]) => Promise<{ rowCount: number | null }>;
const poolExec: Exec = (text, values) => getPool().query(text, values);

/**
 * A connection of the leader's term kept for the statements in front of an agent command (the failover's
 * Operation insert, the claim of a standby's request): never queued behind background writes or
 * broadcasts on the shared pool, never paying a connect. Falls back to the pool when it is down.
 */
export class HotConnection {
  private client: pg.Client | null = null;
  constructor(
    private readonly onError: (err: unknown) => void,
    private readonly applicationName = "switchyard-controller-hot",
  ) {}

  async open(url: string): Promise<void> {
    const c = new pg.Client({ connectionString: url, application_name: this.applicationName, keepAlive: true, query_timeout: 5000 });
    c.on("error", (err) => {
      if (this.client === c) this.client = null;
      this.onError(err);
    });
    c.on("end", () => {
      if (this.client === c) this.client = null;
    });
    await c.connect();
    this.client = c;
  }

  readonly exec: Exec = (text, values) => (this.client ? this.client.query(text, values) : poolExec(text, values));

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}

export async function createRunningOperation(input: {
  pairId: string;
  kind: OperationKindName;
  fromServerId: string | null;
  toServerId: string | null;
  decision: string;
  epoch: number;
  steps: PlannedStep[];
}, exec: Exec = poolExec): Promise<LoadedOp | null> {
  // One statement (atomic, one round trip): this is on the failover hot path.
  const id = randomUUID();
  const now = new Date();
  try {
    await exec(
      `WITH op AS (
         INSERT INTO "Operation" (id, "pairId", kind, status, "requestedBy", decision, "fromServerId", "toServerId", epoch, "activeKey", "createdAt", "startedAt")
         VALUES ($1, $2, $3::"OperationKind", 'running', $4, $5, $6, $7, $8, $2, $9, $9) RETURNING id)
       INSERT INTO "OperationStep" (id, "operationId", seq, action, "targetServerId", "targetHostId", target, status)
       SELECT gen_random_uuid(), op.id, s.seq, s.action, s."targetServerId"::uuid, s."targetHostId"::uuid, s.target, 'pending'
       FROM op, jsonb_to_recordset($10::jsonb) AS s(seq int, action text, "targetServerId" text, "targetHostId" text, target text)`,
      [id, input.pairId, input.kind, CONTROLLER_ACTOR, input.decision, input.fromServerId, input.toServerId, input.epoch, now, JSON.stringify(stepRows(input.steps))],
    );
  } catch (e) {
    if ((e as { code?: string }).code === "23505") return null; // unique activeKey: another operation holds the pair
    throw e;
  }
  return {
    id,
    pairId: input.pairId,
    kind: input.kind,
    status: "running",
    fromServerId: input.fromServerId,
    toServerId: input.toServerId,
    requestedBy: CONTROLLER_ACTOR,
    reason: null,
    decision: input.decision,
    createdAt: now.getTime(),
    startedAt: now.getTime(),
    epoch: input.epoch,
    steps: input.steps.map((s) => ({ ...s, status: "pending", startedAt: null, finishedAt: null, ack: null, output: null, error: null })),
  };
}

const INSERT_RUNNING_OP = `WITH op AS (
     INSERT INTO "Operation" (id, "pairId", kind, status, "requestedBy", reason, decision, "fromServerId", "toServerId", epoch, "activeKey", "createdAt", "startedAt")
     VALUES ($1::uuid, $2::uuid, $3::"OperationKind", 'running', $4, $5, $6, $7::uuid, $8::uuid, $9, $2::uuid, $10, $10) RETURNING id)
   INSERT INTO "OperationStep" (id, "operationId", seq, action, "targetServerId", "targetHostId", target, status)
   SELECT gen_random_uuid(), op.id, s.seq, s.action, s."targetServerId"::uuid, s."targetHostId"::uuid, s.target, 'pending'
   FROM op, jsonb_to_recordset($11::jsonb) AS s(seq int, action text, "targetServerId" text, "targetHostId" text, target text)`;

/** A unique violation (the pair's activeKey) from Prisma, whether raised by a model call or a raw query. */
export function isUniqueViolation(e: unknown): boolean {
  if (!e || typeof e !== "object") return false;
  const x = e as { code?: string; meta?: { code?: string; driverAdapterError?: { cause?: { kind?: string; originalCode?: string } } } };
  return (
    x.code === "P2002" ||
    x.code === "23505" ||
    x.meta?.code === "23505" ||
    x.meta?.driverAdapterError?.cause?.kind === "UniqueConstraintViolation" ||
    x.meta?.driverAdapterError?.cause?.originalCode === "23505"
  );
}

/**
 * The manual switchover accepted by the leader's own process: in ONE transaction, the Operation already
 * claimed (running, this epoch, its planned steps: one statement) and its `operation.requested` audit row
 * (appendAudit: advisory lock, last hash, insert). Nothing else is in front of the commit; the caller
 * starts the steps right after it. Returns null when another operation holds the pair (unique activeKey).
 * The INSERT's pg_notify reaches this same leader too: its claim (`WHERE status = 'pending'`) finds
 * nothing, so the operation can never run twice.
 */
export async function createClaimedManualOperation(input: {
  id: string;
  pairId: string;
  actor: string;
  reason: string | null;
  decision: string;
  fromServerId: string;
  toServerId: string;
  epoch: number;
  steps: PlannedStep[];
  target: { id: string; name: string; hostName: string };
}): Promise<LoadedOp | null> {
  const id = input.id;
  const now = new Date();
  let auditRow: Awaited<ReturnType<typeof appendAudit>>;
  try {
    auditRow = await db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(
        INSERT_RUNNING_OP,
        id,
        input.pairId,
        "manual_switchover",
        input.actor,
        input.reason,
        input.decision,
        input.fromServerId,
        input.toServerId,
        input.epoch,
        now,
        JSON.stringify(stepRows(input.steps)),
      );
      return appendAudit(tx, {
        actor: input.actor,
        action: "operation.requested",
        targetType: "operation",
        targetId: id,
        pairId: input.pairId,
        outcome: "success",
        details: { kind: "manual_switchover", reason: input.reason, target: input.target, epoch: input.epoch },
      });
    });
  } catch (e) {
    if (isUniqueViolation(e)) return null;
    throw e;
  }
  setImmediate(() => publishAudit(auditRow)); // after the caller has sent the first command
  return {
    id,
    pairId: input.pairId,
    kind: "manual_switchover",
    status: "running",
    fromServerId: input.fromServerId,
    toServerId: input.toServerId,
    requestedBy: input.actor,
    reason: input.reason,
    decision: input.decision,
    createdAt: now.getTime(),
    startedAt: now.getTime(),
    epoch: input.epoch,
    steps: input.steps.map((s) => ({ ...s, status: "pending", startedAt: null, finishedAt: null, ack: null, output: null, error: null })),
  };
}

/** Claims a pending operation (from the API) for this epoch and writes its planned steps, in one statement. Null if someone else did. */
export async function claimOperation(op: LoadedOp, epoch: number, steps: PlannedStep[], fromServerId: string, toServerId: string, decision: string, exec: Exec = poolExec): Promise<LoadedOp | null> {
  const now = new Date();
  const r = await exec(
    `WITH op AS (
       UPDATE "Operation" SET status = 'running', epoch = $2, "startedAt" = $3, "fromServerId" = $4, "toServerId" = $5, decision = $6
       WHERE id = $1 AND status = 'pending' RETURNING id)
     INSERT INTO "OperationStep" (id, "operationId", seq, action, "targetServerId", "targetHostId", target, status)
     SELECT gen_random_uuid(), op.id, s.seq, s.action, s."targetServerId"::uuid, s."targetHostId"::uuid, s.target, 'pending'
     FROM op, jsonb_to_recordset($7::jsonb) AS s(seq int, action text, "targetServerId" text, "targetHostId" text, target text)`,
    [op.id, epoch, now, fromServerId, toServerId, decision, JSON.stringify(stepRows(steps))],
  );
  if (r.rowCount !== steps.length) return null;
  return {
    ...op,
    status: "running",
    epoch,
    startedAt: now.getTime(),
    fromServerId,
    toServerId,
    decision,
    steps: steps.map((s) => ({ ...s, status: "pending", startedAt: null, finishedAt: null, ack: null, output: null, error: null })),
  };
}

/** A pending operation as the notification announces it (one query, no steps yet). */
export async function loadPendingOperation(id: string): Promise<LoadedOp | null> {
  const r = await getPool().query<{ id: string; pairId: string; kind: OperationKindName; status: string; requestedBy: string; reason: string | null; createdAt: Date }>(
    `SELECT id, "pairId", kind::text AS kind, status::text AS status, "requestedBy", reason, "createdAt" FROM "Operation" WHERE id = $1 AND status = 'pending'`,
    [id],
  );
  const o = r.rows[0];
  if (!o) return null;
  return { id: o.id, pairId: o.pairId, kind: o.kind, status: "pending", fromServerId: null, toServerId: null, requestedBy: o.requestedBy, reason: o.reason, decision: null, createdAt: o.createdAt.getTime(), startedAt: null, epoch: null, steps: [] };
}

// ---------------------------------------------------------------- observed status (bounded multi-row statements)

export interface PairStatusRow {
  id: string;
  status: string;
  state: unknown;
}
export interface HostBeatRow {
  id: string;
  connected: boolean;
  lastHeartbeatAt: string | null;
  rttMs: number | null;
}
export interface HostStatusRow extends HostBeatRow {
  agentVersion: string | null;
  snapshot: unknown;
}

/** Foreign key violation: a pair or host deleted between the check and the insert. Retried once. */
async function retryFk<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if ((e as { code?: string }).code !== "23503") throw e;
    return fn();
  }
}

// TIMESTAMP(3) columns hold UTC (Prisma's convention): convert explicitly, whatever the session time zone.
const UTC_NOW = `(now() AT TIME ZONE 'UTC')`;

/** One statement: upserts up to a chunk of PairStatus rows; pairs deleted meanwhile are skipped. */
export async function upsertPairStatus(exec: Exec, rows: PairStatusRow[]): Promise<void> {
  if (!rows.length) return;
  await retryFk(() =>
    exec(
      `INSERT INTO "PairStatus" ("pairId", status, state, "updatedAt")
       SELECT s.id::uuid, s.status, s.state, ${UTC_NOW}
       FROM jsonb_to_recordset($1::jsonb) AS s(id text, status text, state jsonb)
       WHERE EXISTS (SELECT 1 FROM "Pair" p WHERE p.id = s.id::uuid)
       ON CONFLICT ("pairId") DO UPDATE SET status = EXCLUDED.status, state = EXCLUDED.state, "updatedAt" = EXCLUDED."updatedAt"`,
      [JSON.stringify(rows)],
    ),
  );
}

/** One statement: upserts up to a chunk of full HostStatus rows (with the snapshot); deleted hosts skipped. */
export async function upsertHostStatus(exec: Exec, rows: HostStatusRow[]): Promise<void> {
  if (!rows.length) return;
  await retryFk(() =>
    exec(
      `INSERT INTO "HostStatus" ("hostId", connected, "lastHeartbeatAt", "rttMs", "agentVersion", snapshot, "updatedAt")
       SELECT s.id::uuid, s.connected, (s."lastHeartbeatAt"::timestamptz AT TIME ZONE 'UTC'), s."rttMs", s."agentVersion", s.snapshot, ${UTC_NOW}
       FROM jsonb_to_recordset($1::jsonb) AS s(id text, connected boolean, "lastHeartbeatAt" text, "rttMs" double precision, "agentVersion" text, snapshot jsonb)
       WHERE EXISTS (SELECT 1 FROM "Host" h WHERE h.id = s.id::uuid)
       ON CONFLICT ("hostId") DO UPDATE SET connected = EXCLUDED.connected, "lastHeartbeatAt" = EXCLUDED."lastHeartbeatAt",
         "rttMs" = EXCLUDED."rttMs", "agentVersion" = EXCLUDED."agentVersion", snapshot = EXCLUDED.snapshot, "updatedAt" = EXCLUDED."updatedAt"`,
      [JSON.stringify(rows.map((r) => ({ ...r, snapshot: r.snapshot ?? null })))],
    ),
  );
}

/** One statement: the heartbeat columns of up to a chunk of existing HostStatus rows (snapshot untouched). */
export async function updateHostBeats(exec: Exec, rows: HostBeatRow[]): Promise<void> {
  if (!rows.length) return;
  await exec(
    `UPDATE "HostStatus" h SET connected = s.connected, "lastHeartbeatAt" = (s."lastHeartbeatAt"::timestamptz AT TIME ZONE 'UTC'), "rttMs" = s."rttMs", "updatedAt" = ${UTC_NOW}
     FROM jsonb_to_recordset($1::jsonb) AS s(id text, connected boolean, "lastHeartbeatAt" text, "rttMs" double precision)
     WHERE h."hostId" = s.id::uuid`,
    [JSON.stringify(rows)],
  );
}

type AuditFn<T> = (tx: Prisma.TransactionClient, audit: (e: AuditInput) => Promise<void>) => Promise<T>;

interface RecordJob {
  fn: AuditFn<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Most jobs (a step row and its audit row) in one transaction of the controller's record writer. */
export const RECORD_BATCH_MAX = 25;
const RECORD_TX = { maxWait: 10_000, timeout: 30_000 };

/**
 * The controller's records (operation steps, decisions, final status, alarms, mode audits) all take the
 * audit chain's global lock, so they are serial anyway. Instead of one pool connection per record waiting
 * for that lock (which starved the pool: "Unable to start a transaction in the given time", 0 of 50
 * failovers recorded), ONE writer runs them in order, everything queued so far in one transaction (at most
 * RECORD_BATCH_MAX). If a batch fails, its jobs run again one by one, so one bad record (e.g. a pair
 * deleted meanwhile) fails alone. Each job's promise resolves after its commit; audit:new after the commit.
 */
class RecordWriter {
  private queue: RecordJob[] = [];
  private pumping = false;

  run<T>(fn: AuditFn<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn: fn as AuditFn<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (!this.pumping) void this.pump();
    });
  }

  private async pump() {
    this.pumping = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, RECORD_BATCH_MAX);
        if (batch.length > 1) {
          try {
            const { results, rows } = await this.transact(batch);
            for (const r of rows) publishAudit(r);
            batch.forEach((j, i) => j.resolve(results[i]));
            continue;
          } catch {
            // one by one below: the failing job fails alone
          }
        }
        for (const j of batch) {
          try {
            const { results, rows } = await this.transact([j]);
            for (const r of rows) publishAudit(r);
            j.resolve(results[0]);
          } catch (e) {
            j.reject(e);
          }
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async transact(jobs: RecordJob[]) {
    const rows: Awaited<ReturnType<typeof appendAudit>>[] = [];
    const results = await db.$transaction(async (tx) => {
      rows.length = 0;
      const out: unknown[] = [];
      for (const j of jobs) out.push(await j.fn(tx, async (e) => void rows.push(await appendAudit(tx, e))));
      return out;
    }, RECORD_TX);
    return { results, rows };
  }
}

const recordWriter = new RecordWriter();

/** Runs `fn` in a transaction with audit rows (the record writer's, possibly shared with other records), publishing them after the commit. */
export function withAudit<T>(fn: AuditFn<T>): Promise<T> {
  return recordWriter.run(fn);
}

export function operationView(o: LoadedOp, status?: string, error?: string | null, finishedAt?: number | null): OperationView {
  const steps: StepView[] = o.steps.map((s) => ({
    id: `${o.id}:${s.seq}`,
    seq: s.seq,
    action: s.action,
    target: s.target,
    status: s.status,
    startedAt: s.startedAt ? new Date(s.startedAt).toISOString() : null,
    finishedAt: s.finishedAt ? new Date(s.finishedAt).toISOString() : null,
    durationMs: s.startedAt && s.finishedAt ? s.finishedAt - s.startedAt : null,
    output: s.output,
    error: s.error,
  }));
  return {
    id: o.id,
    pairId: o.pairId,
    kind: o.kind,
    status: status ?? o.status,
    createdAt: new Date(o.createdAt).toISOString(),
    requestedBy: o.requestedBy,
    reason: o.reason,
    decision: o.decision,
    error: error ?? null,
    startedAt: o.startedAt ? new Date(o.startedAt).toISOString() : null,
    finishedAt: finishedAt ? new Date(finishedAt).toISOString() : null,
    fromServerId: o.fromServerId,
    toServerId: o.toServerId,
    steps,
  };
}

/** Step rows, their audit rows, the decision and the final status of one operation, written in order. */
export class OperationRecorder {
  private chain: Promise<void> = Promise.resolve();
  constructor(
    private readonly op: LoadedOp,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Writes run in order, each one starting no earlier than the next macrotask: the runner sends its next
   * agent command in the same tick as the acknowledgement that finished a step, so no database work
   * (not even Prisma's synchronous query building) ever sits in front of that command.
   */
  private enqueue(fn: () => Promise<void>): Promise<void> {
    this.chain = this.chain
      .then(() => new Promise<void>((r) => setImmediate(r)))
      .then(fn)
      .catch(this.onError);
    return this.chain;
  }

  decision(details: Record<string, unknown>, action: string): void {
    const op = this.op;
    this.enqueue(() =>
      withAudit(async (_tx, audit) => {
        await audit({
          actor: CONTROLLER_ACTOR,
          action,
          targetType: "operation",
          targetId: op.id,
          pairId: op.pairId,
          outcome: "info",
          details: { kind: op.kind, reason: op.decision ?? op.reason, ...details },
        });
      }),
    );
  }

  /** The latest state of each step not yet written: a write superseded before it starts is skipped. */
  private latest = new Map<number, StepRecord>();

  step(s: StepRecord, epoch: number): void {
    const op = this.op;
    const snap = { ...s, output: s.output ? [...s.output] : null };
    this.latest.set(snap.seq, snap);
    this.publishSoon();
    this.enqueue(async () => {
      // "running" then "succeeded" of the same step queued behind other writes: write the latter only.
      // (A "running" row is informational: reconciliation re-runs running steps, all idempotent.)
      if (this.latest.get(snap.seq) !== snap) return;
      this.latest.delete(snap.seq);
      await withAudit(async (tx, audit) => {
        await tx.operationStep.update({
          where: { operationId_seq: { operationId: op.id, seq: snap.seq } },
          data: {
            status: snap.status,
            startedAt: snap.startedAt ? new Date(snap.startedAt) : null,
            finishedAt: snap.finishedAt ? new Date(snap.finishedAt) : null,
            ack: json(snap.ack),
            output: json(snap.output),
            error: snap.error,
          },
        });
        if (snap.status === "running" || snap.status === "pending") return;
        await audit({
          actor: CONTROLLER_ACTOR,
          action: `operation.step.${snap.action}`,
          targetType: "operation",
          targetId: op.id,
          pairId: op.pairId,
          outcome: snap.status === "succeeded" ? "success" : snap.status === "failed" ? "failure" : "info",
          durationMs: snap.startedAt && snap.finishedAt ? snap.finishedAt - snap.startedAt : undefined,
          details: { seq: snap.seq, step: snap.action, target: snap.target, status: snap.status, error: snap.error, ack: snap.ack, runs: snap.output, epoch },
        });
      });
    });
  }

  private publishQueued = false;
  /** The live operation view, a tick later (coalesced): never in front of the next agent command. */
  private publishSoon() {
    if (this.publishQueued) return;
    this.publishQueued = true;
    setImmediate(() => {
      this.publishQueued = false;
      publishOperation(operationView(this.op));
    });
  }

  added(steps: StepRecord[]): void {
    const op = this.op;
    this.enqueue(async () => {
      await db.operationStep.createMany({ data: stepRows(steps).map((s) => ({ ...s, operationId: op.id })) });
    });
  }

  /**
   * Final status, activeKey cleared, audit row `operation.finished` with the details the UI's drawer renders
   * (finishedDetails); resolves after the commit (and everything queued before).
   */
  finish(status: "succeeded" | "failed", error: string | null, epoch: number, states: { before: StateSummary | null; after: StateSummary | null }): Promise<void> {
    const op = this.op;
    // The operation ended now, not when its queued records reach the database.
    const finishedAt = new Date();
    return this.enqueue(async () => {
      await withAudit(async (tx, audit) => {
        await tx.operation.update({ where: { id: op.id }, data: { status, error, finishedAt, activeKey: null } });
        await audit({
          actor: CONTROLLER_ACTOR,
          action: "operation.finished",
          targetType: "operation",
          targetId: op.id,
          pairId: op.pairId,
          outcome: status === "succeeded" ? "success" : "failure",
          durationMs: finishedAt.getTime() - (op.startedAt ?? op.createdAt),
          details: finishedDetails(op, status, error, epoch, states.before, states.after),
        });
      });
      publishOperation(operationView(op, status, error, finishedAt.getTime()));
    });
  }

  settled(): Promise<void> {
    return this.chain;
  }
}

/** Marks an operation failed without running it (e.g. stale at takeover, preflight failed at start). */
export async function failOperation(op: LoadedOp, error: string, epoch: number, state: StateSummary | null = null): Promise<void> {
  const finishedAt = new Date();
  await withAudit(async (tx, audit) => {
    await tx.operation.update({ where: { id: op.id }, data: { status: "failed", error, finishedAt, activeKey: null, epoch } });
    await tx.operationStep.updateMany({ where: { operationId: op.id, status: { in: ["pending", "running"] } }, data: { status: "skipped", error: "not run" } });
    const steps = op.steps.map((s) => (s.status === "pending" || s.status === "running" ? { ...s, status: "skipped" as const, error: "not run" } : s));
    await audit({
      actor: CONTROLLER_ACTOR,
      action: "operation.finished",
      targetType: "operation",
      targetId: op.id,
      pairId: op.pairId,
      outcome: "failure",
      details: finishedDetails({ ...op, steps }, "failed", error, epoch, state, state),
    });
  });
  publishOperation(operationView(op, "failed", error, finishedAt.getTime()));
}

function alarmJson(a: Prisma.AlarmGetPayload<object>): AlarmJson {
  return {
    id: a.id,
    kind: a.kind,
    severity: a.severity,
    pairId: a.pairId,
    hostId: a.hostId,
    message: a.message,
    details: a.details,
    active: a.clearedAt === null,
    raisedAt: a.raisedAt.toISOString(),
    clearedAt: a.clearedAt?.toISOString() ?? null,
    acknowledgedAt: a.acknowledgedAt?.toISOString() ?? null,
    acknowledgedBy: a.acknowledgedBy,
  };
}

export async function loadActiveAlarmKeys(): Promise<Map<string, { id: string; pairId: string | null }>> {
  const rows = await db.alarm.findMany({ where: { activeKey: { not: null } }, select: { id: true, activeKey: true, pairId: true } });
  return new Map(rows.map((r) => [r.activeKey!, { id: r.id, pairId: r.pairId }]));
}

/** Raises an alarm (idempotent through activeKey). Returns false if it was already active. */
export async function raiseAlarm(a: AlarmSpec): Promise<boolean> {
  const key = alarmKey(a);
  try {
    const row = await withAudit(async (tx, audit) => {
      const r = await tx.alarm.create({
        data: { kind: a.kind, severity: a.severity, pairId: a.pairId, hostId: a.hostId, message: a.message, details: json(a.details) as Prisma.InputJsonValue, activeKey: key },
      });
      await audit({
        actor: CONTROLLER_ACTOR,
        action: "alarm.raised",
        targetType: "alarm",
        targetId: r.id,
        pairId: a.pairId,
        outcome: "info",
        details: { kind: a.kind, severity: a.severity, hostId: a.hostId, message: a.message },
      });
      return r;
    });
    publishAlarm(alarmJson(row));
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "P2002") return false;
    if (code === "P2003") return false; // its pair or host was deleted meanwhile
    throw e;
  }
}

export async function clearAlarm(key: string): Promise<void> {
  const rows = await withAudit(async (tx, audit) => {
    const active = await tx.alarm.findMany({ where: { activeKey: key } });
    for (const r of active) {
      await tx.alarm.update({ where: { id: r.id }, data: { activeKey: null, clearedAt: new Date() } });
      await audit({
        actor: CONTROLLER_ACTOR,
        action: "alarm.cleared",
        targetType: "alarm",
        targetId: r.id,
        pairId: r.pairId,
        outcome: "info",
        details: { kind: r.kind, hostId: r.hostId, message: r.message },
      });
    }
    return tx.alarm.findMany({ where: { id: { in: active.map((r) => r.id) } } });
  });
  for (const r of rows) publishAlarm(alarmJson(r));
}
