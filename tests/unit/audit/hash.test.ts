import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { auditContent, canonicalJson, computeAuditHash, GENESIS_HASH } from "@/lib/audit";

describe("canonical JSON", () => {
  it("sorts keys at every level and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });
  it("is independent of insertion order", () => {
    expect(canonicalJson({ x: 1, y: "2" })).toBe(canonicalJson({ y: "2", x: 1 }));
  });
  it("handles dates, bigints, non-finite numbers and unicode", () => {
    expect(canonicalJson(new Date("2026-01-02T03:04:05.678Z"))).toBe('"2026-01-02T03:04:05.678Z"');
    expect(canonicalJson(12n)).toBe('"12"');
    expect(canonicalJson([NaN, undefined])).toBe("[null,null]");
    expect(canonicalJson({ s: "é\u2028\"" })).toBe('{"s":"é\u2028\\""}');
  });
});

describe("audit hash", () => {
  const base = {
    at: new Date("2026-11-24T16:00:00.123Z"),
    actor: "admin",
    action: "pair.create",
    targetType: "pair",
    targetId: "t",
    pairId: null,
    outcome: "success",
    durationMs: null,
    details: { b: 2, a: 1 },
  };

  it("is sha256 over the canonical JSON of { content, prevHash }, stable under key order", () => {
    const h = computeAuditHash(auditContent(base), GENESIS_HASH);
    // Recomputed independently from the documented format: stored chains must keep verifying.
    const text =
      '{"content":{"action":"pair.create","actor":"admin","at":"2026-11-24T16:00:00.123Z","details":{"a":1,"b":2},"durationMs":null,' +
      '"outcome":"success","pairId":null,"targetId":"t","targetType":"pair"},"prevHash":"' + "0".repeat(64) + '"}';
    expect(h).toBe(createHash("sha256").update(text, "utf8").digest("hex"));
    expect(computeAuditHash(auditContent({ ...base, details: { a: 1, b: 2 } }), GENESIS_HASH)).toBe(h);
  });

  it("changes when any field or the previous hash changes", () => {
    const h = computeAuditHash(auditContent(base), GENESIS_HASH);
    const variants = [
      { ...base, actor: "mallory" },
      { ...base, action: "pair.delete" },
      { ...base, outcome: "failure" },
      { ...base, at: new Date(base.at.getTime() + 1) },
      { ...base, details: { a: 1, b: 3 } },
      { ...base, pairId: "00000000-0000-0000-0000-000000000000" },
      { ...base, durationMs: 5 },
    ];
    for (const v of variants) expect(computeAuditHash(auditContent(v), GENESIS_HASH)).not.toBe(h);
    expect(computeAuditHash(auditContent(base), "1".repeat(64))).not.toBe(h);
  });

  it("treats absent optional fields as null / {}", () => {
    const a = auditContent({ at: base.at, actor: "x", action: "y", outcome: "info" });
    expect(a).toEqual({ at: base.at.toISOString(), actor: "x", action: "y", targetType: null, targetId: null, pairId: null, outcome: "info", durationMs: null, details: {} });
  });
});
