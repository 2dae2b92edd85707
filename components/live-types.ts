/**
 * The socket.io event map of lib/realtime/events.ts (the API engineer's contract), re-exported with the
 * names the panel uses.
 */
export type {
  ServerToClientEvents,
  ClientToServerEvents,
  AlarmJson as AlarmView,
  AuditSummary as AuditEventView,
  ControllerStateJson,
} from "@/lib/realtime/events";
