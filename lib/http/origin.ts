/**
 * The Origin check for state-changing, cookie-authenticated requests (CSRF defence in addition to
 * SameSite=Lax). Allowed: PUBLIC_ORIGIN, every entry of ALLOWED_ORIGINS (comma separated), and the
 * request's own origin (Host header with the scheme it came in on; behind a proxy with TRUST_PROXY=1,
 * X-Forwarded-Host and X-Forwarded-Proto).
 */
import { config, type Config } from "@/lib/config";

export function configuredOrigins(c: Pick<Config, "PUBLIC_ORIGIN" | "ALLOWED_ORIGINS"> = config()): string[] {
  const list = [c.PUBLIC_ORIGIN ?? "", ...(c.ALLOWED_ORIGINS ?? "").split(",")]
    .map((s) => s.trim())
    .filter(Boolean)
    .map(normaliseOrigin)
    .filter((s): s is string => s !== null);
  return [...new Set(list)];
}

export function normaliseOrigin(value: string): string | null {
  try {
    const u = new URL(value);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    return u.origin;
  } catch {
    return null;
  }
}

/** Headers a reverse proxy sets to describe the client's request; believed only with TRUST_PROXY. */
export const FORWARDED_HEADERS = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port"] as const;

/**
 * The origin the request addressed: with TRUST_PROXY, X-Forwarded-Host and X-Forwarded-Proto (what the
 * proxy saw); without it, the Host header and the scheme of the connection (the request URL's: server.ts
 * removes client-sent forwarded headers before Next builds that URL from them).
 */
export function selfOrigin(headers: Headers, url?: string, trustProxy: boolean = config().TRUST_PROXY): string | null {
  const forwarded = (name: string) => (trustProxy ? headers.get(name)?.split(",")[0].trim() : undefined);
  const host = forwarded("x-forwarded-host") || headers.get("host");
  let proto = forwarded("x-forwarded-proto");
  if (!proto && url) {
    try {
      proto = new URL(url).protocol.replace(":", "");
    } catch {
      /* ignore */
    }
  }
  if (!host) return null;
  return normaliseOrigin(`${proto || "http"}://${host}`);
}

export function isAllowedOrigin(origin: string, headers: Headers, url?: string, allowed: string[] = configuredOrigins()): boolean {
  const o = normaliseOrigin(origin);
  if (!o) return false;
  if (allowed.includes(o)) return true;
  return o === selfOrigin(headers, url);
}

export const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * null when the request passes, otherwise why not. Browsers send Origin on every state-changing fetch;
 * a cookie-authenticated write without one (and without a same-origin Referer) is refused.
 */
export function originProblem(req: Request, allowed: string[] = configuredOrigins()): string | null {
  const origin = req.headers.get("origin");
  if (origin && origin !== "null") {
    return isAllowedOrigin(origin, req.headers, req.url, allowed) ? null : `origin ${origin} is not allowed`;
  }
  const referer = req.headers.get("referer");
  if (referer) {
    const r = normaliseOrigin(referer);
    return r && isAllowedOrigin(r, req.headers, req.url, allowed) ? null : "referer is not an allowed origin";
  }
  return "missing Origin header on a cookie-authenticated request";
}
