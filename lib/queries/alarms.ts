/**
 * Alarms: raised and cleared by the controller (one active alarm per `activeKey` = kind:pair:host, which
 * the database keeps unique), listed and acknowledged through the API. Each change with its audit row.
 */
import { db, type Prisma } from "@/lib/db";
import { isForeignKeyViolation, isUniqueViolation } from "@/lib/db/errors";
import { conflict, notFound } from "@/lib/http/errors";
import { SEVERITIES_NEEDING_ACK, type AlarmJson, type AlarmState } from "@/lib/realtime/events";
import { publishAlarm } from "@/lib/realtime/publish";
import { CONTROLLER_ACTOR, alarmKey, type AlarmKindName, type AlarmSpec } from "@/lib/controller/model";

export { alarmKey, type AlarmSpec };

/** What GET /api/alarms?state= accepts: a state, or a name for a set of them. */
export type AlarmStateFilter = AlarmState | "open" | "unacknowledged" | "present" | "all";
import { audited, type AuditRunner } from "./tx";
import { alarmNotification } from "@/lib/notifications/events";
import { enqueueNotification } from "./notifications";

export function alarmState(a: Pick<Prisma.AlarmGetPayload<object>, "clearedAt" | "acknowledgedAt" | "severity">): AlarmState {
  if (a.acknowledgedAt) return "acknowledged";
  if (a.clearedAt === null) return "active";
  return (SEVERITIES_NEEDING_ACK as readonly string[]).includes(a.severity) ? "cleared_unacknowledged" : "cleared";
}

export function toAlarmJson(a: Prisma.AlarmGetPayload<object>): AlarmJson {
  return {
    id: a.id,
    kind: a.kind,
    severity: a.severity,
    pairId: a.pairId,
    hostId: a.hostId,
    message: a.message,
    details: a.details ?? {},
    active: a.clearedAt === null,
    state: alarmState(a),
    raisedAt: a.raisedAt.toISOString(),
    clearedAt: a.clearedAt?.toISOString() ?? null,
    acknowledgedAt: a.acknowledgedAt?.toISOString() ?? null,
    acknowledgedBy: a.acknowledgedBy,
    acknowledgeComment: a.acknowledgeComment,
  };
}

const needsAck = { severity: { in: [...SEVERITIES_NEEDING_ACK] } };
/** Each state (and each name the API accepts for a set of states) as a condition on the row. */
const STATE_WHERE: Record<AlarmStateFilter, Prisma.AlarmWhereInput> = {
  active: { clearedAt: null, acknowledgedAt: null },
  cleared_unacknowledged: { clearedAt: { not: null }, acknowledgedAt: null, ...needsAck },
  acknowledged: { acknowledgedAt: { not: null } },
  cleared: { clearedAt: { not: null }, acknowledgedAt: null, severity: { notIn: [...SEVERITIES_NEEDING_ACK] } },
  /** What is not over: the condition present (acknowledged or not), or cleared and waiting for a person. */
  open: { OR: [{ clearedAt: null }, { acknowledgedAt: null, ...needsAck }] },
  /** What waits for a person: active or cleared, not acknowledged (the dashboard's count). */
  unacknowledged: { acknowledgedAt: null, OR: [{ clearedAt: null }, needsAck] },
  /** The condition is present, acknowledged or not. */
  present: { clearedAt: null },
  all: {},
};

export interface AlarmsFilter {
  pairId?: string;
  hostId?: string;
  state: AlarmStateFilter[];
  severity?: AlarmJson["severity"][];
  kind?: AlarmKindName[];
  limit: number;
  /** The id of the last alarm of the previous page (newest first). */
  cursor?: string;
}

/** Newest first; `nextCursor` when there may be more. */
export async function listAlarms(q: AlarmsFilter): Promise<{ alarms: AlarmJson[]; nextCursor: string | null }> {
  const rows = await db.alarm.findMany({
    where: {
      AND: [
        q.pairId ? { pairId: q.pairId } : {},
        q.hostId ? { hostId: q.hostId } : {},
        q.severity?.length ? { severity: { in: q.severity } } : {},
        q.kind?.length ? { kind: { in: q.kind } } : {},
        { OR: q.state.map((st) => STATE_WHERE[st]) },
      ],
    },
    orderBy: [{ raisedAt: "desc" }, { id: "asc" }],
    take: q.limit + 1,
    ...(q.cursor ? { cursor: { id: q.cursor }, skip: 1 } : {}),
  });
  const page = rows.slice(0, q.limit);
  return { alarms: page.map(toAlarmJson), nextCursor: rows.length > q.limit ? page[page.length - 1]!.id : null };
}

const MAX_COMMENT = 500;

/**
 * Acknowledges alarms (one, or many at once: the same comment for each), each with its audit row, in one
 * transaction. An alarm acknowledged already, or unknown, is skipped with the reason; for one alarm the
 * caller turns that into 404/409.
 */
