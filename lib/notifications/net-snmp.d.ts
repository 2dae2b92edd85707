/** The part of net-snmp (no types of its own) that the SNMP channel and its test use. */
declare module "net-snmp" {
  export const Version2c: number;
  export const ObjectType: { OctetString: number; OID: number; TimeTicks: number; Integer: number };
  export interface Varbind {
    oid: string;
    type: number;
    value: unknown;
  }
  export interface Session {
    trap(oid: string, varbinds: Varbind[], options: { upTime?: number }, cb: (err: Error | null) => void): void;
    close(): void;
    on(event: "error", cb: (err: Error) => void): void;
  }
  export function createSession(target: string, community: string, options: { version: number; trapPort: number; port?: number; timeout?: number; transport?: "udp4" | "udp6" }): Session;
  export interface Notification {
    /** `community` with includeAuthentication (v2c). */
    pdu: { type: number; varbinds: Varbind[]; community?: string };
    rinfo: { address: string; port: number };
  }
  export interface Receiver {
    getAuthorizer(): { addCommunity(c: string): void };
    close(cb?: () => void): void;
  }
  export function createReceiver(options: { port: number; address?: string; disableAuthorization?: boolean; includeAuthentication?: boolean; transport?: string }, cb: (err: Error | null, n: Notification | null) => void): Receiver;
}
