/**
 * The audit chain's format, pure: every row stores prevHash (the previous row's hash; 64 zeros for the
 * first row) and hash = sha256(canonical JSON of its content + prevHash). The chain's statements (append,
 * verify) are in lib/queries/audit-chain.ts.
 */
import { createHash } from "node:crypto";
import type { Prisma } from "@/lib/db";
import type { AuditAction } from "@/lib/audit-actions";
import type { AuditSummary } from "@/lib/realtime/events";

export type { AuditSummary };

export const GENESIS_HASH = "0".repeat(64);
/** Advisory lock key that serialises appends (any constant unique to this purpose). */
export const AUDIT_LOCK_KEY = 727_000_001;

/** `alarm.raised` rows carry the alarm's severity as their outcome (docs/api.md, "Audit outcomes"). */
export type AuditOutcome = "success" | "failure" | "denied" | "info" | "critical" | "major" | "minor" | "warning";

export interface AuditInput {
  actor: string;
  action: AuditAction;
  targetType?: string;
  targetId?: string;
  pairId?: string | null;
  outcome: AuditOutcome;
  durationMs?: number;
  details?: object;
  /** When it happened, if not now (a record written late, from the controller's journal). */
  at?: Date;
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
  /** HMAC of `hash` with the audit key (lib/audit-anchor.ts); null on rows written before the key existed. */
  mac?: string | null;
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
export function normaliseDetails(details: object | undefined): Prisma.InputJsonObject {
  if (!details) return {};
  return JSON.parse(JSON.stringify(details, (_k, v) => (typeof v === "bigint" ? v.toString() : v))) ?? {};
}

/** Where the chain is broken, and why. */
export interface ChainBreak {
  /** The row where the chain breaks; for rows that are gone, the newest of them that a checkpoint names. */
  id: string;
  reason: string;
  /** The checkpoint (written outside the database) that the chain fails against. */
  checkpoint?: { line: number; id: string; hash: string; at: string };
  /** Rows that are gone: after `afterId` (null: from the first row) through `throughId`. */
  missing?: { afterId: string | null; throughId: string };
  /** A row was changed after this one (the newest row a checkpoint still confirms; null: none does). */
  changedAfter?: string | null;
}

export interface ChainVerification {
  ok: boolean;
  /** Rows that passed every check. */
  checked: number;
  firstBroken?: ChainBreak;
  /**
   * (ok answers) rows newer than the newest checkpoint: their MACs verify, but deleting them would not be
   * noticed yet. The writer checkpoints within a second; rows another panel instance wrote are in its file.
   */
  unanchored?: { fromId: string; rows: number };
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
