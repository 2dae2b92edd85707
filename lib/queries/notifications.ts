/**
 * Notifications: the outbox (NotificationDelivery) and the dispatcher's statements. Deliveries are inserted
 * in the transaction of the record that causes them (an alarm raised, cleared or acknowledged, an operation
 * finished): the rules are matched here, in SQL, and a pair in maintenance (its flag or a current window)
 * gets none. See docs/notifications.md.
 */
import { randomUUID } from "node:crypto";
import { db, type Prisma } from "@/lib/db";
import type { NotificationPayload } from "@/lib/notifications/events";
import type { Tx } from "./tx";

/** The deliveries of one event: one per enabled channel with an enabled rule that matches. */
export async function enqueueNotification(tx: Tx, p: NotificationPayload): Promise<number> {
  const pairId = p.pairId || null;
  const severity = p.event.startsWith("alarm.") ? p.severity : null;
  const json = JSON.stringify(p);
  return tx.$executeRaw`
    INSERT INTO "NotificationDelivery" (id, "eventId", event, "channelId", "pairId", payload)
    SELECT gen_random_uuid(), ${p.eventId}, ${p.event}, c.id, ${pairId}::uuid,
           ${json}::jsonb || jsonb_build_object('pair', coalesce(pr.name, ''))
    FROM "NotificationChannel" c
    LEFT JOIN "Pair" pr ON pr.id = ${pairId}::uuid
    WHERE c.enabled
      AND EXISTS (
        SELECT 1 FROM "NotificationRule" r
        WHERE r."channelId" = c.id AND r.enabled AND ${p.event} = ANY(r.events)
          AND (coalesce(cardinality(r.severities), 0) = 0 OR ${severity}::text IS NULL OR ${severity}::text = ANY(r.severities::text[]))
          AND (coalesce(cardinality(r.kinds), 0) = 0 OR ${p.kind} = ANY(r.kinds))
          AND (coalesce(cardinality(r."pairIds"), 0) = 0 OR ${pairId}::uuid = ANY(r."pairIds")))
      AND NOT coalesce(pr.maintenance, false)
      AND NOT EXISTS (
        SELECT 1 FROM "MaintenanceWindow" w
        WHERE w."pairId" = ${pairId}::uuid AND w."cancelledAt" IS NULL AND w."startsAt" <= now() AND w."endsAt" > now())
    ON CONFLICT ("eventId", "channelId") DO NOTHING`;
}

/** "Send test": one delivery to this channel, through the outbox like any event. Returns its id. */
export async function enqueueTest(tx: Tx, channelId: string, p: NotificationPayload): Promise<string> {
  const id = randomUUID();
  await tx.notificationDelivery.create({ data: { id, eventId: p.eventId, event: p.event, channelId, pairId: null, payload: p as unknown as Prisma.InputJsonValue } });
  return id;
}

export interface ClaimedDelivery {
  id: string;
  eventId: string;
  event: string;
  channelId: string;
  payload: NotificationPayload;
  attempts: number;
  channelName: string;
  type: "webhook" | "email" | "snmp";
  config: Record<string, unknown>;
  secret: string | null;
  enabled: boolean;
}

/**
 * Claims up to `limit` due deliveries (several panel instances: SKIP LOCKED) and counts the attempt. The
 * claim is a lease: its next attempt moves `leaseMs` ahead, so a delivery whose sender died (a panel killed
 * mid-send) is due again then; a finished send sets its status at once.
 */
export async function claimDeliveries(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  return db.$queryRaw<ClaimedDelivery[]>`
    UPDATE "NotificationDelivery" d
    SET attempts = d.attempts + 1, "nextAttemptAt" = now() + make_interval(secs => ${leaseMs / 1000}::double precision)
    FROM "NotificationChannel" c
    WHERE c.id = d."channelId" AND d.id IN (
      SELECT id FROM "NotificationDelivery"
      WHERE status IN ('pending', 'retrying') AND "nextAttemptAt" <= now()
      ORDER BY "nextAttemptAt", "createdAt" LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING d.id, d."eventId", d.event, d."channelId", d.payload, d.attempts,
              c.name AS "channelName", c.type::text AS type, c.config, c.secret, c.enabled`;
}

export async function markSent(id: string): Promise<void> {
  await db.notificationDelivery.update({ where: { id }, data: { status: "sent", sentAt: new Date(), lastError: null } });
}

/** A failed attempt: retried at `retryAt`, or failed for good when null. */
export async function markAttemptFailed(id: string, error: string, retryAt: Date | null): Promise<void> {
  await db.notificationDelivery.update({
    where: { id },
    data: retryAt ? { status: "retrying", lastError: error.slice(0, 1000), nextAttemptAt: retryAt } : { status: "failed", lastError: error.slice(0, 1000) },
  });
}

/** When the next pending or retrying delivery is due (null: none). */
export async function nextDueAt(): Promise<Date | null> {
  const r = await db.notificationDelivery.aggregate({ _min: { nextAttemptAt: true }, where: { status: { in: ["pending", "retrying"] } } });
  return r._min.nextAttemptAt;
}

/** The channel the outbox trigger notifies (migration *_notifications). */
export const NOTIFICATION_CHANNEL = "switchyard_notifications";

/** The dispatcher hears the outbox trigger on its own connection (a pool client it holds). */
export async function listenForDeliveries(client: { query(sql: string): Promise<unknown> }): Promise<void> {
  await client.query(`LISTEN ${NOTIFICATION_CHANNEL}`);
}
