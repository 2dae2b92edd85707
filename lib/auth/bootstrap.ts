/** First start: make sure an admin exists (ADMIN_USERNAME, ADMIN_PASSWORD or a random one shown once). */
import { db } from "@/lib/db";
import { appendAudit } from "@/lib/audit";
import { hashPassword, randomPassword } from "./password";
import { config, type Config } from "@/lib/config";

export interface FirstAdminResult {
  created: boolean;
  username: string;
  /** Set only when a random password was generated: the caller prints it once, outside the log stream. */
  generatedPassword?: string;
}

export async function ensureFirstAdmin(c: Pick<Config, "ADMIN_USERNAME" | "ADMIN_PASSWORD"> = config()): Promise<FirstAdminResult> {
  const username = c.ADMIN_USERNAME;
  if ((await db.user.count({ where: { role: "admin" } })) > 0) return { created: false, username };
  const given = c.ADMIN_PASSWORD;
  const password = given ?? randomPassword();
  const passwordHash = await hashPassword(password);
  // Serialise concurrent first starts of two instances: only one creates the admin.
  const created = await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(727001)`;
    if ((await tx.user.count({ where: { role: "admin" } })) > 0) return false;
    const existing = await tx.user.findUnique({ where: { username } });
    const user = existing
      ? await tx.user.update({ where: { id: existing.id }, data: { role: "admin", passwordHash } })
      : await tx.user.create({ data: { username, passwordHash, role: "admin" } });
    await appendAudit(tx, {
      actor: "system",
      action: "user.bootstrap_admin",
      targetType: "user",
      targetId: user.id,
      outcome: "success",
      details: { username, passwordSource: given ? "ADMIN_PASSWORD" : "generated" },
    });
    return true;
  });
  if (!created) return { created: false, username };
  return { created: true, username, generatedPassword: given ? undefined : password };
}

/** The once-only console box for a generated password (never a JSON log field). */
export function firstAdminBox(username: string, password: string, url: string): string {
  const lines = [
    "Switchyard: first start, an admin account was created.",
    "",
    `  URL:      ${url}`,
    `  Username: ${username}`,
    `  Password: ${password}`,
    "",
    "This password is shown only once: store it now.",
    "(Set ADMIN_PASSWORD before the first start to choose it.)",
  ];
  const width = Math.max(...lines.map((l) => l.length)) + 2;
  const bar = "+" + "-".repeat(width) + "+";
  return [bar, ...lines.map((l) => "| " + l.padEnd(width - 1) + "|"), bar].join("\n");
}
