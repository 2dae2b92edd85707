/** Auth settings (lib/config.ts reads and validates them). */
import { config } from "@/lib/config";

/** Sliding session lifetime: SESSION_TTL, default 12 h. */
export function sessionTtlMs(): number {
  return config().SESSION_TTL;
}

/** The login limiter's budgets: attempts per username + address and per address, per window (lib/queries/login-throttle.ts). */
export function loginRateLimit(): { userMax: number; addressMax: number; windowMs: number } {
  const c = config();
  return { userMax: c.LOGIN_RATE_LIMIT, addressMax: c.LOGIN_IP_RATE_LIMIT, windowMs: c.LOGIN_RATE_WINDOW };
}
