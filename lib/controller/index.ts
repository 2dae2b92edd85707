/**
 * The controller (role of Genesys SCS). Contract used by server.ts:
 *   const controller = await startController({ io, log });  ...  await controller.stop();
 *
 * Every panel instance starts one; exactly one acts at a time (leader lock in Postgres, see leader.ts).
 * The others stay standby and take over within about a second when the leader's connection dies.
 * SWITCHYARD_CONTROLLER=off disables it in this process (API and UI only).
 */
import type { Server as SocketIOServer } from "socket.io";
import { ActiveController, type CtlLog } from "./controller";
import { Leadership, newControllerId } from "./leader";
import { clearLocalController, setLocalController, type LocalController } from "./local";

export interface ControllerHandle {
  stop(): Promise<void>;
  /** This process's controller id, and its epoch while it is the leader. */
  readonly id: string;
  readonly epoch: number | null;
}

export interface ControllerDeps {
  io: SocketIOServer | null;
  log: CtlLog;
  /** Defaults to process.env.DATABASE_URL (set by initDatabase). */
  databaseUrl?: string;
}

export async function startController(deps: ControllerDeps): Promise<ControllerHandle> {
  const log = deps.log;
  const id = newControllerId();
  if (process.env.SWITCHYARD_CONTROLLER === "off") {
    log.info("controller: disabled in this process (SWITCHYARD_CONTROLLER=off)");
    return { id, epoch: null, async stop() {} };
  }
  const url = deps.databaseUrl ?? process.env.DATABASE_URL;
  if (!url) throw new Error("controller: DATABASE_URL is not set (call initDatabase first)");
  let active: ActiveController | null = null;
  let handle: LocalController | null = null;
  const leadership = new Leadership(url, id, {
    log,
    onAcquire: async (term) => {
      const a = new ActiveController(term.epoch, id, log);
      a.databaseUrl = url;
      active = a;
      try {
        await a.start();
        // Ready and still ours: the API routes of this process hand requests to it directly (local.ts).
        if (active === a && leadership.epoch === term.epoch) {
          handle = a.localHandle();
          setLocalController(handle);
        }
      } catch (err) {
        log.error("controller: start of the term failed", { err, epoch: term.epoch });
      }
    },
    onLose: async () => {
      if (handle) clearLocalController(handle);
      handle = null;
      const a = active;
      active = null;
      await a?.stop();
    },
    onNotify: (channel, payload) => active?.onNotify(channel, payload),
  });
  leadership.start();
  log.info("controller: started (standing by for leadership)", { controllerId: id });
  return {
    id,
    get epoch() {
      return leadership.epoch;
    },
    async stop() {
      await leadership.stop();
    },
  };
}
