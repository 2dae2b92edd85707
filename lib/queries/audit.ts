/** Audit, read side: filtered lists with keyset (cursor) pagination, export, and the chain check. */
import { db } from "@/lib/db";
import { auditSummary, verifyAuditChain, type AuditEvent, type AuditSummary, type ChainVerification } from "@/lib/audit";
import type { AuditFilter } from "@/lib/validation/audit";
import { audited } from "./tx";

function where(f: AuditFilter, beforeId?: bigint) {
  return {
    ...(f.pairId ? { pairId: f.pairId } : {}),
    ...(f.actor ? { actor: f.actor } : {}),
    ...(f.action ? { action: f.action } : {}),
    ...(f.outcome ? { outcome: f.outcome } : {}),
    ...(f.from || f.to ? { at: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lte: f.to } : {}) } } : {}),
    ...(beforeId !== undefined ? { id: { lt: beforeId } } : {}),
  };
}

/** Newest first. `nextCursor` is null on the last page. */
export async function listAudit(f: AuditFilter & { cursor?: string; limit: number }): Promise<{ items: AuditSummary[]; nextCursor: string | null }> {
  const rows = await db.auditEvent.findMany({
    where: where(f, f.cursor ? BigInt(f.cursor) : undefined),
    orderBy: { id: "desc" },
    take: f.limit + 1,
  });
  const page = rows.slice(0, f.limit) as AuditEvent[];
  return {
    items: page.map(auditSummary),
    nextCursor: rows.length > f.limit ? page[page.length - 1].id.toString() : null,
  };
}

/** Every matching row, oldest first, in batches (bounded memory for large exports). */
export async function* iterateAudit(f: AuditFilter, batch = 1000): AsyncGenerator<AuditSummary> {
  let after: bigint | undefined;
  for (;;) {
    const rows = await db.auditEvent.findMany({
      where: { ...where(f), ...(after !== undefined ? { id: { gt: after } } : {}) },
      orderBy: { id: "asc" },
      take: batch,
    });
    for (const r of rows) yield auditSummary(r as AuditEvent);
    if (rows.length < batch) return;
    after = rows[rows.length - 1].id;
  }
}

export const CSV_COLUMNS = ["id", "at", "actor", "action", "targetType", "targetId", "pairId", "outcome", "durationMs", "details", "prevHash", "hash"] as const;

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  let s = typeof v === "string" ? v : JSON.stringify(v);
  // Spreadsheet formula injection: prefix cells that a spreadsheet would evaluate.
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(e: AuditSummary): string {
  return CSV_COLUMNS.map((c) => csvCell(e[c])).join(",") + "\r\n";
}

export function verifyChain(): Promise<ChainVerification> {
  return verifyAuditChain();
}

/** A refused state-changing request (403) leaves a trace. */
export async function recordDenied(actor: string, details: { method: string; path: string; reason: string }): Promise<void> {
  await audited(async (_tx, audit) => {
    await audit({ actor, action: "request.denied", outcome: "denied", details });
  });
}
