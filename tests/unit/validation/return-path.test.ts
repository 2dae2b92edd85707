import { describe, expect, it } from "vitest";
import { loginPath, safeNextPath } from "@/lib/validation/return-path";

describe("the login page's return path (next)", () => {
  it("keeps paths of this panel, with their query and fragment", () => {
    for (const p of ["/", "/audit?outcome=success", "/pairs/0b0b7c1e-1111-4111-8111-111111111111", "/settings?tab=hosts#x", "/a/b/../c", "/%2F%2Fevil.example", "/loginhelp"]) {
      expect(safeNextPath(p)).toBe(p);
    }
    expect(safeNextPath(["/audit", "//evil.example"])).toBe("/audit"); // a repeated parameter: the first
  });

  it("sends everything else to /", () => {
    const nasty = [
      "/\t/evil.example/phish", // the probe's: browsers drop the tab, leaving //evil.example
      "/\n/evil.example",
      "/\r/evil.example",
      "\t//evil.example",
      "/\u0000/evil.example",
      "/\u007f/evil.example",
      "/\u0085/evil.example",
      "//evil.example",
      "///evil.example",
      "/\\evil.example",
      "/\\/evil.example",
      "/a\\b",
      "\\\\evil.example",
      "https://evil.example/",
      "http:/evil.example",
      "javascript:alert(1)",
      "evil.example",
      " /audit",
      "",
      "/login",
      "/login?next=/audit",
      "/login/",
      "/" + "a".repeat(2048),
      undefined,
      null,
      42,
      ["//evil.example"],
    ];
    for (const n of nasty) expect(safeNextPath(n), JSON.stringify(n)).toBe("/");
  });

  it("builds the login page's URL through the same check", () => {
    expect(loginPath("/audit?outcome=success")).toBe("/login?next=%2Faudit%3Foutcome%3Dsuccess");
    expect(loginPath("//evil.example")).toBe("/login?next=%2F");
  });
});
