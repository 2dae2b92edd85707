/**
 * The live channel's one typed event map, shared by the server (lib/realtime/server.ts, publish.ts) and
 * the browser (socket.io-client). Types only, plus the zod schemas of what clients send: safe to import
 * from client components.
 *
 * Rooms: `pairs` (every authenticated socket), `pair:<id>` (joined with `pair:subscribe`),
 * `role:<role>` (e.g. `role:admin`).
 */
import { z } from "zod";
import type { HostView, OperationView, PairView } from "../views";

export interface AuditSummary {
  id: string;
  at: string;
  actor: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  pairId: string | null;
  outcome: string;
  durationMs: number | null;
  details: unknown;
  hash: string;
  prevHash: string;
}

export interface AlarmJson {
  id: string;
  kind: string;
  severity: "critical" | "major" | "minor" | "warning";
  pairId: string | null;
  hostId: string | null;
  message: string;
  details: unknown;
  /** The condition is present (not cleared). */
  active: boolean;
  /** Where the alarm is in its lifecycle (lib/queries/alarms.ts, alarmState). */
  state: AlarmState;
  raisedAt: string;
  clearedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  acknowledgeComment: string | null;
}

/**
 * An alarm's lifecycle. Critical and major alarms stay until a person acknowledges them, also after their
 * condition clears; minor and warning ones close by themselves when it clears.
 *   active ──ack──▶ acknowledged (condition may persist: `active`)
 *   active ──clears──▶ cleared_unacknowledged (critical, major) ──ack──▶ acknowledged
 *   active ──clears──▶ cleared (minor, warning: nothing to acknowledge)
 */
export const ALARM_STATES = ["active", "cleared_unacknowledged", "acknowledged", "cleared"] as const;
export type AlarmState = (typeof ALARM_STATES)[number];
/** Severities whose alarms wait for an acknowledgement after their condition clears. */
export const SEVERITIES_NEEDING_ACK = ["critical", "major"] as const;

/**
 * The leading controller's writes: to the database, or — while it cannot be reached — to its journal
 * (the controller goes on failing over; lib/controller/writes.ts). Sent on connect and on every change.
 */
export interface ControllerStateJson {
  writes: "database" | "journal";
  /** Records waiting in the journal. */
  pending: number;
  /** When the oldest of them was made. */
  since: string | null;
}

/** Acknowledgement of a client request. */
export type Ack = { ok: true } | { ok: false; error: { code: string; message: string } };

export interface ServerToClientEvents {
  /** One pair's view changed (room `pairs`). */
  "pair:state": (view: PairView) => void;
  /** All pairs, sent once after connect. */
  "pairs:snapshot": (views: PairView[]) => void;
  /** An operation changed (rooms `pairs` and `pair:<pairId>`). */
  "operation:update": (view: OperationView) => void;
  /** An alarm was raised, cleared or acknowledged (room `pairs`). */
  "alarm:update": (alarm: AlarmJson) => void;
  /** A host's link state changed (room `pairs`). */
  "host:state": (view: HostView) => void;
  /** A new audit row was committed (room `pairs`). */
  "audit:new": (event: AuditSummary) => void;
  /** The leading controller writes to its journal, or to the database again (room `pairs`). */
  "controller:state": (state: ControllerStateJson) => void;
}

export const PairSubscription = z.object({ pairId: z.uuid({ message: "pairId must be a UUID" }) }).strict();
export type PairSubscription = z.infer<typeof PairSubscription>;

export interface ClientToServerEvents {
  "pair:subscribe": (msg: PairSubscription, ack: (res: Ack) => void) => void;
  "pair:unsubscribe": (msg: PairSubscription, ack: (res: Ack) => void) => void;
}

export type InterServerEvents = Record<string, never>;

/** What the server keeps per socket. */
export interface SocketData {
  userId: string;
  username: string;
  role: "admin" | "operator" | "viewer";
  kind: "user" | "token";
  credentialId: string;
}

export const ROOM_PAIRS = "pairs";
export const pairRoom = (pairId: string) => `pair:${pairId}`;
export const roleRoom = (role: string) => `role:${role}`;
/** Internal rooms used to disconnect sockets when their session, token or user goes away. */
export const credentialRoom = (kind: "user" | "token", id: string) => `${kind === "user" ? "session" : "token"}:${id}`;
export const userRoom = (userId: string) => `user:${userId}`;
