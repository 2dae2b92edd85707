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
import { appendAudit } from "./audit-chain";
import { publishAudit } from "@/lib/realtime/publish";

export type Tx = Prisma.TransactionClient;
export type AuditFn = (e: AuditInput) => Promise<AuditEvent>;
export type AuditedWork<T> = (tx: Tx, audit: AuditFn) => Promise<T>;

/** Most records per transaction of an AuditQueue. */
export const AUDIT_BATCH_MAX = 25;
const QUEUE_TX = { maxWait: 10_000, timeout: 30_000 };

/** Runs every piece of work in ONE transaction, in order; publishes their audit rows after the commit. */
async function commit(works: AuditedWork<unknown>[], options?: { maxWait: number; timeout: number }): Promise<unknown[]> {
  const events: AuditEvent[] = [];
  const results = await db.$transaction(async (tx) => {
    events.length = 0; // a retried transaction starts over
    const out: unknown[] = [];
    const audit: AuditFn = async (e) => {
      const row = await appendAudit(tx, e);
      events.push(row);
      return row;
    };
    for (const w of works) out.push(await w(tx, audit));
    return out;
  }, options);
  for (const e of events) publishAudit(e);
  // The newest row of the commit gets a checkpoint within a second (batched, off this path).
  const newest = events[events.length - 1];
  if (newest) auditAnchor().committed(newest.id, newest.hash);
  return results;
}

export async function audited<T>(fn: AuditedWork<T>, after?: (value: T) => void): Promise<T> {
  const [value] = (await commit([fn as AuditedWork<unknown>])) as [T];
  after?.(value);
  return value;
}

interface Job {
  work: AuditedWork<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class AuditQueue {
  private queue: Job[] = [];
  private pumping = false;

  /** Resolves with the work's result after its transaction committed (and its audit rows went out). */
  run<T>(work: AuditedWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work: work as AuditedWork<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (!this.pumping) void this.pump();
    });
  }

  private async pump() {
    this.pumping = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, AUDIT_BATCH_MAX);
        if (batch.length > 1) {
          try {
            const results = await commit(batch.map((j) => j.work), QUEUE_TX);
            batch.forEach((j, i) => j.resolve(results[i]));
            continue;
          } catch {
            // one by one below: the failing record fails alone
          }
        }
        for (const j of batch) {
          try {
            j.resolve((await commit([j.work], QUEUE_TX))[0]);
          } catch (e) {
            j.reject(e);
          }
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}
