/**
 * Alarms: raised and cleared by the controller (one active alarm per `activeKey` = kind:pair:host, which
 * the database keeps unique), listed and acknowledged through the API. Each change with its audit row.
 */
import { db, type Prisma } from "@/lib/db";
import { isForeignKeyViolation, isUniqueViolation } from "@/lib/db/errors";
import { conflict, notFound } from "@/lib/http/errors";
import type { AlarmJson } from "@/lib/realtime/events";
import { publishAlarm } from "@/lib/realtime/publish";
import { CONTROLLER_ACTOR, alarmKey, type AlarmSpec } from "@/lib/controller/model";

export { alarmKey, type AlarmSpec };
import { audited, type AuditRunner } from "./tx";

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
    raisedAt: a.raisedAt.toISOString(),
    clearedAt: a.clearedAt?.toISOString() ?? null,
    acknowledgedAt: a.acknowledgedAt?.toISOString() ?? null,
    acknowledgedBy: a.acknowledgedBy,
  };
}

export async function listAlarms(q: { pairId?: string; hostId?: string; state: "active" | "all"; limit: number }): Promise<AlarmJson[]> {
  const rows = await db.alarm.findMany({
    where: {
      ...(q.pairId ? { pairId: q.pairId } : {}),
      ...(q.hostId ? { hostId: q.hostId } : {}),
      ...(q.state === "active" ? { clearedAt: null } : {}),
    },
    orderBy: [{ raisedAt: "desc" }, { id: "asc" }],
    take: q.limit,
  });
  return rows.map(toAlarmJson);
}

export async function acknowledgeAlarm(id: string, actor: string): Promise<AlarmJson> {
  return audited(
    async (tx, audit) => {
    const alarm = await tx.alarm.findUnique({ where: { id } });
    if (!alarm) throw notFound("alarm");
    if (alarm.acknowledgedAt) throw conflict(`alarm already acknowledged by ${alarm.acknowledgedBy ?? "someone"}`);
    // Conditional update: two concurrent acknowledgements cannot both succeed.
    const r = await tx.alarm.updateMany({ where: { id, acknowledgedAt: null }, data: { acknowledgedAt: new Date(), acknowledgedBy: actor } });
    if (r.count !== 1) throw conflict("alarm already acknowledged");
    const row = (await tx.alarm.findUnique({ where: { id } }))!;
    await audit({
      actor,
      action: "alarm.ack",
      targetType: "alarm",
      targetId: id,
      pairId: row.pairId,
      outcome: "success",
      details: { kind: row.kind, severity: row.severity, message: row.message },
    });
    return toAlarmJson(row);
    },
    (alarm) => publishAlarm(alarm),
  );
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
      await tx.alarm.update({ where: { id: r.id }, data: { activeKey: null, clearedAt: new Date() } });
      await audit({
        actor: CONTROLLER_ACTOR,
        action: "alarm.cleared",
        targetType: "alarm",
        targetId: r.id,
        pairId: r.pairId,
        outcome: "info",
        details: { kind: r.kind, severity: r.severity, hostId: r.hostId, message: r.message },
      });
    }
    return tx.alarm.findMany({ where: { id: { in: active.map((r) => r.id) } } });
  });
  return rows.map(toAlarmJson);
}
