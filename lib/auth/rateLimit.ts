/**
 * Failed-login limiter: a sliding window of failure times per key (username + client IP), kept in memory of
 * this process (on globalThis, so the server and the bundled route handlers share one table).
 */
import { loginRateLimit } from "./config";

interface Table {
  failures: Map<string, number[]>;
}
const KEY = Symbol.for("switchyard.loginFailures");
function table(): Table {
  const g = globalThis as unknown as Record<symbol, Table | undefined>;
  return (g[KEY] ??= { failures: new Map() });
}

export function loginKey(username: string, ip: string): string {
  return `${username.toLowerCase()}|${ip}`;
}

function recent(key: string, now: number): number[] {
  const { windowMs } = loginRateLimit();
  const list = (table().failures.get(key) ?? []).filter((t) => now - t < windowMs);
  if (list.length) table().failures.set(key, list);
  else table().failures.delete(key);
  return list;
}

/** null when a login attempt may proceed, otherwise the seconds to wait. */
export function loginBlockedFor(key: string, now = Date.now()): number | null {
  const { max, windowMs } = loginRateLimit();
  const list = recent(key, now);
  if (list.length < max) return null;
  return Math.max(1, Math.ceil((list[0] + windowMs - now) / 1000));
}

export function recordLoginFailure(key: string, now = Date.now()): void {
  const list = recent(key, now);
  list.push(now);
  table().failures.set(key, list);
  if (table().failures.size > 10_000) {
    // Bound memory under a spray of usernames: drop the oldest keys.
    const first = table().failures.keys().next().value;
    if (first !== undefined) table().failures.delete(first);
  }
}

export function clearLoginFailures(key: string): void {
  table().failures.delete(key);
}

/** For tests. */
export function resetLoginLimiter(): void {
  table().failures.clear();
}
