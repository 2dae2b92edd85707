/**
 * The controller (role of Genesys SCS). Contract used by server.ts:
 *   const controller = await startController({ io, log });  ...  await controller.stop();
 * Placeholder until the controller lands: it does nothing.
 */
import type { Server as SocketIOServer } from "socket.io";

export interface ControllerHandle {
  stop(): Promise<void>;
}

export interface ControllerDeps {
  io: SocketIOServer;
  log: { info: (msg: string, fields?: object) => void; warn: (msg: string, fields?: object) => void; error: (msg: string, fields?: object) => void };
}

export async function startController(_deps: ControllerDeps): Promise<ControllerHandle> {
  return { async stop() {} };
}
