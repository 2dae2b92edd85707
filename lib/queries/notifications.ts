/**
 * Notifications: the outbox (NotificationDelivery) and the dispatcher's statements. Deliveries are inserted
 * in the transaction of the record that causes them (an alarm raised, cleared or acknowledged, an operation
 * finished): the rules are matched here, in SQL, and a pair in maintenance (its flag or a current window)
 * gets none. See docs/notifications.md.
 */
import { randomUUID } from "node:crypto";
import { db, type Prisma } from "@/lib/db";
import { badRequest, conflict, notFound } from "@/lib/http/errors";
import { payload, type NotificationPayload } from "@/lib/notifications/events";
import { audited, type Tx } from "./tx";

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

/** The log's retention: sent and failed deliveries older than `days` go. */
export async function pruneDeliveries(days: number): Promise<number> {
  return db.$executeRaw`DELETE FROM "NotificationDelivery" WHERE status IN ('sent', 'failed') AND "createdAt" < now() - make_interval(days => ${days}::int)`;
}

/** The channel the outbox trigger notifies (migration *_notifications). */
export const NOTIFICATION_CHANNEL = "switchyard_notifications";

/** The dispatcher hears the outbox trigger on its own connection (a pool client it holds). */
export async function listenForDeliveries(client: { query(sql: string): Promise<unknown> }): Promise<void> {
  await client.query(`LISTEN ${NOTIFICATION_CHANNEL}`);
}

// ---- Channels, rules and the delivery log (the API; admins). Each change with its audit row. ----

export type ChannelType = "webhook" | "email" | "snmp";

