/**
 * The controller (role of Genesys SCS), run in this thread:
 *
 *   const controller = await runController({ log, databaseUrl });  ...  await controller.stop();
 *
 * Every panel instance runs one (in its own thread: thread.ts); exactly one acts at a time (leader lock
 * in Postgres, leader.ts); the others stand by and take over within about a second when the leader's
 * connection dies. Each term of leadership is a Term (term.ts). The web side reaches the leading term by
 * the channel of messages.ts (service.ts answers).
 *
 * Where it runs: server.ts starts it in a worker thread (thread.ts → worker.ts); `npm run controller` runs
 * it alone in a process (main.ts); tests run it in their own thread, with injected hooks.
 */
import path from "node:path";
import { config } from "@/lib/config";
import { publishControllerState } from "@/lib/realtime/publish";
import { Journal } from "./journal";
import type { StepRecord } from "./model";
import { Leadership, newControllerId } from "./leader";
import { ControllerMetrics } from "./metrics";
import { ControllerService } from "./service";
import { Term, type ControllerLog } from "./term";
import { Writes, type WritesStatus } from "./writes";

export interface ControllerHandle {
  /** This controller's id, and its epoch while it leads. */
  readonly id: string;
  readonly epoch: number | null;
  stop(): Promise<void>;
}

export interface ControllerOptions {
  log: ControllerLog;
  databaseUrl: string;
  /** Where the journal is kept while the database cannot be reached (default: SWITCHYARD_JOURNAL_DIR). */
  journalDir?: string;
  /** Injected by tests only (see TermOptions.afterStep). */
  afterStep?: (step: StepRecord, settled: () => Promise<void>) => void | Promise<void>;
}

export function runController(o: ControllerOptions): ControllerHandle {
  const id = newControllerId();
  const log = o.log;
  /** The term of the current leadership, from acquisition; `ready` once it serves requests. */
  let term: Term | null = null;
  let ready: Term | null = null;
  // The journal and the writes outlive terms: records of a term that ended are still written, in order.
  const journal = new Journal(o.journalDir ?? journalDir());
  const onStatus = (s: WritesStatus) => {
    service.announce();
    if (leadership.epoch !== null) publishControllerState({ writes: s.mode, pending: s.pending, since: s.since === null ? null : new Date(s.since).toISOString() });
  };
  const writes = new Writes({ journal, log, onStatus: (s) => onStatus(s) });
  const metrics = new ControllerMetrics();
  metrics.setSource(() => ready?.metricsSource() ?? null);
  const service = new ControllerService(id, () => ready, metrics, () => {
    const s = writes.status();
    return s.mode === "journal" ? { pending: s.pending, since: s.since } : null;
  }, log);
  const leadership = new Leadership(o.databaseUrl, id, {
    log,
    onAcquire: async ({ epoch, clusterId }) => {
      const t = new Term({
        epoch,
        controllerId: id,
        clusterId,
        log,
        databaseUrl: o.databaseUrl,
        writes,
        afterStep: o.afterStep,
        metrics,
        // Outside the term's own call stack: advancing ends this term and starts the next.
        onHigherEpoch: (above) => setImmediate(() => void leadership.advance(above)),
      });
      term = t;
      try {
        await t.start();
        if (term === t && leadership.epoch === epoch) {
          ready = t;
          service.announce();
        }
      } catch (err) {
        log.error("controller: start of the term failed", { err, epoch });
      }
    },
    onLose: async () => {
      const t = term;
      term = ready = null;
      service.announce();
      await t?.stop();
    },
    onNotify: (channel, payload) => term?.onNotify(channel, payload),
    onDetached: (reason) => {
      // Away: records go to the journal at once. Back: the journal is written, the term looks for what it missed.
      if (reason !== null) return writes.databaseAway(reason);
      void writes.flush();
      term?.resync();
    },
  });
  writes.adoptOrphans();
  leadership.start();
  service.announce();
  log.info("controller: started (standing by for leadership)", { controllerId: id });
  return {
    id,
    get epoch() {
      return leadership.epoch;
    },
    async stop() {
      await leadership.stop();
      await writes.close();
      service.announce();
      service.close();
      metrics.close();
    },
  };
}

/** SWITCHYARD_JOURNAL_DIR, else journal/ in the data folder (SWITCHYARD_DATA_DIR, else ./.data). */
function journalDir(): string {
  const c = config();
  return path.resolve(c.SWITCHYARD_JOURNAL_DIR || path.join(c.SWITCHYARD_DATA_DIR || ".data", "journal"));
}
