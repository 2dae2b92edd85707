import { describe, expect, it } from "vitest";
import { CreateChannel, CreateRule, EmailConfig, SnmpConfig, WebhookConfig } from "@/lib/validation/notifications";

const issue = (r: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) => (r.success ? null : { path: r.error!.issues[0]!.path.join("."), message: r.error!.issues[0]!.message });

describe("notification channel settings", () => {
  it("webhook: http and https URLs only, defaults filled in", () => {
    expect(WebhookConfig.parse({ url: "https://noc.example.com/h" })).toEqual({ url: "https://noc.example.com/h", format: "switchyard", timeoutMs: 5000 });
    for (const url of ["ftp://x/y", "file:///etc/passwd", "javascript:alert(1)", "not a url", "http://"]) expect(issue(WebhookConfig.safeParse({ url }))).toMatchObject({ path: "url" });
    expect(issue(WebhookConfig.safeParse({ url: "http://a/", format: "slack" }))).toMatchObject({ path: "format" });
    expect(issue(WebhookConfig.safeParse({ url: "http://a/", extra: 1 }))).not.toBeNull();
  });
  it("e-mail: host, port, addresses, templates naming known variables only", () => {
    const base = { host: "smtp.example.com", from: "a@example.com", to: ["b@example.com"] };
    expect(EmailConfig.parse(base)).toMatchObject({ port: 587, security: "starttls", subject: expect.stringContaining("{{pair}}") });
    expect(issue(EmailConfig.safeParse({ ...base, host: "smtp example.com" }))).toMatchObject({ path: "host" });
    expect(issue(EmailConfig.safeParse({ ...base, port: 0 }))).toMatchObject({ path: "port" });
    expect(issue(EmailConfig.safeParse({ ...base, to: [] }))).toMatchObject({ path: "to" });
    expect(issue(EmailConfig.safeParse({ ...base, to: ["nobody"] }))).toMatchObject({ path: "to.0" });
    expect(issue(EmailConfig.safeParse({ ...base, body: "{{message}} {{env.HOME}}" }))).toMatchObject({ path: "body", message: expect.stringContaining("not a variable") });
    expect(issue(EmailConfig.safeParse({ ...base, subject: "{{secret}}" }))).toMatchObject({ path: "subject", message: expect.stringContaining("unknown variable {{secret}}") });
  });
  it("SNMP: target and a numeric enterprise OID", () => {
    expect(SnmpConfig.parse({ host: "10.0.0.1" })).toEqual({ host: "10.0.0.1", port: 162, enterpriseOid: "1.3.6.1.4.1.99999", timeoutMs: 5000 });
    for (const enterpriseOid of ["1.3.6.x", "4.1", "1", "1.3..6", "1.3.6.1.4.1.01"]) expect(issue(SnmpConfig.safeParse({ host: "10.0.0.1", enterpriseOid }))).toMatchObject({ path: "enterpriseOid" });
  });
  it("a channel by type; a secret is a non-empty string or null", () => {
    expect(CreateChannel.parse({ name: "n", type: "snmp", config: { host: "nms" }, secret: "c" })).toMatchObject({ enabled: true, secret: "c" });
    expect(issue(CreateChannel.safeParse({ name: "n", type: "pager", config: {} }))).not.toBeNull();
    expect(issue(CreateChannel.safeParse({ name: "n", type: "webhook", config: { url: "http://a/" }, secret: "" }))).toMatchObject({ path: "secret" });
  });
});

describe("notification rules", () => {
  it("events, severities and kinds from the catalogues", () => {
    const channelId = "0d5ab6a2-0000-4000-8000-000000000001";
    expect(CreateRule.parse({ name: "r", channelId, events: ["alarm.raised", "operation.finished"], kinds: ["primary_failed", "failover"] })).toMatchObject({ severities: [], pairIds: [], enabled: true });
    expect(issue(CreateRule.safeParse({ name: "r", channelId, events: [] }))).toMatchObject({ path: "events" });
    expect(issue(CreateRule.safeParse({ name: "r", channelId, events: ["alarm.raised"], kinds: ["coffee"] }))).toMatchObject({ path: "kinds.0" });
    expect(issue(CreateRule.safeParse({ name: "r", channelId, events: ["alarm.raised"], severities: ["info"] }))).toMatchObject({ path: "severities.0" });
  });
});
