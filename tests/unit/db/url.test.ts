import { describe, expect, it } from "vitest";
import {
  assertSafeIdentifier,
  formatDatabaseUrl,
  isLocalHost,
  parseDatabaseUrl,
  quoteIdent,
  redactUrl,
  withDatabase,
} from "@/lib/db/url";

describe("parseDatabaseUrl", () => {
  it("splits a full URL into fields, decoding user and password", () => {
    const f = parseDatabaseUrl("postgresql://app%40x:p%2Fw%3Ad@db.example:6543/switchyard?sslmode=require");
    expect(f).toEqual({
      host: "db.example",
      port: 6543,
      user: "app@x",
      password: "p/w:d",
      database: "switchyard",
      params: { sslmode: "require" },
    });
  });

  it("defaults port 5432 and user postgres, no password", () => {
    const f = parseDatabaseUrl("postgres://127.0.0.1/x");
    expect(f.port).toBe(5432);
    expect(f.user).toBe("postgres");
    expect(f.password).toBeUndefined();
  });

  it("unwraps IPv6 hosts", () => {
    expect(parseDatabaseUrl("postgres://u@[::1]:5/d").host).toBe("::1");
  });

  it("rejects other schemes, missing databases and garbage with a clear message", () => {
    expect(() => parseDatabaseUrl("mysql://u@h/d")).toThrow(/postgres:\/\//);
    expect(() => parseDatabaseUrl("postgres://u@h:5432")).toThrow(/names no database/);
    expect(() => parseDatabaseUrl("not a url")).toThrow(/not a valid URL/);
  });

  it("never puts the password in its error messages", () => {
    try {
      parseDatabaseUrl("mysql://u:sekret@h/d");
    } catch (e) {
      expect(String(e)).not.toContain("sekret");
    }
  });
});

describe("formatDatabaseUrl / withDatabase", () => {
  it("round-trips through parse, encoding special characters", () => {
    const url = formatDatabaseUrl({ host: "::1", port: 7, user: "a b", password: "p@ss/word", database: "d" });
    expect(url).toBe("postgres://a%20b:p%40ss%2Fword@[::1]:7/d");
    expect(parseDatabaseUrl(url)).toMatchObject({ host: "::1", user: "a b", password: "p@ss/word", database: "d" });
  });

  it("swaps only the database", () => {
    const url = withDatabase("postgres://u:pw@127.0.0.1:5432/app?application_name=x", "other");
    expect(parseDatabaseUrl(url)).toEqual({
      host: "127.0.0.1",
      port: 5432,
      user: "u",
      password: "pw",
      database: "other",
      params: { application_name: "x" },
    });
  });
});

describe("redactUrl", () => {
  it("hides the password", () => {
    expect(redactUrl("postgres://u:topsecret@h:1/d")).toBe("postgres://u:***@h:1/d");
    expect(redactUrl("postgres://u@h:1/d")).toBe("postgres://u@h:1/d");
    expect(redactUrl("::")).toBe("<unparseable url>");
  });
});

describe("isLocalHost", () => {
  it.each([
    ["localhost", true],
    ["127.0.0.1", true],
    ["127.3.2.1", true],
    ["::1", true],
    ["/var/run/postgresql", true],
    ["10.0.0.5", false],
    ["db.example.com", false],
    ["127.0.0.1.evil.com", false],
  ])("%s -> %s", (host, local) => {
    expect(isLocalHost(host)).toBe(local);
  });
});

describe("identifiers", () => {
  it("accepts generated names and refuses anything else", () => {
    expect(assertSafeIdentifier("switchyard_test_ab12")).toBe("switchyard_test_ab12");
    expect(() => assertSafeIdentifier('x"; DROP DATABASE y; --')).toThrow(/unsafe/);
    expect(() => assertSafeIdentifier("Upper")).toThrow(/unsafe/);
  });
  it("quotes identifiers", () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });
});
