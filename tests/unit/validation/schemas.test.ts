import { describe, expect, it } from "vitest";
import { HostCreate, HostUpdate } from "@/lib/validation/hosts";
import { canonicalIp, PairCreate, PairUpdate, PairVip } from "@/lib/validation/pairs";
import { UserCreate, LoginInput } from "@/lib/validation/users";
import { TokenCreate } from "@/lib/validation/tokens";
import { AuditListQuery, AuditExportQuery } from "@/lib/validation/audit";
import { ipFamily, NoNul, nulAt } from "@/lib/validation/common";
import { AUDIT_ACTION_GROUPS, AUDIT_ACTIONS, type AuditAction } from "@/lib/audit-actions";
import type { StepAction } from "@/lib/controller/plan";

const H1 = "11111111-1111-4111-8111-111111111111";
const H2 = "22222222-2222-4222-8222-222222222222";

function firstIssue(r: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) {
  expect(r.success).toBe(false);
  const i = r.error!.issues[0];
  return { path: i.path.map(String).join("."), message: i.message };
}

const pair = (over: Record<string, unknown> = {}) => ({
  name: "sip-pair-1",
  vipAddress: "192.0.2.10",
  vipPrefix: 24,
  vipInterface: "eth0",
  servers: [
    { name: "sip-1", hostId: H1, appName: "SIPServer1" },
    { name: "sip-2", hostId: H2, appName: "SIPServer2" },
  ],
  ...over,
});

describe("pair schema", () => {
  it("accepts a valid IPv4 pair and an IPv6 pair", () => {
    expect(PairCreate.safeParse(pair()).success).toBe(true);
    expect(PairCreate.safeParse(pair({ vipAddress: "2001:db8::10", vipPrefix: 64 })).success).toBe(true);
  });

  it("rejects bad VIPs naming the field", () => {
    expect(firstIssue(PairCreate.safeParse(pair({ vipAddress: "300.1.1.1" })))).toMatchObject({ path: "vipAddress" });
    expect(firstIssue(PairCreate.safeParse(pair({ vipAddress: "192.0.2.10/24" })))).toMatchObject({ path: "vipAddress" });
    expect(firstIssue(PairCreate.safeParse(pair({ vipAddress: "fe80::zz" })))).toMatchObject({ path: "vipAddress" });
  });

  it("stores a VIP in its canonical form: IPv6 lower case and compressed, IPv4 as given (create, update, merged)", () => {
    const vip = (v: string) => PairCreate.parse(pair({ vipAddress: v, vipPrefix: 64 })).vipAddress;
    expect(vip("2001:DB8:0:0:0:0:0:10")).toBe("2001:db8::10");
    expect(vip(" 2001:db8::10 ")).toBe("2001:db8::10");
    expect(vip("2001:0db8:0000:0000:0001:0000:0000:0001")).toBe("2001:db8::1:0:0:1");
    expect(vip("1:0:0:0:1:0:0:0")).toBe("1::1:0:0:0"); // two equal runs: the first is compressed
    expect(vip("2001:db8:0:1:1:1:1:1")).toBe("2001:db8:0:1:1:1:1:1"); // a single zero group stays
    expect(vip("::FFFF:192.0.2.1")).toBe("::ffff:192.0.2.1");
    expect(vip("0:0:0:0:0:0:0:1")).toBe("::1");
    expect(PairCreate.parse(pair({ vipAddress: "192.0.2.10" })).vipAddress).toBe("192.0.2.10");
    expect(PairUpdate.parse({ vipAddress: "2001:DB8::A" }).vipAddress).toBe("2001:db8::a");
    expect(PairVip.parse({ vipAddress: "2001:DB8::A", vipPrefix: 64 }).vipAddress).toBe("2001:db8::a");
    expect(canonicalIp("2001:DB8:0:0:0:0:0:10")).toBe(canonicalIp("2001:db8::10"));
  });

  it("checks the prefix against the address family", () => {
    expect(firstIssue(PairCreate.safeParse(pair({ vipPrefix: 33 })))).toEqual({ path: "vipPrefix", message: "must be between 1 and 32 for an IPv4 address" });
    expect(PairCreate.safeParse(pair({ vipAddress: "2001:db8::1", vipPrefix: 128 })).success).toBe(true);
    expect(firstIssue(PairCreate.safeParse(pair({ vipAddress: "2001:db8::1", vipPrefix: 129 })))).toMatchObject({ path: "vipPrefix" });
    expect(firstIssue(PairCreate.safeParse(pair({ vipPrefix: 0 })))).toMatchObject({ path: "vipPrefix" });
    expect(firstIssue(PairCreate.safeParse(pair({ vipPrefix: 24.5 })))).toMatchObject({ path: "vipPrefix" });
  });

  it("requires two servers on two different hosts with different names", () => {
    const same = pair({ servers: [{ name: "a", hostId: H1, appName: "x" }, { name: "b", hostId: H1, appName: "y" }] });
    expect(firstIssue(PairCreate.safeParse(same))).toEqual({ path: "servers.1.hostId", message: "the two servers must be on two different hosts" });
    const sameName = pair({ servers: [{ name: "a", hostId: H1, appName: "x" }, { name: "a", hostId: H2, appName: "y" }] });
    expect(firstIssue(PairCreate.safeParse(sameName))).toMatchObject({ path: "servers.1.name" });
    expect(firstIssue(PairCreate.safeParse(pair({ servers: [{ name: "a", hostId: H1, appName: "x" }] })))).toMatchObject({ path: "servers" });
    expect(firstIssue(PairCreate.safeParse(pair({ servers: [{ name: "a", hostId: "nope", appName: "x" }, { name: "b", hostId: H2, appName: "y" }] })))).toMatchObject({ path: "servers.0.hostId" });
  });

  it("validates names, interface and policy ranges; refuses unknown fields", () => {
    expect(firstIssue(PairCreate.safeParse(pair({ name: "bad name!" })))).toMatchObject({ path: "name" });
    expect(firstIssue(PairCreate.safeParse(pair({ vipInterface: "this-is-way-too-long0" })))).toMatchObject({ path: "vipInterface" });
    expect(firstIssue(PairCreate.safeParse(pair({ disconnectGraceSeconds: -1 })))).toMatchObject({ path: "disconnectGraceSeconds" });
    expect(firstIssue(PairCreate.safeParse(pair({ heartbeatTimeoutMs: 50 })))).toMatchObject({ path: "heartbeatTimeoutMs" });
    expect(firstIssue(PairCreate.safeParse(pair({ autoFailover: "yes" })))).toMatchObject({ path: "autoFailover" });
    expect(PairCreate.safeParse(pair({ extra: 1 })).success).toBe(false);
  });

  it("update: partial, at least one field, VIP rules still apply", () => {
    expect(PairUpdate.safeParse({ maintenance: true }).success).toBe(true);
    expect(PairUpdate.safeParse({}).success).toBe(false);
    expect(firstIssue(PairUpdate.safeParse({ vipAddress: "192.0.2.1", vipPrefix: 40 }))).toMatchObject({ path: "vipPrefix" });
  });

  it("ipFamily", () => {
    expect([ipFamily("10.0.0.1"), ipFamily("::1"), ipFamily("01.2.3.4"), ipFamily("host")]).toEqual([4, 6, 0, 0]);
  });
});

