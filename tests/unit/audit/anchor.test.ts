// The audit anchor's pure parts: row MACs and the checkpoint line format (lib/audit-anchor.ts).
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { auditKeyFromBytes, checkpointLine, parseCheckpointLine, rowMac, rowMacValid } from "@/lib/audit-anchor";

const key = auditKeyFromBytes(Buffer.alloc(32, 7));
const other = auditKeyFromBytes(Buffer.alloc(32, 8));
const hash = "ab".repeat(32);

describe("row MAC", () => {
  it("is HMAC-SHA256 of the row's hash under the key, in its own domain", () => {
    const expected = createHmac("sha256", Buffer.alloc(32, 7)).update(`switchyard-audit-row\0v1\0${hash}`).digest("hex");
    expect(rowMac(key, hash)).toBe(expected);
    expect(rowMacValid(key, hash, expected)).toBe(true);
  });

  it("does not verify under another key, for another hash, or truncated", () => {
    const mac = rowMac(key, hash);
    expect(rowMacValid(other, hash, mac)).toBe(false);
    expect(rowMacValid(key, "cd".repeat(32), mac)).toBe(false);
    expect(rowMacValid(key, hash, mac.slice(0, 40))).toBe(false);
  });

  it("names keys by a fingerprint that is not the key", () => {
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
    expect(key.id).not.toBe(other.id);
    expect(Buffer.alloc(32, 7).toString("hex")).not.toContain(key.id);
  });
});

describe("checkpoint lines", () => {
  const at = new Date("2026-12-01T10:00:00.000Z");
  const line = checkpointLine(key, { id: 120n, hash, at });

  it("carry the row's id and hash, the time, the key's id and a MAC over them", () => {
    const o = JSON.parse(line);
    expect(o).toEqual({ v: 1, id: "120", hash, at: at.toISOString(), kid: key.id, mac: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(parseCheckpointLine(key, line)).toEqual({ ok: true, checkpoint: { id: "120", hash, at: at.toISOString(), kid: key.id } });
  });

  it("refuse a line whose id, hash or time was changed", () => {
    for (const edit of [{ id: "121" }, { hash: "cd".repeat(32) }, { at: "2026-12-01T10:00:01.000Z" }]) {
      const r = parseCheckpointLine(key, JSON.stringify({ ...JSON.parse(line), ...edit }));
      expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/signature does not verify/) });
    }
  });

  it("name a line signed with another key as such", () => {
    expect(parseCheckpointLine(other, line)).toMatchObject({ ok: false, reason: expect.stringContaining(`key id ${key.id}`), claimed: { id: "120" } });
  });

  it("refuse what is not a checkpoint", () => {
    expect(parseCheckpointLine(key, "garbage")).toMatchObject({ ok: false, reason: expect.stringMatching(/^not a checkpoint/) });
    expect(parseCheckpointLine(key, JSON.stringify({ v: 1, id: "x" }))).toMatchObject({ ok: false, reason: expect.stringMatching(/^not a checkpoint/) });
  });
});
