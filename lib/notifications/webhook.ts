/**
 * Webhook channel: POST JSON to a URL, the raw body signed with HMAC-SHA256 under the channel's secret
 * (`X-Switchyard-Signature: sha256=<hex>`), the delivery's id as idempotency key (`X-Switchyard-Delivery`).
 * `format: "alertmanager"` sends the body Alertmanager's webhook_config sends (version "4").
 */
import { createHmac } from "node:crypto";
import type { WebhookConfig } from "@/lib/validation/notifications";
import type { NotificationPayload } from "./events";


export const SIGNATURE_HEADER = "X-Switchyard-Signature";
export const DELIVERY_HEADER = "X-Switchyard-Delivery";

export function sign(body: string, secret: string): string {
  return "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
}

const ZERO_TIME = "0001-01-01T00:00:00Z";

/** Alertmanager's webhook payload (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
export function alertmanagerBody(p: NotificationPayload, o: { deliveryId: string; receiver: string; externalURL: string }) {
  const resolved = p.event === "alarm.cleared" || (p.event === "operation.finished" && p.result === "succeeded") || p.event === "test";
  const status = resolved ? "resolved" : "firing";
  const labels: Record<string, string> = { alertname: p.kind || p.event, severity: p.severity, source: "switchyard", event: p.event };
  if (p.pair) labels.pair = p.pair;
  if (p.host) labels.host = p.host;
  if (p.operationKind) labels.operation_kind = p.operationKind;
  const annotations: Record<string, string> = { summary: p.message };
  if (p.operator) annotations.operator = p.operator;
  if (p.comment) annotations.comment = p.comment;
  const alert = {
    status,
    labels,
    annotations,
    startsAt: p.time,
    endsAt: resolved ? p.time : ZERO_TIME,
    generatorURL: o.externalURL,
    fingerprint: (p.alarmId || p.operationId || p.eventId).replace(/-/g, "").slice(0, 16),
  };
  return {
    version: "4",
    groupKey: `{}:{alertname="${labels.alertname}",pair="${p.pair}"}`,
    truncatedAlerts: 0,
    status,
    receiver: o.receiver,
    groupLabels: { alertname: labels.alertname },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: o.externalURL,
    alerts: [alert],
    // Not Alertmanager's: the idempotency key, for receivers that read the body only.
    switchyardDeliveryId: o.deliveryId,
  };
}

export function webhookBody(p: NotificationPayload, cfg: WebhookConfig, o: { deliveryId: string; receiver: string; externalURL: string }): string {
  return JSON.stringify(cfg.format === "alertmanager" ? alertmanagerBody(p, o) : { deliveryId: o.deliveryId, ...p });
}

export async function sendWebhook(cfg: WebhookConfig, secret: string | null, p: NotificationPayload, o: { deliveryId: string; receiver: string; externalURL: string }): Promise<void> {
  const body = webhookBody(p, cfg, o);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "Switchyard",
    [DELIVERY_HEADER]: o.deliveryId,
    "X-Switchyard-Event": p.event,
  };
  if (secret) headers[SIGNATURE_HEADER] = sign(body, secret);
  let res: Response;
  try {
    res = await fetch(cfg.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(cfg.timeoutMs) });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === "TimeoutError") throw new Error(`no answer within ${cfg.timeoutMs} ms`);
    throw new Error(err.cause?.code ?? err.cause?.message ?? err.message);
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.status < 200 || res.status >= 300) throw new Error(`the receiver answered HTTP ${res.status}`);
}
