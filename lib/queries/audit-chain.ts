/**
 * The audit chain's statements. Rows are appended inside the caller's transaction, serialised by a
 * transaction-scoped advisory lock, so the chain has no forks and a change and its audit row commit or
 * roll back together (publish `audit:new` only after the commit: lib/queries/tx.ts). The format is
 * lib/audit.ts's.
 */
import { db, type Prisma } from "@/lib/db";
import { AUDIT_LOCK_KEY, auditContent, computeAuditHash, GENESIS_HASH, normaliseDetails, type AuditEvent, type AuditInput, type ChainVerification } from "@/lib/audit";

export type { ChainVerification };

export async function appendAudit(tx: Prisma.TransactionClient, e: AuditInput): Promise<AuditEvent> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY}::bigint)`;
  const last = await tx.auditEvent.findFirst({ orderBy: { id: "desc" }, select: { hash: true } });
  const prevHash = last?.hash ?? GENESIS_HASH;
  // Millisecond precision, the precision the column keeps, so the hash verifies after a round trip.
  const at = new Date(Math.floor(Date.now()));
  const details = normaliseDetails(e.details);
  const durationMs = e.durationMs === undefined ? null : Math.round(e.durationMs);
  const content = auditContent({ ...e, at, details, durationMs });
  const hash = computeAuditHash(content, prevHash);
  // The stored columns are the hashed content (at as an ISO string of the same millisecond) + the links.
  const row = await tx.auditEvent.create({ data: { ...content, details, prevHash, hash } });
  return row as AuditEvent;
}

/** Walks the whole chain in id order, recomputing every hash. */
export async function verifyAuditChain(batchSize = 1000): Promise<ChainVerification> {
  let prevHash = GENESIS_HASH;
  let checked = 0;
  let after: bigint | undefined;
  for (;;) {
    const rows = await db.auditEvent.findMany({
      where: after === undefined ? {} : { id: { gt: after } },
      orderBy: { id: "asc" },
      take: batchSize,
    });
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.prevHash !== prevHash) {
        return { ok: false, checked, firstBroken: { id: row.id.toString(), reason: "prevHash does not match the previous row's hash (row removed, inserted or reordered)" } };
      }
      const expected = computeAuditHash(auditContent(row), row.prevHash);
      if (expected !== row.hash) {
        return { ok: false, checked, firstBroken: { id: row.id.toString(), reason: "content does not match its hash (row modified)" } };
      }
      prevHash = row.hash;
      checked++;
    }
    after = rows[rows.length - 1].id;
  }
  return { ok: true, checked };
}
