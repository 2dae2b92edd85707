/**
 * SNMP v2c trap channel (net-snmp): one trap per delivery to host:port, with the channel's community (its
 * write-only secret) and enterprise OID. The trap and its variables are described by
 * deploy/snmp/SWITCHYARD-MIB.txt (under the enterprise OID E):
 *   E.1.0.n   the notifications: 1 alarm raised, 2 cleared, 3 acknowledged, 4 operation finished, 5 test
 *   E.2.n.0   the variables: 1 pair, 2 severity, 3 kind, 4 message, 5 event, 6 delivery id (the
 *             idempotency key), 7 time, 8 operator, 9 comment, 10 result
 * A trap has no acknowledgement: "sent" means handed to the network.
 */
import { isIP } from "node:net";
import snmp from "net-snmp";
import type { SnmpConfig } from "@/lib/validation/notifications";
import type { NotificationEventName, NotificationPayload } from "./events";

export const TRAP_NUMBERS: Record<NotificationEventName, number> = {
  "alarm.raised": 1,
  "alarm.cleared": 2,
  "alarm.acknowledged": 3,
  "operation.finished": 4,
  test: 5,
};

/** Variable number under E.2 → the payload field it carries. */
export const TRAP_VARIABLES: [number, keyof NotificationPayload | "deliveryId"][] = [
  [1, "pair"],
  [2, "severity"],
  [3, "kind"],
  [4, "message"],
  [5, "event"],
  [6, "deliveryId"],
  [7, "time"],
  [8, "operator"],
  [9, "comment"],
  [10, "result"],
];

export function trapOid(enterprise: string, event: NotificationEventName): string {
  return `${enterprise}.1.0.${TRAP_NUMBERS[event]}`;
}

export function trapVarbinds(enterprise: string, p: NotificationPayload, deliveryId: string): snmp.Varbind[] {
  const vars: Record<string, unknown> = { ...p, deliveryId };
  return TRAP_VARIABLES.map(([n, field]) => ({ oid: `${enterprise}.2.${n}.0`, type: snmp.ObjectType.OctetString, value: String(vars[field] ?? "").slice(0, 1000) }));
}

export function sendTrap(cfg: SnmpConfig, community: string | null, p: NotificationPayload, deliveryId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const session = snmp.createSession(cfg.host, community ?? "public", {
      version: snmp.Version2c,
      trapPort: cfg.port,
      timeout: cfg.timeoutMs,
      transport: isIP(cfg.host) === 6 ? "udp6" : "udp4",
    });
    const timer = setTimeout(() => done(new Error(`the trap was not sent within ${cfg.timeoutMs} ms`)), cfg.timeoutMs);
    let finished = false;
    const done = (err: Error | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      try {
        session.close();
      } catch {
        // closed already
      }
      if (err) reject(new Error(err.message));
      else resolve();
    };
    session.on("error", done);
    session.trap(trapOid(cfg.enterpriseOid, p.event), trapVarbinds(cfg.enterpriseOid, p, deliveryId), {}, done);
  });
}
