// lib/db's `db`: lazy, one client and pool per process even across module instances, closeDb.
import { afterAll, describe, expect, it, vi } from "vitest";

afterAll(async () => {
  const { closeDb } = await import("@/lib/db");
  await closeDb();
});

describe("lib/db client", () => {
  it("builds nothing until first use, then answers queries", async () => {
    const mod = await import("@/lib/db");
    await mod.closeDb();
    expect(mod.isDbOpen()).toBe(false);
    const rows = await mod.db.$queryRaw<{ one: number }[]>`SELECT 1::int AS one`;
    expect(rows[0].one).toBe(1);
    expect(mod.isDbOpen()).toBe(true);
  });

  it("shares one client and pool between module instances (Next route handlers vs server.ts)", async () => {
    const a = await import("@/lib/db");
    const poolA = a.getPool();
    vi.resetModules();
    const b = await import("@/lib/db");
    expect(b).not.toBe(a); // really a second module instance
    expect(b.getPool()).toBe(poolA);
    expect(await b.db.user.count()).toBeTypeOf("number");
  });

  it("re-exports generated types and enums", async () => {
    const mod = await import("@/lib/db");
    expect(mod.Role.admin).toBe("admin");
    expect(typeof mod.Prisma.PrismaClientKnownRequestError).toBe("function");
  });

  it("closeDb ends the pool; the next use builds a new one", async () => {
    const mod = await import("@/lib/db");
    const before = mod.getPool();
    await mod.closeDb();
    await mod.closeDb(); // twice is fine
    expect(mod.isDbOpen()).toBe(false);
    expect(before.ended).toBe(true);
    expect(await mod.db.host.count()).toBeTypeOf("number");
    expect(mod.getPool()).not.toBe(before);
  });

  it("fails with a clear message when DATABASE_URL is missing", async () => {
    const mod = await import("@/lib/db");
    await mod.closeDb();
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      expect(() => mod.db.user).toThrow(/DATABASE_URL is not set/);
    } finally {
      process.env.DATABASE_URL = saved;
    }
  });
});
