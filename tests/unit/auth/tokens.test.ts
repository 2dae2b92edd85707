import { describe, expect, it } from "vitest";
import { looksLikeApiToken, newApiToken, newSessionToken, sha256Hex } from "@/lib/auth/tokens";
import { clearSessionCookie, parseCookies, SESSION_COOKIE, sessionCookie } from "@/lib/auth/cookies";
import { actorName, canAdmin, canOperate, canRead, minRole, type Principal } from "@/lib/auth/roles";
import { bearerFrom } from "@/lib/auth/principal";

describe("tokens", () => {
  it("API tokens: sy_ prefix, 32 random bytes, stored as sha256 with a short visible prefix", () => {
    const t = newApiToken();
    expect(t.token).toMatch(/^sy_[A-Za-z0-9_-]{43}$/);
    expect(t.hash).toBe(sha256Hex(t.token));
    expect(t.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(t.prefix).toBe(t.token.slice(0, 11));
    expect(t.hash).not.toContain(t.token.slice(3));
    expect(newApiToken().token).not.toBe(t.token);
    expect(looksLikeApiToken(t.token)).toBe(true);
    expect(looksLikeApiToken("abc")).toBe(false);
  });

  it("session tokens are 32 random bytes, hashed", () => {
    const s = newSessionToken();
    expect(Buffer.from(s.token, "base64url")).toHaveLength(32);
    expect(s.hash).toBe(sha256Hex(s.token));
  });

  it("sha256Hex matches a known vector", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("bearer parsing", () => {
    expect(bearerFrom("Bearer sy_abc")).toBe("sy_abc");
    expect(bearerFrom("bearer  sy_abc ")).toBe("sy_abc");
    expect(bearerFrom("Basic xyz")).toBeNull();
    expect(bearerFrom(null)).toBeNull();
  });
});

describe("session cookie", () => {
  it("is HttpOnly, SameSite=Lax, Path=/, Secure only when asked", () => {
    const c = sessionCookie("v", { secure: false, maxAgeSeconds: 43200 });
    expect(c).toBe(`${SESSION_COOKIE}=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=43200`);
    expect(sessionCookie("v", { secure: true, maxAgeSeconds: 1 })).toMatch(/; Secure$/);
    expect(clearSessionCookie({ secure: false })).toContain("Max-Age=0");
  });

  it("parses cookie headers", () => {
    expect(parseCookies("a=1; sy_session=abc%3D; b=\"q\"")).toEqual({ a: "1", sy_session: "abc=", b: "q" });
    expect(parseCookies(undefined)).toEqual({});
  });
});

describe("roles", () => {
  const p = (role: Principal["role"]): Principal => ({ kind: "user", userId: "u", username: "n", role, credentialId: "s" });
  it("predicates", () => {
    expect([canRead(p("viewer")), canOperate(p("viewer")), canAdmin(p("viewer"))]).toEqual([true, false, false]);
    expect([canRead(p("operator")), canOperate(p("operator")), canAdmin(p("operator"))]).toEqual([true, true, false]);
    expect([canRead(p("admin")), canOperate(p("admin")), canAdmin(p("admin"))]).toEqual([true, true, true]);
    expect(canRead(null)).toBe(false);
  });
  it("minRole and actor names", () => {
    expect(minRole("admin", "viewer")).toBe("viewer");
    expect(minRole("operator", "admin")).toBe("operator");
    expect(actorName(p("admin"))).toBe("n");
    expect(actorName({ ...p("admin"), kind: "token", tokenName: "ci" })).toBe("token:ci");
  });
});

