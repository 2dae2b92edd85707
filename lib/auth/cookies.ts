/** The session cookie: `sy_session`, HttpOnly, SameSite=Lax, Secure behind https. */
import { config } from "@/lib/config";

export const SESSION_COOKIE = "sy_session";

export function parseCookies(header: string | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    if (!k || k in out) continue;
    let v = part.slice(i + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    try {
      out[k] = decodeURIComponent(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/**
 * True when the request reached us over https: directly, or through a proxy that says so in
 * X-Forwarded-Proto — believed only with TRUST_PROXY — or PUBLIC_ORIGIN is https.
 */
export function isSecureRequest(req: Request, trustProxy: boolean = config().TRUST_PROXY): boolean {
  const forwarded = trustProxy ? req.headers.get("x-forwarded-proto") : null;
  if (forwarded) return forwarded.split(",")[0].trim() === "https";
  try {
    if (new URL(req.url).protocol === "https:") return true;
  } catch {
    /* relative URL: fall through */
  }
  return (config().PUBLIC_ORIGIN ?? "").startsWith("https://");
}

export function sessionCookie(value: string, opts: { secure: boolean; maxAgeSeconds: number }): string {
  const parts = [
    `${SESSION_COOKIE}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${Math.max(0, Math.floor(opts.maxAgeSeconds))}`,
  ];
  if (opts.secure) parts.push("Secure");
  return parts.join("; ");
}

export function clearSessionCookie(opts: { secure: boolean }): string {
  return sessionCookie("", { secure: opts.secure, maxAgeSeconds: 0 });
}
