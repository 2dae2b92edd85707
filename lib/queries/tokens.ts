/** API tokens: the secret is returned once by createToken and stored only as SHA-256 with a short prefix. */
import { db } from "@/lib/db";
import { newApiToken } from "@/lib/auth/tokens";
import { minRole, type Principal, type Role } from "@/lib/auth/roles";
import { notFound } from "@/lib/http/errors";
import { disconnectCredential } from "@/lib/realtime/publish";
import type { TokenCreate } from "@/lib/validation/tokens";
import type { NewTokenDto, TokenDto } from "@/lib/views";
import { audited } from "./tx";

const select = {
  id: true,
  name: true,
  prefix: true,
  role: true,
  userId: true,
  createdAt: true,
  lastUsedAt: true,
  expiresAt: true,
  user: { select: { username: true } },
} as const;

type Row = {
  id: string;
  name: string;
  prefix: string;
  role: string;
  userId: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  user: { username: string };
};

const toDto = (t: Row): TokenDto => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  role: t.role as Role,
  userId: t.userId,
  username: t.user.username,
  createdAt: t.createdAt.toISOString(),
  lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  expiresAt: t.expiresAt?.toISOString() ?? null,
});

/** A token with its user, for authentication (one query). */
export interface TokenWithUser {
  id: string;
  name: string;
  role: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  userId: string;
  username: string;
  userRole: string;
}

export async function findTokenByHash(tokenHash: string): Promise<TokenWithUser | null> {
  const rows = await db.$queryRaw<TokenWithUser[]>`
    SELECT t.id, t.name, t.role::text AS role, t."expiresAt", t."lastUsedAt", u.id AS "userId", u.username, u.role::text AS "userRole"
    FROM "ApiToken" t JOIN "User" u ON u.id = t."userId"
    WHERE t."tokenHash" = ${tokenHash}`;
  return rows[0] ?? null;
}

export async function touchToken(id: string, at: Date): Promise<void> {
  await db.apiToken.updateMany({ where: { id }, data: { lastUsedAt: at } });
}

export async function listTokens(): Promise<TokenDto[]> {
  return (await db.apiToken.findMany({ select, orderBy: { createdAt: "desc" } })).map(toDto);
}

export async function createToken(input: TokenCreate, by: Principal, actor: string): Promise<NewTokenDto> {
  const { token, hash, prefix } = newApiToken();
  // A token never carries more than its creator's role.
  const role = minRole(input.role, by.role);
  const expiresAt = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null;
  const dto = await audited(async (tx, audit) => {
    const t = await tx.apiToken.create({ data: { name: input.name, role, tokenHash: hash, prefix, userId: by.userId, expiresAt }, select });
    await audit({
      actor,
      action: "token.create",
      targetType: "token",
      targetId: t.id,
      outcome: "success",
      details: { name: t.name, role, tokenPrefix: prefix, expiresAt: expiresAt?.toISOString() ?? null },
    });
    return toDto(t);
  });
  return { ...dto, token };
}

export async function deleteToken(id: string, actor: string): Promise<void> {
  await audited(
    async (tx, audit) => {
      const t = await tx.apiToken.findUnique({ where: { id }, select });
      if (!t) throw notFound("token");
      await tx.apiToken.delete({ where: { id } });
      await audit({ actor, action: "token.delete", targetType: "token", targetId: id, outcome: "success", details: { name: t.name, tokenPrefix: t.prefix } });
    },
    () => disconnectCredential("token", id),
  );
}
