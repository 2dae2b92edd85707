/**
 * Pairs with their VIP, policy and two servers. `servers[0]` is SIP Server 1 (configured primary),
 * `servers[1]` SIP Server 2 (configured backup); they must sit on two different hosts.
 */
import { SocketAddress } from "node:net";
import { z } from "zod";
import { InterfaceName, IpAddress, ipFamily, Name, Uuid } from "./common";

export const ServerInput = z
  .object({
    name: Name,
    hostId: Uuid,
    /** The application's name in that host's agent configuration. */
    appName: Name,
  })
  .strict();
export type ServerInput = z.infer<typeof ServerInput>;

const int = (min: number, max: number, what: string) =>
  z
    .number({ message: "must be a number" })
    .int("must be a whole number")
    .min(min, `must be at least ${min}${what}`)
    .max(max, `must be at most ${max}${what}`);

export const PairPolicy = z
  .object({
    autoFailover: z.boolean({ message: "must be true or false" }),
    disconnectGraceSeconds: int(0, 3600, " seconds"),
    heartbeatTimeoutMs: int(200, 60_000, " ms"),
    holdDownSeconds: int(0, 86_400, " seconds"),
    maintenance: z.boolean({ message: "must be true or false" }),
  })
  .strict();

const Servers = z
  .array(ServerInput, { message: "must be a list of two servers" })
  .length(2, "a pair has exactly two servers: [SIP Server 1 (primary), SIP Server 2 (backup)]")
  .superRefine((servers, ctx) => {
    if (servers.length !== 2) return;
    if (servers[0].hostId === servers[1].hostId) {
      ctx.addIssue({ code: "custom", path: [1, "hostId"], message: "the two servers must be on two different hosts" });
    }
    if (servers[0].name === servers[1].name) {
      ctx.addIssue({ code: "custom", path: [1, "name"], message: "the two servers must have different names" });
    }
  });

/** Prefix length must fit the address family. */
function checkVip(v: { vipAddress?: string; vipPrefix?: number }, ctx: z.RefinementCtx) {
  if (v.vipAddress === undefined || v.vipPrefix === undefined) return;
  const family = ipFamily(v.vipAddress);
  const max = family === 6 ? 128 : 32;
  if (family !== 0 && v.vipPrefix > max) {
    ctx.addIssue({ code: "custom", path: ["vipPrefix"], message: `must be between 1 and ${max} for an IPv${family} address` });
  }
}

/**
 * The one text of an IP address, so that equal VIPs compare equal (the uniqueness check in
 * lib/queries/pairs.ts compares strings): IPv6 in lower case with the longest run of zero groups
 * compressed (RFC 5952, by the system's inet_ntop: the form `ip addr` and Postgres's inet print, e.g.
 * `2001:DB8:0:0:0:0:0:10` → `2001:db8::10`, `::FFFF:192.0.2.1` → `::ffff:192.0.2.1`); IPv4 as given (the
 * schema already refuses leading zeros, so its dotted quad is the canonical one).
 */
export function canonicalIp(address: string): string {
  return ipFamily(address) === 6 ? new SocketAddress({ address, family: "ipv6" }).address : address;
}

/** A VIP: a valid address, stored and compared in its canonical form. */
export const VipAddress = IpAddress.transform(canonicalIp);

const PairFields = z
  .object({
    name: Name,
    vipAddress: VipAddress,
    vipPrefix: int(1, 128, ""),
    vipInterface: InterfaceName,
    servers: Servers,
  })
  .extend(PairPolicy.partial().shape);

export const PairCreate = PairFields.strict().superRefine(checkVip);
export type PairCreate = z.infer<typeof PairCreate>;

/**
 * Partial update. Changing the VIP needs address and prefix together only when the family changes; the
 * route checks the merged result with `checkMergedVip`.
 */
export const PairUpdate = PairFields.partial()
  .strict()
  .superRefine(checkVip)
  .refine((v) => Object.keys(v).length > 0, "give at least one field to change");
export type PairUpdate = z.infer<typeof PairUpdate>;

/** Validates the VIP of an existing pair merged with an update. */
export const PairVip = z
  .object({ vipAddress: VipAddress, vipPrefix: int(1, 128, "") })
  .superRefine(checkVip);