describe("host schema", () => {
  const host = { name: "host-a1", address: "10.0.0.11", agentUrl: "http://10.0.0.11:4999", agentToken: "0123456789abcdef" };
  it("accepts a host and rejects bad fields by name", () => {
    expect(HostCreate.safeParse(host).success).toBe(true);
    expect(HostCreate.safeParse({ ...host, address: "sip-a.example.com" }).success).toBe(true);
    expect(firstIssue(HostCreate.safeParse({ ...host, agentUrl: "ftp://x" }))).toMatchObject({ path: "agentUrl" });
    expect(firstIssue(HostCreate.safeParse({ ...host, agentUrl: "http://u:p@x:1" }))).toMatchObject({ path: "agentUrl" });
    expect(firstIssue(HostCreate.safeParse({ ...host, agentToken: "short" }))).toMatchObject({ path: "agentToken" });
    expect(firstIssue(HostCreate.safeParse({ ...host, address: "bad host" }))).toMatchObject({ path: "address" });
    expect(HostUpdate.safeParse({}).success).toBe(false);
    expect(HostUpdate.safeParse({ address: "10.0.0.12" }).success).toBe(true);
  });
});

describe("users, tokens, login", () => {
  it("users", () => {
    expect(UserCreate.safeParse({ username: "op1", password: "long enough pw", role: "operator" }).success).toBe(true);
    expect(firstIssue(UserCreate.safeParse({ username: "op1", password: "short", role: "operator" }))).toMatchObject({ path: "password" });
    expect(firstIssue(UserCreate.safeParse({ username: "op1", password: "long enough pw", role: "root" }))).toMatchObject({ path: "role" });
    expect(firstIssue(LoginInput.safeParse({ username: "", password: "x" }))).toMatchObject({ path: "username" });
  });
  it("tokens", () => {
    expect(TokenCreate.safeParse({ name: "ci deploy", role: "operator", expiresInDays: 30 }).success).toBe(true);
    expect(firstIssue(TokenCreate.safeParse({ name: "ci", role: "operator", expiresInDays: 0 }))).toMatchObject({ path: "expiresInDays" });
  });
});

