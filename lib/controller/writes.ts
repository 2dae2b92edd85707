/**
 * Every record the controller writes while it leads goes through here, in order: to the database, or —
 * while the database cannot be reached — to the journal (journal.ts), written to the database in the same
 * order once it is back. Failing over a SIP Server never depends on the panel's database.
 *
 * - The hot path (the operation's row in front of its first command) waits for the database at most
 *   HOT_BUDGET_MS: past that, or on an error saying the database cannot be reached, the record goes to the
 *   journal and the command goes out. (If the late INSERT commits after all, the journal's copy finds it
 *   there when it is written: nothing twice.)
 * - While the journal holds records, every new record joins it (order is kept); a probe every
 *   PROBE_EVERY_MS finds the database back and writes them, oldest first, each marked done in the file.
 * - A record the database refuses for another reason (e.g. its pair was deleted meanwhile) is logged and
 *   dropped, as it would have been without the journal.
 */
import { db } from "@/lib/db";
import { poolExec, type Exec } from "@/lib/db/connection";
import { isUnreachable } from "@/lib/db/errors";
import { clearAlarm, raiseAlarm, type AlarmSpec } from "@/lib/queries/alarms";
import type { AlarmJson } from "@/lib/realtime/events";
import {
  insertOperation,
  insertRequestedOperation,
  recordAddedSteps,
  recordFinish,
  recordNoAction,
  recordOperationEvent,
  recordStep,
  type NewOperation,
} from "@/lib/queries/operations";
import { recordModeChanges, type ModeChange } from "@/lib/queries/status";
import { AuditQueue, type AuditRunner } from "@/lib/queries/tx";
import { Journal, type FinishEnd, type JournalEntry, type JournalRecord } from "./journal";
import { waitAtMost, type OperationRecord, type PlannedStep, type StepRecord } from "./model";

/** The longest the failover's hot path waits for the database before it acts on the journal. */
export const HOT_BUDGET_MS = 250;
const PROBE_EVERY_MS = 1000;

export interface WritesStatus {
  /** "database": records go to the database; "journal": it cannot be reached, they wait in the journal. */
  mode: "database" | "journal";
  pending: number;
  since: number | null;
}

export class Writes {
  /** Every audited record of the controller, in order (lib/queries/tx.ts). */
  private readonly queue = new AuditQueue();
  private probe: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  /** The database is known to be away (see databaseAway), since when (ms). */
  private away = false;
  private awaySince: number | null = null;
  /** The pending count the panel was last told. */
  private told = 0;

  constructor(
    private readonly o: {
      journal: Journal;
      log: { info(m: string, f?: object): void; warn(m: string, f?: object): void; error(m: string, f?: object): void };
      /** The mode changed (the panel shows that the controller runs on its journal). */
      onStatus: (s: WritesStatus) => void;
    },
  ) {}

  status(): WritesStatus {
    this.told = this.o.journal.pending;
    return { mode: this.journaling ? "journal" : "database", pending: this.o.journal.pending, since: this.o.journal.since ?? this.awaySince };
  }

  /** Records left by a controller killed during an outage: written first. */
  adoptOrphans() {
    const n = this.o.journal.adoptOrphans();
    if (n) {
      this.o.log.warn("controller: records of a previous controller's journal will be written first", { records: n });
      this.o.onStatus(this.status());
      this.startProbe();
    }
  }

  // ---------------------------------------------------------------- the records

