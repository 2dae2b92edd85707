// GET /api/audit/verify against the database's owner: what the answer says for each tampering that the
// owner can do behind the append-only trigger (lib/audit-anchor.ts, docs/api.md).
import path from "node:path";
import os from "node:os";
import { mkdtempSync } from "node:fs";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { closeDb } from "@/lib/db";
import { auditAnchor, resetAuditAnchor } from "@/lib/audit-anchor";
import { createUser } from "@/lib/queries/users";
import * as login from "@/app/api/auth/login/route";
import * as auditVerify from "@/app/api/audit/verify/route";
import { changeAndRehash, deleteNewest, freshChain, writeRows } from "../helpers/audit";
import { resetDatabase } from "../helpers/db";
import { call, cookieFrom } from "./client";

const PW = "correct-horse-battery";
let viewerCookie = "";

beforeEach(async () => {
  await freshChain();
  await createUser({ username: "watcher", password: PW, role: "viewer" }, "test");
  viewerCookie = cookieFrom(await call(login.POST, { method: "POST", path: "/api/auth/login", body: { username: "watcher", password: PW } }));
});

afterAll(async () => {
  await resetDatabase();
  await closeDb();
});

const verify = async () => {
  const r = await call(auditVerify.GET, { cookie: viewerCookie, path: "/api/audit/verify" });
  expect(r.status, r.text).toBe(200);
  return r.json;
};

describe("GET /api/audit/verify", () => {
  it("a normal run: ok, every row checked", async () => {
    await writeRows(20);
    expect(await verify()).toEqual({ ok: true, checked: 22 }); // + user.create and auth.login
  });

  it("the owner deleted the newest three rows: not ok, naming the rows that are gone and the checkpoint that records them", async () => {
    const ids = await writeRows(20);
    expect((await verify()).ok).toBe(true);
    await deleteNewest(3);
    const v = await verify();
    expect(v).toEqual({
      ok: false,
      checked: 19,
      firstBroken: {
        id: ids[19].toString(),
        reason: expect.stringMatching(/^rows deleted from the end: the chain ends at row \d+, but the checkpoint written at \S+ \(line \d+ of the checkpoint file\) names row \d+$/),
        missing: { afterId: ids[16].toString(), throughId: ids[19].toString() },
        checkpoint: { line: expect.any(Number), id: ids[19].toString(), hash: expect.stringMatching(/^[0-9a-f]{64}$/), at: expect.any(String) },
      },
    });
  });

  it("the owner changed row 21 and re-hashed every row after it: not ok, naming row 21", async () => {
    await writeRows(28); // ids 3..30 after the user's two rows
    expect((await verify()).ok).toBe(true);
    await changeAndRehash(21n, { mac: "copy" });
    expect(await verify()).toEqual({
      ok: false,
      checked: 20,
      firstBroken: { id: "21", reason: "its MAC does not verify with the audit key: the row was changed and the chain re-hashed, or it was written without the key" },
    });
  });

  it("a wrong key: not ok, saying the key is not the chain's", async () => {
    await writeRows(3);
    expect((await verify()).ok).toBe(true);
    const saved = process.env.AUDIT_KEY_FILE;
    process.env.AUDIT_KEY_FILE = path.join(mkdtempSync(path.join(os.tmpdir(), "switchyard-wrongkey-")), "audit.key");
    try {
      await resetAuditAnchor();
      expect(auditAnchor().keyFile).toBe(process.env.AUDIT_KEY_FILE);
      const v = await verify();
      expect(v).toMatchObject({ ok: false, checked: 0, firstBroken: { id: "1", reason: expect.stringMatching(/wrong AUDIT_KEY_FILE/) } });
    } finally {
      process.env.AUDIT_KEY_FILE = saved;
      await resetAuditAnchor();
    }
  });
});
