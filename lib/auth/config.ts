/** Auth settings from the environment (see docs/configuration.md). */

/** Parses "12h", "30m", "45s", "2d" or a number of seconds. */
export function parseDuration(value: string | undefined, fallbackMs: number): number {
  if (!value) return fallbackMs;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  if (!m) return fallbackMs;
  const n = Number(m[1]);
  const unit = (m[2] ?? "s").toLowerCase();
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as "ms"]!;
  const ms = Math.round(n * factor);
  return ms > 0 ? ms : fallbackMs;
}

/** Sliding session lifetime: SESSION_TTL, default 12 h. */
export function sessionTtlMs(): number {
  return parseDuration(process.env.SESSION_TTL, 12 * 3_600_000);
}

/** Failed logins allowed per username+IP within the window before 429. */
export function loginRateLimit(): { max: number; windowMs: number } {
  const max = Number(process.env.LOGIN_RATE_LIMIT ?? 5);
  return { max: Number.isInteger(max) && max > 0 ? max : 5, windowMs: parseDuration(process.env.LOGIN_RATE_WINDOW, 60_000) };
}
