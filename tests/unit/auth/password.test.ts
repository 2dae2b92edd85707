import { scryptSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashPassword, randomPassword, verifyPassword } from "@/lib/auth/password";

describe("password hashing (scrypt)", () => {
  it("verifies the right password and rejects a wrong one", async () => {
    const h = await hashPassword("correct horse battery staple");
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword("correct horse battery staple", h)).toBe(true);
    expect(await verifyPassword("correct horse battery stapl", h)).toBe(false);
  });

  it("salts: the same password hashes differently each time", async () => {
    const [a, b] = await Promise.all([hashPassword("same"), hashPassword("same")]);
    expect(a).not.toBe(b);
    expect(await verifyPassword("same", a)).toBe(true);
    expect(await verifyPassword("same", b)).toBe(true);
  });

  it("stores only scrypt's derived key: recomputed independently from the stored salt and parameters", async () => {
    const h = await hashPassword("PlainTextSecret123");
    const [, n, r, p, salt, key] = h.split("$");
    const saltBytes = Buffer.from(salt, "base64");
    expect(saltBytes).toHaveLength(16);
    const expected = scryptSync("PlainTextSecret123".normalize("NFKC"), saltBytes, 64, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 });
    expect(Buffer.from(key, "base64").equals(expected)).toBe(true);
    // Nothing but the algorithm, its parameters, the salt and the key: the password cannot be read back.
    expect(h.split("$")).toHaveLength(6);
  });

  it("returns false (no throw) for malformed stored hashes", async () => {
    for (const bad of ["", "plain", "scrypt$1$2$3", "bcrypt$16384$8$1$c2FsdA==$aGFzaA==", "scrypt$x$8$1$c2FsdA==$aGFzaA==", "scrypt$16384$8$1$c2FsdA==$"]) {
      expect(await verifyPassword("x", bad)).toBe(false);
    }
  });

  it("random passwords are long and unambiguous", () => {
    const p = randomPassword();
    expect(p).toHaveLength(20);
    expect(p).toMatch(/^[A-HJ-NP-Za-km-z2-9]+$/);
    expect(randomPassword()).not.toBe(p);
  });
});
