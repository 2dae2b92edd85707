/**
 * E-mail channel: one message per delivery over SMTP (nodemailer), subject and body from the channel's
 * templates (lib/notifications/template.ts). Its Message-ID is made of the delivery's id (the idempotency
 * key), also in the header X-Switchyard-Delivery. The password (the channel's secret) is never logged.
 */
import nodemailer from "nodemailer";
import type { EmailConfig } from "@/lib/validation/notifications";
import type { NotificationPayload } from "./events";
import { renderTemplate } from "./template";

export function emailMessage(cfg: EmailConfig, p: NotificationPayload, deliveryId: string) {
  const vars = { ...p, deliveryId };
  return {
    from: cfg.from,
    to: cfg.to,
    // One line: a variable's text never adds a header.
    subject: renderTemplate(cfg.subject, vars).replace(/[\r\n]+/g, " ").slice(0, 900),
    text: renderTemplate(cfg.body, vars),
    messageId: `<${deliveryId}@switchyard>`,
    headers: { "X-Switchyard-Delivery": deliveryId, "X-Switchyard-Event": p.event },
  };
}

export async function sendEmail(cfg: EmailConfig, password: string | null, p: NotificationPayload, deliveryId: string): Promise<void> {
  const transport = nodemailer.createTransport({
    host: cfg.host,
    port: cfg.port,
    secure: cfg.security === "tls",
    requireTLS: cfg.security === "starttls",
    ignoreTLS: cfg.security === "none",
    auth: cfg.user ? { user: cfg.user, pass: password ?? "" } : undefined,
    connectionTimeout: cfg.timeoutMs,
    greetingTimeout: cfg.timeoutMs,
    socketTimeout: cfg.timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
  try {
    await transport.sendMail(emailMessage(cfg, p, deliveryId));
  } catch (e) {
    const err = e as Error & { code?: string; responseCode?: number; response?: string };
    throw new Error(err.responseCode ? `SMTP ${err.responseCode}: ${err.response ?? err.message}` : `${err.code ?? "error"}: ${err.message}`);
  } finally {
    transport.close();
  }
}
