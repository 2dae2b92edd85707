/**
 * Who is calling: from the `sy_session` cookie or an `Authorization: Bearer sy_...` API token.
 * Shared by the HTTP route wrapper and the socket.io connection middleware.
 */
import { findTokenByHash, touchToken } from "@/lib/queries/tokens";
import { parseCookies, SESSION_COOKIE } from "./cookies";
import { minRole, type Principal, type Role } from "./roles";
import { resolveSession } from "./session";
import { looksLikeApiToken, sha256Hex } from "./tokens";

export interface Authentication {
  principal: Principal | null;
  /** How the caller presented credentials (the Origin check applies to "cookie" only). */
  via: "cookie" | "token" | null;
  /** Raw session cookie value and new expiry when the sliding expiry moved (the wrapper re-sends the cookie). */
  refreshed?: { token: string; expiresAt: Date };
}

export function bearerFrom(header: string | null | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}

const TOKEN_TOUCH_MS = 60_000;
/** Tokens touched by this process recently (bounded; the row's lastUsedAt is the throttle's truth). */
const touchedTokens = new Map<string, number>();

/**
 * One query (token joined with its user). lastUsedAt is updated at most once a minute and not awaited:
 * authentication costs one round trip on the request's path.
 */
export async function principalFromApiToken(token: string): Promise<Principal | null> {
  if (!looksLikeApiToken(token)) return null;
  const row = await findTokenByHash(sha256Hex(token));
  if (!row) return null;
  const now = Date.now();
  if (row.expiresAt && row.expiresAt.getTime() <= now) return null;
  const last = Math.max(row.lastUsedAt?.getTime() ?? 0, touchedTokens.get(row.id) ?? 0);
  if (now - last > TOKEN_TOUCH_MS) {
    touchedTokens.set(row.id, now);
    if (touchedTokens.size > 10_000) touchedTokens.delete(touchedTokens.keys().next().value!);
    touchToken(row.id, new Date(now)).catch(() => undefined);
  }
  return {
    kind: "token",
    userId: row.userId,
    username: row.username,
    role: minRole(row.role as Role, row.userRole as Role),
    credentialId: row.id,
    tokenName: row.name,
  };
}

export async function authenticateCredentials(c: {
  cookieHeader?: string | null;
  bearer?: string | null;
}): Promise<Authentication> {
  if (c.bearer) {
    // A presented token is authoritative: a bad token is 401 even if a cookie is present too.
    const principal = await principalFromApiToken(c.bearer);
    return { principal, via: principal ? "token" : null };
  }
  const cookie = parseCookies(c.cookieHeader)[SESSION_COOKIE];
  if (!cookie) return { principal: null, via: null };
  const s = await resolveSession(cookie);
  if (!s) return { principal: null, via: null };
  return {
    principal: { kind: "user", userId: s.user.id, username: s.user.username, role: s.user.role as Role, credentialId: s.id },
    via: "cookie",
    refreshed: s.refreshed ? { token: cookie, expiresAt: s.expiresAt } : undefined,
  };
}

export function authenticate(req: Request): Promise<Authentication> {
  return authenticateCredentials({
    cookieHeader: req.headers.get("cookie"),
    bearer: bearerFrom(req.headers.get("authorization")),
  });
}
