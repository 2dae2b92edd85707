/** First start: make sure an admin exists (ADMIN_USERNAME, ADMIN_PASSWORD or a random one shown once). */
import { adminExists, createFirstAdmin } from "@/lib/queries/users";
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
  if (await adminExists()) return { created: false, username };
  const given = c.ADMIN_PASSWORD;
  const password = given ?? randomPassword();
  const created = await createFirstAdmin(username, await hashPassword(password), given ? "ADMIN_PASSWORD" : "generated");
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
