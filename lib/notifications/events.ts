/**
 * The notification events and their payload: one flat object, whose fields are also the variables of the
 * e-mail templates ({{pair}}, {{severity}} ...). Pure; no imports beyond types and the kind labels.
 */
import { operationKindLabel } from "@/lib/operation-kinds";

export const NOTIFICATION_EVENTS = ["alarm.raised", "alarm.cleared", "alarm.acknowledged", "operation.finished"] as const;
export type NotificationEventName = (typeof NOTIFICATION_EVENTS)[number] | "test";

/** What a delivery carries (NotificationDelivery.payload); `pair` is filled in by the outbox insert. */
export interface NotificationPayload {
  event: NotificationEventName;
  /** Unique per event: the idempotency of its deliveries is per (eventId, channel). */
  eventId: string;
  /** When it happened (ISO 8601). */
  time: string;
  pairId: string;
  pair: string;
  /** Alarm severity; for an operation "info" (succeeded) or "major" (failed); "info" for a test. */
  severity: string;
  /** Alarm kind, or operation kind. */
  kind: string;
  message: string;
  host: string;
  /** Who acknowledged the alarm or requested the operation. */
  operator: string;
  comment: string;
  alarmId: string;
  operationId: string;
  operationKind: string;
  /** succeeded | failed (operations). */
  result: string;
}

/** Every template variable, with what it holds (the API refuses templates naming anything else). */
export const TEMPLATE_VARIABLES: Record<keyof NotificationPayload | "deliveryId", string> = {
  event: "alarm.raised, alarm.cleared, alarm.acknowledged, operation.finished or test",
  eventId: "the event's id",
  deliveryId: "this delivery's id (the idempotency key)",
  time: "when it happened, ISO 8601 UTC",
  pairId: "the pair's id",
  pair: "the pair's name",
  severity: "critical, major, minor, warning (alarms); info or major (an operation that succeeded or failed)",
  kind: "the alarm's kind or the operation's kind",
  message: "the alarm's message, or the operation's outcome",
  host: "the host's id (alarms of a host)",
  operator: "who acknowledged the alarm or requested the operation",
  comment: "the acknowledgement's comment",
  alarmId: "the alarm's id",
  operationId: "the operation's id",
  operationKind: "the operation's kind",
  result: "succeeded or failed (operations)",
};

const EMPTY: Omit<NotificationPayload, "event" | "eventId" | "time"> = {
  pairId: "",
  pair: "",
  severity: "",
  kind: "",
  message: "",
  host: "",
  operator: "",
  comment: "",
  alarmId: "",
  operationId: "",
  operationKind: "",
  result: "",
};

export function payload(p: Partial<NotificationPayload> & Pick<NotificationPayload, "event" | "eventId" | "time">): NotificationPayload {
  return { ...EMPTY, ...p };
}

interface AlarmRow {
  id: string;
  kind: string;
  severity: string;
  pairId: string | null;
  hostId: string | null;
  message: string;
}

/** The payload of an alarm's event (its id and the event make the event's id). */
export function alarmNotification(event: "alarm.raised" | "alarm.cleared" | "alarm.acknowledged", a: AlarmRow, o: { at: Date; operator?: string; comment?: string }): NotificationPayload {
  return payload({
    event,
    eventId: `${event}:${a.id}`,
    time: o.at.toISOString(),
    pairId: a.pairId ?? "",
    severity: a.severity,
    kind: a.kind,
    message: a.message,
    host: a.hostId ?? "",
    operator: o.operator ?? "",
    comment: o.comment ?? "",
    alarmId: a.id,
  });
}

/** The payload of `operation.finished`. */
export function operationNotification(
  op: { id: string; pairId: string; kind: string; requestedBy: string; reason: string | null; decision?: string | null; createdAt?: number },
  end: { status: "succeeded" | "failed"; error: string | null; finishedAt: number },
): NotificationPayload {
  // "Failover succeeded in 28 ms: primary sip-1 exited with signal SIGKILL on host-a1; promoting sip-2"
  const took = op.createdAt !== undefined ? ` in ${Math.max(0, end.finishedAt - op.createdAt)} ms` : "";
  const what = op.decision ? `: ${op.decision}` : "";
  return payload({
    event: "operation.finished",
    eventId: `operation.finished:${op.id}`,
    time: new Date(end.finishedAt).toISOString(),
    pairId: op.pairId,
    severity: end.status === "succeeded" ? "info" : "major",
    kind: op.kind,
    message: end.status === "succeeded" ? `${operationKindLabel(op.kind)} succeeded${took}${what}` : `${operationKindLabel(op.kind)} failed${took}: ${end.error ?? "unknown error"}`,
    operator: op.requestedBy,
    comment: op.reason ?? "",
    operationId: op.id,
    operationKind: op.kind,
    result: end.status,
  });
}
