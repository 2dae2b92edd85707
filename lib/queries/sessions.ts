/** Sessions: rows keyed by the SHA-256 of the cookie's token (lib/auth/session.ts holds the rules). */
import { db, type Prisma } from "@/lib/db";

export interface SessionWithUser {
  id: string;
  expiresAt: Date;
  lastSeenAt: Date;
  userId: string;
  username: string;
  role: string;
}

export async function insertSession(s: { tokenHash: string; userId: string; expiresAt: Date }, tx: Prisma.TransactionClient = db): Promise<string> {
  return (await tx.session.create({ data: s, select: { id: true } })).id;
}

/** One query: the session with its user (authentication costs one round trip). */
export async function findSessionByHash(tokenHash: string): Promise<SessionWithUser | null> {
  const rows = await db.$queryRaw<SessionWithUser[]>`
    SELECT s.id, s."expiresAt", s."lastSeenAt", u.id AS "userId", u.username, u.role::text AS role
    FROM "Session" s JOIN "User" u ON u.id = s."userId"
    WHERE s."tokenHash" = ${tokenHash}`;
  return rows[0] ?? null;
}

/** The sliding expiry moved on. */
export async function touchSession(id: string, lastSeenAt: Date, expiresAt: Date): Promise<void> {
  await db.session.updateMany({ where: { id }, data: { lastSeenAt, expiresAt } });
}

export async function deleteSessionById(id: string, tx: Prisma.TransactionClient = db): Promise<void> {
  await tx.session.deleteMany({ where: { id } });
}

export async function deleteExpiredSessions(): Promise<number> {
  return (await db.session.deleteMany({ where: { expiresAt: { lt: new Date() } } })).count;
}
