/**
 * Where the login page sends the user afterwards (`/login?next=...`): only a path of this panel. The one
 * check, for every place that reads or writes `next` (app/login/page.tsx, components/LoginForm.tsx,
 * proxy.ts, the client's redirects to the login page). Pure: runs in the browser, the proxy and the server.
 *
 * Browsers forgive a lot in a URL: they drop tabs and newlines anywhere in it (`/\t/evil.example` is
 * `//evil.example`, another host), read `\` as `/` (`/\evil.example`), and take `//host` as scheme-relative.
 * So a return path must start with exactly one `/`, contain no control character (C0, DEL, C1) and no
 * backslash, and still resolve on our own origin; anything else, and the login page itself, give "/".
 */
const BASE = "http://switchyard.invalid";
const MAX_LENGTH = 2048;

export function safeNextPath(value: unknown): string {
  const s = Array.isArray(value) ? value[0] : value;
  if (typeof s !== "string" || s.length > MAX_LENGTH) return "/";
  if (!s.startsWith("/") || s.startsWith("//")) return "/";
  if (/[\u0000-\u001f\u007f-\u009f\\]/.test(s)) return "/";
  if (/^\/login(?:[/?#]|$)/.test(s)) return "/";
  try {
    if (new URL(s, BASE).origin !== BASE) return "/";
  } catch {
    return "/";
  }
  return s;
}

/** The login page, to come back to `path` (this panel's) afterwards. */
export function loginPath(path: string): string {
  return `/login?next=${encodeURIComponent(safeNextPath(path))}`;
}
