/**
 * server.ts's handle on the controller: a worker thread running worker.ts (its own event loop and
 * database pool), supervised: if the thread dies, it is started again (a new term takes over; agents
 * fence the old epoch). stop() asks it to end its term cleanly, and terminates it if it does not.
 */
import { Worker } from "node:worker_threads";
import type { Logger } from "@/lib/log";

export interface ControllerThread {
  stop(): Promise<void>;
}

const RESTART_DELAY_MS = 1000;
const STOP_TIMEOUT_MS = 10_000;

export function startControllerThread(o: { log: Logger; databaseUrl: string }): ControllerThread {
  const log = o.log.child({ component: "controller-thread" });
  let worker: Worker | null = null;
  let stopping = false;
  let restart: NodeJS.Timeout | null = null;

  const spawn = () => {
    // worker-entry.mjs registers the TypeScript loader in the new thread, then loads worker.ts.
    const w = new Worker(new URL("./worker-entry.mjs", import.meta.url), { name: "switchyard-controller", workerData: { databaseUrl: o.databaseUrl } });
    worker = w;
    w.on("error", (err) => log.error("controller thread failed", { err }));
    w.on("exit", (code) => {
      if (worker === w) worker = null;
      if (stopping) return;
      log.error("controller thread ended; starting it again", { code, inMs: RESTART_DELAY_MS });
      restart = setTimeout(spawn, RESTART_DELAY_MS);
    });
  };
  spawn();

  return {
    async stop() {
      stopping = true;
      if (restart) clearTimeout(restart);
      const w = worker;
      if (!w) return;
      const exited = new Promise<void>((resolve) => w.once("exit", () => resolve()));
      w.postMessage("stop");
      const timer = setTimeout(() => {
        log.warn("controller thread did not stop in time; terminating it", { timeoutMs: STOP_TIMEOUT_MS });
        void w.terminate();
      }, STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
