/** The one socket.io server of this process, kept on globalThis so Next's bundled route modules see it too. */
import type { Server as SocketIOServer } from "socket.io";
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from "./events";

export type RealtimeServer = SocketIOServer<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

const KEY = Symbol.for("switchyard.io");
type Holder = Record<symbol, RealtimeServer | undefined>;

export function getIo(): RealtimeServer | undefined {
  return (globalThis as unknown as Holder)[KEY];
}

export function setIo(io: RealtimeServer | undefined): void {
  (globalThis as unknown as Holder)[KEY] = io;
}
