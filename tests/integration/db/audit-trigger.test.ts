// AuditEvent is append-only: the trigger refuses UPDATE, DELETE and TRUNCATE, through Prisma and raw SQL.
// Also exercises the shared client from lib/db and resetDatabase.
import { afterAll, describe, expect, it } from "vitest";
import { closeDb, db } from "@/lib/db";
import { query, resetDatabase } from "../helpers/db";

afterAll(async () => {
  await resetDatabase();
  await closeDb();
});

async function insertEvent(n: number) {
  return db.auditEvent.create({
    data: { actor: "test", action: "test.append", outcome: "ok", prevHash: `p${n}`, hash: `h${n}-${Date.now()}-${Math.random()}` },
  });
}

describe("AuditEvent append-only trigger", () => {
  it("accepts inserts", async () => {
    const e = await insertEvent(1);
    expect(typeof e.id).toBe("bigint");
    expect(await db.auditEvent.count({ where: { id: e.id } })).toBe(1);
  });

  it("refuses UPDATE through Prisma", async () => {
    const e = await insertEvent(2);
    await expect(db.auditEvent.update({ where: { id: e.id }, data: { outcome: "tampered" } })).rejects.toThrow(/append-only/);
    const again = await db.auditEvent.findUniqueOrThrow({ where: { id: e.id } });
    expect(again.outcome).toBe("ok");
  });

  it("refuses DELETE through Prisma", async () => {
    const e = await insertEvent(3);
    await expect(db.auditEvent.delete({ where: { id: e.id } })).rejects.toThrow(/append-only/);
    await expect(db.auditEvent.deleteMany({})).rejects.toThrow(/append-only/);
    expect(await db.auditEvent.count({ where: { id: e.id } })).toBe(1);
  });

  it("refuses UPDATE, DELETE and TRUNCATE in raw SQL", async () => {
    await insertEvent(4);
    const url = process.env.DATABASE_URL!;
    await expect(query(url, `UPDATE "AuditEvent" SET actor = 'x'`)).rejects.toThrow(/append-only: UPDATE/);
    await expect(query(url, `DELETE FROM "AuditEvent"`)).rejects.toThrow(/append-only: DELETE/);
    await expect(query(url, `TRUNCATE "AuditEvent"`)).rejects.toThrow(/append-only: TRUNCATE/);
  });

  it("resetDatabase empties every table (audit included) but keeps the migration history", async () => {
    await insertEvent(5);
    await db.user.create({ data: { username: `u${Date.now()}`, passwordHash: "x", role: "viewer" } });
    await resetDatabase();
    expect(await db.auditEvent.count()).toBe(0);
    expect(await db.user.count()).toBe(0);
    const m = await query<{ n: string }>(process.env.DATABASE_URL!, "SELECT count(*)::text AS n FROM _prisma_migrations");
    expect(Number(m[0].n)).toBeGreaterThanOrEqual(2);
    // identities restart
    const e = await insertEvent(6);
    expect(e.id).toBe(1n);
  });
});