export async function acknowledgeAlarms(ids: string[], actor: string, comment: string | null): Promise<{ acknowledged: AlarmJson[]; skipped: { id: string; reason: string }[] }> {
  const text = comment?.trim() ? comment.trim().slice(0, MAX_COMMENT) : null;
  return audited(
    async (tx, audit) => {
      const acknowledged: AlarmJson[] = [];
      const skipped: { id: string; reason: string }[] = [];
      for (const id of [...new Set(ids)]) {
        const alarm = await tx.alarm.findUnique({ where: { id } });
        if (!alarm) {
          skipped.push({ id, reason: "not found" });
          continue;
        }
        // Conditional update: two concurrent acknowledgements cannot both succeed.
        const r = await tx.alarm.updateMany({ where: { id, acknowledgedAt: null }, data: { acknowledgedAt: new Date(), acknowledgedBy: actor, acknowledgeComment: text } });
        if (r.count !== 1) {
          const by = (await tx.alarm.findUnique({ where: { id }, select: { acknowledgedBy: true } }))?.acknowledgedBy;
          skipped.push({ id, reason: `already acknowledged by ${by ?? "someone"}` });
          continue;
        }
        const row = (await tx.alarm.findUnique({ where: { id } }))!;
        await audit({
          actor,
          action: "alarm.ack",
          targetType: "alarm",
          targetId: id,
          pairId: row.pairId,
          outcome: "success",
          details: { kind: row.kind, severity: row.severity, message: row.message, conditionPresent: row.clearedAt === null, ...(text ? { comment: text } : {}) },
        });
        await enqueueNotification(tx, alarmNotification("alarm.acknowledged", row, { operator: actor, comment: text ?? "", at: row.acknowledgedAt! }));
        acknowledged.push(toAlarmJson(row));
      }
      return { acknowledged, skipped };
    },
    (r) => r.acknowledged.forEach((a) => publishAlarm(a)),
  );
}

export async function acknowledgeAlarm(id: string, actor: string, comment: string | null = null): Promise<AlarmJson> {
  const r = await acknowledgeAlarms([id], actor, comment);
  if (r.acknowledged[0]) return r.acknowledged[0];
  const why = r.skipped[0]!.reason;
  throw why === "not found" ? notFound("alarm") : conflict(`alarm ${why}`);
}

/** The keys of every active alarm, with its pair (loaded by a new leader). */
export async function loadActiveAlarmKeys(): Promise<Map<string, { pairId: string | null }>> {
  const rows = await db.alarm.findMany({ where: { activeKey: { not: null } }, select: { activeKey: true, pairId: true } });
  return new Map(rows.map((r) => [r.activeKey!, { pairId: r.pairId }]));
}

/** Raises an alarm (idempotent through activeKey). Null when it was active already or its pair/host is gone. */
export async function raiseAlarm(queue: AuditRunner, a: AlarmSpec): Promise<AlarmJson | null> {
  try {
    const row = await queue.run(async (tx, audit) => {
      const r = await tx.alarm.create({
        data: { kind: a.kind, severity: a.severity, pairId: a.pairId, hostId: a.hostId, message: a.message, details: JSON.parse(JSON.stringify(a.details)), activeKey: alarmKey(a) },
      });
      await audit({
        actor: CONTROLLER_ACTOR,
        action: "alarm.raised",
        targetType: "alarm",
        targetId: r.id,
        pairId: a.pairId,
        // The outcome of raising an alarm is its severity (what an operator filters and scans for).
        outcome: a.severity,
        details: { kind: a.kind, severity: a.severity, hostId: a.hostId, message: a.message },
      });
      await enqueueNotification(tx, alarmNotification("alarm.raised", r, { at: r.raisedAt }));
      return r;
    });
    return toAlarmJson(row);
  } catch (e) {
    if (isUniqueViolation(e) || isForeignKeyViolation(e)) return null;
    throw e;
  }
}

/** Clears the active alarm with this key, if any. Returns the cleared alarms. */
export async function clearAlarm(queue: AuditRunner, key: string): Promise<AlarmJson[]> {
  const rows = await queue.run(async (tx, audit) => {
    const active = await tx.alarm.findMany({ where: { activeKey: key } });
    for (const r of active) {
      const clearedAt = new Date();
      await tx.alarm.update({ where: { id: r.id }, data: { activeKey: null, clearedAt } });
      await audit({
        actor: CONTROLLER_ACTOR,
        action: "alarm.cleared",
        targetType: "alarm",
        targetId: r.id,
        pairId: r.pairId,
        outcome: "info",
        details: { kind: r.kind, severity: r.severity, hostId: r.hostId, message: r.message },
      });
      await enqueueNotification(tx, alarmNotification("alarm.cleared", r, { at: clearedAt }));
    }
    return tx.alarm.findMany({ where: { id: { in: active.map((r) => r.id) } } });
  });
  return rows.map(toAlarmJson);
}

/** Per severity: alarms whose condition is present, and alarms waiting for a person (the metrics' gauges). */
export async function alarmCounts(): Promise<{ severity: AlarmJson["severity"]; active: number; unacknowledged: number }[]> {
  const rows = await db.$queryRaw<{ severity: AlarmJson["severity"]; active: bigint; unacknowledged: bigint }[]>`
    SELECT severity::text AS severity,
           count(*) FILTER (WHERE "clearedAt" IS NULL) AS active,
           count(*) FILTER (WHERE "acknowledgedAt" IS NULL AND ("clearedAt" IS NULL OR severity::text = ANY(${[...SEVERITIES_NEEDING_ACK]}))) AS unacknowledged
    FROM "Alarm" WHERE "clearedAt" IS NULL OR "acknowledgedAt" IS NULL GROUP BY severity`;
  return rows.map((r) => ({ severity: r.severity, active: Number(r.active), unacknowledged: Number(r.unacknowledged) }));
}
