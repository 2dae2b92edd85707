import { db } from "@/lib/db";
import { hashPassword } from "@/lib/auth/password";
import type { Principal, Role } from "@/lib/auth/roles";
import { conflict, notFound } from "@/lib/http/errors";
import { disconnectUser } from "@/lib/realtime/publish";
import type { UserCreate, UserUpdate } from "@/lib/validation/users";
import type { UserDto } from "@/lib/views";
import { appendAudit } from "./audit-chain";
import { audited } from "./tx";

const select = { id: true, username: true, role: true, createdAt: true } as const;
const toDto = (u: { id: string; username: string; role: string; createdAt: Date }): UserDto => ({
  id: u.id,
  username: u.username,
  role: u.role as Role,
  createdAt: u.createdAt.toISOString(),
});

export async function listUsers(): Promise<UserDto[]> {
  return (await db.user.findMany({ select, orderBy: { username: "asc" } })).map(toDto);
}

export async function adminExists(): Promise<boolean> {
  return (await db.user.count({ where: { role: "admin" } })) > 0;
}

/**
 * The first admin (first start): created, or an existing user of that name made admin, with its audit row.
 * Serialised by an advisory lock so that two instances starting together create one. False if an admin
 * exists by then.
 */
export async function createFirstAdmin(username: string, passwordHash: string, passwordSource: "ADMIN_PASSWORD" | "generated"): Promise<boolean> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(727001)`;
    if ((await tx.user.count({ where: { role: "admin" } })) > 0) return false;
    const existing = await tx.user.findUnique({ where: { username } });
    const user = existing
      ? await tx.user.update({ where: { id: existing.id }, data: { role: "admin", passwordHash } })
      : await tx.user.create({ data: { username, passwordHash, role: "admin" } });
    await appendAudit(tx, { actor: "system", action: "user.bootstrap_admin", targetType: "user", targetId: user.id, outcome: "success", details: { username, passwordSource } });
    return true;
  });
}

/** For the login check only. */
export function findUserForLogin(username: string) {
  return db.user.findUnique({ where: { username }, select: { id: true, username: true, role: true, passwordHash: true } });
}

export async function createUser(input: UserCreate, actor: string): Promise<UserDto> {
  const passwordHash = await hashPassword(input.password);
  return audited(async (tx, audit) => {
    if (await tx.user.findUnique({ where: { username: input.username }, select: { id: true } })) {
      throw conflict(`a user named ${input.username} already exists`);
    }
    const u = await tx.user.create({ data: { username: input.username, role: input.role, passwordHash }, select });
    await audit({ actor, action: "user.create", targetType: "user", targetId: u.id, outcome: "success", details: { username: u.username, role: u.role } });
    return toDto(u);
  });
}

/* Demotions and deletions of admins take advisory lock 727002, so two of them cannot remove the last admin together. */

/**
 * Changes a user's role, audited in the same transaction (`user.role`, details { username, from, to }).
 * Refuses (409) to demote the last admin. The user's live sockets are closed so that they reconnect with
 * the rooms of the new role; sessions and tokens read the role on every request.
 */
export async function updateUserRole(id: string, input: UserUpdate, actor: string): Promise<UserDto> {
  let changed = false;
  const user = await audited(
    async (tx, audit) => {
      const u = await tx.user.findUnique({ where: { id }, select });
      if (!u) throw notFound("user");
      if (u.role === input.role) return toDto(u);
      if (u.role === "admin") {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(727002)`;
        if ((await tx.user.count({ where: { role: "admin" } })) <= 1) {
          throw conflict(`${u.username} is the last admin; make another user admin first`);
        }
      }
      const next = await tx.user.update({ where: { id }, data: { role: input.role }, select });
      await audit({ actor, action: "user.role", targetType: "user", targetId: id, outcome: "success", details: { username: u.username, from: u.role, to: next.role } });
      changed = true;
      return toDto(next);
    },
  );
  if (changed) disconnectUser(id);
  return user;
}

export async function deleteUser(id: string, by: Principal, actor: string): Promise<void> {
  await audited(
    async (tx, audit) => {
      const u = await tx.user.findUnique({ where: { id }, select });
      if (!u) throw notFound("user");
      if (u.id === by.userId) throw conflict("you cannot delete your own account");
      if (u.role === "admin") {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(727002)`;
        if ((await tx.user.count({ where: { role: "admin" } })) <= 1) throw conflict("cannot delete the last admin");
      }
      await tx.user.delete({ where: { id } });
      await audit({ actor, action: "user.delete", targetType: "user", targetId: id, outcome: "success", details: { username: u.username, role: u.role } });
    },
    () => disconnectUser(id),
  );
}
