import { db } from "@/lib/db";
import { conflict, notFound } from "@/lib/http/errors";
import type { AlarmJson } from "@/lib/realtime/events";
import { publishAlarm } from "@/lib/realtime/publish";
import { audited } from "./tx";

type Row = {
  id: string;
  kind: string;
  severity: string;
  pairId: string | null;
  hostId: string | null;
  message: string;
  details: unknown;
  raisedAt: Date;
  clearedAt: Date | null;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
};

export function toAlarmJson(a: Row): AlarmJson {
  return {
    id: a.id,
    kind: a.kind,
    severity: a.severity as AlarmJson["severity"],
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
