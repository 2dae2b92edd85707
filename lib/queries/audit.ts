/** Audit, read side: filtered lists with keyset (cursor) pagination, export, and the chain check. */
import { db, Prisma } from "@/lib/db";
import { auditSummary, type AuditEvent } from "@/lib/audit";
import { auditOperationId, auditSentence } from "@/lib/audit-sentence";
import type { AuditItem } from "@/lib/views";
import { verifyAuditChain, type ChainVerification } from "./audit-chain";
import type { AuditFilter } from "@/lib/validation/audit";
import { audited } from "./tx";

/** `%text%` for ILIKE with backslash as the escape character: the user's `%`, `_` and backslash match literally. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
}

/** An ISO instant compared with the `timestamp(3)` column, which holds UTC (independent of the session's zone). */
export const utc = (d: Date) => Prisma.sql`(${d.toISOString()}::timestamptz AT TIME ZONE 'UTC')`;

/**
 * The WHERE clause of a filter. Raw SQL because the free-text search reads the details JSON as text, which
 * Prisma's filters cannot express. Every value is a bound parameter.
 */
function whereSql(f: AuditFilter, id?: { lt?: bigint; gt?: bigint }): Prisma.Sql {
  const c: Prisma.Sql[] = [];
  if (f.pairId) c.push(Prisma.sql`"pairId" = ${f.pairId}::uuid`);
  if (f.actor) c.push(Prisma.sql`"actor" = ${f.actor}`);
  if (f.action) c.push(Prisma.sql`"action" = ${f.action}`);
  if (f.outcome) c.push(Prisma.sql`"outcome" = ${f.outcome}`);
  if (f.from) c.push(Prisma.sql`"at" >= ${utc(f.from)}`);
  if (f.to) c.push(Prisma.sql`"at" <= ${utc(f.to)}`);
  if (f.q) {
    const p = likePattern(f.q);
    // In the details' JSON text, `"` and `\\` appear escaped: search for the escaped form there as well.
    const inJson = JSON.stringify(f.q).slice(1, -1);
    const pj = inJson === f.q ? p : likePattern(inJson);
    c.push(
      Prisma.sql`("actor" ILIKE ${p} ESCAPE '\\' OR "action" ILIKE ${p} ESCAPE '\\' OR "targetType" ILIKE ${p} ESCAPE '\\' OR "targetId" ILIKE ${p} ESCAPE '\\' OR "details"::text ILIKE ${p} ESCAPE '\\' OR "details"::text ILIKE ${pj} ESCAPE '\\')`,
    );
  }
  if (id?.lt !== undefined) c.push(Prisma.sql`"id" < ${id.lt}`);
  if (id?.gt !== undefined) c.push(Prisma.sql`"id" > ${id.gt}`);
  return c.length ? Prisma.sql`WHERE ${Prisma.join(c, " AND ")}` : Prisma.empty;
}

/** Matching rows in id order: ids by raw SQL (the filter), then the rows themselves through Prisma. */
async function page(f: AuditFilter, id: { lt?: bigint; gt?: bigint }, order: "asc" | "desc", take: number): Promise<AuditEvent[]> {
  const dir = order === "asc" ? Prisma.sql`ASC` : Prisma.sql`DESC`;
  const ids = await db.$queryRaw<{ id: bigint }[]>`SELECT "id" FROM "AuditEvent" ${whereSql(f, id)} ORDER BY "id" ${dir} LIMIT ${take}`;
  if (!ids.length) return [];
  const rows = await db.auditEvent.findMany({ where: { id: { in: ids.map((r) => BigInt(r.id)) } }, orderBy: { id: order } });
  return rows as AuditEvent[];
}

/** Rows as the API returns them: with their sentence (the pairs' names looked up once) and operation. */
async function items(rows: AuditEvent[]): Promise<AuditItem[]> {
  const ids = [...new Set(rows.flatMap((r) => (r.pairId ? [r.pairId] : [])))];
  const pairs = ids.length ? await db.pair.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } }) : [];
  const names = new Map(pairs.map((p) => [p.id, p.name]));
  return rows.map((r) => {
    const s = auditSummary(r);
    return { ...s, sentence: auditSentence(s, { pairName: r.pairId ? names.get(r.pairId) : null }), operationId: auditOperationId(s) };
  });
}

/** Newest first. `nextCursor` is null on the last page. */
export async function listAudit(f: AuditFilter & { cursor?: string; limit: number }): Promise<{ items: AuditItem[]; nextCursor: string | null }> {
  const rows = await page(f, { lt: f.cursor ? BigInt(f.cursor) : undefined }, "desc", f.limit + 1);
  const first = rows.slice(0, f.limit);
  return {
    items: await items(first),
    nextCursor: rows.length > f.limit ? first[first.length - 1].id.toString() : null,
  };
}

/** Every matching row, oldest first, in batches (bounded memory for large exports). */
export async function* iterateAudit(f: AuditFilter, batch = 1000): AsyncGenerator<AuditItem> {
  let after: bigint | undefined;
  for (;;) {
    const rows = await page(f, { gt: after }, "asc", batch);
    for (const r of await items(rows)) yield r;
    if (rows.length < batch) return;
    after = rows[rows.length - 1].id;
  }
}

/** The stored columns (as hashed), then what the export adds: the operation and the sentence. */
export const CSV_COLUMNS = ["id", "at", "actor", "action", "targetType", "targetId", "pairId", "outcome", "durationMs", "details", "prevHash", "hash", "operationId", "sentence"] as const;

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  let s = typeof v === "string" ? v : JSON.stringify(v);
  // Spreadsheet formula injection: prefix cells that a spreadsheet would evaluate.
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(e: AuditItem): string {
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
