/**
 * The audit chain's statements. Rows are appended inside the caller's transaction, serialised by a
 * transaction-scoped advisory lock, so the chain has no forks and a change and its audit row commit or
 * roll back together (publish `audit:new` only after the commit: lib/queries/tx.ts). The format is
 * lib/audit.ts's; the key and the checkpoints that anchor it outside the database are
 * lib/audit-anchor.ts's.
 */
import { db, type Prisma } from "@/lib/db";
import { AUDIT_LOCK_KEY, auditContent, computeAuditHash, GENESIS_HASH, normaliseDetails, type AuditEvent, type AuditInput, type ChainBreak, type ChainVerification } from "@/lib/audit";
import { auditAnchor, rowMac, rowMacValid, type AuditAnchor, type Checkpoint, type ParsedCheckpoint } from "@/lib/audit-anchor";

export type { ChainVerification };

export async function appendAudit(tx: Prisma.TransactionClient, e: AuditInput): Promise<AuditEvent> {
  const key = auditAnchor().key(); // read once per thread, before the lock
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY}::bigint)`;
  const last = await tx.auditEvent.findFirst({ orderBy: { id: "desc" }, select: { hash: true } });
  const prevHash = last?.hash ?? GENESIS_HASH;
  // Millisecond precision, the precision the column keeps, so the hash verifies after a round trip.
  const at = new Date(Math.floor((e.at ?? new Date()).getTime()));
  const details = normaliseDetails(e.details);
  const durationMs = e.durationMs === undefined ? null : Math.round(e.durationMs);
  const content = auditContent({ ...e, at, details, durationMs });
  const hash = computeAuditHash(content, prevHash);
  // The stored columns are the hashed content (at as an ISO string of the same millisecond), the links,
  // and the MAC that only a holder of the key can write.
  const row = await tx.auditEvent.create({ data: { ...content, details, prevHash, hash, mac: rowMac(key, hash) } });
  return row as AuditEvent;
}

type Located = Checkpoint & { line: number };

/**
 * The checkpoint file read in step with the chain (both in id order): `current` is the next checkpoint
 * not yet reached. Lines out of order (two writers flushing in the other order) are kept aside and
 * looked up one by one; the first line that does not authenticate is kept in `bad`.
 */
class CheckpointCursor {
  current: Located | null = null;
  /** The newest checkpoint read so far. */
  newest: Located | null = null;
  readonly stragglers: Located[] = [];
  bad: ({ line: number } & Extract<ParsedCheckpoint, { ok: false }>) | null = null;
  private readonly lines: AsyncGenerator<{ line: number } & ParsedCheckpoint>;

  constructor(anchor: AuditAnchor) {
    this.lines = anchor.checkpoints();
  }

  async next(): Promise<void> {
    for (;;) {
      const r = await this.lines.next();
      if (r.done) {
        this.current = null;
        return;
      }
      const c = r.value;
      if (!c.ok) {
        this.bad ??= c;
        continue;
      }
      const cp: Located = { ...c.checkpoint, line: c.line };
      if (this.newest && BigInt(cp.id) <= BigInt(this.newest.id)) {
        if (cp.id !== this.newest.id || cp.hash !== this.newest.hash) this.stragglers.push(cp);
        continue;
      }
      this.newest = this.current = cp;
      return;
    }
  }

  async drain(): Promise<void> {
    while (this.current) await this.next();
  }

  async close(): Promise<void> {
    await this.lines.return(undefined);
  }
}

const where = (cp: Located) => ({ line: cp.line, id: cp.id, hash: cp.hash, at: cp.at });
const writtenAt = (cp: Located) => `the checkpoint written at ${cp.at} (line ${cp.line} of the checkpoint file)`;

export interface VerifyOptions {
  batchSize?: number;
  /** The key and checkpoints to verify against (default: this thread's, from the configuration). */
  anchor?: AuditAnchor;
}

/**
 * Walks the whole chain in id order: every row's link to the previous one, its hash, its MAC (a row
 * without the key's MAC after the key came into use is refused), and every checkpoint (the row it names
 * must be there, with that hash). This thread's pending checkpoint is written first.
 */
export async function verifyAuditChain(o: VerifyOptions = {}): Promise<ChainVerification> {
  const anchor = o.anchor ?? auditAnchor();
  const batchSize = o.batchSize ?? 1000;
  await anchor.flush();
  const key = anchor.key();
  const cps = new CheckpointCursor(anchor);
  let checked = 0;
  const fail = (firstBroken: ChainBreak): ChainVerification => ({ ok: false, checked, firstBroken });
  try {
    await cps.next();
    const keyInUseFrom = cps.current ? BigInt(cps.current.id) : null;
    let prevHash = GENESIS_HASH;
    let prevId: bigint | null = null;
    /** The first row carrying a valid MAC. */
    let macsFrom: bigint | null = null;
    /** The newest row a checkpoint confirmed, and how many rows came after it. */
    let confirmed: bigint | null = null;
    let unconfirmed = 0;
    let unconfirmedFrom: bigint | null = null;
    let after: bigint | undefined;
    for (;;) {
      const rows = await db.auditEvent.findMany({
        where: after === undefined ? {} : { id: { gt: after } },
        orderBy: { id: "asc" },
        take: batchSize,
      });
      if (rows.length === 0) break;
      for (const row of rows) {
        const id = row.id.toString();
        const cp = cps.current;
        if (cp && BigInt(cp.id) < row.id) {
          return fail({
            id: cp.id,
            reason: `row ${cp.id} is gone: ${writtenAt(cp)} names it, and the chain goes from row ${prevId ?? "(none)"} to row ${id} (rows deleted)`,
            checkpoint: where(cp),
            missing: { afterId: prevId?.toString() ?? null, throughId: cp.id },
          });
        }
        if (row.prevHash !== prevHash) {
          return fail({ id, reason: "prevHash does not match the previous row's hash (row removed, inserted or reordered)" });
        }
        if (computeAuditHash(auditContent(row), row.prevHash) !== row.hash) {
          return fail({ id, reason: "content does not match its hash (row modified)" });
        }
        if (row.mac) {
          if (!rowMacValid(key, row.hash, row.mac)) return fail({ id, reason: await macReason(anchor) });
          macsFrom ??= row.id;
        } else if (macsFrom !== null || (keyInUseFrom !== null && row.id >= keyInUseFrom)) {
          const since = macsFrom !== null ? `row ${macsFrom} and the rows after it carry the audit key's MAC` : `the checkpoints show the audit key in use from row ${keyInUseFrom} on`;
          return fail({ id, reason: `it has no MAC, but ${since}: the row was changed and the chain re-hashed, or it was written without the key` });
        }
        if (cp && cp.id === id) {
          if (cp.hash !== row.hash) {
            return fail({
              id,
              reason: `its hash does not match ${writtenAt(cp)}: this row or one before it${confirmed !== null ? ` (after row ${confirmed}, which a checkpoint still confirms)` : ""} was changed and the chain re-hashed`,
              checkpoint: where(cp),
              changedAfter: confirmed?.toString() ?? null,
            });
          }
          confirmed = row.id;
          unconfirmed = 0;
          unconfirmedFrom = null;
          await cps.next();
        } else {
          unconfirmed++;
          unconfirmedFrom ??= row.id;
        }
        prevHash = row.hash;
        prevId = row.id;
        checked++;
      }
      after = rows[rows.length - 1].id;
    }

    if (cps.current) {
      await cps.drain();
      const newest = cps.newest!;
      return fail({
        id: newest.id,
        reason:
          prevId === null
            ? `rows deleted: the chain is empty, but ${writtenAt(newest)} names row ${newest.id}`
            : `rows deleted from the end: the chain ends at row ${prevId}, but ${writtenAt(newest)} names row ${newest.id}`,
        checkpoint: where(newest),
        missing: { afterId: prevId?.toString() ?? null, throughId: newest.id },
      });
    }
    for (const cp of cps.stragglers) {
      const row = await db.auditEvent.findUnique({ where: { id: BigInt(cp.id) }, select: { hash: true } });
      if (!row) return fail({ id: cp.id, reason: `row ${cp.id} is gone: ${writtenAt(cp)} names it (rows deleted)`, checkpoint: where(cp), missing: { afterId: null, throughId: cp.id } });
      if (row.hash !== cp.hash) return fail({ id: cp.id, reason: `its hash does not match ${writtenAt(cp)}: this row or one before it was changed and the chain re-hashed`, checkpoint: where(cp), changedAfter: null });
    }
    if (cps.bad) {
      const b = cps.bad;
      return fail({ id: b.claimed?.id ?? "?", reason: `checkpoint file line ${b.line}: ${b.reason}` });
    }
    const out: ChainVerification = { ok: true, checked };
    if (unconfirmed > 0 && unconfirmedFrom !== null) out.unanchored = { fromId: unconfirmedFrom.toString(), rows: unconfirmed };
    return out;
  } finally {
    await cps.close();
  }
}

/** Why a MAC does not verify: a wrong key file (the checkpoints name another key), or a forged/re-hashed row. */
async function macReason(anchor: AuditAnchor): Promise<string> {
  const key = anchor.key();
  const named = await anchor.checkpointKeyIds();
  if (named.size > 0 && !named.has(key.id)) {
    return `its MAC does not verify: the audit key in ${key.file} (key id ${key.id}) is not the key this chain was written with (the checkpoints name key id ${[...named].join(", ")}): wrong AUDIT_KEY_FILE?`;
  }
  return "its MAC does not verify with the audit key: the row was changed and the chain re-hashed, or it was written without the key";
}
