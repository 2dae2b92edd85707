/**
 * Login and logout: the session row and its audit row in one transaction.
 *
 * Sign-in attempts go through the limiter first (lib/queries/login-throttle.ts): one atomic statement
 * counts the attempt for the username + client address and for the address across usernames, before the
 * password is checked, in the database every panel instance shares. Over LOGIN_RATE_LIMIT (username +
 * address) or LOGIN_IP_RATE_LIMIT (address) in the window: 429 without a check.
 *
 * Failed sign-ins in the audit: the chain is append-only (a trigger refuses UPDATE), so a failure count
 * cannot grow in place. The first failure of a username + address in a window is audited when it happens
 * (`auth.login`, outcome failure, reason "invalid credentials" — the same words for an unknown user and a
 * wrong password, and no user id, so the audit does not tell which); the rest of that window is counted in
 * LoginThrottle and written as one `auth.login_failures` row when the window ends (closeLoginWindows,
 * started by server.ts). A flood therefore adds at most two rows per username + address per window, and the
 * address budget bounds how many usernames one address can try.
 */
import { dummyHash, verifyPassword } from "@/lib/auth/password";
import { loginRateLimit } from "@/lib/auth/config";
import type { Principal, Role } from "@/lib/auth/roles";
import { createSession, deleteSession } from "@/lib/auth/session";
import { ApiError, tooManyRequests } from "@/lib/http/errors";
import { disconnectCredential } from "@/lib/realtime/publish";
import { countLoginAttempt, countLoginFailure, takeBackLoginAttempt } from "./login-throttle";
import { audited } from "./tx";
import { findUserForLogin } from "./users";

export interface LoginResult {
  user: { id: string; username: string; role: Role };
  session: { token: string; expiresAt: Date };
}

/** What a failed sign-in is called, whatever its cause. */
export const INVALID_CREDENTIALS = "invalid credentials";

export async function login(username: string, password: string, ip: string): Promise<LoginResult> {
  const gate = await countLoginAttempt(ip, username, loginRateLimit());
  if (!gate.allowed) throw tooManyRequests(gate.retryAfterSeconds);
  const user = await findUserForLogin(username);
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()));
  if (!user || !ok) {
    await audited(async (tx, audit) => {
      const failures = await countLoginFailure(tx, gate);
      if (failures === 1) {
        const window = { windowStart: gate.windowStart.toISOString() };
        await audit({ actor: gate.username.slice(0, 64), action: "auth.login", targetType: "user", outcome: "failure", details: { ip, reason: INVALID_CREDENTIALS, ...window } });
      }
    });
    throw new ApiError(401, "unauthenticated", "invalid username or password");
  }
  return audited(async (tx, audit) => {
    await takeBackLoginAttempt(tx, gate);
    const session = await createSession(user.id, tx);
    await audit({ actor: user.username, action: "auth.login", targetType: "user", targetId: user.id, outcome: "success", details: { ip, sessionId: session.id } });
    return { user: { id: user.id, username: user.username, role: user.role as Role }, session };
  });
}

export async function logout(p: Principal, actor: string): Promise<void> {
  if (p.kind !== "user") return;
  await audited(
    async (tx, audit) => {
      await deleteSession(p.credentialId, tx);
      await audit({ actor, action: "auth.logout", targetType: "user", targetId: p.userId, outcome: "success", details: { sessionId: p.credentialId } });
    },
    () => disconnectCredential("user", p.credentialId),
  );
}
