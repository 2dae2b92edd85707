/**
 * Broadcast helpers for the controller and the API. Call them after the transaction commits.
 *
 * They work from any thread and any module graph (server.ts, a Next route handler, the controller's
 * thread): each message goes out on one named channel (a node:worker_threads BroadcastChannel), and the
 * socket.io server of this process (server.ts → lib/realtime/server.ts) delivers it to the rooms. With no
 * socket.io server in the process (unit and route tests), nobody listens and nothing happens.
 */
import { BroadcastChannel } from "node:worker_threads";
import type { HostView, OperationView, PairView } from "../views";
import { type AlarmJson, type AuditSummary, type ControllerStateJson, type ServerToClientEvents, credentialRoom, pairRoom, ROOM_PAIRS, userRoom } from "./events";

export const REALTIME_CHANNEL = "switchyard:realtime";

/** One message on the realtime channel: an event for some rooms, or "disconnect the sockets of a room". */
export type Broadcast =
  | { [E in keyof ServerToClientEvents]: { rooms: string[]; event: E; payload: Parameters<ServerToClientEvents[E]>[0] } }[keyof ServerToClientEvents]
  | { disconnect: string };

let channel: BroadcastChannel | null = null;

function post(m: Broadcast) {
  if (!channel) {
    channel = new BroadcastChannel(REALTIME_CHANNEL);
    channel.unref();
  }
  channel.postMessage(m);
}

export function publishPairState(view: PairView): void {
  post({ rooms: [ROOM_PAIRS, pairRoom(view.id)], event: "pair:state", payload: view });
}

export function publishOperation(view: OperationView): void {
  post({ rooms: [ROOM_PAIRS, pairRoom(view.pairId)], event: "operation:update", payload: view });
}

export function publishAlarm(alarm: AlarmJson): void {
  post({ rooms: alarm.pairId ? [ROOM_PAIRS, pairRoom(alarm.pairId)] : [ROOM_PAIRS], event: "alarm:update", payload: alarm });
}

export function publishHostState(view: HostView): void {
  post({ rooms: [ROOM_PAIRS], event: "host:state", payload: view });
}

export function publishControllerState(state: ControllerStateJson): void {
  post({ rooms: [ROOM_PAIRS], event: "controller:state", payload: state });
}

/** Accepts the audit row as appendAudit returns it (bigint id, Date at), or its summary. */
export function publishAudit(event: AuditSummary | AuditRowLike): void {
  const summary = toSummary(event as unknown as Record<string, unknown>);
  post({ rooms: summary.pairId ? [ROOM_PAIRS, pairRoom(summary.pairId)] : [ROOM_PAIRS], event: "audit:new", payload: summary });
}

/** The shape appendAudit returns (bigint id, Date at). */
export type AuditRowLike = Omit<AuditSummary, "id" | "at"> & { id: bigint | string; at: Date | string };

function toSummary(e: Record<string, unknown>): AuditSummary {
  const at = e.at instanceof Date ? e.at.toISOString() : String(e.at);
  return {
    id: String(e.id),
    at,
    actor: String(e.actor),
    action: String(e.action),
    targetType: (e.targetType as string | null) ?? null,
    targetId: (e.targetId as string | null) ?? null,
    pairId: (e.pairId as string | null) ?? null,
    outcome: String(e.outcome),
    durationMs: (e.durationMs as number | null) ?? null,
    details: e.details ?? {},
    hash: String(e.hash),
    prevHash: String(e.prevHash),
  };
}

/** Disconnect live sockets authenticated by a session or token that was just revoked (every instance). */
export function disconnectCredential(kind: "user" | "token", id: string): void {
  post({ disconnect: credentialRoom(kind, id) });
}

/** Disconnect every live socket of a user (deleted user). */
export function disconnectUser(userId: string): void {
  post({ disconnect: userRoom(userId) });
}