  /** The hot path: the operation's row on the term's own connection, waiting for it at most HOT_BUDGET_MS. */
  async insertOperation(row: NewOperation & { id: string }, hot: Exec): Promise<OperationRecord | null> {
    const at = Date.now();
    const rec = { t: "insertOperation" as const, row: { ...row, at } };
    if (this.journaling) return this.journaled(rec).op;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), HOT_BUDGET_MS)));
    const insert = insertOperation({ ...row, at }, hot);
    try {
      const r = await Promise.race([insert, late]);
      if (r !== "late") return r;
      insert.catch(() => undefined);
      this.o.log.warn("controller: the database did not answer in time: acting on the journal", { budgetMs: HOT_BUDGET_MS });
      return this.journaled(rec).op;
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      this.down(err);
      return this.journaled(rec).op;
    } finally {
      clearTimeout(timer);
    }
  }

  insertRequested(row: NewOperation & { id: string }, request: { target: { id: string; name: string; hostName: string } | null }): Promise<OperationRecord | null> {
    const rec = { t: "insertRequested" as const, row: { ...row, at: Date.now() }, request };
    return this.write(rec, () => insertRequestedOperation(rec.row, request), () => this.journaled(rec).op);
  }

  operationEvent(op: OperationRecord, action: "operation.decided" | "operation.started" | "operation.reconciled", details: Record<string, unknown>) {
    return this.record({ t: "operationEvent", op: snapshot(op), action, details });
  }

  step(op: OperationRecord, step: StepRecord, epoch: number) {
    return this.record({ t: "step", op: snapshot(op), step, epoch });
  }

  addedSteps(op: OperationRecord, steps: PlannedStep[]) {
    return this.record({ t: "addedSteps", op: snapshot(op), steps });
  }

  finish(op: OperationRecord, end: FinishEnd) {
    return this.record({ t: "finish", op: snapshot(op), end });
  }

  noAction(pairId: string, reason: string, epoch: number) {
    return this.record({ t: "noAction", pairId, reason, epoch });
  }

  modes(modes: ModeChange[], epoch: number) {
    return this.record({ t: "modes", modes, epoch });
  }

  /** The raised alarm, or null (already active, its pair gone, or journaled: published when written). */
  raiseAlarm(spec: AlarmSpec): Promise<AlarmJson | null> {
    const rec = { t: "raiseAlarm" as const, spec };
    return this.write(rec, () => raiseAlarm(this.queue, spec), () => (this.journaled(rec), null));
  }

  clearAlarm(key: string): Promise<AlarmJson[]> {
    const rec = { t: "clearAlarm" as const, key };
    return this.write(rec, () => clearAlarm(this.queue, key), () => (this.journaled(rec), []));
  }

  // ---------------------------------------------------------------- database or journal

  /** Records go to the journal: the database is known to be away, or records are waiting there. */
  private get journaling(): boolean {
    return this.away || this.o.journal.pending > 0;
  }

  /**
   * The database is known to be away (the leader's lock connection died): records go to the journal from
   * now on, without trying it first — the failover's hot path pays nothing for an outage already seen.
   */
  databaseAway(reason: string) {
    if (this.journaling) return void (this.away = true);
    this.away = true;
    this.awaySince = Date.now();
    this.o.log.warn("controller: the database cannot be reached: acting on the journal until it is back", { reason });
    this.o.onStatus(this.status());
    this.startProbe();
  }

  private async record(rec: JournalRecord): Promise<void> {
    await this.write(rec, () => apply(rec, this.queue), () => void this.journaled(rec));
  }

  /** Writes to the database unless records are waiting in the journal; journals when it cannot be reached. */
  private async write<T>(rec: JournalRecord, toDb: () => Promise<T>, toJournal: () => T): Promise<T> {
    if (this.journaling) return toJournal();
    try {
      return await toDb();
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      this.down(err);
      return toJournal();
    }
  }

  private journaled(rec: JournalRecord): { entry: JournalEntry; op: OperationRecord | null } {
    const first = !this.journaling;
    const entry = this.o.journal.append(rec);
    if (first) this.o.onStatus(this.status());
    this.startProbe();
    const op = rec.t === "insertOperation" || rec.t === "insertRequested" ? asCreated(rec.row) : null;
    return { entry, op };
  }

  private down(err: unknown) {
    if (this.journaling) return;
    this.o.log.warn("controller: the database cannot be reached: acting on the journal until it is back", { err: (err as Error).message });
    this.away = true;
    this.awaySince = Date.now();
  }

  private startProbe() {
    if (this.probe || this.closed) return;
    this.probe = setInterval(() => void this.flush(), PROBE_EVERY_MS);
    this.probe.unref();
  }

  /** Writes the journal to the database, oldest first, if it can be reached; resolves when tried. */
  flush(): Promise<void> {
    this.flushing ??= (async () => {
      const j = this.o.journal;
      if (!this.journaling) return;
      try {
        await db.$queryRaw`SELECT 1`;
      } catch {
        if (j.pending !== this.told) this.o.onStatus(this.status()); // still away; the panel sees the count grow
        return;
      }
      const t0 = Date.now();
      const n = j.pending;
      for (let e = j.next(); e; e = j.next()) {
        try {
          await apply(e, this.queue.dated(new Date(e.at)));
        } catch (err) {
          if (isUnreachable(err)) return; // gone again: next probe
          this.o.log.error("controller: a journaled record was refused by the database (dropped)", { record: e.t, err });
        }
        j.done(e.seq);
      }
      this.away = false;
      this.awaySince = null;
      if (this.probe) clearInterval(this.probe);
      this.probe = null;
      this.o.log.info("controller: the database is back: the journal is written", { records: n, ms: Date.now() - t0 });
      this.o.onStatus(this.status());
    })().finally(() => (this.flushing = null));
    return this.flushing;
  }

  /** Stops probing; one last try to write what is pending (the next controller adopts what is left). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.probe) clearInterval(this.probe);
    this.probe = null;
    if (this.journaling) await waitAtMost(this.flush(), 2000);
    this.o.journal.close();
  }
}

/** The record's lib/queries call. Replays are idempotent where it matters: an operation already there is skipped. */
async function apply(rec: JournalRecord, queue: AuditRunner): Promise<void> {
  switch (rec.t) {
    case "insertOperation":
      await insertOperation(rec.row, poolExec); // null when it is there already (the late INSERT committed after all)
      return;
    case "insertRequested":
      await insertRequestedOperation(rec.row, rec.request);
      return;
    case "operationEvent":
      await recordOperationEvent(queue, rec.op, rec.action, rec.details);
      return;
    case "step":
      await recordStep(queue, rec.op, rec.step, rec.epoch);
      return;
    case "addedSteps":
      await recordAddedSteps(queue, rec.op, rec.steps);
      return;
    case "finish":
      await recordFinish(queue, rec.op, rec.end);
      return;
    case "noAction":
      await recordNoAction(queue, rec.pairId, rec.reason, rec.epoch);
      return;
    case "modes":
      await recordModeChanges(queue, rec.modes, rec.epoch);
      return;
    case "raiseAlarm":
      await raiseAlarm(queue, rec.spec);
      return;
    case "clearAlarm":
      await clearAlarm(queue, rec.key);
      return;
  }
}

/** A plain copy of the record as it is now (steps included): what the journal keeps. */
function snapshot(op: OperationRecord): OperationRecord {
  return { ...op, steps: op.steps.map((s) => ({ ...s, output: s.output ? [...s.output] : null })) };
}

/** The OperationRecord of a journaled new row (what the database would have returned). */
function asCreated(row: NewOperation & { id: string; at: number }): OperationRecord {
  const { at, steps, ...o } = row;
  return { ...o, params: o.params ?? {}, error: null, createdAt: at, startedAt: o.status === "running" ? at : null, finishedAt: null, steps: steps.map((s) => ({ ...s, status: "pending", startedAt: null, finishedAt: null, ack: null, output: null, error: null })) };
}
