// The runtime role's pure parts: its name, its derived password, the SCRAM verifier sent instead of it.
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { runtimeRoleName, runtimeRolePassword, scramSha256Verifier } from "@/lib/db/roles";

describe("runtime role", () => {
  it("is named after the database, or after its hash when that is not a plain identifier", () => {
    expect(runtimeRoleName("switchyard")).toBe("switchyard_app");
    expect(runtimeRoleName("Switch-Yard")).toMatch(/^sy_app_[0-9a-f]{16}$/);
    expect(runtimeRoleName("x".repeat(60))).toMatch(/^sy_app_[0-9a-f]{16}$/);
    expect(runtimeRoleName("Switch-Yard")).not.toBe(runtimeRoleName("switch-yard"));
  });

  it("has a password derived from the owner's: the same for every instance, another for another owner password or role", () => {
    const p = runtimeRolePassword("owner-secret", "switchyard_app");
    expect(p).toBe(runtimeRolePassword("owner-secret", "switchyard_app"));
    expect(p).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p).not.toBe(runtimeRolePassword("owner-secret2", "switchyard_app"));
    expect(p).not.toBe(runtimeRolePassword("owner-secret", "other_app"));
    expect(p).not.toContain("owner-secret");
  });

  it("sets its password as a SCRAM-SHA-256 verifier (RFC 5802), never in clear", () => {
    const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64");
    const v = scramSha256Verifier("pencil", salt, 4096);
    const salted = pbkdf2Sync("pencil", salt, 4096, 32, "sha256");
    const stored = createHash("sha256").update(createHmac("sha256", salted).update("Client Key").digest()).digest("base64");
    const server = createHmac("sha256", salted).update("Server Key").digest("base64");
    expect(v).toBe(`SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$${stored}:${server}`);
    expect(v).not.toContain("pencil");
    expect(scramSha256Verifier("pencil")).not.toBe(scramSha256Verifier("pencil")); // a fresh salt each time
  });
});
