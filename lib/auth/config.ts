/** Auth settings (lib/config.ts reads and validates them). */
import { config } from "@/lib/config";

/** Sliding session lifetime: SESSION_TTL, default 12 h. */
export function sessionTtlMs(): number {
  return config().SESSION_TTL;
}

/** Failed logins allowed per username+IP within the window before 429. */
export function loginRateLimit(): { max: number; windowMs: number } {
  const c = config();
  return { max: c.LOGIN_RATE_LIMIT, windowMs: c.LOGIN_RATE_WINDOW };
}
