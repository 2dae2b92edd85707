/**
 * The change and its audit row in one transaction; the live `audit:new` only after the commit.
 *
 *   const host = await audited(async (tx, audit) => { const h = await tx.host.create(...); await audit({...}); return h; });
 *
 * `AuditQueue` is the same thing for a writer with many small records in a row (the controller's steps,
 * decisions, alarms): every record appends to the audit chain, whose advisory lock serialises them
 * anyway, so one queue commits whatever is waiting (up to AUDIT_BATCH_MAX) in one transaction instead of
 * one pool connection per record waiting for that lock (which starved the pool at 50 failovers at once).
 * A failed batch is retried record by record, so one bad record (a pair deleted meanwhile) fails alone.
 */
import { db, type Prisma } from "@/lib/db";
import type { AuditEvent, AuditInput } from "@/lib/audit";
import { auditAnchor } from "@/lib/audit-anchor";
import { isUnreachable } from "@/lib/db/errors";
import { appendAudit } from "./audit-chain";
import { publishAudit } from "@/lib/realtime/publish";

export type Tx = Prisma.TransactionClient;
export type AuditFn = (e: AuditInput) => Promise<AuditEvent>;
export type AuditedWork<T> = (tx: Tx, audit: AuditFn) => Promise<T>;

/** Most records per transaction of an AuditQueue. */
export const AUDIT_BATCH_MAX = 25;
const QUEUE_TX = { maxWait: 10_000, timeout: 30_000 };

/**
 * Runs every piece of work in ONE transaction, in order; publishes their audit rows after the commit. A
 * piece of work with a time (`at`) dates its audit rows then (records written late, from a journal).
 */
async function commit(works: { work: AuditedWork<unknown>; at?: Date }[], options?: { maxWait: number; timeout: number }): Promise<unknown[]> {
  const events: AuditEvent[] = [];
  const results = await db.$transaction(async (tx) => {
    events.length = 0; // a retried transaction starts over
    const out: unknown[] = [];
    for (const { work, at } of works) {
      const audit: AuditFn = async (e) => {
        const row = await appendAudit(tx, at && !e.at ? { ...e, at } : e);
        events.push(row);
        return row;
      };
      out.push(await work(tx, audit));
    }
    return out;
  }, options);
  for (const e of events) publishAudit(e);
  // The newest row of the commit gets a checkpoint within a second (batched, off this path).
  const newest = events[events.length - 1];
  if (newest) auditAnchor().committed(newest.id, newest.hash);
  return results;
}

export async function audited<T>(fn: AuditedWork<T>, after?: (value: T) => void): Promise<T> {
  const [value] = (await commit([{ work: fn as AuditedWork<unknown> }])) as [T];
  after?.(value);
  return value;
}

interface Job {
  work: AuditedWork<unknown>;
  at?: Date;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** What the record functions of lib/queries need: something that runs audited work in order. */
export interface AuditRunner {
  run<T>(work: AuditedWork<T>): Promise<T>;
}

export class AuditQueue implements AuditRunner {
  private queue: Job[] = [];
  private pumping = false;

  /** Resolves with the work's result after its transaction committed (and its audit rows went out). */
  run<T>(work: AuditedWork<T>, at?: Date): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work: work as AuditedWork<unknown>, at, resolve: resolve as (v: unknown) => void, reject });
      if (!this.pumping) void this.pump();
    });
  }

  /** The same queue, with the audit rows of what runs through it dated `at` (a record written late). */
  dated(at: Date): AuditRunner {
    return { run: (work) => this.run(work, at) };
  }

  /**
   * The database cannot be reached: these jobs and every one waiting fail now, in order, rather than each
   * in turn after its own timeout (the controller journals them in the order they were made).
   */
  private failAll(jobs: Job[], e: unknown) {
    for (const j of [...jobs, ...this.queue.splice(0)]) j.reject(e);
  }

  private async pump() {
    this.pumping = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, AUDIT_BATCH_MAX);
        if (batch.length > 1) {
          try {
            const results = await commit(batch, QUEUE_TX);
            batch.forEach((j, i) => j.resolve(results[i]));
            continue;
          } catch (e) {
            if (isUnreachable(e)) {
              this.failAll(batch, e);
              continue;
            }
            // one by one below: the failing record fails alone
          }
        }
        for (const [i, j] of batch.entries()) {
          try {
            j.resolve((await commit([j], QUEUE_TX))[0]);
          } catch (e) {
            if (!isUnreachable(e)) {
              j.reject(e);
              continue;
            }
            this.failAll(batch.slice(i), e);
            break;
          }
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}
