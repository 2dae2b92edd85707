/** Notifications: channels (per type, the non-secret config and the write-only secret), rules, the delivery log. */
import { z } from "zod";
import { emptyToUndefined, HostAddress, Uuid } from "./common";
import { NOTIFICATION_EVENTS, TEMPLATE_VARIABLES } from "@/lib/notifications/events";
import { templateProblem } from "@/lib/notifications/template";
import { ALARM_KINDS } from "@/lib/controller/model";
import { OPERATION_KIND_NAMES } from "@/lib/operation-kinds";

const ChannelName = z.string({ message: "must be a string" }).trim().min(1, "must not be empty").max(100, "must be at most 100 characters");
const Port = z.number({ message: "must be a number" }).int("must be an integer").min(1, "must be 1-65535").max(65535, "must be 1-65535");
const TimeoutMs = z.number({ message: "must be a number" }).int("must be an integer").min(100, "must be at least 100 ms").max(60_000, "must be at most 60000 ms");
/** The secret: write-only. A string sets or replaces it, null removes it, absent keeps it. */
const Secret = z.string({ message: "must be a string" }).min(1, "must not be empty (null removes it)").max(1000, "must be at most 1000 characters").nullable().optional();

export const HttpUrl = z
  .string({ message: "must be a string" })
  .trim()
  .max(2000, "must be at most 2000 characters")
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === "http:" || u.protocol === "https:") && !!u.hostname;
    } catch {
      return false;
    }
  }, "must be an http:// or https:// URL");

/** A dotted numeric OID such as 1.3.6.1.4.1.99999. */
export const Oid = z
  .string({ message: "must be a string" })
  .trim()
  .regex(/^[0-2](\.(0|[1-9]\d{0,9})){1,127}$/, "must be a numeric OID such as 1.3.6.1.4.1.99999");

const Template = (what: string) =>
  z
    .string({ message: "must be a string" })
    .max(what === "subject" ? 500 : 20_000, "is too long")
    .superRefine((v, ctx) => {
      const problem = templateProblem(v, Object.keys(TEMPLATE_VARIABLES));
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });

export const DEFAULT_SUBJECT = "[{{severity}}] {{pair}}: {{kind}} ({{event}})";
export const DEFAULT_BODY = "Event: {{event}}\nPair: {{pair}}\nSeverity: {{severity}}\nKind: {{kind}}\nMessage: {{message}}\nTime: {{time}}\nOperator: {{operator}}\nComment: {{comment}}\nOperation: {{operationKind}} {{result}}\nDelivery: {{deliveryId}}\n";

export const WebhookConfig = z
  .object({
    url: HttpUrl,
    format: z.enum(["switchyard", "alertmanager"], { message: "must be switchyard or alertmanager" }).default("switchyard"),
    timeoutMs: TimeoutMs.default(5000),
  })
  .strict();

const Address = z.email({ message: "must be an e-mail address" }).max(254);
export const EmailConfig = z
  .object({
    host: HostAddress,
    port: Port.default(587),
    /** "tls": TLS from the start (465); "starttls": upgrade required; "none": plain (a local relay). */
    security: z.enum(["tls", "starttls", "none"], { message: "must be tls, starttls or none" }).default("starttls"),
    user: z.string().trim().max(200).optional(),
    from: Address,
    to: z.array(Address, { message: "must be a list of e-mail addresses" }).min(1, "name at least one recipient").max(50, "at most 50 recipients"),
    subject: Template("subject").default(DEFAULT_SUBJECT),
    body: Template("body").default(DEFAULT_BODY),
    timeoutMs: TimeoutMs.default(10_000),
  })
  .strict();

export const SnmpConfig = z
  .object({
    host: HostAddress,
    port: Port.default(162),
    enterpriseOid: Oid.default("1.3.6.1.4.1.99999"),
    timeoutMs: TimeoutMs.default(5000),
  })
  .strict();

export type WebhookConfig = z.infer<typeof WebhookConfig>;
export type EmailConfig = z.infer<typeof EmailConfig>;
export type SnmpConfig = z.infer<typeof SnmpConfig>;
export const CHANNEL_CONFIGS = { webhook: WebhookConfig, email: EmailConfig, snmp: SnmpConfig } as const;
export type ChannelType = keyof typeof CHANNEL_CONFIGS;

const Common = { name: ChannelName, enabled: z.boolean({ message: "must be true or false" }).default(true), secret: Secret };
export const CreateChannel = z.discriminatedUnion(
  "type",
  [
    z.object({ ...Common, type: z.literal("webhook"), config: WebhookConfig }).strict(),
    z.object({ ...Common, type: z.literal("email"), config: EmailConfig }).strict(),
    z.object({ ...Common, type: z.literal("snmp"), config: SnmpConfig }).strict(),
  ],
  { message: "type must be webhook, email or snmp" },
);
export type CreateChannel = z.infer<typeof CreateChannel>;

/** PATCH: any of name, enabled, config (whole, validated for the channel's type), secret. */
export const UpdateChannel = z
  .object({ name: ChannelName.optional(), enabled: z.boolean({ message: "must be true or false" }).optional(), config: z.record(z.string(), z.unknown()).optional(), secret: Secret })
  .strict();
export type UpdateChannel = z.infer<typeof UpdateChannel>;

const Events = z.array(z.enum(NOTIFICATION_EVENTS, { message: `must be one of ${NOTIFICATION_EVENTS.join(", ")}` })).min(1, "name at least one event");
const Severities = z.array(z.enum(["critical", "major", "minor", "warning"], { message: "must be critical, major, minor or warning" }));
/** Alarm kinds and operation kinds a rule may name. */
export const RULE_KINDS = [...new Set<string>([...ALARM_KINDS, ...OPERATION_KIND_NAMES])];
const Kinds = z.array(z.string().refine((k) => RULE_KINDS.includes(k), "must be an alarm kind or an operation kind, e.g. primary_failed or failover"));
export const CreateRule = z
  .object({
    name: ChannelName,
    channelId: Uuid,
    enabled: z.boolean({ message: "must be true or false" }).default(true),
    events: Events,
    severities: Severities.default([]),
    kinds: Kinds.default([]),
    pairIds: z.array(Uuid).max(500).default([]),
  })
  .strict();
export type CreateRule = z.infer<typeof CreateRule>;
export const UpdateRule = z
  .object({
    name: ChannelName.optional(),
    channelId: Uuid.optional(),
    enabled: z.boolean({ message: "must be true or false" }).optional(),
    events: Events.optional(),
    severities: Severities.optional(),
    kinds: Kinds.optional(),
    pairIds: z.array(Uuid).max(500).optional(),
  })
  .strict();
export type UpdateRule = z.infer<typeof UpdateRule>;

export const DeliveriesQuery = z
  .object({
    status: z.preprocess(emptyToUndefined, z.enum(["pending", "retrying", "sent", "failed"], { message: "must be pending, retrying, sent or failed" }).optional()),
    channelId: z.preprocess(emptyToUndefined, Uuid.optional()),
    event: z.preprocess(emptyToUndefined, z.enum([...NOTIFICATION_EVENTS, "test"], { message: "must be an event name" }).optional()),
    limit: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1, "must be at least 1").max(500, "must be at most 500").default(100)),
    cursor: z.preprocess(emptyToUndefined, Uuid.optional()),
  })
  .strict();
export type DeliveriesQuery = z.infer<typeof DeliveriesQuery>;
