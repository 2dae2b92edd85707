// The audit chain anchored outside the database (lib/audit-anchor.ts): the database's owner can disable
// the append-only trigger, but not forge the key's MACs nor rewrite the checkpoint file. Each tampering
// below is what the owner can do; verify must name it.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { mkdtempSync } from "node:fs";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { closeDb, db } from "@/lib/db";
import { AuditAnchor, auditAnchor, CHECKPOINT_INTERVAL_MS, loadOrCreateAuditKey, parseCheckpointLine, resetAuditAnchor } from "@/lib/audit-anchor";
import { verifyAuditChain } from "@/lib/queries/audit-chain";
import { REPO_ROOT } from "@/lib/db/migrate";
import { asOwner, changeAndRehash, deleteNewest, freshChain, writeRows } from "../helpers/audit";
import { resetDatabase } from "../helpers/db";

afterAll(async () => {
  await resetDatabase();
  await closeDb();
});

beforeEach(freshChain);

const lines = async () => (await readFile(auditAnchor().checkpointFile, "utf8").catch(() => "")).split("\n").filter(Boolean);

describe("a chain nobody touched", () => {
  it("verifies, every row carries the key's MAC, and the newest row is anchored by a checkpoint", async () => {
    const ids = await writeRows(12);
    const v = await verifyAuditChain();
    expect(v).toEqual({ ok: true, checked: 12 });
    expect(await db.auditEvent.count({ where: { mac: null } })).toBe(0);
    const last = JSON.parse((await lines()).at(-1)!);
    expect(last).toMatchObject({ id: ids[11].toString(), hash: (await db.auditEvent.findUniqueOrThrow({ where: { id: ids[11] } })).hash });
    expect(parseCheckpointLine(auditAnchor().key(), (await lines()).at(-1)!).ok).toBe(true);
  });

  it("checkpoints follow commits by themselves, batched: one line for a burst, within a second, none inside the commit", async () => {
    const t0 = Date.now();
    const ids = await writeRows(1);
    expect(await lines()).toEqual([]); // nothing written on the commit's path
    ids.push(...(await writeRows(7)));
    const burstMs = Date.now() - t0;
    await new Promise((r) => setTimeout(r, CHECKPOINT_INTERVAL_MS + 500));
    const written = await lines();
    if (burstMs < CHECKPOINT_INTERVAL_MS - 100) expect(written).toHaveLength(1);
    expect(JSON.parse(written.at(-1)!).id).toBe(ids.at(-1)!.toString());
  });

  it("reports rows newer than the newest checkpoint as unanchored", async () => {
    await writeRows(3);
    await auditAnchor().flush();
    const [newer] = await writeRows(1); // its checkpoint is pending in this thread's anchor
    // Another reader of the same files (the thread's pending checkpoint is not written by it).
    const other = new AuditAnchor({ keyFile: auditAnchor().keyFile, checkpointFile: auditAnchor().checkpointFile });
    expect(await verifyAuditChain({ anchor: other })).toEqual({ ok: true, checked: 4, unanchored: { fromId: newer.toString(), rows: 1 } });
    expect(await verifyAuditChain()).toEqual({ ok: true, checked: 4 });
  });
});

