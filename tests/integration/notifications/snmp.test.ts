/**
 * Notifications by SNMP v2c trap: a net-snmp receiver started by the test (its own port, the channel's
 * community only) receives the alarm's trap with the MIB's variables (deploy/snmp/SWITCHYARD-MIB.txt).
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createSocket } from "node:dgram";
import snmp from "net-snmp";
import { db } from "@/lib/db";
import { AuditQueue } from "@/lib/queries/tx";
import { raiseAlarm } from "@/lib/queries/alarms";
import { waitFor } from "../controller/lab";
import { clearNotifications, startDispatcher } from "./helpers";
import { TRAP_NUMBERS, TRAP_VARIABLES } from "@/lib/notifications/snmp";

async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await clearNotifications();
});
afterAll(clearNotifications);

describe("SNMP trap notifications", () => {
  it("an alarm raised: one v2c trap with the channel's community, the trap OID and the variables", async () => {
    const port = await freeUdpPort();
    const traps: snmp.Notification[] = [];
    const errors: Error[] = [];
    const receiver = snmp.createReceiver({ port, address: "127.0.0.1", includeAuthentication: true }, (err, n) => (err ? errors.push(err) : traps.push(n!)));
    receiver.getAuthorizer().addCommunity("noc-community");
    closers.push(() => new Promise<void>((r) => receiver.close(() => r())));

    const enterprise = "1.3.6.1.4.1.99999";
    const ch = await db.notificationChannel.create({ data: { name: `trap-${Date.now()}`, type: "snmp", secret: "noc-community", config: { host: "127.0.0.1", port, enterpriseOid: enterprise, timeoutMs: 2000 } } });
    await db.notificationRule.create({ data: { name: "traps", channelId: ch.id, events: ["alarm.raised"], kinds: ["duplicate_vip"] } });
    const d = await startDispatcher();
    closers.push(() => d.stop());

    await raiseAlarm(new AuditQueue(), { kind: "duplicate_vip", severity: "critical", pairId: null, hostId: null, message: "10.0.0.5 answers from two MACs", details: {} });
    const [trap] = await waitFor("the trap", async () => (traps.length ? traps : null), 5000);
    const row = await waitFor("marked sent", async () => {
      const r = await db.notificationDelivery.findFirst({ where: { channelId: ch.id } });
      return r?.status === "sent" ? r : null;
    });
    expect(errors).toEqual([]);
    expect(trap!.pdu.community).toBe("noc-community");
    const vb = new Map(trap!.pdu.varbinds.map((v) => [v.oid, Buffer.isBuffer(v.value) ? v.value.toString("utf8") : v.value]));
    expect(vb.get("1.3.6.1.6.3.1.1.4.1.0")).toBe(`${enterprise}.1.0.1`); // snmpTrapOID: swyAlarmRaised
    expect(vb.get(`${enterprise}.2.2.0`)).toBe("critical");
    expect(vb.get(`${enterprise}.2.3.0`)).toBe("duplicate_vip");
    expect(vb.get(`${enterprise}.2.4.0`)).toBe("10.0.0.5 answers from two MACs");
    expect(vb.get(`${enterprise}.2.5.0`)).toBe("alarm.raised");
    expect(vb.get(`${enterprise}.2.6.0`)).toBe(row.id);
    await new Promise((r) => setTimeout(r, 200));
    expect(traps).toHaveLength(1);
  });

  it("the shipped MIB parses and names every trap and variable the channel sends", () => {
    const store = (snmp as unknown as { createModuleStore(): { loadFromFile(f: string): void; getModule(n: string): Record<string, { OID?: string; MACRO?: string; OBJECTS?: string[] }> } }).createModuleStore();
    store.loadFromFile("deploy/snmp/SWITCHYARD-MIB.txt");
    const mib = store.getModule("SWITCHYARD-MIB");
    const byOid = new Map(Object.values(mib).filter((o) => o?.OID).map((o) => [o.OID!, o]));
    const E = "1.3.6.1.4.1.99999";
    for (const n of Object.values(TRAP_NUMBERS)) expect(byOid.get(`${E}.1.0.${n}`)?.MACRO).toBe("NOTIFICATION-TYPE");
    for (const [n] of TRAP_VARIABLES) expect(byOid.get(`${E}.2.${n}`)?.MACRO).toBe("OBJECT-TYPE");
    expect(byOid.get(`${E}.1.0.1`)?.OBJECTS).toHaveLength(TRAP_VARIABLES.length);
  });
});
