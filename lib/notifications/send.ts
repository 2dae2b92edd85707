/** One delivery to its channel, by type; the channel's config is validated again as it is read. */
import { CHANNEL_CONFIGS, type EmailConfig, type SnmpConfig, type WebhookConfig } from "@/lib/validation/notifications";
import type { ClaimedDelivery } from "@/lib/queries/notifications";
import { sendEmail } from "./email";
import { PermanentError } from "./errors";
import { sendTrap } from "./snmp";
import { sendWebhook } from "./webhook";

export interface SendContext {
  externalURL: string;
}

export async function sendDelivery(d: ClaimedDelivery, ctx: SendContext): Promise<void> {
  const parsed = CHANNEL_CONFIGS[d.type].safeParse(d.config);
  if (!parsed.success) throw new PermanentError(`the channel's configuration is invalid: ${parsed.error.issues[0]?.message ?? "?"}`);
  const o = { deliveryId: d.id, receiver: d.channelName, externalURL: ctx.externalURL };
  switch (d.type) {
    case "webhook":
      return sendWebhook(parsed.data as WebhookConfig, d.secret, d.payload, o);
    case "email":
      return sendEmail(parsed.data as EmailConfig, d.secret, d.payload, d.id);
    case "snmp":
      return sendTrap(parsed.data as SnmpConfig, d.secret, d.payload, d.id);
    default:
      throw new PermanentError(`unknown channel type ${String(d.type)}`);
  }
}
