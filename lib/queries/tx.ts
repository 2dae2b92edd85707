/**
 * Mutations: the change and its audit row in one transaction; the live `audit:new` only after the commit.
 *   const host = await audited(async (tx, audit) => { const h = await tx.host.create(...); await audit({...}); return h; });
 */
import { db, type Prisma } from "@/lib/db";
import { appendAudit, type AuditEvent, type AuditInput } from "@/lib/audit";
import { publishAudit } from "@/lib/realtime/publish";

export type Tx = Prisma.TransactionClient;
export type AuditFn = (e: AuditInput) => Promise<AuditEvent>;

export async function audited<T>(fn: (tx: Tx, audit: AuditFn) => Promise<T>, after?: (value: T) => void): Promise<T> {
  const events: AuditEvent[] = [];
  const value = await db.$transaction(async (tx) =>
    fn(tx, async (e) => {
      const row = await appendAudit(tx, e);
      events.push(row);
      return row;
    }),
  );
  for (const e of events) publishAudit(e);
  after?.(value);
  return value;
}
