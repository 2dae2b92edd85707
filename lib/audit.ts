/**
 * The audit chain writer. Every row stores prevHash (the previous row's hash; 64 zeros for the first row)
 * and hash = sha256(canonical JSON of its content + prevHash). Rows are appended inside the caller's
 * transaction, serialised by a transaction-scoped advisory lock, so the chain has no forks and a change
 * and its audit row commit or roll back together. Publish `audit:new` only after the commit.
 */
import { createHash } from "node:crypto";
import { db, type Prisma } from "@/lib/db";
import type { AuditAction } from "@/lib/audit-actions";
import type { AuditSummary } from "@/lib/realtime/events";

export type { AuditSummary };

export const GENESIS_HASH = "0".repeat(64);
/** Advisory lock key that serialises appends (any constant unique to this purpose). */
export const AUDIT_LOCK_KEY = 727_000_001;

export type AuditOutcome = "success" | "failure" | "denied" | "info";

export interface AuditInput {
  actor: string;
  action: AuditAction;
  targetType?: string;
  targetId?: string;
  pairId?: string | null;
  outcome: AuditOutcome;
  durationMs?: number;
  details?: object;
}

export interface AuditEvent {
  id: bigint;
  at: Date;
  actor: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  pairId: string | null;
  outcome: string;
  durationMs: number | null;
  details: unknown;
  prevHash: string;
  hash: string;
}

/** JSON with object keys sorted at every level, no whitespace; undefined members dropped like JSON.stringify. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint") return JSON.stringify(value.toString());
    if (typeof value === "number" && !Number.isFinite(value)) return "null";
    return JSON.stringify(value) ?? "null";
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return "[" + value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",") + "]";
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== "function")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return "{" + entries.map(([k, v]) => JSON.stringify(k) + ":" + canonicalJson(v)).join(",") + "}";
}

/** The hashed content of a row: every column except id and hash. */
export function auditContent(e: {
  at: Date;
  actor: string;
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  pairId?: string | null;
  outcome: string;
  durationMs?: number | null;
  details?: unknown;
}) {
  return {
    at: e.at.toISOString(),
    actor: e.actor,
    action: e.action,
    targetType: e.targetType ?? null,
    targetId: e.targetId ?? null,
    pairId: e.pairId ?? null,
    outcome: e.outcome,
    durationMs: e.durationMs ?? null,
    details: e.details ?? {},
  };
}

export function computeAuditHash(content: ReturnType<typeof auditContent>, prevHash: string): string {
  return createHash("sha256").update(canonicalJson({ content, prevHash }), "utf8").digest("hex");
}

/** JSON round trip: what jsonb will hand back (drops undefined, turns Dates into strings). */
function normaliseDetails(details: object | undefined): Prisma.InputJsonObject {
  if (!details) return {};
  return JSON.parse(JSON.stringify(details, (_k, v) => (typeof v === "bigint" ? v.toString() : v))) ?? {};
}

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
  const row = await tx.auditEvent.create({
    data: {
      at,
      actor: e.actor,
      action: e.action,
      targetType: e.targetType ?? null,
      targetId: e.targetId ?? null,
      pairId: e.pairId ?? null,
      outcome: e.outcome,
      durationMs,
      details,
      prevHash,
      hash,
    },
  });
  return row as AuditEvent;
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  firstBroken?: { id: string; reason: string };
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

export function auditSummary(e: AuditEvent): AuditSummary {
  return {
    id: e.id.toString(),
    at: e.at.toISOString(),
    actor: e.actor,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    pairId: e.pairId,
    outcome: e.outcome,
    durationMs: e.durationMs,
    details: e.details,
    hash: e.hash,
    prevHash: e.prevHash,
  };
}
