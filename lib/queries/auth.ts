/** Login and logout: the session row and its audit row in one transaction. */
import { dummyHash, verifyPassword } from "@/lib/auth/password";
import { clearLoginFailures, loginBlockedFor, loginKey, recordLoginFailure } from "@/lib/auth/rateLimit";
import type { Principal, Role } from "@/lib/auth/roles";
import { createSession, deleteSession } from "@/lib/auth/session";
import { ApiError, tooManyRequests } from "@/lib/http/errors";
import { disconnectCredential } from "@/lib/realtime/publish";
import { audited } from "./tx";
import { findUserForLogin } from "./users";

export interface LoginResult {
  user: { id: string; username: string; role: Role };
  session: { token: string; expiresAt: Date };
}

export async function login(username: string, password: string, ip: string): Promise<LoginResult> {
  const key = loginKey(username, ip);
  const wait = loginBlockedFor(key);
  if (wait !== null) throw tooManyRequests(wait);
  const user = await findUserForLogin(username);
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()));
  if (!user || !ok) {
    recordLoginFailure(key);
    await audited(async (_tx, audit) => {
      await audit({ actor: username.slice(0, 64), action: "auth.login", targetType: "user", targetId: user?.id, outcome: "failure", details: { ip, reason: user ? "wrong password" : "unknown user" } });
    });
    throw new ApiError(401, "unauthenticated", "invalid username or password");
  }
  clearLoginFailures(key);
  return audited(async (tx, audit) => {
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