describe("tampering by the database's owner", () => {
  it("deleting the newest three rows: verify names the truncation and the checkpoint that records the last row", async () => {
    const ids = await writeRows(24);
    await verifyAuditChain(); // the checkpoint of row 24 is written (as it would be within a second anyway)
    const gone = await deleteNewest(3);
    expect(gone).toEqual(ids.slice(21).map(String));
    const v = await verifyAuditChain();
    expect(v.ok).toBe(false);
    expect(v.checked).toBe(21);
    expect(v.firstBroken).toMatchObject({
      id: ids[23].toString(),
      reason: expect.stringMatching(new RegExp(`rows deleted from the end: the chain ends at row ${ids[20]}, but the checkpoint written at .* names row ${ids[23]}`)),
      missing: { afterId: ids[20].toString(), throughId: ids[23].toString() },
      checkpoint: { id: ids[23].toString(), line: expect.any(Number) },
    });
  });

  it("deleting every row: verify names the checkpoint that says there were rows", async () => {
    const ids = await writeRows(5);
    await verifyAuditChain();
    await deleteNewest(5);
    const v = await verifyAuditChain();
    expect(v).toMatchObject({ ok: false, checked: 0, firstBroken: { id: ids[4].toString(), reason: expect.stringMatching(/the chain is empty/), missing: { afterId: null } } });
  });

  it("changing row 21 and re-hashing every row after it: verify names row 21 (its MAC does not verify)", async () => {
    const ids = await writeRows(30);
    await verifyAuditChain();
    await changeAndRehash(ids[20], { mac: "copy" });
    const v = await verifyAuditChain();
    expect(v).toMatchObject({ ok: false, checked: 20, firstBroken: { id: ids[20].toString(), reason: expect.stringMatching(/MAC does not verify with the audit key: the row was changed and the chain re-hashed/) } });
  });

  it("the same with the MACs removed: verify names row 21 (no MAC where the key was in use)", async () => {
    const ids = await writeRows(30);
    await verifyAuditChain();
    await changeAndRehash(ids[20], { mac: "null" });
    const v = await verifyAuditChain();
    expect(v).toMatchObject({ ok: false, checked: 20, firstBroken: { id: ids[20].toString(), reason: expect.stringMatching(/has no MAC/) } });
  });

  it("with the key stolen too, the checkpoints still catch the re-hashed rows: verify names the first checkpoint that no longer matches and the last that does", async () => {
    const ids: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(...(await writeRows(10)));
      await auditAnchor().flush(); // checkpoints of rows 10, 20 and 30
    }
    await changeAndRehash(ids[20], { mac: auditAnchor().key() });
    const v = await verifyAuditChain();
    expect(v).toMatchObject({
      ok: false,
      checked: 29,
      firstBroken: {
        id: ids[29].toString(),
        reason: expect.stringMatching(/its hash does not match the checkpoint written at .*: this row or one before it \(after row \d+, which a checkpoint still confirms\) was changed and the chain re-hashed/),
        checkpoint: { id: ids[29].toString() },
        changedAfter: ids[19].toString(),
      },
    });
  });

  it("a row that a checkpoint names deleted from the middle: verify names it", async () => {
    const ids = await writeRows(10);
    await auditAnchor().flush();
    await writeRows(5);
    await auditAnchor().flush();
    await asOwner((c) => c.query(`DELETE FROM "AuditEvent" WHERE id = $1`, [ids[9]]).then(() => undefined));
    const v = await verifyAuditChain();
    expect(v).toMatchObject({ ok: false, firstBroken: { id: ids[9].toString(), reason: expect.stringMatching(/is gone/), missing: { afterId: ids[8].toString(), throughId: ids[9].toString() } } });
  });
});

describe("the key and the checkpoint file", () => {
  it("a wrong key is detected, and said to be the key", async () => {
    const ids = await writeRows(4);
    await auditAnchor().flush();
    const dir = mkdtempSync(path.join(os.tmpdir(), "switchyard-otherkey-"));
    const wrong = new AuditAnchor({ keyFile: path.join(dir, "audit.key"), checkpointFile: auditAnchor().checkpointFile });
    const v = await verifyAuditChain({ anchor: wrong });
    expect(v).toMatchObject({ ok: false, checked: 0, firstBroken: { id: ids[0].toString(), reason: expect.stringMatching(/is not the key this chain was written with .*wrong AUDIT_KEY_FILE/) } });
  });

  it("a checkpoint line altered in the file is refused", async () => {
    const ids = await writeRows(3);
    await auditAnchor().flush();
    const file = auditAnchor().checkpointFile;
    const [line] = await lines();
    const forged = JSON.stringify({ ...JSON.parse(line), id: ids[1].toString() });
    await import("node:fs/promises").then((f) => f.writeFile(file, forged + "\n"));
    const v = await verifyAuditChain();
    expect(v).toMatchObject({ ok: false, firstBroken: { reason: "checkpoint file line 1: its signature does not verify (the line was altered)" } });
  });

  it("the key file is created once, mode 600, and read again the same", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "switchyard-key-"));
    const file = path.join(dir, "sub", "audit.key");
    const a = loadOrCreateAuditKey(file);
    const b = loadOrCreateAuditKey(file);
    expect(a.id).toBe(b.id);
    const { stat } = await import("node:fs/promises");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, "utf8")).trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("checkpoints survive the writer's process: a process that appends rows and exits leaves them anchored", async () => {
    await writeRows(2);
    await auditAnchor().flush();
    // Another process appends 5 rows and exits at once (no explicit flush: its exit writes the checkpoint).
    const child = spawn(path.join(REPO_ROOT, "node_modules/.bin/tsx"), ["tests/integration/db/audit-writer.ts", "5"], { cwd: REPO_ROOT, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const code = await new Promise<number | null>((r) => child.on("close", r));
    expect(code, out).toBe(0);
    const newest = await db.auditEvent.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(newest.actor).toBe("writer-process");
    expect(JSON.parse((await lines()).at(-1)!).id).toBe(newest.id.toString());
    // This process starts over (a restart): the checkpoints are read from the file again.
    await resetAuditAnchor();
    await closeDb();
    expect(await verifyAuditChain()).toEqual({ ok: true, checked: 7 });
    await deleteNewest(1);
    expect((await verifyAuditChain()).firstBroken).toMatchObject({ id: newest.id.toString(), missing: { throughId: newest.id.toString() } });
  });
});
