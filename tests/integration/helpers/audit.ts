// The audit chain in tests: write rows the normal way, and tamper with them the way the database's owner
// can (disabling the append-only trigger it owns), to show what verify catches.
//
//   await freshChain();                 // empty AuditEvent, no checkpoints (same key)
//   const ids = await writeRows(30);    // 30 rows, one transaction each, through lib/queries/tx.ts
//   await deleteNewest(3);              // as the owner
//   await changeAndRehash(ids[20], { mac: "copy" });
import { rm } from "node:fs/promises";
import pg from "pg";
import { auditContent, computeAuditHash, GENESIS_HASH } from "@/lib/audit";
import { auditAnchor, resetAuditAnchor, rowMac, type AuditKey } from "@/lib/audit-anchor";
import { audited } from "@/lib/queries/tx";
import { resetDatabase } from "./db";

/** Empties the run's database and this file's checkpoint file; the key stays. */
export async function freshChain(): Promise<void> {
  await resetAuditAnchor(); // writes what is pending first: remove the file after
  await rm(auditAnchor().checkpointFile, { force: true });
  await resetDatabase();
}

/** Appends `n` rows, each in a transaction of its own; returns their ids. */
export async function writeRows(n: number, actor = "tester"): Promise<bigint[]> {
  const ids: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const row = await audited(async (_tx, audit) => audit({ actor, action: "user.create", targetType: "user", outcome: "success", details: { n: i } }));
    ids.push(row.id);
  }
  return ids;
}

/**
 * Runs `fn` on a connection as the owner (DATABASE_URL's user, or `url`'s), in a transaction with the
 * append-only trigger disabled.
 */
export async function asOwner(fn: (c: pg.Client) => Promise<void>, url = process.env.DATABASE_URL): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query("BEGIN");
    await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER "AuditEvent_append_only"`);
    await fn(c);
    await c.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER "AuditEvent_append_only"`);
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    await c.end();
  }
}

/** Deletes the newest `n` rows; returns their ids, oldest first. */
export async function deleteNewest(n: number, url?: string): Promise<string[]> {
  let ids: string[] = [];
  await asOwner(async (c) => {
    const r = await c.query<{ id: string }>(`DELETE FROM "AuditEvent" WHERE id IN (SELECT id FROM "AuditEvent" ORDER BY id DESC LIMIT $1) RETURNING id::text`, [n]);
    ids = r.rows.map((x) => x.id).sort((a, b) => Number(a) - Number(b));
  }, url);
  return ids;
}

/**
 * Changes row `id` (its actor becomes "mallory") and re-hashes it and every row after it, so that every
 * link and hash checks out again. `mac`: keep the old MACs ("copy"), remove them ("null"), or compute
 * new ones with a key (an attacker who also stole the key).
 */
export async function changeAndRehash(id: bigint, o: { mac: "copy" | "null" | AuditKey }): Promise<void> {
  await asOwner(async (c) => {
    // `at` is a timestamp without time zone holding UTC: read it as an instant, whatever the local zone.
    const { rows } = await c.query(`SELECT id, "at" AT TIME ZONE 'UTC' AS at, actor, action, "targetType", "targetId", "pairId", outcome, "durationMs", details, "prevHash", hash, mac FROM "AuditEvent" ORDER BY id`);
    let prevHash = GENESIS_HASH;
    for (const r of rows) {
      if (BigInt(r.id) >= id) {
        const actor = BigInt(r.id) === id ? "mallory" : r.actor;
        const hash = computeAuditHash(auditContent({ ...r, actor }), prevHash);
        const mac = o.mac === "copy" ? r.mac : o.mac === "null" ? null : rowMac(o.mac, hash);
        await c.query(`UPDATE "AuditEvent" SET actor = $1, "prevHash" = $2, hash = $3, mac = $4 WHERE id = $5`, [actor, prevHash, hash, mac, r.id]);
        prevHash = hash;
      } else prevHash = r.hash;
    }
  });
}