/** A channel as the API shows it: never its secret, only whether one is set. */
export interface ChannelJson {
  id: string;
  name: string;
  type: ChannelType;
  enabled: boolean;
  config: Record<string, unknown>;
  hasSecret: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface RuleJson {
  id: string;
  name: string;
  channelId: string;
  channelName: string;
  enabled: boolean;
  events: string[];
  severities: string[];
  kinds: string[];
  pairIds: string[];
  createdAt: string;
  updatedAt: string;
}

export interface DeliveryJson {
  id: string;
  eventId: string;
  event: string;
  channelId: string;
  channelName: string;
  channelType: ChannelType;
  pairId: string | null;
  pairName: string;
  kind: string;
  severity: string;
  message: string;
  status: "pending" | "retrying" | "sent" | "failed";
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

type ChannelRow = Prisma.NotificationChannelGetPayload<object>;

function toChannelJson(c: ChannelRow): ChannelJson {
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    enabled: c.enabled,
    config: (c.config ?? {}) as Record<string, unknown>,
    hasSecret: c.secret !== null,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

function toRuleJson(r: Prisma.NotificationRuleGetPayload<{ include: { channel: { select: { name: true } } } }>): RuleJson {
  return {
    id: r.id,
    name: r.name,
    channelId: r.channelId,
    channelName: r.channel.name,
    enabled: r.enabled,
    events: r.events,
    severities: r.severities,
    kinds: r.kinds,
    pairIds: r.pairIds,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export async function listChannels(): Promise<ChannelJson[]> {
  return (await db.notificationChannel.findMany({ orderBy: { name: "asc" } })).map(toChannelJson);
}

export async function getChannel(id: string): Promise<ChannelJson> {
  const c = await db.notificationChannel.findUnique({ where: { id } });
  if (!c) throw notFound("notification channel");
  return toChannelJson(c);
}

/**
 * The settings a channel's secret is presented to (the SMTP server, the trap receiver): whoever moves them
 * must enter the secret again, or an admin session could collect it at a listener of its choosing. (A
 * webhook's key never leaves the panel: only signatures made with it do.)
 */
const SECRET_BOUND: Record<ChannelType, string[]> = { webhook: [], email: ["host", "port", "security", "user"], snmp: ["host", "port"] };

/**
 * What an audit row says of a change: names and switches, the config keys that changed (not their values:
 * a webhook URL may carry a token), and of the secret only that it was set or removed.
 */
function auditableChanges(input: { name?: string; enabled?: boolean; config?: Record<string, unknown>; secret?: string | null }, old: Record<string, unknown> = {}) {
  const { secret, config, ...rest } = input;
  const keys = config ? Object.keys({ ...old, ...config }).filter((k) => JSON.stringify(config[k]) !== JSON.stringify(old[k])) : [];
  return { ...rest, ...(keys.length ? { config: keys } : {}), ...(secret !== undefined ? { secret: secret === null ? "removed" : "set" } : {}) };
}

export async function createChannel(input: { name: string; type: ChannelType; enabled: boolean; config: Record<string, unknown>; secret?: string | null }, actor: string): Promise<ChannelJson> {
  return audited(async (tx, audit) => {
    if (await tx.notificationChannel.findUnique({ where: { name: input.name }, select: { id: true } })) throw conflict(`a notification channel named ${input.name} already exists`);
    const c = await tx.notificationChannel.create({ data: { name: input.name, type: input.type, enabled: input.enabled, config: input.config as Prisma.InputJsonValue, secret: input.secret ?? null } });
    await audit({ actor, action: "notification.channel.create", targetType: "notification_channel", targetId: c.id, outcome: "success", details: { name: c.name, type: c.type, ...auditableChanges({ secret: input.secret }) } });
    return toChannelJson(c);
  });
}

/** `parseConfig` validates a new config against the channel's type (a 400 naming the field). */
export async function updateChannel(
  id: string,
  input: { name?: string; enabled?: boolean; config?: Record<string, unknown>; secret?: string | null },
  actor: string,
  parseConfig: (type: ChannelType, config: unknown) => Record<string, unknown>,
): Promise<ChannelJson> {
  return audited(async (tx, audit) => {
    const before = await tx.notificationChannel.findUnique({ where: { id } });
    if (!before) throw notFound("notification channel");
    const config = input.config !== undefined ? parseConfig(before.type, input.config) : undefined;
    const old = (before.config ?? {}) as Record<string, unknown>;
    const moved = config ? SECRET_BOUND[before.type].filter((k) => JSON.stringify(config[k]) !== JSON.stringify(old[k])) : [];
    if (moved.length && before.secret !== null && input.secret === undefined) {
      throw badRequest(`secret: enter the ${before.type === "email" ? "SMTP password" : "community"} again when changing ${moved.join(", ")}`, "secret");
    }
    if (input.name && input.name !== before.name && (await tx.notificationChannel.findUnique({ where: { name: input.name }, select: { id: true } }))) {
      throw conflict(`a notification channel named ${input.name} already exists`);
    }
    const c = await tx.notificationChannel.update({
      where: { id },
      data: {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        ...(config !== undefined ? { config: config as Prisma.InputJsonValue } : {}),
        ...(input.secret !== undefined ? { secret: input.secret } : {}),
      },
    });
    await audit({ actor, action: "notification.channel.update", targetType: "notification_channel", targetId: id, outcome: "success", details: { name: before.name, type: before.type, changes: auditableChanges({ ...input, config }, old) } });
    return toChannelJson(c);
  });
}

/** Deletes the channel with its rules and its delivery log. */
export async function deleteChannel(id: string, actor: string): Promise<void> {
  await audited(async (tx, audit) => {
    const c = await tx.notificationChannel.findUnique({ where: { id }, select: { name: true, type: true } });
    if (!c) throw notFound("notification channel");
    await tx.notificationChannel.delete({ where: { id } });
    await audit({ actor, action: "notification.channel.delete", targetType: "notification_channel", targetId: id, outcome: "success", details: { name: c.name, type: c.type } });
  });
}

/** "Send test": a delivery of event `test` to this channel, through the outbox. */
export async function sendTest(id: string, actor: string): Promise<DeliveryJson> {
  const deliveryId = await audited(async (tx, audit) => {
    const c = await tx.notificationChannel.findUnique({ where: { id }, select: { name: true, type: true, enabled: true } });
    if (!c) throw notFound("notification channel");
    if (!c.enabled) throw conflict(`notification channel ${c.name} is disabled; enable it first`);
    const now = new Date();
    const eventId = `test:${randomUUID()}`;
    const dId = await enqueueTest(tx, id, payload({ event: "test", eventId, time: now.toISOString(), severity: "info", kind: "test", message: `a test of channel ${c.name}, asked for by ${actor}`, operator: actor }));
    await audit({ actor, action: "notification.test", targetType: "notification_channel", targetId: id, outcome: "success", details: { name: c.name, type: c.type, deliveryId: dId } });
    return dId;
  });
  return (await listDeliveries({ id: deliveryId, limit: 1 })).deliveries[0]!;
}

const ruleInclude = { channel: { select: { name: true } } } as const;

export async function listRules(): Promise<RuleJson[]> {
  return (await db.notificationRule.findMany({ include: ruleInclude, orderBy: [{ name: "asc" }, { id: "asc" }] })).map(toRuleJson);
}

async function checkRuleRefs(tx: Tx, r: { channelId?: string; pairIds?: string[] }) {
  if (r.channelId && !(await tx.notificationChannel.findUnique({ where: { id: r.channelId }, select: { id: true } }))) throw notFound("notification channel");
  if (r.pairIds?.length) {
    const found = await tx.pair.findMany({ where: { id: { in: r.pairIds } }, select: { id: true } });
    const missing = r.pairIds.filter((id) => !found.some((p) => p.id === id));
    if (missing.length) throw badRequest(`pairIds: no pair ${missing.join(", ")}`, "pairIds");
  }
}

type RuleInput = { name: string; channelId: string; enabled: boolean; events: string[]; severities: ("critical" | "major" | "minor" | "warning")[]; kinds: string[]; pairIds: string[] };

export async function createRule(input: RuleInput, actor: string): Promise<RuleJson> {
  return audited(async (tx, audit) => {
    await checkRuleRefs(tx, input);
    const r = await tx.notificationRule.create({ data: input, include: ruleInclude });
    await audit({ actor, action: "notification.rule.create", targetType: "notification_rule", targetId: r.id, outcome: "success", details: { ...input, channelName: r.channel.name } });
    return toRuleJson(r);
  });
}

export async function updateRule(id: string, input: Partial<RuleInput>, actor: string): Promise<RuleJson> {
  return audited(async (tx, audit) => {
    const before = await tx.notificationRule.findUnique({ where: { id }, select: { name: true } });
    if (!before) throw notFound("notification rule");
    await checkRuleRefs(tx, input);
    const r = await tx.notificationRule.update({ where: { id }, data: input, include: ruleInclude });
    await audit({ actor, action: "notification.rule.update", targetType: "notification_rule", targetId: id, outcome: "success", details: { name: before.name, changes: input } });
    return toRuleJson(r);
  });
}

export async function deleteRule(id: string, actor: string): Promise<void> {
  await audited(async (tx, audit) => {
    const r = await tx.notificationRule.findUnique({ where: { id }, include: ruleInclude });
    if (!r) throw notFound("notification rule");
    await tx.notificationRule.delete({ where: { id } });
    await audit({ actor, action: "notification.rule.delete", targetType: "notification_rule", targetId: id, outcome: "success", details: { name: r.name, channelName: r.channel.name } });
  });
}

/** The delivery log, newest first; `nextCursor` when there may be more. */
export async function listDeliveries(q: { id?: string; status?: DeliveryJson["status"]; channelId?: string; event?: string; limit: number; cursor?: string }): Promise<{ deliveries: DeliveryJson[]; nextCursor: string | null }> {
  const rows = await db.notificationDelivery.findMany({
    where: { ...(q.id ? { id: q.id } : {}), ...(q.status ? { status: q.status } : {}), ...(q.channelId ? { channelId: q.channelId } : {}), ...(q.event ? { event: q.event } : {}) },
    include: { channel: { select: { name: true, type: true } } },
    orderBy: [{ createdAt: "desc" }, { id: "asc" }],
    take: q.limit + 1,
    ...(q.cursor ? { cursor: { id: q.cursor }, skip: 1 } : {}),
  });
  const page = rows.slice(0, q.limit);
  return {
    deliveries: page.map((d) => {
      const p = (d.payload ?? {}) as Partial<NotificationPayload>;
      const open = d.status === "pending" || d.status === "retrying";
      return {
        id: d.id,
        eventId: d.eventId,
        event: d.event,
        channelId: d.channelId,
        channelName: d.channel.name,
        channelType: d.channel.type,
        pairId: d.pairId,
        pairName: p.pair ?? "",
        kind: p.kind ?? "",
        severity: p.severity ?? "",
        message: p.message ?? "",
        status: d.status,
        attempts: d.attempts,
        nextAttemptAt: open ? d.nextAttemptAt.toISOString() : null,
        lastError: d.lastError,
        createdAt: d.createdAt.toISOString(),
        sentAt: d.sentAt?.toISOString() ?? null,
      };
    }),
    nextCursor: rows.length > q.limit ? page[page.length - 1]!.id : null,
  };
}
