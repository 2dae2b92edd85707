/**
 * Broadcast helpers for the controller and the API. Call them after the transaction commits.
 * No-ops when no socket.io server is attached (unit and route tests without a server).
 */
import type { HostView, OperationView, PairView } from "../views";
import { type AlarmJson, type AuditSummary, credentialRoom, pairRoom, ROOM_PAIRS, userRoom } from "./events";
import { getIo } from "./io";

export function publishPairState(view: PairView): void {
  getIo()?.to([ROOM_PAIRS, pairRoom(view.id)]).emit("pair:state", view);
}

export function publishOperation(view: OperationView): void {
  getIo()?.to([ROOM_PAIRS, pairRoom(view.pairId)]).emit("operation:update", view);
}

export function publishAlarm(alarm: AlarmJson): void {
  const rooms = [ROOM_PAIRS];
  if (alarm.pairId) rooms.push(pairRoom(alarm.pairId));
  getIo()?.to(rooms).emit("alarm:update", alarm);
}

export function publishHostState(view: HostView): void {
  getIo()?.to(ROOM_PAIRS).emit("host:state", view);
}

/** Accepts the audit row as appendAudit returns it, or its summary. */
export function publishAudit(event: AuditSummary | AuditRowLike): void {
  const io = getIo();
  if (!io) return;
  const summary = toSummary(event as unknown as Record<string, unknown>);
  const rooms = [ROOM_PAIRS];
  if (summary.pairId) rooms.push(pairRoom(summary.pairId));
  io.to(rooms).emit("audit:new", summary);
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
  getIo()?.in(credentialRoom(kind, id)).disconnectSockets(true);
}

/** Disconnect every live socket of a user (deleted user). */
export function disconnectUser(userId: string): void {
  getIo()?.in(userRoom(userId)).disconnectSockets(true);
}
