/** Sessions: the cookie holds 32 random bytes; the database holds their SHA-256 and a sliding expiry. */
import { db, type Prisma } from "@/lib/db";
import { sessionTtlMs } from "./config";
import { newSessionToken, sha256Hex } from "./tokens";

export async function createSession(
  userId: string,
  tx: Prisma.TransactionClient = db,
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const { token, hash } = newSessionToken();
  const expiresAt = new Date(Date.now() + sessionTtlMs());
  const row = await tx.session.create({ data: { tokenHash: hash, userId, expiresAt }, select: { id: true } });
  return { id: row.id, token, expiresAt };
}

/** Extend the expiry at most once a minute per session to keep writes rare. */
const TOUCH_EVERY_MS = 60_000;

export async function resolveSession(token: string) {
  if (!token || token.length > 200) return null;
  const row = await db.session.findUnique({
    where: { tokenHash: sha256Hex(token) },
    include: { user: { select: { id: true, username: true, role: true } } },
  });
  if (!row) return null;
  const now = Date.now();
  if (row.expiresAt.getTime() <= now) {
    await db.session.deleteMany({ where: { id: row.id } });
    return null;
  }
  let refreshed = false;
  if (now - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    const expiresAt = new Date(now + sessionTtlMs());
    await db.session.updateMany({ where: { id: row.id }, data: { lastSeenAt: new Date(now), expiresAt } });
    row.expiresAt = expiresAt;
    refreshed = true;
  }
  return { id: row.id, user: row.user, expiresAt: row.expiresAt, refreshed };
}

export async function deleteSession(id: string, tx: Prisma.TransactionClient = db): Promise<void> {
  await tx.session.deleteMany({ where: { id } });
}

/** Housekeeping: remove expired sessions (called at start-up). */
export async function purgeExpiredSessions(): Promise<number> {
  const r = await db.session.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  return r.count;
}