describe("the rule of every request value: no NUL", () => {
  it("finds a NUL in a string or a key at any depth and names the path", () => {
    expect(nulAt({ a: "x", b: [1, "y"] })).toBeNull();
    expect(nulAt("a\u0000b")).toEqual([]);
    expect(nulAt({ servers: [{ name: "ok" }, { appName: "x\u0000" }] })).toEqual(["servers", 1, "appName"]);
    expect(nulAt({ ["k\u0000"]: 1 })).toEqual(["k\u0000"]);
    expect(firstIssue(NoNul.pipe(LoginInput).safeParse({ username: "a\u0000", password: "p" }))).toEqual({ path: "username", message: "must not contain NUL characters" });
    expect(NoNul.pipe(LoginInput).safeParse({ username: "a", password: "p" }).success).toBe(true);
  });

  it("refuses cursors beyond a bigint and dates outside the years 1-9999", () => {
    expect(firstIssue(AuditListQuery.safeParse({ cursor: "9999999999999999999" }))).toEqual({ path: "cursor", message: "must be a cursor from a previous page" });
    expect(AuditListQuery.parse({ cursor: "9223372036854775807" }).cursor).toBe("9223372036854775807");
    expect(firstIssue(AuditListQuery.safeParse({ from: "-271821-04-20T00:00:00Z" }))).toEqual({ path: "from", message: "must be between the years 1 and 9999" });
    expect(firstIssue(AuditExportQuery.safeParse({ to: "+275760-09-13T00:00:00Z" }))).toMatchObject({ path: "to" });
    expect(AuditListQuery.parse({ from: "0001-01-01T00:00:00Z", to: "9999-12-31T23:59:59.999Z" }).to?.toISOString()).toBe("9999-12-31T23:59:59.999Z");
  });
});

describe("audit filters", () => {
  it("parses query strings with defaults and rejects bad values by name", () => {
    const q = AuditListQuery.parse({ actor: "admin", from: "2026-11-24T00:00:00Z", limit: "50", pairId: "" });
    expect(q).toMatchObject({ actor: "admin", limit: 50 });
    expect(q.from).toBeInstanceOf(Date);
    expect(q.pairId).toBeUndefined();
    expect(AuditListQuery.parse({}).limit).toBe(100);
    expect(firstIssue(AuditListQuery.safeParse({ limit: "1000" }))).toMatchObject({ path: "limit" });
    expect(firstIssue(AuditListQuery.safeParse({ outcome: "meh" }))).toMatchObject({ path: "outcome" });
    expect(firstIssue(AuditListQuery.safeParse({ cursor: "abc" }))).toMatchObject({ path: "cursor" });
    expect(firstIssue(AuditListQuery.safeParse({ from: "yesterday" }))).toMatchObject({ path: "from" });
    expect(firstIssue(AuditListQuery.safeParse({ from: "2026-11-25T00:00:00Z", to: "2026-11-24T00:00:00Z" }))).toMatchObject({ path: "to" });
    expect(AuditExportQuery.parse({}).format).toBe("json");
    expect(firstIssue(AuditExportQuery.safeParse({ format: "xml" }))).toMatchObject({ path: "format" });
  });

  it("accepts only actions of the catalogue", () => {
    expect(AuditListQuery.parse({ action: "operation.step.vip_enable" }).action).toBe("operation.step.vip_enable");
    expect(AuditListQuery.parse({ action: "" }).action).toBeUndefined();
    expect(firstIssue(AuditListQuery.safeParse({ action: "pair.created" }))).toMatchObject({ path: "action", message: expect.stringContaining("audit action") });
    expect(firstIssue(AuditExportQuery.safeParse({ action: "operation.step.dance" }))).toMatchObject({ path: "action" });
  });
});

describe("audit action catalogue", () => {
  it("has a step action for every step the controller plans, each with a label and a group", () => {
    // Compile-time: every StepAction has its `operation.step.*` entry.
    const steps: Record<StepAction, AuditAction> = {
      demote: "operation.step.demote",
      vip_disable: "operation.step.vip_disable",
      promote: "operation.step.promote",
      vip_enable: "operation.step.vip_enable",
      verify: "operation.step.verify",
      recover_demote: "operation.step.recover_demote",
      recover_promote: "operation.step.recover_promote",
      recover_verify: "operation.step.recover_verify",
      start: "operation.step.start",
      stop: "operation.step.stop",
      restart: "operation.step.restart",
      holddown_clear: "operation.step.holddown_clear",
    };
    for (const [step, action] of Object.entries(steps)) expect(action).toBe(`operation.step.${step}`);
    for (const { label, group } of Object.values(AUDIT_ACTIONS)) expect(label && group).toBeTruthy();
    const grouped = AUDIT_ACTION_GROUPS.flatMap((g) => g.actions.map((a) => a.action));
    expect(grouped.sort()).toEqual(Object.keys(AUDIT_ACTIONS).sort());
  });
});
