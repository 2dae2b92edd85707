/** Sessions: the cookie holds 32 random bytes; the database holds their SHA-256 and a sliding expiry. */
import { db, type Prisma } from "@/lib/db";
import { deleteExpiredSessions, deleteSessionById, findSessionByHash, insertSession, touchSession } from "@/lib/queries/sessions";
import { sessionTtlMs } from "./config";
import { newSessionToken, sha256Hex } from "./tokens";

export async function createSession(
  userId: string,
  tx: Prisma.TransactionClient = db,
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const { token, hash } = newSessionToken();
  const expiresAt = new Date(Date.now() + sessionTtlMs());
  const id = await insertSession({ tokenHash: hash, userId, expiresAt }, tx);
  return { id, token, expiresAt };
}

/** Extend the expiry at most once a minute per session to keep writes rare. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Sessions touched (or being touched) by this process recently: id → when. Bounded; only an optimisation
 * against a burst of requests each firing the same update (the database row is the throttle's truth).
 */
const touching = new Map<string, number>();

/** Runs a write off the request's path: not awaited, failures only logged by the caller's absence (best effort). */
function inBackground(p: Promise<unknown>): void {
  p.catch(() => undefined);
}

/**
 * One query (session joined with its user). The sliding expiry moves at most once a minute, and that
 * write is not awaited: authentication costs one round trip on the request's path.
 */
export async function resolveSession(token: string) {
  if (!token || token.length > 200) return null;
  const row = await findSessionByHash(sha256Hex(token));
  if (!row) return null;
  const now = Date.now();
  if (row.expiresAt.getTime() <= now) {
    inBackground(deleteSessionById(row.id));
    return null;
  }
  let expiresAt = row.expiresAt;
  let refreshed = false;
  const lastTouch = Math.max(row.lastSeenAt.getTime(), touching.get(row.id) ?? 0);
  if (now - lastTouch > TOUCH_EVERY_MS) {
    expiresAt = new Date(now + sessionTtlMs());
    refreshed = true;
    touching.set(row.id, now);
    if (touching.size > 10_000) touching.delete(touching.keys().next().value!);
    inBackground(touchSession(row.id, new Date(now), expiresAt));
  }
  return { id: row.id, user: { id: row.userId, username: row.username, role: row.role }, expiresAt, refreshed };
}

export async function deleteSession(id: string, tx: Prisma.TransactionClient = db): Promise<void> {
  await deleteSessionById(id, tx);
}

/** Housekeeping: remove expired sessions (called at start-up). */
export function purgeExpiredSessions(): Promise<number> {
  return deleteExpiredSessions();
}
